"""A scripted stand-in for :class:`rag.paperchat.Paperchat`, for tests of the UI's own logic (error
paths, history passing, concurrency) where the real engine would be slow or cannot fail on cue.

It speaks the real contract: it yields real :class:`rag.types.answers.Event` objects carrying real
``Answer``/``Citation``/``Source`` values, raises the real :mod:`rag.errors`, and records every
call so tests assert on what the UI sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.ingest.corpus import CorpusLoad, load_corpus
from rag.ingest.report import IngestReport
from rag.types.answers import Answer, Citation, Event, Line, Source

ABSTRACT = (
    "We train vision transformers without any learning rate warmup. A reparameterization of every "
    "linear layer keeps attention entropy high. Training is stable across learning rates."
)
QUOTE = "We train vision transformers without any learning rate warmup."


def source(
    title: str = "No Warmup Needed", paper_id: str = "no-warmup", abstract: str = ABSTRACT, **kw
) -> Source:
    base = dict(score=0.9, date="2024-01-02", upvotes=12, authors=3, organization="Lab")
    base.update(kw)
    return Source(paper_id=paper_id, title=title, abstract=abstract, **base)


def citation(
    n: int = 1,
    paper_id: str = "no-warmup",
    title: str = "No Warmup Needed",
    quote: str = QUOTE,
    supported: bool = True,
) -> Citation:
    return Citation(
        n=n,
        paper_id=paper_id,
        title=title,
        quote=quote,
        supported=supported,
        support_score=0.9,
        reason="states it",
    )


def quote_line(paper_id: str = "no-warmup", title: str = "No Warmup Needed", text: str = QUOTE) -> Line:
    return Line(kind="quote", text=text, paper_id=paper_id, label=title, cites=[paper_id])


def answer(question: str = "Which papers skip warmup?", lines: list[Line] | None = None, **kw) -> Answer:
    src = kw.pop("sources", None) or [
        source(cited=True),
        source("Other Paper", "other", "Nothing relevant here.", score=0.2),
    ]
    cits = kw.pop("citations", None) or [citation()]
    return Answer(question=question, lines=lines if lines is not None else [quote_line()], citations=cits,
                  sources=src, **kw)


def events_for(ans: Answer, tokens: list[str] = (), notes: list[str] = ()) -> list[Event]:
    """sources, the answer's quote/item lines (each with its citation), the summary ``tokens``,
    notes, done: the engine's order."""
    by_id = {c.paper_id: c for c in ans.citations}
    lines = [ln for ln in ans.lines if ln.kind in ("quote", "item", "nearest")]
    return (
        [Event(type="sources", sources=ans.sources)]
        + [Event(type="line", line=ln, citation=by_id.get(ln.paper_id or "")) for ln in lines]
        + [Event(type="token", text=t) for t in tokens]
        + [Event(type="note", text=n) for n in notes]
        + [Event(type="done", answer=ans)]
    )


@dataclass
class FakePaperchat:
    """Enqueue what the next ``ask_stream`` does: a list of events, or an exception to raise
    (before the first event, or after ``fail_after`` events)."""

    script: list[Any] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    ingested: list[list[Path]] = field(default_factory=list)
    papers: int = 40
    ingest_error: Exception | None = None
    before_answer: Callable[[], None] | None = None  # e.g. a barrier, to test concurrency
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask_stream(
        self,
        question: str,
        history: list[Answer] | None = None,
        k: int | None = None,
        filters: Any = None,
        backend: Any = None,
    ) -> Iterator[Event]:
        with self.lock:
            self.calls.append(
                dict(question=question, history=list(history or []), k=k, filters=filters, backend=backend)
            )
            step = self.script.pop(0) if self.script else events_for(answer(question))
        if isinstance(step, Exception):
            raise step
        return self._run(step)

    def _run(self, step: list[Any]) -> Iterator[Event]:
        if self.before_answer is not None:
            self.before_answer()
        for ev in step:
            if isinstance(ev, Exception):
                raise ev
            yield ev

    def ingest(
        self, paths: list[Path], *, replace: bool = False, progress: Any = None, max_papers: int | None = None
    ) -> tuple[CorpusLoad, IngestReport]:
        self.ingested.append(list(paths))
        if self.ingest_error is not None:
            raise self.ingest_error
        corpus = load_corpus(paths)  # the real parser: a bad file raises the real CorpusError
        if max_papers is not None and len(corpus.papers) > max_papers:
            from rag.errors import UploadTooLargeError

            raise UploadTooLargeError(f"the upload holds {len(corpus.papers)} papers; at most {max_papers}")
        if progress is not None:
            progress(0, 2)
            progress(2, 2)
        new = len(corpus.papers)
        self.papers += new
        return corpus, IngestReport(
            papers_total=self.papers,
            papers_new=new,
            papers_changed=0,
            papers_unchanged=0,
            chunks_total=new,
            chunks_embedded=new,
            chunks_reused=0,
            generation=1,
            collection="fake",
            seconds=0.0,
        )

    def stats(self) -> dict:
        return {"papers": self.papers, "date_range": ["2021-01-01", "2024-12-31"]}

    def papers_by_id(self, paper_ids) -> dict:
        """No paper records here: an export of a scripted answer has the citations' titles only."""
        return {}

    def retriever(self) -> None:
        return None

    @property
    def llm(self) -> None:
        return None


def run(services, question: str, chat=None, history=None, **kw) -> list[tuple]:
    """Every output tuple the UI's ``respond`` handler yields for ``question``."""
    from ui.handlers import Panel, respond

    return list(respond(services, question, chat or [], history or [], Panel(**kw)))
