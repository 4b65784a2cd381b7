"""The property a list question asks papers to have ("which papers skip warmup?" asks for the
absence of warmup), and whether a question is a list question at all. Read from the question's
text and its terms, once (:class:`rag.question.read.Question` carries the result)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.text.analysis import stem
from rag.text.lexicon import ABSENCE_CUE_WORDS, AGGREGATE_QUESTION, NUMBER_QUESTION_PHRASES, QUESTION_NEGATION

# Words that turn "X" into "without X / less X" in the question or in an abstract (stemmed).
ABSENCE_CUES = {stem(w) for w in ABSENCE_CUE_WORDS}

Polarity = Literal["presence", "absence"]


def is_aggregate(question: str) -> bool:
    """True for questions whose answer is a set of papers rather than a fact."""
    return bool(AGGREGATE_QUESTION.match(question))


def wants_number(question: str) -> bool:
    """The question asks for a quantity ("how many", "what batch size")."""
    q = question.lower()
    return any(w in q for w in NUMBER_QUESTION_PHRASES)


@dataclass(frozen=True)
class Property:
    topic: tuple[str, ...]  # stemmed terms the paper must be about
    polarity: Polarity


def property_of(question: str, terms: Sequence[str]) -> Property:
    """The property asked, from the question's text and its :func:`~rag.text.analysis.query_terms`."""
    absence = any(t in ABSENCE_CUES for t in terms) or bool(QUESTION_NEGATION.search(question))
    topic = tuple(t for t in terms if t not in ABSENCE_CUES)
    # "skip warmup" is about the absence of warmup; "training-free detectors of AI-generated
    # text" is a property with many terms, where the cue word is part of the topic
    if absence and 0 < len(topic) <= 3:
        return Property(topic=topic, polarity="absence")
    return Property(topic=tuple(terms), polarity="presence")
