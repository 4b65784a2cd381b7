"""Hybrid retrieval over the real seed index (built once per session): ranking, modes, filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.llamaindex import paper_retriever
from rag.paperchat import Paperchat
from rag.retrieve.hybrid import HybridRetriever
from rag.settings import load_settings
from rag.types.papers import Filters

FAST_CERTIFIED = "fast-certified-robust-training-with-short-warmup"
ENTROPY_COLLAPSE = "stabilizing-transformer-training-by-preventing-ca067b6"


def _ids(result) -> list[str]:
    return [h.paper.paper_id for h in result.hits]


def _app_with(seed_index, **overrides) -> Paperchat:
    """The seed index read with other retrieval settings (same store and embedder)."""
    settings = load_settings(home=seed_index.home, **overrides)
    return Paperchat(settings, embedder=seed_index.app.embedder, store=seed_index.app.store)


# ----------------------------------------------------------------------------------------------
# ranking
# ----------------------------------------------------------------------------------------------


def test_warmup_question_finds_both_warmup_papers(seed_index):
    res = seed_index.app.search("which papers skip warmup?", k=10)
    ids = _ids(res)
    assert FAST_CERTIFIED in ids, ids
    assert ENTROPY_COLLAPSE in ids, ids


def test_hits_are_distinct_ranked_papers_with_a_passage(seed_index):
    res = seed_index.app.search("knowledge distillation for vision-language models", k=10)
    assert res.mode == "hybrid" and res.papers_total == 540 and res.filter_note is None
    assert [h.rank for h in res.hits] == list(range(1, 11))
    assert len(set(_ids(res))) == 10
    scores = [h.score for h in res.hits]
    assert scores == sorted(scores, reverse=True)
    for h in res.hits:
        assert h.best_chunk and h.best_chunk in h.paper.abstract  # a verbatim passage of that paper
        assert h.bm25_rank is not None or h.dense_rank is not None
    assert {"bm25_ms", "embed_ms", "dense_ms", "total_ms"} <= res.timings.keys()


def test_rrf_scores_are_the_sum_of_reciprocal_ranks(seed_index):
    k = 60
    res = _app_with(seed_index, fusion="rrf", rrf_k=k).search("learning rate schedules and warmup", k=10)
    assert len(res.hits) == 10
    for h in res.hits:
        expected = sum(1 / (k + r) for r in (h.bm25_rank, h.dense_rank) if r is not None)
        assert h.score == pytest.approx(expected)


def test_k_is_respected(seed_index):
    for k in (1, 3, 25):
        assert len(seed_index.app.search("reinforcement learning", k=k).hits) == k


def test_bm25_mode(seed_index):
    res = seed_index.app.search("certified robust training warmup", k=5, mode="bm25")
    assert res.hits[0].paper.paper_id == FAST_CERTIFIED
    for h in res.hits:
        assert h.bm25_score is not None and h.bm25_score > 0 and h.bm25_rank == h.rank
        assert h.dense_score is None and h.dense_rank is None
        assert h.score == h.bm25_score
    assert "embed_ms" not in res.timings  # no model call in BM25 mode


def test_bm25_hyphenated_words_match_joined_ones(seed_index):
    # "warm-up" in a query finds abstracts that write "warmup"
    hits = _ids(seed_index.app.search("short warm-up certified training", k=5, mode="bm25"))
    assert FAST_CERTIFIED in hits


def test_bm25_unknown_words_give_no_hits_not_an_error(seed_index):
    assert seed_index.app.search("zxqv wqzzk", k=5, mode="bm25").hits == []


def test_dense_mode(seed_index):
    res = seed_index.app.search("preventing attention entropy collapse for stable transformer training",
                                k=5, mode="dense")
    assert res.hits[0].paper.paper_id == ENTROPY_COLLAPSE
    for h in res.hits:
        assert h.dense_score is not None and -1.0 <= h.dense_score <= 1.0 and h.dense_rank == h.rank
        assert h.bm25_score is None
    assert [h.score for h in res.hits] == sorted((h.score for h in res.hits), reverse=True)


def test_score_fusion_setting(seed_index):
    query = "which papers skip warmup?"
    res = _app_with(seed_index, fusion="score", dense_weight=0.5).search(query, k=10)
    assert all(0.0 <= h.score <= 1.0 for h in res.hits)
    assert FAST_CERTIFIED in _ids(res)
    # the weight's end points reduce score fusion to one side's ranking
    only_dense = _app_with(seed_index, fusion="score", dense_weight=1.0).search(query, k=5)
    assert _ids(only_dense) == _ids(seed_index.app.search(query, k=5, mode="dense"))
    assert only_dense.hits[0].score == pytest.approx(1.0)
    only_bm25 = _app_with(seed_index, fusion="score", dense_weight=0.0).search(query, k=5)
    assert _ids(only_bm25) == _ids(seed_index.app.search(query, k=5, mode="bm25"))
    assert only_bm25.hits[0].score == pytest.approx(1.0)


def test_empty_query_gives_no_hits(seed_index):
    assert seed_index.app.search("   ", k=5).hits == []


# ----------------------------------------------------------------------------------------------
# filters
# ----------------------------------------------------------------------------------------------


def _expected_note(filters: Filters, kept: int, missing: int, total: int = 540) -> str:
    note = f"filter ({filters.describe()}) kept {kept} of {total} papers"
    what = "no upvote count" if filters.min_upvotes is not None else "no date in their source"
    return note + (f"; {missing} have {what} and were excluded" if missing else "")


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_min_upvotes_filter(seed_index, mode):
    f = Filters(min_upvotes=2)
    matching = [p for p in seed_index.corpus.papers if p.upvotes is not None and p.upvotes >= 2]
    assert len(matching) == 7  # the seeds have upvotes on 11 papers, 7 of them >= 2
    res = seed_index.app.search("efficient training", k=10, filters=f, mode=mode)
    assert res.hits and all(h.paper.upvotes >= 2 for h in res.hits)
    assert set(_ids(res)) <= {p.paper_id for p in matching}
    if mode != "bm25":  # BM25 only returns papers sharing a query word
        assert len(res.hits) == 7
    assert res.filter_note == _expected_note(f, 7, 529)


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_date_range_filter(seed_index, mode):
    f = Filters(date_from="2023-01-01", date_to="2023-12-31")
    in_2023 = {p.paper_id for p in seed_index.corpus.papers if p.date and p.date.startswith("2023-")}
    assert len(in_2023) == 9
    res = seed_index.app.search("training", k=20, filters=f, mode=mode)
    assert res.hits and set(_ids(res)) <= in_2023
    if mode != "bm25":
        assert set(_ids(res)) == in_2023
    no_date = sum(1 for p in seed_index.corpus.papers if p.date is None)
    assert no_date == 494  # every yearless seed date got its year from its page (unit/test_dates.py)
    assert res.filter_note == _expected_note(f, 9, no_date)


def test_a_date_filter_keeps_inferred_years_and_says_so(seed_index):
    f = Filters(date_from="2025-01-01")
    res = seed_index.app.search("diffusion", k=5, filters=f, mode="dense")
    assert res.papers_matching_filters == res.papers_inferred_year == 18
    assert res.hits and all(h.paper.date_inferred == "page-newest-year+1" for h in res.hits)
    assert res.filter_note == ("filter (date 2025-01-01 to …) kept 18 of 540 papers (18 with an inferred year); "
                               "494 have no date in their source and were excluded")


def test_date_bounds_are_inclusive(seed_index):
    f = Filters(date_from="2021-03-31", date_to="2021-03-31")
    for mode in ("hybrid", "dense", "bm25"):
        assert _ids(seed_index.app.search("certified training", k=5, filters=f, mode=mode)) == [FAST_CERTIFIED]


def test_open_ended_date_and_upvote_filters_combine(seed_index):
    f = Filters(date_from="2024-01-01", min_upvotes=1)
    expected = {p.paper_id for p in seed_index.corpus.papers
                if p.date and p.date >= "2024-01-01" and p.upvotes is not None and p.upvotes >= 1}
    assert len(expected) == 9  # 3 with a written 2024 date, 6 whose year (2025) their page tells
    assert sum(1 for pid in expected if seed_index.app.retriever().papers[pid].date_inferred) == 6
    for mode in ("hybrid", "dense"):
        res = seed_index.app.search("model", k=10, filters=f, mode=mode)
        assert set(_ids(res)) == expected


@pytest.mark.parametrize(
    "filters",
    [
        Filters(min_upvotes=10_000),
        Filters(date_from="2030-01-01"),
        Filters(date_to="2000-01-01"),
        Filters(date_from="2017-01-01", date_to="2017-12-31", min_upvotes=1),  # each half matches something
    ],
    ids=["upvotes", "future", "past", "combined"],
)
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_impossible_filter_returns_nothing_and_says_so(seed_index, filters, mode):
    res = seed_index.app.search("training", k=10, filters=filters, mode=mode)
    assert res.hits == []  # never "everything"
    assert res.papers_matching_filters == 0
    assert res.filter_note is not None and "kept 0 of 540 papers" in res.filter_note
    assert "were excluded" in res.filter_note


# ----------------------------------------------------------------------------------------------
# LlamaIndex face
# ----------------------------------------------------------------------------------------------


def test_llamaindex_paper_retriever(seed_index):
    from llama_index.core.schema import NodeWithScore, QueryBundle

    retriever = paper_retriever(seed_index.app.retriever(), k=5)
    nodes = retriever.retrieve("which papers skip warmup?")
    assert len(nodes) == 5 and all(isinstance(n, NodeWithScore) for n in nodes)
    assert len({n.node.node_id for n in nodes}) == 5  # one node per paper
    expected = seed_index.app.search("which papers skip warmup?", k=5)
    assert [n.node.node_id for n in nodes] == _ids(expected)
    for n, hit in zip(nodes, expected.hits, strict=True):
        assert n.score == pytest.approx(hit.score)
        assert n.node.get_content() == hit.paper.abstract
        assert n.node.metadata["title"] == hit.paper.title
        assert n.node.metadata["best_chunk"] == hit.best_chunk
        assert "abstract" not in n.node.metadata
        assert n.node.excluded_llm_metadata_keys and "title" not in n.node.excluded_llm_metadata_keys

    filtered = paper_retriever(seed_index.app.retriever(), k=10, filters=Filters(min_upvotes=3), mode="dense")
    nodes = filtered.retrieve(QueryBundle("image restoration"))
    assert nodes and all(n.node.metadata["upvotes"] >= 3 for n in nodes)


# ----------------------------------------------------------------------------------------------
# BM25 + catalogue files (on a small index of the test's own: it writes)
# ----------------------------------------------------------------------------------------------


def _no_chroma_paper_load(monkeypatch, store) -> None:
    def refuse(*a, **kw):
        raise AssertionError("the papers were loaded from Chroma")

    monkeypatch.setattr(store, "load_papers", refuse)


def test_ingest_writes_bm25_and_catalogue_and_open_maps_them(app: Paperchat, small_corpus: Path, home: Path,
                                                              monkeypatch):
    app.ingest([small_corpus])
    active = app.store.active()
    files = home / "index" / active.collection
    assert (files / "papers.sqlite").is_file() and (files / "bm25" / "weight.npy").is_file()
    _no_chroma_paper_load(monkeypatch, app.store)
    r = HybridRetriever.open(app.store, active, app.embedder, app.settings)
    assert r.derived_path == files and len(r.papers) == 20
    assert r.search("pruned transducer for speech recognition", k=3).hits


def test_damaged_or_missing_files_are_rebuilt_from_chroma(app: Paperchat, small_corpus: Path, home: Path):
    import shutil

    app.ingest([small_corpus])
    query = "pruned transducer for speech recognition"
    first = app.search(query, k=3)
    active = app.store.active()
    files = home / "index" / active.collection
    (files / "bm25" / "meta.json").write_text("{not json", "utf-8")
    rebuilt = HybridRetriever.open(app.store, active, app.embedder, app.settings)
    assert _ids(rebuilt.search(query, k=3)) == _ids(first)
    # an index written by the previous version has no files at all: the first open makes them
    shutil.rmtree(home / "index")
    reopened = HybridRetriever.open(app.store, active, app.embedder, app.settings)
    assert _ids(reopened.search(query, k=3)) == _ids(first)
    assert (files / "papers.sqlite").is_file()
    # and an ingest over such an index works (nothing changed: only the files are written)
    shutil.rmtree(home / "index")
    _, report = Paperchat(app.settings, embedder=app.embedder).ingest([small_corpus])
    assert report.up_to_date and (files / "papers.sqlite").is_file()


def test_an_update_keeps_bm25_of_unchanged_papers_and_drops_old_files(app: Paperchat, small_corpus: Path,
                                                                      tmp_path: Path, home: Path, small_papers):
    from helpers import paper_record, write_jsonl

    from rag.retrieve.derived import open_derived
    from rag.retrieve.lexical import LexicalIndex, paper_tokens

    app.ingest([small_corpus])
    old = app.store.active().collection
    changed = small_papers[2]
    recs = [paper_record(p) for p in small_papers[1:]]  # one paper removed
    recs[1]["abstract"] = changed.abstract + " It also studies quokka behaviour."
    recs.append({"title": "A brand new paper about wombats", "abstract": changed.abstract + " Wombats."})
    app.ingest([write_jsonl(tmp_path / "v2.jsonl", recs)], replace=True)
    active = app.store.active()
    assert (active.collection, active.generation) == (old, 2)  # updated in place
    d = open_derived(home / "index" / "paperchat_g2")
    papers = list(d.catalogue.papers())
    assert len(papers) == 20 and not (home / "index" / "paperchat_g1").exists()
    # unchanged papers first in their old order, then the changed and the new one
    assert papers[-1].title == "A brand new paper about wombats" and "quokka" in papers[-2].abstract
    rebuilt = LexicalIndex.build(paper_tokens(p.title, p.abstract) for p in papers)
    # the update keeps each paper's row (a removed paper's row is dead), the rebuild numbers them
    # afresh: compare by paper, with the same scores
    got = d.lexical.search_rows("quokka wombats warmup", 20)
    want = rebuilt.search_rows("quokka wombats warmup", 20)
    assert d.catalogue.ids_at([r for r, _ in got]) == [papers[r].paper_id for r, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want])
    hits = app.search("wombats", k=3, mode="bm25").hits
    assert hits[0].paper.title == "A brand new paper about wombats"


@pytest.mark.parametrize(
    "filters",
    [Filters(min_upvotes=1), Filters(date_from="2023-01-01"), Filters(date_from="2019-01-01", min_upvotes=0)],
    ids=["upvotes", "date", "both"],
)
def test_post_filtered_dense_query_equals_chromas_where(seed_index, monkeypatch, filters):
    """The two ways to filter the dense side give the same papers, scores and passages."""
    import rag.retrieve.hybrid as retrieve

    retriever = seed_index.app.retriever()
    calls: list[dict | None] = []
    real_query = retriever.store.query

    def spy(name, vector, n, where=None, **kw):
        calls.append(where)
        return real_query(name, vector, n, where=where, **kw)

    monkeypatch.setattr(retriever.store, "query", spy)
    monkeypatch.setattr(retrieve, "IDS_FILTER_MAX", 0)  # "where" here means Chroma's where itself
    results = {}
    for path, share in (("where", 2.0), ("post", 0.0)):
        monkeypatch.setattr(retrieve, "POSTFILTER_MIN_SHARE", share)
        calls.clear()
        results[path] = [
            [(h.paper.paper_id, round(h.score, 6), h.best_chunk) for h in retriever.search(q, k=10, filters=filters).hits]
            for q in ("efficient training of transformers", "diffusion models for images", "which papers skip warmup?")
        ]
        assert calls and (all(w is not None for w in calls) if path == "where" else calls[0] is None)
    assert results["post"] == results["where"] and any(results["where"])


@pytest.mark.parametrize("filters", [Filters(min_upvotes=2), Filters(date_from="2024-01-01", min_upvotes=1),
                                     Filters(date_to="2019-06-30")], ids=["upvotes", "both", "old"])
def test_a_selective_filter_searches_among_the_passing_chunk_ids(seed_index, monkeypatch, filters):
    """A filter passing few papers: Chroma searches among their chunk ids (the catalogue's chunk
    columns), with the same papers, scores and passages as Chroma's ``where``; above the id cap,
    ``where`` does it."""
    import rag.retrieve.hybrid as retrieve

    retriever = seed_index.app.retriever()
    calls: list[tuple] = []
    real_query = retriever.store.query

    def spy(name, v, n, where=None, ids=None, **kw):
        calls.append((where, ids))
        return real_query(name, v, n, where=where, ids=ids, **kw)

    monkeypatch.setattr(retriever.store, "query", spy)
    mask, matching, _ = retriever.catalogue.mask(filters)
    assert 0 < matching / len(retriever.catalogue) < retrieve.POSTFILTER_MIN_SHARE
    results = {}
    for path, cap in (("ids", retrieve.IDS_FILTER_MAX), ("where", 0)):
        monkeypatch.setattr(retrieve, "IDS_FILTER_MAX", cap)
        calls.clear()
        results[path] = [[(h.paper.paper_id, round(h.score, 6), h.best_chunk)
                          for h in retriever.search(q, k=5, filters=filters, mode=mode).hits]
                         for q in ("training", "diffusion models for images") for mode in ("dense", "hybrid")]
        if path == "ids":
            assert all(w is None and ids for w, ids in calls)
            passing = {c for pid, cs in retriever.catalogue.chunk_ids(
                retriever.catalogue.ids_at(np.flatnonzero(mask).tolist())).items() for c in cs}
            assert all(set(ids) == passing for _, ids in calls)
        else:
            assert all(w is not None and ids is None for w, ids in calls)
    assert results["ids"] == results["where"] and all(results["ids"])
    calls.clear()
    retriever.search("training", k=5, mode="dense")
    assert calls == [(None, None)]
