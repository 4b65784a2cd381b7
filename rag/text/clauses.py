"""Clause-level quotes: the part of an evidence sentence that answers the question.

Abstract sentences are long, and often only one clause of one bears on the question ("In this
paper, we propose X, which ..., achieving ..."). :func:`answering_span` picks the clause(s) that
carry the question's terms and drops padding clauses at either end. The result is always one
verbatim, contiguous span of the sentence, so the verifier reads it exactly as it reads a whole
sentence, and the answer says where it cut (``cut_before`` / ``cut_after``) for the faces to mark.

A sentence is kept whole when it is short, when it matches none of the question's terms (a quote
chosen by meaning: we cannot tell which clause answers), when every clause is needed for the
question's terms, when cutting would drop a number, or when the cut would save only a few words.
Pure logic over text; the only analyser is :mod:`rag.text.analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from rag.text.analysis import numbers, terms
from rag.text.lexicon import CLAUSE_TAILS, CONCESSIVE_OPENING, NOT_A_CLAUSE, OPENING_MARKER, QUOTE_SUBJECTS

KEEP_UNDER_WORDS = 24  # a sentence shorter than this is quoted whole
MIN_SPAN_WORDS = 7  # a cut quote says at least this much (a shorter one loses its subject)
MIN_CUT_WORDS = 6  # a cut must drop at least this many words to be worth an ellipsis

# What a quote may drop at its start: rag.text.lexicon's OPENING_MARKER and CONCESSIVE_OPENING.
_CONCESSIVE_MAX_WORDS = 16
_LIST_ITEM_WORDS = 4
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_WORD = re.compile(r"\S+")
_ENUMERATOR = re.compile(r"\(?(?:[a-h]|[ivx]{1,4}|\d{1,2})\)\s")


@dataclass(frozen=True)
class Span:
    """A verbatim piece ``sentence[start:end]`` of an evidence sentence, and whether words were
    dropped before or after it."""

    text: str
    start: int
    end: int
    cut_before: bool = False
    cut_after: bool = False

    @property
    def whole(self) -> bool:
        return not (self.cut_before or self.cut_after)


def _boundaries(sentence: str) -> list[tuple[int, bool]]:
    """Char offsets where a clause begins (after its separator and space), each with whether a
    quote may start there (after a framing opener, a semicolon, a colon or a lone spaced dash) or
    only end before it (a trailing clause after a comma). Never inside brackets."""
    out: list[tuple[int, bool]] = []
    marker = OPENING_MARKER.match(sentence)
    if marker:
        out.append((marker.end() + 2, True))
    concessive = marker is None and CONCESSIVE_OPENING.match(sentence) is not None
    dashes = len(re.findall(r" (?:--|\u2014|\u2013) ", sentence))
    depth: list[str] = []
    i, n = (marker.end() + 2 if marker else 0), len(sentence)
    while i < n:
        c = sentence[i]
        if c in _BRACKETS:
            depth.append(_BRACKETS[c])
        elif depth and c == depth[-1]:
            depth.pop()
        elif depth:
            pass
        elif c in ";:," and sentence[i + 1:i + 2] == " ":
            words = sentence[i + 2:].split(None, 2)
            word = words[0].lower().strip(",;:.\"'") if words else ""
            if c in ";:":
                if not _ENUMERATOR.match(sentence, i + 2):  # "(a) ...; (b) ...": items of one list
                    out.append((i + 2, True))
            elif concessive and not out and word in QUOTE_SUBJECTS and len(sentence[:i].split()) <= _CONCESSIVE_MAX_WORDS:
                out.append((i + 2, True))
                concessive = False
            elif sentence[max(0, i - 4):i] in ("e.g.", "i.e."):
                pass  # "e.g., X" goes on with an example
            elif word in ("and", "or") and _list_item_before(sentence, i):
                pass  # "A, B, and C": the last item of a list, not a clause
            elif (word in CLAUSE_TAILS or (word.endswith("ing") and word not in NOT_A_CLAUSE)) and not (
                    len(words) > 1 and words[1].startswith("(")):  # "..., and (ii) ..." is one enumeration
                out.append((i + 2, False))
        elif dashes == 1 and sentence.startswith((" -- ", " \u2014 ", " \u2013 "), i - 1) and c != " ":
            out.append((i + (3 if c == "-" else 2), True))  # a lone spaced dash; a pair is a parenthesis
        i += 1
    return out


def _list_item_before(sentence: str, comma: int) -> bool:
    """Whether the text before ``sentence[comma]`` ends in a short item after another comma, as
    in "speed, memory consumption, and quality"."""
    head = sentence[:comma]
    prev = head.rfind(", ")
    return prev >= 0 and len(head[prev + 2:].split()) <= _LIST_ITEM_WORDS


def clauses(sentence: str) -> list[tuple[int, int, bool]]:
    """The sentence cut at its clause boundaries: (start, end, a quote may start here)."""
    cuts = _boundaries(sentence)
    starts = [(0, True), *cuts]
    ends = [s for s, _ in cuts] + [len(sentence)]
    return [(a, b, ok) for (a, ok), b in zip(starts, ends, strict=True)]


def _words(text: str) -> int:
    return len(text.split())


def _trim(sentence: str, start: int, end: int, cut_after: bool) -> tuple[int, int]:
    """Offsets without surrounding spaces, and without the separator a cut end leaves behind
    ("...,", "...;", "... —")."""
    while start < end and sentence[start] == " ":
        start += 1
    while end > start and (sentence[end - 1] == " " or (cut_after and sentence[end - 1] in ",;:-\u2014\u2013")):
        end -= 1
    return start, end


class Asked(Protocol):
    """What a clause cut reads of the question (``rag.question.read.Question`` has both)."""

    terms: tuple[str, ...]  # its content terms
    names: tuple[str, ...]  # the names it uses


def answering_span(sentence: str, question: Asked, *, ignore: Iterable[str] = (),
                   keep_under_words: int = KEEP_UNDER_WORDS, min_span_words: int = MIN_SPAN_WORDS,
                   min_cut_words: int = MIN_CUT_WORDS) -> Span:
    """The smallest run of ``sentence``'s clauses that holds every term of ``question`` the
    sentence holds and every number it states, grown to at least ``min_span_words``; the whole
    sentence when no worthwhile cut exists (see the module docstring). ``ignore``: stemmed terms
    that do not say what is asked (a follow-up's "tell me more")."""
    whole = Span(text=sentence, start=0, end=len(sentence))
    if _words(sentence) < keep_under_words:
        return whole
    skip = set(ignore)
    wanted = {t for t in question.terms if t not in skip} & set(terms(sentence))
    # a sentence that matches only the names the question uses (the papers a compare question
    # names) says how they work in the clauses that do not repeat the name: keep it whole
    named = set(terms(" ".join(question.names)))
    if not wanted - named:
        return whole
    parts = clauses(sentence)
    if len(parts) < 2:
        return whole
    have = [set(terms(sentence[a:b])) & wanted for a, b, _ in parts]
    numbered = [i for i, (a, b, _) in enumerate(parts) if numbers(sentence[a:b])]
    best: tuple[int, int] | None = None
    for i in range(len(parts)):
        for j in range(i, len(parts)):
            if set().union(*have[i:j + 1]) != wanted or any(k < i or k > j for k in numbered):
                continue
            size = parts[j][1] - parts[i][0]
            if best is None or size < parts[best[1]][1] - parts[best[0]][0]:
                best = (i, j)
    if best is None:  # a term split across a boundary ("warm, up"): only the whole has them all
        return whole
    i, j = best
    while i > 0 and not parts[i][2]:
        i -= 1  # a relative clause keeps what it is attached to
    while _words(sentence[parts[i][0]:parts[j][1]]) < min_span_words and (i > 0 or j < len(parts) - 1):
        if i > 0:
            i -= 1
            while i > 0 and not parts[i][2]:
                i -= 1
        else:
            j += 1
    cut_before, cut_after = i > 0, j < len(parts) - 1
    start, end = _trim(sentence, parts[i][0], parts[j][1], cut_after)
    if not (cut_before or cut_after) or _words(sentence) - _words(sentence[start:end]) < min_cut_words:
        return whole
    return Span(text=sentence[start:end], start=start, end=end, cut_before=cut_before, cut_after=cut_after)
