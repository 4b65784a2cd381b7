"""Ingest into a real embedded Chroma with the real embedder: incremental, idempotent, crash-safe.

Each test builds a small index (20 seed papers, ~45 chunks) in its own home. The test that
SIGKILLs a real ingest process half-way is at the bottom, marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import SEED_FILES, paper_record, run_paperchat, write_jsonl

from rag.embed.bundled import MAX_TOKENS, Embedder
from rag.errors import CorpusError, IndexMissingError, ModelError
from rag.ingest.chunk import Chunker
from rag.ingest.corpus import Paper, parse_file
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.types.papers import Filters


def _state(app: Paperchat) -> tuple:
    """Everything a failed ingest must leave alone: pointer, collections, chunk count, papers."""
    active = app.store.active()
    assert active is not None
    papers = sorted((p.paper_id, p.content_hash) for p in app.retriever().papers.values())
    return active, app.store.generations(), app.store.count(active.collection), papers


def _chunk_ids(app: Paperchat) -> set[str]:
    active = app.store.active()
    assert active is not None
    return app.store.ids(active.collection)


def _chunker(app: Paperchat) -> Chunker:
    e = app.embedder
    return Chunker(e.count_tokens, e.name, app.settings.chunk_size, app.settings.chunk_overlap)


class FailingEmbedder:
    """The real embedder, except that call number ``fail_on`` raises as a broken model would."""

    def __init__(self, inner: Embedder, fail_on: int) -> None:
        self.inner, self.fail_on, self.calls = inner, fail_on, 0
        self.name, self.dim, self.write_batch = inner.name, inner.dim, inner.write_batch

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on:
            raise ModelError("embedding model crashed (test)")
        return self.inner.embed_documents(texts)


class RenamedEmbedder(FailingEmbedder):
    """The real model under another name: what a switch of PAPERCHAT_EMBED_MODEL looks like."""

    def __init__(self, inner: Embedder, name: str) -> None:
        super().__init__(inner, fail_on=0)
        self.name = name


# ----------------------------------------------------------------------------------------------


def test_search_before_any_ingest_says_to_ingest(app: Paperchat):
    with pytest.raises(IndexMissingError, match="run `paperchat ingest` first"):
        app.search("warmup")
    assert app.stats()["papers"] == 0


def test_first_ingest_then_reingest_is_up_to_date(app: Paperchat, small_corpus: Path):
    corpus, first = app.ingest([small_corpus])
    assert (first.papers_total, first.papers_new, first.papers_changed, first.papers_unchanged) == (20, 20, 0, 0)
    assert first.chunks_total > 20  # some abstracts need two chunks
    assert (first.chunks_embedded, first.chunks_reused) == (first.chunks_total, 0)
    assert (first.generation, first.collection, first.up_to_date) == (1, "paperchat_g1", False)
    before = _state(app)
    assert before[1] == ["paperchat_g1"]
    assert before[2] == first.chunks_total

    _, second = app.ingest([small_corpus])
    assert second.up_to_date
    assert (second.chunks_embedded, second.chunks_reused, second.papers_new, second.papers_changed) == (0, 0, 0, 0)
    assert (second.papers_total, second.papers_unchanged, second.generation) == (20, 20, 1)
    assert second.chunks_total == first.chunks_total
    assert _state(app) == before


def test_a_subset_of_what_is_indexed_is_up_to_date_without_replace(app, small_corpus, tmp_path, small_papers):
    app.ingest([small_corpus])
    subset = write_jsonl(tmp_path / "subset.jsonl", [paper_record(p) for p in small_papers[:5]])
    _, report = app.ingest([subset])
    assert report.up_to_date and report.papers_total == 20


def test_changed_abstract_reembeds_only_that_paper(app, small_corpus, tmp_path, small_papers):
    _, first = app.ingest([small_corpus])
    old_ids = _chunk_ids(app)
    target = small_papers[3]
    new_abstract = "We revisit this problem from scratch. " + target.abstract
    records = [paper_record(p) for p in small_papers]
    records[3]["abstract"] = new_abstract
    _, report = app.ingest([write_jsonl(tmp_path / "v2.jsonl", records)])

    new_target = Paper(**{**target.__dict__, "abstract": new_abstract})
    expected = {c.chunk_id for c in _chunker(app).chunks(new_target)} - old_ids
    assert len(expected) >= 1
    assert (report.papers_new, report.papers_changed, report.papers_unchanged) == (0, 1, 19)
    assert report.chunks_embedded == len(expected)  # only the changed paper's new chunks
    assert report.chunks_reused == report.chunks_total - len(expected)
    # an update in place: a new generation over the same collection, no copy of the other papers
    assert (report.generation, report.collection) == (2, "paperchat_g1")
    assert app.store.generations() == ["paperchat_g1"]
    assert _chunk_ids(app) - old_ids == expected
    # the changed paper's old chunks are deleted once the pointer has moved
    old_target = {c.chunk_id for c in _chunker(app).chunks(target)}
    assert not (old_target - expected) & _chunk_ids(app)
    assert len(_chunk_ids(app)) == report.chunks_total
    # readers see the new text
    assert app.retriever().papers[target.paper_id].abstract == new_abstract
    hits = app.search("We revisit this problem from scratch", k=3, mode="bm25").hits
    assert hits[0].paper.paper_id == target.paper_id


def test_metadata_only_change_updates_without_reembedding(app, small_corpus, tmp_path, small_papers):
    app.ingest([small_corpus])
    target = small_papers[0]
    assert target.upvotes is None
    records = [paper_record(p) for p in small_papers]
    records[0]["upvotes"] = 42
    _, report = app.ingest([write_jsonl(tmp_path / "v2.jsonl", records)])
    assert not report.up_to_date
    assert (report.papers_changed, report.chunks_embedded) == (1, 0)
    assert report.chunks_reused == report.chunks_total
    assert app.retriever().papers[target.paper_id].upvotes == 42
    # every chunk of the paper carries the new value, so the dense side's Chroma filter sees it too
    active = app.store.active()
    metas = [m for _, _, m in app.store.iter_all(active.collection, where={"paper_id": target.paper_id})]
    assert metas and all(m["upvotes"] == 42 for m in metas)
    for mode in ("hybrid", "bm25", "dense"):
        res = app.search(target.title, k=5, filters=Filters(min_upvotes=40), mode=mode)
        assert [h.paper.paper_id for h in res.hits] == [target.paper_id], mode


def test_new_papers_are_added_and_old_chunks_copied(app, tmp_path, small_papers):
    first_half = write_jsonl(tmp_path / "a.jsonl", [paper_record(p) for p in small_papers[:10]])
    second_half = write_jsonl(tmp_path / "b.jsonl", [paper_record(p) for p in small_papers[10:]])
    _, first = app.ingest([first_half])
    _, second = app.ingest([second_half])
    assert (second.papers_total, second.papers_new, second.papers_unchanged) == (20, 10, 0)
    assert second.chunks_reused == first.chunks_total
    assert second.chunks_embedded == second.chunks_total - first.chunks_total
    assert app.stats()["papers"] == 20


def test_replace_drops_papers_not_given(app, small_corpus, tmp_path, small_papers):
    app.ingest([small_corpus])
    keep = small_papers[:8]
    _, report = app.ingest([write_jsonl(tmp_path / "keep.jsonl", [paper_record(p) for p in keep])], replace=True)
    assert report.papers_total == 8 and report.chunks_embedded == 0
    stats = app.stats()
    assert stats["papers"] == 8 and stats["chunks"] == report.chunks_total
    assert set(app.retriever().papers) == {p.paper_id for p in keep}
    dropped = small_papers[12]
    for mode in ("bm25", "dense"):
        hits = app.search(dropped.title, k=20, mode=mode).hits
        assert dropped.paper_id not in {h.paper.paper_id for h in hits}


def test_failing_ingest_leaves_the_index_untouched(app, small_corpus, tmp_path, seed_corpus):
    app.ingest([small_corpus])
    before = _state(app)
    new_papers = write_jsonl(tmp_path / "new.jsonl", [paper_record(p) for p in seed_corpus.papers[100:110]])
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    with pytest.raises(CorpusError, match=r"scan\.txt: looks like a binary file"):
        app.ingest([new_papers, binary])
    with pytest.raises(CorpusError, match=r"missing\.jsonl: no such file"):
        app.ingest([new_papers, tmp_path / "missing.jsonl"])
    assert _state(app) == before


def test_embedder_crash_mid_ingest_keeps_live_index_and_progress(app, small_corpus, tmp_path, seed_corpus,
                                                                 small_papers):
    _, first = app.ingest([small_corpus])
    before = _state(app)
    small_ids = {p.paper_id for p in small_papers}
    others = [p for p in seed_corpus.papers if p.paper_id not in small_ids][:15]
    more = write_jsonl(tmp_path / "more.jsonl", [paper_record(p) for p in others])
    totals: list[int] = []
    # small batches: ingest writes every 4 embedder batches = 16 chunks
    settings = load_settings(embed_batch_size=4)
    step = 16
    broken = Paperchat(settings, embedder=FailingEmbedder(app.embedder, fail_on=2), store=app.store)
    with pytest.raises(ModelError, match="crashed"):
        broken.ingest([more], progress=lambda done, total: totals.append(total))
    new_chunks = totals[0]
    assert new_chunks > step  # the crash happened after one batch was written

    # the live generation still answers, unchanged: the chunks the update wrote into the live
    # collection are not in its catalogue, so no search returns them
    after = _state(app)
    assert (after[0], after[1], after[3]) == (before[0], before[1], before[3])
    assert after[2] == before[2] + step
    other_ids = {p.paper_id for p in others}
    for q in [p.title for p in others[:5]] + ["transformer training"]:
        for mode in ("dense", "hybrid"):
            hits = app.search(q, k=20, mode=mode).hits
            assert hits and not {h.paper.paper_id for h in hits} & other_ids, (q, mode)

    # the next ingest finishes and does not embed again what the crashed one wrote
    _, report = Paperchat(settings, embedder=app.embedder, store=app.store).ingest([more])
    assert report.papers_total == 35 and report.papers_new == 15
    assert (report.generation, report.collection) == (2, "paperchat_g1")
    assert report.chunks_embedded == new_chunks - step
    assert report.chunks_reused == first.chunks_total + step
    assert app.store.generations() == ["paperchat_g1"]
    assert len(app.retriever().papers) == 35
    assert app.store.count("paperchat_g1") == report.chunks_total
    hits = app.search(others[0].title, k=3, mode="dense").hits
    assert hits[0].paper.paper_id == others[0].paper_id


def test_switching_embedder_needs_a_reingest(app, small_corpus):
    _, first = app.ingest([small_corpus])
    other = Paperchat(app.settings, embedder=RenamedEmbedder(app.embedder, "other-model"), store=app.store)
    with pytest.raises(IndexMissingError, match=r"built with embedder 'all-MiniLM-L6-v2-int8'.*'other-model'"):
        other.search("warmup")
    _, report = other.ingest([small_corpus])
    # nothing can be reused across embedders: vectors live in different spaces
    assert (report.chunks_embedded, report.chunks_reused, report.up_to_date) == (first.chunks_total, 0, False)
    assert other.store.active().embedder == "other-model"
    assert other.search("warmup", k=3).hits


def test_chunks_fit_the_embedder_window(embedder, seed_corpus):
    """Nothing is truncated silently: title + passage + special tokens fit in MAX_TOKENS."""
    chunker = Chunker(embedder.count_tokens, embedder.name, 200, 40)
    multi = 0
    for paper in seed_corpus.papers:
        chunks = chunker.chunks(paper)
        assert [c.index for c in chunks] == list(range(len(chunks)))
        assert all(c.paper_id == paper.paper_id and c.embed_text.startswith(paper.title) for c in chunks)
        assert all(embedder.count_tokens(c.embed_text) + 2 <= MAX_TOKENS for c in chunks), paper.paper_id
        multi += len(chunks) > 1
        assert chunker.chunks(paper) == chunks  # deterministic ids
    assert multi > 100  # the seed abstracts do get split


# ----------------------------------------------------------------------------------------------
# SIGKILL in the middle of embedding
# ----------------------------------------------------------------------------------------------

_INGEST_WITH_PROGRESS = """
import sys
from pathlib import Path
from rag.paperchat import Paperchat
from rag.settings import load_settings

def progress(done, total):
    print(f"progress {done} {total}", file=sys.stderr, flush=True)

Paperchat(load_settings()).ingest([Path(p) for p in sys.argv[1:]], progress=progress)
print("finished", file=sys.stderr, flush=True)
"""


@pytest.mark.slow
def test_sigkill_mid_ingest_keeps_previous_index_and_next_ingest_resumes(home, tmp_path, small_corpus):
    # 1. a small live index, built by the real CLI in its own process
    done = run_paperchat("ingest", "--json", str(small_corpus))
    assert done.returncode == 0, done.stderr
    small = json.loads(done.stdout)
    assert small["papers_total"] == 20

    # 2. a bigger corpus (30 more papers of seed file 001, ~65 chunks): kill the ingest once two
    #    writes of 16 chunks (4 embedder batches of 4) are done, while it embeds the third
    small_titles = {json.loads(line)["title"] for line in small_corpus.read_text("utf-8").splitlines()}
    papers_001, _, _ = parse_file(SEED_FILES[1])
    big_papers = [p for p in papers_001 if p.title not in small_titles][:30]
    big = write_jsonl(tmp_path / "big.jsonl", [paper_record(p) for p in big_papers])
    n_new = len(big_papers)
    env = {**os.environ, "PAPERCHAT_EMBED_BATCH_SIZE": "4"}
    proc = subprocess.Popen([sys.executable, "-c", _INGEST_WITH_PROGRESS, str(big)], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    killed_at = total = 0
    deadline = time.monotonic() + 240
    try:
        for line in proc.stderr:  # blocks per line; the deadline guards a hung child
            if time.monotonic() > deadline:
                break
            if line.startswith("progress "):
                done_n, total = map(int, line.split()[1:])
                if done_n >= 32:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_at = done_n
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert 32 <= killed_at < total - 16, (killed_at, total)

    # 3. a fresh process still answers from the previous index, with the previous paper count
    stats = run_paperchat("stats", "--json")
    assert stats.returncode == 0, stats.stderr
    s = json.loads(stats.stdout)
    # (the chunk count includes what the killed update wrote into the live collection)
    assert (s["papers"], s["generation"]) == (20, 1) and s["chunks"] >= small["chunks_total"]
    probe = sorted(small_titles)[0]
    found = run_paperchat("search", "--json", "-k", "5", probe)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert len(hits) == 5
    assert {h["title"] for h in hits} <= small_titles
    assert hits[0]["title"] == probe

    # 4. the next ingest completes and reuses what the killed one embedded
    again = run_paperchat("ingest", "--json", str(big))
    assert again.returncode == 0, again.stderr
    r = json.loads(again.stdout)
    assert (r["papers_total"], r["papers_new"]) == (20 + n_new, n_new)
    assert r["chunks_reused"] >= small["chunks_total"] + killed_at  # > 0, and more than the live copy
    assert r["chunks_embedded"] <= total - killed_at
    assert r["chunks_embedded"] + r["chunks_reused"] == r["chunks_total"]
    final = json.loads(run_paperchat("stats", "--json").stdout)
    assert (final["papers"], final["chunks"]) == (20 + n_new, r["chunks_total"])


def test_writes_are_split_within_chromas_batch_limit(home):
    from rag.storage.chroma import ChromaStore

    store = ChromaStore(load_settings())
    assert 1000 <= store.max_batch() <= 5461  # what the embedded Chroma allows
    store._max_batch = 3  # as a server with a small limit would say
    store.collection("paperchat_g1", create=True, embedder="e")
    ids = [f"c{i}" for i in range(10)]
    store.add("paperchat_g1", ids, np.eye(10, dtype=np.float32), [f"doc {i}" for i in ids],
              [{"paper_id": i} for i in ids])
    assert store.ids("paperchat_g1") == set(ids)


def test_stale_chunks_left_by_a_killed_update_are_invisible_and_deleted_next_time(
        app, small_corpus, tmp_path, small_papers, monkeypatch):
    from rag.errors import StoreError

    app.ingest([small_corpus])
    target = small_papers[3]
    records = [paper_record(p) for p in small_papers]
    records[3]["abstract"] = "Zebrafish locomotion is our topic. " + target.abstract
    changed = Paper(**{**target.__dict__, "abstract": records[3]["abstract"]})
    stale = {c.chunk_id for c in _chunker(app).chunks(target)} - {c.chunk_id for c in _chunker(app).chunks(changed)}
    assert stale
    v2 = write_jsonl(tmp_path / "v2.jsonl", records)

    def die(name, ids):
        raise StoreError("killed before the stale chunks were deleted (test)")

    with monkeypatch.context() as m:
        m.setattr(app.store, "delete", die)
        with pytest.raises(StoreError, match="killed"):
            app.ingest([v2])
    # the pointer moved: the new text is live; the old chunks are still stored but never used
    assert app.store.active().generation == 2
    assert stale <= _chunk_ids(app)
    retriever = app.retriever()
    rows = retriever._dense_rows(app.embedder.embed_query(target.title), 60, Filters(), None)
    assert rows and not {r[0] for r in rows} & stale
    hit = app.search(target.title, k=5, mode="dense").hits[0]
    assert hit.paper.paper_id == target.paper_id
    assert hit.best_chunk in {c.text for c in _chunker(app).chunks(changed)}

    # the next update deletes them (they were recorded before the pointer moved)
    more = write_jsonl(tmp_path / "v3.jsonl", records + [{"title": "One more paper on zebrafish",
                                                          "abstract": target.abstract}])
    _, report = app.ingest([more])
    assert not stale & _chunk_ids(app)
    assert app.store.count(app.store.active().collection) == report.chunks_total


def _catalogue_contents(app: Paperchat) -> dict:
    """What the live generation's catalogue says, independent of row numbers."""
    cat = app.retriever().catalogue
    papers = {p.paper_id: p.to_dict() for p in cat.papers()}
    chunks = cat.all_chunk_ids()
    table = {cid: pid for pid, ids in chunks.items() for cid, (_, pid) in cat.chunk_rows(ids).items()}
    return {"papers": papers, "chunks": chunks, "chunk_table": table, "summary": cat.summary()}


def _filtered(app: Paperchat, flt: Filters) -> tuple:
    r = app.retriever()
    mask, n, lacking = r.catalogue.mask(flt)
    rows = np.flatnonzero(mask).tolist() if mask is not None else []
    live = r.catalogue.live_rows()
    return sorted(r.catalogue.ids_at([i for i in rows if live[i]])), n, lacking


def test_an_update_in_place_equals_a_full_ingest(app, tmp_path, small_papers):
    """Changed, removed and new papers through the incremental catalogue: the same catalogue,
    filter results, BM25 scores, IDF and stats as ingesting the final papers into a new home."""
    records = [paper_record(p) for p in small_papers]
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    v1 = write_jsonl(tmp_path / "v1" / "papers.jsonl", records[:12])
    app.ingest([v1])
    v2_records = [dict(r) for r in records[:11]] + records[12:]  # the 12th goes; 8 come
    v2_records[1]["abstract"] = "Zebrafish locomotion is our topic. " + v2_records[1]["abstract"]
    v2_records[2]["upvotes"] = (v2_records[2].get("upvotes") or 0) + 5
    v2_records[3]["date"] = "2021-03-04"
    v2 = write_jsonl(tmp_path / "v2" / "papers.jsonl", v2_records)
    _, report = app.ingest([v2], replace=True)
    assert (report.generation, report.collection) == (2, "paperchat_g1")  # in place, not rebuilt
    assert (report.papers_total, report.papers_new, report.papers_changed) == (19, 8, 3)

    full = Paperchat(load_settings(home=tmp_path / "full-home"), embedder=app.embedder)
    _, rebuilt = full.ingest([v2])
    assert rebuilt.chunks_total == report.chunks_total
    assert _catalogue_contents(app) == _catalogue_contents(full)
    for flt in (Filters(), Filters(date_from="2024-01-01"), Filters(date_to="2023-06-30"), Filters(min_upvotes=3),
                Filters(date_from="2021-01-01", date_to="2021-12-31")):
        assert _filtered(app, flt) == _filtered(full, flt), flt.describe()
    for q in ("zebrafish locomotion", "efficient attention for language models", small_papers[15].title):
        for mode in ("bm25", "hybrid"):
            a = [(h.paper.paper_id, round(h.score, 5)) for h in app.search(q, k=10, mode=mode).hits]
            b = [(h.paper.paper_id, round(h.score, 5)) for h in full.search(q, k=10, mode=mode).hits]
            assert a == b, (q, mode)
    ia, ib = app.retriever().idf, full.retriever().idf
    words = {t for p in small_papers for t in ("zebrafish", *p.title.lower().split())}
    assert ia.n == ib.n == 19 and all(ia(w) == ib(w) and ia.known(w) == ib.known(w) for w in words)
    assert app.stats() == {**full.stats(), "generation": 2, "store": app.store.where}


def test_a_crash_while_writing_the_new_generation_leaves_the_previous_one(app, small_corpus, tmp_path,
                                                                         seed_corpus, small_papers, monkeypatch):
    from rag.retrieve.lexical import LexicalIndex

    app.ingest([small_corpus])
    before = _state(app)
    stats_before = app.stats()
    small_ids = {p.paper_id for p in small_papers}
    others = [p for p in seed_corpus.papers if p.paper_id not in small_ids][:5]
    more = write_jsonl(tmp_path / "more.jsonl", [paper_record(p) for p in others])

    def boom(*a, **k):
        raise RuntimeError("killed while writing the new generation (test)")

    with monkeypatch.context() as m:
        m.setattr(LexicalIndex, "merged", boom)  # the catalogue copy is patched by then
        with pytest.raises(RuntimeError, match="killed"):
            app.ingest([more])
    after = _state(app)
    assert (after[0], after[1], after[3]) == (before[0], before[1], before[3])
    assert after[2] > before[2]  # the new papers' chunks were written, unlisted
    fresh = Paperchat(load_settings(), embedder=app.embedder)  # a new process: no facts cache for a server
    assert fresh._stats_from_store()["chunks"] == stats_before["chunks"]  # orphans are not counted
    assert fresh.search(small_papers[0].title, k=1, mode="hybrid").hits[0].paper.paper_id == small_papers[0].paper_id
    _, report = app.ingest([more])
    assert report.papers_new == 5 and report.chunks_embedded == 0  # what the killed run wrote is reused
    assert app.stats()["chunks"] == app.store.count(app.store.active().collection) == report.chunks_total
