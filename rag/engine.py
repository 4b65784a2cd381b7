"""The answer engine: question -> retrieval -> evidence -> cited answer, streamed as structure.

Our code owns the answer's structure and its citations: every quote line is an evidence sentence
of a retrieved abstract, citing that paper by id. A model, when there is one, adds a short summary
over that evidence; its sentences go through the same verification as everything else and are
dropped when no abstract supports them. A failing backend becomes a note, never a lost answer.
Citation numbers come from the conversation (:class:`~rag.types.answers.Numbering`), so a paper keeps
its ``[n]`` across follow-ups.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rag.answer.cite import summary_lines, verify_lines
from rag.answer.evidence import PaperEvidence, select_evidence, wants_number
from rag.answer.parts import EXTRACTIVE, NO_LIST, REFUSAL, filter_left_nothing, nearest, source
from rag.answer.summary import model_sees, summarise
from rag.answer.summary_check import why_uninformative
from rag.judge.reader import listing_threshold, load_reader, read_evidence
from rag.lists import rules as listing
from rag.lists.judges import LIST_LEARNED, LIST_READER, LIST_RULES
from rag.lists.model import JudgeCache
from rag.lists.pin import pin_back
from rag.lists.route import run_list
from rag.protocols import LLM, Retriever
from rag.question import compare
from rag.question.followup import Standalone, excluded_pick, rewrite
from rag.question.unknown import unknown_names, unknown_note
from rag.settings import Settings
from rag.text import claims
from rag.text.analysis import Idf, stem
from rag.text.clauses import answering_span
from rag.text.lexicon import CONTRIBUTION, FOLLOW_UP_WORDS
from rag.types.answers import Answer, Citation, Event, Line, Numbering
from rag.types.papers import Filters, Hit, SearchResult

__all__ = ["EXTRACTIVE", "LIST_LEARNED", "LIST_READER", "LIST_RULES", "NO_LIST", "REFUSAL", "AnswerEngine",
           "filter_left_nothing"]


# words a follow-up uses to point and ask for more, not to name a topic (stemmed)
_FOLLOW_UP_WORDS = frozenset(stem(w) for w in FOLLOW_UP_WORDS)


def _contribution_sentences(sentences: list) -> list:
    """The sentences that say what a paper does ("we propose ..."), else its first two."""
    picked = [s for s in sentences if CONTRIBUTION.search(s.text)][:2]
    return picked or sorted(sentences, key=lambda s: s.index)[:2]


@dataclass(frozen=True)
class Routed:
    """A question read for routing: the route that answers it and what that route reads."""

    route: Literal["pin", "list", "answer"]
    question: str  # whitespace-normalised, as asked
    standalone: Standalone | None  # the follow-up resolved against the history (not for "pin")
    pick: int | None = None  # "pin": the 1-based near-miss asked for


class AnswerEngine:
    """Shared by every session: holds the retriever (and through it the corpus IDF of its index
    generation), the optional LLM and the judge cache. Cheap to build: a backend override per
    request costs nothing but the object."""

    def __init__(self, retriever: Retriever, llm: LLM | None = None, *, settings: Settings | None = None,
                 judge_cache: JudgeCache | None = None) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings or retriever.settings
        self.judge_cache = judge_cache if judge_cache is not None else JudgeCache(None)

    @property
    def idf(self) -> Idf:
        return self.retriever.idf

    @property
    def backend_name(self) -> str:
        return self.llm.name if self.llm is not None else EXTRACTIVE

    # --- public API ----------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Answer] | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        from rag.answer.stream import fold

        return fold(self.stream(question, history, k, filters))

    def stream(self, question: str, history: Sequence[Answer] | None = None, k: int | None = None,
               filters: Filters | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        yield from self.run(self.route(question, history), history, k, filters, t0)

    def route(self, question: str, history: Sequence[Answer] | None = None) -> Routed:
        """Which route answers ``question`` after ``history``: a near-miss pinned back ("include
        the second one"), the list route ("which papers ...?") or the normal one."""
        question = " ".join(question.split())
        if history and (pick := excluded_pick(question, history[-1])) is not None:
            return Routed("pin", question, None, pick)
        standalone = rewrite(question, history)
        is_list = (self.settings.answer.aggregate_route and listing.is_aggregate(standalone.question)
                   and not standalone.pinned)
        return Routed("list" if is_list else "answer", question, standalone)

    def run(self, routed: Routed, history: Sequence[Answer] | None = None, k: int | None = None,
            filters: Filters | None = None, t0: float | None = None) -> Iterator[Event]:
        """The events of the route ``routed`` names."""
        t0 = time.perf_counter() if t0 is None else t0
        numbering = Numbering(history or ())
        question, standalone = routed.question, routed.standalone
        if routed.route == "pin":
            assert history and routed.pick is not None
            yield from pin_back(question, history[-1], routed.pick, numbering, t0)
            return
        assert standalone is not None
        shown_as = standalone.question if standalone.rewritten else None
        if routed.route == "list":
            yield from run_list(self, question, standalone.question, shown_as, filters, numbering, t0)
        else:
            yield from self._answer(question, standalone.question, shown_as, standalone.pinned, k, filters,
                                    numbering, t0)

    def vetoes(self, question: str, papers: Sequence[PaperEvidence]) -> list[str]:
        """Mark as not relevant the evidence papers the question rules out, and say why: a paper
        stating the opposite of the finding asked for (or on the other side of an attack /
        defence question), or every paper when the question names something no abstract uses."""
        cfg = self.settings.answer
        said = claims.drop_opposed(question, papers, self.idf) if cfg.opposite_veto else []
        missing = unknown_names(question, self.idf) if cfg.name_veto else []
        if missing:  # a name no abstract uses: no paper here can be about it
            for pe in papers:
                pe.relevant = False
            said.append(unknown_note(missing))
        return said

    # --- normal questions ----------------------------------------------------------------------
    def _search_query(self, question: str, pinned: list[str]) -> str:
        """What retrieval is asked: the question, plus the titles of the papers a follow-up
        points at (their words find the neighbours the user is asking about)."""
        titles = [self.retriever.papers[p].title for p in pinned if p in self.retriever.papers]
        return f"{question} (in: {'; '.join(titles)})" if titles else question

    def _hits(self, query: str, pinned: list[str], k: int, filters: Filters | None) -> tuple[list[Hit], SearchResult]:
        res = self.retriever.search(query, k=k, filters=filters, mode=self.settings.answer.retrieval_mode)
        hits = list(res.hits)
        if pinned:
            extra = [Hit(paper=self.retriever.papers[p], score=1.0, rank=0, best_chunk="")
                     for p in pinned if p in self.retriever.papers]
            hits = extra + [h for h in hits if h.paper.paper_id not in set(pinned)]
        return hits, res

    def _answer(self, question: str, standalone: str, shown_as: str | None, pinned: list[str], k: int | None,
                filters: Filters | None, numbering: Numbering, t0: float) -> Iterator[Event]:
        cfg, th = self.settings.answer, self.settings.evidence
        k = k or self.settings.top_k
        hits, res = self._hits(self._search_query(standalone, pinned), pinned, k, filters)
        notes = [res.filter_note] if res.filter_note else []
        timings = {"retrieve_s": time.perf_counter() - t0}
        sources = [source(h) for h in hits]
        yield Event(type="sources", sources=sources)
        for n in notes:
            yield Event(type="note", text=n)
        if pinned:
            # the user pointed at these papers: any sentence that bears on the question is an answer
            ev = select_evidence(standalone, hits[: len(pinned)], self.idf, th)
            open_ended = not [t for t in ev.question_terms if t not in _FOLLOW_UP_WORDS]
            for pe in ev.papers:
                if open_ended:
                    # "what else does it show?": nothing to match, so quote what the paper contributes
                    pe.sentences = _contribution_sentences(pe.sentences)
                    pe.relevant, pe.reason = bool(pe.sentences), "the paper you asked about"
                else:
                    pe.relevant = bool(pe.best and pe.best.coverage >= th.quote)
            if not any(pe.relevant for pe in ev.papers):
                # the user pointed at these papers and no sentence shares the question's words: answer
                # from each by meaning ("what hardware does it target?" -> "... on A100"), never refuse
                for pe in ev.papers:
                    closest = self._closest_sentences(standalone, pe, n=2)
                    pe.sentences = closest or _contribution_sentences(pe.sentences)
                    pe.by_meaning = pe.relevant = bool(pe.sentences)
                    pe.reason = "the sentences of the paper you asked about closest to the question"
        else:
            ev = select_evidence(standalone, hits, self.idf, th)
            if cfg.reader:
                reader = load_reader(self.settings.listing.reader_path)
                read_evidence(reader, standalone, ev.papers,
                              listing_threshold(reader, self.settings.listing.reader_threshold), quoted=cfg.max_papers)
            for n in self.vetoes(standalone, ev.papers):
                notes.append(n)
                yield Event(type="note", text=n)
        chosen = ev.relevant[: max(cfg.max_papers, len(pinned))]
        named = (compare.named_papers(standalone, hits[: cfg.compare_depth])
                 if not pinned and compare.is_compare(standalone) else [])
        if len(named) >= 2:
            chosen = self._named_evidence(standalone, ev, named)
        timings["evidence_s"] = time.perf_counter() - t0
        base = dict(question=question, backend=self.backend_name, route="answer", standalone_question=shown_as,
                    pinned=list(pinned), sources=sources, notes=notes)
        if not chosen:
            empty = filter_left_nothing(res) if not pinned else None
            lines = [Line(kind="heading", text=empty)] if empty else nearest(hits, REFUSAL)
            for line in lines:
                yield Event(type="line", line=line)
            yield Event(type="done", answer=Answer(lines=lines, refused=True, **base,
                                                   timings={**timings, "total_s": time.perf_counter() - t0}))
            return
        lines = self._quote_lines(chosen, standalone, ignore=_FOLLOW_UP_WORDS if pinned else frozenset())
        for line in lines:
            n = numbering(line.paper_id)
            yield Event(type="line", line=line, citation=Citation(
                n=n, paper_id=line.paper_id, title=line.label, quote=line.sentence, supported=True))
        timings["first_token_s"] = time.perf_counter() - t0
        papers = {pe.hit.paper.paper_id: pe.hit.paper for pe in chosen}
        if self.llm is not None:
            summary, note = yield from summarise(self.llm, self.settings, standalone, chosen)
            if note:
                notes.append(note)
                base["backend"] = EXTRACTIVE  # the model failed: the evidence alone made this answer
            if summary.strip():
                # the model saw only the quoted sentences: check it against those, not whole abstracts,
                # so nothing it invents (or copies from an injected instruction) can pass
                shown = [replace(pe.hit.paper, abstract=" ".join(s.text for s in model_sees(pe, i)))
                         for i, pe in enumerate(chosen)]
                extra, removed = summary_lines(summary, shown, self.idf, threshold=cfg.support_threshold)
                notes += removed
                for line in extra:
                    # verified is not enough: a sentence that restates the question adds nothing
                    why = why_uninformative(line.text, standalone, [p.title for p in papers.values()],
                                            [p.abstract for p in shown], wants_number=wants_number(standalone))
                    if why:
                        notes.append(f"left out the model's summary: {why} ({line.text[:80]!r})")
                    else:
                        lines.append(line)
        checked = verify_lines(lines, papers, self.idf, numbering.known(), threshold=cfg.support_threshold)
        notes += checked.dropped
        cited = {c.paper_id for c in checked.citations}
        for s in sources:
            s.cited = s.paper_id in cited
        final = checked.lines if not checked.empty else [Line(kind="heading", text=REFUSAL)]
        yield Event(type="done", answer=Answer(
            lines=final, citations=checked.citations, refused=checked.empty, **base,
            timings={**timings, "total_s": time.perf_counter() - t0}))

    def _named_evidence(self, question: str, ev, named: Sequence[Hit]) -> list[PaperEvidence]:
        """Each paper a compare question names, with the sentences that bear on the question (by
        shared terms, or else by meaning): the answer is organised by those papers."""
        th = self.settings.evidence
        by_id = {pe.hit.paper.paper_id: pe for pe in ev.papers}
        out = []
        for h in named:
            pe = by_id[h.paper.paper_id]
            if not (pe.best and pe.best.coverage >= th.quote):
                closest = self._closest_sentences(question, pe, n=2)
                if closest:
                    pe.sentences, pe.by_meaning = closest, True
            pe.relevant, pe.reason = bool(pe.sentences), "a paper the question names"
            if pe.relevant:
                out.append(pe)
        return out

    def _closest_sentences(self, question: str, pe: PaperEvidence, n: int = 1) -> list:
        """The paper's sentences nearest the question in the embedder's space ("what hardware does
        it target?" finds "... on A100 GPUs" though no word is shared). Empty without an embedder."""
        embedder = self.retriever.embedder
        if embedder is None or not pe.sentences:
            return []
        q = embedder.embed_query(question)
        vecs = embedder.embed_documents([f"{pe.hit.paper.title}: {s.text}" for s in pe.sentences])
        sims = vecs @ q
        best = sorted(range(len(pe.sentences)), key=lambda i: -float(sims[i]))[:n]
        return [pe.sentences[i] for i in best]

    def _quote_lines(self, chosen: list[PaperEvidence], question: str,
                     ignore: frozenset[str] = frozenset()) -> list[Line]:
        """One quote line per evidence sentence, cut to the clause(s) that answer the question
        (``rag.text.clauses``) unless it was chosen by meaning (no shared term says which clause)."""
        cfg, th = self.settings.answer, self.settings.evidence
        lines = []
        for pe in chosen:
            p = pe.hit.paper
            top = pe.sentences[: cfg.sentences_per_paper]
            if pe.read:  # the reader's best sentence, and the next one if it also shares the question's terms
                strong = top[:1] + [s for s in top[1:] if s.coverage >= th.quote]
            else:
                strong = top if pe.by_meaning else [s for s in top if s.coverage >= th.quote] or pe.sentences[:1]
            for s in sorted(strong, key=lambda s: s.index):
                span = (answering_span(s.text, question, ignore=ignore, keep_under_words=cfg.clause_keep_words)
                        if cfg.clause_quotes and not pe.by_meaning else None)
                cut = span is not None and not span.whole
                lines.append(Line(kind="quote", text=span.text if cut else s.text, paper_id=p.paper_id,
                                  label=p.title, cites=[p.paper_id], context=s.text if cut else "",
                                  cut_before=cut and span.cut_before, cut_after=cut and span.cut_after))
        return lines
