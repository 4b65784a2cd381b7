"""Reference-manager exports as paper records: BibTeX / BibLaTeX (``.bib``, parsed by
``bibtexparser`` 2), RIS (``.ris``, by ``rispy``) and CSL-JSON (``.json``, as Zotero exports it).
Each entry becomes the same record a JSONL line is (title, abstract, authors, date, url) and goes
through the same validation (``rag.ingest.validate``), so limits, skipped-entry warnings and errors
naming file and line are those of every other format. LaTeX in BibTeX fields is turned into text by
``rag.text.latex``. Pure logic over the file's text."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from rag.errors import CorpusError
from rag.text.latex import normalise_latex
from rag.types.papers import Paper

LAYOUTS = {".bib": "bibtex", ".ris": "ris", ".json": "csl-json"}  # suffix -> the layout ingest reports
REFERENCE_SUFFIXES = tuple(LAYOUTS)
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if v is not None)
    return " ".join(str(value).split()) or None


def _from_latex(value: str | None) -> str | None:
    """BibTeX field text as plain text: LaTeX commands and accents resolved, protective braces gone."""
    return None if value is None else " ".join(re.sub(r"(?<!\\)[{}]", "", normalise_latex(value)).split()) or None


def _date(year: object, month: object = None, day: object = None) -> tuple[str | None, str | None]:
    """(full date for the record, year as written when that is all there is)."""
    y = _text(year)
    if y is None or not _YEAR.match(y):
        return None, y
    try:
        m, d = int(str(month)), int(str(day))
    except (TypeError, ValueError):
        return None, y.strip()
    return f"{int(y):04d}-{m:02d}-{d:02d}", None


def _paper(rec: dict, source: str, line: int, year_only: str | None,
           to_paper: Callable[[dict, str, int], Paper]) -> Paper:
    paper = to_paper(rec, source, line)
    return replace(paper, date_text=year_only) if year_only and not paper.date else paper


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}


def bibtex_records(text: str, source: str) -> tuple[list[tuple[int, dict, str | None]], list[str]]:
    """(line, record, year when only a year is given) per entry, and a warning per block the
    parser could not read."""
    import bibtexparser

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # failures come back as warnings
    try:
        lib = bibtexparser.parse_string(text)
    except RecursionError:
        raise CorpusError(f"{source}: not readable as BibTeX (nested too deeply)") from None
    out = []
    for e in lib.entries:
        f = {k.lower(): v.value for k, v in e.fields_dict.items()}
        date_field = _text(f.get("date"))
        month = f.get("month")
        month = _MONTHS.get(str(month).strip().lower()[:3], month) if month is not None else None
        iso, year_only = _date(f.get("year"), month, f.get("day"))
        if date_field and re.match(r"^\d{4}-\d{2}-\d{2}", date_field):
            iso, year_only = date_field[:10], None
        elif date_field and _YEAR.match(date_field) and not iso:
            year_only = date_field
        authors = [a for a in re.split(r"\s+and\s+", _from_latex(_text(f.get("author"))) or "") if a.strip()]
        url = _text(f.get("url")) or (f"https://doi.org/{_text(f['doi'])}" if f.get("doi") else None) or (
            f"https://arxiv.org/abs/{_text(f['eprint'])}" if f.get("eprint") else None)
        rec = {"title": _from_latex(_text(f.get("title"))), "abstract": _from_latex(_text(f.get("abstract"))),
               "authors": authors or None, "date": iso, "url": url}
        out.append((e.start_line + 1, rec, year_only))
    warnings = [f"{source}:{b.start_line + 1}: a BibTeX block could not be read and was skipped"
                for b in lib.failed_blocks]
    return out, warnings


def _ris_lines(text: str) -> Iterator[int]:
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("TY  -"):
            yield n


def ris_records(text: str, source: str) -> tuple[list[tuple[int, dict, str | None]], list[str]]:
    import rispy

    try:
        entries = rispy.loads(text)
    except Exception as e:  # rispy raises plain IOError/ValueError subclasses on a malformed file
        raise CorpusError(f"{source}: not readable as RIS ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})") from None
    out = []
    for line, e in zip(_ris_lines(text), entries, strict=False):
        parts = re.split(r"[/-]", _text(e.get("date")) or _text(e.get("publication_year")) or _text(e.get("year")) or "")
        iso, year_only = _date(parts[0] if parts else None, *(parts[1:3] if len(parts) >= 3 else (None, None)))
        urls = e.get("urls") or []
        doi = _text(e.get("doi"))
        rec = {"title": _text(e.get("title") or e.get("primary_title")),
               "abstract": _text(e.get("abstract") or e.get("notes_abstract")),
               "authors": (e.get("authors") or e.get("first_authors") or None), "date": iso,
               "url": _text(urls[0]) if urls else (f"https://doi.org/{doi}" if doi else None)}
        out.append((line, rec, year_only))
    return out, []


def _json_items(text: str, source: str) -> Iterator[tuple[int, object]]:
    """The items of a top-level JSON array, each with the line it starts on."""
    dec = json.JSONDecoder()
    pos, line = 0, 1
    n = len(text)

    def skip(p: int) -> int:
        while p < n and text[p] in " \t\r\n,":
            p += 1
        return p

    pos = skip(pos)
    if pos >= n or text[pos] != "[":
        raise CorpusError(f"{source}: expected CSL-JSON (a JSON array of items, as Zotero exports it)")
    pos += 1
    counted = 0
    while True:
        pos = skip(pos)
        if pos >= n:
            raise CorpusError(f"{source}: invalid JSON (the array is not closed)")
        if text[pos] == "]":
            return
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            item, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{source}:{e.lineno}: invalid JSON ({e.msg})") from None
        except RecursionError:
            raise CorpusError(f"{source}:{line}: invalid JSON (nested too deeply)") from None
        yield line, item


def csl_records(text: str, source: str) -> tuple[list[tuple[int, dict, str | None]], list[str]]:
    out = []
    for line, item in _json_items(text, source):
        if not isinstance(item, dict):
            raise CorpusError(f"{source}:{line}: expected a CSL-JSON item (an object with title and abstract)")
        names = []
        for a in item.get("author") or []:
            if isinstance(a, dict):
                names.append(_text(a.get("literal")) or ", ".join(x for x in (_text(a.get("family")),
                                                                              _text(a.get("given"))) if x))
        parts = ((item.get("issued") or {}).get("date-parts") or [[]]) if isinstance(item.get("issued"), dict) else [[]]
        first = parts[0] if parts and isinstance(parts[0], list) else []
        iso, year_only = _date(*(first + [None, None, None])[:3]) if first else (None, None)
        doi = _text(item.get("DOI"))
        rec = {"title": item.get("title"), "abstract": item.get("abstract"), "authors": [n for n in names if n] or None,
               "date": iso, "url": _text(item.get("URL")) or (f"https://doi.org/{doi}" if doi else None)}
        out.append((line, rec, year_only))
    return out, []


READERS = {".bib": bibtex_records, ".ris": ris_records, ".json": csl_records}


def parse_references(text: str, source: str, suffix: str, to_paper: Callable[[dict, str, int], Paper],
                     skipped_type: type[Exception]) -> tuple[list[Paper], list[str], list]:
    """Papers of a reference-manager file, its warnings, and the entries skipped (``skipped_type``
    raised by ``to_paper``: no abstract, or one over the limit)."""
    records, warnings = READERS[suffix](text, source)
    papers, skipped = [], []
    for line, rec, year_only in records:
        try:
            papers.append(_paper(rec, source, line, year_only, to_paper))
        except skipped_type as e:
            skipped.append(e)
    return papers, warnings, skipped
