"""The answer engine: reads a question once (:func:`~rag.question.read.read_question`) and hands
it to the route that answers it, streaming the answer as structure.

Our code owns the answer's structure and its citations (see each route); a model, when there is
one, phrases a summary behind the same verification. Citation numbers come from the conversation
(:class:`~rag.types.answers.Numbering`), so a paper keeps its ``[n]`` across follow-ups.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from rag.answer.normal import NormalRoute
from rag.answer.parts import EXTRACTIVE, NO_LIST, REFUSAL, filter_left_nothing
from rag.answer.route import Route, RouteContext
from rag.lists.judges import LIST_LEARNED, LIST_READER, LIST_RULES
from rag.lists.model import JudgeCache
from rag.lists.pin import PinRoute
from rag.lists.route import ListRoute
from rag.protocols import LLM, Retriever
from rag.question.read import Question, read_question
from rag.settings import Settings
from rag.text.analysis import Idf
from rag.types.answers import Answer, Event, Numbering
from rag.types.papers import Filters

__all__ = ["EXTRACTIVE", "LIST_LEARNED", "LIST_READER", "LIST_RULES", "NO_LIST", "REFUSAL", "AnswerEngine",
           "filter_left_nothing"]

ROUTES: dict[str, Route] = {"pin": PinRoute(), "list": ListRoute(), "answer": NormalRoute()}


class AnswerEngine:
    """Shared by every session: holds the retriever (and through it the corpus IDF of its index
    generation), the optional LLM and the judge cache. Cheap to build: a backend override per
    request costs nothing but the object."""

    def __init__(self, retriever: Retriever, llm: LLM | None = None, *, settings: Settings | None = None,
                 judge_cache: JudgeCache | None = None) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings or retriever.settings
        self.judge_cache = judge_cache if judge_cache is not None else JudgeCache(None)

    @property
    def idf(self) -> Idf:
        return self.retriever.idf

    def ask(self, question: str, history: Sequence[Answer] | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        from rag.answer.stream import fold

        return fold(self.stream(question, history, k, filters))

    def stream(self, question: str, history: Sequence[Answer] | None = None, k: int | None = None,
               filters: Filters | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        yield from self.run(self.route(question, history), history, k, filters, t0)

    def route(self, question: str, history: Sequence[Answer] | None = None) -> Question:
        """``question`` read after ``history``; its ``route`` names the route that answers it."""
        return read_question(question, history, lists=self.settings.answer.aggregate_route,
                             route_model=self.settings.answer.route_model)

    def run(self, question: Question, history: Sequence[Answer] | None = None, k: int | None = None,
            filters: Filters | None = None, t0: float | None = None) -> Iterator[Event]:
        """The events of the route ``question.route`` names."""
        ctx = RouteContext(retriever=self.retriever, llm=self.llm, settings=self.settings,
                           judge_cache=self.judge_cache, history=list(history or ()),
                           numbering=Numbering(history or ()), filters=filters, k=k,
                           t0=time.perf_counter() if t0 is None else t0)
        yield from ROUTES[question.route].run(question, ctx)
