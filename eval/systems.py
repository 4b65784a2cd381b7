"""The systems under evaluation, each behind one small interface.

Retrieval systems: ``retrieve(question, k) -> ranked paper ids``.

* ``hybrid``, ``bm25``, ``dense`` — :meth:`rag.paperchat.Paperchat.search` in that mode.
* ``llamaindex`` — the *stock* LlamaIndex pipeline as a user would build it from the tutorial:
  one ``Document`` per paper (title + abstract), the default ``SentenceSplitter``, a
  ``VectorStoreIndex`` in the default in-memory vector store, the same embedder as ours
  (:func:`rag.embed.bundled.as_llama_embedding`), and its retriever's chunks collapsed to paper ids.

Answer systems: ``answer(question) -> AnswerOutcome``.

* ``ours`` — :meth:`rag.paperchat.Paperchat.ask`, read through the :class:`rag.types.answers.Answer` contract.
* ``llamaindex`` — ``CitationQueryEngine.from_args(index, llm=<our LLM>, similarity_top_k=k)``
  over the stock index. Its ``[n]`` markers point at its source nodes and are mapped to paper ids.
  It has no verifier of its own, so each (claim, marker) pair is judged with
  :func:`rag.answer.cite.support`, the test our own answers must pass; it has no refusal flag, so a
  reply that cites nothing and says the sources do not cover the question counts as a refusal.

The stock index is embedded once and cached (``<cache>/llamaindex-<embedder>-<corpus hash>.npz``):
embedding the seed corpus takes about a minute.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import ConfigError, PaperchatError
from rag.storage.fsutil import atomic_write

BASELINES = Path(__file__).resolve().parent / "baselines"  # models the product shipped before, to measure against
STOCK_RETRIEVE_FACTOR = 2  # chunks fetched per wanted paper, so k distinct papers survive collapsing


# --- results -----------------------------------------------------------------------------------


@dataclass
class Retrieved:
    ids: list[str]
    latency_s: float


@dataclass
class CitedPaper:
    """One citation of an answer: its number, the paper it points at (None: a marker that points
    at no source) and whether the cited abstract supports the claim."""

    n: int
    paper_id: str | None
    supported: bool


@dataclass
class AnswerOutcome:
    text: str
    citations: list[CitedPaper] = field(default_factory=list)
    refused: bool = False
    latency_s: float = 0.0
    backend: str = ""
    route: str = ""
    error: str | None = None

    @property
    def cited_ids(self) -> list[str]:
        """Distinct cited paper ids in order; a dangling marker ``[n]`` appears as ``invalid:[n]``
        so it counts against citation precision instead of vanishing."""
        return list(dict.fromkeys(c.paper_id if c.paper_id is not None else f"invalid:[{c.n}]"
                                  for c in self.citations))

    def to_dict(self) -> dict:
        return {"text": self.text, "refused": self.refused, "latency_s": round(self.latency_s, 4),
                "backend": self.backend, "route": self.route, "error": self.error,
                "citations": [{"n": c.n, "paper_id": c.paper_id, "supported": c.supported}
                              for c in self.citations]}


class RetrievalSystem(Protocol):
    name: str

    def retrieve(self, question: str, k: int) -> list[str]: ...


class AnswerSystem(Protocol):
    name: str

    def answer(self, question: str) -> AnswerOutcome: ...


def timed_retrieve(system: RetrievalSystem, question: str, k: int) -> Retrieved:
    t = time.perf_counter()
    ids = system.retrieve(question, k)
    return Retrieved(ids=list(dict.fromkeys(ids))[:k], latency_s=time.perf_counter() - t)


# --- ours ----------------------------------------------------------------------------------------


class PaperchatSearch:
    """``Paperchat.search`` in one mode (``hybrid``, ``bm25`` or ``dense``)."""

    def __init__(self, app: Any, mode: str) -> None:
        self.app = app
        self.mode = mode
        self.name = mode

    def retrieve(self, question: str, k: int) -> list[str]:
        return [h.paper.paper_id for h in self.app.search(question, k=k, mode=self.mode).hits]


class PaperchatAnswers:
    """``Paperchat.ask(question)`` with the configured k, filters off: the product as shipped
    ("ours"), or the same engine with one part taken away, as a baseline measured against it:
    "ours-plain" turns the list-question route off (list questions go through the normal engine);
    "ours-rules" judges list questions by the hand-set rules instead of the fitted list judge;
    "ours-fitted" is the list judge as it was before the reading judge joined its features
    (``eval/baselines/list_judge_lexical.json``); "ours-reader-only" lists by the reading judge
    (``rag.judge.reader``) alone; "ours-reader-evidence" lets it pick normal answers' papers and quotes;
    "ours-no-name-veto" / "ours-no-opposite-veto" take one hand rule away, to measure what it adds;
    "ours-bm25" and "ours-dense" retrieve with one retriever instead of the fused pair;
    "ours-llamaindex" is the product through its LlamaIndex door (``rag.llamaindex``: the routes
    as query engines under a ``RouterQueryEngine``), which must answer exactly as "ours"."""

    VARIANTS: dict[str, dict[str, dict]] = {
        "ours": {},
        "ours-plain": {"answer": {"aggregate_route": False}},
        "ours-rules": {"listing": {"judge": "rules"}},
        # today's judge before the reading judge: the fitted judge on lexical and dense features only
        "ours-fitted": {"listing": {"judge": "learned", "model_path": BASELINES / "list_judge_lexical.json"}},
        "ours-reader-only": {"listing": {"judge": "reader"}},
        "ours-reader-evidence": {"answer": {"reader": True}},
        "ours-no-name-veto": {"answer": {"name_veto": False}},
        "ours-no-opposite-veto": {"answer": {"opposite_veto": False}},
        "ours-bm25": {"answer": {"retrieval_mode": "bm25"}},
        "ours-dense": {"answer": {"retrieval_mode": "dense"}},
        "ours-llamaindex": {},
    }

    def __init__(self, app: Any, name: str = "ours") -> None:
        if name not in self.VARIANTS:
            raise ConfigError(f"unknown paperchat answer system {name!r}; choose from {', '.join(self.VARIANTS)}")
        self.app = app
        self.name = name
        self._engine = None
        self._door = None
        if name == "ours-llamaindex":
            from rag.llamaindex import router_query_engine

            self._door = router_query_engine(app.answer_engine())
        if self.VARIANTS[name]:
            from rag.engine import AnswerEngine

            s = app.settings
            variant = s.model_copy(update={section: getattr(s, section).model_copy(update=fields)
                                           for section, fields in self.VARIANTS[name].items()})
            self._engine = AnswerEngine(app.retriever(), app.llm, settings=variant, judge_cache=app.judge_cache)

    def answer(self, question: str) -> AnswerOutcome:
        t = time.perf_counter()
        if self._door is not None:
            a = self._door.query(question).metadata["answer"]
        else:
            a = self._engine.ask(question) if self._engine is not None else self.app.ask(question)
        latency = time.perf_counter() - t
        if a is None:
            raise PaperchatError(f"ask() returned no answer for {question[:60]!r}")
        return AnswerOutcome(
            text=a.text,
            citations=[CitedPaper(n=c.n, paper_id=c.paper_id, supported=bool(c.supported)) for c in a.citations],
            refused=bool(a.refused), latency_s=latency, backend=a.backend, route=a.route)


# --- stock LlamaIndex ----------------------------------------------------------------------------

_REFUSAL = re.compile(
    r"\b(?:(?:do|does|did)(?: not|n't) (?:mention|contain|provide|include|discuss|address|say|specify|cover)"
    r"|(?:is|are) not (?:mentioned|provided|specified|available|included|discussed|covered|found)"
    r"|no (?:information|mention|relevant|details?|data|sources?)"
    r"|none of the (?:provided |given )?(?:sources|documents|context|papers)"
    r"|(?:cannot|can't|can not|unable to) (?:be )?(?:answer|determine|find|provide|say|tell)"
    r"|not (?:possible|able) to (?:answer|determine)"
    r"|(?:i|we) (?:do not|don't) know"
    r"|not (?:helpful|relevant) (?:to|for))\b",
    re.IGNORECASE,
)


def looks_like_refusal(text: str) -> bool:
    """Whether an uncited reply says the sources do not answer (for pipelines without a refusal flag)."""
    return not text.strip() or bool(_REFUSAL.search(text))


def corpus_fingerprint(papers: Sequence[Any], extra: str = "") -> str:
    """A hash of every paper's id, title and abstract (order-independent) plus ``extra``."""
    h = hashlib.sha1(extra.encode())
    for p in sorted(papers, key=lambda p: p.paper_id):
        h.update(f"\x00{p.paper_id}\x01{p.title}\x01{p.abstract}".encode())
    return h.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "embedder"


def _save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    atomic_write(path, lambda f: np.savez(f, **arrays))


class StockLlamaIndex:
    """The stock LlamaIndex baseline (retrieval and, given an LLM, cited answers). Build with
    :meth:`build`; one instance serves both roles so the index is embedded once per run."""

    name = "llamaindex"

    def __init__(self, index: Any, papers: dict[str, Any], *, llm: Any = None, answer_k: int = 5,
                 cache_file: Path | None = None, cache_hit: bool = False) -> None:
        self.index = index
        self.papers = papers
        self.llm = llm  # a LlamaIndex LLM, or None (retrieval only)
        self.answer_k = answer_k
        self.cache_file = cache_file
        self.cache_hit = cache_hit
        self.backend = ""
        self._engine = None
        self._idf = None

    @classmethod
    def build(cls, app: Any, cache_dir: Path | None = None, *, llm_backend: Any = None,
              answer_k: int | None = None, progress: bool = False) -> StockLlamaIndex:
        """Index the papers of ``app``'s live index the stock way, reusing cached embeddings.

        ``llm_backend`` is a :class:`rag.llm.LLMBackend` (its ``.llm`` drives the
        CitationQueryEngine); None builds a retrieval-only baseline.
        """
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.core.schema import MetadataMode

        from rag.embed.bundled import as_llama_embedding

        papers = dict(sorted(app.retriever().papers.items()))
        embed_model = as_llama_embedding(app.embedder)
        hidden = ["paper_id", "title"]  # the title is in the text already; the id is bookkeeping
        docs = [Document(text=f"{p.title}\n\n{p.abstract}", id_=pid, metadata={"paper_id": pid, "title": p.title},
                         excluded_embed_metadata_keys=hidden, excluded_llm_metadata_keys=hidden)
                for pid, p in papers.items()]
        splitter = SentenceSplitter()
        nodes = splitter.get_nodes_from_documents(docs)
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        digests = np.array([hashlib.sha1(t.encode()).hexdigest() for t in texts])

        cache_file = None
        vectors = None
        cache_hit = False
        if cache_dir is not None:
            key = corpus_fingerprint(papers.values(), f"{splitter.chunk_size}/{splitter.chunk_overlap}")[:16]
            cache_file = Path(cache_dir) / f"llamaindex-{_slug(app.embedder.name)}-{key}.npz"
            vectors = _load_cached(cache_file, digests)
            cache_hit = vectors is not None
        if vectors is None:
            vectors = np.asarray(embed_model.get_text_embedding_batch(texts, show_progress=progress),
                                 dtype=np.float32)
            if cache_file is not None:
                try:
                    _save_npz_atomic(cache_file, digests=digests, vectors=vectors)
                except OSError:
                    pass  # a read-only cache only costs re-embedding next run
        for node, vec in zip(nodes, vectors, strict=True):
            node.embedding = vec.tolist()
        index = VectorStoreIndex(nodes, embed_model=embed_model, show_progress=False)
        k = answer_k or app.settings.top_k
        inst = cls(index, papers, llm=getattr(llm_backend, "llm", None), answer_k=k,
                   cache_file=cache_file, cache_hit=cache_hit)
        inst.backend = getattr(llm_backend, "name", "") or ""
        return inst

    # --- retrieval ---------------------------------------------------------------------------
    def retrieve(self, question: str, k: int) -> list[str]:
        nodes = self.index.as_retriever(similarity_top_k=k * STOCK_RETRIEVE_FACTOR).retrieve(question)
        return list(dict.fromkeys(n.node.metadata["paper_id"] for n in nodes))[:k]

    # --- answers -----------------------------------------------------------------------------
    def _query_engine(self):
        if self._engine is None:
            if self.llm is None:
                raise PaperchatError("the stock LlamaIndex answer path needs an LLM (llm_backend is none)")
            from llama_index.core.query_engine import CitationQueryEngine

            self._engine = CitationQueryEngine.from_args(self.index, llm=self.llm, similarity_top_k=self.answer_k)
        return self._engine

    @property
    def idf(self):
        if self._idf is None:
            from rag.text.analysis import Idf

            self._idf = Idf(f"{p.title}. {p.abstract}" for p in self.papers.values())
        return self._idf

    def answer(self, question: str) -> AnswerOutcome:
        engine = self._query_engine()
        t = time.perf_counter()
        response = engine.query(question)
        latency = time.perf_counter() - t
        text = str(response.response or "")
        source_ids = [sn.node.metadata.get("paper_id") for sn in response.source_nodes]
        citations = judge_citations(text, source_ids, self.papers, self.idf)
        refused = not any(c.paper_id for c in citations) and looks_like_refusal(text)
        return AnswerOutcome(text=text, citations=citations, refused=refused, latency_s=latency,
                             backend=f"llamaindex CitationQueryEngine ({self.backend or 'llm'})", route="stock")


def judge_citations(text: str, source_ids: Sequence[str | None], papers: dict[str, Any], idf: Any) -> list[CitedPaper]:
    """Map each claim's ``[n]`` markers to the n-th source's paper id and judge support with
    :func:`rag.answer.cite.support` (same threshold as our verifier). One entry per (claim, marker)."""
    from rag.answer.cite import SUPPORT_THRESHOLD, split_claims, support

    out: list[CitedPaper] = []
    for claim in split_claims(text):
        for n in dict.fromkeys(claim.markers):
            pid = source_ids[n - 1] if 1 <= n <= len(source_ids) else None
            paper = papers.get(pid) if pid is not None else None
            ok = paper is not None and support(claim.text, paper, idf)[0] >= SUPPORT_THRESHOLD
            out.append(CitedPaper(n=n, paper_id=pid, supported=ok))
    return out


def _load_cached(path: Path, digests: np.ndarray) -> np.ndarray | None:
    """Cached vectors when the file holds exactly these node texts; None otherwise."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if data["digests"].shape == digests.shape and bool((data["digests"] == digests).all()):
                return np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, KeyError, ValueError):
        pass  # missing or damaged cache: embed again
    return None
