"""Fit the route model (``rag.question.route_model``): does a question ask for a set of papers?

    python -m eval.fit_router [--out rag/data/route_model.json] [--report FILE.md]

Data, none of it from the seeds' held-out sets: every wording of the judge's training needs over
the training corpus (``eval/judge_data/questions`` and ``paraphrases``: list, absence, broad and
near-miss needs ask for papers, lookups do not), the list / lookup / numeric / compare questions of
``eval/gold.jsonl`` and the list questions of ``gold-lists.jsonl``'s tune split. Unanswerable
questions are left out (their form can be either). Folds hold whole needs. The threshold is the
lowest whose cross-validated rate of lookups sent to the list route stays at or under ``--max-fpr``;
the product routes a question to the list route when the pattern matches or the model says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from eval.judge.pool import HERE as JUDGE_DATA
from eval.judge.pool import load_questions
from rag.question.property import is_aggregate
from rag.question.read import model_may_read
from rag.question.route_model import route_features

ROOT = Path(__file__).resolve().parent


def examples() -> list[tuple[str, int, str, str]]:
    """(question, asks for papers, group, source)."""
    out = []
    for q in load_questions() + load_questions(JUDGE_DATA / "paraphrases"):
        labelled = q["wording"] in ("a", "b")  # the two wordings the needs were labelled with
        out.append((q["question"], int(q["kind"] != "lookup"), q["need"], "train-ab" if labelled else "train-cde"))
    for line in (ROOT / "gold.jsonl").open(encoding="utf-8"):
        g = json.loads(line)
        if g["kind"] != "unanswerable":
            out.append((g["question"], int(g["kind"] == "list"), g.get("group") or g["id"], "gold"))
    for line in (ROOT / "gold-lists.jsonl").open(encoding="utf-8"):
        g = json.loads(line)
        if g["split"] == "tune" and g["kind"] == "list":
            out.append((g["question"], 1, g["group"], "gold-lists-tune"))
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 400) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression, classes balanced, by full-batch Adam steps."""
    w, b = np.zeros(x.shape[1]), 0.0
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    pos_weight = (len(y) - y.sum()) / max(1, y.sum())  # balance the classes
    sw = np.where(y == 1, pos_weight, 1.0)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = x.T @ ((p - y) * sw) / len(y) + l2 * w / len(y)
        gb = float(((p - y) * sw).mean())
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
        w -= 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        b -= 0.1 * (mb / (1 - 0.9**t)) / (np.sqrt(vb / (1 - 0.999**t)) + 1e-8)
    return w, b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--report", type=Path, default=None)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--max-fpr", type=float, default=0.02)
    a = ap.parse_args()
    data = examples()
    vocab = sorted({f for q, *_ in data for f in route_features(q)})
    col = {f: i for i, f in enumerate(vocab)}
    x = np.zeros((len(data), len(vocab)))
    for i, (q, *_) in enumerate(data):
        for f in route_features(q):
            x[i, col[f]] = 1.0
    y = np.array([lab for _, lab, _, _ in data], dtype=float)
    fold = np.array([int(hashlib.sha1(g.encode()).hexdigest(), 16) % a.folds for _, _, g, _ in data])
    pattern = np.array([is_aggregate(q) for q, *_ in data])
    # the product's guards (rag.question.read.asks_for_papers): the model never reads these
    eligible = np.array([model_may_read(q) for q, *_ in data])
    prob = np.zeros(len(data))
    for k in range(a.folds):
        w, b = fit(x[fold != k], y[fold != k], a.l2)
        prob[fold == k] = 1 / (1 + np.exp(-(x[fold == k] @ w + b)))
    lines = [f"examples: {len(data)} ({int(y.sum())} ask for papers), features: {len(vocab)}, l2 {a.l2}, "
             f"{a.folds}-fold CV by need", ""]
    neg = y == 0
    threshold = 0.5
    for t in np.arange(0.05, 0.96, 0.05):
        if ((prob[neg] >= t) & eligible[neg]).mean() <= a.max_fpr:
            threshold = round(float(t), 2)
            break
    routed = pattern | (eligible & (prob >= threshold))
    lines.append(f"threshold {threshold} (lowest with CV lookups-to-list rate <= {a.max_fpr})")
    lines.append("| source | questions | ask for papers | pattern alone: routed right | pattern or model: routed right |")
    lines.append("|---|---|---|---|---|")
    for src in sorted({s for *_, s in data}):
        sel = np.array([s == src for *_, s in data])
        lines.append(f"| {src} | {int(sel.sum())} | {int(y[sel].sum())} | "
                     f"{(pattern[sel] == y[sel]).mean():.3f} | {(routed[sel] == y[sel]).mean():.3f} |")
    lines.append(f"\nlookups sent to the list route: pattern {pattern[neg].mean():.3f}, pattern or model "
                 f"{routed[neg].mean():.3f}; questions asking for papers routed there: pattern "
                 f"{pattern[~neg].mean():.3f}, pattern or model {routed[~neg].mean():.3f}")
    w, b = fit(x, y, a.l2)
    top = sorted(zip(vocab, w, strict=True), key=lambda fw: -abs(fw[1]))[:25]
    lines.append("\nstrongest weights (final fit on everything): " + ", ".join(f"{f} {v:+.2f}" for f, v in top))
    text = "\n".join(lines)
    print(text)
    if a.report:
        a.report.write_text(text + "\n", "utf-8")
    if a.out:
        weights = {f: round(float(v), 4) for f, v in zip(vocab, w, strict=True) if abs(v) >= 1e-3}
        a.out.write_text(json.dumps({"bias": round(b, 4), "threshold": threshold, "l2": a.l2,
                                     "examples": len(data), "weights": weights}, sort_keys=True) + "\n", "utf-8")


if __name__ == "__main__":
    main()
