"""Follow-up questions: rewrite "what about the second one?" / "does it use ImageNet?" into a
standalone question using the chat history, and pin the papers the user points at. The pinned
papers travel as ids next to the question, never inside its text.

Rule-based on purpose: deterministic, instant, and the bundled models cannot do it reliably.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.types import Answer

_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "fifth": 5, "5th": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_ORDINAL_REF = re.compile(
    r"\b(?:the\s+)?(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|seventh|eighth|ninth|tenth|last)"
    r"\s+(?:one|paper|result|item|source|work|study|method)s?\b", re.IGNORECASE)
_NUMBER_REF = re.compile(r"(?:\[(?P<a>\d+)\]|\b(?:paper|source|item|number|no\.?|#)\s*(?P<b>\d+)\b)", re.IGNORECASE)
_PRONOUN_REF = re.compile(
    r"\b(?:it|its|this paper|that paper|this work|that work|this method|that method|this one|that one|the paper|"
    r"they|their|them|these papers|those papers|both)\b", re.IGNORECASE)
_PLURAL_REF = re.compile(r"\b(?:they|their|them|these papers|those papers|both)\b", re.IGNORECASE)
# references to every paper of the previous answer: "which of these ...", "compare them", "all of them"
_ALL_REF = re.compile(r"\b(?:(?:which|what|how\s+many)\s+of\s+(?:these|those|them)|compare\s+(?:them|these|those)|"
                      r"all\s+of\s+them|each\s+of\s+them)\b", re.IGNORECASE)
MAX_PINNED = 5
_DANGLING = re.compile(r"\s+(?:about|on|of|for|regarding|in|from|with)$", re.IGNORECASE)
_CONTINUATION = re.compile(r"^\s*(?:and|what about|how about|and what about|what of)\b[\s,]*", re.IGNORECASE)


# "include the third one", "add number 2 back", "put the last one back in": a paper the previous
# list answer considered and left out, pinned back by the user
_INCLUDE = re.compile(r"^\s*(?:please\s+)?(?:(?:include|add|pin)\b|(?:put|bring)\b.*\bback\b)", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"(?:\b(?:number\s+|no\.?\s*)|#)(?P<n>\d{1,2})\b|\b(?P<o>\d{1,2})(?:st|nd|rd|th)\b",
                          re.IGNORECASE)


def excluded_pick(question: str, prev: Answer) -> int | None:
    """The 1-based position in ``prev.excluded`` the user asks to include back (possibly past
    the list's end, for the caller to say so), or None when the question is not such a request."""
    if not prev.excluded or not _INCLUDE.match(question):
        return None
    m = _ORDINAL_REF.search(question)
    if m:
        word = m["ord"].lower()
        idx = len(prev.excluded) if word == "last" else _ORDINALS[word]
    elif (m := _BARE_NUMBER.search(question)) is not None:
        idx = int(m["n"] or m["o"])
    else:
        return None
    return idx


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
        for m in _ORDINAL_REF.finditer(question):
            word = m["ord"].lower()
            idx = len(papers) if word == "last" else _ORDINALS[word]
            if 1 <= idx <= len(papers):
                pinned.append(papers[idx - 1])
        if not pinned:
            by_n = {c.n: (c.paper_id, c.title) for c in prev.citations}
            for m in _NUMBER_REF.finditer(question):
                n = int(m["a"] or m["b"])
                if n in by_n:
                    pinned.append(by_n[n])
                elif not prev.citations and 1 <= n <= len(papers):
                    pinned.append(papers[n - 1])
        if not pinned and _ALL_REF.search(question):
            pinned = papers[:MAX_PINNED]
        if not pinned and _PRONOUN_REF.search(question):
            pinned = papers[:2] if _PLURAL_REF.search(question) else papers[:1]
    base = prev.standalone_question or prev.question
    if pinned:
        topic = _CONTINUATION.sub("", _ORDINAL_REF.sub("", question)).strip(" ?.,")
        topic = _DANGLING.sub("", topic).strip(" ?.,")  # "tell me more about [the first one]"
        if not topic or len(topic.split()) <= 1:
            topic = base.rstrip(" ?.")  # "what about the second one?" asks the last question again
        return Standalone(question=f"{topic}?", pinned=[p for p, _ in dict.fromkeys(pinned)], rewritten=True)
    if _CONTINUATION.match(question):
        rest = _CONTINUATION.sub("", question).strip(" ?.")
        return Standalone(question=f"{base.rstrip(' ?.')}: {rest}?", rewritten=True)
    return Standalone(question=question)
