"""The answer engine: question -> retrieval -> evidence -> cited answer, streamed as structure.

Our code owns the answer's structure and its citations: every quote line is an evidence sentence
of a retrieved abstract, citing that paper by id. A model, when there is one, adds a short summary
over that evidence; its sentences go through the same verification as everything else and are
dropped when no abstract supports them. A failing backend becomes a note, never a lost answer.
Citation numbers come from the conversation (:class:`~rag.types.Numbering`), so a paper keeps
its ``[n]`` across follow-ups.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import replace

from rag import claims, compare, list_judge, listing
from rag.cite import summary_lines, verify_lines
from rag.clauses import answering_span
from rag.errors import BackendError
from rag.evidence import PaperEvidence, select_evidence, wants_number
from rag.followup import rewrite
from rag.llm.budget import OutOfTime, within
from rag.model_judge import JudgeCache, judge_with_llm
from rag.settings import Settings
from rag.summary_check import why_uninformative
from rag.text import Idf, stem
from rag.types import Answer, Citation, Event, Filters, Hit, Line, Numbering, SearchResult, Source
from rag.unknown import unknown_names, unknown_note

REFUSAL = "I couldn't find this in the indexed papers."
NO_LIST = "No paper in the index says this."
EXTRACTIVE = "none (extractive)"  # the answer's backend when no model wrote any of it
LIST_RULES = "rules (aggregate)"
LIST_LEARNED = "list judge (fitted)"

# words a follow-up uses to point and ask for more, not to name a topic (stemmed)
_FOLLOW_UP_WORDS = frozenset(stem(w) for w in """
else more tell me us about explain summarise summarize summary describe detail details it its this that they them
their these those one first second third last again also other further main contribution key result
results finding findings report reports say says
""".split())


_CONTRIBUTION = re.compile(r"\b(?:we|this paper|this work)\s+(?:propose|present|introduce|show|find|develop|"
                           r"demonstrate|achieve|study)", re.IGNORECASE)


def _contribution_sentences(sentences: list) -> list:
    """The sentences that say what a paper does ("we propose ..."), else its first two."""
    picked = [s for s in sentences if _CONTRIBUTION.search(s.text)][:2]
    return picked or sorted(sentences, key=lambda s: s.index)[:2]


def _source(hit: Hit, cited: bool = False) -> Source:
    p = hit.paper
    return Source(paper_id=p.paper_id, title=p.title, score=round(hit.score, 6), abstract=p.abstract,
                  date=p.date or p.date_text, upvotes=p.upvotes, authors=p.authors,
                  organization=p.organization, cited=cited)


def filter_left_nothing(res: SearchResult) -> str | None:
    """Why a filter left no paper to answer from, in words (None when it left some)."""
    f = res.filters
    if not f.active or res.papers_matching_filters > 0:
        return None
    dated, voted = bool(f.date_from or f.date_to), f.min_upvotes is not None
    what = ("full date (with its year) or upvote count" if dated and voted
            else "full date (with its year)" if dated else "upvote count")
    total, missing = res.papers_total, res.papers_missing_field
    if missing >= total:
        return f"No paper passes the filter ({f.describe()}): none of the {total} indexed papers has a {what}."
    return (f"No paper passes the filter ({f.describe()}): {missing} of the {total} indexed papers have no {what}, "
            f"and none of the other {total - missing} matches.")


def _nearest(hits: Sequence[Hit], head: str) -> list[Line]:
    near = list(hits[:3])
    if not near:
        return [Line(kind="heading", text=head)]
    return [Line(kind="heading", text=f"{head} The nearest papers are:")] + [
        Line(kind="nearest", text=h.paper.title, paper_id=h.paper.paper_id, label=h.paper.title) for h in near]


class AnswerEngine:
    """Shared by every session: holds the retriever (and through it the corpus IDF of its index
    generation), the optional LLM and the judge cache. Cheap to build: a backend override per
    request costs nothing but the object."""

    def __init__(self, retriever, llm=None, *, settings: Settings | None = None,
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
        from rag.stream import fold

        return fold(self.stream(question, history, k, filters))

    def stream(self, question: str, history: Sequence[Answer] | None = None, k: int | None = None,
               filters: Filters | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        question = " ".join(question.split())
        standalone = rewrite(question, history)
        numbering = Numbering(history or ())
        shown_as = standalone.question if standalone.rewritten else None
        cfg = self.settings.answer
        if cfg.aggregate_route and listing.is_aggregate(standalone.question) and not standalone.pinned:
            yield from self._aggregate(question, standalone.question, shown_as, filters, numbering, t0)
        else:
            yield from self._answer(question, standalone.question, shown_as, standalone.pinned, k, filters,
                                    numbering, t0)

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
        sources = [_source(h) for h in hits]
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
            said = claims.drop_opposed(standalone, ev.papers, self.idf)
            missing = unknown_names(standalone, self.idf)
            if missing:  # a name no abstract uses: no paper here can be about it
                for pe in ev.papers:
                    pe.relevant = False
                said.append(unknown_note(missing))
            for n in said:
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
            lines = [Line(kind="heading", text=empty)] if empty else _nearest(hits, REFUSAL)
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
            summary, note = yield from self._summarise(standalone, chosen)
            if note:
                notes.append(note)
                base["backend"] = EXTRACTIVE  # the model failed: the evidence alone made this answer
            if summary.strip():
                # the model saw only the quoted sentences: check it against those, not whole abstracts,
                # so nothing it invents (or copies from an injected instruction) can pass
                shown = [replace(pe.hit.paper, abstract=" ".join(s.text for s in self._shown(pe, i)))
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
        embedder = getattr(self.retriever, "embedder", None)
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
        (``rag.clauses``) unless it was chosen by meaning (no shared term says which clause)."""
        cfg, th = self.settings.answer, self.settings.evidence
        lines = []
        for pe in chosen:
            p = pe.hit.paper
            top = pe.sentences[: cfg.sentences_per_paper]
            strong = top if pe.by_meaning else [s for s in top if s.coverage >= th.quote] or pe.sentences[:1]
            for s in sorted(strong, key=lambda s: s.index):
                span = (answering_span(s.text, question, ignore=ignore, keep_under_words=cfg.clause_keep_words)
                        if cfg.clause_quotes and not pe.by_meaning else None)
                cut = span is not None and not span.whole
                lines.append(Line(kind="quote", text=span.text if cut else s.text, paper_id=p.paper_id,
                                  label=p.title, cites=[p.paper_id], context=s.text if cut else "",
                                  cut_before=cut and span.cut_before, cut_after=cut and span.cut_after))
        return lines

    @staticmethod
    def _shown(pe: PaperEvidence, position: int) -> list:
        """Evidence sentences the model sees: two for the best paper, one for the others (short
        prompts: the bundled 0.5B model reads ~150 tokens/s on 2 cores)."""
        return sorted(pe.sentences[: 2 if position == 0 else 1], key=lambda s: s.index)

    def _summarise(self, question: str, chosen: list[PaperEvidence]):
        """Stream a short model-written summary over the evidence; returns (text, note)."""
        evidence = "\n".join(
            f"- {pe.hit.paper.title}: " + " ".join(f"\"{s.text}\"" for s in self._shown(pe, i))
            for i, pe in enumerate(chosen))
        messages = [
            {"role": "system", "content": self.settings.prompts.summary},
            {"role": "user", "content": f"Evidence:\n{evidence}\n\nQuestion: {question}\nOne-sentence answer:"},
        ]
        parts: list[str] = []
        cfg = self.settings.answer
        wait, budget = cfg.summary_wait_s, cfg.summary_budget_s
        slot = getattr(self.llm, "slot", None)
        held = ExitStack()  # the model's slot, released when its generation has really stopped
        if not held.enter_context(slot(wait) if slot is not None else nullcontext(True)):
            held.close()
            msg = (f"the model was busy with other questions for {wait:g}s, so this answer has no summary; "
                   "the quoted evidence is complete")
            yield Event(type="note", text=msg)
            return "", msg
        load = getattr(self.llm, "load", None)
        try:
            if callable(load):
                load()  # a first use loads the model (seconds): that is not the summary's time
        except BackendError as e:
            held.close()
            msg = f"{e} — answered from the evidence instead"
            yield Event(type="note", text=msg)
            return "", msg
        except BaseException:
            held.close()
            raise
        stream = within(lambda: self.llm.stream(messages, max_tokens=cfg.summary_tokens), budget, on_end=held.close)
        try:
            for delta in stream:
                parts.append(delta)
                yield Event(type="token", text=delta)
        except OutOfTime:
            # what was drafted is dropped whole: a cut-off sentence is never verified or shown
            msg = (f"the model had not finished its summary after {budget:g}s, so this answer has none; "
                   "the quoted evidence is complete")
            yield Event(type="note", text=msg)
            return "", msg
        except BackendError as e:
            msg = f"{e} — answered from the evidence instead"
            yield Event(type="note", text=msg)
            return "", msg
        finally:
            stream.close()
        return " ".join("".join(parts).split()), None

    # --- aggregate questions -------------------------------------------------------------------
    def _learned_judgements(self, question: str, hits: Sequence[Hit]) -> tuple[list[listing.Judgement], list[str]]:
        """The fitted list judge over the pool (``rag.list_judge``), and a note for each likely
        paper left out because it states the opposite of the finding asked for or is on the other
        side of an attack / defence question."""
        cfg = self.settings.listing
        cands = list_judge.pool_candidates(self.retriever, question, hits, cfg.sentence_depth)
        model = list_judge.shipped_model(cfg.model_path)
        notes = [f"not listed: “{c.hit.paper.title}” {c.opposite}"
                 for c in cands if c.opposite and model.probability(c.features) >= model.threshold]
        return list_judge.judge(cands, model), notes

    def _aggregate(self, question: str, standalone: str, shown_as: str | None, filters: Filters | None,
                   numbering: Numbering, t0: float) -> Iterator[Event]:
        cfg = self.settings.answer
        prop = listing.parse_property(standalone)
        cap = cfg.aggregate_candidates
        mode = cfg.retrieval_mode
        hits, res = list_judge.gather(self.retriever, standalone, cap, filters, mode)
        notes = [res.filter_note] if res.filter_note else []
        timings = {"retrieve_s": time.perf_counter() - t0}
        sources = [_source(h) for h in hits]
        yield Event(type="sources", sources=sources[: max(10, self.settings.top_k)])
        judged: list[listing.Judgement] | None = None
        backend = LIST_RULES

        def item(j: listing.Judgement, numbers: Numbering) -> tuple[Line, Citation]:
            p = j.hit.paper
            c = Citation(n=numbers(p.paper_id), paper_id=p.paper_id, title=p.title, quote=j.quote,
                         supported=True, support_score=round(j.score, 3), reason=j.reason)
            timings.setdefault("first_token_s", time.perf_counter() - t0)
            span = (answering_span(j.quote, standalone, keep_under_words=cfg.clause_keep_words)
                    if cfg.clause_quotes else None)
            cut = span is not None and not span.whole
            return Line(kind="item", text=span.text if cut else j.quote, paper_id=p.paper_id, label=p.title,
                        cites=[p.paper_id], context=j.quote if cut else "", cut_before=cut and span.cut_before,
                        cut_after=cut and span.cut_after), c

        missing = unknown_names(standalone, self.idf)
        if missing:  # whoever would judge: a name no abstract uses is in no paper here
            judged = []
            notes.append(unknown_note(missing))
            yield Event(type="note", text=notes[-1])
            backend = LIST_LEARNED if self.settings.listing.judge == "learned" else LIST_RULES
        elif self.llm is not None and getattr(self.llm, "capable_judge", False):
            pool = hits[: cfg.judge_cap]
            confirmed: list[listing.Judgement] = []
            # items stream in arrival order, numbered on a scratch copy; the answer renumbers them
            scratch = numbering.copy()
            try:
                for j in judge_with_llm(self.llm, standalone, pool, self.judge_cache, self.settings.prompts.judge,
                                        workers=cfg.judge_workers):
                    if j.qualifies:
                        confirmed.append(j)
                        line, c = item(j, scratch)
                        yield Event(type="line", line=line, citation=c)
                judged = sorted(confirmed, key=lambda j: j.hit.rank)
                backend = f"{self.llm.name} (judge)"
                if len(hits) > cfg.judge_cap:
                    notes.append(f"the judge checked the {cfg.judge_cap} best of {len(hits)} candidates; lower-ranked "
                                 "papers were not checked")
            except BackendError as e:
                notes.append(f"{e} — judged without the model instead (paperchat's own list judge)")
                yield Event(type="note", text=notes[-1])
        citations: list[Citation] = []
        items: list[Line] = []
        if judged is None:
            if self.settings.listing.judge == "learned":
                judged, opposed = self._learned_judgements(standalone, hits)
                for n in opposed:
                    notes.append(n)
                    yield Event(type="note", text=n)
                backend = LIST_LEARNED
            elif prop.polarity == "absence":
                judged = listing.judge_all(hits, prop, self.idf)
            else:
                judged = listing.judge_presence(res.hits, standalone, self.idf, self.settings.listing)
            tail = [j for j in judged if j.hit.rank > 0.8 * cap]
            if len(hits) >= cap and tail:
                # only worth saying when the list reaches the end of what was read
                notes.append(f"Only the {cap} papers closest to the question were read, and some of the listed "
                             "papers were near that limit: a few more may exist further down.")
            for j in judged:
                line, c = item(j, numbering)
                items.append(line)
                citations.append(c)
                yield Event(type="line", line=line, citation=c)
        else:
            for j in judged:  # the final order (most relevant first) takes the conversation's numbers
                line, c = item(j, numbering)
                items.append(line)
                citations.append(c)
        timings["judge_s"] = time.perf_counter() - t0
        cited = {c.paper_id for c in citations}
        for s in sources:
            s.cited = s.paper_id in cited
        if not judged:
            empty = filter_left_nothing(res)
            lines = [Line(kind="heading", text=empty)] if empty else _nearest(hits, NO_LIST)
        else:
            count = f"{len(judged)} paper{'s' if len(judged) != 1 else ''} in the index"
            lines = [Line(kind="heading", text=f"{count} {'say so' if len(judged) != 1 else 'says so'}:"), *items]
        cited_sources = [s for s in sources if s.cited] + [s for s in sources if not s.cited][:10]
        yield Event(type="done", answer=Answer(
            question=question, lines=lines, citations=citations, refused=not judged, backend=backend,
            route="aggregate", standalone_question=shown_as, sources=cited_sources, notes=notes,
            timings={**timings, "total_s": time.perf_counter() - t0}))
