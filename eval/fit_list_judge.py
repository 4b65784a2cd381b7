"""Fit the list judge (``rag.lists.fitted``) on labelled question-paper pairs, cross-validated by
information need, and write the model the product ships (``rag/data/list_judge.json``).

    python -m eval.fit_list_judge [--out rag/data/list_judge.json] [--report FILE.md] [--cache FILE]

Training data: the ``tune`` split of ``eval/gold-lists.jsonl`` and the list and unanswerable
questions of ``eval/gold.jsonl``. The ``final`` split is never read here. For every question the
product's candidate pool is gathered (``rag.lists.fitted.gather``); a candidate is positive when it
is a gold paper, negative otherwise, and borderline ("acceptable") papers are left out of
training. Folds hold whole needs (a question and its paraphrases), so a paraphrase never helps to
judge itself. The threshold is chosen for mean set F1 on the training folds only, and the held-out
folds give the scores reported. Uses the index under ``PAPERCHAT_HOME``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval import metrics as M
from eval.gold import GoldItem, load_gold

ROOT = Path(__file__).resolve().parent
THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.05, 0.96, 0.025))
RELATIVE = (0.0, 0.3, 0.5, 0.7)
L2 = (0.3, 1.0, 3.0, 10.0)


@dataclass
class Case:
    """One question: its candidates' features and labels (1 gold, 0 not, -1 borderline)."""

    item: GoldItem
    pids: list[str]
    x: np.ndarray  # candidates x features
    labels: np.ndarray
    rules: list[str]  # what the current rule route lists on the same pool
    veto: np.ndarray | None = None  # candidates the judge never lists (Candidate.vetoed)

    @property
    def group(self) -> str:
        return self.item.group or self.item.id


def training_items(lists: Path, gold: Path, extra: Sequence[Path] = ()) -> list[GoldItem]:
    """The tune split of the list set, the list and unanswerable questions of the main set, and
    those of every ``extra`` set (all splits: a set goes here only after it was scored, once, as
    a held-out measure; its score is then spent)."""
    out = [i for i in load_gold(lists) if i.split == "tune"]
    out += [i for i in load_gold(gold) if i.kind in ("list", "unanswerable")]
    for path in extra:
        out += [i for i in load_gold(path) if i.kind in ("list", "unanswerable")]
    ids = [i.id for i in out]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"question ids repeat across the training sets: {sorted({x for x in ids if ids.count(x) > 1})}")
    return out


def build_cases(app, items: Sequence[GoldItem], features: Sequence[str], log=print) -> list[Case]:
    from rag.judge.reader import load_reader
    from rag.lists import rules as listing
    from rag.lists.features import vector
    from rag.lists.fitted import gather, pool_candidates
    from rag.question.read import read_text

    retriever = app.retriever()
    idf = retriever.idf
    cap = app.settings.answer.aggregate_candidates
    cases = []
    for n, item in enumerate(items, 1):
        q = read_text(item.question, "list")
        hits, res = gather(retriever, q, cap)
        cands = pool_candidates(retriever, q, hits, app.settings.listing.sentence_depth,
                                load_reader(app.settings.listing.reader_path))
        gold, ok = set(item.gold_ids), set(item.acceptable_ids) - set(item.gold_ids)
        pids = [c.hit.paper.paper_id for c in cands]
        labels = np.array([1 if p in gold else (-1 if p in ok else 0) for p in pids])
        prop = q.property
        if prop.polarity == "absence":
            rules = [j.hit.paper.paper_id for j in listing.judge_all(hits, prop, idf)]
        else:
            rules = [j.hit.paper.paper_id for j in listing.judge_presence(res.hits, q, idf,
                                                                            app.settings.listing)]
        x = np.array([vector(c.features, features) for c in cands]) if cands else np.zeros((0, len(features)))
        veto = np.array([c.vetoed for c in cands], dtype=bool)
        cases.append(Case(item=item, pids=pids, x=x, labels=labels, rules=rules, veto=veto))
        if n % 20 == 0:
            log(f"  {n}/{len(items)} questions")
    return cases


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit(cases: Sequence[Case], l2: float):
    from rag.lists.fitted import fit_logistic

    x = np.vstack([c.x[c.labels >= 0] for c in cases])
    y = np.concatenate([c.labels[c.labels >= 0] for c in cases]).astype(float)
    mean, scale = _standardise(x)
    w, b = fit_logistic((x - mean) / scale, y, l2=l2)
    return mean, scale, w, b


def probabilities(case: Case, model) -> np.ndarray:
    mean, scale, w, b = model
    if not len(case.x):
        return np.zeros(0)
    p = 1.0 / (1.0 + np.exp(-np.clip(((case.x - mean) / scale) @ w + b, -40, 40)))
    return p if case.veto is None else np.where(case.veto, 0.0, p)


def predict(case: Case, p: np.ndarray, threshold: float, relative: float) -> list[str]:
    keep = [i for i in range(len(p)) if p[i] >= threshold]
    if keep and relative > 0:
        top = max(p[i] for i in keep)
        keep = [i for i in keep if p[i] >= relative * top]
    return [case.pids[i] for i in keep]


def score(cases: Sequence[Case], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean set F1 / precision / recall over list questions; refusal accuracy over unanswerable
    ones; the false refusal rate; and the mean F1 over all (unanswerable: 1 when refused)."""
    f1s, ps, rs, refused_ok, false_ref, all_f1 = [], [], [], [], [], []
    for c, pred in zip(cases, predicted, strict=True):
        p, r, f = M.set_prf(pred, c.item.gold_ids, c.item.acceptable_ids)
        all_f1.append(f)
        if c.item.answerable:
            f1s.append(f)
            ps.append(p if pred else None)
            rs.append(r)
            false_ref.append(not pred)
        else:
            refused_ok.append(not pred)
    return {"list_f1": M.mean(f1s) or 0.0, "list_precision": M.mean(ps) or 0.0, "list_recall": M.mean(rs) or 0.0,
            "refusal_accuracy": M.mean([float(v) for v in refused_ok]) or 0.0,
            "false_refusals": M.mean([float(v) for v in false_ref]) or 0.0, "objective": M.mean(all_f1) or 0.0}


def choose(cases: Sequence[Case], l2: float) -> tuple[tuple, float, float]:
    """Fit on ``cases`` and choose the threshold and relative cut for the best objective on them."""
    model = fit(cases, l2)
    probs = [probabilities(c, model) for c in cases]
    best = (-1.0, 0.5, 0.0)
    for t in THRESHOLDS:
        for rel in RELATIVE:
            s = score(cases, [predict(c, p, t, rel) for c, p in zip(cases, probs, strict=True)])["objective"]
            if s > best[0] + 1e-9:
                best = (s, t, rel)
    return model, best[1], best[2]


def folds(cases: Sequence[Case], k: int) -> list[list[int]]:
    """Case indices per fold, whole groups only, groups dealt round-robin in sorted order."""
    groups = sorted({c.group for c in cases})
    of = {g: i % k for i, g in enumerate(groups)}
    return [[i for i, c in enumerate(cases) if of[c.group] == f] for f in range(k)]


def cross_validate(cases: Sequence[Case], l2: float, k: int = 5) -> tuple[list[list[str]], list[dict]]:
    """Held-out predictions for every case, and what each fold chose."""
    predicted: list[list[str]] = [[] for _ in cases]
    chosen = []
    for fold in folds(cases, k):
        train = [c for i, c in enumerate(cases) if i not in set(fold)]
        model, t, rel = choose(train, l2)
        chosen.append({"threshold": t, "relative": rel})
        for i in fold:
            predicted[i] = predict(cases[i], probabilities(cases[i], model), t, rel)
    return predicted, chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lists", type=Path, default=ROOT / "gold-lists.jsonl")
    ap.add_argument("--gold", type=Path, default=ROOT / "gold.jsonl")
    ap.add_argument("--out", type=Path, default=None, help="write the fitted model here")
    ap.add_argument("--report", type=Path, default=None)
    ap.add_argument("--extra", type=Path, action="append", default=[],
                    help="another scored-once set whose list and unanswerable questions join the training data")
    ap.add_argument("--cache", type=Path, default=None, help="reuse/save the gathered features (dev loop)")
    ap.add_argument("--features", default=None, help="comma-separated subset of rag.lists.features.FEATURES")
    args = ap.parse_args(argv)

    from rag.lists.features import FEATURES

    names = tuple(args.features.split(",")) if args.features else FEATURES
    items = training_items(args.lists, args.gold, args.extra)
    if args.cache and args.cache.is_file():
        cases = load_cases(args.cache, items, names)
    else:
        from rag.paperchat import Paperchat
        from rag.settings import load_settings

        app = Paperchat(load_settings())
        cases = build_cases(app, items, FEATURES)
        if args.cache:
            save_cases(args.cache, cases)
        cases = [select(c, names) for c in cases]
    lines = [f"training questions: {len(cases)} ({sum(c.item.answerable for c in cases)} list, "
             f"{sum(not c.item.answerable for c in cases)} unanswerable), needs: {len({c.group for c in cases})}",
             f"pairs: {sum(int((c.labels >= 0).sum()) for c in cases)} "
             f"(positive {sum(int((c.labels == 1).sum()) for c in cases)})",
             f"gold papers in the pool: {pool_recall(cases):.3f}",
             "rules (current route) on the same pools: " + fmt(score(cases, [c.rules for c in cases]))]
    best = None
    for l2 in L2:
        predicted, chosen = cross_validate(cases, l2)
        s = score(cases, predicted)
        lines.append(f"learned, l2={l2}, 5-fold CV by need: {fmt(s)}; thresholds {[c['threshold'] for c in chosen]}")
        if best is None or s["objective"] > best[1]["objective"]:
            best = (l2, s)
    l2 = best[0]
    model, t, rel = choose(cases, l2)
    mean, scale, w, b = model
    lines.append(f"final fit on all training questions: l2={l2}, threshold {t}, relative {rel}")
    lines += [f"  {n:>16}: {wi:+.3f}" for n, wi in sorted(zip(names, w, strict=True), key=lambda x: -abs(x[1]))]
    text = "\n".join(lines)
    print(text)
    if args.out:
        from rag.lists.fitted import ListModel

        ListModel(features=names, mean=tuple(map(float, mean)), scale=tuple(map(float, scale)),
                  weights=tuple(map(float, w)), bias=b, threshold=t, relative=rel,
                  info={"l2": l2, "cv": best[1], "training_questions": len(cases),
                        "data": [str(args.lists.name) + " (tune split)", str(args.gold.name) + " (list, unanswerable)"]
                        + [f"{x.name} (list, unanswerable)" for x in args.extra]},
                  ).save(args.out)
    if args.report:
        args.report.write_text(text + "\n", "utf-8")
    return 0


def pool_recall(cases: Sequence[Case]) -> float:
    rs = [len(set(c.pids) & set(c.item.gold_ids)) / len(c.item.gold_ids) for c in cases if c.item.answerable]
    return sum(rs) / len(rs) if rs else 0.0


def fmt(s: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in s.items())


def select(case: Case, names: Sequence[str]) -> Case:
    from rag.lists.features import FEATURES

    idx = [FEATURES.index(n) for n in names]
    return Case(item=case.item, pids=case.pids, x=case.x[:, idx] if len(case.x) else np.zeros((0, len(idx))),
                labels=case.labels, rules=case.rules, veto=case.veto)


def save_cases(path: Path, cases: Sequence[Case]) -> None:
    from rag.lists.features import FEATURES

    path.write_text(json.dumps({"features": list(FEATURES), "cases": [
        {"id": c.item.id, "pids": c.pids, "x": c.x.tolist(), "labels": c.labels.tolist(), "rules": c.rules,
         "veto": (c.veto if c.veto is not None else np.zeros(len(c.pids), bool)).tolist()}
        for c in cases]}), "utf-8")


def load_cases(path: Path, items: Sequence[GoldItem], names: Sequence[str]) -> list[Case]:
    data = json.loads(path.read_text("utf-8"))
    stored = data["features"]
    idx = [stored.index(n) for n in names]
    by_id = {i.id: i for i in items}
    out = []
    for c in data["cases"]:
        if c["id"] not in by_id:  # a cache gathered for more sets than this run trains on
            continue
        x = np.array(c["x"]) if c["x"] else np.zeros((0, len(stored)))
        out.append(Case(item=by_id[c["id"]], pids=c["pids"], x=x[:, idx] if len(x) else np.zeros((0, len(idx))),
                        labels=np.array(c["labels"]), rules=c["rules"], veto=np.array(c["veto"], dtype=bool)))
    return out


if __name__ == "__main__":
    sys.exit(main())
