"""The paper catalogue: SQLite lookups, vectorised filters equal to Filters.matches, a dict's face."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from rag.catalogue import Catalogue, PaperMap, write_catalogue
from rag.corpus import CorpusLoad
from rag.types import Filters, Paper


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
