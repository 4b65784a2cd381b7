"""The list-threshold calibration tool: the pure sweep on hand-made evidence, and the real run
over the seed index (the session ``seed_index`` fixture)."""

from __future__ import annotations

import pytest

from eval.calibrate_list import Case, report, score, sweep
from rag.lists.rules import ListThresholds, PresenceEvidence, select_present
from rag.types.papers import Hit, Paper


def _ev(pid: str, rank: int, best: float, abstract: float = 0.0, dense: float = 0.0) -> PresenceEvidence:
    paper = Paper(paper_id=pid, title=pid, abstract=f"{pid} abstract.", source="t", line=rank)
    hit = Hit(paper=paper, score=1.0 / rank, rank=rank, best_chunk="")
    return PresenceEvidence(hit=hit, best=best, quote=f"{pid} quote", abstract=abstract, dense=dense)


def test_select_present_applies_each_rule_then_the_relative_cut() -> None:
    ev = [_ev("a", 1, 0.9), _ev("b", 2, 0.1, abstract=0.85), _ev("c", 3, 0.1, dense=0.7), _ev("d", 4, 0.2)]
    th = ListThresholds(sentence=0.5, abstract=0.8, dense=0.6, relative=0.0, depth=20)
    got = select_present(ev, th)
    assert [j.hit.paper.paper_id for j in got] == ["a", "b", "c"]  # ordered by evidence score
    assert "sentence" in got[0].reason and "abstract" in got[1].reason and "meaning" in got[2].reason
    strict = ListThresholds(sentence=0.5, abstract=0.8, dense=0.6, relative=0.95, depth=20)
    assert [j.hit.paper.paper_id for j in select_present(ev, strict)] == ["a"]
    shallow = ListThresholds(sentence=0.5, abstract=0.8, dense=0.6, relative=0.0, depth=1)
    assert [j.hit.paper.paper_id for j in select_present(ev, shallow)] == ["a"]


def test_score_and_sweep_pick_the_threshold_that_separates_gold_on_the_calibration_half() -> None:
    # gold papers have sentence coverage 0.6; distractors 0.4
    def case(i: int, calibration: bool) -> Case:
        ev = [_ev(f"g{i}", 1, 0.6), _ev(f"x{i}", 2, 0.4), _ev(f"y{i}", 3, 0.4)]
        return Case(f"q{i}", frozenset({f"g{i}"}), ev, calibration=calibration)

    cases = [case(i, i % 2 == 0) for i in range(4)] + [
        Case("absence", frozenset({"p"}), None, fixed=("p", "q"), calibration=False)
    ]
    loose = ListThresholds(sentence=0.35, abstract=1.01, dense=1.01, relative=0.0, depth=20)
    s = score([c for c in cases if c.calibration], loose)
    assert s.n == 2 and s.recall == 1.0 and s.precision == pytest.approx(1 / 3) and s.f1 == pytest.approx(0.5)
    grid = {"sentence": (0.35, 0.5), "abstract": (1.01,), "dense": (1.01,), "relative": (0.0,), "depth": (20,)}
    best = sweep(cases, grid, keep=2)
    th, cal, held = best[0]
    assert th.sentence == 0.5 and cal.f1 == 1.0 and best[1][0].sentence == 0.35
    # held out: two presence questions (perfect) and the fixed absence answer (P 0.5, R 1)
    assert held.n == 3 and held.recall == 1.0 and held.precision == pytest.approx((1 + 1 + 0.5) / 3)
    table = report(cases, best, loose)
    assert "**current default**" in table and "sentence 0.5" in table and "1 (absence" in table
