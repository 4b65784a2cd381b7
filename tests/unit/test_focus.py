"""What a lookup asks for, read apart from how it names its paper, picks the sentence quoted."""

from __future__ import annotations

import pytest

from rag.answer.evidence import score_paper
from rag.question.focus import asked_for
from rag.question.read import read_text
from rag.types.papers import Hit

CROPMAE = ("What masking ratio does the self-supervised image pre-training method that replaces SiamMAE's pairs of "
           "video frames with two differently cropped views of one still image manage to reach?")
PPO = ("What is the name of the improved PPO variant proposed in the RLHF technical report that identifies policy "
       "constraints as the key factor for making PPO work on large language models?")
PLORA = ("What is the name of the new adaptation method introduced for fine-tuning an LLM on speech inputs, in the "
         "work that aligns the LLM's next-token distributions for speech and text inputs through knowledge distillation?")


@pytest.mark.parametrize(("question", "asked"), [
    (CROPMAE, ("mask", "ratio")),
    (PPO, ("improv", "ppo", "variant")),  # "the name of ...", up to where the description opens
    ("How much faster does it train than per-frame 3DGS?", ("faster",)),
    # no auxiliary: the whole question
    ("Which dataset provides the restaurant domain?", ("dataset", "provid", "restaur", "domain")),
    # the form does not say: every term counts alike, as before
    ("By how much does the system speed up Ginex?", ()),
    ("How does FlashAttention work?", ()),
    # the asking word closes the question (it once raised IndexError and failed the request)
    ("That operator is associated with what?", ()),
    ("Explain ByteScale", ()),
])
def test_what_a_question_asks_for(question, asked):
    assert asked_for(question) == asked
    assert read_text(question).asked_for == asked


@pytest.mark.parametrize(("question", "title", "answer"), [
    (CROPMAE, "Efficient Image Pre-Training with Siamese Cropped Masked Autoencoders", "98.5%"),
    (PLORA, "BLSP-KD: Bootstrapping Language-Speech Pre-training via Knowledge Distillation", "Partial LoRA"),
])
def test_the_quoted_sentence_says_what_is_asked_not_the_description(seed_titles, seed_idf, question, title, answer):
    q = read_text(question)
    hit = Hit(paper=seed_titles[title], score=1.0, rank=1, best_chunk="")
    pe = score_paper(list(q.terms), hit, seed_idf, q.wants_number, asked=q.asked_for, asked_weight=1.0)
    assert any(answer in s.text for s in pe.sentences[:2])  # the two quoted
    plain = score_paper(list(q.terms), hit, seed_idf, q.wants_number)
    # all terms alike: the sentences that repeat the description
    assert not any(answer in s.text for s in plain.sentences[:2])
    # whether the paper answers at all is still read off the sentence covering most of the question
    assert pe.top_coverage == plain.top_coverage == plain.best.coverage


RIGID = ("By how much does the training-free detector of AI-generated images, which compares a foundation model's "
         "representation of an image with that of a slightly noise-perturbed copy, beat the best previous "
         "training-free method?")


def test_a_number_question_whose_form_names_nothing_quotes_the_sentence_with_the_number(seed_titles, seed_idf):
    """"By how much does <a long description> beat ...?": the form says only that a number is asked
    for, so a sentence that states one outranks two that repeat the description."""
    q = read_text(RIGID)
    assert q.asked_for == () and q.wants_number
    hit = Hit(paper=seed_titles["RIGID: A Training-free and Model-Agnostic Framework for Robust AI-Generated Image "
                                "Detection"], score=1.0, rank=1, best_chunk="")
    top = score_paper(list(q.terms), hit, seed_idf, True, number_bonus=0.25).sentences[:2]
    assert any("more than 25%" in s.text for s in top)
    small = score_paper(list(q.terms), hit, seed_idf, True, number_bonus=0.05).sentences[:2]
    assert not any("more than 25%" in s.text for s in small)


HARDWARE = ("What hardware did the face-recognition paper that trains with tens of millions of identities on a "
            "single machine use?")


@pytest.mark.parametrize(("question", "wanted"), [
    (HARDWARE, True),
    ("Which datasets is the defence evaluated on?", True),
    ("On which languages was the tokenizer evaluated?", True),
    (PPO, True),  # "the name of ..."
    ("How many music understanding tasks is the model evaluated on?", False),  # a count
    (CROPMAE, False),
    ("How does FlashAttention work?", False),
])
def test_a_lookup_asking_for_named_things(question, wanted):
    assert read_text(question).wants_names is wanted


def test_a_question_asking_for_named_things_quotes_the_sentence_that_names_them(seed_titles, seed_idf):
    """"What hardware did <a long description> use?": the sentence that answers names the hardware
    ("eight NVIDIA RTX2080Ti") and says little of the description, so a sentence naming something
    the question does not outranks those that repeat it."""
    q = read_text(HARDWARE)
    hit = Hit(paper=seed_titles["Partial FC: Training 10 Million Identities on a Single Machine"], score=1.0, rank=1,
              best_chunk="")
    args = (list(q.terms), hit, seed_idf, q.wants_number)
    named = score_paper(*args, asked=q.asked_for, asked_weight=1.0, number_bonus=0.25, prefer_names=True)
    assert any("RTX2080Ti" in s.text for s in named.sentences[:2])
    plain = score_paper(*args, asked=q.asked_for, asked_weight=1.0, number_bonus=0.25)
    assert not any("RTX2080Ti" in s.text for s in plain.sentences[:2])


CT = ("In the study that removes redundant CT images before contrastive self-supervised pre-training, how much did "
      "the AUC on the COVID CT classification challenge improve, and how much faster did pre-training become?")
CT_TITLE = ("Less is More: Selective Reduction of CT Data for Self-Supervised Pre-Training of Deep Learning Models with "
            "Contrastive Learning Improves Downstream Classification Performance")


def test_a_quantity_written_in_words_is_a_number(seed_titles, seed_idf):
    """"up to nine times faster" answers "how much faster ...?" as "9x" would."""
    q = read_text(CT)
    hit = Hit(paper=seed_titles[CT_TITLE], score=1.0, rank=1, best_chunk="")
    top = score_paper(list(q.terms), hit, seed_idf, q.wants_number, asked=q.asked_for, asked_weight=1.0,
                      number_bonus=0.25).sentences[:2]
    assert any("nine times faster" in s.text for s in top)
    assert any("0.78 to 0.83" in s.text for s in top)


MRC = ("How many datasets and how many reading-comprehension task types were used to evaluate the iterative "
       "self-training method that supervises an evidence extractor with automatically generated pseudo evidence "
       "labels?")


def test_a_count_in_words_of_what_the_question_counts_is_a_number(seed_titles, seed_idf):
    """"seven datasets over three MRC tasks" answers "how many datasets ...?"; a count of something
    the question does not name ("two components") earns nothing."""
    q = read_text(MRC)
    hit = Hit(paper=seed_titles["A Self-Training Method for Machine Reading Comprehension with Soft Evidence "
                                "Extraction"], score=1.0, rank=1, best_chunk="")
    pe = score_paper(list(q.terms), hit, seed_idf, q.wants_number, asked=q.asked_for, asked_weight=1.0,
                     number_bonus=0.25)
    assert any("seven datasets" in s.text for s in pe.sentences[:2])
    two = next(s for s in pe.sentences if "two components" in s.text)
    assert two.number == 0.0


def test_a_format_or_variant_asked_for_is_a_named_thing():
    assert read_text("What two synthetic caption formats are examined as case studies?").wants_names
    assert read_text("Which variant of the optimizer do they propose?").wants_names


MOE = ("How many tokens of continual pre-training are used after splitting LLaMA-2 7B's feed-forward layers into "
       "experts to turn it into a sparse mixture-of-experts model?")


def test_a_number_the_question_states_or_an_items_number_is_not_the_one_asked_for(seed_titles, seed_idf):
    """"LLaMA-2 7B" is how the question names the model and "(1) Expert Construction" numbers a step:
    neither answers "how many tokens", which "by training 200B tokens" does."""
    q = read_text(MOE)
    assert q.wants_number and set(q.numbers) == {"2", "7"}
    hit = Hit(paper=seed_titles["LLaMA-MoE: Building Mixture-of-Experts from LLaMA with Continual Pre-training"],
              score=1.0, rank=1, best_chunk="")
    pe = score_paper(list(q.terms), hit, seed_idf, True, number_bonus=0.25, stated=frozenset(q.numbers))
    stating = [s.text for s in pe.sentences if s.number > 0]
    assert stating and "200B tokens" in stating[0]
    assert not any("LLaMA-2 7B" in t for t in stating)


ATOP = ("Which datasets is the defence evaluated on that destroys perturbations with random transforms and then "
        "fine-tunes a purifier model with an adversarial loss?")


def test_the_papers_own_names_do_not_answer_which_datasets(seed_titles, seed_idf):
    """"Which datasets ...?" is answered by "CIFAR-10, CIFAR-100, and ImageNette", not by the sentence
    naming the paper's own pipeline ("AToP") or its own steps ("RT", defined as random transforms)."""
    q = read_text(ATOP)
    assert q.wants_names and q.wants_others
    assert not read_text("What is the name of the method that discards the offline data?").wants_others
    hit = Hit(paper=seed_titles["Adversarial Training on Purification (AToP): Advancing Both Robustness and "
                                "Generalization"], score=1.0, rank=1, best_chunk="")
    pe = score_paper(list(q.terms), hit, seed_idf, False, number_bonus=0.25, prefer_names=True, others=True)
    naming = [s.text for s in pe.sentences if s.number > 0]
    assert naming and "CIFAR-10, CIFAR-100, and ImageNette" in naming[0]
    assert not any("named Adversarial Training on Purification" in t for t in naming)


def test_a_described_first_question_closing_on_its_asking_word_is_read():
    """It raised IndexError, and the request failed, on a fresh held-out lookup (holdout23)."""
    q = read_text("A study finds that training is slow when an operator is ill-conditioned. That operator is "
                  "associated with what?")
    assert q.asked_for == ("oper", "associ") and q.claim is None
