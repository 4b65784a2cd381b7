"""Claims on the seed index: the engine refuses a finding a paper reports the other way, or does not
report (pure claim logic: unit/test_claims.py)."""

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


def test_the_engine_refuses_a_comparison_no_paper_states(seed_index):
    """The paper is on topic and says SGD and Adam differ, but not that SGD is cheaper: quoting it
    as the answer would cite a background sentence as proof."""
    from rag.answer.vetoes import UNSTATED
    from rag.engine import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    q = "Which paper shows that SGD is cheaper than Adam for training transformers?"
    a = engine.ask(q)
    assert a.refused
    assert any(UNSTATED in n for n in a.notes)
    # the rule is what refuses: without it the same paper is quoted
    base = seed_index.app.settings
    off = base.model_copy(update={"answer": base.answer.model_copy(update={"finding_stated": False})})
    b = AnswerEngine(seed_index.app.retriever(), None, settings=off).ask(q)
    assert not b.refused


def _without_result_rule(seed_index):
    from rag.engine import AnswerEngine

    base = seed_index.app.settings
    off = base.model_copy(update={"answer": base.answer.model_copy(update={"finding_reported": False})})
    return AnswerEngine(seed_index.app.retriever(), None, settings=off)


def test_a_finding_is_not_answered_by_a_papers_plan(seed_index):
    """The paper is on topic, but its sentences on the question say what it sets out to do ("In
    this work, we seek ways to reproduce and study training stability ..."): none reports the
    finding asked about, so it is left out with a note; without the rule the same paper is quoted."""
    from rag.answer.vetoes import UNREPORTED
    from rag.engine import AnswerEngine

    q = ("Which paper shows that the training instabilities of large Transformers, such as attention-logit "
         "growth and output-logit divergence, cannot be reproduced in small models?")
    a = AnswerEngine(seed_index.app.retriever(), None).ask(q)
    assert a.refused
    assert any("Small-scale proxies" in n and UNREPORTED in n for n in a.notes)
    assert not _without_result_rule(seed_index).ask(q).refused


def test_a_finding_is_quoted_from_the_sentence_that_reports_it(seed_index):
    """Without the rule, the first quote is background ("(Dense) transformers are expected to reach
    the trillion-parameter scale ..."); with it, the same paper is quoted by its result only."""
    from rag.engine import AnswerEngine
    from rag.text.results import reports_result

    q = ("Any paper concluding that accelerator RAM isn't what limits training at the trillion-weight scale, "
         "and that the binding constraint is how long the run takes?")
    a = AnswerEngine(seed_index.app.retriever(), None).ask(q)
    b = _without_result_rule(seed_index).ask(q)
    quotes = [ln.context or ln.text for ln in a.lines if ln.kind == "quote"]
    before = [ln.context or ln.text for ln in b.lines if ln.kind == "quote"]
    assert quotes and all(reports_result(s) for s in quotes)
    assert not reports_result(before[0])
    assert {c.paper_id for c in a.citations} == {c.paper_id for c in b.citations}


def test_which_paper_introduced_a_name_is_answered_only_by_the_paper_that_introduces_it(seed_index):
    """Five seed papers say "Adam" and none introduces it: no paper is cited as its origin, and each
    one left out says why. The paper that introduces a name is still the answer."""
    from rag.engine import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    a = engine.ask("Which paper introduced Adam?")
    assert a.refused and not a.citations
    assert any("1-bit Adam" in n and "does not introduce" in n for n in a.notes)
    fa2 = engine.ask("Where was FlashAttention-2 proposed?")
    assert [c.title.split(":")[0] for c in fa2.citations] == ["FlashAttention-2"]
    lamb = engine.ask("Which paper introduced LAMB?")
    assert not lamb.refused and [c.title for c in lamb.citations] == [
        "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes"]
