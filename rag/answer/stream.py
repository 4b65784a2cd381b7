"""Folding an answer's event stream into what a face shows: one fold for the CLI, the web UI, the
eval harness and the HTTP API, so none of them assembles answers by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rag.errors import PaperchatError
from rag.types.answers import Answer, Citation, Event, Line, Source, answer_text, line_text


@dataclass
class Fold:
    """The state of one answer as its events arrive. Until ``answer`` is set (the ``done`` event),
    ``lines`` / ``citations`` are what has streamed so far and ``draft`` is the model's summary as
    written so far, not yet verified; after it, the verified answer is the only truth."""

    sources: list[Source] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    draft: str = ""
    answer: Answer | None = None

    def add(self, ev: Event) -> Event:
        if ev.type == "sources":
            self.sources = list(ev.sources or [])
        elif ev.type == "line" and ev.line is not None:
            self.lines.append(ev.line)
            if ev.citation is not None and all(c.paper_id != ev.citation.paper_id for c in self.citations):
                self.citations.append(ev.citation)
        elif ev.type == "token":
            self.draft += ev.text
        elif ev.type == "note":
            self.notes.append(ev.text)
        elif ev.type == "done":
            self.answer = ev.answer
        return ev

    @property
    def done(self) -> bool:
        return self.answer is not None


def fold(events: Iterable[Event]) -> Answer:
    """The verified answer at the end of ``events``."""
    f = Fold()
    for ev in events:
        f.add(ev)
        if f.done:
            break
    if f.answer is None:
        raise PaperchatError("the answer engine stopped without an answer")
    return f.answer


REVISED = "--- verified answer ---"


def _key(line: Line) -> tuple:
    return (line.kind, line.text, line.paper_id)


@dataclass
class TextStream:
    """An answer as plain-text lines while it streams, for faces that can only append (a terminal,
    an SSE stream): each quote or list line as it arrives, never the model's unverified draft; at
    the end what the verified answer adds (a list's count, the verified summary), or, when
    verification changed what was already sent, the whole verified answer after :data:`REVISED`.
    Nothing is sent twice and nothing unverified is sent. ``literal`` renders paper and model
    words (see :func:`rag.types.answers.line_text`): Markdown-inert for a client that renders Markdown.
    ``label`` relabels a line before it is rendered (the terminal shows short titles). After the
    ``done`` event, ``revised`` says whether the lines returned start with :data:`REVISED` and
    the whole answer again."""

    fold: Fold = field(default_factory=Fold)
    sent: list[tuple] = field(default_factory=list)
    literal: Callable[[str], str] = str
    label: Callable[[Line], Line] = lambda line: line  # noqa: E731 - a default transform
    revised: bool = False

    def add(self, ev: Event) -> list[str]:
        """The text lines to emit for ``ev`` (often none)."""
        self.fold.add(ev)
        if ev.type == "line" and ev.line is not None:
            numbers = {ev.citation.paper_id: ev.citation.n} if ev.citation is not None else {}
            self.sent.append(_key(ev.line))
            return [line_text(self.label(ev.line), numbers, self.literal)]
        if ev.type == "done" and ev.answer is not None:
            return self._tail(ev.answer)
        return []

    def _text(self, lines: list[Line], numbers) -> list[str]:
        return answer_text([self.label(ln) for ln in lines], numbers, self.literal).splitlines()

    def _tail(self, answer: Answer) -> list[str]:
        numbers = answer.numbers()
        whole = self._text(answer.lines, numbers)
        if not self.sent:
            return whole
        body = [_key(ln) for ln in answer.lines if ln.kind not in ("heading", "summary")]
        if body != [k for k in self.sent if k[0] != "heading"]:
            self.revised = True
            return [REVISED, *whole]
        out = []
        for ln in answer.lines:
            if ln.kind == "heading" and _key(ln) not in self.sent:
                # a list's count is known only once every item has streamed, so it closes the list
                out.append(self.literal(ln.text[:-1] + "." if ln.text.endswith(":") else ln.text))
            elif ln.kind == "summary":
                out.append(line_text(self.label(ln), numbers, self.literal))
        return out
