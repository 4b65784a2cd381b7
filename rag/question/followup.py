"""Follow-up questions: rewrite "what about the second one?" / "does it use ImageNet?" into a
standalone question using the chat history, and pin the papers the user points at. The pinned
papers travel as ids next to the question, never inside its text.

Rule-based on purpose: deterministic, instant, and the bundled models cannot do it reliably.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text.lexicon import (
    ALL_REF,
    BARE_NUMBER,
    CONTINUATION,
    DANGLING_PREPOSITION,
    INCLUDE_BACK,
    NUMBER_REF,
    ORDINAL_REF,
    ORDINALS,
    PLURAL_REF,
    PRONOUN_REF,
)
from rag.types.answers import Answer

MAX_PINNED = 5


def _position(word: str, count: int) -> int:
    """The 1-based position an ordinal word names in a list of ``count`` ("last" is the end)."""
    return count if word.lower() == "last" else ORDINALS[word.lower()]


def excluded_pick(question: str, prev: Answer) -> int | None:
    """The 1-based position in ``prev.excluded`` the user asks to include back (possibly past
    the list's end, for the caller to say so), or None when the question is not such a request."""
    if not prev.excluded or not INCLUDE_BACK.match(question):
        return None
    if (m := ORDINAL_REF.search(question)) is not None:
        return _position(m["ord"], len(prev.excluded))
    if (m := BARE_NUMBER.search(question)) is not None:
        return int(m["n"] or m["o"])
    return None


@dataclass
class Standalone:
    question: str  # what is asked, without the references resolved into ``pinned``
    pinned: list[str] = field(default_factory=list)  # paper ids the follow-up refers to
    rewritten: bool = False


def _cited_in_order(answer: Answer) -> list[tuple[str, str]]:
    """(paper_id, title) of the previous answer's citations in [n] order, else its sources."""
    if answer.citations:
        return [(c.paper_id, c.title) for c in sorted(answer.citations, key=lambda c: c.n)]
    return [(s.paper_id, s.title) for s in answer.sources]


def rewrite(question: str, history: Sequence[Answer] | None) -> Standalone:
    """Resolve references to earlier answers. Questions without references pass unchanged."""
    if not history:
        return Standalone(question=question)
    prev = history[-1]
    papers = _cited_in_order(prev)
    pinned: list[tuple[str, str]] = []
    if papers:
        for m in ORDINAL_REF.finditer(question):
            idx = _position(m["ord"], len(papers))
            if 1 <= idx <= len(papers):
                pinned.append(papers[idx - 1])
        if not pinned:
            by_n = {c.n: (c.paper_id, c.title) for c in prev.citations}
            for m in NUMBER_REF.finditer(question):
                n = int(m["a"] or m["b"])
                if n in by_n:
                    pinned.append(by_n[n])
                elif not prev.citations and 1 <= n <= len(papers):
                    pinned.append(papers[n - 1])
        if not pinned and ALL_REF.search(question):
            pinned = papers[:MAX_PINNED]
        if not pinned and PRONOUN_REF.search(question):
            pinned = papers[:2] if PLURAL_REF.search(question) else papers[:1]
    base = prev.standalone_question or prev.question
    if pinned:
        topic = CONTINUATION.sub("", ORDINAL_REF.sub("", question)).strip(" ?.,")
        topic = DANGLING_PREPOSITION.sub("", topic).strip(" ?.,")  # "tell me more about [the first one]"
        if not topic or len(topic.split()) <= 1:
            topic = base.rstrip(" ?.")  # "what about the second one?" asks the last question again
        return Standalone(question=f"{topic}?", pinned=[p for p, _ in dict.fromkeys(pinned)], rewritten=True)
    if CONTINUATION.match(question):
        rest = CONTINUATION.sub("", question).strip(" ?.")
        return Standalone(question=f"{base.rstrip(' ?.')}: {rest}?", rewritten=True)
    return Standalone(question=question)
