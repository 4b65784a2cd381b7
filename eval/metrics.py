"""Evaluation metrics: pure functions over plain lists, sets and numbers.

Conventions every caller may rely on:

* Ranked lists are paper ids, best first. A repeated id counts once, at its first position
  (retrievers that return chunks are collapsed to papers before scoring).
* A metric that is undefined for an input returns ``None`` rather than a made-up number:
  retrieval metrics with an empty gold set, citation precision of an answer that cites nothing,
  any rate over zero items. Aggregations (:func:`mean`, :func:`bootstrap_ci`, :func:`percentile`)
  skip ``None`` values, so "undefined" never silently counts as 0 or 1.
* ``precision_at_k`` divides by ``k`` even when fewer than ``k`` items were returned: a
  retriever that returns nothing useful is not rewarded for returning little.
* :func:`set_prf` is total (never ``None``): both sets empty is a perfect match (1, 1, 1);
  exactly one set empty is a complete miss (0, 0, 0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence

import numpy as np

__all__ = [
    "bootstrap_ci",
    "citation_precision",
    "citation_recall",
    "dedupe",
    "false_refusal_rate",
    "first_relevant_rank",
    "key_fact_hit_rate",
    "key_fact_hits",
    "mean",
    "mrr",
    "ndcg_at_k",
    "normalize_text",
    "percentile",
    "precision_at_k",
    "rate",
    "recall_at_k",
    "refusal_accuracy",
    "set_prf",
]


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Ids in first-seen order, each once."""
    return list(dict.fromkeys(ranked))


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


# --- ranking -----------------------------------------------------------------------------------


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """Share of the gold ids found in the top ``k``; None when there is no gold."""
    _check_k(k)
    gold = set(gold)
    if not gold:
        return None
    return len(gold & set(dedupe(ranked)[:k])) / len(gold)


def precision_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """Gold ids in the top ``k``, divided by ``k``; None when there is no gold."""
    _check_k(k)
    gold = set(gold)
    if not gold:
        return None
    return len(gold & set(dedupe(ranked)[:k])) / k


def first_relevant_rank(ranked: Sequence[str], gold: Collection[str], k: int | None = None) -> int | None:
    """1-based rank of the first gold id (within the top ``k`` if given), or None."""
    gold = set(gold)
    items = dedupe(ranked)
    if k is not None:
        _check_k(k)
        items = items[:k]
    for i, pid in enumerate(items, start=1):
        if pid in gold:
            return i
    return None


def mrr(ranked: Sequence[str], gold: Collection[str], k: int | None = None) -> float | None:
    """Reciprocal rank of the first gold id (0 when none is in the list / top ``k``); None
    when there is no gold. Averaging it over questions gives the mean reciprocal rank."""
    if not set(gold):
        return None
    r = first_relevant_rank(ranked, gold, k)
    return 0.0 if r is None else 1.0 / r


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """Binary-relevance nDCG@k: DCG = sum over gold hits of 1/log2(rank+1), divided by the DCG of
    an ideal list (all gold first, at most ``k`` of them). None when there is no gold."""
    _check_k(k)
    gold = set(gold)
    if not gold:
        return None
    dcg = sum(1.0 / math.log2(i + 1) for i, pid in enumerate(dedupe(ranked)[:k], start=1) if pid in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(gold)) + 1))
    return dcg / ideal


# --- sets and citations --------------------------------------------------------------------------


def set_prf(predicted: Iterable[str], gold: Iterable[str], acceptable: Iterable[str] = ()) -> tuple[float, float, float]:
    """(precision, recall, F1) of a predicted set against a gold set.

    Both empty: (1, 1, 1), e.g. nothing cited for an unanswerable question. Exactly one empty:
    (0, 0, 0), e.g. nothing cited where papers qualify, or papers cited where none do.
    ``acceptable`` papers (borderline, see GOLD-LISTS.md) count neither for nor against: they are
    left out of the prediction before scoring.
    """
    want = set(gold)
    pred = set(predicted) - (set(acceptable) - want)
    if not pred and not want:
        return 1.0, 1.0, 1.0
    if not pred or not want:
        return 0.0, 0.0, 0.0
    tp = len(pred & want)
    p, r = tp / len(pred), tp / len(want)
    f1 = 0.0 if tp == 0 else 2 * p * r / (p + r)
    return p, r, f1


def citation_precision(cited: Iterable[str], gold: Collection[str], acceptable: Collection[str] = ()) -> float | None:
    """Share of the distinct cited paper ids that are gold; None when nothing is cited (a refusal
    is judged by the refusal metrics, not here). Citing an ``acceptable`` paper is not an error."""
    c = set(cited)
    if not c:
        return None
    judged = c - (set(acceptable) - set(gold))
    return len(judged & set(gold)) / len(judged) if judged else 1.0


def citation_recall(cited: Iterable[str], gold: Collection[str]) -> float | None:
    """Share of the gold papers that are cited; None when there is no gold."""
    g = set(gold)
    if not g:
        return None
    return len(g & set(cited)) / len(g)


# --- answer text -------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Casefolded, whitespace runs collapsed to one space, ends stripped."""
    return _SPACE.sub(" ", text.casefold()).strip()


def key_fact_hits(text: str, facts: Sequence[str]) -> list[bool]:
    """Whether each fact occurs in ``text`` as a case- and whitespace-insensitive substring."""
    hay = normalize_text(text)
    return [normalize_text(f) in hay for f in facts]


def key_fact_hit_rate(text: str, facts: Sequence[str]) -> float | None:
    """Share of ``facts`` found in ``text`` (see :func:`key_fact_hits`); None when there are none."""
    if not facts:
        return None
    hits = key_fact_hits(text, facts)
    return sum(hits) / len(hits)


# --- rates and refusals ------------------------------------------------------------------------


def rate(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the non-None flags; None when there are none."""
    vals = [bool(f) for f in flags if f is not None]
    return sum(vals) / len(vals) if vals else None


def refusal_accuracy(refused_on_unanswerable: Iterable[bool]) -> float | None:
    """Share of unanswerable questions the system refused (higher is better)."""
    return rate(refused_on_unanswerable)


def false_refusal_rate(refused_on_answerable: Iterable[bool]) -> float | None:
    """Share of answerable questions the system refused (lower is better)."""
    return rate(refused_on_answerable)


# --- aggregation -------------------------------------------------------------------------------


def _present(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None]


def mean(values: Iterable[float | None]) -> float | None:
    vals = _present(values)
    return sum(vals) / len(vals) if vals else None


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The ``q``-th percentile (0-100, linear interpolation, as numpy); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in [0, 100], got {q}")
    vals = _present(values)
    return float(np.percentile(vals, q)) if vals else None


def bootstrap_ci(values: Iterable[float | None], n: int = 1000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float | None, float | None, float | None]:
    """(mean, lower, upper): the mean and its percentile-bootstrap ``1 - alpha`` interval.

    Resamples the values ``n`` times with replacement (numpy ``default_rng(seed)``, so a run is
    reproducible). One value gives (v, v, v); no values give (None, None, None).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    vals = np.asarray(_present(values), dtype=float)
    if vals.size == 0:
        return None, None, None
    m = float(vals.mean())
    if vals.size == 1:
        return m, m, m
    rng = np.random.default_rng(seed)
    means = vals[rng.integers(0, vals.size, size=(n, vals.size))].mean(axis=1)
    lo, hi = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    # floating-point noise can put an all-equal sample's bounds a hair off the mean
    return m, float(min(lo, m)), float(max(hi, m))
