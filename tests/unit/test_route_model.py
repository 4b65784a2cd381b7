"""The route model: researcher phrasings of a list question reach the list route; questions
about one paper, follow-ups and lookups do not. Real shipped model, pure Python."""

from __future__ import annotations

import pytest

from rag.question.read import asks_for_papers, read_question
from rag.question.route_model import RouteModel, route_features, shipped_route_model


@pytest.mark.parametrize("question", [
    "Any work on training without warmup?",
    "Has anyone studied grokking in transformers?",
    "looking for methods that cut communication in distributed training",
])
def test_a_researchers_phrasing_of_a_list_question_takes_the_list_route(question: str):
    assert read_question(question).route != "list"  # the default: the pattern alone
    assert read_question(question, route_model=True).route == "list"


@pytest.mark.parametrize("question", [
    "tell me more", "why?", "Explain ByteScale", "What batch size does LAMB use?",
    "How do AdaBelief and AdaBound differ?", "How many GPU hours did the step-law study use?",
    "What is the main contribution of the Partial FC paper?", "How is the paper on ByteScale evaluated?",
])
def test_other_questions_keep_the_normal_route(question: str):
    assert read_question(question, route_model=True).route == "answer"


def test_the_pattern_still_decides_first_and_lists_off_means_off():
    assert asks_for_papers("Which papers skip warmup?")
    assert read_question("Any work on training without warmup?", lists=False, route_model=True).route == "answer"


def test_the_setting_is_off_by_default_and_can_be_turned_on(settings):
    from rag.settings import load_settings

    assert settings.answer.route_model is False  # measured, not shipped: eval/results/router-2026-12-06
    assert load_settings(llm_backend="none", answer={"route_model": True}).answer.route_model is True


def test_the_model_file_is_what_the_fit_wrote(tmp_path):
    model = shipped_route_model()
    assert 0.5 <= model.threshold < 1 and len(model.weights) > 1000
    assert "f2:which papers" in model.weights and model.weights["f2:which papers"] > 0
    (tmp_path / "m.json").write_text('{"bias": 0.0, "threshold": 0.5, "weights": {"w:warmup": 3.0}}', "utf-8")
    tiny = RouteModel.load(tmp_path / "m.json")
    assert tiny.probability("warmup") > 0.95 and tiny.probability("cooldown") == 0.5
    assert route_features("Any work?")[-1] == "q:yes" and "f1:any" in route_features("Any work?")


def test_the_engine_routes_by_the_setting(settings):
    from rag.engine import AnswerEngine
    from rag.settings import load_settings

    asked = "Any work on training without warmup?"
    assert AnswerEngine(None, settings=settings).route(asked).route == "answer"
    on = load_settings(llm_backend="none", answer={"route_model": True})
    assert AnswerEngine(None, settings=on).route(asked).route == "list"


def test_a_question_the_model_sent_is_marked_and_can_have_its_own_judge():
    from rag.lists.judges import FittedJudge, ReaderJudge, own_judge
    from rag.settings import load_settings

    by_model = read_question("Any work on training without warmup?", route_model=True)
    by_pattern = read_question("Which papers skip warmup?", route_model=True)
    assert by_model.by_model and not by_pattern.by_model
    default = load_settings(llm_backend="none")
    assert isinstance(own_judge(default, by_model), FittedJudge)
    split = load_settings(llm_backend="none", listing={"model_routed_judge": "reader"})
    assert isinstance(own_judge(split, by_model), ReaderJudge)
    assert isinstance(own_judge(split, by_pattern), FittedJudge)
