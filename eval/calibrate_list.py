"""Calibrate the rule list route's evidence thresholds (``rag.settings_sections.ListThresholds``, used with
``PAPERCHAT_LISTING__JUDGE=rules``; the default fitted judge is fit by ``eval/fit_list_judge.py``) on the list
questions of the gold set, with a held-out half so the chosen numbers are not judged on the
questions that chose them.

    python -m eval.calibrate_list [--gold eval/gold.jsonl] [--out FILE.md]

Uses the index under ``PAPERCHAT_HOME`` (run ``paperchat ingest`` first). Each question is
retrieved and its candidates' evidence computed once; the grid sweep then only compares numbers.
Questions about an absence ("without warmup") are judged by other rules, and questions the router
does not send to the list route are answered by the normal engine: both enter with the product's
fixed answer. Calibration half: the 1st, 3rd, 5th ... list questions in file order; held out: the
rest. The sweep maximises mean set F1 on the calibration half (precision breaks ties).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval import metrics as M
from eval.gold import load_gold

GRID = {
    "sentence": (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),
    "abstract": (0.7, 0.8, 0.9, 1.01),  # 1.01: the rule is off
    "dense": (0.5, 0.55, 0.6, 0.65, 1.01),
    "relative": (0.4, 0.5, 0.6, 0.7, 0.8),
    "depth": (10, 15, 20),
}


@dataclass
class Case:
    """One list question: its candidates' evidence (or a fixed answer) and its gold papers."""

    item_id: str
    gold: frozenset[str]
    evidence: list | None  # list[PresenceEvidence]; None when the thresholds do not decide it
    fixed: tuple[str, ...] = ()
    calibration: bool = True


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float
    n: int


def predict(case: Case, th) -> list[str]:
    from rag.lists.rules import select_present

    if case.evidence is None:
        return list(case.fixed)
    return [j.hit.paper.paper_id for j in select_present(case.evidence, th)]


def score(cases: Iterable[Case], th) -> Score:
    rows = [M.set_prf(predict(c, th), c.gold) for c in cases]
    if not rows:
        return Score(0.0, 0.0, 0.0, 0)
    n = len(rows)
    return Score(sum(r[2] for r in rows) / n, sum(r[0] for r in rows) / n, sum(r[1] for r in rows) / n, n)


def sweep(cases: Sequence[Case], grid: dict[str, Sequence[float]] = GRID, keep: int = 8):
    """(thresholds, calibration score, held-out score) for the ``keep`` best settings."""
    from rag.settings_sections import ListThresholds

    cal = [c for c in cases if c.calibration]
    held = [c for c in cases if not c.calibration]
    names = list(grid)
    ranked = []
    for values in itertools.product(*(grid[n] for n in names)):
        th = ListThresholds(**dict(zip(names, values, strict=True)))
        s = score(cal, th)
        ranked.append((-s.f1, -s.precision, values, th, s))
    ranked.sort(key=lambda r: r[:3])
    return [(th, s, score(held, th)) for *_, th, s in ranked[:keep]]


def build_cases(app, items) -> list[Case]:
    """Retrieve each list question as the list route does and compute its evidence once."""
    from rag.engine import AnswerEngine
    from rag.lists import rules as listing
    from rag.question.property import is_aggregate
    from rag.question.read import read_text

    engine = AnswerEngine(app.retriever(), None, settings=app.settings)
    cap = app.settings.answer.aggregate_candidates
    depth = max(GRID["depth"])
    cases = []
    for i, it in enumerate(items):
        q = read_text(it.question, "list")
        gold = frozenset(it.gold_ids)
        if q.property.polarity == "absence" or not is_aggregate(it.question):
            # judged by other rules, or not routed to the list route at all: the product's answer
            answer = engine.ask(it.question)
            cases.append(Case(it.id, gold, None, tuple(c.paper_id for c in answer.citations), i % 2 == 0))
            continue
        res = engine.retriever.search(it.question, k=cap, depth=cap)
        ev = listing.presence_evidence(res.hits, q, engine.idf, depth)
        cases.append(Case(it.id, gold, ev, (), i % 2 == 0))
    return cases


def _fmt(th) -> str:
    return ", ".join(f"{name} {value}" for name, value in th.model_dump().items())


def report(cases: Sequence[Case], best, default) -> str:
    n_cal = sum(c.calibration for c in cases)
    lines = [
        "# List-route threshold calibration",
        "",
        f"{len(cases)} list questions: {n_cal} for calibration, {len(cases) - n_cal} held out; "
        f"{sum(c.evidence is None for c in cases)} (absence questions, or not routed to the list route) "
        "enter with the product's fixed answer.",
        "",
        "| thresholds | calibration F1 / P / R | held-out F1 / P / R | all F1 / P / R |",
        "|---|---|---|---|",
    ]
    for label, th in [("**current default**", default), *((None, b[0]) for b in best)]:
        cal = score([c for c in cases if c.calibration], th)
        held = score([c for c in cases if not c.calibration], th)
        allq = score(cases, th)
        cells = [f"{s.f1:.3f} / {s.precision:.3f} / {s.recall:.3f}" for s in (cal, held, allq)]
        lines.append(f"| {label + ': ' if label else ''}{_fmt(th)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", type=Path, default=None, help="gold JSONL (default: eval/gold.jsonl)")
    ap.add_argument("--out", type=Path, default=None, help="also write the table to this file")
    args = ap.parse_args(argv)

    from rag.paperchat import Paperchat
    from rag.settings import load_settings
    from rag.settings_sections import ListThresholds

    items = [it for it in load_gold(args.gold) if it.kind == "list"]
    app = Paperchat(load_settings())
    cases = build_cases(app, items)
    text = report(cases, sweep(cases), ListThresholds())
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
