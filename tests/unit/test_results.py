"""Whether a sentence reports a result (rag.text.results): a finding is quoted from one, never
from background or the paper's plan."""

from __future__ import annotations

import pytest

from rag.text.results import is_background, reports_result

RESULTS = [
    "Our empirical results demonstrate the superior performance of LAMB across various tasks.",
    "In this technical report, we confirm that the scaling law formulations remain valid.",
    "We found that the skeletons can effectively bridge the synthetic and real domains.",
    "Our architecture reduces the network cost by up to 75% compared to Clos networks.",
    "LAMB outperforms LARS on BERT.",
    "Warmup is unnecessary for Adam.",
    "In-context learning emerges when the training data exhibits burstiness.",
    "The pruned networks reach test accuracy comparable to the original network.",
]
NOT_RESULTS = [
    # background
    "Diffusion models have achieved remarkable success in text-to-image generation.",
    "Modern distributed training relies heavily on communication compression.",
    "Recent methods outperform classical baselines on most benchmarks.",
    "However, existing approaches achieve only modest speed-ups.",
    # the paper's plan or method
    "In this work, we investigate the training dynamics of Transformers.",
    "As an alternative, we propose a more sample-efficient pre-training task called replaced token detection.",
    "We conduct comprehensive experiments on two distinct domains.",
    # an open question
    "How the representation emerges from the gradient training dynamics remains a mystery.",
]


@pytest.mark.parametrize("sentence", RESULTS)
def test_a_result_is_read_as_one(sentence):
    assert reports_result(sentence)


@pytest.mark.parametrize("sentence", NOT_RESULTS)
def test_background_plans_and_open_questions_report_no_result(sentence):
    assert not reports_result(sentence)


def test_the_papers_own_voice_keeps_a_present_perfect_a_result():
    assert not is_background("We have shown that the method converges twice as fast.")
    assert is_background("Transformers have become the backbone of many models.")
    # "open-source" is not an open question
    assert reports_result("Our open-source model is released and outperforms Llama.")
