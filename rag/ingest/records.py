"""JSONL and CSV paper files: one JSON object per line, or a header row and one paper per row.

Each record is a mapping of field names to values, checked by :mod:`rag.ingest.validate` (as
reference exports' entries are); here is what is particular to the two formats: JSON decoding with
our own limits and messages, CSV headers, and the line a record starts on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from rag.errors import CorpusError
from rag.ingest.fields import JsonFloat, check_count, show_value, universal_lines
from rag.ingest.validate import Skipped, record_to_paper, skip_warnings
from rag.text.sanitize import clean_text
from rag.types.papers import Paper

# JSON integers longer than this are refused while decoding, with a message of ours: it is
# Python's default int/str limit, which json.loads would otherwise hit with a plain ValueError.
_MAX_JSON_INT_DIGITS = 4300
# One JSONL line longer than this is skipped before it is decoded (a paper record with an
# abstract at the limit and a long author list is far shorter).
_MAX_RECORD_CHARS = 1_000_000

_clean = clean_text  # every CSV header field


def _json_int(text: str) -> int:
    """json's int hook: refuse absurd lengths before int() hits Python's digit limit."""
    digits = len(text.lstrip("-"))
    if digits > _MAX_JSON_INT_DIGITS:
        raise ValueError(f"{digits}-digit number is too long")
    return int(text)


def parse_jsonl(text: str, source: str) -> tuple[list[Paper], list[str], int]:
    """One JSON object per line (JSON Lines); blank lines are skipped. Returns (papers,
    warnings, records skipped): records without an abstract, or with one over the limit, are
    skipped and named in one warning per reason."""
    papers: list[Paper] = []
    skipped: list[Skipped] = []
    for lineno, line in enumerate(universal_lines(text), start=1):
        if len(line) > _MAX_RECORD_CHARS:
            skipped.append(Skipped(lineno, f"record over {_MAX_RECORD_CHARS:,} characters"))
            continue
        # whitespace json does not know (FF, U+0085, NBSP...) can only sit outside the value here
        body = line.lstrip()
        indent = len(line) - len(body)
        body = body.rstrip()
        if not body:
            continue
        where = f"{source}:{lineno}"
        try:
            rec = json.loads(body, parse_float=JsonFloat, parse_constant=JsonFloat, parse_int=_json_int)
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
            raise CorpusError(f"{where}: expected a JSON object with title and abstract, got {show_value(rec)}")
        try:
            papers.append(record_to_paper(rec, source, lineno))
        except Skipped as e:
            skipped.append(e)
        check_count(papers, source)
    return papers, skip_warnings(source, skipped), len(skipped)


def _header_list(fields: Sequence[str]) -> str:
    shown = [f[:40] for f in fields[:12]]
    return ", ".join(shown) + (f", … ({len(fields)} columns)" if len(fields) > 12 else "")


def parse_csv(text: str, source: str) -> tuple[list[Paper], list[str], int]:
    """A header row naming (at least) title and abstract, then one paper per row. Records are
    numbered by the line they start on; a quoted field may span lines. Returns (papers,
    warnings), as :func:`parse_jsonl`."""
    # A field can never be longer than the text holding it, and the text is bounded by
    # rag.ingest.corpus._MAX_FILE_BYTES, so raising the limit (process-wide, only ever upwards)
    # cannot let a field grow without bound; the default 128 KiB would reject a long abstract.
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))
    # newline="" hands \r, \r\n and \n to the csv module, which ends a row at any of them
    reader = csv.reader(io.StringIO(text, newline=""))
    papers: list[Paper] = []
    skipped: list[Skipped] = []
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
                papers.append(record_to_paper(dict(zip(header, row, strict=False)), source, line))
            except Skipped as e:
                skipped.append(e)
            check_count(papers, source)
    except csv.Error as e:
        raise CorpusError(f"{source}:{reader.line_num}: malformed CSV ({e})") from None
    if header is None:
        raise CorpusError(f"{source}:1: CSV header must have columns title and abstract (found: nothing)")
    return papers, skip_warnings(source, skipped), len(skipped)
