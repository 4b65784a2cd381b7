"""The paper catalogue: SQLite lookups, vectorised filters equal to Filters.matches, a dict's face."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from rag.ingest.corpus import CorpusLoad
from rag.storage.catalogue import Catalogue, PaperMap
from rag.storage.catalogue_write import write_catalogue
from rag.types.papers import Filters, Paper


@pytest.fixture(scope="module")
def catalogue(seed_corpus: CorpusLoad, tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalogue, list[Paper]]:
    papers = list(seed_corpus.papers)
    path = tmp_path_factory.mktemp("cat")
    write_catalogue(path, papers, [[f"{p.paper_id}#0", f"{p.paper_id}#1"] for p in papers])
    return Catalogue(path), papers


FILTERS = [
    Filters(date_from="2024-01-01"), Filters(date_to="2023-06-30"), Filters(date_from="2023-01-01", date_to="2023-12-31"),
    Filters(min_upvotes=0), Filters(min_upvotes=2), Filters(date_from="2019-01-01", min_upvotes=1), Filters(),
]


@pytest.mark.parametrize("filters", FILTERS, ids=[f.describe() or "none" for f in FILTERS])
def test_mask_equals_filters_matches(catalogue, filters: Filters) -> None:
    cat, papers = catalogue
    mask, matching, missing = cat.mask(filters)
    want = [filters.matches(p) for p in papers]
    if not filters.active:
        assert mask is None and matching == len(papers) and missing == 0
        return
    assert mask.tolist() == [1.0 if w else 0.0 for w in want]
    assert matching == sum(want)
    assert missing == sum(filters.lacks_field(p) for p in papers)


def test_the_seed_data_exercises_every_branch(catalogue) -> None:
    _, papers = catalogue
    assert any(p.date is None for p in papers) and any(p.date for p in papers)
    assert any(p.upvotes is None for p in papers) and any(p.upvotes for p in papers)


def test_lookups(catalogue) -> None:
    cat, papers = catalogue
    assert len(cat) == len(papers)
    assert cat.ids_at([5, 0, 3]) == [papers[5].paper_id, papers[0].paper_id, papers[3].paper_id]
    assert cat.rows_of([papers[7].paper_id, "no-such-paper"]) == {papers[7].paper_id: 7}
    assert cat.chunk_ids([papers[1].paper_id]) == {papers[1].paper_id: [f"{papers[1].paper_id}#0",
                                                                        f"{papers[1].paper_id}#1"]}
    assert cat.hashes()[papers[9].paper_id] == papers[9].content_hash
    assert list(cat.papers()) == papers
    assert isinstance(cat.date_ord, np.memmap)
    pid = papers[6].paper_id
    assert cat.has_chunks and cat.n_chunks == 2 * len(papers)
    assert cat.chunk_rows([f"{pid}#1", "not-a-chunk"]) == {f"{pid}#1": (6, pid)}


def test_paper_map_behaves_like_the_dict_it_replaces(catalogue) -> None:
    cat, papers = catalogue
    m = PaperMap(cat)
    want = {p.paper_id: p for p in papers}
    assert len(m) == len(want) and list(m) == list(want)
    assert m[papers[4].paper_id] == papers[4] and m.get("nope") is None
    assert papers[4].paper_id in m and "nope" not in m and 3 not in m
    assert dict(m.items()) == want and list(m.values()) == papers
    with pytest.raises(KeyError):
        m["nope"]


def test_threads_read_at_once(catalogue) -> None:
    cat, papers = catalogue
    errors: list[Exception] = []

    def read() -> None:
        try:
            for i in range(0, len(papers), 7):
                assert cat.ids_at([i]) == [papers[i].paper_id]
        except Exception as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    ts = [threading.Thread(target=read) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_a_missing_catalogue_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Catalogue(tmp_path)


# --- an update patches the previous generation's files: the same as a rebuild -------------------

def _contents(cat: Catalogue) -> dict:
    """What a catalogue says, independent of row numbers."""
    papers = {p.paper_id: p.to_dict() for p in cat.papers()}
    chunks = cat.all_chunk_ids()
    rows = cat.rows_of(list(papers))
    by_chunk = {cid: pid for pid, row in rows.items() for cid, (r, pid2) in
                cat.chunk_rows(chunks[pid]).items() if r == row and pid2 == pid}
    return {"papers": papers, "chunks": chunks, "chunk_table": by_chunk, "hashes": cat.hashes(),
            "n_chunks": cat.n_chunks, "summary": cat.summary(), "len": len(cat)}


def _chunk_cols_equal_table(cat: Catalogue) -> bool:
    """The chunk columns say what the SQL chunks table says (every id, its row), and a mask's
    passing ids are the table's ids of the passing rows."""
    ids, rows = np.load(cat.path / "chunk_id.npy"), np.load(cat.path / "chunk_row.npy")
    cols = sorted(zip([x.decode() for x in ids.tolist()], rows.tolist(), strict=True))
    table = sorted(cat._db().execute("SELECT chunk_id, row FROM chunks").fetchall())
    mask, _, _ = cat.mask(Filters(min_upvotes=1))
    passing = {c for c, r in table if mask[r] > 0}
    return cols == table and len(cols) == cat.n_chunks and set(cat.chunk_ids_passing(mask, 10**9)) == passing


def _passing(cat: Catalogue, filters: Filters) -> tuple[set[str], int, int]:
    mask, n, lacking = cat.mask(filters)
    rows = range(cat.n_rows) if mask is None else np.flatnonzero(mask).tolist()
    live = cat.live_rows()
    return set(cat.ids_at([r for r in rows if live[r]])), n, lacking


def _chunk_map(papers: list[Paper]) -> dict[str, list[str]]:
    return {p.paper_id: [f"{p.paper_id}#0", f"{p.paper_id}#{len(p.abstract) % 3 + 1}"] for p in papers}


def test_update_patches_the_previous_files_and_equals_a_rebuild(seed_corpus: CorpusLoad, tmp_path: Path) -> None:
    from dataclasses import replace

    from rag.retrieve.derived import build_derived, open_derived, update_derived

    papers = list(seed_corpus.papers)
    first, later = papers[:400], papers[400:]
    build_derived(tmp_path / "g1", first, _chunk_map(first))
    g1 = open_derived(tmp_path / "g1")
    # remove 5, change 3 (abstract, upvotes, date), add the rest: then a second update on top
    removed = [p.paper_id for p in first[10:15]]
    changed = [replace(first[20], abstract=first[20].abstract + " A new closing sentence about warmup."),
               replace(first[30], upvotes=(first[30].upvotes or 0) + 7), replace(first[40], date=None)]
    fresh = changed + later[:100]
    update_derived(tmp_path / "g2", g1, removed + [p.paper_id for p in changed], fresh, _chunk_map(fresh))
    g2 = open_derived(tmp_path / "g2")
    update_derived(tmp_path / "g3", g2, [later[0].paper_id], later[100:], _chunk_map(later[100:]))
    g3 = open_derived(tmp_path / "g3")
    assert open_derived(tmp_path / "g1").catalogue.n == 400  # the previous generation is as it was

    by_id = {p.paper_id: p for p in first if p.paper_id not in set(removed)}
    by_id.update({p.paper_id: p for p in fresh + later[100:]})
    del by_id[later[0].paper_id]
    final = list(by_id.values())
    build_derived(tmp_path / "full", final, _chunk_map(final))
    full = open_derived(tmp_path / "full")

    assert g3.catalogue.n_rows == 400 + len(fresh) + len(later[100:]) > len(final) == len(g3.catalogue)
    assert _contents(g3.catalogue) == _contents(full.catalogue)
    assert _chunk_cols_equal_table(g3.catalogue) and _chunk_cols_equal_table(full.catalogue)
    for f in FILTERS + [Filters(date_to="2020-01-01"), Filters(min_upvotes=10)]:
        assert _passing(g3.catalogue, f) == _passing(full.catalogue, f), f.describe()
    # BM25: the same score for every paper; document frequencies: the same table
    rows_u, rows_f = g3.catalogue.rows_of([p.paper_id for p in final]), full.catalogue.rows_of([p.paper_id for p in final])
    order_u = [rows_u[p.paper_id] for p in final]
    order_f = [rows_f[p.paper_id] for p in final]
    for q in (["warmup"], ["languag", "model"], ["diffus", "imag", "effici"]):
        assert np.allclose(g3.lexical.scores(q)[order_u], full.lexical.scores(q)[order_f])
    assert np.array_equal(g3.doc_freq.vocab, full.doc_freq.vocab)
    assert np.array_equal(g3.doc_freq.df, full.doc_freq.df) and g3.doc_freq.n == full.doc_freq.n == len(final)


def test_a_crash_mid_update_leaves_the_previous_generation(seed_corpus: CorpusLoad, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.retrieve.derived import build_derived, open_derived, update_derived
    from rag.retrieve.lexical import LexicalIndex

    papers = list(seed_corpus.papers)[:200]
    build_derived(tmp_path / "g1", papers[:150], _chunk_map(papers[:150]))
    g1 = open_derived(tmp_path / "g1")
    before = _contents(g1.catalogue)

    def boom(*a, **k):
        raise RuntimeError("killed half-way (test)")

    monkeypatch.setattr(LexicalIndex, "merged", boom)  # after the catalogue copy was patched
    with pytest.raises(RuntimeError, match="half-way"):
        update_derived(tmp_path / "g2", g1, [papers[0].paper_id], papers[150:], _chunk_map(papers[150:]))
    assert not (tmp_path / "g2").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".g2")]  # no temporary left
    again = open_derived(tmp_path / "g1")
    assert _contents(again.catalogue) == before
    assert again.lexical.search_rows(papers[0].title, 1)[0][0] == 0


def test_files_from_before_updates_patched_them_still_open_and_update(seed_corpus: CorpusLoad, tmp_path: Path) -> None:
    """A generation written before live.npy, facts.json and idf/ existed (the 1M bench index, a
    user's index from the previous version) opens, reports, updates, and gets its IDF table once."""
    import shutil

    from rag.retrieve.derived import build_derived, doc_freq_of, open_derived, update_derived

    papers = list(seed_corpus.papers)[:120]
    build_derived(tmp_path / "g1", papers[:100], _chunk_map(papers[:100]))
    want = open_derived(tmp_path / "g1").catalogue.summary()
    for f in ("live.npy", "facts.json", "chunk_id.npy", "chunk_row.npy", "date_how.npy"):
        (tmp_path / "g1" / f).unlink()
    shutil.rmtree(tmp_path / "g1" / "idf")
    old = open_derived(tmp_path / "g1")
    assert old.catalogue.live is None and old.doc_freq is None
    assert old.catalogue.chunk_ids_passing(np.ones(100, np.float32), 10**9) is None  # filters go to Chroma
    assert old.catalogue.summary() == want  # sources by one SQL pass
    update_derived(tmp_path / "g2", old, [papers[0].paper_id], papers[100:], _chunk_map(papers[100:]))
    new = open_derived(tmp_path / "g2")
    assert new.doc_freq is None and len(new.catalogue) == 119 and new.catalogue.live is not None
    assert new.catalogue.date_how is not None  # the update wrote the date-how column from the table
    assert _chunk_cols_equal_table(new.catalogue)  # the update wrote the chunk columns from the table
    table = doc_freq_of(new)
    assert table.n == 119 and open_derived(tmp_path / "g2").doc_freq.n == 119  # saved for the next process
