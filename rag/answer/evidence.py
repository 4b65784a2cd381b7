"""Evidence selection: which sentences of which retrieved abstracts bear on the question, and
which papers really answer it. Pure logic over retrieved hits and corpus IDF; thresholds are
calibrated on the eval set (see eval/results) and live in ``Settings.evidence``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.question.read import Question
from rag.settings_sections import EvidenceThresholds, ListThresholds
from rag.text.acronyms import Acronym, defined, expand
from rag.text.analysis import Idf, coverage, is_instruction_like, names, numbers, split_sentences, stem, terms
from rag.text.lexicon import COUNT_OF, QUANTITY_IN_WORDS
from rag.types.papers import Hit


@dataclass
class Sentence:
    index: int
    text: str
    coverage: float
    number: float = 0.0  # the bonus for stating a number, when the question asks for one
    asked: float = 0.0  # weighted share of what the question asks for ("masking ratio") it says

    @property
    def score(self) -> float:
        return self.coverage + self.asked + self.number


@dataclass
class PaperEvidence:
    hit: Hit
    sentences: list[Sentence]  # best first
    paper_coverage: float
    relevant: bool = False
    reason: str = ""
    score: float = 0.0
    by_meaning: bool = False  # sentences chosen by embedding similarity, not by shared terms
    read: bool = False  # sentences ordered by the reading judge (rag.judge.reader): the first is quoted

    @property
    def best(self) -> Sentence | None:
        """The sentence quoted first: the one that says most of what is asked."""
        return self.sentences[0] if self.sentences else None

    @property
    def top_coverage(self) -> float:
        """The most of the question's terms one sentence covers: whether the paper answers at all."""
        return max((s.coverage for s in self.sentences), default=0.0)


@dataclass
class EvidenceSet:
    question_terms: list[str]
    papers: list[PaperEvidence] = field(default_factory=list)

    @property
    def relevant(self) -> list[PaperEvidence]:
        return [p for p in self.papers if p.relevant]


def score_paper(question_terms: list[str], hit: Hit, idf: Idf, prefer_numbers: bool,
                naming: frozenset[str] = frozenset(), asked: Sequence[str] = (), asked_weight: float = 0.0,
                number_bonus: float = 0.05, prefer_names: bool = False,
                stated: frozenset[str] = frozenset(), others: bool = False) -> PaperEvidence:
    """Every sentence of the hit scored by the question's terms it covers, read with the paper's
    title and with the ``naming`` terms (names few papers use) that are the paper's own name: in
    its title or in two or more of its sentences. "What batch size does LAMB reach?" is answered by
    the sentence with the batch size, not the one that repeats "LAMB"; "what R2 does it reach?"
    still looks for the one sentence that says R2. The sentences are ordered with, on top,
    ``asked_weight`` times the share of the ``asked`` terms (what the question asks for, read by
    ``rag.question.focus``) the sentence itself says: a lookup that describes its paper at length
    is answered by the sentence with "masking ratio", not by the one that repeats the description.
    A number the question ``stated`` itself ("LLaMA-2 7B") is not one the sentence states; with
    ``others`` (it asks for datasets, baselines, languages), nor is the paper's own name one."""
    title_terms = set(terms(hit.paper.title))
    # abstracts are data: text that addresses a model is never evidence
    # an acronym the abstract defines says its long form ("SFT improves ..." for "supervised fine-tuning")
    acronyms = defined(hit.paper.abstract)
    kept = [(i, s, expand(set(terms(s)), acronyms)) for i, s in enumerate(split_sentences(hit.paper.abstract))
            if not is_instruction_like(s)]
    title_terms |= {t for t in naming if t in title_terms or sum(t in st for _, _, st in kept) >= 2}
    sents = []
    wanted = set(question_terms)
    # names the paper gives its own things ("MorphBPE", "RT" for the random transforms it defines)
    # do not answer a question asking which datasets or baselines it uses
    known = wanted | _own_names(hit.paper.title, acronyms) if others else wanted
    for i, s, st in kept:
        # a sentence is read with its title ("our method ..." still counts); sentence-only
        # coverage breaks ties so the quote itself says the most
        cov = coverage(question_terms, st | title_terms, idf) + 0.01 * coverage(question_terms, st, idf)
        said = asked_weight * coverage(list(asked), st, idf) if asked else 0.0
        says = (prefer_numbers and _states_number(s, wanted, stated)) or (prefer_names and _new_name(s, known))
        bonus = number_bonus if says else 0.0
        sents.append(Sentence(index=i, text=s, coverage=cov, number=bonus, asked=said))
    sents.sort(key=lambda s: (-s.score, s.index))
    paper_cov = coverage(question_terms, title_terms | set(terms(hit.paper.abstract)), idf)
    return PaperEvidence(hit=hit, sentences=sents, paper_coverage=paper_cov)


# "(1) Expert Construction ... (2) Continual Pre-training": an item's number, not a stated one
_ENUMERATION = re.compile(r"\(\s*\d{1,2}\s*\)")


def _states_number(sentence: str, wanted: set[str], stated: frozenset[str] = frozenset()) -> bool:
    """A number as digits ("9x", "1.53x"), not an item's "(1)" nor one the question ``stated``, a quantity in
    words ("within one minute"), or a count in words of something the question (its terms
    ``wanted``) names ("seven datasets" for "how many datasets ...?")."""
    if any(n not in stated for n in numbers(_ENUMERATION.sub(" ", sentence))) or QUANTITY_IN_WORDS.search(sentence):
        return True
    return any(stem(m.group(1).lower()) in wanted for m in COUNT_OF.finditer(sentence))


def _new_name(sentence: str, wanted: set[str]) -> bool:
    """Whether the sentence names something the question (its terms ``wanted``) does not
    ("CIFAR-10", "RTX2080Ti", "English"): what a question asking which datasets, languages or
    hardware wants."""
    return any(not set(terms(n, joined=False)) <= wanted for n in names(sentence))


def _own_names(title: str, acronyms: Sequence[Acronym]) -> set[str]:
    """The terms of the names a paper gives its own things: its title's, and the acronyms its abstract
    defines, in both forms ("Large Language Models (LLMs)")."""
    return ({t for n in names(title) for t in terms(n, joined=False)}
            | {t for a in acronyms for t in (a.short, a.short + "s", *a.long)})


def naming_terms(question: Question, idf: Idf, max_papers: int) -> frozenset[str]:
    """The terms of the names the question uses that identify a paper: at most ``max_papers``
    papers use them (a name every paper uses, "BERT", identifies none)."""
    named = {t for name in question.names for t in terms(name, joined=False)}
    return frozenset(t for t in named if t in question.terms and 0 < idf.df(t) <= max_papers)


def relevance(best: float, abstract: float, dense: float, th: EvidenceThresholds | ListThresholds) -> str | None:
    """The one relevance rule, for normal and list questions alike (with their own thresholds):
    why a paper answers, or None. One sentence (read with its title) covers enough of the
    question's terms, or the whole abstract does, or the best chunk is close enough in meaning."""
    if best >= th.sentence:
        return f"a sentence covers {min(best, 1):.0%} of the question's terms"
    if abstract >= th.abstract:
        return f"the abstract covers {abstract:.0%} of the question's terms"
    if dense >= th.dense:
        return f"close in meaning (similarity {dense:.2f})"
    return None


def evidence_score(best_sentence: float, abstract: float, dense: float) -> float:
    """One number to order papers by: lexical evidence, plus dense similarity above chance."""
    return max(best_sentence, abstract * 0.9) + 0.5 * max(0.0, dense - 0.3)


def select_evidence(question: Question, hits: Sequence[Hit], idf: Idf, th: EvidenceThresholds) -> EvidenceSet:
    """Score every sentence of every hit and mark the papers that answer the question."""
    # terms the corpus never uses stay in: they are the best sign that it cannot answer
    qt = list(question.terms)
    ev = EvidenceSet(question_terms=qt)
    prefer_numbers = question.wants_number
    naming = naming_terms(question, idf, th.naming_papers)
    for hit in hits:
        pe = score_paper(qt, hit, idf, prefer_numbers, naming, question.asked_for, th.asked_weight, th.number_bonus,
                         prefer_names=question.wants_names, stated=frozenset(question.numbers),
                         others=question.wants_others)
        best = pe.top_coverage
        dense = hit.dense_score or 0.0
        pe.score = evidence_score(best, pe.paper_coverage, dense)
        why = relevance(best, pe.paper_coverage, dense, th)
        pe.relevant = why is not None
        pe.reason = why or f"weak match (best sentence {best:.0%}, similarity {dense:.2f})"
        ev.papers.append(pe)
    ev.papers.sort(key=lambda p: -p.score)
    rel = ev.relevant
    if rel:
        top = rel[0].score
        for p in rel[1:]:
            if p.score < th.relative * top:
                p.relevant, p.reason = False, f"much weaker than the best match ({p.score:.2f} vs {top:.2f})"
    return ev
