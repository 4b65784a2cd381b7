"""Parse paper lists into :class:`Paper` records: Daily Papers page dumps (two layouts), JSONL, CSV.

Pure logic over text; the only I/O is reading the input files. Every record that is skipped is
reported as a warning with file and line, and a file that yields nothing usable is an error, so
nothing is ever dropped silently. Input is hostile: the only exception that leaves this module is
:class:`CorpusError`, whose one-line message names the file (and the line, where there is one),
and every stored text field has been through :func:`rag.text.sanitize.clean_text`. Abstracts are then
freed of LaTeX markup (:func:`rag.text.latex.normalise_latex`, the source's text kept in
``Paper.abstract_raw``), so what is shown, searched and quoted reads as the authors meant it.

Line numbers are what an editor shows: every format ends a line at ``\\n``, ``\\r\\n`` or a lone
``\\r`` (Python's universal newlines; CR-only files are old-Mac exports, and a raw CR can never
sit inside a JSON string, so JSONL loses nothing by it). Nothing else ends a JSONL record: a raw
U+2028 or U+0085 is valid inside a JSON string (``str.splitlines`` used to cut the record there).
Page dumps are copy-pasted web pages, where U+2028/U+2029 are the only other characters that mean
"line break", so a dump is also split there, but the parts keep the number of the editor line
they sit on. U+0085, VT, FF and FS..RS do not split a dump: in scraped text they are mojibake
(``…`` read as Latin-1 is U+0085) or page breaks inside a paragraph, and ``clean_text`` turns
them into spaces (FS..RS are dropped).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.references import LAYOUTS, REFERENCE_SUFFIXES, parse_references
from rag.text.dates import PageDate, PageEvidence, infer_year
from rag.text.latex import normalise_latex
from rag.text.sanitize import clean_text
from rag.types.papers import Paper

SUPPORTED_SUFFIXES = (".txt", ".jsonl", ".csv", *REFERENCE_SUFFIXES)

# Page chrome that appears above the paper list in Daily Papers dumps.
_BOILERPLATE = {
    "new",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_DATE_LINE = re.compile(
    r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$"
)
_DUMP_LINE_BREAK = re.compile("[\u2028\u2029]")
_AUTHORS_LINE = re.compile(r"^[•·*-]?\s*(?P<n>\d+)\s+authors?$")
_META_SEPARATOR = "·"
_MAX_TITLE_CHARS = 400
# a paper with thousands of authors (physics collaborations) keeps the first names only
_MAX_AUTHOR_NAMES_CHARS = 4000
_MIN_ABSTRACT_CHARS = 80
# No paper has a billion authors or upvotes: longer digit strings are corruption, and bounding
# them before int() also keeps clear of Python's 4,300-digit int/str conversion limit.
_MAX_COUNT_DIGITS = 9
# JSON integers longer than this are refused while decoding, with a message of ours: it is
# Python's default int/str limit, which json.loads would otherwise hit with a plain ValueError.
_MAX_JSON_INT_DIGITS = 4300
# Parsing holds the bytes, the text and its lines at once; beyond this, split the file.
_MAX_FILE_BYTES = 256 * 2**20
# What one paper may cost: an abstract longer than this is not an abstract (arXiv allows 1,920
# characters; the longest seed has about 2,500), and embedding one of 19 MB took ~100 minutes
# and 3 GB. It also bounds a paper's chunks (:data:`rag.ingest.chunk.MAX_CHUNKS_PER_PAPER`).
MAX_ABSTRACT_CHARS = 20_000
# One JSONL line longer than this is skipped before it is decoded (a paper record with an
# abstract at the limit and a long author list is far shorter).
_MAX_RECORD_CHARS = 1_000_000
# Papers one file may hold: parsing keeps them all in memory at once (bench/bench_limits.py).
MAX_RECORDS_PER_FILE = 200_000
# Optional sign, ASCII digits, an optional all-zero fraction: "3", "+3", "3.0" (pandas writes
# integer columns that have gaps as floats).
_WHOLE_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<digits>[0-9]+)(?:\.0*)?")
_ANY_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
                         re.IGNORECASE)


@dataclass
class FileStats:
    path: str
    layout: str
    records: int
    skipped: int = 0


@dataclass
class CorpusLoad:
    """Result of parsing: unique papers plus what happened on the way."""

    papers: list[Paper]
    files: list[FileStats] = field(default_factory=list)
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)


def normalize_title(title: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for ids and deduplication."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def paper_id_for(title: str) -> str:
    """A readable slug of the normalised title; long titles get a hash suffix to stay unique."""
    norm = normalize_title(title)
    if not norm:
        raise ValueError("title has no letters or digits")
    slug = norm.replace(" ", "-")
    if len(slug) <= 64:
        return slug
    cut = slug[:56].rsplit("-", 1)[0]
    return f"{cut}-{hashlib.sha1(norm.encode()).hexdigest()[:7]}"


_clean = clean_text  # every stored text field, every page-dump line


def _abstract_fields(raw: str) -> dict[str, str | None]:
    """``abstract`` (LaTeX normalised) and ``abstract_raw`` (the source's, only when different)."""
    shown = normalise_latex(raw) or raw
    return {"abstract": shown, "abstract_raw": raw if shown != raw else None}


def _show(value: object) -> str:
    """A value for a one-line message, in JSON spelling, at most about 40 characters. Containers
    are named, not printed: their repr can be huge or too deeply nested to build."""
    if isinstance(value, _JsonFloat):
        text = value.text
    elif value is None:
        return "null"
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # over sys.get_int_max_str_digits(), when set below json's bound
            return "a very long number"
    elif isinstance(value, float):
        text = json.dumps(value)
    elif isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    elif isinstance(value, list):
        return "a list"
    elif isinstance(value, dict):
        return "an object"
    else:
        return type(value).__name__
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


def _date_match(text: str) -> re.Match[str] | None:
    return _DATE_LINE.match(text.strip())


def _iso_date(m: re.Match[str]) -> str | None:
    """The ISO date of a matched date line; None without a year. ValueError if impossible."""
    if not m["year"]:
        return None
    return date(int(m["year"]), _MONTHS[m["mon"].lower()[:3]], int(m["day"])).isoformat()


def _digits_plausible(digits: str) -> bool:
    return len(digits.lstrip("0")) <= _MAX_COUNT_DIGITS


def parse_date(text: str) -> tuple[str | None, int | None]:
    """``"Sep 21, 2023 2"`` -> ("2023-09-21", 2); ``"May 12 3"`` -> (None, 3): no year, no ISO date."""
    m = _date_match(text)
    if not m:
        raise ValueError(f"not a date line: {text!r}")
    upvotes = None
    if m["upvotes"]:
        if not _digits_plausible(m["upvotes"]):
            raise ValueError(f"{len(m['upvotes'])}-digit upvote count is not plausible")
        upvotes = int(m["upvotes"])
    try:
        return _iso_date(m), upvotes
    except ValueError as e:
        raise ValueError(f"impossible date {text!r}: {e}") from None


def _date_text(text: str) -> str:
    m = _date_match(text)
    assert m is not None
    return text.strip()[: m.end("year") if m["year"] else m.end("day")]


def _looks_like_abstract(text: str) -> bool:
    return len(text) >= _MIN_ABSTRACT_CHARS


# ----------------------------------------------------------------------------------------------
# Daily Papers dumps
# ----------------------------------------------------------------------------------------------


def _universal_lines(text: str) -> list[str]:
    """Lines ending at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as editors number them (see the
    module docstring for why ``str.splitlines`` is not used)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    return lines


def _dump_lines(text: str) -> list[tuple[int, str]]:
    """Cleaned (editor line number, text) pairs; U+2028/U+2029 split a line into parts that keep
    its number."""
    return [(i, _clean(part)) for i, line in enumerate(_universal_lines(text), start=1)
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
            m = _DATE_LINE.match(s)
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
    month, day, year = _MONTHS[m["mon"].lower()[:3]], int(m["day"]), int(m["year"]) if m["year"] else None
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
    if not _digits_plausible(digits):
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
        if title == _META_SEPARATOR or _AUTHORS_LINE.match(title) or _DATE_LINE.match(title):
            warnings.append(f"{source}:{lineno}: metadata line {_show(title)} with no paper before it; skipped")
            i += 1
            continue
        if len(title) > _MAX_TITLE_CHARS:
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
            m = _DATE_LINE.match(lines[i][1]) if i < n else None
            if m:
                where = f"{source}:{lines[i][0]}"
                if m["upvotes"]:
                    upvotes = _dump_count(m["upvotes"], "upvote count", "upvotes", where, warnings)
                try:
                    iso = _iso_date(m)
                    date_text = _date_text(lines[i][1])
                    if iso is None:
                        month_day = (_MONTHS[m["mon"].lower()[:3]], int(m["day"]))
                except ValueError as e:
                    warnings.append(f"{where}: impossible date {_show(_date_text(lines[i][1]))}: {e}; date left empty")
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
                **_abstract_fields(abstract),
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
        _check_count(papers, source)
    _infer_years(papers, yearless, header_dates)
    return papers, warnings, layout


# ----------------------------------------------------------------------------------------------
# JSONL and CSV
# ----------------------------------------------------------------------------------------------


class _JsonFloat(float):
    """A JSON float that remembers how it was written, so ``1e400`` (which decodes to inf) and
    ``2.70`` are reported as the user typed them. Also receives NaN / Infinity / -Infinity."""

    text: str

    def __new__(cls, text: str) -> _JsonFloat:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def _json_int(text: str) -> int:
    """json's int hook: refuse absurd lengths before int() hits Python's digit limit."""
    digits = len(text.lstrip("-"))
    if digits > _MAX_JSON_INT_DIGITS:
        raise ValueError(f"{digits}-digit number is too long")
    return int(text)


def _text_field(value: object, name: str, where: str) -> str | None:
    """A text field as stored: cleaned, None when empty. A JSON number is taken as written (a
    spreadsheet export turns an all-digit column into numbers); true/false, lists and objects are
    errors, because printing them would store Python reprs as paper text."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)  # json bounded its digits, so this conversion cannot fail
    elif isinstance(value, float) and math.isfinite(value):
        text = value.text if isinstance(value, _JsonFloat) else str(value)
    else:
        raise CorpusError(f"{where}: {name} must be text, got {_show(value)}")
    return _clean(text) or None


def _whole_number(value: object, name: str, where: str) -> int | None:
    """A count from JSONL/CSV: an int, an integral float (3.0) or such a string ("3", "3.0").
    Booleans, fractions, non-finite, negative and implausibly large values are errors instead of
    being coerced (int(2.7) == 2, int(True) == 1)."""
    if value is None:
        return None
    bad = CorpusError(f"{where}: {name} must be a whole number, got {_show(value)}")
    if isinstance(value, bool):
        raise bad
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise bad
        n = int(value)
    elif isinstance(value, str):
        text = _clean(value)
        if not text:
            return None
        m = _WHOLE_NUMBER.fullmatch(text)
        if not m:
            raise bad
        if not _digits_plausible(m["digits"]):
            raise CorpusError(f"{where}: {name} {_show(text)} is not plausible (more than {_MAX_COUNT_DIGITS} digits)")
        n = int(m["sign"] + m["digits"])
    else:
        raise bad
    if n < 0:
        raise CorpusError(f"{where}: {name} must not be negative, got {_show(value)}")
    if n >= 10**_MAX_COUNT_DIGITS:
        raise CorpusError(f"{where}: {name} {_show(value)} is not plausible (more than {_MAX_COUNT_DIGITS} digits)")
    return n


def _author_count(value: object, where: str) -> int | None:
    """A list counts its names, a number (or numeric string) is the count, free text ("A, B and
    C") counts the names in it."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, str):
        text = _clean(value)
        if not text:
            return None
        if not _ANY_NUMBER.fullmatch(text):
            return len([a for a in re.split(r",|\band\b|;", text) if a.strip()])
    return _whole_number(value, "authors", where)


def _author_names(value: object) -> str | None:
    """The names of a list of authors joined by "; " (for citing); None for a count or free text."""
    if not isinstance(value, list):
        return None
    names = [_clean(v) for v in value if isinstance(v, str) and _clean(v)]
    return "; ".join(names)[:_MAX_AUTHOR_NAMES_CHARS] or None


def _record_date(value: object, where: str) -> tuple[str | None, str | None]:
    """(ISO date, date as written) from a YYYY-MM-DD[...] or 'Mon D[, YYYY]' value."""
    date_text = _text_field(value, "date", where)
    if date_text is None:
        return None, None
    try:
        return date.fromisoformat(date_text[:10]).isoformat(), date_text
    except ValueError as e:
        if re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", date_text):
            raise CorpusError(f"{where}: date {_show(date_text)} is not a real date ({e})") from None
    m = _date_match(date_text)
    if not m:
        raise CorpusError(f"{where}: date {_show(date_text)} is not YYYY-MM-DD (or 'Mon D, YYYY')")
    try:
        return _iso_date(m), date_text
    except ValueError as e:
        raise CorpusError(f"{where}: date {_show(date_text)} is not a real date ({e})") from None


class _Skipped(Exception):
    """A record left out for ``reason``; the file's other records are kept (reference-manager
    exports often hold a few entries without an abstract)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _skip_warnings(source: str, skipped: Sequence[_Skipped]) -> list[str]:
    """One warning per reason, naming the lines: "x.jsonl: 2 records skipped (no abstract):
    lines 3, 7"."""
    by_reason: dict[str, list[int]] = {}
    for s in skipped:
        by_reason.setdefault(s.reason, []).append(s.line)
    out = []
    for reason, lines in by_reason.items():
        shown = ", ".join(map(str, lines[:20])) + (f" and {len(lines) - 20} more" if len(lines) > 20 else "")
        out.append(f"{source}: {len(lines)} record{'s' if len(lines) != 1 else ''} skipped ({reason}): "
                   f"line{'s' if len(lines) != 1 else ''} {shown}")
    return out


def _check_count(papers: Sequence[Paper], source: str) -> None:
    if len(papers) > MAX_RECORDS_PER_FILE:
        raise CorpusError(f"{source}: more than {MAX_RECORDS_PER_FILE:,} papers in one file; split it into smaller files")


def _record_to_paper(rec: dict, source: str, line: int) -> Paper:
    """Validate one user record; any problem is a CorpusError naming file and line, except a
    missing or oversized abstract, which skips the record (:class:`_Skipped`)."""
    where = f"{source}:{line}"
    lowered = {_clean(str(k)).lower(): v for k, v in rec.items() if k is not None}
    title = _text_field(lowered.get("title"), "title", where)
    if not title:
        raise CorpusError(f"{where}: record has no title")
    raw_abstract = lowered.get("abstract")
    if isinstance(raw_abstract, str) and len(raw_abstract) > 4 * MAX_ABSTRACT_CHARS:  # before cleaning it
        raise _Skipped(line, f"abstract over {MAX_ABSTRACT_CHARS:,} characters")
    abstract = _text_field(raw_abstract, "abstract", where)
    if not abstract:
        raise _Skipped(line, "no abstract")
    if len(abstract) > MAX_ABSTRACT_CHARS:
        raise _Skipped(line, f"abstract over {MAX_ABSTRACT_CHARS:,} characters")
    if len(title) > _MAX_TITLE_CHARS:
        # the title is embedded with every chunk; one this long would be truncated silently
        raise CorpusError(
            f"{where}: title is {len(title)} characters, at most {_MAX_TITLE_CHARS} allowed "
            "(is the abstract in the title field?)"
        )
    try:
        pid = paper_id_for(title)
    except ValueError:
        raise CorpusError(f"{where}: title {title!r} has no letters or digits") from None
    authors = _author_count(lowered.get("authors"), where)
    upvotes = _whole_number(lowered.get("upvotes"), "upvotes", where)
    iso, date_text = _record_date(lowered.get("date"), where)
    org = _text_field(lowered.get("organization"), "organization", where)
    if org is None:
        org = _text_field(lowered.get("org"), "org", where)
    return Paper(
        paper_id=pid,
        title=title,
        **_abstract_fields(abstract),
        source=source,
        line=line,
        authors=authors,
        organization=org,
        date=iso,
        date_text=date_text,
        upvotes=upvotes,
        url=_text_field(lowered.get("url"), "url", where),
        author_names=_author_names(lowered.get("authors")),
    )


def parse_jsonl(text: str, source: str) -> tuple[list[Paper], list[str], int]:
    """One JSON object per line (JSON Lines); blank lines are skipped. Returns (papers,
    warnings, records skipped): records without an abstract, or with one over the limit, are
    skipped and named in one warning per reason."""
    papers: list[Paper] = []
    skipped: list[_Skipped] = []
    for lineno, line in enumerate(_universal_lines(text), start=1):
        if len(line) > _MAX_RECORD_CHARS:
            skipped.append(_Skipped(lineno, f"record over {_MAX_RECORD_CHARS:,} characters"))
            continue
        # whitespace json does not know (FF, U+0085, NBSP...) can only sit outside the value here
        body = line.lstrip()
        indent = len(line) - len(body)
        body = body.rstrip()
        if not body:
            continue
        where = f"{source}:{lineno}"
        try:
            rec = json.loads(body, parse_float=_JsonFloat, parse_constant=_JsonFloat, parse_int=_json_int)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{where}: invalid JSON ({e.msg} at column {e.colno + indent})") from None
        except ValueError as e:  # raised by _json_int
            raise CorpusError(f"{where}: invalid JSON ({e})") from None
        except RecursionError:
            raise CorpusError(f"{where}: invalid JSON (nested too deeply)") from None
        if isinstance(rec, list):
            raise CorpusError(
                f"{where}: expected a JSON object with title and abstract, got an array "
                "(JSONL has one object per line)"
            )
        if not isinstance(rec, dict):
            raise CorpusError(f"{where}: expected a JSON object with title and abstract, got {_show(rec)}")
        try:
            papers.append(_record_to_paper(rec, source, lineno))
        except _Skipped as e:
            skipped.append(e)
        _check_count(papers, source)
    return papers, _skip_warnings(source, skipped), len(skipped)


def _header_list(fields: Sequence[str]) -> str:
    shown = [f[:40] for f in fields[:12]]
    return ", ".join(shown) + (f", … ({len(fields)} columns)" if len(fields) > 12 else "")


def parse_csv(text: str, source: str) -> tuple[list[Paper], list[str], int]:
    """A header row naming (at least) title and abstract, then one paper per row. Records are
    numbered by the line they start on; a quoted field may span lines. Returns (papers,
    warnings), as :func:`parse_jsonl`."""
    # A field can never be longer than the text holding it, and the text is bounded by
    # _MAX_FILE_BYTES, so raising the limit (process-wide, only ever upwards) cannot let a field
    # grow without bound; the default 128 KiB would reject a long abstract.
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))
    # newline="" hands \r, \r\n and \n to the csv module, which ends a row at any of them
    reader = csv.reader(io.StringIO(text, newline=""))
    papers: list[Paper] = []
    skipped: list[_Skipped] = []
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in row):
                continue  # blank line or all-empty row
            if header is None:
                header = [_clean(f).lower() for f in row]
                missing = [f for f in ("title", "abstract") if f not in header]
                if missing:
                    raise CorpusError(
                        f"{source}:{line}: CSV header must have columns title and abstract; missing "
                        f"{', '.join(missing)} (found: {_header_list([f for f in header if f]) or 'nothing'})"
                    )
                continue
            if len(row) > len(header):
                raise CorpusError(f"{source}:{line}: row has more fields than the header")
            try:
                papers.append(_record_to_paper(dict(zip(header, row, strict=False)), source, line))
            except _Skipped as e:
                skipped.append(e)
            _check_count(papers, source)
    except csv.Error as e:
        raise CorpusError(f"{source}:{reader.line_num}: malformed CSV ({e})") from None
    if header is None:
        raise CorpusError(f"{source}:1: CSV header must have columns title and abstract (found: nothing)")
    return papers, _skip_warnings(source, skipped), len(skipped)


# ----------------------------------------------------------------------------------------------
# Files and whole corpora
# ----------------------------------------------------------------------------------------------


def _check_path(path: Path) -> None:
    """Fail first on what is not there, so ``/nonexistent`` is not called an unsupported type."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise CorpusError(f"{path}: no such file or directory") from None
    except OSError as e:  # permission, name too long, symlink loop
        raise CorpusError(f"{path}: cannot read ({e.strerror or e})") from None
    except ValueError:  # an embedded NUL
        raise CorpusError(f"{str(path)!r}: not a valid file name") from None
    if stat.S_ISDIR(st.st_mode):
        raise CorpusError(f"{path}: is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise CorpusError(f"{path}: not a regular file")  # a FIFO or device would block or never end


def _line_at(data: bytes, universal: bool) -> int:
    """The 1-based line holding the end of ``data``, counted as the parser for the file counts."""
    if universal:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data.count(b"\n") + 1


def read_text(path: Path) -> str:
    """Read a UTF-8 text file; missing, huge, empty, binary or undecodable files are errors
    naming the file."""
    _check_path(path)
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a directory") from None
    except OSError as e:
        raise CorpusError(f"{path}: cannot read ({e.strerror})") from None
    if len(data) > _MAX_FILE_BYTES:
        raise CorpusError(f"{path}: file is larger than {_MAX_FILE_BYTES // 2**20} MiB; split it into smaller files")
    if not data.strip():
        raise CorpusError(f"{path}: file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{path}: is UTF-16 text; save it as UTF-8")
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{path}: looks like a binary file, expected text (page dump, JSONL, CSV, BibTeX, RIS or CSL-JSON)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = _line_at(data[: e.start], universal=path.suffix.lower() != ".jsonl")
        raise CorpusError(f"{path}:{line}: not valid UTF-8 text") from None
    return text


def parse_file(path: Path, source: str | None = None) -> tuple[list[Paper], FileStats, list[str]]:
    """Parse one file by its suffix. Raises CorpusError when it yields no paper."""
    path = Path(path)
    source = source or path.name
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(
            f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}"
        )
    text = read_text(path)
    warnings: list[str] = []
    if suffix in (".jsonl", ".csv"):
        papers, warnings, skipped = (parse_jsonl if suffix == ".jsonl" else parse_csv)(text, source)
        layout = suffix[1:]
    elif suffix in REFERENCE_SUFFIXES:
        papers, warnings, dropped = parse_references(text, source, suffix, _record_to_paper, _Skipped)
        _check_count(papers, source)
        warnings += _skip_warnings(source, dropped)
        skipped, layout = len(dropped), LAYOUTS[suffix]
    else:
        papers, warnings, layout = parse_page_dump(text, source)
        skipped = len(warnings)
    if not papers:
        first = warnings[0].removeprefix(f"{source}: ") if warnings else ""
        detail = "" if not warnings else (f" ({first})" if suffix != ".txt"
                                          else f" ({skipped} records skipped: {first})")
        raise CorpusError(f"{path}: no papers found{detail}")
    stats = FileStats(path=str(path), layout=layout, records=len(papers), skipped=skipped)
    return papers, stats, warnings


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories become their supported files, sorted for a stable order.
    A path that does not exist is an error here, before any file is parsed."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        try:
            is_dir = p.is_dir()
            if is_dir:
                found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SUPPORTED_SUFFIXES)
        except OSError as e:  # permission denied, name too long
            raise CorpusError(f"{p}: cannot read ({e.strerror or e})") from None
        except ValueError:  # an embedded NUL
            raise CorpusError(f"{str(p)!r}: not a valid file name") from None
        if is_dir:
            if not found:
                raise CorpusError(f"{p}: directory has no {', '.join(SUPPORTED_SUFFIXES)} files")
            out.extend(found)
        else:
            _check_path(p)
            out.append(p)
    return out


def _date_rank(p: Paper) -> int:
    """How well a copy knows its date: written year > inferred year > month and day > none."""
    return 3 if p.date and not p.date_inferred else 2 if p.date else 1 if p.date_text else 0


def merge_duplicates(records: Sequence[Paper]) -> tuple[list[Paper], int]:
    """One paper per id. The longest abstract wins (page dumps truncate some); missing fields
    are filled from the other copies, the date from the copy that knows it best (a written year
    over an inferred one). Order: first appearance."""
    by_id: dict[str, Paper] = {}
    for rec in records:
        have = by_id.get(rec.paper_id)
        if have is None:
            by_id[rec.paper_id] = rec
            continue
        best, other = (rec, have) if len(rec.abstract) > len(have.abstract) else (have, rec)
        filled = {
            k: getattr(other, k)
            for k in ("authors", "organization", "upvotes", "url")
            if getattr(best, k) is None and getattr(other, k) is not None
        }
        if _date_rank(other) > _date_rank(best):  # the date's fields travel together
            filled.update(date=other.date, date_text=other.date_text, date_inferred=other.date_inferred)
        # keep the first appearance's position and source so ids map back to where a user saw it
        by_id[rec.paper_id] = replace(best, source=have.source, line=have.line, **filled)
    return list(by_id.values()), len(records) - len(by_id)


def load_corpus(paths: Iterable[Path]) -> CorpusLoad:
    """Parse files (or directories) into unique papers. Any unreadable file aborts the whole load,
    so a half-parsed corpus never reaches the index."""
    files = expand_paths(paths)
    if not files:
        raise CorpusError("no input files given")
    records: list[Paper] = []
    stats: list[FileStats] = []
    warnings: list[str] = []
    for path in files:
        papers, st, warns = parse_file(path)
        records.extend(papers)
        stats.append(st)
        warnings.extend(warns)
    papers, dups = merge_duplicates(records)
    return CorpusLoad(papers=papers, files=stats, duplicates=dups, warnings=warnings)


def bundled_seed_paths() -> list[Path]:
    """The default corpus shipped in the repository (data/seeds)."""
    root = Path(__file__).resolve().parents[2] / "data" / "seeds"
    if not root.is_dir():
        raise CorpusError(f"bundled seeds not found at {root}; pass files to ingest")
    return sorted(root.glob("*.txt"))
