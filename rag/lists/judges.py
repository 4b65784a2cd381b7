"""List judges: one interface, chosen by settings and the backend's capabilities.

A judge reads the candidate pool of a list question and returns the papers that have the asked
property, each with a verbatim quote. It may yield a note (shown as it happens) or, when it
confirms papers as verdicts arrive, each confirmed :class:`~rag.lists.rules.Judgement` (shown at once,
renumbered when the list is final). A judge that depends on a backend raises
:class:`~rag.errors.BackendError`; the route then says so and asks the next judge in the chain.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rag.judge.passage import passage_sentences
from rag.judge.reader import listing_threshold, load_reader
from rag.lists import fitted as list_judge
from rag.lists import mention, near
from rag.lists import rules as listing
from rag.lists.features import READER_FEATURES, Candidate
from rag.lists.model import JudgeCache, judge_with_llm
from rag.question.read import Question
from rag.settings import Settings
from rag.text.analysis import Idf, is_instruction_like
from rag.types.answers import Exclusion
from rag.types.papers import Hit, SearchResult

LIST_RULES = "rules (aggregate)"
LIST_LEARNED = "list judge (fitted)"
LIST_READER = "list judge (reader)"


@dataclass
class Verdicts:
    """What a judge decided: the listed papers (final order), notes kept without an event, and
    the near-misses (:mod:`rag.lists.near`): papers considered and not listed, closest first."""

    judged: list[listing.Judgement]
    notes: list[str] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)


JudgeRun = Generator["listing.Judgement | str", None, Verdicts]


@dataclass(frozen=True)
class ListInput:
    """What every judge may read: the question (standalone), the pool, the first search's result
    (its own hits and filter facts), the retriever and the corpus IDF."""

    question: Question
    pool: Sequence[Hit]
    result: SearchResult
    retriever: object
    idf: Idf


class ListJudge(Protocol):
    label: str  # the answer's backend when this judge decided
    streams: bool  # True: confirmed papers are yielded as verdicts arrive

    def run(self, given: ListInput) -> JudgeRun: ...


class RulesJudge:
    """The hand-set rules (``rag.lists.rules``): an eval baseline. It scores no paper it leaves out,
    so it reports no near-misses."""

    label, streams = LIST_RULES, False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, given: ListInput) -> JudgeRun:
        prop = given.question.property
        if prop.polarity == "absence":
            return Verdicts(listing.judge_all(given.pool, prop, given.idf))
        return Verdicts(listing.judge_presence(given.result.hits, given.question, given.idf, self.settings.listing))
        yield  # a generator: nothing is shown before the list is final


class FittedJudge:
    """The fitted logistic judge over hand-built features (``rag.lists.fitted``); a paper likely
    to qualify but stating the opposite (or on the other side of an attack / defence question) is
    left out with a note. A question asking which papers use or report a rare name also lists
    every paper that uses it (``rag.lists.mention``)."""

    label, streams = LIST_LEARNED, False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, given: ListInput) -> JudgeRun:
        model, cands = _fitted(given, self.settings)
        for c in cands:
            if c.opposite and model.probability(c.features) >= model.threshold:
                yield f"not listed: “{c.hit.paper.title}” {c.opposite}"
        judged = list_judge.judge(cands, model)
        listed = {j.hit.paper.paper_id for j in judged}
        name = mention.mentioned_name(given.question, given.idf, self.settings.listing.mention_max_papers)
        if name:  # "which papers report ROUGE scores?": every paper that uses the name
            judged += mention.naming(name, cands, listed)
            listed = {j.hit.paper.paper_id for j in judged}
        return Verdicts(judged, excluded=near.fitted(cands, model, listed, self.settings.answer.near_misses))


class ModelJudge:
    """A capable backend (OpenAI, a vLLM server) judging the best candidates one by one; its quote
    must be a sentence of the abstract (``rag.lists.model``)."""

    streams = True

    def __init__(self, llm, settings: Settings, cache: JudgeCache) -> None:
        self.llm, self.settings, self.cache = llm, settings, cache
        self.label = f"{llm.name} (judge)"

    def run(self, given: ListInput) -> JudgeRun:
        cfg = self.settings.answer
        confirmed: list[listing.Judgement] = []
        refused: dict[str, listing.Judgement] = {}
        ranked = _ranked(given, self.settings)[: cfg.judge_cap]
        read = [c.hit for _, c in ranked]
        for j in judge_with_llm(self.llm, given.question.text, read, self.cache,
                                self.settings.prompts.judge, workers=cfg.judge_workers):
            if j.qualifies:
                confirmed.append(j)
                yield j
            else:
                refused[j.hit.paper.paper_id] = j
        notes = []
        if len(given.pool) > cfg.judge_cap:
            notes.append(f"the judge checked the {cfg.judge_cap} likeliest of {len(given.pool)} candidates (as "
                         "paperchat's own judge ranks them); the others were not checked")
        # closest first: in the order paperchat's own judge ranked them for the model
        excluded = [near.refused_by_model(c.hit, c.quote, refused[pid].reason, self.llm.name, p)
                    for p, c in ranked if (pid := c.hit.paper.paper_id) in refused][: cfg.near_misses]
        return Verdicts(sorted(confirmed, key=lambda j: j.hit.rank), notes, excluded)


class ReaderJudge:
    """The reading judge (``rag.judge.reader``): a cross-encoder trained on labelled pairs reads the
    question with each candidate's title and best sentences; a paper is listed when its
    probability clears the threshold set on held-out training folds, and quoted with the sentence
    the judge scores highest."""

    label, streams = LIST_READER, False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, given: ListInput) -> JudgeRun:
        cfg = self.settings.listing
        reader = load_reader(cfg.reader_path)
        threshold = listing_threshold(reader, cfg.reader_threshold)
        q = given.question
        pool = list(given.pool[: cfg.reader_depth])
        probs = reader.paper_probabilities(q.text, q.terms, [h.paper for h in pool])
        listed = sorted((i for i, p in enumerate(probs) if p >= threshold), key=lambda i: (-round(probs[i], 3), i))
        judged = []
        for i in listed:
            quote = _best_sentence(reader, q, pool[i])
            if quote:
                judged.append(listing.Judgement(hit=pool[i], qualifies=True, quote=quote, score=probs[i],
                                                reason=f"judged {probs[i]:.0%} likely by the reading judge"))
        taken = {j.hit.paper.paper_id for j in judged}
        close = sorted((i for i in range(len(pool)) if pool[i].paper.paper_id not in taken),
                       key=lambda i: (-round(probs[i], 3), i))[: self.settings.answer.near_misses]
        quotes = [_best_sentence(reader, q, pool[i]) or "" for i in close]
        excluded = near.by_probability([pool[i] for i in close], [probs[i] for i in close], quotes, threshold,
                                       "the reading judge")
        return Verdicts(judged, excluded=excluded)
        yield  # a generator: nothing is shown before the list is final


def _best_sentence(reader, question: Question, hit: Hit) -> str | None:
    """Of the sentences the judge reads that may be quoted (never one that addresses a model),
    the one it scores highest on its own."""
    sentences = [s for s in passage_sentences(question.terms, hit.paper.abstract) if not is_instruction_like(s)]
    if not sentences:
        return None
    probs = reader.sentence_probabilities(question.text, hit.paper.title, sentences)
    return sentences[max(range(len(sentences)), key=lambda i: (probs[i], -i))]


def _fitted(given: ListInput, settings: Settings) -> tuple[list_judge.ListModel, list]:
    """The fitted judge's model and the pool's candidates with the features it reads (the
    reader's probability among them when the model uses it)."""
    cfg = settings.listing
    model = list_judge.shipped_model(cfg.model_path)
    reader = load_reader(cfg.reader_path) if READER_FEATURES & set(model.features) else None
    return model, list_judge.pool_candidates(given.retriever, given.question, given.pool, cfg.sentence_depth, reader)


def _ranked(given: ListInput, settings: Settings) -> list[tuple[float, Candidate]]:
    """The pool's candidates ordered by the fitted judge's probability (ties: retrieval rank),
    with that probability: what a capable backend reads first."""
    model, cands = _fitted(given, settings)
    p = [model.probability(c.features) for c in cands]
    return [(p[i], cands[i]) for i in sorted(range(len(p)), key=lambda i: (-p[i], i))]


def likeliest(given: ListInput, settings: Settings) -> list[Hit]:
    """The pool in :func:`_ranked` order. Measured on the 203 held-out list questions: 88.9% of
    gold papers in the first 20 (86.7% in retrieval order), 91.6% in the first 30 (90.6%)."""
    return [c.hit for _, c in _ranked(given, settings)]


def own_judge(settings: Settings, question: Question | None = None) -> ListJudge:
    """paperchat's own judge, as the settings name it (needs no backend); for a question the route
    model sent, ``listing.model_routed_judge`` where set."""
    name = settings.listing.judge
    if question is not None and question.by_model and settings.listing.model_routed_judge:
        name = settings.listing.model_routed_judge
    return {"rules": RulesJudge, "learned": FittedJudge, "reader": ReaderJudge}[name](settings)


def judges_for(settings: Settings, llm, cache: JudgeCache, question: Question | None = None) -> list[ListJudge]:
    """The chain of judges for a list question: a capable backend first where there is one (it
    declares ``capable_judge`` and ``supports_schema``), then
    paperchat's own judge (which also takes over when the backend fails)."""
    own = own_judge(settings, question)
    # both declared by the backend (rag.llm.backend): trusted to judge, and able to answer in JSON
    if llm is not None and llm.capable_judge and llm.supports_schema:
        return [ModelJudge(llm, settings, cache), own]
    return [own]
