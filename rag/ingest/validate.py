"""One paper record, a mapping of field names to values, checked and turned into a
:class:`Paper`: the one validation JSONL and CSV records (:mod:`rag.ingest.records`) and reference
exports' entries (:mod:`rag.ingest.references`) go through, so they refuse and skip alike.

A record names its fields, so its checks are about values: a count that is a fraction, a date that
is not one, a title that holds an abstract. A record without a usable abstract is skipped
(:class:`Skipped`), and the skips of a file are reported in one warning per reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

from rag.errors import CorpusError
from rag.ingest.fields import (
    MAX_ABSTRACT_CHARS,
    MAX_COUNT_DIGITS,
    MAX_TITLE_CHARS,
    JsonFloat,
    abstract_fields,
    date_match,
    digits_plausible,
    iso_date,
    paper_id_for,
    show_value,
)
from rag.text.sanitize import clean_text
from rag.types.papers import Paper

# a paper with thousands of authors (physics collaborations) keeps the first names only
_MAX_AUTHOR_NAMES_CHARS = 4000
# Optional sign, ASCII digits, an optional all-zero fraction: "3", "+3", "3.0" (pandas writes
# integer columns that have gaps as floats).
_WHOLE_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<digits>[0-9]+)(?:\.0*)?")
_ANY_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
                         re.IGNORECASE)

_clean = clean_text  # every stored text field


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
        text = value.text if isinstance(value, JsonFloat) else str(value)
    else:
        raise CorpusError(f"{where}: {name} must be text, got {show_value(value)}")
    return _clean(text) or None


def _whole_number(value: object, name: str, where: str) -> int | None:
    """A count from JSONL/CSV: an int, an integral float (3.0) or such a string ("3", "3.0").
    Booleans, fractions, non-finite, negative and implausibly large values are errors instead of
    being coerced (int(2.7) == 2, int(True) == 1)."""
    if value is None:
        return None
    bad = CorpusError(f"{where}: {name} must be a whole number, got {show_value(value)}")
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
        if not digits_plausible(m["digits"]):
            raise CorpusError(f"{where}: {name} {show_value(text)} is not plausible (more than {MAX_COUNT_DIGITS} digits)")
        n = int(m["sign"] + m["digits"])
    else:
        raise bad
    if n < 0:
        raise CorpusError(f"{where}: {name} must not be negative, got {show_value(value)}")
    if n >= 10**MAX_COUNT_DIGITS:
        raise CorpusError(f"{where}: {name} {show_value(value)} is not plausible (more than {MAX_COUNT_DIGITS} digits)")
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
            raise CorpusError(f"{where}: date {show_value(date_text)} is not a real date ({e})") from None
    m = date_match(date_text)
    if not m:
        raise CorpusError(f"{where}: date {show_value(date_text)} is not YYYY-MM-DD (or 'Mon D, YYYY')")
    try:
        return iso_date(m), date_text
    except ValueError as e:
        raise CorpusError(f"{where}: date {show_value(date_text)} is not a real date ({e})") from None


class Skipped(Exception):
    """A record left out for ``reason``; the file's other records are kept (reference-manager
    exports often hold a few entries without an abstract)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def skip_warnings(source: str, skipped: Sequence[Skipped]) -> list[str]:
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


def record_to_paper(rec: dict, source: str, line: int) -> Paper:
    """Validate one user record; any problem is a CorpusError naming file and line, except a
    missing or oversized abstract, which skips the record (:class:`Skipped`)."""
    where = f"{source}:{line}"
    lowered = {_clean(str(k)).lower(): v for k, v in rec.items() if k is not None}
    title = _text_field(lowered.get("title"), "title", where)
    if not title:
        raise CorpusError(f"{where}: record has no title")
    raw_abstract = lowered.get("abstract")
    if isinstance(raw_abstract, str) and len(raw_abstract) > 4 * MAX_ABSTRACT_CHARS:  # before cleaning it
        raise Skipped(line, f"abstract over {MAX_ABSTRACT_CHARS:,} characters")
    abstract = _text_field(raw_abstract, "abstract", where)
    if not abstract:
        raise Skipped(line, "no abstract")
    if len(abstract) > MAX_ABSTRACT_CHARS:
        raise Skipped(line, f"abstract over {MAX_ABSTRACT_CHARS:,} characters")
    if len(title) > MAX_TITLE_CHARS:
        # the title is embedded with every chunk; one this long would be truncated silently
        raise CorpusError(
            f"{where}: title is {len(title)} characters, at most {MAX_TITLE_CHARS} allowed "
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
        **abstract_fields(abstract),
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
