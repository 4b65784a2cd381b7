"""A question asking which paper introduced a name is answered by the paper that introduces it,
not by the papers that use it."""

from __future__ import annotations

import pytest

from rag.question.read import read_text
from rag.text.origin import introduces


@pytest.mark.parametrize(("question", "origin"), [
    ("Which paper introduced Adam?", True),
    ("Where was HER originally proposed, the goal-relabelling replay trick?", True),
    ("Who first proposed FlashAttention-2?", True),
    ("What is the original paper on LAMB?", True),
    ("Which paper first proposed the lottery ticket hypothesis?", False),  # no name to check
    ("What batch size does LAMB reach?", False),
    ("What is the name of the benchmark introduced with the pose estimator?", False),
])
def test_an_origin_question_is_read(question, origin):
    assert read_text(question).origin is origin


@pytest.mark.parametrize(("names", "title", "sentence", "verdict"), [
    (["FlashAttention-2"], "FlashAttention-2: Faster Attention with Better Parallelism", "", True),  # the title's name
    (["LAMB"], "Large Batch Optimization for Deep Learning", "Using this strategy, we develop a new layerwise adaptive "
     "large batch optimization technique called LAMB; we then provide convergence analysis of LAMB.", True),
    (["HER"], "Hindsight", "We present a novel technique called Hindsight Experience Replay (HER).", True),
    (["Adam"], "A Method", "We introduce Adam, an algorithm for first-order gradient-based optimization.", True),
    # the name is used, or is part of a longer name, or is what the contribution is about
    (["Adam"], "1-bit Adam: Communication Efficient Training", "In this paper, we propose 1-bit Adam that reduces "
     "the communication volume.", False),
    (["Lion"], "Distributed Lion", "We introduce Distributed Lion, an innovative adaptation of Lion.", False),
    (["Adam"], "Adaptive Gradient Methods", "We provide new variants of Adam and AMSGrad, called AdaBound.", False),
    (["Adam"], "Adam-mini: Use Fewer Learning Rates", "We propose Adam-mini, an optimizer.", False),
    (["HER"], "Goal-conditioned Imitation Learning", "Methods like Hindsight Experience Replay (HER) have recently "
     "shown promise.", False),
    (["FlashAttention-2"], "FastAttention: Extend FlashAttention2 to NPUs", "We propose FastAttention, which "
     "extends FlashAttention2.", False),
    (["Adam"], "A Study", "Adam is proposed as a default optimizer in many works.", False),  # not the paper's voice
])
def test_whether_a_paper_introduces_a_name(names, title, sentence, verdict):
    assert introduces(names, title, [sentence] if sentence else []) is verdict
