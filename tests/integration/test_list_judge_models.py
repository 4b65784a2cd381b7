"""The list judge with real models: the reading judge's probability as a feature, sentence vectors embedded
once and cached (pure features: unit/test_list_judge.py)."""

from __future__ import annotations

import pytest
from helpers import hit

from rag.lists.features import (
    FEATURES,
    ListQuestion,
    candidate_features,
)
from rag.lists.fitted import ListModel
from rag.question.read import read_text
from rag.text.analysis import Idf


@pytest.mark.slow  # loads the reading judge
def test_the_reading_judges_probability_joins_the_features_when_a_model_uses_it(seed_titles, seed_idf):
    from rag.judge.reader import load_reader
    from rag.lists.fitted import candidates

    q = "Which papers improve the draft model used in speculative decoding?"
    hits = [hit(seed_titles["Hydra: Sequentially-Dependent Draft Heads for Medusa Decoding"], 1),
            hit(seed_titles["CLLMs: Consistency Large Language Models"], 2)]
    hydra, other = candidates(read_text(q, "list"), hits, seed_idf, reader=load_reader())
    assert set(hydra.features) == set(FEATURES)
    assert hydra.features["reader"] > other.features["reader"]  # Hydra builds draft heads; CLLMs do not draft
    assert hydra.features["reader_gap"] == 0.0 and hydra.features["rank_reader"] == 0.0
    assert other.features["reader_gap"] < 0 and other.features["rank_reader"] > 0
    assert "reader" in ListModel.load().features  # the shipped judge reads it


def test_sentence_vectors_are_embedded_once_and_reused_by_the_next_process(tmp_path, embedder, seed_titles):
    from dataclasses import replace

    from rag.lists.fitted import SentenceSimilarity

    calls: list[int] = []

    class Counting:
        name = embedder.name

        def embed_documents(self, texts):
            calls.append(len(texts))
            return embedder.embed_documents(texts)

        def embed_query(self, text):
            return embedder.embed_query(text)

    hits = [hit(p, i + 1) for i, p in enumerate(list(seed_titles.values())[:3])]
    path = tmp_path / "sentences.npz"
    first = SentenceSimilarity(Counting(), path)("Which papers skip warmup?", hits)
    assert len(calls) == 1 and path.is_file()
    again = SentenceSimilarity(Counting(), path)("Which papers skip warmup?", hits)  # a new process
    assert len(calls) == 1 and all(a == pytest.approx(b, abs=1e-5) for a, b in zip(again, first, strict=True))
    assert all(-1 <= s <= 1 for ss in first for s in ss) and [len(s) for s in first] == [
        len(c.sentences) for c in (candidate_features(ListQuestion.read(read_text("x"), Idf([])), h, Idf([])) for h in hits)]
    # a changed abstract is embedded again
    changed = [replace(hits[0], paper=replace(hits[0].paper, abstract=hits[0].paper.abstract + " A new sentence."))]
    SentenceSimilarity(Counting(), path)("Which papers skip warmup?", changed)
    assert len(calls) == 2
    path.write_bytes(b"damaged")
    assert SentenceSimilarity(Counting(), path)("q", hits[:1]) and len(calls) == 3
