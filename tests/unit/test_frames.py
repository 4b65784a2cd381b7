"""Attack or defence (rag.text.frames), on real seed abstracts: a question asking for one side is not
answered with a paper on the other, and nothing changes for papers or questions without a side."""

from __future__ import annotations

import pytest

from rag.lists.features import ListQuestion, candidate_features, paper_sentences
from rag.question.read import read_text
from rag.text import frames
from rag.types.papers import Hit

LORA = "LoRA Fine-tuning Efficiently Undoes Safety Training in Llama 2-Chat 70B"
MIXTURE = "Data Mixture Inference: What do BPE Tokenizers Reveal about their Training Data?"
LASTDE = "Training-free LLM-generated Text Detection by Mining Token Probability Sequences"
HIERARCHY = "The Instruction Hierarchy: Training LLMs to Prioritize Privileged Instructions"
COCKTAIL = ("Cocktail Party Attack: Breaking Aggregation-Based Privacy in Federated Learning using Independent "
            "Component Analysis")
CERTIFIED = "Fast Certified Robust Training with Short Warmup"
PC_DARTS = "PC-DARTS: Partial Channel Connections for Memory-Efficient Architecture Search"


def frame_of(paper):
    return frames.paper_frame(paper.title, paper_sentences(paper.abstract))


@pytest.mark.parametrize(("text", "acts"), [
    ("we introduce a novel attack", ["attack"]),
    ("our method is robust against paraphrasing attacks", ["defence"]),  # the attack is defended against
    ("one of the vulnerabilities underlying these attacks", []),
    ("our attack bypasses all existing defences", ["attack"]),
    ("a competition on face morphing attack detection", ["defence"]),  # a compound: detection is the act
    ("our methods are attack-agnostic", []),
    ("we defend against jailbreaks", ["defence"]),
])
def test_which_cues_are_acts(text, acts):
    assert frames.acts(text) == acts


@pytest.mark.parametrize(("question", "frame"), [
    ("Which paper proposes a defence that hides a tokenizer's training-data mixture from inference attacks?",
     "defence"),
    ("Which paper proposes an attack that rewrites LLM-generated text so that machine-text detectors fail?",
     "attack"),
    ("Is there a paper on evading AI-text detectors?", "attack"),
    ("Which papers make an LLM's safety training resistant to malicious fine-tuning?", "defence"),
    ("Which papers skip warmup?", None),
])
def test_what_a_question_asks_for(question, frame):
    assert frames.question_frame(question) == frame


@pytest.mark.parametrize(("title", "frame"), [
    (LORA, "attack"), (MIXTURE, "attack"), (COCKTAIL, "attack"),
    (LASTDE, "defence"), (HIERARCHY, "defence"), (CERTIFIED, "defence"),
    (PC_DARTS, None),  # "bypassing the held out part" is not an attack
])
def test_the_side_a_paper_is_on(seed_titles, title, frame):
    assert frame_of(seed_titles[title]) == frame


def test_no_seed_paper_outside_security_reads_as_an_attack(seed_titles):
    attacks = {t for t, p in seed_titles.items() if frame_of(p) == "attack"}
    assert attacks <= {LORA, MIXTURE, COCKTAIL, "Set-level Guidance Attack: Boosting Adversarial Transferability "
                       "of Vision-Language Pre-training Models"}


@pytest.mark.parametrize(("question", "title"), [
    ("Which papers make an LLM's safety training resistant to malicious fine-tuning of its released weights?", LORA),
    ("Do any papers protect the language proportions of pretraining data from being recovered through a "
     "released tokenizer?", MIXTURE),
    ("Which papers propose new prompt-injection attacks against LLM applications?", HIERARCHY),
    ("Is there a paper on evading AI-text detectors by paraphrasing model outputs?", LASTDE),
])
def test_the_list_judge_vetoes_the_other_side(seed_titles, seed_idf, question, title):
    q = ListQuestion.read(read_text(question), seed_idf)
    c = candidate_features(q, Hit(paper=seed_titles[title], score=1.0, rank=1, best_chunk=""), seed_idf)
    assert c.vetoed and "the question asks for" in c.opposite


@pytest.mark.parametrize(("question", "title"), [
    ("Which paper defends LLMs against prompt injections and jailbreaks?", HIERARCHY),
    ("Which paper introduces an attack that infers a tokenizer's training-data mixture?", MIXTURE),
    ("Which papers provide certified robustness guarantees against adversarial perturbations?", CERTIFIED),
    ("Which papers skip warmup?", CERTIFIED),  # no side asked for
])
def test_the_same_side_or_no_side_is_not_vetoed(seed_titles, seed_idf, question, title):
    q = ListQuestion.read(read_text(question), seed_idf)
    c = candidate_features(q, Hit(paper=seed_titles[title], score=1.0, rank=1, best_chunk=""), seed_idf)
    assert not c.opposite
