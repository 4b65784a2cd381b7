"""What every fetched paper becomes: the JSONL record `rag.ingest.corpus` reads (title, abstract,
authors as a list of names, ISO date, url, upvotes), and the checks shared by both sources. Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from rag.errors import CorpusError, FetchError

# new-style (2401.01234, 5 digits since 2015) and old-style (hep-th/9901001, math.GT/0309136) ids
ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v\d{1,3})?")
_VERSION = re.compile(r"v\d{1,3}$")
_MAX_AUTHORS = 2000  # a list longer than any real paper's is cut, not stored whole
_SKIP_REASON = re.compile(r"skipped \((.*)\): line")
_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)


@dataclass
class Page:
    """The records of one response, warnings about what was left out, and (arXiv queries) how
    many results the API says the query has."""

    records: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    total: int | None = None


def text(value: object) -> str | None:
    """A string field with its whitespace collapsed (arXiv wraps titles and abstracts); None for
    anything that is not a non-empty string."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def author_names(values: object, key: str | None = None) -> list[str] | None:
    """Names from a list of strings or of objects holding ``key``."""
    if not isinstance(values, list):
        return None
    names = []
    for v in values[:_MAX_AUTHORS]:
        name = text(v.get(key) if key is not None and isinstance(v, dict) else v)
        if name:
            names.append(name)
    return names or None


def iso_day(value: object) -> str | None:
    """The YYYY-MM-DD of a timestamp such as ``2024-05-01T17:59:59.000Z``; None when it is not a real date."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None


def versionless(arxiv_id: str) -> str:
    return _VERSION.sub("", arxiv_id)


def looks_like_html(body: str) -> bool:
    return bool(_HTML_START.match(body[:2048]))


def check_record(record: dict, source: str) -> str | None:
    """Why ``rag.ingest.corpus`` would refuse or skip ``record`` (no abstract, a title too long, ...),
    or None when it would take it. Run on every record before it is written, so one odd paper
    in an API's reply is left out with a warning instead of failing the whole ingest."""
    from rag.ingest.records import parse_jsonl

    try:
        papers, warnings, _ = parse_jsonl(json.dumps(record, ensure_ascii=False), source)
    except CorpusError as e:
        return str(e).removeprefix(f"{source}:1: ")
    if not papers:
        m = _SKIP_REASON.search(warnings[0]) if warnings else None
        return m.group(1) if m else "not a paper"
    return None


def fail(what: str, problem: str) -> FetchError:
    """The one-line error for a reply that is not what the API documents."""
    return FetchError(f"{what}: {problem}")
