"""Parse paper lists into :class:`Paper` records: Daily Papers page dumps (two layouts), JSONL, CSV.

Pure logic over text; the only I/O is reading the input files. Every record that is skipped is
reported as a warning with file and line, and a file that yields nothing usable is an error, so
nothing is ever dropped silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

from rag.errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".jsonl", ".csv")

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
_AUTHORS_LINE = re.compile(r"^[•·*-]?\s*(?P<n>\d+)\s+authors?$")
_META_SEPARATOR = "·"
_MAX_TITLE_CHARS = 400
_MIN_ABSTRACT_CHARS = 80


@dataclass(frozen=True)
class Paper:
    """One paper. ``paper_id`` is derived from the normalised title, so it is stable across files."""

    paper_id: str
    title: str
    abstract: str
    source: str
    line: int
    authors: int | None = None
    organization: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd, only when the source gives the year
    date_text: str | None = None  # the date as the source wrote it
    upvotes: int | None = None
    url: str | None = None

    @property
    def content_hash(self) -> str:
        """Changes when anything that is embedded or shown changes; drives incremental ingest."""
        payload = json.dumps(
            {k: v for k, v in asdict(self).items() if k not in ("source", "line")}, sort_keys=True
        )
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)


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


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def parse_date(text: str) -> tuple[str | None, int | None]:
    """``"Sep 21, 2023 2"`` -> ("2023-09-21", 2); ``"May 12 3"`` -> (None, 3): no year, no ISO date."""
    m = _DATE_LINE.match(text.strip())
    if not m:
        raise ValueError(f"not a date line: {text!r}")
    upvotes = int(m["upvotes"]) if m["upvotes"] else None
    if not m["year"]:
        return None, upvotes
    try:
        d = date(int(m["year"]), _MONTHS[m["mon"].lower()[:3]], int(m["day"]))
    except ValueError as e:
        raise ValueError(f"impossible date {text!r}: {e}") from None
    return d.isoformat(), upvotes


def _date_text(text: str) -> str:
    m = _DATE_LINE.match(text.strip())
    assert m is not None
    return text.strip()[: m.end("year") if m["year"] else m.end("day")]


def _looks_like_abstract(text: str) -> bool:
    return len(text) >= _MIN_ABSTRACT_CHARS


# ----------------------------------------------------------------------------------------------
# Daily Papers dumps
# ----------------------------------------------------------------------------------------------


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with 1-based numbers, page chrome above the first paper removed."""
    lines = [(i, _clean(s)) for i, s in enumerate(text.splitlines(), start=1)]
    lines = [(i, s) for i, s in lines if s]
    out: list[tuple[int, str]] = []
    in_header = True
    for i, s in lines:
        if in_header:
            low = s.lower()
            if low in _BOILERPLATE or _DATE_LINE.match(s):
                continue
            if low.startswith("subscribe") and len(s) > len("subscribe"):
                s = s[len("subscribe"):].strip()  # layout B glues the first title to the button
            in_header = False
        out.append((i, s))
    return out


def parse_page_dump(text: str, source: str) -> tuple[list[Paper], list[str], str]:
    """Parse one Daily Papers page dump. Returns (papers, warnings, layout name).

    Layout "blocks" has blank lines between title, abstract and an optional metadata group
    (``• N authors`` or an organisation, a ``·`` line, then ``Mon D[, YYYY] [upvotes]``);
    layout "lines" alternates title and abstract lines. Both reduce to the same sequence of
    non-empty lines, so one state machine reads both.
    """
    raw_lines = text.splitlines()
    blank = sum(1 for s in raw_lines if not s.strip())
    layout = "blocks" if blank >= max(3, len(raw_lines) // 4) else "lines"
    lines = _content_lines(text)
    papers: list[Paper] = []
    warnings: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        lineno, title = lines[i]
        if title == _META_SEPARATOR or _AUTHORS_LINE.match(title) or _DATE_LINE.match(title):
            warnings.append(f"{source}:{lineno}: metadata line {title!r} with no paper before it; skipped")
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
        i += 2
        authors = organization = iso = date_text = None
        upvotes = None
        # optional metadata group: [authors | organisation] "·" date
        if i < n and (_AUTHORS_LINE.match(lines[i][1]) or (i + 1 < n and lines[i + 1][1] == _META_SEPARATOR)):
            m = _AUTHORS_LINE.match(lines[i][1])
            if m:
                authors = int(m["n"])
            else:
                organization = lines[i][1]
            i += 1
        if i < n and lines[i][1] == _META_SEPARATOR:
            i += 1
            if i < n and _DATE_LINE.match(lines[i][1]):
                try:
                    iso, upvotes = parse_date(lines[i][1])
                    date_text = _date_text(lines[i][1])
                except ValueError as e:
                    warnings.append(f"{source}:{lines[i][0]}: {e}; date left empty")
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
                abstract=abstract,
                source=source,
                line=lineno,
                authors=authors,
                organization=organization,
                date=iso,
                date_text=date_text,
                upvotes=upvotes,
            )
        )
    return papers, warnings, layout


# ----------------------------------------------------------------------------------------------
# JSONL and CSV
# ----------------------------------------------------------------------------------------------

_OPTIONAL_FIELDS = ("authors", "organization", "date", "upvotes", "url")


def _record_to_paper(rec: dict, source: str, line: int) -> Paper:
    """Validate one user record; any problem is a CorpusError naming file and line."""
    where = f"{source}:{line}"
    lowered = {str(k).strip().lower(): v for k, v in rec.items()}
    title = _clean(str(lowered.get("title") or ""))
    abstract = _clean(str(lowered.get("abstract") or ""))
    if not title:
        raise CorpusError(f"{where}: record has no title")
    if not abstract:
        raise CorpusError(f"{where}: record {title[:60]!r} has no abstract")
    try:
        pid = paper_id_for(title)
    except ValueError:
        raise CorpusError(f"{where}: title {title!r} has no letters or digits") from None
    authors = lowered.get("authors")
    if isinstance(authors, list):
        authors = len(authors)
    elif authors in (None, ""):
        authors = None
    else:
        try:
            authors = int(authors)
        except (TypeError, ValueError):
            # a free-text author list ("A, B and C"): count the names
            authors = len([a for a in re.split(r",|\band\b|;", str(authors)) if a.strip()])
    upvotes = lowered.get("upvotes")
    if upvotes in (None, ""):
        upvotes = None
    else:
        try:
            upvotes = int(upvotes)
        except (TypeError, ValueError):
            raise CorpusError(f"{where}: upvotes must be a whole number, got {upvotes!r}") from None
        if upvotes < 0:
            raise CorpusError(f"{where}: upvotes must not be negative, got {upvotes}")
    raw_date = lowered.get("date")
    iso = date_text = None
    if raw_date not in (None, ""):
        date_text = str(raw_date).strip()
        try:
            iso = date.fromisoformat(date_text[:10]).isoformat()
        except ValueError:
            try:
                iso, _ = parse_date(date_text)
            except ValueError:
                raise CorpusError(
                    f"{where}: date {date_text!r} is not YYYY-MM-DD (or 'Mon D, YYYY')"
                ) from None
    org = lowered.get("organization") or lowered.get("org")
    url = lowered.get("url")
    return Paper(
        paper_id=pid,
        title=title,
        abstract=abstract,
        source=source,
        line=line,
        authors=authors,
        organization=_clean(str(org)) if org else None,
        date=iso,
        date_text=date_text,
        upvotes=upvotes,
        url=str(url) if url else None,
    )


def parse_jsonl(text: str, source: str) -> list[Paper]:
    papers = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{source}:{lineno}: invalid JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise CorpusError(f"{source}:{lineno}: expected a JSON object with title and abstract")
        papers.append(_record_to_paper(rec, source, lineno))
    return papers


def parse_csv(text: str, source: str) -> list[Paper]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    missing = [f for f in ("title", "abstract") if f not in fields]
    if missing:
        raise CorpusError(
            f"{source}:1: CSV header must have columns title and abstract; missing {', '.join(missing)} "
            f"(found: {', '.join(fields) or 'nothing'})"
        )
    papers = []
    try:
        for row in reader:
            if None in row:
                raise CorpusError(f"{source}:{reader.line_num}: row has more fields than the header")
            if not any((v or "").strip() for v in row.values()):
                continue
            papers.append(_record_to_paper(row, source, reader.line_num))
    except csv.Error as e:
        raise CorpusError(f"{source}:{reader.line_num}: malformed CSV ({e})") from None
    return papers


# ----------------------------------------------------------------------------------------------
# Files and whole corpora
# ----------------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """Read a UTF-8 text file; empty, binary or undecodable files are errors naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a directory") from None
    except OSError as e:
        raise CorpusError(f"{path}: cannot read ({e.strerror})") from None
    if not data.strip():
        raise CorpusError(f"{path}: file is empty")
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{path}: looks like a binary file, expected text (page dump, JSONL or CSV)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not valid UTF-8 text") from None
    return text


def parse_file(path: Path, source: str | None = None) -> tuple[list[Paper], FileStats, list[str]]:
    """Parse one file by its suffix. Raises CorpusError when it yields no paper."""
    source = source or path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(
            f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}"
        )
    text = read_text(path)
    warnings: list[str] = []
    if suffix == ".jsonl":
        papers, layout = parse_jsonl(text, source), "jsonl"
    elif suffix == ".csv":
        papers, layout = parse_csv(text, source), "csv"
    else:
        papers, warnings, layout = parse_page_dump(text, source)
    if not papers:
        detail = f" ({len(warnings)} records skipped: {warnings[0]})" if warnings else ""
        raise CorpusError(f"{path}: no papers found{detail}")
    stats = FileStats(path=str(path), layout=layout, records=len(papers), skipped=len(warnings))
    return papers, stats, warnings


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories become their supported files, sorted for a stable order."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                raise CorpusError(f"{p}: directory has no {', '.join(SUPPORTED_SUFFIXES)} files")
            out.extend(found)
        else:
            out.append(p)
    return out


def merge_duplicates(records: Sequence[Paper]) -> tuple[list[Paper], int]:
    """One paper per id. The longest abstract wins (page dumps truncate some); missing fields
    are filled from the other copies. Order: first appearance."""
    by_id: dict[str, Paper] = {}
    for rec in records:
        have = by_id.get(rec.paper_id)
        if have is None:
            by_id[rec.paper_id] = rec
            continue
        best, other = (rec, have) if len(rec.abstract) > len(have.abstract) else (have, rec)
        filled = {
            k: getattr(other, k)
            for k in ("authors", "organization", "date", "date_text", "upvotes", "url")
            if getattr(best, k) is None and getattr(other, k) is not None
        }
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
    root = Path(__file__).resolve().parent.parent / "data" / "seeds"
    if not root.is_dir():
        raise CorpusError(f"bundled seeds not found at {root}; pass files to ingest")
    return sorted(root.glob("*.txt"))
