"""What every paper-file parser shares (:mod:`rag.ingest.pages`, :mod:`rag.ingest.records`, and
through the latter :mod:`rag.ingest.references`): the limits a paper must keep, its id, the
``Mon D[, YYYY]`` date line, the abstract's two forms, line numbering, and how a bad value is shown
in a one-line message. One place, so every format refuses, numbers and names things alike.

Line numbers are what an editor shows: every format ends a line at ``\\n``, ``\\r\\n`` or a lone
``\\r`` (Python's universal newlines; CR-only files are old-Mac exports, and a raw CR can never
sit inside a JSON string, so JSONL loses nothing by it). Nothing else ends a JSONL record: a raw
U+2028 or U+0085 is valid inside a JSON string (``str.splitlines`` used to cut the record there).
Page dumps also split at U+2028/U+2029 (:mod:`rag.ingest.pages`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from rag.errors import CorpusError
from rag.text.latex import normalise_latex
from rag.types.papers import Paper

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
DATE_LINE = re.compile(
    r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$"
)
MAX_TITLE_CHARS = 400
# No paper has a billion authors or upvotes: longer digit strings are corruption, and bounding
# them before int() also keeps clear of Python's 4,300-digit int/str conversion limit.
MAX_COUNT_DIGITS = 9
# What one paper may cost: an abstract longer than this is not an abstract (arXiv allows 1,920
# characters; the longest seed has about 2,500), and embedding one of 19 MB took ~100 minutes
# and 3 GB. It also bounds a paper's chunks (:data:`rag.ingest.chunk.MAX_CHUNKS_PER_PAPER`).
MAX_ABSTRACT_CHARS = 20_000
# Papers one file may hold: parsing keeps them all in memory at once (bench/bench_limits.py).
MAX_RECORDS_PER_FILE = 200_000


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


def abstract_fields(raw: str) -> dict[str, str | None]:
    """``abstract`` (LaTeX normalised) and ``abstract_raw`` (the source's, only when different)."""
    shown = normalise_latex(raw) or raw
    return {"abstract": shown, "abstract_raw": raw if shown != raw else None}


class JsonFloat(float):
    """A JSON float that remembers how it was written, so ``1e400`` (which decodes to inf) and
    ``2.70`` are reported as the user typed them. Also receives NaN / Infinity / -Infinity."""

    text: str

    def __new__(cls, text: str) -> JsonFloat:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def show_value(value: object) -> str:
    """A value for a one-line message, in JSON spelling, at most about 40 characters. Containers
    are named, not printed: their repr can be huge or too deeply nested to build."""
    if isinstance(value, JsonFloat):
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


def date_match(text: str) -> re.Match[str] | None:
    return DATE_LINE.match(text.strip())


def iso_date(m: re.Match[str]) -> str | None:
    """The ISO date of a matched date line; None without a year. ValueError if impossible."""
    if not m["year"]:
        return None
    return date(int(m["year"]), MONTHS[m["mon"].lower()[:3]], int(m["day"])).isoformat()


def digits_plausible(digits: str) -> bool:
    return len(digits.lstrip("0")) <= MAX_COUNT_DIGITS


def universal_lines(text: str) -> list[str]:
    """Lines ending at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as editors number them (see the
    module docstring for why ``str.splitlines`` is not used)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    return lines


def check_count(papers: Sequence[Paper], source: str) -> None:
    if len(papers) > MAX_RECORDS_PER_FILE:
        raise CorpusError(f"{source}: more than {MAX_RECORDS_PER_FILE:,} papers in one file; split it into smaller files")
