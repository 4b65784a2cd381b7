"""Plain data about papers that crosses module boundaries: a paper record, the filters a
question or a visitor sets, a chunk as stored, and search hits. No I/O, no models."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Literal

from rag.errors import ConfigError
from rag.text.titles import short_title

Mode = Literal["hybrid", "bm25", "dense"]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ----------------------------------------------------------------------------------------------
# papers and search
# ----------------------------------------------------------------------------------------------


_LATER_FIELDS = frozenset({"author_names", "date_inferred"})


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
    date: str | None = None  # ISO yyyy-mm-dd, when the source gives the year or its page tells it
    date_text: str | None = None  # the date as the source wrote it
    upvotes: int | None = None
    url: str | None = None
    # the abstract as the source wrote it, when LaTeX normalisation (rag.text.latex) changed it; None
    # otherwise. Provenance only: ``abstract`` is what is shown, embedded, quoted and verified.
    abstract_raw: str | None = None
    # the authors' names joined by "; ", when the source lists them (reference files, fetched
    # papers); page dumps give only the count. Used for citing (BibTeX, Markdown references).
    author_names: str | None = None
    # how the year of ``date`` was inferred when the source did not write it (a method tag of
    # rag.text.dates.METHODS); None when written
    date_inferred: str | None = None

    @property
    def content_hash(self) -> str:
        """Changes when anything that is embedded or shown changes; drives incremental ingest.
        ``abstract_raw`` is neither, and a store that does not keep it must not see a change.
        Fields added later count only when set, so an index built before them stays current."""
        payload = json.dumps(
            {k: v for k, v in asdict(self).items()
             if k not in ("source", "line", "abstract_raw") and not (k in _LATER_FIELDS and v is None)},
            sort_keys=True,
        )
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]

    @property
    def short_title(self) -> str:
        """The title's name ("DeepZero"), for labelling a quote; see :mod:`rag.text.titles`."""
        return short_title(self.title)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Filters:
    """Date range (inclusive, ISO yyyy-mm-dd) and minimum upvotes. Empty means no filter.

    How a store expresses these (Chroma's ``where``) is the store's business, not this type's."""

    date_from: str | None = None
    date_to: str | None = None
    min_upvotes: int | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            v = getattr(self, name)
            if v is not None:
                try:
                    if not _ISO_DATE.match(v):
                        raise ValueError(v)
                    date.fromisoformat(v)
                except ValueError:
                    raise ConfigError(f"{name.replace('_', '-')} must be a date like 2024-05-31, got {v!r}") from None
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ConfigError(f"date range is empty: {self.date_from} is after {self.date_to}")
        if self.min_upvotes is not None and self.min_upvotes < 0:
            raise ConfigError(f"min-upvotes must be >= 0, got {self.min_upvotes}")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.min_upvotes))

    def matches(self, paper: Paper) -> bool:
        if self.date_from or self.date_to:
            if paper.date is None:
                return False
            if self.date_from and paper.date < self.date_from:
                return False
            if self.date_to and paper.date > self.date_to:
                return False
        if self.min_upvotes is not None and (paper.upvotes is None or paper.upvotes < self.min_upvotes):
            return False
        return True

    def lacks_field(self, paper: Paper) -> bool:
        """True when the paper cannot be judged: it has no full date / no upvote count."""
        return bool(((self.date_from or self.date_to) and paper.date is None)
                    or (self.min_upvotes is not None and paper.upvotes is None))

    def describe(self) -> str:
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"date {self.date_from or '…'} to {self.date_to or '…'}")
        if self.min_upvotes is not None:
            parts.append(f"upvotes >= {self.min_upvotes}")
        return ", ".join(parts) or "none"


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


@dataclass
class Hit:
    """One retrieved paper with its fused score, rank, and each retriever's view of it."""

    paper: Paper
    score: float
    rank: int
    best_chunk: str
    bm25_score: float | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None
    dense_rank: int | None = None

    def to_dict(self) -> dict:
        return {
            "rank": self.rank, "paper_id": self.paper.paper_id, "title": self.paper.title,
            "score": round(self.score, 6), "bm25_score": _r(self.bm25_score), "bm25_rank": self.bm25_rank,
            "dense_score": _r(self.dense_score), "dense_rank": self.dense_rank,
            "date": self.paper.date or self.paper.date_text, "upvotes": self.paper.upvotes,
            "best_chunk": self.best_chunk,
        }


@dataclass
class SearchResult:
    query: str
    mode: Mode
    hits: list[Hit]
    filters: Filters = field(default_factory=Filters)
    papers_total: int = 0
    papers_matching_filters: int = 0
    papers_missing_field: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    # with a date filter: kept papers whose year was inferred (rag.text.dates), and papers whose source
    # gives month and day only (among the excluded; None when the index cannot tell)
    papers_inferred_year: int = 0
    papers_without_year: int | None = 0

    @property
    def filter_note(self) -> str | None:
        """What a filter did, in words, or None when no filter was set."""
        if not self.filters.active:
            return None
        f = self.filters
        dated = bool(f.date_from or f.date_to)
        note = f"filter ({f.describe()}) kept {self.papers_matching_filters} of {self.papers_total} papers"
        if dated and self.papers_inferred_year:
            note += f" ({self.papers_inferred_year} with an inferred year)"
        missing = self.papers_missing_field
        if missing:
            if dated and f.min_upvotes is not None:
                note += f"; {missing} have no full date or no upvote count in their source and were excluded"
            elif dated:
                yearless = self.papers_without_year
                what = "no date" if yearless == 0 else "no full date"
                detail = ""
                if yearless == 1:
                    detail = " (1 gives month and day only, and its page does not tell the year)"
                elif yearless:
                    detail = f" ({yearless} give month and day only, and their page does not tell the year)"
                note += f"; {missing} have {what} in their source{detail} and were excluded"
            else:
                note += f"; {missing} have no upvote count and were excluded"
        return note


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # content hash: the same text under the same embedder is never embedded twice
    paper_id: str
    index: int
    text: str  # the abstract passage
    embed_text: str  # what the embedder sees: title + passage
