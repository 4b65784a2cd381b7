"""List questions ("which papers skip warmup?"): routed apart, judged paper by paper by rules.

Top-k retrieval plus one model call misses papers past the cut-off and merges claims, so this
route takes a wide candidate set and decides for each paper, from its own sentences, whether it
has the asked property, handling negation and quantity ("without warmup", "shorter warmup" vs
"a long warmup"). Pure logic here; candidate retrieval is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.evidence import evidence_score, relevance
from rag.question.property import ABSENCE_CUES, Property
from rag.question.read import Question
from rag.settings_sections import ListThresholds
from rag.text.analysis import (
    Idf,
    coverage,
    is_instruction_like,
    split_sentences,
    stem,
    terms,
    words,
)
from rag.text.lexicon import PRESENCE_ONLY_WORDS
from rag.types.papers import Hit

_PRESENCE_ONLY = {stem(w) for w in PRESENCE_ONLY_WORDS}
_WINDOW = 7  # words between a cue and the topic: "removes the need for learning rate warm-up"


@dataclass
class Judgement:
    hit: Hit
    qualifies: bool
    quote: str
    score: float
    reason: str


def _positions(ws: list[str], topic: set[str]) -> dict[str, list[int]]:
    """Where each topic term occurs, counting joined neighbours ("warm up" -> warmup)."""
    found: dict[str, list[int]] = {}
    stems = [stem(w) for w in ws]
    for i, s in enumerate(stems):
        if s in topic:
            found.setdefault(s, []).append(i)
        if i + 1 < len(ws):
            j = stem(ws[i] + ws[i + 1])
            if j in topic:
                found.setdefault(j, []).append(i)
    return found


def judge_sentence(sentence: str, prop: Property, idf: Idf) -> tuple[float, str]:
    """Score in [0, 1] that this sentence states the property; 0 with a reason when it does not."""
    ws = words(sentence)
    topic = set(prop.topic)
    pos = _positions(ws, topic)
    if not topic:
        return 0.0, "question has no topic"
    total = sum(idf(t) for t in topic)
    cov = sum(idf(t) for t in topic if t in pos) / total if total else 0.0
    if cov < 0.75:
        return 0.0, f"mentions {cov:.0%} of the topic"
    if prop.polarity == "presence":
        return cov, "mentions the topic"
    stems = [stem(w) for w in ws]
    anchor = [i for ps in pos.values() for i in ps]
    best = 0.0
    lowered = sentence.lower()
    for i in anchor:
        # the window starts at a hyphenated compound's first word: "without ... training or fine-tuning"
        start = i - 1 if i > 0 and f"{ws[i - 1]}-{ws[i]}" in lowered else i
        lo, hi = max(0, start - _WINDOW), min(len(stems), i + 4)
        window = stems[lo:hi]
        cues = [s for s in window if s in ABSENCE_CUES]
        if not cues:
            continue
        if any(s in _PRESENCE_ONLY for s in stems[max(0, i - 2) : i + 1]) and not any(
                s in {stem("without"), stem("no"), stem("shorter")} for s in stems[max(0, i - 2) : i + 1]):
            continue  # "a long warmup" is the opposite of what was asked
        near = min(abs(lo + k - i) for k, s in enumerate(window) if s in ABSENCE_CUES)
        best = max(best, cov * (1.0 - 0.05 * near))
    if best == 0.0:
        return 0.0, "mentions the topic but not its absence or reduction"
    return best, "states it does without or reduces it"


def judge_paper(hit: Hit, prop: Property, idf: Idf) -> Judgement:
    best = (0.0, "", "no sentence mentions the topic")
    for s in split_sentences(hit.paper.abstract):
        if is_instruction_like(s):
            continue
        score, reason = judge_sentence(s, prop, idf)
        if score > best[0]:
            best = (score, s, reason)
    score, quote, reason = best
    return Judgement(hit=hit, qualifies=score > 0, quote=quote, score=score, reason=reason)


def judge_all(hits: Sequence[Hit], prop: Property, idf: Idf) -> list[Judgement]:
    """Qualifying papers, most confident first (ties: better retrieval rank first)."""
    out = [j for j in (judge_paper(h, prop, idf) for h in hits) if j.qualifies]
    out.sort(key=lambda j: (-round(j.score, 3), j.hit.rank))
    return out


@dataclass(frozen=True)
class PresenceEvidence:
    """What the presence judge knows about one candidate: the best sentence's share of the
    question's terms (and that sentence), the whole abstract's share, and dense similarity.
    Computed once per paper, so thresholds can be swept cheaply (``eval/calibrate_list.py``)."""

    hit: Hit
    best: float
    quote: str
    abstract: float
    dense: float

    @property
    def score(self) -> float:
        return evidence_score(self.best, self.abstract, self.dense)


def presence_evidence(hits: Sequence[Hit], question: Question, idf: Idf, depth: int) -> list[PresenceEvidence]:
    """Evidence for the best-ranked ``depth`` hits, in rank order."""
    qt = list(question.terms)
    out = []
    for hit in list(hits)[:depth]:
        title = set(terms(hit.paper.title))
        scored = [(coverage(qt, set(terms(s)) | title, idf), s) for s in split_sentences(hit.paper.abstract)
                  if not is_instruction_like(s)]
        best, quote = max(scored, key=lambda x: x[0], default=(0.0, ""))
        abstract = coverage(qt, title | set(terms(hit.paper.abstract)), idf)
        out.append(PresenceEvidence(hit, best, quote, abstract, hit.dense_score or 0.0))
    return out


def select_present(evidence: Sequence[PresenceEvidence], th: ListThresholds) -> list[Judgement]:
    """The papers whose evidence clears the thresholds, most confident first."""
    found: list[Judgement] = []
    for e in list(evidence)[: th.depth]:
        reason = relevance(e.best, e.abstract, e.dense, th)
        if reason is None:
            continue
        found.append(Judgement(hit=e.hit, qualifies=True, quote=e.quote, score=e.score, reason=reason))
    if found:
        top = max(j.score for j in found)
        found = [j for j in found if j.score >= th.relative * top]
    found.sort(key=lambda j: (-round(j.score, 3), j.hit.rank))
    return found


def judge_presence(hits: Sequence[Hit], question: Question, idf: Idf,
                   th: ListThresholds) -> list[Judgement]:
    """Papers among the best-ranked ``th.depth`` hits whose evidence clears the thresholds."""
    return select_present(presence_evidence(hits, question, idf, th.depth), th)
