"""A list question asking which papers use or report a named thing lists every paper that uses it."""

from __future__ import annotations

import pytest

from rag.lists.mention import mentioned_name
from rag.question.read import read_text


@pytest.mark.parametrize(("question", "name"), [
    ("Which papers report ROUGE scores?", "ROUGE"),
    ("Which papers report results on SQuAD?", "SQuAD"),
    ("Which papers report experiments on the SVHN dataset?", "SVHN"),
    # how a paper uses it (trains, fine-tunes, compares against it) says no more than using it
    ("Which papers use RoBERTa, either as a model they train or fine-tune or as a baseline they compare against?",
     "RoBERTa"),
    # more is asked than using the name: the judge decides
    ("Which papers use ROUGE to train summarisers?", None),
    ("Which papers report results on SQuAD without fine-tuning?", None),
    # a name many papers use is no short list ("BERT"), and one no paper uses is no list at all
    ("Which papers report results on BERT?", None),
    ("Which papers report results on FooBench?", None),
])
def test_which_questions_ask_for_the_papers_using_a_name(seed_idf, question, name):
    assert mentioned_name(read_text(question, "list"), seed_idf, 10) == name


def test_the_default_reaches_a_benchmark_many_papers_report_but_not_a_word_most_papers_use(seed_idf):
    from rag.settings_sections import ListThresholds

    cap = ListThresholds().mention_max_papers
    assert mentioned_name(read_text("Which papers report results on ImageNet?", "list"), seed_idf, cap) == "ImageNet"
    assert mentioned_name(read_text("Which papers report results on LLMs?", "list"), seed_idf, cap) is None


def test_the_rule_can_be_turned_off(seed_idf):
    assert mentioned_name(read_text("Which papers report ROUGE scores?", "list"), seed_idf, 0) is None
