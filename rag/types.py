"""Plain data that crosses module boundaries: papers, filters, search hits, and the structure of an
answer (lines with citations by paper id), its stream events and its numbering.

Nothing here does I/O or imports a model, Chroma or numpy, so the pure steps (evidence, listing,
verification, rendering) depend on this module only. The CLI (``--json``), the UI, the eval
harness and the HTTP API all read these shapes; keep them stable.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

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
    # rag.ingest.dates.METHODS); None when written
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
    # with a date filter: kept papers whose year was inferred (rag.ingest.dates), and papers whose source
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


# ----------------------------------------------------------------------------------------------
# answers
# ----------------------------------------------------------------------------------------------

LineKind = Literal["quote", "item", "summary", "heading", "nearest"]


@dataclass
class Line:
    """One line of an answer, as data. Faces render it; nobody parses it back.

    * ``quote``: a verbatim sentence (``text``) of paper ``paper_id``, shown under ``label`` (its
      title), citing that paper;
    * ``item``: one entry of a list answer, the same shape as a quote;
    * ``summary``: one model-written sentence, citing the papers in ``cites`` that support it;
    * ``heading``: our own sentence framing the lines after it ("2 papers in the index say so:");
    * ``nearest``: a paper shown when nothing answers (no claim, so no citation).

    A quote may be the clause(s) of its sentence that answer (:mod:`rag.text.clauses`): ``text`` is
    then a verbatim span of ``context`` (the whole sentence), and ``cut_before`` / ``cut_after``
    say that words were dropped there, for the faces to mark ("…"). ``context`` is empty when the
    quote is the whole sentence.
    """

    kind: LineKind
    text: str
    paper_id: str | None = None
    label: str = ""
    cites: list[str] = field(default_factory=list)
    context: str = ""
    cut_before: bool = False
    cut_after: bool = False

    @property
    def sentence(self) -> str:
        """The whole sentence the quote comes from (its ``text`` when it was not cut)."""
        return self.context or self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# the canonical plain text of an answer: what `paperchat ask` prints, what `--json` carries as
# "answer", what a copied answer holds and what the HTTP API sends as the message content
def _markers(paper_ids: Sequence[str], numbers: Mapping[str, int]) -> str:
    """``[1][3]`` for the papers that have a number, in number order."""
    ns = sorted({numbers[p] for p in paper_ids if p in numbers})
    return "".join(f"[{n}]" for n in ns)


ELLIPSIS = "\u2026"


def quoted(line: Line) -> str:
    """A quote's text with "…" where words of its sentence were dropped (the plain-text faces'
    rendering of ``cut_before`` / ``cut_after``)."""
    return f"{ELLIPSIS if line.cut_before else ''}{line.text}{ELLIPSIS if line.cut_after else ''}"


def _plain(text: str) -> str:
    return text


def line_text(line: Line, numbers: Mapping[str, int], literal: Callable[[str], str] = _plain) -> str:
    """One line as text (a summary sentence without its paragraph). ``literal`` renders the words
    that came from a paper or a model (labels, quotes, the summary), so a face that speaks Markdown
    can make them inert (:func:`rag.text.sanitize.markdown_literal`) while the markers stay ours."""
    if line.kind in ("quote", "item"):
        mark = _markers(line.cites or ([line.paper_id] if line.paper_id else []), numbers)
        return f"- {literal(line.label)}: \u201c{literal(quoted(line))}\u201d" + (f" {mark}" if mark else "")
    if line.kind == "nearest":
        return f"- {literal(line.label or line.text)}"
    if line.kind == "summary":
        mark = _markers(line.cites, numbers)
        body = line.text.rstrip()
        end = body[-1] if body and body[-1] in ".!?" else ""
        body = literal(body[:-1] if end else body)
        return f"{body} {mark}{end or '.'}" if mark else f"{body}{end or '.'}"
    return literal(line.text)


def answer_text(lines: Sequence[Line], numbers: Mapping[str, int], literal: Callable[[str], str] = _plain) -> str:
    """All lines, one per text line (a summary of two sentences is two lines, each with its
    markers, so every claim stands next to its citation)."""
    return "\n".join(line_text(line, numbers, literal) for line in lines)


@dataclass
class Citation:
    """One numbered source of an answer. ``n`` is the paper's number in the whole conversation, so
    an old ``[1]`` still means the same paper after a follow-up. ``quote`` is a verbatim sentence of
    the cited abstract."""

    n: int
    paper_id: str
    title: str
    quote: str
    supported: bool
    support_score: float = 0.0
    reason: str = ""  # why it is (not) supported, or the list item's short reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Exclusion:
    """A paper a list answer considered and did not list: the sentence that decided, why it was
    left out, and how close it came (the judge's probability, or a rank-based score), so a user
    can audit the list and pin a paper back ("include the second one")."""

    paper_id: str
    title: str
    quote: str
    reason: str
    closeness: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Source:
    """A retrieved paper shown to the user, cited or not."""

    paper_id: str
    title: str
    score: float
    abstract: str
    date: str | None = None
    upvotes: int | None = None
    authors: int | None = None
    organization: str | None = None
    cited: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """A finished answer. ``text`` is the canonical plain rendering of ``lines``; every face may
    render ``lines`` its own way, none parses ``text``."""

    question: str
    lines: list[Line] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    backend: str = ""
    route: Literal["answer", "aggregate"] = "answer"
    standalone_question: str | None = None  # the follow-up as understood with the chat history
    pinned: list[str] = field(default_factory=list)  # paper ids a follow-up pointed at
    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # backend failures, filter notes, caps hit
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    excluded: list[Exclusion] = field(default_factory=list)  # list answers: near-misses, closest first

    @property
    def text(self) -> str:
        return answer_text(self.lines, self.numbers())

    # the name the first version used; eval and the JSON output keep it
    answer = text

    def numbers(self) -> dict[str, int]:
        """paper_id -> citation number, for rendering this answer's markers."""
        return {c.paper_id: c.n for c in self.citations}

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "lines": [ln.to_dict() for ln in self.lines],
            "citations": [c.to_dict() for c in self.citations],
            "refused": self.refused,
            "backend": self.backend,
            "route": self.route,
            "standalone_question": self.standalone_question,
            "pinned": list(self.pinned),
            "sources": [s.to_dict() for s in self.sources],
            "notes": self.notes,
            "timings": self.timings,
            "excluded": [e.to_dict() for e in self.excluded],
        }


@dataclass
class Event:
    """One step of a streamed answer, in order: ``sources`` first; then ``line`` events (a quote or
    list item, with its ``citation``) and ``token`` events (the model's summary as it is written);
    ``note`` for warnings (e.g. a backend failure); ``done`` last with the verified :class:`Answer`,
    which replaces what was streamed (verification may have removed a claim)."""

    type: Literal["sources", "line", "token", "note", "done"]
    text: str = ""
    sources: list[Source] | None = None
    line: Line | None = None
    citation: Citation | None = None
    answer: Answer | None = None


# ----------------------------------------------------------------------------------------------
# numbering across a conversation
# ----------------------------------------------------------------------------------------------


class Numbering:
    """Citation numbers for a conversation: a paper keeps the number it first got, a new paper gets
    the next one. Built from the earlier answers, so numbers survive follow-ups and history."""

    def __init__(self, history: Iterable[Answer] = ()) -> None:
        self._n: dict[str, int] = {}
        for a in history:
            for c in a.citations:
                self._n.setdefault(c.paper_id, c.n)

    def __call__(self, paper_id: str) -> int:
        if paper_id not in self._n:
            self._n[paper_id] = max(self._n.values(), default=0) + 1
        return self._n[paper_id]

    def known(self) -> dict[str, int]:
        return dict(self._n)

    def copy(self) -> Numbering:
        other = Numbering()
        other._n = dict(self._n)
        return other


def conversation_citations(history: Sequence[Answer]) -> list[Citation]:
    """Every citation of the conversation, one per number, the latest version of each."""
    by_n: dict[int, Citation] = {}
    for a in history:
        for c in a.citations:
            by_n[c.n] = c
    return [by_n[n] for n in sorted(by_n)]
