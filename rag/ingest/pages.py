"""Daily Papers page dumps (a Hugging Face Daily Papers page, copied as text) as papers.

A dump has no field names: :func:`parse_page_dump` reads line shapes (a title, a paragraph-sized
abstract, an optional metadata group) and the page's chrome, in both layouts dumps come in. Kept
apart from the record formats (:mod:`rag.ingest.records`), whose fields are named.

Page dumps are copy-pasted web pages, where U+2028/U+2029 are the only other characters that mean
"line break" (besides those of :func:`rag.ingest.fields.universal_lines`), so a dump is also split
there, but the parts keep the number of the editor line they sit on. U+0085, VT, FF and FS..RS do
not split a dump: in scraped text they are mojibake (``…`` read as Latin-1 is U+0085) or page breaks
inside a paragraph, and ``clean_text`` turns them into spaces (FS..RS are dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from rag.ingest.fields import (
    DATE_LINE,
    MAX_ABSTRACT_CHARS,
    MAX_TITLE_CHARS,
    MONTHS,
    abstract_fields,
    check_count,
    date_match,
    digits_plausible,
    iso_date,
    paper_id_for,
    show_value,
    universal_lines,
)
from rag.text.dates import PageDate, PageEvidence, infer_year
from rag.text.sanitize import clean_text
from rag.types.papers import Paper

# Page chrome that appears above the paper list in Daily Papers dumps.
_BOILERPLATE = {
    "new",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
_DUMP_LINE_BREAK = re.compile("[\u2028\u2029]")
_AUTHORS_LINE = re.compile(r"^[•·*-]?\s*(?P<n>\d+)\s+authors?$")
_META_SEPARATOR = "·"
_MIN_ABSTRACT_CHARS = 80

_clean = clean_text  # every page-dump line


def parse_date(text: str) -> tuple[str | None, int | None]:
    """``"Sep 21, 2023 2"`` -> ("2023-09-21", 2); ``"May 12 3"`` -> (None, 3): no year, no ISO date."""
    m = date_match(text)
    if not m:
        raise ValueError(f"not a date line: {text!r}")
    upvotes = None
    if m["upvotes"]:
        if not digits_plausible(m["upvotes"]):
            raise ValueError(f"{len(m['upvotes'])}-digit upvote count is not plausible")
        upvotes = int(m["upvotes"])
    try:
        return iso_date(m), upvotes
    except ValueError as e:
        raise ValueError(f"impossible date {text!r}: {e}") from None


def _date_text(text: str) -> str:
    m = date_match(text)
    assert m is not None
    return text.strip()[: m.end("year") if m["year"] else m.end("day")]


def _looks_like_abstract(text: str) -> bool:
    return len(text) >= _MIN_ABSTRACT_CHARS


def _dump_lines(text: str) -> list[tuple[int, str]]:
    """Cleaned (editor line number, text) pairs; U+2028/U+2029 split a line into parts that keep
    its number."""
    return [(i, _clean(part)) for i, line in enumerate(universal_lines(text), start=1)
            for part in _DUMP_LINE_BREAK.split(line)]


def _content_lines(lines: Sequence[tuple[int, str]]) -> tuple[list[tuple[int, str]], list[re.Match[str]]]:
    """Non-empty lines, page chrome above the first paper removed; and the chrome's date lines
    (the page's own date, "Dec 10")."""
    numbered = [(i, s) for i, s in lines if s]
    out: list[tuple[int, str]] = []
    header_dates: list[re.Match[str]] = []
    in_header = True
    for i, s in numbered:
        if in_header:
            low = s.lower()
            m = DATE_LINE.match(s)
            if m:
                header_dates.append(m)
            if low in _BOILERPLATE or m:
                continue
            if low.startswith("subscribe") and len(s) > len("subscribe"):
                s = s[len("subscribe"):].strip()  # layout B glues the first title to the button
            in_header = False
        out.append((i, s))
    return out, header_dates


def _page_evidence(header_dates: Sequence[re.Match[str]], full_dates: Iterable[str]) -> PageEvidence:
    """What a page says about years (:mod:`rag.text.dates`): its own date line and its papers' full
    dates. Several date lines above the papers, or an impossible one, leave the page's date unclear."""
    years = tuple(int(iso[:4]) for iso in full_dates)
    if not header_dates:
        return PageEvidence(full_years=years)
    if len(header_dates) > 1:
        return PageEvidence(header_unclear=True, full_years=years)
    m = header_dates[0]
    month, day, year = MONTHS[m["mon"].lower()[:3]], int(m["day"]), int(m["year"]) if m["year"] else None
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: a yearless "Feb 29" is possible
    except ValueError:
        return PageEvidence(header_unclear=True, full_years=years)
    return PageEvidence(header=PageDate(month, day, year), full_years=years)


def _infer_years(papers: list[Paper], yearless: Sequence[tuple[int, int, int, str]],
                 header_dates: Sequence[re.Match[str]]) -> None:
    """Give the page's yearless dates (``yearless``: index into ``papers``, month, day, the
    paper's title and abstract as written) the year the page tells, if it does; in place."""
    if not yearless:
        return
    page = _page_evidence(header_dates, (p.date for p in papers if p.date))
    for k, month, day, block in yearless:
        got = infer_year(month, day, page, block)
        if got is not None:
            papers[k] = replace(papers[k], date=got[0], date_inferred=got[1])


def _dump_count(digits: str, what: str, name: str, where: str, warnings: list[str]) -> int | None:
    """A count from a page dump; an implausibly long one is a warning, and the paper is kept."""
    if not digits_plausible(digits):
        warnings.append(f"{where}: {len(digits)}-digit {what} is not plausible; {name} left empty")
        return None
    return int(digits)


def parse_page_dump(text: str, source: str) -> tuple[list[Paper], list[str], str]:
    """Parse one Daily Papers page dump. Returns (papers, warnings, layout name).

    Layout "blocks" has blank lines between title, abstract and an optional metadata group
    (``• N authors`` or an organisation, a ``·`` line, then ``Mon D[, YYYY] [upvotes]``);
    layout "lines" alternates title and abstract lines. Both reduce to the same sequence of
    non-empty lines, so one state machine reads both. A bad metadata value (impossible date,
    absurd count) is a warning and leaves that field empty; the paper is kept. A date written
    without its year ("Nov 25") keeps ``date_text`` as written and gets ``date`` and
    ``date_inferred`` only when the same page tells the year (:mod:`rag.text.dates`).
    """
    cleaned = _dump_lines(text)
    blank = sum(1 for _, s in cleaned if not s)
    layout = "blocks" if blank >= max(3, len(cleaned) // 4) else "lines"
    lines, header_dates = _content_lines(cleaned)
    papers: list[Paper] = []
    warnings: list[str] = []
    yearless: list[tuple[int, int, int, str]] = []  # (index into papers, month, day, title + abstract)
    i, n = 0, len(lines)
    while i < n:
        lineno, title = lines[i]
        if title == _META_SEPARATOR or _AUTHORS_LINE.match(title) or DATE_LINE.match(title):
            warnings.append(f"{source}:{lineno}: metadata line {show_value(title)} with no paper before it; skipped")
            i += 1
            continue
        if len(title) > MAX_TITLE_CHARS:
            warnings.append(f"{source}:{lineno}: expected a title, found a {len(title)}-character paragraph; skipped")
            i += 1
            continue
        if i + 1 >= n or not _looks_like_abstract(lines[i + 1][1]):
            warnings.append(f"{source}:{lineno}: title {title[:60]!r} has no abstract after it; skipped")
            i += 1
            continue
        abstract = lines[i + 1][1]
        if len(abstract) > MAX_ABSTRACT_CHARS:
            warnings.append(f"{source}:{lines[i + 1][0]}: abstract of {title[:60]!r} is over "
                            f"{MAX_ABSTRACT_CHARS:,} characters; skipped")
            i += 2
            continue
        i += 2
        authors = organization = iso = date_text = None
        upvotes = None
        month_day: tuple[int, int] | None = None
        # optional metadata group: [authors | organisation] "·" date
        if i < n and (_AUTHORS_LINE.match(lines[i][1]) or (i + 1 < n and lines[i + 1][1] == _META_SEPARATOR)):
            m = _AUTHORS_LINE.match(lines[i][1])
            if m:
                authors = _dump_count(m["n"], "author count", "authors", f"{source}:{lines[i][0]}", warnings)
            else:
                organization = lines[i][1]
            i += 1
        if i < n and lines[i][1] == _META_SEPARATOR:
            i += 1
            m = DATE_LINE.match(lines[i][1]) if i < n else None
            if m:
                where = f"{source}:{lines[i][0]}"
                if m["upvotes"]:
                    upvotes = _dump_count(m["upvotes"], "upvote count", "upvotes", where, warnings)
                try:
                    iso = iso_date(m)
                    date_text = _date_text(lines[i][1])
                    if iso is None:
                        month_day = (MONTHS[m["mon"].lower()[:3]], int(m["day"]))
                except ValueError as e:
                    warnings.append(f"{where}: impossible date {show_value(_date_text(lines[i][1]))}: {e}; date left empty")
                i += 1
            else:
                warnings.append(f"{source}:{lines[i - 1][0]}: '·' not followed by a date line")
        try:
            pid = paper_id_for(title)
        except ValueError:
            warnings.append(f"{source}:{lineno}: title {title!r} has no letters or digits; skipped")
            continue
        papers.append(
            Paper(
                paper_id=pid,
                title=title,
                **abstract_fields(abstract),
                source=source,
                line=lineno,
                authors=authors,
                organization=organization,
                date=iso,
                date_text=date_text,
                upvotes=upvotes,
            )
        )
        if month_day is not None:
            yearless.append((len(papers) - 1, *month_day, f"{title}\n{abstract}"))
        check_count(papers, source)
    _infer_years(papers, yearless, header_dates)
    return papers, warnings, layout
