"""Plain data that crosses the library's edge: answers, citations and stream events.

The CLI (`ask --json`), the UI and the eval harness all read these; keep them stable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass
class Citation:
    """One numbered source of an answer. ``quote`` is a verbatim sentence of the cited abstract."""

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
    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    backend: str = ""
    route: Literal["answer", "aggregate"] = "answer"
    standalone_question: str | None = None  # the follow-up rewritten with the chat history
    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # backend failures, filter notes, caps hit
    timings: dict[str, float] = field(default_factory=dict)  # seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "refused": self.refused,
            "backend": self.backend,
            "route": self.route,
            "standalone_question": self.standalone_question,
            "sources": [s.to_dict() for s in self.sources],
            "notes": self.notes,
            "timings": self.timings,
        }


@dataclass
class Event:
    """One step of a streamed answer, in order: ``sources`` first, then ``token``/``item`` events as
    the answer forms, ``note`` for warnings (e.g. a backend failure), and ``done`` last with the
    verified :class:`Answer` (whose text may differ from the concatenated tokens when verification
    removed a claim)."""

    type: Literal["sources", "token", "item", "note", "done"]
    text: str = ""
    sources: list[Source] | None = None
    citation: Citation | None = None
    answer: Answer | None = None
