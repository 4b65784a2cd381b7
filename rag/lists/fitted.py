"""The list judge: which candidate papers have the property a "which papers ...?" question asks.

Each candidate's features (``rag.lists.features``) go through a logistic model fit on labelled
question-paper pairs (``eval/fit_list_judge.py``; the fitted numbers ship in
``rag/data/list_judge.json``). A paper is listed when its probability clears the threshold chosen
on the training folds; when none does, the answer is a refusal that names the nearest papers. The
model only ranks and cuts: every listed paper is quoted verbatim from its own abstract.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rag.lists.features import (
    FEATURES,
    Candidate,
    ListQuestion,
    candidate_features,
    paper_sentences,
    relative_features,
)
from rag.lists.rules import Judgement
from rag.question.read import Question
from rag.storage.fsutil import atomic_write
from rag.text.analysis import Idf
from rag.types.papers import Hit, SearchResult

if TYPE_CHECKING:
    import numpy as np

MODEL_FILE = "list_judge.json"


@dataclass(frozen=True)
class ListModel:
    """Standardised logistic regression over named features, and the listing threshold."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    relative: float = 0.0  # listed papers need this share of the best paper's probability
    info: dict | None = None  # how it was fit (data, CV scores), for the record

    def probability(self, f: dict[str, float]) -> float:
        z = self.bias
        for name, m, s, w in zip(self.features, self.mean, self.scale, self.weights, strict=True):
            z += w * (float(f[name]) - m) / s
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "threshold": self.threshold,
                "relative": self.relative, "info": self.info or {}}

    @classmethod
    def from_dict(cls, d: dict) -> ListModel:
        names = tuple(d["features"])
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise ValueError(f"list judge model names unknown features: {unknown}")
        return cls(features=names, mean=tuple(d["mean"]), scale=tuple(d["scale"]), weights=tuple(d["weights"]),
                   bias=float(d["bias"]), threshold=float(d["threshold"]), relative=float(d.get("relative", 0.0)),
                   info=d.get("info"))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> ListModel:
        """The model at ``path``, or the one shipped with the package."""
        if path is None:
            text = resources.files("rag.data").joinpath(MODEL_FILE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return cls.from_dict(json.loads(text))


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, weight: np.ndarray | None = None,
                 iters: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method) on standardised
    ``x``. Small and dependency-free: a few thousand pairs and twenty features."""
    import numpy as np

    n, d = x.shape
    w = np.zeros(d + 1)
    xb = np.hstack([x, np.ones((n, 1))])
    sw = np.ones(n) if weight is None else weight
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -40, 40)))
        g = xb.T @ (sw * (p - y)) + reg * w
        h = (xb * (sw * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(h, g)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


class SentenceSimilarity:
    """Cosine similarity of a question to each evidence sentence of each candidate. A paper's
    sentence vectors are embedded once per index generation: kept per retriever (:meth:`of`; a
    retriever serves one generation) and saved beside the generation's derived files, so the next
    process (every ``paperchat ask``) starts with them. Entries are keyed by the abstract's digest:
    a changed abstract is embedded again."""

    _per_retriever: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def __init__(self, embedder, path: Path | None = None) -> None:
        self.embedder = embedder
        self.path = path
        self._vectors: dict[str, tuple[str, np.ndarray]] = {}
        self._fill = threading.Lock()
        if path is not None:
            self._load(path)

    @classmethod
    def of(cls, retriever) -> SentenceSimilarity:
        with cls._lock:
            sims = cls._per_retriever.get(retriever)
            if sims is None:
                base = retriever.derived_path
                name = re.sub(r"[^A-Za-z0-9._-]+", "_", retriever.embedder.name)
                path = Path(base) / f"sentences-{name}.npz" if base else None
                sims = cls._per_retriever[retriever] = cls(retriever.embedder, path)
            return sims

    def _load(self, path: Path) -> None:
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as z:
                ids, digests, counts, vecs = z["ids"], z["digests"], z["counts"], z["vecs"]
        except (OSError, ValueError, KeyError, EOFError):
            return  # none yet, or damaged: embedded again as needed
        i = 0
        for pid, dig, n in zip(ids.tolist(), digests.tolist(), counts.tolist(), strict=True):
            self._vectors[pid] = (dig, vecs[i:i + n])
            i += n

    def _save(self) -> None:
        import numpy as np

        if self.path is None:
            return
        items = list(self._vectors.items())
        vecs = [v for _, (_, v) in items if len(v)]
        arrays = {"ids": np.array([pid for pid, _ in items]), "digests": np.array([d for _, (d, _) in items]),
                  "counts": np.array([len(v) for _, (_, v) in items], dtype=np.int64),
                  "vecs": np.vstack(vecs).astype(np.float32) if vecs else np.zeros((0, 1), np.float32)}
        try:
            atomic_write(self.path, lambda f: np.savez(f, **arrays))
        except OSError:
            pass  # a read-only index only costs the embedding next time

    def vectors(self, hits: Sequence[Hit]) -> None:
        with self._fill:
            todo = [h for h in hits if self._cached(h) is None]
            if todo:
                self._compute(todo)
                self._save()

    def _cached(self, hit: Hit) -> np.ndarray | None:
        got = self._vectors.get(hit.paper.paper_id)
        return got[1] if got is not None and got[0] == _digest(hit.paper.abstract) else None

    def _compute(self, todo: Sequence[Hit]) -> None:
        import numpy as np

        sents = [paper_sentences(h.paper.abstract) for h in todo]
        flat = [s for ss in sents for s in ss]
        vecs = np.asarray(self.embedder.embed_documents(flat), dtype=np.float32) if flat else np.zeros((0, 1))
        i = 0
        for h, ss in zip(todo, sents, strict=True):
            self._vectors[h.paper.paper_id] = (_digest(h.paper.abstract), vecs[i:i + len(ss)])
            i += len(ss)

    def __call__(self, question: str, hits: Sequence[Hit]) -> list[list[float]]:
        import numpy as np

        self.vectors(hits)
        qv = np.asarray(self.embedder.embed_query(question))
        out = []
        for h in hits:
            v = self._cached(h)
            out.append((v @ qv).tolist() if v is not None and len(v) else [])
        return out


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def shipped_model(path: Path | None = None) -> ListModel:
    """The list model (read once per path): ``path``, or the one shipped with the package."""
    return ListModel.load(path)


def candidates(question: Question, hits: Sequence[Hit], idf: Idf,
               sims: Sequence[list[float] | None] | None = None, reader=None) -> list[Candidate]:
    """Features of every hit, in the order given (its position is its rank); ``sims``: the
    question's similarity to each evidence sentence of each hit, where computed; ``reader``: the
    reading judge (``rag.judge.reader``), whose probability for each hit joins the features."""
    q = ListQuestion.read(question, idf)
    out = [candidate_features(q, h, idf, sims[i] if sims is not None else None, rank=i + 1)
           for i, h in enumerate(hits)]
    if reader is not None and out:
        probs = reader.paper_probabilities(question.text, question.terms, [h.paper for h in hits])
        for c, p in zip(out, probs, strict=True):
            c.features["reader"] = p
    relative_features(out)
    return out


def pool_candidates(retriever, question: Question, hits: Sequence[Hit], depth: int, reader=None) -> list[Candidate]:
    """Features of a list question's pool as the product computes them: sentence similarities
    from the index's own embedder for the ``depth`` best-ranked papers (each paper's sentence
    vectors embedded once per index generation), the best chunk's similarity for the rest."""
    head = list(hits[:depth])
    sims: list = SentenceSimilarity.of(retriever)(question.text, head) if head else []
    sims += [None] * (len(hits) - len(head))
    return candidates(question, hits, retriever.idf, sims, reader)


def judge(cands: Sequence[Candidate], model: ListModel) -> list[Judgement]:
    """The listed papers, most probable first (ties: better rank first)."""
    scored = [(0.0 if c.vetoed else model.probability(c.features), c) for c in cands]
    listed = [(p, c) for p, c in scored if p >= model.threshold]
    if listed and model.relative > 0:
        top = max(p for p, _ in listed)
        listed = [(p, c) for p, c in listed if p >= model.relative * top]
    listed.sort(key=lambda pc: (-round(pc[0], 3), pc[1].features["log_rank"]))
    return [Judgement(hit=c.hit, qualifies=True, quote=c.quote, score=p,
                      reason=f"{c.reason} (judged {p:.0%} likely)") for p, c in listed]


def gather(retriever, question: Question, cap: int, filters=None, mode: str = "hybrid") -> tuple[list[Hit], SearchResult]:
    """The candidate pool of a list question: the ``cap`` best hybrid hits, then papers that a
    lexical pass over the topic alone finds (the question's phrasing can rank them low).
    Returns the pool and the first search's result (its filter facts)."""
    res = retriever.search(question.text, k=cap, filters=filters, depth=cap, mode=mode)
    hits = list(res.hits)
    seen = {h.paper.paper_id for h in hits}
    topic_q = " ".join(question.property.topic)
    topic_mode = "bm25" if mode == "hybrid" else mode
    for h in retriever.search(topic_q, k=cap, filters=filters, mode=topic_mode).hits if topic_q else []:
        if h.paper.paper_id not in seen:
            seen.add(h.paper.paper_id)
            hits.append(h)
    return hits, res
