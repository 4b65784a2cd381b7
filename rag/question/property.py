"""The property a list question asks papers to have ("which papers skip warmup?" asks for the
absence of warmup), and whether a question is a list question at all. Read from the question's
text and its terms, once (:class:`rag.question.read.Question` carries the result)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.text.analysis import stem, terms, words
from rag.text.lexicon import (
    ABSENCE_CUE_WORDS,
    AGGREGATE_QUESTION,
    FRAME_NOUNS,
    GENERIC_ACTIONS,
    GRAMMATICAL_NEGATORS,
    MEASURE_QUESTION,
    NUMBER_QUESTION_PHRASES,
    QUESTION_NEGATION,
)

# Words that turn "X" into "without X / less X" in the question or in an abstract (stemmed).
ABSENCE_CUES = {stem(w) for w in ABSENCE_CUE_WORDS}
_FRAME = {stem(w) for w in FRAME_NOUNS}
_GENERIC = {stem(w) for w in GENERIC_ACTIONS}
_NEGATORS = {stem(w) for w in GRAMMATICAL_NEGATORS}
# how far a grammatical negator ("without", "no", "not") reaches
NEGATED_REACH = 3  # "without any learning rate warmup", "do not use a warmup phase"

Polarity = Literal["presence", "absence"]


def is_aggregate(question: str) -> bool:
    """True for questions whose answer is a set of papers rather than a fact."""
    return bool(AGGREGATE_QUESTION.match(question))


def wants_number(question: str) -> bool:
    """The question asks for a quantity ("how many", "what batch size", "what top-1 accuracy", "by
    what margin")."""
    q = question.lower()
    return any(w in q for w in NUMBER_QUESTION_PHRASES) or bool(MEASURE_QUESTION.search(question))


@dataclass(frozen=True)
class Property:
    topic: tuple[str, ...]  # stemmed terms the paper must be about
    polarity: Polarity


def negated_terms(question: str) -> list[str]:
    """The terms within reach after a grammatical negator, in order: "train without any
    learning-rate warmup" -> learn, rate, warmup ("without retraining or distillation": the
    negation covers the whole phrase)."""
    ws = words(question)
    out: list[str] = []
    for i, w in enumerate(ws):
        if w in GRAMMATICAL_NEGATORS:
            # joined too: "warm up" -> warmup
            out.extend(t for t in terms(" ".join(ws[i + 1:i + 1 + NEGATED_REACH])) if t not in out)
    return out


def property_of(question: str, terms: Sequence[str]) -> Property:
    """The property asked, from the question's text and its :func:`~rag.text.analysis.query_terms`."""
    absence = any(t in ABSENCE_CUES for t in terms) or bool(QUESTION_NEGATION.search(question))
    topic = tuple(t for t in terms if t not in ABSENCE_CUES)
    if absence:
        # "get rid of the warm-up stage": no paper need say "stage" (nor "not": "papers not using warmup")
        core = tuple(t for t in topic if t not in _FRAME and t not in _NEGATORS) or topic
        negated = [t for t in negated_terms(question) if t in core]
        if negated and all(t in _GENERIC or t in negated for t in core):
            # "train without learning-rate warmup": every paper trains, and a paper "without
            # warmup" has it; the head of the negated phrase is what must be absent
            core = (negated[-1],)
        # "skip warmup" is about the absence of warmup; "training-free detectors of AI-generated
        # text" is a property with many terms, where the cue word is part of the topic
        if 0 < len(core) <= 3:
            return Property(topic=core, polarity="absence")
    return Property(topic=tuple(terms), polarity="presence")
