"""Where the list judge's limits lie, measured on the spent held-out sets: the shipped judge against
a refit on all of them, retrieval order alone, the reading judge's order, and a question-level
gate that decides whether to answer at all.

    python -m eval.fit_list_judge --extra eval/gold-holdout.jsonl ... --cache F   # gather once
    python -m eval.list_frontier --cache F --extra eval/gold-holdout.jsonl ...

Every score is on the ``--extra`` questions (those the shipped judge was not fitted on); refits and
the gate are cross-validated by need (``eval.fit_list_judge.folds``), so a question never helps to
judge itself. "first" and "paraphrase" are the wordings whose ids end in ``-a`` and ``-b``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from eval import fit_list_judge as F

TOP_K = (1, 2, 3)
GATES = (0.3, 0.4, 0.5, 0.6, 0.7)


def shipped_probabilities(case: F.Case, model) -> np.ndarray:
    """The shipped judge's probability for each candidate (its own features, from the cache's)."""
    return F.probabilities(F.select(case, model.features),
                           (np.array(model.mean), np.array(model.scale), np.array(model.weights), model.bias))


def by_wording(cases: Sequence[F.Case], predicted: Sequence[list[str]], ids: set[str]) -> str:
    """Scores on ``ids``: all, first wordings, paraphrases."""
    out = []
    for name, end in (("all", ""), ("first", "-a"), ("paraphrase", "-b")):
        sel = [(c, p) for c, p in zip(cases, predicted, strict=True) if c.item.id in ids and c.item.id.endswith(end)]
        s = F.score([c for c, _ in sel], [p for _, p in sel])
        out.append(f"  {name:>10}: F1 {s['list_f1']:.3f}, precision {s['list_precision']:.3f}, refusal accuracy "
                   f"{s['refusal_accuracy']:.3f}, false refusals {s['false_refusals']:.3f}, objective {s['objective']:.3f}")
    return "\n".join(out)


def top_k(case: F.Case, key: Callable[[F.Case], np.ndarray], k: int) -> list[str]:
    """The ``k`` best candidates by ``key`` that no veto rules out; never a refusal."""
    if not len(case.x):
        return []
    order = [j for j in np.argsort(-key(case), kind="stable") if not case.veto[j]]
    return [case.pids[j] for j in order[:k]]


def question_features(case: F.Case, p: np.ndarray, reader: int) -> np.ndarray:
    """What a question-level gate reads: the pool's two best reader and judge probabilities."""
    def best(v: np.ndarray, n: int) -> float:
        v = np.sort(np.where(case.veto, -1.0, v))[::-1] if len(v) else v
        return float(v[n - 1]) if len(v) >= n else -1.0
    r = case.x[:, reader] if len(case.x) else np.zeros(0)
    return np.array([best(r, 1), best(r, 2), best(p, 1), best(p, 2)])


def gated(cases: Sequence[F.Case], probs: Sequence[np.ndarray], x: np.ndarray, gate: float,
          threshold: float, relative: float, rank: int) -> list[list[str]]:
    """Refuse unless the gate (fitted on the other folds) says answerable; then list the shipped
    judge's papers, or else the best-ranked paper."""
    from rag.lists.fitted import fit_logistic

    y = np.array([c.item.answerable for c in cases], float)
    out: list[list[str]] = [[] for _ in cases]
    for fold in F.folds(cases, 5):
        held = set(fold)
        train = [i for i in range(len(cases)) if i not in held]
        mean, scale = F._standardise(x[train])
        w, b = fit_logistic((x[train] - mean) / scale, y[train], l2=1.0)
        for i in fold:
            if 1.0 / (1.0 + np.exp(-(((x[i] - mean) / scale) @ w + b))) < gate:
                continue
            c = cases[i]
            out[i] = F.predict(c, probs[i], threshold, relative) or top_k(c, lambda c: -c.x[:, rank], 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True, help="features gathered by eval.fit_list_judge --cache")
    ap.add_argument("--lists", type=Path, default=F.ROOT / "gold-lists.jsonl")
    ap.add_argument("--gold", type=Path, default=F.ROOT / "gold.jsonl")
    ap.add_argument("--extra", type=Path, action="append", default=[], help="a spent set; scores are on these")
    args = ap.parse_args(argv)
    if not args.extra:
        raise SystemExit("name the spent sets to score on with --extra")

    from rag.lists.features import FEATURES
    from rag.lists.fitted import ListModel

    rank = FEATURES.index("log_rank")
    reader = FEATURES.index("reader")
    items = F.training_items(args.lists, args.gold, args.extra)
    cases = F.load_cases(args.cache, items, FEATURES)
    ids = {i.id for path in args.extra for i in F.load_gold(path) if i.kind in ("list", "unanswerable")}
    shipped = ListModel.load()
    probs = [shipped_probabilities(c, shipped) for c in cases]
    print(f"{len(ids)} questions scored, of {len(cases)} gathered")
    print("the shipped judge:")
    print(by_wording(cases, [F.predict(c, p, shipped.threshold, shipped.relative)
                             for c, p in zip(cases, probs, strict=True)], ids))
    for l2 in (0.3, 3.0):
        predicted, _ = F.cross_validate(cases, l2)
        print(f"the judge refit on all gathered questions (l2={l2}, 5-fold CV by need):")
        print(by_wording(cases, predicted, ids))
    for name, key in (("retrieval order", lambda c: -c.x[:, rank]), ("the reading judge", lambda c: c.x[:, reader])):
        for k in TOP_K:
            print(f"never refusing, the top {k} by {name}:")
            print(by_wording(cases, [top_k(c, key, k) for c in cases], ids))
    x = np.array([question_features(c, p, reader) for c, p in zip(cases, probs, strict=True)])
    for gate in GATES:
        print(f"a question-level gate at {gate}, then the shipped judge's papers or the best-ranked one:")
        print(by_wording(cases, gated(cases, probs, x, gate, shipped.threshold, shipped.relative, rank), ids))
    return 0

if __name__ == "__main__":
    sys.exit(main())
