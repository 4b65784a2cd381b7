"""The list route as steps: gather the pool -> veto names no abstract uses -> judge (a chain of
judges, the next taking over when a backend fails) -> items with verbatim quotes -> the answer."""

from __future__ import annotations

import time
from collections.abc import Iterator

from rag.answer.parts import NO_LIST, filter_left_nothing, nearest, source
from rag.answer.route import RouteContext
from rag.answer.vetoes import unknown_name_veto
from rag.errors import BackendError
from rag.judge.passage import passage_sentences
from rag.lists import fitted as list_judge
from rag.lists import near
from rag.lists import rules as listing
from rag.lists.judges import ListInput, ListJudge, Verdicts, judges_for
from rag.question.read import Question
from rag.question.unknown import unknown_note
from rag.settings import Settings
from rag.text.clauses import answering_span
from rag.types.answers import Answer, Citation, Event, Line, Numbering


def _item(j: listing.Judgement, numbers: Numbering, question: Question, settings: Settings) -> tuple[Line, Citation]:
    """A listed paper as a line (its quote cut to the clauses that answer) and its citation."""
    cfg = settings.answer
    p = j.hit.paper
    c = Citation(n=numbers(p.paper_id), paper_id=p.paper_id, title=p.title, quote=j.quote,
                 supported=True, support_score=round(j.score, 3), reason=j.reason)
    span = answering_span(j.quote, question, keep_under_words=cfg.clause_keep_words) if cfg.clause_quotes else None
    cut = span is not None and not span.whole
    return Line(kind="item", text=span.text if cut else j.quote, paper_id=p.paper_id, label=p.title,
                cites=[p.paper_id], context=j.quote if cut else "", cut_before=cut and span.cut_before,
                cut_after=cut and span.cut_after), c


def _judge(chain: list[ListJudge], given: ListInput, notes: list[str], emit) -> Iterator[Event]:
    """Run the chain until a judge decides; yields note and streamed-item events. Returns the
    deciding judge and its verdicts."""
    for n, judge in enumerate(chain):
        run = judge.run(given)
        try:
            while True:
                got = next(run)
                if isinstance(got, str):
                    notes.append(got)
                    yield Event(type="note", text=got)
                else:
                    yield emit(got)
        except StopIteration as stop:
            return judge, stop.value
        except BackendError as e:
            if n + 1 == len(chain):
                raise
            notes.append(f"{e} — judged without the model instead (paperchat's own list judge)")
            yield Event(type="note", text=notes[-1])
    raise AssertionError("a judge chain is never empty")


class ListRoute:
    """Which papers have a property ("which papers skip warmup?"): every paper the judge finds,
    each quoted."""

    def run(self, q: Question, ctx: RouteContext) -> Iterator[Event]:
        settings, numbering, t0 = ctx.settings, ctx.numbering, ctx.t0
        cfg = settings.answer
        cap = cfg.aggregate_candidates
        hits, res = list_judge.gather(ctx.retriever, q, cap, ctx.filters, cfg.retrieval_mode)
        notes = [res.filter_note] if res.filter_note else []
        timings = {"retrieve_s": time.perf_counter() - t0}
        sources = [source(h) for h in hits]
        yield Event(type="sources", sources=sources[: max(10, settings.top_k)])
        chain = judges_for(settings, ctx.llm, ctx.judge_cache, q)

        def item(j: listing.Judgement, numbers: Numbering) -> tuple[Line, Citation]:
            timings.setdefault("first_token_s", time.perf_counter() - t0)
            return _item(j, numbers, q, settings)

        scratch = numbering.copy()  # streamed items are numbered on a scratch copy; the answer renumbers them

        def streamed(j: listing.Judgement) -> Event:
            line, c = item(j, scratch)
            return Event(type="line", line=line, citation=c)

        missing = unknown_name_veto(q, ctx.idf, settings)
        if missing:  # whoever would judge: a name no abstract uses is in no paper here
            closest = hits[: cfg.near_misses]
            quotes = [next(iter(passage_sentences(q.terms, h.paper.abstract, 1)), "") for h in closest]
            judge, verdicts = chain[-1], Verdicts([], excluded=near.unread_name(closest, quotes, missing))
            notes.append(unknown_note(missing))
            yield Event(type="note", text=notes[-1])
        else:
            judge, verdicts = yield from _judge(chain, ListInput(q, hits, res, ctx.retriever, ctx.idf),
                                                notes, streamed)
            notes += verdicts.notes
        judged = verdicts.judged
        if not judge.streams and not missing:
            tail = [j for j in judged if j.hit.rank > 0.8 * cap]
            if len(hits) >= cap and tail:
                # only worth saying when the list reaches the end of what was read
                notes.append(f"Only the {cap} papers closest to the question were read, and some of the listed "
                             "papers were near that limit: a few more may exist further down.")
        citations: list[Citation] = []
        items: list[Line] = []
        for j in judged:  # the final order (most relevant first) takes the conversation's numbers
            line, c = item(j, numbering)
            items.append(line)
            citations.append(c)
            if not judge.streams:
                yield Event(type="line", line=line, citation=c)
        timings["judge_s"] = time.perf_counter() - t0
        cited = {c.paper_id for c in citations}
        for s in sources:
            s.cited = s.paper_id in cited
        if not judged:
            empty = filter_left_nothing(res)
            lines = [Line(kind="heading", text=empty)] if empty else nearest(hits, NO_LIST)
        else:
            count = f"{len(judged)} paper{'s' if len(judged) != 1 else ''} in the index"
            lines = [Line(kind="heading", text=f"{count} {'say so' if len(judged) != 1 else 'says so'}:"), *items]
        cited_sources = [s for s in sources if s.cited] + [s for s in sources if not s.cited][:10]
        yield Event(type="done", answer=Answer(
            question=q.asked, lines=lines, citations=citations, refused=not judged, backend=judge.label,
            route="aggregate", standalone_question=q.shown_as, sources=cited_sources, notes=notes,
            timings={**timings, "total_s": time.perf_counter() - t0}, excluded=verdicts.excluded))
