"""What a chunk record holds in Chroma, and how :class:`~rag.types.papers.Filters` become a ``where``
clause over it: the paper's fields on every chunk (Chroma forbids None values, so absent ones are
left out), the whole abstract on a paper's head chunk, the date as an ordinal Chroma can
range-filter. Apart from the client (:mod:`rag.storage.chroma`): ingest writes this layout and
retrieval filters on it, neither through the store's own methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.types.papers import Filters, Paper

if TYPE_CHECKING:
    from rag.types.papers import Chunk

# Paper fields stored as Chroma metadata on every chunk (Chroma forbids None values).
_SCALAR_FIELDS = ("paper_id", "title", "source", "line", "authors", "organization", "date", "date_text",
                  "upvotes", "url", "author_names", "date_inferred")


def date_ord(iso: str | None) -> int | None:
    """yyyy-mm-dd -> yyyymmdd, an int Chroma can range-filter."""
    return int(iso.replace("-", "")) if iso else None


def paper_metadata(paper: Paper) -> dict:
    meta = {k: getattr(paper, k) for k in _SCALAR_FIELDS if getattr(paper, k) is not None}
    if paper.date:
        meta["date_ord"] = date_ord(paper.date)
    meta["content_hash"] = paper.content_hash
    return meta


def chunk_metadata(paper: Paper, chunk: Chunk, n_chunks: int) -> dict:
    meta = paper_metadata(paper)
    meta.update(chunk_index=chunk.index, n_chunks=n_chunks)
    if chunk.index == 0:
        # the head chunk carries the whole abstract, so the paper list can be rebuilt from Chroma
        meta["abstract"] = paper.abstract
    return meta


def paper_from_metadata(meta: dict, abstract: str) -> Paper:
    return Paper(abstract=abstract, **{k: meta.get(k) for k in _SCALAR_FIELDS})


def where_clause(filters: Filters) -> dict | None:
    """``filters`` in Chroma's ``where`` syntax over the chunk metadata (None: no filter)."""
    clauses: list[dict] = []
    if filters.date_from:
        clauses.append({"date_ord": {"$gte": date_ord(filters.date_from)}})
    if filters.date_to:
        clauses.append({"date_ord": {"$lte": date_ord(filters.date_to)}})
    if filters.min_upvotes is not None:
        clauses.append({"upvotes": {"$gte": filters.min_upvotes}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
