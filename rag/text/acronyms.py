"""Acronyms an abstract defines: "supervised fine-tuning (SFT)", then "SFT improves pass@1 by
15.92%". A question in the long form ("how much does supervised fine-tuning raise pass@1?") shares
no term with the sentence that answers it, and one using the short form ("what does WSRL
discard?") none with the sentence that defines it. Read from the abstract alone, so each paper's
own meaning of "SFT" or "AMP" counts, never a guess from elsewhere. Pure logic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.text.analysis import STOPWORDS, terms

# "(SFT)", "(FFNs)", "(ZS-CIR)", "(WSRL)": two to eight capitals, digits or hyphens, a plural "s"
_DEFINED = re.compile(r"\(([A-Z][A-Z0-9-]{1,7})s?\)")
_WORD = re.compile(r"[A-Za-z0-9]+")
_REACH = 10  # words before "(ACR)" its long form may start at


@dataclass(frozen=True)
class Acronym:
    short: str  # its term ("sft")
    long: frozenset[str]  # the terms of its long form ("supervis", "fine", "tune")


def _long_form(before: list[str], letters: str) -> list[str] | None:
    """The words before "(ACR)" whose initials spell ``letters`` from the right ("supervised fine
    tuning" for SFT), skipping small words ("learning rate OF the ..."): None when they do not."""
    out: list[str] = []
    i, k = len(before) - 1, len(letters) - 1
    while k >= 0 and i >= 0 and len(before) - i <= _REACH:
        w = before[i]
        if len(w) > 1 and w.isupper() and letters[max(0, k - len(w) + 1):k + 1] == w:  # "Warm-start RL (WSRL)"
            out.append(w)
            k -= len(w)
        elif w[0].lower() == letters[k].lower():
            out.append(w)
            k -= 1
        elif w.lower() in STOPWORDS and out:
            pass
        else:
            return None
        i -= 1
    return out[::-1] if k < 0 else None


def defined(text: str) -> list[Acronym]:
    """Every acronym ``text`` defines in the form "long form (ACR)"."""
    found: dict[str, Acronym] = {}
    for m in _DEFINED.finditer(text):
        letters = m.group(1).replace("-", "")
        if not letters.isalpha() or len(letters) < 2:
            continue
        before = _WORD.findall(text[max(0, m.start() - 160):m.start()])
        words = _long_form(before, letters)
        short = terms(m.group(1), joined=False)
        if words and len(short) == 1:
            long = frozenset(terms(" ".join(words), joined=False))
            if long and short[0] not in long:
                found.setdefault(short[0], Acronym(short[0], long))
    return list(found.values())


def expand(sentence_terms: set[str], acronyms: Iterable[Acronym]) -> set[str]:
    """``sentence_terms`` with each defined acronym's long form where it says the acronym, and the
    acronym where it says the whole long form."""
    out = set(sentence_terms)
    for a in acronyms:
        if a.short in sentence_terms:
            out |= a.long
        elif a.long <= sentence_terms:
            out.add(a.short)
    return out
