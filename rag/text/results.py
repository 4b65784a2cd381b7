"""Whether a sentence reports a result: what the paper (or an experiment) found, reached or
measured, as opposed to background ("Diffusion models have achieved remarkable success"), the
paper's plan ("In this work, we investigate the training dynamics of Transformers") or its method
("we propose a more sample-efficient pre-training task").

A question asking which paper *finds* something is answered by a sentence that reports a finding.
Where :func:`rag.text.claims.affirms` cannot read the finding's direction or comparison, this is the
least a quote must be: a background or a plan sentence that shares the question's words is not
evidence of a finding. Pure logic over one sentence; the cue lists live in the lexicon.
"""

from __future__ import annotations

from rag.text.analysis import words
from rag.text.claims import comparisons, evaluations
from rag.text.lexicon import (
    BACKGROUND_OPENING,
    GENERAL_PERFECT,
    MEASURED_CHANGE,
    OPEN_QUESTION,
    OPENING_MARKER,
    OWN_WORK,
    RESULT_VERB,
)


def is_background(sentence: str) -> bool:
    """A sentence about other work or the field: it opens like one ("Recent methods ...",
    "However, existing approaches ..."), says a question is still open ("... remains unclear"),
    or tells the field's history in the present perfect without the paper's own voice ("X has
    become the standard ...")."""
    s = sentence.strip()
    marker = OPENING_MARKER.match(s)
    rest = s[marker.end():].lstrip(" ,") if marker else s
    if BACKGROUND_OPENING.match(rest) or OPEN_QUESTION.search(s):
        return True
    return bool(GENERAL_PERFECT.search(s)) and not OWN_WORK.search(s)


def reports_result(sentence: str) -> bool:
    """Whether ``sentence`` reports a result: not background, and it has a reporting verb ("we
    find", "results show", "achieves"), an evaluative word ("improves", "hurts", "negligible"),
    a comparison ("faster than", "outperforms") or a measured change ("by 25%", "3x")."""
    if is_background(sentence):
        return False
    return bool(RESULT_VERB.search(sentence) or MEASURED_CHANGE.search(sentence)
                or evaluations(words(sentence)) or comparisons(sentence))
