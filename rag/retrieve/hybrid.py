"""Hybrid retrieval: BM25 over whole papers + dense search over chunks in Chroma, fused per paper.

Results are papers (chunks collapsed) with their scores from each side and the best-matching
chunk. Filters apply to both sides; papers lacking a filtered field are excluded and counted, so
a filter never silently returns everything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cached_property

import numpy as np

from rag.embed.bundled import Embedder
from rag.errors import IndexMissingError
from rag.retrieve.derived import Derived, build_from_store, derived_path, doc_freq_of, try_open
from rag.retrieve.lexical import LexicalIndex  # noqa: F401 - re-exported: it used to live here
from rag.retrieve.rank import collapse_chunks, rrf_fuse, score_fuse, top
from rag.settings import Settings
from rag.storage.catalogue import PaperMap
from rag.storage.chroma import Active, ChromaStore
from rag.storage.chroma_layout import where_clause
from rag.text.analysis import Idf, word_set
from rag.types.papers import Filters, Hit, Mode, Paper, SearchResult

# a filter keeping at least this share of the papers is applied to a deeper unfiltered dense query
POSTFILTER_MIN_SHARE = 0.2
POSTFILTER_MAX_ROWS = 1500
# a filter passing up to this many chunks searches among their ids; beyond, Chroma's where
# (1M chunks: 203k ids 221 ms, the same where 2218 ms; bench/results/chroma-ids-2026-12-02.md)
IDS_FILTER_MAX = 250_000


class HybridRetriever:
    """Search papers by BM25, dense similarity or both. Build with :meth:`open`."""

    def __init__(self, derived: Derived, store: ChromaStore, active: Active, embedder: Embedder,
                 settings: Settings) -> None:
        self.derived = derived
        self.catalogue = derived.catalogue
        self.lexical = derived.lexical
        self.derived_path = derived.path
        self.papers: Mapping[str, Paper] = PaperMap(derived.catalogue)
        self.store = store
        self.active = active
        self.embedder = embedder
        self.settings = settings

    @classmethod
    def open(cls, store: ChromaStore, active: Active, embedder: Embedder, settings: Settings) -> HybridRetriever:
        """Map the generation's BM25 index and catalogue (written by ingest); an index made by an
        older version has none, and they are built from Chroma once and saved."""
        derived = try_open(derived_path(settings, store.generation_name(active.generation)))
        if derived is None:
            derived = build_from_store(settings, store, active)
        return cls(derived, store, active, embedder, settings)

    # --- search --------------------------------------------------------------------------------
    @cached_property
    def idf(self) -> Idf:
        """Term IDF over this generation's papers: the table ingest saved with the generation
        (no paper is read), shared by every engine over it."""
        return doc_freq_of(self.derived).idf()

    def _mask(self, filters: Filters) -> tuple[np.ndarray | None, int, int]:
        return self.catalogue.mask(filters)

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid", depth: int | None = None) -> SearchResult:
        """Top ``k`` papers for ``query``. ``depth`` is how deep each side looks before fusing."""
        k = k or self.settings.top_k
        filters = filters or Filters()
        depth = max(depth or self.settings.candidate_k, k)
        timings: dict[str, float] = {}
        mask, matching, missing = self._mask(filters)
        result = SearchResult(query=query, mode=mode, hits=[], filters=filters, papers_total=len(self.catalogue),
                              papers_matching_filters=matching, papers_missing_field=missing, timings=timings)
        if filters.date_from or filters.date_to:
            result.papers_inferred_year, result.papers_without_year = self.catalogue.date_detail(mask)
        if not query.strip() or matching == 0:
            return result

        lexical: list[tuple[str, float]] = []
        if mode in ("hybrid", "bm25"):
            t = time.perf_counter()
            rows = self.lexical.search_rows(query, depth, mask)
            lexical = list(zip(self.catalogue.ids_at([r for r, _ in rows]), [sc for _, sc in rows], strict=True))
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000

        dense: dict[str, tuple[float, str]] = {}
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qv = self.embedder.embed_query(query)
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            self._check_dim(qv)
            t = time.perf_counter()
            chunks = self._dense_rows(qv, depth * 2, filters, mask)
            timings["dense_ms"] = (time.perf_counter() - t) * 1000
            dense = collapse_chunks((meta["paper_id"], cid, sim) for cid, sim, _, meta in chunks)

        lex_rank = {pid: r for r, (pid, _) in enumerate(lexical, start=1)}
        lex_score = dict(lexical)
        dense_sorted = sorted(dense.items(), key=lambda kv: (-kv[1][0], kv[0]))[:depth]
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense_sorted, start=1)}

        if mode == "bm25":
            fused = lex_score
        elif mode == "dense":
            fused = {pid: s for pid, (s, _) in dense_sorted}
        elif self.settings.fusion == "rrf":
            fused = rrf_fuse([[pid for pid, _ in lexical], [pid for pid, _ in dense_sorted]], k=self.settings.rrf_k)
        else:
            fused = score_fuse(lex_score, {pid: s for pid, (s, _) in dense_sorted}, self.settings.dense_weight)

        ranked = top(fused, k)
        best = self._best_chunks([pid for pid, _ in ranked], query, dense)
        result.hits = [
            Hit(
                paper=self.papers[pid], score=score, rank=i, best_chunk=best[pid],
                bm25_score=lex_score.get(pid), bm25_rank=lex_rank.get(pid),
                dense_score=dense[pid][0] if pid in dense else None, dense_rank=dense_rank.get(pid),
            )
            for i, (pid, score) in enumerate(ranked, start=1)
        ]
        timings["total_ms"] = sum(timings.values())
        return result

    def _check_dim(self, qv: np.ndarray) -> None:
        """A query vector of another size than the index's means another model: refuse, clearly."""
        if self.active.dim and qv.shape[-1] != self.active.dim:
            raise IndexMissingError(
                f"the index holds {self.active.dim}-dimensional vectors from {self.active.embedder!r}, but "
                f"{self.embedder.name!r} now returns {qv.shape[-1]}-dimensional ones (another model behind the "
                "same name?): run `paperchat ingest --replace`, or point the settings at the index's model")

    def _dense_rows(self, qv: np.ndarray, n: int, filters: Filters,
                    mask: np.ndarray | None) -> list[tuple[str, float, str, dict]]:
        """The ``n`` nearest chunks of catalogued papers that pass ``filters``, without their text.

        Chroma's metadata ``where`` is slow on a large collection (342 ms at 100k chunks against
        2.5 ms unfiltered, bench/results/index-2026-11-23.md). When the filter keeps a fair share
        of the papers, a deeper unfiltered query filtered here (by the catalogue's mask) returns
        the same chunks: once ``n`` of its rows pass, no passing chunk can rank above the last of
        them. Otherwise the search runs among the passing papers' chunk ids (the catalogue's chunk
        columns), or, for a catalogue without them or too many ids, with Chroma's ``where``."""
        where = where_clause(filters)
        if where is None:
            return self._nearest_catalogued(qv, n)
        matching = int(mask.sum()) if mask is not None else len(self.catalogue)
        share = matching / max(1, len(self.catalogue))
        if share > 0 and share >= POSTFILTER_MIN_SHARE:
            wide = min(int(n / share * 1.5) + 10, POSTFILTER_MAX_ROWS)
            rows = self._query(qv, wide)
            kept = self._catalogued(rows, mask)
            if len(kept) >= n or len(rows) < wide:  # enough, or the whole collection was read
                return kept[:n]
        ids = self.catalogue.chunk_ids_passing(mask, IDS_FILTER_MAX) if mask is not None else None
        if ids is not None:  # the passing papers' chunks by id: ~10x faster than the same where
            return self._catalogued(self._query(qv, n, ids=ids), mask) if ids else []
        return self._catalogued(self._query(qv, n, where), mask)

    def _nearest_catalogued(self, qv: np.ndarray, n: int) -> list[tuple[str, float, str, dict]]:
        """The ``n`` nearest chunks that belong to this generation. Chunks it does not list (an
        update still running in another process, or one killed before its pointer moved) can be
        the nearest of all, so the query widens until ``n`` catalogued ones are found or the
        collection is read: otherwise a killed ingest would leave dense search with no hits."""
        wide = n
        while True:
            rows = self._query(qv, wide, exact=wide > n)
            kept = self._catalogued(rows, None)
            if len(kept) >= n or len(rows) < wide:
                return kept[:n]
            wide *= 4

    def _query(self, qv: np.ndarray, n: int, where: dict | None = None,
               ids: list[str] | None = None, exact: bool = False) -> list[tuple[str, float, str, dict]]:
        """Chroma's nearest chunks; with the catalogue's chunk table, ids and distances only (the
        catalogue says whose they are), and no count call (the table is a lower bound of it),
        unless ``exact``: asking past the catalogue's size needs the collection's own count."""
        if not self.catalogue.has_chunks:
            return self.store.query(self.active.collection, qv, n, where=where, documents=False)
        return self.store.query(self.active.collection, qv, n, where=where, documents=False, metadatas=False,
                                at_most=None if exact else self.catalogue.n_chunks, ids=ids)

    def _catalogued(self, rows: list[tuple[str, float, str, dict]],
                    mask: np.ndarray | None) -> list[tuple[str, float, str, dict]]:
        """Rows that are chunks of this generation's papers (and, with ``mask``, pass it).

        The live collection may also hold chunks an update wrote before moving the pointer, or
        stale ones it has not deleted yet: a chunk counts only when its paper's catalogue entry
        lists it."""
        if self.catalogue.has_chunks:
            rows_of = self.catalogue.chunk_rows([r[0] for r in rows])
            return [(cid, sim, doc, {"paper_id": rows_of[cid][1]}) for cid, sim, doc, _ in rows
                    if cid in rows_of and (mask is None or mask[rows_of[cid][0]] > 0)]
        at = self.catalogue.rows_and_chunks(list({r[3].get("paper_id", "") for r in rows}))
        out = []
        for r in rows:
            entry = at.get(r[3].get("paper_id"))
            if entry is not None and r[0] in entry[1] and (mask is None or mask[entry[0]] > 0):
                out.append(r)
        return out

    def _best_chunks(self, pids: list[str], query: str, dense: dict[str, tuple[float, str]]) -> dict[str, str]:
        """The dense side's best chunk where it has one; otherwise the chunk sharing most query terms."""
        out: dict[str, str] = {}
        wanted = {dense[pid][1]: pid for pid in pids if pid in dense}
        if wanted:
            got = self.store.get(self.active.collection, list(wanted))
            out = {wanted[cid]: doc for cid, doc in zip(got["ids"], got["documents"], strict=True) if cid in wanted}
        missing = [pid for pid in pids if pid not in out]
        if missing:  # the catalogue knows each paper's chunk ids: read just those
            terms = word_set(query)
            ids = self.catalogue.chunk_ids(missing)
            got = self.store.get(self.active.collection, [c for pid in missing for c in ids.get(pid, [])])
            text = dict(zip(got["ids"], got["documents"], strict=True))
            for pid in missing:
                docs = [text[c] for c in ids.get(pid, []) if c in text]
                out[pid] = max(docs, key=lambda d: len(terms & word_set(d)), default=self.papers[pid].abstract)
        return out
