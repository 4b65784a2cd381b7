"""Which way a claim points: "X improves Y", "X hurts Y" or "X makes no difference".

Term coverage cannot tell "code in pre-training hurts reasoning" from an abstract that reports the
opposite ("the addition of code results in ... improvement"): every content word is shared. This
module reads the *direction* of what is said about a subject, from evaluative words near it, so a
question or a model sentence that claims the opposite of every statement an abstract makes about
that subject can be caught. Pure logic; the lexicon is small on purpose (ML abstracts use few
evaluative words), and a subject the text never evaluates yields no direction, never a conflict.

Three directions:

* ``up``: the subject helps or matters ("improves", "boosts", "outperforms", "is crucial");
* ``down``: it hurts ("degrades", "hurts", "under-performs", "is detrimental");
* ``none``: it makes no difference ("negligible", "no benefit", "unnecessary", "does not help").

Quantity words ("increase", "reduce", "fewer") are not directions: reducing memory is good and
reducing accuracy is bad; :func:`rag.text.analysis.polarity` handles those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from rag.text.analysis import STOPWORDS, stem, terms, words
from rag.text.lexicon import (
    COMPARATIVES_BETTER,
    COMPARATIVES_CHEAPER,
    COMPARATIVES_FASTER,
    COMPARING_VERB_PREFIXES,
    COMPARISON_CUE,
    COMPARISON_LEFT_STOPS,
    COMPARISON_NOISE,
    COMPARISON_RIGHT_STOPS,
    DIRECTION_NEGATORS,
    EFFECT_NOUNS,
    FINDING_CLAUSE,
    HARM_WORDS,
    IMPROVE_WORDS,
    MORE_LESS_ADJECTIVES,
    NO_EFFECT_WORDS,
    SUBJECT_FILLER,
    TURN_OF_CLAUSE,
)

Direction = Literal["up", "down", "none"]

# the lexicon's evaluative words, stemmed (the hyphenated "under-perform" forms are kept as written)
_UP = frozenset(stem(w) for w in IMPROVE_WORDS)
_DOWN = frozenset(w if "-" in w else stem(w) for w in HARM_WORDS)
_NONE = frozenset(stem(w) for w in NO_EFFECT_WORDS)
# "no benefit", "not necessary", "little effect": a negator (DIRECTION_NEGATORS) before an up word,
# or before an effect noun
_EFFECT_NOUNS = frozenset(stem(w) for w in EFFECT_NOUNS)
_NEGATOR_REACH = 3  # "has no meaningful effect", "does not really help"
WINDOW = 6  # words between an evaluative word and the subject it is said of


def claim_of(question: str) -> str | None:
    """The claim a question asks a paper to make: the clause after "finds/shows/concludes that"."""
    m = FINDING_CLAUSE.search(question.strip().rstrip("?"))
    return m.group(1) if m else None


def evaluations(ws: Sequence[str]) -> list[tuple[int, Direction]]:
    """(position, direction) of every evaluative word of a clause's words ("improves", "hurts",
    "negligible"), with negation applied."""
    out: list[tuple[int, Direction]] = []
    for i, w in enumerate(ws):
        s = stem(w)
        negated = any(b in DIRECTION_NEGATORS for b in ws[max(0, i - _NEGATOR_REACH):i])
        if w in _DOWN or s in _DOWN:
            if not negated:  # "without hurting accuracy" says no harm, which any other finding allows
                out.append((i, "down"))
        elif s in _NONE:
            out.append((i, "none"))
        elif s in _UP:
            out.append((i, "none" if negated else "up"))
        elif s in _EFFECT_NOUNS and negated:
            out.append((i, "none"))
    # "of negligible importance": the no-difference word governs an up word right after it
    nones = {i for i, d in out if d == "none"}
    return [(i, d) for i, d in out if not (d == "up" and (i - 1 in nones or i - 2 in nones))]


_COMPOUND = re.compile(r"\b([a-z]+)-([a-z]+)\b")
# verbs and fillers a claim's subject phrase carries that say nothing about what it is
_FILLER = frozenset(stem(w) for w in SUBJECT_FILLER)


def _near(ws: Sequence[str], anchors: set[str], window: int) -> set[Direction]:
    toks = [stem(w) for w in ws]
    # "pre training" / "pretraining" / "pre-training": a token or a token joined with the next
    at = [i for i, t in enumerate(toks) if t in anchors]
    at += [i for i in range(len(ws) - 1) if stem(ws[i] + ws[i + 1]) in anchors]
    if not at:
        return set()
    return {d for i, d in evaluations(ws) if any(abs(i - j) <= window for j in at)}


def directions(text: str, subject: Iterable[str], window: int = WINDOW) -> set[Direction]:
    """The directions ``text`` states about a subject (stemmed terms): an evaluative word within
    ``window`` words of a subject term in the same clause."""
    wanted = set(subject)
    found: set[Direction] = set()
    for clause in TURN_OF_CLAUSE.split(text):
        found |= _near(words(clause), wanted, window)
    return found


def claim_direction(claim: str) -> Direction | None:
    """The one direction a claim states (None when it states none or several, or compares two
    things, where which side is the subject is a matter of syntax)."""
    if COMPARISON_CUE.search(claim):
        return None
    found = {d for _, d in evaluations(words(claim))}
    return found.pop() if len(found) == 1 else None


def subject_terms(claim: str) -> list[str]:
    """What the claim is about: its content terms before its first evaluative word ("the choice of
    tokenizer | has no meaningful effect on ..."), or all its non-evaluative terms if none."""
    ws = words(_COMPOUND.sub(r"\1\2", claim.lower()))
    cues = evaluations(ws)
    head = ws[: cues[0][0]] if cues and cues[0][0] > 0 else ws
    out: list[str] = []
    for w in head:
        s = stem(w)
        if w in STOPWORDS or len(w) < 2 or w in DIRECTION_NEGATORS or s in _UP or s in _DOWN or s in _NONE \
                or s in _EFFECT_NOUNS or s in _FILLER:
            continue
        out.append(s)
    return list(dict.fromkeys(out))


MAX_SUBJECT = 8  # a longer head is a whole finding, not a subject this reading can follow


def anchors(claim: str, text_terms: Iterable[str], idf, k: int = 2) -> list[str]:
    """The ``k`` rarest terms of the claim's subject that a text uses: where to look for what the
    text says about it. Empty when the subject is too long to be one thing."""
    subject = subject_terms(claim)
    if len(subject) > MAX_SUBJECT:
        return []
    have = set(text_terms)
    return sorted((t for t in subject if t in have), key=lambda t: -idf(t))[:k]


# --- comparisons: which side wins ------------------------------------------------------------------
# A comparison names a winner and a loser ("Adam converges faster than SGD": Adam wins). Families
# keep measures apart: "A is faster than B" says nothing against "B is cheaper than A".
_FAMILIES = {w: (name, sign) for name, table in (
    ("better", COMPARATIVES_BETTER), ("faster", COMPARATIVES_FASTER), ("cheaper", COMPARATIVES_CHEAPER))
    for w, sign in table.items()}
_SIDE_WORDS = 8  # words each side of the comparative that can name what is compared
_MEASURE_WORDS = 3  # words between a comparative and its "than" that say what is measured
_ALIAS = re.compile(r"\(([a-z0-9][\w.-]{0,15})\)")  # one word in brackets: "(INT8)", "(CTC)"
# "more / less <qualifier>-<adjective>": "less compute-efficient", "more sample-efficient"
_QUALIFIED = re.compile(r"\b(more|less)\s+[a-z0-9]+-(" + "|".join(map(re.escape, MORE_LESS_ADJECTIVES)) + r")\b")
# a side ends at a clause break, or at COMPARISON_LEFT_STOPS / COMPARISON_RIGHT_STOPS
_BREAK = re.compile(r"[,;:()\[\]]|\.(?=\s|$)")
# words a side carries that name no compared thing ("plain SGD", "reliably beats")
_COMPARE_NOISE = frozenset(stem(w) for w in COMPARISON_NOISE)


def comparisons(text: str) -> list[tuple[str, frozenset[str], frozenset[str]]]:
    """(family, winner terms, loser terms) of each comparison in ``text``: "X <better> than Y",
    "X outperforms Y", "X is superior to Y", "more accurate than"; inverse words ("slower",
    "under-performs", "inferior") swap the sides. Terms are stemmed content terms."""
    out = []
    # a short aside names the same thing ("its integer (INT8) equivalent"): read inline, not as a break
    text = _ALIAS.sub(r" \1 ", text.lower())
    # "less compute-efficient than": the measure is the adjective, whatever qualifies it
    text = _QUALIFIED.sub(r"\1 \2", text)
    for part in _BREAK.split(_COMPOUND.sub(r"\1\2", text)):
        ws = words(part)
        for i, w in enumerate(ws):
            fam = _FAMILIES.get(w)
            j = i + 1  # where the loser starts
            if fam is None and w in ("more", "less") and i + 1 < len(ws) and ws[i + 1] in MORE_LESS_ADJECTIVES:
                fam = (MORE_LESS_ADJECTIVES[ws[i + 1]], 1 if (w == "more") != (ws[i + 1] == "expensive") else -1)
                j = i + 2
            if fam is None:
                continue
            # the measure may sit between the comparative and "than": "better final accuracy than CTC";
            # not another comparative: in "better and cheaper than" the second one is read on its own
            than = next((k for k in range(j, min(j + _MEASURE_WORDS + 1, len(ws))) if ws[k] == "than"), None)
            if than is not None and than > j and not w.startswith(COMPARING_VERB_PREFIXES) \
                    and not any(x in ("and", "or") or x in _FAMILIES for x in ws[j:than]):
                j = than
            rest = ws[j:]
            if rest[:1] in (["than"], ["to"]):
                rest = rest[1:]
            elif not w.startswith(COMPARING_VERB_PREFIXES):
                continue  # "a better model" compares nothing named
            left: list[str] = []
            for x in reversed(ws[max(0, i - _SIDE_WORDS):i]):
                if x in COMPARISON_LEFT_STOPS:
                    break
                left.insert(0, x)
            right: list[str] = []
            for x in rest[:_SIDE_WORDS]:
                if x in COMPARISON_RIGHT_STOPS:
                    break
                right.append(x)
            lt = frozenset(t for t in terms(" ".join(left), joined=False) if t not in _COMPARE_NOISE)
            rt = frozenset(t for t in terms(" ".join(right), joined=False) if t not in _COMPARE_NOISE)
            if lt and rt:
                out.append((fam[0], lt, rt) if fam[1] > 0 else (fam[0], rt, lt))
    return out


def _one_comparison(claim: str) -> tuple[str, frozenset[str], frozenset[str]] | None:
    """The claim's one comparison as (family, winner terms, loser terms), each side by the terms
    only it names ("few-shot PEFT beats few-shot ICL": PEFT against ICL); None when it makes
    none, several, or one whose sides share every term."""
    wanted = comparisons(claim)
    if len(wanted) != 1:
        return None
    fam, win, lose = wanted[0]
    win, lose = win - lose, lose - win
    return (fam, win, lose) if win and lose else None


def _comparison_verdicts(wanted: tuple[str, frozenset[str], frozenset[str]], texts: Sequence[str]) -> tuple[bool, bool]:
    """Whether ``texts`` state the comparison ``wanted`` the same way round, and whether they
    state it the other way round (a crossing that is not clean counts as neither)."""
    fam, win, lose = wanted
    agreed = crossed = False
    for t in texts:
        for f, w, lo in comparisons(t):
            if f != fam:
                continue
            w_only, lo_only = w - lo, lo - w
            if (win & w_only) and (lose & lo_only):
                agreed = True
            elif (win & lo_only) and (lose & w_only):
                crossed = True
    return agreed, crossed


def reversed_comparison(claim: str, texts: Sequence[str]) -> str | None:
    """Why ``texts`` state the claim's comparison the other way round ("SGD converges faster than
    Adam" against "Adam converges faster than SGD"), or None. Each side is read by the terms only
    it names, so "few-shot PEFT beats few-shot ICL" has PEFT and ICL as its sides; any statement
    in the claim's direction, or a crossing that is not clean, gives no verdict."""
    wanted = _one_comparison(claim)
    if wanted is None:
        return None
    agreed, crossed = _comparison_verdicts(wanted, texts)
    if crossed and not agreed:
        return "the claim's comparison is stated the other way round in the abstract"
    return None


def _subject_in(claim: str, texts: Sequence[str], idf) -> list[str]:
    """The anchor terms of the claim's subject that ``texts`` use (:func:`anchors`)."""
    have: set[str] = set()
    for t in texts:
        have.update(terms(t))
    return anchors(claim, have, idf)


def _stated(texts: Sequence[str], subject: Sequence[str]) -> set[Direction]:
    """The directions ``texts`` state about the subject; a text that asks ("Negligible or
    Crucial?") states none."""
    out: set[Direction] = set()
    for t in texts:
        if not t.rstrip().endswith("?"):
            out |= directions(t, subject)
    return out


def contradiction(claim: str, title: str, sentences: Sequence[str], idf) -> str | None:
    """Why a paper (its title and sentences) says the opposite of ``claim`` about its subject, or None."""
    texts = [title, *sentences]
    flipped = reversed_comparison(claim, texts)
    if flipped:
        return flipped
    if claim_direction(claim) is None:
        return None
    return opposed(claim, texts, _subject_in(claim, texts, idf))


def affirms(claim: str, title: str, sentences: Sequence[str], idf) -> bool | None:
    """Whether a paper (its title and sentences) states ``claim`` the way it is asked: the claim's
    comparison with the same winner, or the claim's direction about its subject. None when this
    reading cannot tell: the claim states no single direction and no clean comparison, or the
    paper uses none of its subject's terms. "Which paper finds that mBART gives little gain for
    low-resource pairs?" is not answered by a paper that only says mBART "produces gains"."""
    texts = [title, *sentences]
    wanted = _one_comparison(claim)
    if wanted is not None:
        return _comparison_verdicts(wanted, texts)[0]
    want = claim_direction(claim)
    if want is None:
        return None
    subject = _subject_in(claim, texts, idf)
    return want in _stated(texts, subject) if subject else None


def opposed(claim: str, sentences: Sequence[str], subject: Sequence[str]) -> str | None:
    """Why ``sentences`` contradict the claim, or None: the claim points one way about its subject,
    the sentences state a direction about that subject, and none of them points the claim's way.
    ``subject``: the anchor terms (the rarest of the claim's subject that the text uses)."""
    want = claim_direction(claim)
    if want is None or not subject:
        return None
    stated = _stated(sentences, subject)
    if not stated or want in stated:
        return None
    said = {"up": "helps", "down": "hurts", "none": "makes no difference"}
    return f"the claim says it {said[want]} where the abstract says it {' / '.join(said[d] for d in sorted(stated))}"
