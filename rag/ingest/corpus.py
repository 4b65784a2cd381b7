"""Parse paper files into a corpus: the entry points (:func:`load_corpus`, :func:`parse_file`),
which read a file and hand its text to the parser of its format: Daily Papers page dumps
(:mod:`rag.ingest.pages`), JSONL and CSV (:mod:`rag.ingest.records`), reference exports
(:mod:`rag.ingest.references`). Records of the last three are checked by :mod:`rag.ingest.validate`;
what every parser shares (limits, ids, the date line) is :mod:`rag.ingest.fields`.

Pure logic over text; the only I/O is reading the input files. Every record that is skipped is
reported as a warning with file and line, and a file that yields nothing usable is an error, so
nothing is ever dropped silently. Input is hostile: the only exception that leaves these modules is
:class:`CorpusError`, whose one-line message names the file (and the line, where there is one),
and every stored text field has been through :func:`rag.text.sanitize.clean_text`. Abstracts are then
freed of LaTeX markup (:func:`rag.text.latex.normalise_latex`, the source's text kept in
``Paper.abstract_raw``), so what is shown, searched and quoted reads as the authors meant it.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.fields import check_count
from rag.ingest.pages import parse_page_dump
from rag.ingest.records import parse_csv, parse_jsonl
from rag.ingest.references import LAYOUTS, REFERENCE_SUFFIXES, parse_references
from rag.ingest.validate import Skipped, record_to_paper, skip_warnings
from rag.types.papers import Paper

SUPPORTED_SUFFIXES = (".txt", ".jsonl", ".csv", *REFERENCE_SUFFIXES)
# Parsing holds the bytes, the text and its lines at once; beyond this, split the file.
_MAX_FILE_BYTES = 256 * 2**20


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
        papers, warnings, dropped = parse_references(text, source, suffix, record_to_paper, Skipped)
        check_count(papers, source)
        warnings += skip_warnings(source, dropped)
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
