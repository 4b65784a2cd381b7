"""Acronyms an abstract defines are read as their long form, and the long form as the acronym."""

from __future__ import annotations

import pytest

from rag.answer.evidence import score_paper
from rag.question.read import read_text
from rag.text.acronyms import Acronym, defined, expand
from rag.text.analysis import terms
from rag.types.papers import Hit


@pytest.mark.parametrize(("text", "short", "long"), [
    ("We perform supervised fine-tuning (SFT) on both.", "sft", {"supervis", "fine", "tune"}),
    ("we propose Warm-start RL (WSRL), a recipe", "wsrl", {"warm", "start", "rl"}),  # an acronym inside
    ("the parameters of Feed-Forward Networks (FFNs) into experts", "ffn", {"feed", "forward", "network"}),
    ("the learning rate of the optimizer (LRO)", "lro", {"learn", "rate", "optim"}),  # a small word skipped
])
def test_a_defined_acronym_has_its_long_form(text, short, long):
    assert defined(text) == [Acronym(short, frozenset(long))]


@pytest.mark.parametrize("text", [
    "trained on ImageNet (IN-1K) and CIFAR",  # a digit: no acronym
    "we study the new method (SFT) here",  # the initials before it do not spell it
    "as shown in Table 2 (left)",  # no capitals
    "zero-shot composed image retrieval (ZS-CIR)",  # two terms: not one word to stand for the long form
])
def test_what_is_not_a_definition(text):
    assert defined(text) == []


def test_expand_reads_each_form_as_the_other():
    sft = defined("We perform supervised fine-tuning (SFT) on both.")
    assert {"supervis", "fine", "tune"} <= expand(set(terms("SFT improves the pass@1")), sft)
    assert "sft" in expand(set(terms("with supervised fine-tuning only")), sft)
    assert expand(set(terms("fine weather")), sft) == set(terms("fine weather"))  # part of the long form: nothing


DEBUG = ("How much does supervised fine-tuning raise pass@1 in the work that trains LLMs on explanation-then-"
         "refinement trajectories for fixing their own wrong code?")


def test_the_sentence_using_the_acronym_covers_the_long_form_asked(seed_titles, seed_idf):
    """"SFT improves the pass@1 by up to 15.92%" answers "how much does supervised fine-tuning raise
    pass@1?": read as its long form, it outranks a sentence on the RL step that follows it."""
    q = read_text(DEBUG)
    hit = Hit(paper=seed_titles["Training LLMs to Better Self-Debug and Explain Code"], score=1.0, rank=1,
              best_chunk="")
    pe = score_paper(list(q.terms), hit, seed_idf, q.wants_number, number_bonus=0.25)
    sft = next(s for s in pe.sentences if "15.92%" in s.text)
    rl = next(s for s in pe.sentences if "3.54%" in s.text)
    assert sft.score > rl.score
