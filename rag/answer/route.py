"""What every route of the answer engine shares: the context it runs in, and its one interface.
A route reads a :class:`~rag.question.read.Question` (read once by the engine) and yields the
answer's events; the engine only picks the route (``rag.engine``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rag.answer.parts import EXTRACTIVE
from rag.protocols import LLM, Retriever
from rag.question.read import Question
from rag.settings import Settings
from rag.text.analysis import Idf
from rag.types.answers import Answer, Event, Numbering
from rag.types.papers import Filters


@dataclass
class RouteContext:
    """One request's view of the engine: its parts and the request's own settings."""

    retriever: Retriever
    llm: LLM | None
    settings: Settings
    judge_cache: Any  # rag.lists.model.JudgeCache: a capable backend's verdicts, shared by requests
    history: Sequence[Answer]
    numbering: Numbering  # the conversation's [n] for each paper
    filters: Filters | None
    k: int | None  # papers to retrieve for a normal question (None: the settings' top_k)
    t0: float  # when the request began (timings are measured from here)

    @property
    def idf(self) -> Idf:
        return self.retriever.idf

    @property
    def backend_name(self) -> str:
        return self.llm.name if self.llm is not None else EXTRACTIVE


class Route(Protocol):
    def run(self, question: Question, ctx: RouteContext) -> Iterator[Event]: ...
