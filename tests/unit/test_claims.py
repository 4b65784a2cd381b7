"""Which way a claim points (rag.text.claims), on real seed abstracts: a question or a model sentence
that states the opposite of what a paper says about its subject is caught; the same finding, an
unrelated subject and "without hurting accuracy" are not."""

from __future__ import annotations

import pytest

from rag.answer.cite import summary_lines
from rag.lists.features import ListQuestion, candidate_features
from rag.question.read import read_text
from rag.text import claims
from rag.text.analysis import split_sentences
from rag.types.papers import Hit

TO_CODE = "To Code, or Not To Code? Exploring Impact of Code in Pre-training"
MM1 = "MM1: Methods, Analysis & Insights from Multimodal LLM Pre-training"
TOKENIZER = "Tokenizer Choice For LLM Training: Negligible or Crucial?"
PUBLIC = "Why Is Public Pretraining Necessary for Private Model Training?"


def said(claim, paper, idf):
    return claims.contradiction(claim, paper.title, split_sentences(paper.abstract), idf)


@pytest.mark.parametrize(("question", "claim"), [
    ("Which paper finds that adding code to pre-training hurts reasoning?", "adding code to pre-training hurts reasoning"),
    ("Is there evidence that tokenizer choice is negligible?", "tokenizer choice is negligible"),
    ("Do any papers show that warmup helps?", "warmup helps"),
    ("Which papers skip warmup?", None),
])
def test_the_claim_a_question_asks_for(question, claim):
    assert claims.claim_of(question) == claim


@pytest.mark.parametrize(("claim", "direction"), [
    ("code data degrades non-code tasks", "down"),
    ("the choice of tokenizer has no meaningful effect on downstream performance", "none"),
    ("public pretraining is unnecessary for private training", "none"),
    ("the connector design is the most important factor", "up"),
    ("pre-training on public data gives no benefit", "none"),
    ("pruning removes half of the data without hurting accuracy", None),  # says no harm: not a direction
    ("training on synthetic data is worse than training on real data", None),  # a comparison: which side?
    ("coreset selection outperforms random sampling", None),
    ("the method uses a cosine schedule", None),
])
def test_the_direction_of_a_claim(claim, direction):
    assert claims.claim_direction(claim) == direction


@pytest.mark.parametrize(("title", "claim"), [
    (TO_CODE, "adding code to the pre-training mix hurts performance on natural-language reasoning"),
    (TO_CODE, "code data in LLM pre-training degrades non-code tasks"),
    (TOKENIZER, "the choice of tokenizer has no meaningful effect on LLM downstream performance"),
    (PUBLIC, "public pretraining is unnecessary for private training"),
    (MM1, "the vision-language connector design is the most important factor for multimodal LLM performance"),
])
def test_a_paper_that_says_the_opposite_is_caught(seed_titles, seed_idf, title, claim):
    assert said(claim, seed_titles[title], seed_idf)


@pytest.mark.parametrize(("title", "claim"), [
    (TO_CODE, "adding code to pre-training improves natural-language reasoning"),  # what it says
    (TOKENIZER, "tokenizer choice can significantly impact downstream performance"),
    (MM1, "the vision-language connector design is of negligible importance"),
    (MM1, "the image encoder has substantial impact"),
    (TO_CODE, "the method uses a cosine learning-rate schedule"),  # no direction at all
    (PUBLIC, "quantization hurts accuracy"),  # a subject the paper never evaluates
])
def test_the_same_finding_or_another_subject_is_not_a_contradiction(seed_titles, seed_idf, title, claim):
    assert said(claim, seed_titles[title], seed_idf) is None


def test_a_title_that_asks_does_not_state(seed_titles, seed_idf):
    # "Negligible or Crucial?" says neither; the abstract says it can significantly impact
    tokenizer = seed_titles[TOKENIZER]
    only_title = claims.opposed("tokenizer choice is negligible", [tokenizer.title], ["token", "choic"])
    assert only_title is None
    assert said("tokenizer choice is negligible", tokenizer, seed_idf)


def test_the_list_judge_never_lists_a_paper_that_states_the_opposite_finding(seed_titles, seed_idf):
    q = ListQuestion.read(read_text("Do any papers show that code data in LLM pre-training degrades non-code tasks?"), seed_idf)
    code = candidate_features(q, Hit(paper=seed_titles[TO_CODE], score=1.0, rank=1, best_chunk=""), seed_idf)
    assert code.vetoed and "helps" in code.opposite
    q2 = ListQuestion.read(read_text("Do any papers show that code data in pre-training improves reasoning?"), seed_idf)
    same = candidate_features(q2, Hit(paper=seed_titles[TO_CODE], score=1.0, rank=1, best_chunk=""), seed_idf)
    assert not same.opposite


def test_a_model_sentence_that_flips_the_finding_is_removed(seed_titles, seed_idf):
    code = seed_titles[TO_CODE]
    # every word but "hurts" is the abstract's: term coverage alone would pass it
    kept, dropped = summary_lines("The addition of code hurts natural language (NL) reasoning and world knowledge "
                                  "[1].", [code], seed_idf)
    assert kept == [] and "hurts where the abstract says it helps" in dropped[0]
    kept, dropped = summary_lines("The addition of code improves natural language (NL) reasoning and world "
                                  "knowledge [1].", [code], seed_idf)
    assert [line.cites for line in kept] == [[code.paper_id]] and dropped == []


ADAM = "Toward Understanding Why Adam Converges Faster Than SGD for Transformers"
PEFT = "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning"


@pytest.mark.parametrize(("text", "found"), [
    ("Adam converges faster than SGD", [("faster", {"adam", "converg"}, {"sgd"})]),
    ("SGD is slower than Adam", [("faster", {"adam"}, {"sgd"})]),  # an inverse word swaps the sides
    ("RS2 outperforms thirty pruning methods", [("better", {"rs2"}, {"thirti", "prune"})]),
    ("pruning is inferior to random sampling", [("better", {"random", "sampl"}, {"prune"})]),
    ("a better model of language", []),  # compares nothing named
    ("ensembles are more accurate than single networks", [("better", {"ensembl"}, {"singl", "network"})]),
    # the measure between the comparative and "than" is neither side
    ("CTC gives better final accuracy than cross-entropy", [("better", {"ctc", "give"}, {"crossentropi"})]),
    # a one-word aside names the same thing; "outshines" is a comparative verb
    ("FP8 activation outshines its integer (INT8) equivalent", [("better", {"fp8", "activ"},
                                                                 {"integ", "int8", "equival"})]),
    ("Adam converges faster than SGD (Table 1)", [("faster", {"adam", "converg"}, {"sgd"})]),
])
def test_the_sides_of_a_comparison(text, found):
    assert [(f, set(w), set(lo)) for f, w, lo in claims.comparisons(text)] == found


@pytest.mark.parametrize(("title", "claim"), [
    (ADAM, "plain SGD converges faster than Adam when training transformers"),
    (ADAM, "Adam converges slower than SGD on transformers"),
    (PEFT, "few-shot in-context learning is more accurate and cheaper than parameter-efficient fine-tuning"),
])
def test_a_comparison_stated_the_other_way_round_is_caught(seed_titles, seed_idf, title, claim):
    assert "other way round" in said(claim, seed_titles[title], seed_idf)


@pytest.mark.parametrize(("title", "claim"), [
    (ADAM, "Adam converges faster than SGD on transformers"),
    (PEFT, "few-shot parameter-efficient fine-tuning is cheaper than in-context learning"),
    (ADAM, "SGD is cheaper than Adam"),  # another measure: the paper says nothing about it
])
def test_the_same_comparison_or_another_measure_is_not_a_contradiction(seed_titles, seed_idf, title, claim):
    assert said(claim, seed_titles[title], seed_idf) is None


def test_no_seed_abstract_contradicts_its_own_comparisons(seed_titles):
    for paper in seed_titles.values():
        texts = [paper.title, *split_sentences(paper.abstract)]
        for t in texts:
            assert claims.reversed_comparison(t, texts) is None, (paper.title, t)


def test_a_model_sentence_that_reverses_a_comparison_is_removed(seed_titles, seed_idf):
    adam = seed_titles[ADAM]
    kept, dropped = summary_lines("SGD converges faster than Adam on Transformers [1].", [adam], seed_idf)
    assert kept == [] and "other way round" in dropped[0]
    kept, dropped = summary_lines("Adam converges faster than SGD on Transformers [1].", [adam], seed_idf)
    assert [line.cites for line in kept] == [[adam.paper_id]]


@pytest.mark.parametrize(("title", "claim", "verdict"), [
    (TO_CODE, "adding code to pre-training improves natural-language reasoning", True),
    (ADAM, "Adam converges faster than SGD on transformers", True),
    (PEFT, "few-shot parameter-efficient fine-tuning is cheaper than in-context learning", True),
    (TO_CODE, "adding code to the pre-training mix hurts natural-language reasoning", False),  # the opposite
    (ADAM, "SGD is cheaper than Adam", False),  # a comparison the paper never makes
    (PEFT, "in-context learning outperforms parameter-efficient fine-tuning", False),
    (TO_CODE, "the method uses a cosine learning-rate schedule", None),  # no direction to read
    (PUBLIC, "quantization hurts accuracy", None),  # a subject the paper never names
])
def test_whether_a_paper_states_the_finding_as_asked(seed_titles, seed_idf, title, claim, verdict):
    paper = seed_titles[title]
    assert claims.affirms(claim, paper.title, split_sentences(paper.abstract), seed_idf) is verdict


@pytest.mark.parametrize("question", [
    "Which paper's theory predicts that model size should grow faster than data?",
    "Is there a study that reveals that warmup hurts convergence?",
    "Which paper observes that larger batches generalize worse?",
])
def test_more_verbs_of_finding_ask_for_a_claim(question):
    assert claims.claim_of(question)


def test_a_qualified_adjective_after_more_or_less_is_a_comparison():
    """"less compute-efficient than": the measure is "efficient", whatever qualifies it."""
    from rag.text.claims import comparisons

    [(fam, win, lose)] = comparisons("ELECTRA-style replaced token detection is less compute-efficient "
                                     "than BERT's masked language modeling")
    assert fam == "faster" and "bert" in win and "detect" in lose
    [(_, win, lose)] = comparisons("softmax attention converges more reliably than Gaussian attention")
    assert "softmax" in win and "gaussian" in lose
