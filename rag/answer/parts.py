"""Pieces both answer routes build from: the refusal headings, a hit as a shown source, the
nearest papers under a refusal, and why a filter left nothing. Pure logic."""

from __future__ import annotations

from collections.abc import Sequence

from rag.types.answers import Line, Source
from rag.types.papers import Hit, SearchResult

REFUSAL = "I couldn't find this in the indexed papers."
NO_LIST = "No paper in the index says this."
EXTRACTIVE = "none (extractive)"  # the answer's backend when no model wrote any of it


def source(hit: Hit, cited: bool = False) -> Source:
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


def nearest(hits: Sequence[Hit], head: str) -> list[Line]:
    """A refusal heading, with the three nearest papers when there are any."""
    near = list(hits[:3])
    if not near:
        return [Line(kind="heading", text=head)]
    return [Line(kind="heading", text=f"{head} The nearest papers are:")] + [
        Line(kind="nearest", text=h.paper.title, paper_id=h.paper.paper_id, label=h.paper.title) for h in near]
