"""Hybrid retrieval: BM25 over whole papers + dense search over chunks in Chroma, fused per paper.

Results are papers (chunks collapsed) with their scores from each side and the best-matching
chunk. Filters apply to both sides; papers lacking a filtered field are excluded and counted, so
a filter never silently returns everything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from rag.chunk import date_ord
from rag.corpus import Paper
from rag.embed import Embedder
from rag.errors import ConfigError
from rag.rank import collapse_chunks, rrf_fuse, score_fuse, top
from rag.settings import Settings
from rag.store import Active, ChromaStore

Mode = Literal["hybrid", "bm25", "dense"]
_HYPHENATED = re.compile(r"\b([A-Za-z]+)-([A-Za-z]+)\b")
_WORD = re.compile(r"[a-z0-9]+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# a filter keeping at least this share of the papers is applied to a deeper unfiltered dense query
POSTFILTER_MIN_SHARE = 0.2
POSTFILTER_MAX_ROWS = 1500
# Words of the question's form, not its topic: "which papers ..." would otherwise reward every
# abstract that says "in this paper".
QUESTION_NOISE = ("paper", "papers", "article", "articles", "abstract", "abstracts", "which", "what", "whose",
                  "who", "list", "show", "find", "any", "there", "mention", "mentions")


def lexical_text(text: str) -> str:
    """Index hyphenated compounds both as parts and joined: "warm-up" -> "warm up warmup"."""
    return _HYPHENATED.sub(lambda m: f"{m[1]} {m[2]} {m[1]}{m[2]}", text)


@dataclass(frozen=True)
class Filters:
    """Date range (inclusive, ISO yyyy-mm-dd) and minimum upvotes. Empty means no filter."""

    date_from: str | None = None
    date_to: str | None = None
    min_upvotes: int | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            v = getattr(self, name)
            if v is not None:
                try:
                    if not _ISO_DATE.match(v):
                        raise ValueError(v)
                    date.fromisoformat(v)
                except ValueError:
                    raise ConfigError(f"{name.replace('_', '-')} must be a date like 2024-05-31, got {v!r}") from None
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ConfigError(f"date range is empty: {self.date_from} is after {self.date_to}")
        if self.min_upvotes is not None and self.min_upvotes < 0:
            raise ConfigError(f"min-upvotes must be >= 0, got {self.min_upvotes}")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.min_upvotes))

    def matches(self, paper: Paper) -> bool:
        if self.date_from or self.date_to:
            if paper.date is None:
                return False
            if self.date_from and paper.date < self.date_from:
                return False
            if self.date_to and paper.date > self.date_to:
                return False
        if self.min_upvotes is not None and (paper.upvotes is None or paper.upvotes < self.min_upvotes):
            return False
        return True

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.date_from:
            clauses.append({"date_ord": {"$gte": date_ord(self.date_from)}})
        if self.date_to:
            clauses.append({"date_ord": {"$lte": date_ord(self.date_to)}})
        if self.min_upvotes is not None:
            clauses.append({"upvotes": {"$gte": self.min_upvotes}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def describe(self) -> str:
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"date {self.date_from or '…'} to {self.date_to or '…'}")
        if self.min_upvotes is not None:
            parts.append(f"upvotes >= {self.min_upvotes}")
        return ", ".join(parts) or "none"


@dataclass
class PaperHit:
    paper: Paper
    score: float
    rank: int
    best_chunk: str
    bm25_score: float | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None
    dense_rank: int | None = None

    def to_dict(self) -> dict:
        return {
            "rank": self.rank, "paper_id": self.paper.paper_id, "title": self.paper.title,
            "score": round(self.score, 6), "bm25_score": _r(self.bm25_score), "bm25_rank": self.bm25_rank,
            "dense_score": _r(self.dense_score), "dense_rank": self.dense_rank,
            "date": self.paper.date or self.paper.date_text, "upvotes": self.paper.upvotes,
            "best_chunk": self.best_chunk,
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


@dataclass
class SearchResult:
    query: str
    mode: Mode
    hits: list[PaperHit]
    filters: Filters = field(default_factory=Filters)
    papers_total: int = 0
    papers_matching_filters: int = 0
    papers_missing_field: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def filter_note(self) -> str | None:
        """What a filter did, in words, or None when no filter was set."""
        if not self.filters.active:
            return None
        note = f"filter ({self.filters.describe()}) kept {self.papers_matching_filters} of {self.papers_total} papers"
        if self.papers_missing_field:
            note += f"; {self.papers_missing_field} have no full date/upvote count and were excluded"
        return note


class LexicalIndex:
    """BM25 (bm25s, Snowball English stemmer, English stopwords) over title + abstract per paper."""

    def __init__(self, papers: Sequence[Paper], retriever=None) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.ids = [p.paper_id for p in papers]
        self._query_stopwords = list(bm25s.stopwords.STOPWORDS_EN) + list(QUESTION_NOISE)
        if retriever is None:
            tokens = bm25s.tokenize([lexical_text(f"{p.title}. {p.abstract}") for p in papers],
                                    stopwords="en", stemmer=self._stemmer, show_progress=False)
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
        self._retriever = retriever

    def save(self, path: Path) -> None:
        self._retriever.save(str(path))

    @classmethod
    def load(cls, path: Path, papers: Sequence[Paper]) -> LexicalIndex:
        import bm25s

        return cls(papers, retriever=bm25s.BM25.load(str(path)))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        tokens = self._bm25s.tokenize([lexical_text(query)], stopwords=self._query_stopwords,
                                      stemmer=self._stemmer, show_progress=False, return_ids=False)
        # unknown words would raise inside bm25s; keep only terms the index knows
        vocab = self._retriever.vocab_dict
        known = [[t for t in tokens[0] if t in vocab]]
        if not known[0] or not self.ids:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve(known, k=k, weight_mask=mask, show_progress=False,
                                                n_threads=1)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def _atomic_dir(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        write(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _query_terms(text: str) -> set[str]:
    return set(_WORD.findall(lexical_text(text).lower()))


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
        from rag.index import load_papers

        cache = settings.cache_dir / active.collection
        papers_file, bm25_dir = cache / "papers.jsonl", cache / "bm25"
        if papers_file.is_file() and bm25_dir.is_dir():
            try:
                papers = [Paper(**json.loads(line)) for line in papers_file.read_text("utf-8").splitlines()]
                return cls(papers, LexicalIndex.load(bm25_dir, papers), store, active, embedder, settings)
            except (OSError, ValueError, TypeError, KeyError):
                pass  # a damaged cache is rebuilt below
        papers = load_papers(store, active)
        lexical = LexicalIndex(papers)

        def write(tmp: Path) -> None:
            (tmp / "papers.jsonl").write_text(
                "".join(json.dumps(p.to_dict()) + "\n" for p in papers), "utf-8")
            lexical.save(tmp / "bm25")

        try:
            _atomic_dir(cache, write)
        except OSError:
            pass  # a read-only home only costs the rebuild next time
        return cls(papers, lexical, store, active, embedder, settings)

    # --- search --------------------------------------------------------------------------------
    def _mask(self, filters: Filters) -> tuple[np.ndarray | None, int, int]:
        if not filters.active:
            return None, len(self._order), 0
        keep = np.array([filters.matches(self.papers[pid]) for pid in self._order], dtype=np.float32)
        missing = 0
        for pid in self._order:
            p = self.papers[pid]
            if ((filters.date_from or filters.date_to) and p.date is None) or (
                    filters.min_upvotes is not None and p.upvotes is None):
                missing += 1
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
            PaperHit(
                paper=self.papers[pid], score=score, rank=i, best_chunk=best[pid],
                bm25_score=lex_score.get(pid), bm25_rank=lex_rank.get(pid),
                dense_score=dense[pid][0] if pid in dense else None, dense_rank=dense_rank.get(pid),
            )
            for i, (pid, score) in enumerate(ranked, start=1)
        ]
        timings["total_ms"] = sum(timings.values())
        return result

    def _dense_rows(self, qv: np.ndarray, n: int, filters: Filters, matching: int) -> list[tuple[str, float, str, dict]]:
        """The ``n`` nearest chunks of papers that pass ``filters``, without their text.

        Chroma's metadata ``where`` is slow on a large collection (342 ms at 100k chunks against
        2.5 ms unfiltered, bench/results/index-2026-11-23.md). When the filter keeps a fair share
        of the papers, a deeper unfiltered query filtered here returns the same chunks: once ``n``
        of its rows pass, no passing chunk can rank above the last of them. Otherwise, or when a
        deeper query does not yield ``n`` passing rows, Chroma filters."""
        name = self.active.collection
        where = filters.chroma_where()
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
            terms = _query_terms(query)
            rows = list(self.store.iter_all(self.active.collection, where={"paper_id": {"$in": missing}}))
            for pid in missing:
                docs = [doc for _, doc, meta in rows if meta["paper_id"] == pid]
                out[pid] = max(docs, key=lambda d: len(terms & _query_terms(d)), default=self.papers[pid].abstract)
        return out


def paper_retriever(retriever: HybridRetriever, k: int | None = None, filters: Filters | None = None,
                    mode: Mode = "hybrid"):
    """The hybrid retriever as a LlamaIndex ``BaseRetriever`` (one node per paper, abstract as text)."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    class PaperRetriever(BaseRetriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            res = retriever.search(query_bundle.query_str, k=k, filters=filters, mode=mode)
            nodes = []
            for hit in res.hits:
                p = hit.paper
                meta = {key: v for key, v in p.to_dict().items() if v is not None and key != "abstract"}
                meta["best_chunk"] = hit.best_chunk
                node = TextNode(id_=p.paper_id, text=p.abstract, metadata=meta,
                                excluded_llm_metadata_keys=[x for x in meta if x != "title"],
                                excluded_embed_metadata_keys=[x for x in meta if x != "title"])
                nodes.append(NodeWithScore(node=node, score=hit.score))
            return nodes

    return PaperRetriever()
