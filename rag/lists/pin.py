"""Pinning a near-miss back: "include the third one" after a list answer adds that paper to the
list, quoted with the sentence that was weighed, and says that the user added it and why the
judge had left it out. Nothing is judged again: the user's decision is the new fact, and the
earlier list keeps its numbers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from rag.answer.route import RouteContext
from rag.question.read import Question
from rag.types.answers import Answer, Citation, Event, Line, Numbering


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class PinRoute:
    """"Include the second one" after a list answer."""

    def run(self, q: Question, ctx: RouteContext) -> Iterator[Event]:
        assert ctx.history and q.pick is not None
        yield from pin_back(q.asked, ctx.history[-1], q.pick, ctx.numbering, ctx.t0)


def pin_back(question: str, prev: Answer, pick: int, numbering: Numbering, t0: float) -> Iterator[Event]:
    """Events of the list ``prev`` with its ``pick``-th near-miss (1-based) added by the user."""
    yield Event(type="sources", sources=list(prev.sources))
    if not 1 <= pick <= len(prev.excluded):
        heading = (f"The last list considered {len(prev.excluded)} paper{'s' if len(prev.excluded) != 1 else ''} "
                   f"it did not list; there is no {_ordinal(pick)} one to include.")
        yield Event(type="done", answer=Answer(
            question=question, lines=[Line(kind="heading", text=heading)], refused=True, backend=prev.backend,
            route="aggregate", sources=list(prev.sources), excluded=list(prev.excluded),
            timings={"total_s": time.perf_counter() - t0}))
        return
    e = prev.excluded[pick - 1]
    items = [ln for ln in prev.lines if ln.kind == "item"]
    c = Citation(n=numbering(e.paper_id), paper_id=e.paper_id, title=e.title, quote=e.quote, supported=True,
                 support_score=e.closeness, reason=f"added by you; the judge had left it out: {e.reason}")
    added = Line(kind="item", text=e.quote, paper_id=e.paper_id, label=e.title, cites=[e.paper_id])
    n = len(items) + 1
    heading = Line(kind="heading", text=f"{n} paper{'s' if n != 1 else ''} in the index, one added by you:")
    yield Event(type="line", line=added, citation=c)
    note = f"you added “{e.title}”; the judge had left it out ({e.reason})"
    yield Event(type="note", text=note)
    asked = prev.standalone_question or prev.question
    yield Event(type="done", answer=Answer(
        question=question, lines=[heading, *items, added], citations=[*prev.citations, c], backend=prev.backend,
        route="aggregate", standalone_question=asked, pinned=[e.paper_id],
        sources=[*prev.sources], notes=[note], excluded=[x for x in prev.excluded if x.paper_id != e.paper_id],
        timings={"total_s": time.perf_counter() - t0}))
