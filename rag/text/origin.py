"""Whether a paper introduces a name or only uses it. "Which paper introduced Adam?" is not answered
by "1-bit Adam" or by a paper that trains with Adam, though both say "Adam" in sentences that
share the question's words: the paper that introduces a name gives it as its title's name
("FlashAttention-2: ...") or presents it as its own ("we develop ... a technique called LAMB").
Pure, over a title and sentences."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text.analysis import name_pattern, words
from rag.text.lexicon import CONTRIBUTION_VERBS, FIRST_PERSON, NOT_THE_THING_ITSELF
from rag.text.titles import short_title

_REACH = 12  # words from "we propose" to the name it gives: "a novel technique called Hindsight Experience Replay (HER)"
_PREVIOUS = re.compile(r"(\S+)\s+$")  # the word just before a name
_OPENING = "([{\"'\u201c,;:"  # a word that ends in one of these ends a phrase: the name starts a new one
_GLUED_AFTER = re.compile(r"^-[A-Za-z0-9]")  # "Adam-mini" is another name


def _squashed(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


def _part_of_longer_name(sentence: str, start: int, end: int) -> bool:
    """The name at ``start:end`` is part of a longer one: "1-bit Adam", "Distributed Lion", "Adam-mini"."""
    if _GLUED_AFTER.match(sentence[end:]) or sentence[start - 1:start] == "-":
        return True
    m = _PREVIOUS.search(sentence[:start])
    if not m or m.group(1)[-1] in _OPENING:
        return False  # "... (HER)", "... called LAMB"
    prev = m.group(1)
    first = not sentence[:m.start()].strip()
    return any(c.isdigit() for c in prev) or (prev[0].isupper() and not first)


def _presents(name: str, sentence: str) -> bool:
    """The sentence speaks for the paper and gives ``name`` as what it proposes or calls its own."""
    lowered = sentence.lower()
    if not any(w in FIRST_PERSON for w in words(sentence)) and "this paper" not in lowered \
            and "this work" not in lowered:
        return False
    pattern = name_pattern(name)
    for m in pattern.finditer(sentence):
        if _part_of_longer_name(sentence, m.start(), m.end()):
            continue
        before = words(sentence[:m.start()])[-_REACH:]
        for i in range(len(before) - 1, -1, -1):
            if before[i] in NOT_THE_THING_ITSELF:
                break
            if before[i] in CONTRIBUTION_VERBS:
                return True
    return False


def introduces(names: Sequence[str], title: str, sentences: Sequence[str]) -> bool:
    """Whether the paper introduces any of ``names``: its title's name is one of them, or a
    sentence that speaks for the paper proposes it or calls it so."""
    head = _squashed(short_title(title).rstrip("\u2026"))
    if any(_squashed(n) == head for n in names):
        return True
    return any(_presents(n, s) for n in names for s in sentences)
