"""Years for yearless page-dump dates (rag/text/dates.py): each rule on small hand-written dumps, the
cases where the page does not tell the year, the real seeds (counts pinned), and what `stats`, the
catalogue and the filter note say about written, inferred and missing dates."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers import ABSTRACT, page_dump

from rag.ingest.corpus import bundled_seed_paths, load_corpus, merge_duplicates, parse_file
from rag.storage.catalogue import Catalogue
from rag.storage.catalogue_write import update_catalogue, write_catalogue
from rag.text.dates import (
    METHODS,
    PageDate,
    PageEvidence,
    arxiv_year_month,
    date_counts,
    date_kind,
    describe_counts,
    infer_year,
)
from rag.types.papers import Filters, Paper, SearchResult

# ----------------------------------------------------------------------------------------------
# hand-written page dumps
# ----------------------------------------------------------------------------------------------




def _dated(papers: list[Paper]) -> list[tuple[str | None, str | None, str | None]]:
    return [(p.date_text, p.date, p.date_inferred) for p in papers]


def test_newest_full_year_plus_one_is_the_capture_year_lower_bound(tmp_path: Path):
    papers = page_dump(tmp_path, "Dec 10", ["Jul 10, 2024", "Nov 14", "Mar 5, 2023 4", "Feb 25 7", None])
    assert _dated(papers) == [
        ("Jul 10, 2024", "2024-07-10", None),  # written: untouched
        ("Nov 14", "2025-11-14", "page-newest-year+1"),  # the page writes 2024 out: 2025 at the earliest
        ("Mar 5, 2023", "2023-03-05", None),
        ("Feb 25", "2025-02-25", "page-newest-year+1"),
        (None, None, None),  # no date in the source: nothing to infer
    ]
    assert papers[3].upvotes == 7  # the upvote count of a yearless line is still read


def test_no_full_date_on_the_page_means_no_year(tmp_path: Path):
    papers = page_dump(tmp_path, "Dec 10", ["Nov 14", "May 12 3"])
    assert _dated(papers) == [("Nov 14", None, None), ("May 12", None, None)]


def test_a_page_without_its_own_date_still_has_its_full_dates(tmp_path: Path):
    papers = page_dump(tmp_path, None, ["Dec 31, 2022", "Dec 31"])
    assert _dated(papers)[1] == ("Dec 31", "2023-12-31", "page-newest-year+1")


def test_a_date_after_the_page_date_is_not_given_a_year(tmp_path: Path):
    """A yearless date and the yearless page date are both in the capture year: "Mar 4" on a page
    of "Mar 3" would postdate its page, so the page's reading of years does not hold for it."""
    papers = page_dump(tmp_path, "Mar 3", ["Mar 3, 2024", "Mar 4", "Mar 3", "Dec 9"])
    assert _dated(papers)[1:] == [("Mar 4", None, None), ("Mar 3", "2025-03-03", "page-newest-year+1"),
                                  ("Dec 9", None, None)]


def test_the_page_header_year(tmp_path: Path):
    papers = page_dump(tmp_path, "Dec 10, 2024", ["Nov 14", "Jun 1, 2023", "Dec 11"])
    assert _dated(papers) == [("Nov 14", "2024-11-14", "page-header"), ("Jun 1, 2023", "2023-06-01", None),
                              ("Dec 11", None, None)]  # after the page's own date


def test_a_header_year_the_page_writes_out_elsewhere_is_not_trusted(tmp_path: Path):
    # "Nov 13, 2024" with its year says the page was not captured in 2024; the header says 2024
    papers = page_dump(tmp_path, "Dec 10, 2024", ["Nov 13, 2024", "Nov 14"])
    assert _dated(papers)[1] == ("Nov 14", None, None)


def test_an_unclear_page_date_gives_no_year(tmp_path: Path):
    papers = page_dump(tmp_path, ["Dec 10", "Dec 11"], ["Nov 13, 2024", "Nov 14"])
    assert _dated(papers)[1] == ("Nov 14", None, None)
    papers = page_dump(tmp_path, "Feb 30", ["Nov 13, 2024", "Nov 14"])  # an impossible page date
    assert _dated(papers)[1] == ("Nov 14", None, None)


def test_an_arxiv_id_in_the_abstract(tmp_path: Path):
    abstracts = {0: f"{ABSTRACT} Code: https://arxiv.org/abs/2401.01234v2.",
                 1: f"{ABSTRACT} See huggingface.co/papers/2312.12345 for the demo.",
                 2: f"{ABSTRACT} Preprint at https://arxiv.org/abs/2401.01234."}
    papers = page_dump(tmp_path, None, ["Jan 5", "Dec 28", "Feb 1"], abstracts)
    assert _dated(papers) == [
        ("Jan 5", "2024-01-05", "arxiv-id"),
        ("Dec 28", "2023-12-28", "arxiv-id"),
        ("Feb 1", None, None),  # the id's month is January: another paper's id, or a month boundary
    ]


def test_an_arxiv_id_must_agree_with_the_page(tmp_path: Path):
    abstracts = {1: f"{ABSTRACT} https://arxiv.org/abs/2401.01234", 2: f"{ABSTRACT} https://arxiv.org/pdf/2501.00042"}
    # the page writes 2024 out, so its yearless dates are 2025 or later: the 2024 id disagrees
    papers = page_dump(tmp_path, "Dec 10", ["Jul 10, 2024", "Jan 5", "Jan 6"], abstracts)
    assert _dated(papers)[1:] == [("Jan 5", None, None), ("Jan 6", "2025-01-06", "arxiv-id")]


def test_feb_29_only_in_a_leap_year(tmp_path: Path):
    assert _dated(page_dump(tmp_path, None, ["Mar 1, 2023", "Feb 29"]))[1] == ("Feb 29", "2024-02-29", "page-newest-year+1")
    assert _dated(page_dump(tmp_path, None, ["Mar 1, 2024", "Feb 29"]))[1] == ("Feb 29", None, None)


def test_the_lines_layout_has_no_dates_to_infer(tmp_path: Path):
    path = tmp_path / "lines.txt"
    path.write_text("Subscribe" + "".join(f"Paper {i}\n{ABSTRACT} {i}\n" for i in range(6)), encoding="utf-8")
    papers, _, _ = parse_file(path)
    assert len(papers) == 6 and all(p.date is None and p.date_inferred is None for p in papers)


# ----------------------------------------------------------------------------------------------
# the pure rules
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("https://arxiv.org/abs/2401.01234", (2024, 1)),
    ("arXiv.org/pdf/2312.1234v3", (2023, 12)),  # 4-digit numbers (to 2014), any case
    ("https://huggingface.co/papers/2506.00001", (2025, 6)),
    ("arxiv.org/abs/2401.01234 and arxiv.org/abs/2401.99999", (2024, 1)),  # agreeing ids
    ("arxiv.org/abs/2401.01234 and arxiv.org/abs/2312.00001", None),  # two papers: which?
    ("arxiv.org/abs/2413.01234", None),  # no month 13
    ("arxiv.org/abs/0703.1234", None),  # before new-style ids (April 2007)
    ("arxiv.org/abs/cs/0501001", None),  # old-style ids are not read
    ("github.com/org/repo 2401.01234", None),  # a bare number is not an id in a URL
    ("", None),
])
def test_arxiv_year_month(text: str, expected):
    assert arxiv_year_month(text) == expected


def test_infer_year_precedence_and_agreement():
    header_year = PageEvidence(header=PageDate(12, 10, 2024))
    assert infer_year(11, 14, header_year) == ("2024-11-14", "page-header")
    assert infer_year(11, 14, header_year, "arxiv.org/abs/2411.00001") == ("2024-11-14", "page-header")
    assert infer_year(11, 14, header_year, "arxiv.org/abs/2311.00001") is None  # disagreement
    floor = PageEvidence(header=PageDate(12, 10), full_years=(2022, 2024))
    assert floor.year_at_least == 2025
    assert infer_year(11, 14, floor) == ("2025-11-14", "page-newest-year+1")
    assert infer_year(12, 11, floor) is None
    assert infer_year(1, 5, PageEvidence(), "x arxiv.org/abs/2401.01234") == ("2024-01-05", "arxiv-id")
    assert infer_year(1, 5, PageEvidence()) is None  # nothing on the page tells the year
    assert infer_year(1, 5, PageEvidence(header=PageDate(1, 5), header_unclear=True), "arxiv.org/abs/2401.1") is None


def test_date_kinds_counts_and_words():
    assert [date_kind(*a) for a in [("2024-01-01", "Jan 1, 2024", None), ("2025-01-01", "Jan 1", "arxiv-id"),
                                    (None, "Jan 1", None), (None, None, None),
                                    ("2025-01-01", "Jan 1", "some-future-method")]] == [
        "written", "arxiv-id", "without-year", "none", "inferred"]
    counts = date_counts(Counter({"written": 3, "page-newest-year+1": 2, "arxiv-id": 0, "none": 5}))
    assert counts == {"written": 3, "inferred": {"page-newest-year+1": 2}, "without_year": 0, "none": 5}
    assert describe_counts(counts) == [
        "3 written in the source, 2 with an inferred year, 5 with no date in the source",
        f"  2 inferred by page-newest-year+1: {METHODS['page-newest-year+1']}",
    ]
    assert describe_counts({**counts, "without_year": 1})[0] == (
        "3 written in the source, 2 with an inferred year, 1 with month and day only (the page does not tell "
        "the year), 5 with no date in the source")


def test_a_written_date_beats_an_inferred_one_when_copies_merge():
    base = Paper(paper_id="p", title="P", abstract=ABSTRACT, source="a.txt", line=1)
    yearless = base.__class__(**{**base.to_dict(), "date_text": "Nov 14"})
    inferred = base.__class__(**{**base.to_dict(), "abstract": ABSTRACT + " longer", "date_text": "Nov 14",
                                 "date": "2025-11-14", "date_inferred": "page-newest-year+1"})
    written = base.__class__(**{**base.to_dict(), "source": "b.txt", "date_text": "Nov 14, 2024", "date": "2024-11-14"})
    (m,), _ = merge_duplicates([yearless, inferred, written])
    # the longest abstract wins, the best-known date travels with its text and provenance
    assert (m.abstract, m.date, m.date_text, m.date_inferred) == (inferred.abstract, "2024-11-14", "Nov 14, 2024", None)
    (m,), _ = merge_duplicates([inferred, yearless])
    assert (m.date, m.date_text, m.date_inferred) == ("2025-11-14", "Nov 14", "page-newest-year+1")
    (m,), _ = merge_duplicates([yearless, base])
    assert (m.date, m.date_text, m.date_inferred) == (None, "Nov 14", None)


# ----------------------------------------------------------------------------------------------
# the real seeds
# ----------------------------------------------------------------------------------------------


def test_the_seed_years(seed_corpus):
    """The 540 seeds: 28 dates written with their year; 18 written "Mon D" in 004, whose page writes
    full dates up to 2024, get 2025 (none after its own "Dec 10"); 494 have no date at all (001 and
    003 are title/abstract lists, 000 and 002 carry no metadata). No seed has an arXiv URL."""
    kinds = Counter(date_kind(p.date, p.date_text, p.date_inferred) for p in seed_corpus.papers)
    assert kinds == {"written": 28, "page-newest-year+1": 18, "none": 494}
    inferred = [p for p in seed_corpus.papers if p.date_inferred]
    assert {p.source[:3] for p in inferred} == {"004"}
    assert all(p.date == f"2025-{p.date[5:]}" and p.date <= "2025-12-10" for p in inferred)
    assert sorted(p.date_text for p in inferred)[:3] == ["Apr 30", "Feb 25", "Jan 26"]
    assert not any(arxiv_year_month(f"{p.title}\n{p.abstract}") for p in seed_corpus.papers)
    # loading again gives the same papers (the inference is deterministic)
    assert load_corpus(bundled_seed_paths()).papers == seed_corpus.papers


# ----------------------------------------------------------------------------------------------
# catalogue, filter note, stats
# ----------------------------------------------------------------------------------------------


def _papers() -> list[Paper]:
    def p(i: int, **kw) -> Paper:
        return Paper(paper_id=f"p{i}", title=f"P{i}", abstract=ABSTRACT, source="s.txt", line=i, **kw)

    return [p(0, date="2024-07-10", date_text="Jul 10, 2024"),
            p(1, date="2025-11-14", date_text="Nov 14", date_inferred="page-newest-year+1"),
            p(2, date="2025-01-05", date_text="Jan 5", date_inferred="arxiv-id", upvotes=3),
            p(3, date_text="Dec 11"),
            p(4), p(5, upvotes=1)]


def test_catalogue_counts_dates_and_says_what_a_date_filter_kept(tmp_path: Path):
    papers = _papers()
    write_catalogue(tmp_path / "g", papers, [[f"{q.paper_id}#0"] for q in papers])
    cat = Catalogue(tmp_path / "g")
    assert cat.summary()["dates"] == {"written": 1, "inferred": {"arxiv-id": 1, "page-newest-year+1": 1},
                                      "without_year": 1, "none": 2}
    assert cat.summary()["with_full_date"] == 3
    mask, kept, missing = cat.mask(Filters(date_from="2025-01-01"))
    assert (kept, missing, cat.date_detail(mask)) == (2, 3, (2, 1))
    mask, kept, missing = cat.mask(Filters(date_to="2025-01-31"))
    assert (kept, missing, cat.date_detail(mask)) == (2, 3, (1, 1))

    # a catalogue written before the column: stats by one SQL pass, the note cannot tell
    (tmp_path / "g" / "date_how.npy").unlink()
    old = Catalogue(tmp_path / "g")
    assert old.date_how is None and old.summary() == cat.summary()
    assert old.date_detail(old.mask(Filters(date_from="2025-01-01"))[0]) == (0, None)


def _note(filters: Filters, kept: int, missing: int, inferred: int = 0, yearless: int | None = 0) -> str | None:
    return SearchResult(query="q", mode="hybrid", hits=[], filters=filters, papers_total=540,
                        papers_matching_filters=kept, papers_missing_field=missing,
                        papers_inferred_year=inferred, papers_without_year=yearless).filter_note


def test_filter_note_words():
    since = Filters(date_from="2025-01-01")
    assert _note(since, 18, 494, 18) == (
        "filter (date 2025-01-01 to …) kept 18 of 540 papers (18 with an inferred year); "
        "494 have no date in their source and were excluded")
    assert _note(since, 0, 496, 0, 2) == (
        "filter (date 2025-01-01 to …) kept 0 of 540 papers; 496 have no full date in their source "
        "(2 give month and day only, and their page does not tell the year) and were excluded")
    assert "(1 gives month and day only, and its page does not tell the year)" in _note(since, 0, 496, 0, 1)
    assert _note(since, 3, 500, 0, None) == (
        "filter (date 2025-01-01 to …) kept 3 of 540 papers; 500 have no full date in their source and were excluded")
    assert _note(Filters(min_upvotes=2), 7, 529) == "filter (upvotes >= 2) kept 7 of 540 papers; 529 have no upvote count and were excluded"
    assert _note(Filters(date_from="2024-01-01", min_upvotes=1), 4, 530, 1) == (
        "filter (date 2024-01-01 to …, upvotes >= 1) kept 4 of 540 papers (1 with an inferred year); "
        "530 have no full date or no upvote count in their source and were excluded")
    assert _note(Filters(), 540, 0) is None


@pytest.mark.parametrize("old_format", [False, True], ids=["current", "before-the-column"])
def test_an_update_keeps_the_date_column_and_counts_right(tmp_path: Path, old_format: bool):
    """Removed, changed and new papers through update_catalogue (and from a catalogue written
    before the date-how column, which the update then writes): the same counts and filter
    detail as a catalogue written from scratch."""
    papers = _papers()
    write_catalogue(tmp_path / "g1", papers[:4], [[f"{q.paper_id}#0"] for q in papers[:4]])
    if old_format:
        (tmp_path / "g1" / "date_how.npy").unlink()
    changed = Paper(**{**papers[3].to_dict(), "date": "2025-12-11", "date_inferred": "arxiv-id"})
    added = [changed, *papers[4:]]
    update_catalogue(tmp_path / "g2", Catalogue(tmp_path / "g1"), ["p1", "p3"], added,
                     [[f"{q.paper_id}#1"] for q in added])
    final = [papers[0], papers[2], *added]
    write_catalogue(tmp_path / "full", final, [[f"{q.paper_id}#0"] for q in final])
    got, want = Catalogue(tmp_path / "g2"), Catalogue(tmp_path / "full")
    assert got.date_how is not None and got.summary()["dates"] == want.summary()["dates"] == {
        "written": 1, "inferred": {"arxiv-id": 2}, "without_year": 0, "none": 2}
    flt = Filters(date_from="2025-01-01")
    assert got.date_detail(got.mask(flt)[0]) == want.date_detail(want.mask(flt)[0]) == (2, 0)
    assert np.load(tmp_path / "g2" / "date_how.npy").dtype == np.int8
