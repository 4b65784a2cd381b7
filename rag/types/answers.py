"""The structure of an answer, as data every face reads: lines with citations by paper id,
near-misses, sources, stream events and the numbering of a conversation. The CLI (``--json``),
the UI, the eval harness and the HTTP API all read these shapes; keep them stable. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

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
