"""List calibration reproduces the list route over the seed index (the session seed_index fixture); the
pure scoring: unit/test_calibrate_list.py."""

from __future__ import annotations

import pytest

from rag.lists.rules import ListThresholds


@pytest.mark.slow
def test_calibration_reproduces_the_list_route_on_the_seed_index(seed_index) -> None:
    from eval.calibrate_list import build_cases, predict
    from eval.gold import load_gold
    from rag.engine import AnswerEngine
    from rag.question.property import is_aggregate

    items = [it for it in load_gold() if it.kind == "list"]
    cases = build_cases(seed_index.app, items)
    assert len(cases) == len(items) and sum(c.calibration for c in cases) == (len(items) + 1) // 2
    warm = next(c for c, it in zip(cases, items, strict=True) if it.question == "Which papers skip warmup?")
    assert warm.evidence is None and set(warm.fixed) == warm.gold  # an absence question, answered exactly
    # questions the router leaves to the normal engine enter with that engine's answer
    assert all(c.evidence is None for c, it in zip(cases, items, strict=True) if not is_aggregate(it.question))
    # with the shipped thresholds the tool predicts what the rule route answers (the fitted list
    # judge has its own fit, eval/fit_list_judge.py; the rules stay as PAPERCHAT_LISTING__JUDGE=rules)
    s = seed_index.settings
    rules = s.model_copy(update={"listing": s.listing.model_copy(update={"judge": "rules"})})
    engine = AnswerEngine(seed_index.app.retriever(), None, settings=rules)
    presence = [(c, it) for c, it in zip(cases, items, strict=True) if c.evidence is not None]
    assert len(presence) >= 10
    for case, it in presence:
        answer = engine.ask(it.question)
        assert predict(case, ListThresholds()) == [c.paper_id for c in answer.citations], it.id
