"""Short titles, for labelling a quote in an answer so the answer leads with what the paper says:
"DeepZero: Scaling up Zeroth-Order Optimization for Deep Model Training" -> "DeepZero".

Pure, over a title as data; faces use it where a title labels a quote and keep the full title in
the sources panel and tooltips. The canonical plain text of an answer (``rag.types.answers.line_text``)
keeps the full title, because the verifier reads it and copied answers cite by it.
"""

from __future__ import annotations

import re

from rag.text.lexicon import TITLE_WEAK_ENDINGS

MAX_WORDS = 8  # a title this short is its own short title
CUT_WORDS = 6  # otherwise its first words, up to this many
# the name before "Name: what it does", or a question that leads the title
_HEAD = re.compile(r"^(.+?)(?::(?:\s|(?=[A-Z]))|\s[-\u2013\u2014]\s)|^(.+?\?)\s+\S")


def _first_words(text: str) -> str:
    words = text.split()
    if len(words) <= MAX_WORDS:
        return " ".join(words)
    cut = words[:CUT_WORDS]
    while len(cut) > 1 and cut[-1].lower().strip(",;") in TITLE_WEAK_ENDINGS:
        cut.pop()
    return " ".join(cut).rstrip(",;:.-") + "\u2026"


def short_title(title: str) -> str:
    """The name a title gives before a colon or a spaced dash ("DeepZero"), the question it leads
    with, or else its first few words ending in "…". Never empty for a non-empty title."""
    text = " ".join(title.split()).lstrip(":;,.-\u2013\u2014 ")
    m = _HEAD.match(text)
    if m:
        head = (m[1] or m[2]).strip()
        if any(c.isalnum() for c in head):
            return _first_words(head)
    return _first_words(text) or text
