"""The memory-mapped BM25 index: bm25s's scores, updates equal to a rebuild, files round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.ingest.corpus import CorpusLoad
from rag.retrieve.lexical import LexicalIndex, paper_tokens
from rag.text.analysis import index_tokens

QUERIES = ["which papers skip warmup?", "low-rank adaptation of large language models",
           "diffusion models for images", "speculative decoding", "reward model from human feedback"]


@pytest.fixture(scope="module")
def docs(seed_corpus: CorpusLoad) -> list[list[str]]:
    return [paper_tokens(p.title, p.abstract) for p in seed_corpus.papers]


def test_scores_match_bm25s(docs: list[list[str]]) -> None:
    import bm25s

    ref = bm25s.BM25()
    ref.index(docs, show_progress=False)
    ours = LexicalIndex.build(docs)
    for q in QUERIES:
        toks = [t for t in index_tokens(q, query=True) if t in ref.vocab_dict]
        want = ref.get_scores(toks)
        got = ours.scores(index_tokens(q, query=True))
        assert np.allclose(got, want, rtol=1e-4, atol=1e-5), q
        top = ours.search_rows(q, 10)
        ref_docs, ref_scores = ref.retrieve([toks], k=10, show_progress=False)
        assert [r for r, _ in top] == [int(d) for d in ref_docs[0]][: len(top)]


def test_hand_computed_score() -> None:
    idx = LexicalIndex.build([["warmup", "warmup", "adam"], ["adam"]])
    # df(warmup)=1, N=2: idf = ln(1 + 1.5/1.5); tf 2, dl 3, avgdl 2
    idf = np.log(2.0)
    want = idf * 2 / (2 + 1.5 * (0.25 + 0.75 * 3 / 2))
    assert idx.scores(["warmup"])[0] == pytest.approx(want, rel=1e-6)
    assert idx.scores(["warmup"])[1] == 0
    assert idx.search_rows("nothing known here", 5) == []


def test_update_equals_a_rebuild(docs: list[list[str]]) -> None:
    """Rows keep their numbers (removed ones stay, empty; new ones follow), and every live
    document scores exactly as in a rebuild over the same documents."""
    old = LexicalIndex.build(docs[:300])
    keep = np.ones(300, dtype=bool)
    keep[[0, 7, 150, 299]] = False  # removed or changed papers
    new_docs = docs[300:] + [["brandnewterm", "warmup"]]
    merged = old.merged(keep, new_docs)
    rows = [i for i in range(300) if keep[i]] + list(range(300, 300 + len(new_docs)))
    rebuilt = LexicalIndex.build([d for d, k in zip(docs[:300], keep, strict=True) if k] + new_docs)
    assert merged.n_docs == 300 + len(new_docs)
    assert merged.n_live == rebuilt.n_docs == rebuilt.n_live == 296 + len(new_docs)
    assert merged.avg_len == pytest.approx(rebuilt.avg_len, rel=1e-12)
    assert np.array_equal(merged.vocab, rebuilt.vocab)
    assert np.array_equal(merged.doc_len[rows], rebuilt.doc_len)
    assert not merged.doc_len[~np.concatenate([keep, np.ones(len(new_docs), bool)])].any()
    assert np.array_equal(merged.indptr, rebuilt.indptr)
    assert np.array_equal(np.asarray(rows)[rebuilt.docs], merged.docs)
    assert np.array_equal(merged.tf, rebuilt.tf)
    assert np.allclose(merged.weight, rebuilt.weight)
    for q in (["warmup"], ["adam", "train"], ["brandnewterm"], ["languag", "model", "effici"]):
        assert np.allclose(merged.scores(q)[rows], rebuilt.scores(q))
    assert merged.search_rows("brandnewterm", 3)[0][0] == merged.n_docs - 1
    # a second update over the first: the removed rows stay removed
    again = merged.merged(np.concatenate([keep, np.ones(len(new_docs), bool)]), [["warmup"]])
    assert again.n_docs == merged.n_docs + 1 and again.n_live == merged.n_live + 1


def test_saved_index_keeps_live_count(tmp_path: Path, docs: list[list[str]]) -> None:
    keep = np.ones(20, dtype=bool)
    keep[3] = False
    idx = LexicalIndex.build(docs[:20]).merged(keep, [["warmup"]])
    idx.save(tmp_path / "bm25")
    back = LexicalIndex.load(tmp_path / "bm25")
    assert (back.n_docs, back.n_live, back.avg_len) == (21, 20, idx.avg_len)
    assert np.allclose(back.scores(["warmup"]), idx.scores(["warmup"]))


def test_update_drops_terms_only_removed_documents_had() -> None:
    idx = LexicalIndex.build([["alpha", "beta"], ["gamma"]]).merged(np.array([False, True]), [["delta"]])
    assert [t.decode() for t in idx.vocab.tolist()] == ["delta", "gamma"]
    assert idx.search_rows("alpha", 3) == []


def test_saved_index_is_memory_mapped(tmp_path: Path, docs: list[list[str]]) -> None:
    idx = LexicalIndex.build(docs)
    idx.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert isinstance(loaded.weight, np.memmap) and isinstance(loaded.docs, np.memmap)
    for q in QUERIES:
        assert loaded.search_rows(q, 10) == idx.search_rows(q, 10)


def test_mask_excludes_rows(docs: list[list[str]]) -> None:
    idx = LexicalIndex.build(docs)
    full = idx.search_rows("warmup", 20)
    mask = np.ones(idx.n_docs, dtype=np.float32)
    mask[full[0][0]] = 0
    masked = idx.search_rows("warmup", 20, mask)
    assert full[0][0] not in [r for r, _ in masked]
    assert [r for r, _ in masked][:5] == [r for r, _ in full][1:6]
