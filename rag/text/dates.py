"""The year of a yearless date on a Daily Papers page dump, inferred only from the same page.

Why: Hugging Face writes "Mon D, YYYY" for a date outside the current year and "Mon D" for one in
it, so a dump's yearless dates are in the year the page was captured, which the page never
states. Most seed papers with a date have such a "Nov 25", and a date filter could not see them.
The evidence, in order of precedence (:func:`infer_year`):

1. ``page-header``: the page's own date line (above the first paper) written with its year;
2. ``arxiv-id``: an arXiv id in a URL of the paper's title or abstract (``arxiv.org/abs/2401.01234``,
   ``huggingface.co/papers/2401.01234``), whose yymm gives year and month; the month must be the
   written one;
3. ``page-newest-year+1``: the year after the newest full date on the page. A page that wrote
   "Nov 13, 2024" was not captured in 2024, so its yearless dates are in 2025 *or later*: this is
   the earliest consistent year, a lower bound read as the capture year. A page without full
   dates gives no year.

Conservative: all the evidence a page gives must agree, else nothing is inferred. An arXiv month
that is not the written month, an arXiv or header year below the page's lower bound, a date after
the page's own date (both yearless dates are in the capture year; with a year, in that year), an
unclear page date (several date lines above the papers) or an impossible day (Feb 29 of a common
year) all leave the date without a year. Pure logic: no I/O, no imports beyond the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# method tag -> how it reads, for `paperchat stats` and the README
METHODS: dict[str, str] = {
    "page-header": "the year of the page's own date line",
    "arxiv-id": "the yymm of an arXiv id in a URL of the paper, its month agreeing",
    "page-newest-year+1": ("the year after the newest full date on the same page: the earliest consistent year "
                           "(a lower bound, read as the year the page was captured)"),
}

# new-style arXiv ids (April 2007 on): yymm.nnnn (to 2014) or yymm.nnnnn, optionally vN
_ARXIV_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/)(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5}(?!\d)",
    re.IGNORECASE)


@dataclass(frozen=True)
class PageDate:
    """The page's own date line: month and day, and its year when the line wrote one."""

    month: int
    day: int
    year: int | None = None


@dataclass(frozen=True)
class PageEvidence:
    """What one page says about years. ``header`` is None when the page has no date line above
    its papers; ``header_unclear`` when it has several or an impossible one (then no year is
    inferred on the page: its own date is unknown). ``full_years`` are the years of the full
    dates written on its papers."""

    header: PageDate | None = None
    header_unclear: bool = False
    full_years: tuple[int, ...] = ()

    @property
    def year_at_least(self) -> int | None:
        """The capture year's lower bound: a year the page writes out is not the capture year."""
        return max(self.full_years) + 1 if self.full_years else None


def arxiv_year_month(text: str) -> tuple[int, int] | None:
    """(year, month) of the arXiv ids in URLs of ``text``; None when there is none, or several
    that disagree (an abstract may link another paper, so one id is no proof either, which is why
    the month must match the written one)."""
    found = set()
    for m in _ARXIV_URL.finditer(text):
        yy, mm = int(m["yy"]), int(m["mm"])
        if not 1 <= mm <= 12 or (yy, mm) < (7, 4):
            continue  # not a new-style id
        found.add((2000 + yy, mm))
    return found.pop() if len(found) == 1 else None


def infer_year(month: int, day: int, page: PageEvidence, block_text: str = "") -> tuple[str, str] | None:
    """(ISO date, method tag) for the yearless date ``month``/``day`` of a paper on ``page``
    (``block_text``: the paper's title and abstract as written), or None when the page does not
    tell the year (see the module docstring for the rules and why they are conservative)."""
    if page.header_unclear:
        return None
    arxiv = arxiv_year_month(block_text)
    if arxiv is not None and arxiv[1] != month:
        return None  # the id's month is not the written one: another paper's id, or a month boundary
    header, floor = page.header, page.year_at_least
    if header is not None and header.year is not None:
        year, method = header.year, "page-header"
    elif arxiv is not None:
        year, method = arxiv[0], "arxiv-id"
    elif floor is not None:
        year, method = floor, "page-newest-year+1"
    else:
        return None
    if arxiv is not None and arxiv[0] != year:
        return None
    if floor is not None and year < floor:
        return None  # the page writes a year this late out, so it was not captured in it
    if header is not None and (month, day) > (header.month, header.day):
        # a yearless date and a yearless page date are both in the capture year, and a header
        # with a year is the inferred year: either way the paper would postdate its page
        return None
    try:
        return date(year, month, day).isoformat(), method
    except ValueError:  # Feb 29 of a common year, Feb 30
        return None


# ----------------------------------------------------------------------------------------------
# counting (stats)
# ----------------------------------------------------------------------------------------------

# how a paper's date is known, as a small code (the index) for the catalogue's column; codes are
# stored, so new kinds are appended, never inserted. "inferred": a method this version does not know.
DATE_KINDS: tuple[str, ...] = ("none", "written", "without-year", "page-header", "arxiv-id",
                               "page-newest-year+1", "inferred")
_OTHER_INFERRED = "inferred"
assert set(METHODS) < set(DATE_KINDS)


def date_kind(date_iso: str | None, date_text: str | None, date_inferred: str | None) -> str:
    """"written" (the source gave the year), the method tag (year inferred), "without-year"
    (month and day only, nothing told the year) or "none" (the source gives no date)."""
    if date_iso:
        if not date_inferred:
            return "written"
        return date_inferred if date_inferred in METHODS else _OTHER_INFERRED
    return "without-year" if date_text else "none"


def date_counts(kinds: Mapping[str, int]) -> dict:
    """Counts per kind -> what ``stats`` reports: {"written", "inferred": {method: n},
    "without_year", "none"}."""
    inferred = {k: int(n) for k, n in sorted(kinds.items()) if k not in ("none", "written", "without-year") and n}
    return {"written": int(kinds.get("written", 0)), "inferred": inferred,
            "without_year": int(kinds.get("without-year", 0)), "none": int(kinds.get("none", 0))}


def describe_counts(counts: Mapping) -> list[str]:
    """``stats``' lines about dates, in words."""
    inferred = counts.get("inferred") or {}
    n_inf = sum(inferred.values())
    head = f"{counts.get('written', 0)} written in the source, {n_inf} with an inferred year"
    if counts.get("without_year"):
        head += f", {counts['without_year']} with month and day only (the page does not tell the year)"
    lines = [f"{head}, {counts.get('none', 0)} with no date in the source"]
    lines += [f"  {n} inferred by {tag}: {METHODS.get(tag, 'a method this version does not know')}"
              for tag, n in inferred.items()]
    return lines
