"""Hybrid retrieval: BM25 over whole papers + dense search over chunks in Chroma, fused per paper.

Results are papers (chunks collapsed) with their scores from each side and the best-matching
chunk. Filters apply to both sides; papers lacking a filtered field are excluded and counted, so
a filter never silently returns everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.embed import Embedder
from rag.errors import IndexMissingError
from rag.fsutil import atomic_dir
from rag.rank import collapse_chunks, rrf_fuse, score_fuse, top
from rag.settings import Settings
from rag.store import Active, ChromaStore, where_clause
from rag.text import Idf, index_tokens, word_set
from rag.types import Filters, Hit, Mode, Paper, SearchResult

# a filter keeping at least this share of the papers is applied to a deeper unfiltered dense query
POSTFILTER_MIN_SHARE = 0.2
POSTFILTER_MAX_ROWS = 1500


class LexicalIndex:
    """BM25 (bm25s) over title + abstract per paper, tokenised by :func:`rag.text.index_tokens`."""

    def __init__(self, papers: Sequence[Paper], retriever=None) -> None:
        import bm25s

        self.ids = [p.paper_id for p in papers]
        if retriever is None:
            retriever = bm25s.BM25()
            retriever.index([index_tokens(f"{p.title}. {p.abstract}") for p in papers], show_progress=False)
        self._retriever = retriever

    def save(self, path: Path) -> None:
        self._retriever.save(str(path))

    @classmethod
    def load(cls, path: Path, papers: Sequence[Paper]) -> LexicalIndex:
        import bm25s

        return cls(papers, retriever=bm25s.BM25.load(str(path)))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        # unknown words would raise inside bm25s; keep only terms the index knows
        vocab = self._retriever.vocab_dict
        known = [[t for t in index_tokens(query, query=True) if t in vocab]]
        if not known[0] or not self.ids:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve(known, k=k, weight_mask=mask, show_progress=False,
                                                n_threads=1)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


class HybridRetriever:
    """Search papers by BM25, dense similarity or both. Build with :meth:`open`."""

    def __init__(self, papers: Sequence[Paper], lexical: LexicalIndex, store: ChromaStore, active: Active,
                 embedder: Embedder, settings: Settings) -> None:
        self.papers = {p.paper_id: p for p in papers}
        self._order = [p.paper_id for p in papers]
        self.lexical = lexical
        self.store = store
        self.active = active
        self.embedder = embedder
        self.settings = settings

    @classmethod
    def open(cls, store: ChromaStore, active: Active, embedder: Embedder, settings: Settings) -> HybridRetriever:
        """Load papers and the BM25 index, from the local cache for this generation when present."""
        cache = settings.cache_dir / active.collection
        papers_file, bm25_dir = cache / "papers.jsonl", cache / "bm25"
        if papers_file.is_file() and bm25_dir.is_dir():
            try:
                papers = [Paper(**json.loads(line)) for line in papers_file.read_text("utf-8").splitlines()]
                return cls(papers, LexicalIndex.load(bm25_dir, papers), store, active, embedder, settings)
            except (OSError, ValueError, TypeError, KeyError):
                pass  # a damaged cache is rebuilt below
        papers = store.load_papers(active)
        lexical = LexicalIndex(papers)

        def write(tmp: Path) -> None:
            (tmp / "papers.jsonl").write_text(
                "".join(json.dumps(p.to_dict()) + "\n" for p in papers), "utf-8")
            lexical.save(tmp / "bm25")

        try:
            atomic_dir(cache, write)
        except OSError:
            pass  # a read-only home only costs the rebuild next time
        return cls(papers, lexical, store, active, embedder, settings)

    # --- search --------------------------------------------------------------------------------
    @cached_property
    def idf(self) -> Idf:
        """Term IDF over this generation's papers: built once, shared by every engine over it."""
        return Idf(f"{p.title}. {p.abstract}" for p in self.papers.values())

    def _mask(self, filters: Filters) -> tuple[np.ndarray | None, int, int]:
        if not filters.active:
            return None, len(self._order), 0
        keep = np.array([filters.matches(self.papers[pid]) for pid in self._order], dtype=np.float32)
        missing = sum(1 for pid in self._order if filters.lacks_field(self.papers[pid]))
        return keep, int(keep.sum()), missing

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid", depth: int | None = None) -> SearchResult:
        """Top ``k`` papers for ``query``. ``depth`` is how deep each side looks before fusing."""
        k = k or self.settings.top_k
        filters = filters or Filters()
        depth = max(depth or self.settings.candidate_k, k)
        timings: dict[str, float] = {}
        mask, matching, missing = self._mask(filters)
        result = SearchResult(query=query, mode=mode, hits=[], filters=filters, papers_total=len(self._order),
                              papers_matching_filters=matching, papers_missing_field=missing, timings=timings)
        if not query.strip() or matching == 0:
            return result

        lexical: list[tuple[str, float]] = []
        if mode in ("hybrid", "bm25"):
            t = time.perf_counter()
            lexical = self.lexical.search(query, depth, mask)
            timings["bm25_ms"] = (time.perf_counter() - t) * 1000

        dense: dict[str, tuple[float, str]] = {}
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qv = self.embedder.embed_query(query)
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            self._check_dim(qv)
            t = time.perf_counter()
            rows = self._dense_rows(qv, depth * 2, filters, matching)
            timings["dense_ms"] = (time.perf_counter() - t) * 1000
            dense = collapse_chunks((meta["paper_id"], cid, sim) for cid, sim, _, meta in rows)
            dense = {pid: v for pid, v in dense.items() if pid in self.papers}

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

    def _dense_rows(self, qv: np.ndarray, n: int, filters: Filters, matching: int) -> list[tuple[str, float, str, dict]]:
        """The ``n`` nearest chunks of papers that pass ``filters``, without their text.

        Chroma's metadata ``where`` is slow on a large collection (342 ms at 100k chunks against
        2.5 ms unfiltered, bench/results/index-2026-11-23.md). When the filter keeps a fair share
        of the papers, a deeper unfiltered query filtered here returns the same chunks: once ``n``
        of its rows pass, no passing chunk can rank above the last of them. Otherwise, or when a
        deeper query does not yield ``n`` passing rows, Chroma filters."""
        name = self.active.collection
        where = where_clause(filters)
        if where is None:
            return self.store.query(name, qv, n, documents=False)
        share = matching / max(1, len(self._order))
        if share > 0 and share >= POSTFILTER_MIN_SHARE:
            wide = min(int(n / share * 1.5) + 10, POSTFILTER_MAX_ROWS)
            rows = self.store.query(name, qv, wide, documents=False)
            kept = [r for r in rows if r[3].get("paper_id") in self.papers
                    and filters.matches(self.papers[r[3]["paper_id"]])]
            if len(kept) >= n or len(rows) < wide:  # enough, or the whole collection was read
                return kept[:n]
        return self.store.query(name, qv, n, where=where, documents=False)

    def _best_chunks(self, pids: list[str], query: str, dense: dict[str, tuple[float, str]]) -> dict[str, str]:
        """The dense side's best chunk where it has one; otherwise the chunk sharing most query terms."""
        out: dict[str, str] = {}
        wanted = {dense[pid][1]: pid for pid in pids if pid in dense}
        if wanted:
            got = self.store.get(self.active.collection, list(wanted))
            out = {wanted[cid]: doc for cid, doc in zip(got["ids"], got["documents"], strict=True) if cid in wanted}
        missing = [pid for pid in pids if pid not in out]
        if missing:
            terms = word_set(query)
            rows = list(self.store.iter_all(self.active.collection, where={"paper_id": {"$in": missing}}))
            for pid in missing:
                docs = [doc for _, doc, meta in rows if meta["paper_id"] == pid]
                out[pid] = max(docs, key=lambda d: len(terms & word_set(d)), default=self.papers[pid].abstract)
        return out
