"""What the list judge knows about one candidate paper for one "which papers ...?" question.

Pure functions over the question, the paper's sentences and corpus IDF (plus similarities the
caller computed with an embedder). Each feature is one number; the judge (``rag.lists.fitted``)
weighs them with coefficients fit on labelled question-paper pairs, so nothing here is a
threshold. Names are stable: the fitted model refers to features by name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answer.vetoes import opposition
from rag.lists.rules import judge_sentence
from rag.question.property import ABSENCE_CUES, Property, negated_terms
from rag.question.read import Question
from rag.text.analysis import Idf, coverage, is_instruction_like, split_sentences, terms
from rag.text.results import is_background
from rag.types.papers import Hit

_BACKGROUND_WEIGHT = 0.75  # a background sentence is quoted only when it covers a third more than any other
_CLAUSE_BREAK = re.compile(r"[,;:!?()\[\]]|\.(?=\s|$)")

FEATURES = (
    "sent", "sent_title", "abstract", "title", "key_present", "key_share", "oov_share",
    "q_absence", "absence_stated", "absence_missing", "dense", "dense_sent", "dense_gap",
    "sent_gap", "log_rank", "bm25_rel", "n_topic", "phrase", "soft_abstract", "key_sent",
    "sent_dense", "key_dense", "rank_sent", "rank_dense", "rank_phrase", "rank_soft",
    "reader", "reader_gap", "rank_reader",
)
# features from the reading judge (rag.judge.reader), computed only when a model uses them
READER_FEATURES = frozenset({"reader", "reader_gap", "rank_reader"})
# features ranked within the pool: a paper's place among the question's candidates
_RANKED = {"rank_sent": "sent_title", "rank_dense": "dense_sent", "rank_phrase": "phrase",
           "rank_soft": "soft_abstract"}


@dataclass(frozen=True)
class ListQuestion:
    """A list question as the list judge reads it against this corpus: its topic terms (absence
    cues removed), whether it asks for an absence, its key terms (the rarest in the corpus) and
    the terms no abstract uses."""

    question: Question
    topic: tuple[str, ...]
    absence: bool
    key: tuple[str, ...]
    oov: tuple[str, ...]
    prop: Property
    pairs: frozenset[tuple[str, str]] = frozenset()
    short_absence: bool = False  # the absence is the whole property ("skip warmup"), not a detail of it
    absent_key: str | None = None  # the rarest term the question asks to be absent ("without ... warmup")

    @classmethod
    def read(cls, question: Question, idf: Idf) -> ListQuestion:
        qt, prop = question.terms, question.property
        # a short absence's topic is what must be absent ("get rid of the warm-up stage": warmup)
        topic = prop.topic if prop.polarity == "absence" else tuple(t for t in qt if t not in ABSENCE_CUES) or tuple(qt)
        absence = any(t in ABSENCE_CUES for t in qt) or prop.polarity == "absence"
        ranked = sorted(topic, key=lambda t: -idf(t))
        key = tuple(ranked[: max(1, math.ceil(len(ranked) / 3))])
        oov = tuple(t for t in topic if not idf.known(t))
        absent_prop = Property(topic=topic, polarity="absence")
        text = question.text
        return cls(question=question, topic=topic, absence=absence, key=key, oov=oov, prop=absent_prop,
                   short_absence=prop.polarity == "absence", absent_key=_absent_key(text, topic, idf),
                   pairs=frozenset(p for p in pairs(text) if p[0] not in ABSENCE_CUES and p[1] not in ABSENCE_CUES))


@dataclass
class Candidate:
    """One paper's features and the sentence that best states the property."""

    hit: Hit
    features: dict[str, float]
    quote: str
    reason: str
    sentences: list[str] = field(default_factory=list)
    must_state_absence: bool = False  # "which papers skip warmup?": listed only if a sentence says so
    contradicts: bool = False  # mentions what the question asks to be absent, never as absent
    opposite: str = ""  # why it is not what was asked, as a phrase: "says the opposite of ...", "presents an attack, ..."

    @property
    def vetoed(self) -> bool:
        """Listing it would claim what its abstract does not say: the question asks for the absence
        of its topic and no sentence states it, or the question asks for the absence of a term
        ("train without learning-rate warmup") that the paper mentions only as present, or the
        question asks for a finding ("... hurts reasoning") the paper states the opposite way, or for a
        defence where the paper presents an attack (or the other way round)."""
        return ((self.must_state_absence and self.features["absence_missing"] == 1.0) or self.contradicts
                or bool(self.opposite))


def paper_sentences(abstract: str) -> list[str]:
    """The abstract's sentences that can be evidence (text addressed to a model never is)."""
    return [s for s in split_sentences(abstract) if not is_instruction_like(s)]


def candidate_features(q: ListQuestion, hit: Hit, idf: Idf, sentence_sims: Sequence[float] | None = None,
                       *, rank: int | None = None) -> Candidate:
    """Features of ``hit`` for ``q``; ``sentence_sims`` are the question's similarities to the
    paper's :func:`paper_sentences` (same order), when an embedder is at hand."""
    paper = hit.paper
    sents = paper_sentences(paper.abstract)
    title = set(terms(paper.title))
    all_terms = title | set(terms(paper.abstract))
    topic = list(q.topic)
    best, best_t, quote, key_sent = 0.0, 0.0, "", 0.0
    per_sentence = []
    for i, s in enumerate(sents):
        st = set(terms(s))
        cov = coverage(topic, st, idf)
        cov_t = coverage(topic, st | title, idf)
        sim = sentence_sims[i] if sentence_sims is not None and i < len(sentence_sims) else 0.0
        per_sentence.append((cov_t + 0.01 * cov + 0.2 * max(0.0, sim), s))
        best, best_t = max(best, cov), max(best_t, cov_t)
        if all(t in st | title for t in q.key):
            key_sent = 1.0
    if per_sentence:
        # the paper's own voice over the field's: "Modern distributed training relies heavily on
        # communication compression ..." is background, not what the paper does (only sentences
        # within reach of the best can win, so only they are read for it)
        top = max(score for score, _ in per_sentence)
        quote = max(((score * (_BACKGROUND_WEIGHT if is_background(s) else 1.0), s) for score, s in per_sentence
                     if score >= _BACKGROUND_WEIGHT * top), key=lambda x: x[0])[1]
    absence_score, absence_quote = 0.0, ""
    if q.absence:
        plain_best = 0.0
        for s in sents:
            plain = judge_sentence(s, q.prop, idf)[0]
            # the title may state it ("... with Short Warmup") where the sentences only name the topic
            score = max(plain, judge_sentence(f"{paper.title}. {s}", q.prop, idf)[0])
            absence_score = max(absence_score, score)
            if plain > plain_best:
                plain_best, absence_quote = plain, s
        if absence_quote:
            quote = absence_quote  # else the sentence that best covers the topic, read with the title
    key_present = [t in all_terms for t in q.key]
    dense = hit.dense_score or 0.0
    dense_sent = max(sentence_sims) if sentence_sims else dense
    f = {
        "sent": best,
        "sent_title": best_t,
        "abstract": coverage(topic, all_terms, idf),
        "title": coverage(topic, title, idf),
        "key_present": float(all(key_present)),
        "key_share": sum(key_present) / len(key_present) if key_present else 0.0,
        "oov_share": len(q.oov) / len(topic) if topic else 0.0,
        "q_absence": float(q.absence),
        "absence_stated": absence_score if q.absence else 0.0,
        "absence_missing": float(q.absence and absence_score == 0.0),
        "dense": dense,
        "dense_sent": dense_sent,
        "dense_gap": 0.0,  # filled by relative_features
        "sent_gap": 0.0,
        "log_rank": math.log(rank if rank is not None else hit.rank),
        "bm25_rel": 0.0,
        "n_topic": float(len(topic)),
        "phrase": phrase_share(q.pairs, pairs(f"{paper.title}. {paper.abstract}")),
        "soft_abstract": soft_coverage(topic, all_terms, idf),
        "key_sent": key_sent,
    }
    f["sent_dense"] = f["sent_title"] * dense_sent
    f["key_dense"] = f["key_share"] * dense_sent
    f.update(dict.fromkeys(_RANKED, 0.0))  # filled by relative_features
    reason = _reason(f)
    return Candidate(hit=hit, features=f, quote=quote, reason=reason, sentences=sents,
                     must_state_absence=q.short_absence, contradicts=_contradicts(q, paper.title, sents, idf),
                     opposite=_opposite(q, paper.title, sents, idf))


def _opposite(q: ListQuestion, title: str, sents: Sequence[str], idf: Idf) -> str:
    """Why the paper says the opposite of the finding asked for, or is on the other side of an
    attack / defence question; empty when neither (``rag.answer.vetoes``, as on the normal route)."""
    return opposition(q.question, title, sents, idf)


def relative_features(cands: Sequence[Candidate]) -> None:
    """Features that compare a paper with the question's other candidates (the best one sets the
    scale: a broad topic gives many papers the same coverage, and the gap tells them apart)."""
    if not cands:
        return
    top_dense = max(c.features["dense_sent"] for c in cands)
    top_sent = max(c.features["sent_title"] for c in cands)
    top_bm25 = max((c.hit.bm25_score or 0.0) for c in cands) or 1.0
    for name, of in _RANKED.items():
        order = sorted(range(len(cands)), key=lambda i, of=of: -cands[i].features[of])  # stable: ties by rank
        for place, i in enumerate(order):
            cands[i].features[name] = math.log1p(place)
    if "reader" in cands[0].features:
        top_reader = max(c.features["reader"] for c in cands)
        order = sorted(range(len(cands)), key=lambda i: -cands[i].features["reader"])
        for place, i in enumerate(order):
            cands[i].features["rank_reader"] = math.log1p(place)
            cands[i].features["reader_gap"] = cands[i].features["reader"] - top_reader
    for c in cands:
        c.features["dense_gap"] = c.features["dense_sent"] - top_dense
        c.features["sent_gap"] = c.features["sent_title"] - top_sent
        c.features["bm25_rel"] = (c.hit.bm25_score or 0.0) / top_bm25


def _absent_key(question: str, topic: Sequence[str], idf: Idf) -> str | None:
    """The rarest topic term the question states as absent: within a few words after "without",
    "no", "not" or "never"."""
    stated = set(negated_terms(question))
    wanted = [t for t in topic if t in stated]
    return max(wanted, key=idf) if wanted else None


def _contradicts(q: ListQuestion, title: str, sents: Sequence[str], idf: Idf) -> bool:
    """The paper uses the question's absent term, and no sentence (read alone or with the title)
    states it absent or reduced. A paper that never mentions the term is left to the model."""
    if q.absent_key is None:
        return False
    key = q.absent_key
    if not any(key in terms(t) for t in (title, *sents)):
        return False
    prop = Property(topic=(key,), polarity="absence")
    return not any(judge_sentence(s, prop, idf)[0] > 0 or judge_sentence(f"{title}. {s}", prop, idf)[0] > 0
                   for s in sents)


def pairs(text: str) -> set[tuple[str, str]]:
    """Neighbouring content terms ("speculative decoding", "draft model"): a concept named by two
    words is matched only when the words stand together (punctuation parts them)."""
    out: set[tuple[str, str]] = set()
    for part in _CLAUSE_BREAK.split(text):
        ts = terms(part, joined=False)
        out.update(zip(ts, ts[1:], strict=False))
    return out


def phrase_share(wanted: frozenset[tuple[str, str]], have: set[tuple[str, str]]) -> float:
    return sum(p in have for p in wanted) / len(wanted) if wanted else 0.0


def _related(a: str, b: str) -> bool:
    """Stems of one word family the stemmer kept apart ("backprop" / "backpropag", "quantiz" /
    "quantis"): a shared prefix of five letters or more covering most of the shorter stem."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 5 and n >= 0.8 * min(len(a), len(b))


def soft_coverage(query: Sequence[str], have: set[str], idf: Idf) -> float:
    """:func:`coverage` in which a term also counts as present when a related stem is."""
    total = sum(idf(t) for t in query)
    if not total:
        return 0.0
    by_head: dict[str, list[str]] = {}
    for h in have:
        by_head.setdefault(h[:5], []).append(h)
    found = sum(idf(t) for t in query if t in have or any(_related(t, h) for h in by_head.get(t[:5], ())))
    return found / total


def _reason(f: dict[str, float]) -> str:
    if f["q_absence"] and f["absence_stated"] > 0:
        return "states it does without or reduces it"
    if f["sent_title"] >= 0.99:
        return "a sentence states every term of the question"
    return f"a sentence covers {min(f['sent_title'], 1):.0%} of the question's terms"


def vector(f: dict[str, float], names: Sequence[str] = FEATURES) -> list[float]:
    return [float(f[n]) for n in names]


