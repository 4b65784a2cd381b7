"""Pure ranking helpers: fusing ranked lists and collapsing chunk hits into papers.

No I/O and no models here, so every function has hand-computed tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def rrf_fuse(rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks starting at 1.

    Robust to the two retrievers' incomparable score scales, which is why it is the default.
    """
    weights = weights or [1.0] * len(rankings)
    out: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            out[doc] = out.get(doc, 0.0) + w / (k + rank)
    return out


def minmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale to [0, 1]; a constant list maps to 1.0 (every hit equally good)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {d: (s - lo) / (hi - lo) for d, s in scores.items()}


def score_fuse(lexical: Mapping[str, float], dense: Mapping[str, float], dense_weight: float = 0.5) -> dict[str, float]:
    """Convex combination of min-max normalised scores; a document missing from one list gets 0 there."""
    lx, dn = minmax(lexical), minmax(dense)
    return {d: (1 - dense_weight) * lx.get(d, 0.0) + dense_weight * dn.get(d, 0.0) for d in set(lx) | set(dn)}


def top(scores: Mapping[str, float], k: int) -> list[tuple[str, float]]:
    """Best k by score, ties broken by id so results are deterministic."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def collapse_chunks(hits: Iterable[tuple[str, str, float]]) -> dict[str, tuple[float, str]]:
    """(paper_id, chunk_id, score) hits -> paper_id -> (best score, best chunk id)."""
    best: dict[str, tuple[float, str]] = {}
    for paper_id, chunk_id, score in hits:
        if paper_id not in best or score > best[paper_id][0]:
            best[paper_id] = (score, chunk_id)
    return best
