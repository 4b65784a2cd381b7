"""Date counts and filter notes on a real index (bundled embedder, embedded Chroma); date parsing itself:
unit/test_dates.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ABSTRACT, page_dump

from cli.main import main
from rag.text.dates import (
    METHODS,
)
from rag.types.papers import Filters


@pytest.fixture
def dated_pages(tmp_path: Path) -> list[Path]:
    """Two small page dumps: one gives its yearless dates a year, the other cannot."""
    page_dump(tmp_path, "Dec 10", ["Jul 10, 2024", "Nov 14", None], name="a.txt")
    abstracts = {i: f"Second page, paper {i}: {ABSTRACT}" for i in range(2)}
    page_dump(tmp_path, "Dec 10", ["Nov 15", None], abstracts, name="b.txt")
    for i, name in enumerate(("a.txt", "b.txt")):  # distinct titles across the two pages
        path = tmp_path / name
        path.write_text(path.read_text("utf-8").replace("Paper Number", f"Page {i} Paper"), "utf-8")
    return [tmp_path / "a.txt", tmp_path / "b.txt"]


def test_stats_and_filter_note_on_a_real_index(app, dated_pages: list[Path]):
    app.ingest(dated_pages[:1])
    assert app.stats()["dates"] == {"written": 1, "inferred": {"page-newest-year+1": 1}, "without_year": 0, "none": 1}
    app.ingest(dated_pages[1:])  # an update patches the counts
    want = {"written": 1, "inferred": {"page-newest-year+1": 1}, "without_year": 1, "none": 2}
    assert app.stats()["dates"] == app._stats_from_store()["dates"] == want

    out = CliRunner().invoke(main, ["stats", "--json"])
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert (s["dates"], s["with_full_date"], s["date_range"]) == (want, 2, ["2024-07-10", "2025-11-14"])
    text = CliRunner().invoke(main, ["stats"]).stdout.splitlines()
    i = text.index("dates: 1 written in the source, 1 with an inferred year, 1 with month and day only "
                   "(the page does not tell the year), 2 with no date in the source")
    assert text[i + 1] == f"  1 inferred by page-newest-year+1: {METHODS['page-newest-year+1']}"

    res = app.search("warmup", filters=Filters(date_from="2025-01-01"))
    assert res.filter_note == (
        "filter (date 2025-01-01 to …) kept 1 of 5 papers (1 with an inferred year); 3 have no full date in "
        "their source (1 gives month and day only, and its page does not tell the year) and were excluded")
    assert [h.paper.date_inferred for h in res.hits] == ["page-newest-year+1"]
    assert app.search("warmup", filters=Filters(min_upvotes=0)).papers_inferred_year == 0  # no date filter
