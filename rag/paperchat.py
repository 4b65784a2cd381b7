"""The library's front door: one object the CLI, the UI, the eval harness and the HTTP API share.

Models and clients are built on first use and then kept, so a long-running server loads them once;
what is derived from an index generation (the paper list, BM25, IDF) lives on its retriever and
is rebuilt only when another process re-ingested.

Importing this module imports no model, numpy or Chroma (they cost about 2 s together), and
``stats()`` of an embedded index reads a small facts file (``index_facts.py``) instead of opening
Chroma, so `paperchat stats` starts in well under a second.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rag.settings import Settings
from rag.storage import facts as index_facts

if TYPE_CHECKING:
    from rag.embed.bundled import Embedder
    from rag.ingest.corpus import CorpusLoad
    from rag.ingest.report import IngestReport, Progress
    from rag.retrieve.hybrid import HybridRetriever
    from rag.storage.chroma import ChromaStore
    from rag.types.papers import Filters, Mode, Paper, SearchResult


class Paperchat:
    def __init__(self, settings: Settings, *, embedder: Embedder | None = None,
                 store: ChromaStore | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store = store
        # the facts file describes our own embedded Chroma only (a server may be written by others,
        # an injected store may be another client); any ingest under these settings removes it
        self._facts = (index_facts.facts_path(settings)
                       if store is None and not settings.chroma_host else None)
        self._retriever: HybridRetriever | None = None
        self._engine = None
        self._llm = None
        self._llm_loaded = False
        self._judge_cache = None
        self._lock = threading.RLock()  # guards building the shared objects; held for moments only
        self._ingest_lock = threading.Lock()  # one ingest at a time in this process

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from rag.embed.bundled import embedder_from

                self._embedder = embedder_from(self.settings)
            return self._embedder

    @property
    def store(self) -> ChromaStore:
        with self._lock:
            if self._store is None:
                from rag.storage.chroma import store_from

                self._store = store_from(self.settings)
            return self._store

    # --- ingest --------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path] | None = None, *, replace: bool = False,
               progress: Progress | None = None, max_papers: int | None = None) -> tuple[CorpusLoad, IngestReport]:
        """Parse ``paths`` (default: the bundled seeds) and merge them into the index.

        Parsing finishes before anything is written, so a bad file changes nothing. The facts
        file is removed before the index is touched and rewritten once the ingest is done, so a
        killed ingest leaves no stale facts behind (``stats()`` then asks Chroma).

        Searches and answers go on while an ingest runs (they hold no lock it needs): readers use
        the live generation until the pointer moves, then reopen on their next call.
        ``max_papers`` bounds what one upload may make the server embed (UploadTooLargeError).
        """
        from rag.ingest.corpus import bundled_seed_paths, load_corpus
        from rag.ingest.index import ingest

        paths = list(paths) if paths else bundled_seed_paths()
        corpus = load_corpus(paths)
        if max_papers is not None and len(corpus.papers) > max_papers:
            from rag.errors import UploadTooLargeError

            raise UploadTooLargeError(
                f"the upload holds {len(corpus.papers):,} papers; at most {max_papers:,} are added per upload "
                "(PAPERCHAT_UPLOAD_MAX_PAPERS); add more with `paperchat ingest`")
        store, embedder = self.store, self.embedder
        with self._ingest_lock:
            if not self.settings.chroma_host:
                index_facts.forget(index_facts.facts_path(self.settings))
            report = ingest(corpus.papers, store, embedder, self.settings, replace=replace, progress=progress)
            report.warnings = corpus.warnings
            with self._lock:
                self._retriever = None
            if self._facts is not None:
                index_facts.save(self._facts, self.settings, self._stats_from_store())
        return corpus, report

    # --- search --------------------------------------------------------------------------------
    def retriever(self) -> HybridRetriever:
        """The retriever over the live generation; reopened when another process re-ingested."""
        from rag.ingest.index import require_active
        from rag.retrieve.hybrid import HybridRetriever

        with self._lock:
            active = require_active(self.store, self.embedder.name)
            if self._retriever is None or self._retriever.active != active:
                self._retriever = HybridRetriever.open(self.store, active, self.embedder, self.settings)
            return self._retriever

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid") -> SearchResult:
        return self.retriever().search(query, k=k, filters=filters, mode=mode)

    def papers_by_id(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        """paper_id -> Paper for the ids the live index holds (one catalogue query; unknown ids
        are left out). What an export of an answer reads: names, dates and links are on the
        papers, not on the answer."""
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return {}
        return {p.paper_id: p for p in self.retriever().catalogue.papers_of(ids)}

    # --- answers -------------------------------------------------------------------------------
    @property
    def llm(self):
        """The configured LLM backend (None when llm_backend=none); built once, on first use."""
        with self._lock:
            if not self._llm_loaded:
                from rag.llm import llm_from

                self._llm = llm_from(self.settings)
                self._llm_loaded = True
            return self._llm

    @property
    def judge_cache(self):
        """Verdicts of the model judge, kept across questions, backends and restarts."""
        from rag.lists.model import JudgeCache

        with self._lock:
            if self._judge_cache is None:
                self._judge_cache = JudgeCache(self.settings.cache_dir / "judge.jsonl")
            return self._judge_cache

    def answer_engine(self, llm=None):
        """The answer engine over the live index; ``llm`` overrides the configured backend (an
        override costs one small object: the retriever, IDF and judge cache are shared);
        ``rag.llm.NO_MODEL`` asks for the evidence only."""
        from rag.engine import AnswerEngine
        from rag.llm import NO_MODEL

        with self._lock:
            retriever = self.retriever()
            if llm is not None:
                return AnswerEngine(retriever, None if llm is NO_MODEL else llm, settings=self.settings,
                                    judge_cache=self.judge_cache)
            if self._engine is None or self._engine.retriever is not retriever:
                self._engine = AnswerEngine(retriever, self.llm, settings=self.settings, judge_cache=self.judge_cache)
            return self._engine

    def ask_stream(self, question: str, history=None, k: int | None = None, filters: Filters | None = None,
                   backend=None):
        """Stream events for ``question`` (see rag.types.answers.Event); ``backend`` overrides the LLM."""
        from rag.text.sanitize import check_question

        check_question(question)
        return self.answer_engine(backend).stream(question, history, k, filters)

    def ask(self, question: str, history=None, k: int | None = None, filters: Filters | None = None,
            backend=None):
        from rag.answer.stream import fold

        return fold(self.ask_stream(question, history, k, filters, backend))

    def stats(self) -> dict:
        """What the index holds: from the facts file the last ingest wrote when it is there and
        still describes this home's Chroma, else from Chroma itself."""
        if self._facts is not None:
            facts = index_facts.load(self._facts, self.settings)
            if facts is not None:
                return facts
        return self._stats_from_store()

    def _stats_from_store(self) -> dict:
        active = self.store.active()
        if active is None:
            return {"papers": 0, "chunks": 0, "collection": None, "store": self.store.where}
        # the catalogue's columns and facts: no paper is read; chunks are those the generation
        # lists (a killed update's chunks, stored but unused, are not counted)
        s = self.retriever().catalogue.summary()
        if s["chunks"] is None:  # a catalogue from before its chunk table
            s["chunks"] = self.store.count(active.collection)
        return {"papers": s["papers"], "chunks": s["chunks"], "collection": active.collection,
                "generation": active.generation, "embedder": active.embedder, "store": self.store.where,
                **{k: s[k] for k in ("sources", "with_full_date", "date_range", "with_upvotes", "dates")}}
