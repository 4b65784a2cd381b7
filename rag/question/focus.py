"""What a lookup asks for, apart from how it names the paper. "What masking ratio does the
self-supervised method that replaces SiamMAE's video frames with cropped views reach?" names its
paper in twelve words and asks in two: the sentence that answers says "masking ratio" and few of
the twelve, while the paper's opening sentence says most of them. Read from the question's form:
the phrase after the asking word, up to the auxiliary ("what masking ratio | does"), or after
"what is" up to where the paper's description opens ("the name of the PPO variant | proposed in")."""

from __future__ import annotations

from rag.text.analysis import query_terms, stem, words
from rag.text.lexicon import (
    ASKING_WORDS,
    AUXILIARIES,
    COPULAS,
    DESCRIPTION_OPENERS,
    NAME_CATEGORIES,
    NAME_OF,
    OTHERS_NAME_CATEGORIES,
)

_NAME_CATEGORIES = frozenset(stem(w) for w in NAME_CATEGORIES)
_OTHERS = frozenset(stem(w) for w in OTHERS_NAME_CATEGORIES)


def asked_for(question: str) -> tuple[str, ...]:
    """The content terms of what the question asks for; empty when its form does not say
    ("how does it work?", "by how much does X reduce Y?")."""
    ws = words(question)
    start = next((i for i, w in enumerate(ws) if w in ASKING_WORDS), None)
    if start is None:
        return ()
    end = next((i for i in range(start + 1, len(ws)) if ws[i] in AUXILIARIES), len(ws))
    # "that operator is associated with what?": nothing follows the asking word (end == len(ws))
    if end == start + 1 < len(ws) and ws[end] in COPULAS:  # "what is the name of the variant proposed in ...": after "is"
        stop = next((i for i in range(end + 1, len(ws)) if ws[i] in DESCRIPTION_OPENERS), len(ws))
        return tuple(query_terms(" ".join(ws[end + 1:stop])))
    return tuple(query_terms(" ".join(ws[start:end])))


def asks_names(question: str, asked: tuple[str, ...], number: bool) -> bool:
    """Whether a lookup asks for named things: what it asks for (:func:`asked_for`) is a kind of
    named thing ("which datasets", "on which languages", "what hardware"), or it asks for "the
    name(s) of" something; not when it asks for a number (``number``: "how many music understanding
    tasks ..." is answered by a count)."""
    return not number and (any(t in _NAME_CATEGORIES for t in asked) or bool(NAME_OF.search(question)))


def asks_others_names(question: str, asked: tuple[str, ...]) -> bool:
    """Whether what a lookup asks for is named by others ("which datasets / baselines / languages"),
    so the paper's own names do not answer it; never when it asks for "the name of" something."""
    return any(t in _OTHERS for t in asked) and not NAME_OF.search(question)
