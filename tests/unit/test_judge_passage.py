"""What the reading judge reads of a pair (rag.judge.passage): the first judge's top-3 layout and
the ranked layout, and the deciding sentence kept inside the window during training."""

from __future__ import annotations

import pytest

from rag.judge.passage import judge_passage, passage_sentences, ranked_sentences
from rag.text.analysis import query_terms, split_sentences

ABSTRACT = ("Large language models are trained with a learning-rate warmup. "
            "Warmup is costly to tune and adds hyper-parameters. "
            "Prior work studies the schedule. "
            "We propose a normalisation that trains stably without any warm-up phase. "
            "Experiments cover translation and language modelling. "
            "Our code is released.")


def test_top3_is_the_three_sentences_sharing_most_terms_in_the_abstracts_order():
    terms = query_terms("Which papers train without a warmup schedule?")
    picked = passage_sentences(terms, ABSTRACT)
    sentences = split_sentences(ABSTRACT)
    assert len(picked) == 3 and picked == sorted(picked, key=sentences.index)
    assert judge_passage(terms, "T", ABSTRACT) == "T. " + " ".join(picked)


def test_ranked_puts_the_papers_own_sentence_on_the_asked_topic_first():
    # "get rid of the warm-up stage" shares only "warm"/"up" with the abstract: the sentence about
    # the paper's own work ("We propose ...") comes before background that repeats the word
    order = ranked_sentences(query_terms("Which papers get rid of the warm-up stage?"), ABSTRACT)
    assert order[0].startswith("We propose")
    assert sorted(order) == sorted(split_sentences(ABSTRACT))  # every sentence, best first


def test_ranked_reads_near_forms_of_a_term():
    # "normalised" shares its first four letters with "normalisation": half a point
    order = ranked_sentences(query_terms("normalised training"), ABSTRACT)
    assert order[0].startswith("We propose")


def test_the_deciding_sentence_is_moved_into_the_first_three_when_it_ranks_lower():
    terms = query_terms("Which papers release code?")
    deciding = "Experiments cover translation and language modelling."
    before = ranked_sentences(terms, ABSTRACT)
    assert before.index(deciding) > 2
    text = judge_passage(terms, "T", ABSTRACT, "ranked", deciding)
    after = text.removeprefix("T. ")
    assert after.split(". ").index(deciding.rstrip(".")) == 2
    # a sentence already in the first three stays where it is
    first = before[0]
    assert judge_passage(terms, "T", ABSTRACT, "ranked", first) == judge_passage(terms, "T", ABSTRACT, "ranked")


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="layout"):
        judge_passage(("warmup",), "T", ABSTRACT, "whole")
