"""The normal route: a question about what papers say, find or propose, answered with verbatim
quotes and, where a model is at hand, a checked one-sentence summary.

Steps, in order: retrieve -> select evidence (or read the papers a follow-up points at) ->
vetoes -> choose the papers (a compare question takes the papers it names) -> quote lines ->
the model's summary -> verify. Every quote line is an evidence sentence of a retrieved
abstract, citing that paper by id; the model's sentences go through the same verification and
are dropped when no quoted sentence supports them. A failing backend becomes a note.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from rag.answer.cite import summary_lines, verify_lines
from rag.answer.evidence import EvidenceSet, PaperEvidence, Sentence, select_evidence
from rag.answer.parts import EXTRACTIVE, REFUSAL, filter_left_nothing, nearest, source
from rag.answer.route import RouteContext
from rag.answer.summary import model_sees, summarise
from rag.answer.summary_check import why_uninformative
from rag.answer.vetoes import apply_vetoes
from rag.judge.reader import listing_threshold, load_reader, read_evidence
from rag.question import compare
from rag.question.read import Question
from rag.text.analysis import stem
from rag.text.clauses import answering_span
from rag.text.lexicon import CONTRIBUTION, FOLLOW_UP_WORDS
from rag.types.answers import Answer, Citation, Event, Line
from rag.types.papers import Hit, SearchResult

# words a follow-up uses to point and ask for more, not to name a topic (stemmed)
_FOLLOW_UP_WORDS = frozenset(stem(w) for w in FOLLOW_UP_WORDS)


def _contribution_sentences(sentences: list) -> list:
    """The sentences that say what a paper does ("we propose ..."), else its first two."""
    picked = [s for s in sentences if CONTRIBUTION.search(s.text)][:2]
    return picked or sorted(sentences, key=lambda s: s.index)[:2]


class NormalRoute:
    """Questions that are neither list questions nor a near-miss pinned back."""

    def run(self, q: Question, ctx: RouteContext) -> Iterator[Event]:
        cfg, t0 = ctx.settings.answer, ctx.t0
        pinned = list(q.pinned)
        hits, res = self.retrieve(q, ctx)
        notes = [res.filter_note] if res.filter_note else []
        timings = {"retrieve_s": time.perf_counter() - t0}
        sources = [source(h) for h in hits]
        yield Event(type="sources", sources=sources)
        for n in notes:
            yield Event(type="note", text=n)
        if pinned:
            ev = self.pinned_evidence(q, hits[: len(pinned)], ctx)
        else:
            ev = self.evidence(q, hits, ctx)
            for n in apply_vetoes(q, ev.papers, ctx.idf, ctx.settings):
                notes.append(n)
                yield Event(type="note", text=n)
        chosen = self.choose(q, ev, hits, ctx)
        timings["evidence_s"] = time.perf_counter() - t0
        base = dict(question=q.asked, backend=ctx.backend_name, route="answer", standalone_question=q.shown_as,
                    pinned=pinned, sources=sources, notes=notes)
        if not chosen:
            empty = filter_left_nothing(res) if not pinned else None
            lines = [Line(kind="heading", text=empty)] if empty else nearest(hits, REFUSAL)
            for line in lines:
                yield Event(type="line", line=line)
            yield Event(type="done", answer=Answer(lines=lines, refused=True, **base,
                                                   timings={**timings, "total_s": time.perf_counter() - t0}))
            return
        lines = self.quote_lines(chosen, q, ctx, ignore=_FOLLOW_UP_WORDS if pinned else frozenset())
        for line in lines:
            yield Event(type="line", line=line, citation=Citation(
                n=ctx.numbering(line.paper_id), paper_id=line.paper_id, title=line.label, quote=line.sentence,
                supported=True))
        timings["first_token_s"] = time.perf_counter() - t0
        papers = {pe.hit.paper.paper_id: pe.hit.paper for pe in chosen}
        if ctx.llm is not None:
            failed = yield from self.summary(q, chosen, lines, notes, ctx)
            if failed:
                base["backend"] = EXTRACTIVE  # the model failed: the evidence alone made this answer
        checked = verify_lines(lines, papers, ctx.idf, ctx.numbering.known(), threshold=cfg.support_threshold)
        notes += checked.dropped
        cited = {c.paper_id for c in checked.citations}
        for s in sources:
            s.cited = s.paper_id in cited
        final = checked.lines if not checked.empty else [Line(kind="heading", text=REFUSAL)]
        yield Event(type="done", answer=Answer(
            lines=final, citations=checked.citations, refused=checked.empty, **base,
            timings={**timings, "total_s": time.perf_counter() - t0}))

    # --- steps ---------------------------------------------------------------------------------
    def retrieve(self, q: Question, ctx: RouteContext) -> tuple[list[Hit], SearchResult]:
        """The hits for ``q``; a follow-up's papers first. Retrieval is also asked the titles of
        the papers it points at (their words find the neighbours the user is asking about)."""
        papers = ctx.retriever.papers
        titles = [papers[p].title for p in q.pinned if p in papers]
        query = f"{q.text} (in: {'; '.join(titles)})" if titles else q.text
        res = ctx.retriever.search(query, k=ctx.k or ctx.settings.top_k, filters=ctx.filters,
                                   mode=ctx.settings.answer.retrieval_mode)
        hits = list(res.hits)
        if q.pinned:
            extra = [Hit(paper=papers[p], score=1.0, rank=0, best_chunk="") for p in q.pinned if p in papers]
            hits = extra + [h for h in hits if h.paper.paper_id not in set(q.pinned)]
        return hits, res

    def evidence(self, q: Question, hits: list[Hit], ctx: RouteContext) -> EvidenceSet:
        """Which sentences of which hits bear on the question; the reading judge decides when on."""
        ev = select_evidence(q, hits, ctx.idf, ctx.settings.evidence)
        if ctx.settings.answer.reader:
            listing = ctx.settings.listing
            reader = load_reader(listing.reader_path)
            read_evidence(reader, q.text, q.terms, ev.papers, listing_threshold(reader, listing.reader_threshold),
                          quoted=ctx.settings.answer.max_papers)
        return ev

    def pinned_evidence(self, q: Question, hits: list[Hit], ctx: RouteContext) -> EvidenceSet:
        """The papers the user pointed at: any sentence that bears on the question is an answer;
        never a refusal, since the user chose them."""
        th = ctx.settings.evidence
        ev = select_evidence(q, hits, ctx.idf, th)
        open_ended = not [t for t in ev.question_terms if t not in _FOLLOW_UP_WORDS]
        for pe in ev.papers:
            if open_ended:
                # "what else does it show?": nothing to match, so quote what the paper contributes
                pe.sentences = _contribution_sentences(pe.sentences)
                pe.relevant, pe.reason = bool(pe.sentences), "the paper you asked about"
            else:
                pe.relevant = pe.top_coverage >= th.quote
        if not any(pe.relevant for pe in ev.papers):
            # no sentence shares the question's words: answer from each by meaning ("what hardware
            # does it target?" -> "... on A100"), never refuse
            for pe in ev.papers:
                closest = self.closest_sentences(q, pe, ctx, n=2)
                pe.sentences = closest or _contribution_sentences(pe.sentences)
                pe.by_meaning = pe.relevant = bool(pe.sentences)
                pe.reason = "the sentences of the paper you asked about closest to the question"
        return ev

    def choose(self, q: Question, ev: EvidenceSet, hits: list[Hit], ctx: RouteContext) -> list[PaperEvidence]:
        """The papers the answer quotes: the relevant ones, or the papers a compare question names."""
        cfg = ctx.settings.answer
        chosen = ev.relevant[: max(cfg.max_papers, len(q.pinned))]
        named = compare.named_papers(q.text, q.names, hits[: cfg.compare_depth]) if not q.pinned and q.compare else []
        return self.named_evidence(q, ev, named, ctx) if len(named) >= 2 else chosen

    def named_evidence(self, q: Question, ev: EvidenceSet, named: Sequence[Hit], ctx: RouteContext) -> list[PaperEvidence]:
        """Each paper a compare question names, with the sentences that bear on the question (by
        shared terms, or else by meaning): the answer is organised by those papers."""
        th = ctx.settings.evidence
        by_id = {pe.hit.paper.paper_id: pe for pe in ev.papers}
        out = []
        for h in named:
            pe = by_id[h.paper.paper_id]
            if not pe.top_coverage >= th.quote:
                closest = self.closest_sentences(q, pe, ctx, n=2)
                if closest:
                    pe.sentences, pe.by_meaning = closest, True
            pe.relevant, pe.reason = bool(pe.sentences), "a paper the question names"
            if pe.relevant:
                out.append(pe)
        return out

    def closest_sentences(self, q: Question, pe: PaperEvidence, ctx: RouteContext, n: int = 1) -> list:
        """The paper's sentences nearest the question in the embedder's space ("what hardware does
        it target?" finds "... on A100 GPUs" though no word is shared). Empty without an embedder."""
        embedder = ctx.retriever.embedder
        if embedder is None or not pe.sentences:
            return []
        qv = embedder.embed_query(q.text)
        vecs = embedder.embed_documents([f"{pe.hit.paper.title}: {s.text}" for s in pe.sentences])
        sims = vecs @ qv
        best = sorted(range(len(pe.sentences)), key=lambda i: -float(sims[i]))[:n]
        return [pe.sentences[i] for i in best]

    def quote_lines(self, chosen: list[PaperEvidence], q: Question, ctx: RouteContext,
                    ignore: frozenset[str] = frozenset()) -> list[Line]:
        """One quote line per evidence sentence, cut to the clause(s) that answer the question
        (``rag.text.clauses``) unless it was chosen by meaning (no shared term says which clause)."""
        cfg, th = ctx.settings.answer, ctx.settings.evidence
        lines = []
        for pe in chosen:
            p = pe.hit.paper
            top = pe.sentences[: cfg.sentences_per_paper]
            # the best sentence (the reader's, or the one that says most of what is asked), and the
            # next ones if they also share the question's terms
            strong = top if pe.by_meaning else top[:1] + [s for s in top[1:] if s.coverage >= th.quote
                                                           or s.asked >= th.second_quote_asked]
            strong += _stating(pe, strong, q)
            for s in sorted(strong, key=lambda s: s.index):
                span = (answering_span(s.text, q, ignore=ignore, keep_under_words=cfg.clause_keep_words)
                        if cfg.clause_quotes and not pe.by_meaning else None)
                cut = span is not None and not span.whole
                lines.append(Line(kind="quote", text=span.text if cut else s.text, paper_id=p.paper_id,
                                  label=p.title, cites=[p.paper_id], context=s.text if cut else "",
                                  cut_before=cut and span.cut_before, cut_after=cut and span.cut_after))
        return lines

    def summary(self, q: Question, chosen: list[PaperEvidence], lines: list[Line], notes: list[str],
                ctx: RouteContext):
        """The model's summary over the quoted evidence (its token events streamed), checked
        against the sentences the model saw; the verified, informative sentences join ``lines``.
        Returns True when the model failed (the evidence alone made the answer)."""
        cfg = ctx.settings.answer
        summary, note = yield from summarise(ctx.llm, ctx.settings, q.text, chosen)
        if note:
            notes.append(note)
        if summary.strip():
            # the model saw only the quoted sentences: check it against those, not whole abstracts,
            # so nothing it invents (or copies from an injected instruction) can pass
            shown = [replace(pe.hit.paper, abstract=" ".join(s.text for s in model_sees(pe, i)))
                     for i, pe in enumerate(chosen)]
            extra, removed = summary_lines(summary, shown, ctx.idf, threshold=cfg.support_threshold)
            notes += removed
            titles = [pe.hit.paper.title for pe in chosen]
            for line in extra:
                # verified is not enough: a sentence that restates the question adds nothing
                why = why_uninformative(line.text, q.text, titles, [p.abstract for p in shown],
                                        wants_number=q.wants_number)
                if why:
                    notes.append(f"left out the model's summary: {why} ({line.text[:80]!r})")
                else:
                    lines.append(line)
        return bool(note)


def _stating(pe: PaperEvidence, quoted: list[Sentence], q: Question) -> list[Sentence]:
    """The paper's best sentence stating a number (a number question) or a name the question does
    not use (a question asking for names), when no quoted one does: "by how much does <a long
    description> speed up X?" is answered by "speeds up the baselines by over 8x", which covers
    few of the description's words, and a quote without it does not answer."""
    if pe.by_meaning or not (q.wants_number or q.wants_names) or any(s.number > 0 for s in quoted):
        return []
    return next(([s] for s in pe.sentences if s.number > 0), [])
