"""Claims on the seed index: the engine refuses a finding a paper reports the other way (pure claim logic:
unit/test_claims.py)."""

from __future__ import annotations

TO_CODE = "To Code, or Not To Code? Exploring Impact of Code in Pre-training"


def test_the_engine_refuses_a_finding_the_paper_reports_the_other_way(seed_index):
    from rag.engine import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    a = engine.ask("Which paper finds that adding code to the pre-training mix hurts performance on "
                   "natural-language reasoning?")
    assert a.refused
    assert any("To Code, or Not To Code?" in n and "says the opposite" in n for n in a.notes)
    # asked the right way round, the same paper answers
    b = engine.ask("Which paper finds that adding code to the pre-training mix improves natural-language reasoning?")
    assert not b.refused and any(c.title == TO_CODE for c in b.citations)
