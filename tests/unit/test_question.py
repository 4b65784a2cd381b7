"""The question read once (rag.question.read): what each route and step reads comes from one
reading of the text and the conversation, and equals what the readers give on the text itself."""

from __future__ import annotations

import dataclasses

import pytest

from rag.question.compare import is_compare
from rag.question.property import property_of, wants_number
from rag.question.read import asking_sentence, read_question, read_text
from rag.text.analysis import names, query_terms
from rag.text.claims import claim_of
from rag.text.frames import question_frame
from rag.types.answers import Answer, Citation, Exclusion, Source


def _prev(excluded: bool = False) -> Answer:
    return Answer(
        question="Which papers skip warmup?", route="aggregate",
        citations=[Citation(n=1, paper_id="a", title="Paper A", quote="q", supported=True),
                   Citation(n=2, paper_id="b", title="Paper B", quote="q", supported=True)],
        sources=[Source(paper_id="a", title="Paper A", score=1, abstract=""),
                 Source(paper_id="b", title="Paper B", score=1, abstract="")],
        excluded=[Exclusion(paper_id="c", title="Paper C", quote="q", reason="r", closeness=0.4)] if excluded else [])


@pytest.mark.parametrize("text", [
    "Which papers skip warmup?",
    "Which paper finds that code data in pre-training hurts reasoning?",
    "How do AdaBelief and AdaBound differ from Adam?",
    "What batch size does LAMB reach in 76 minutes?",
    "Is there a defence that hides training data from membership inference attacks?",
])
def test_every_field_is_what_its_reader_gives_on_the_text(text):
    q = read_text(text)
    assert q.terms == tuple(query_terms(text))
    assert q.property == property_of(text, query_terms(text))
    assert q.names == tuple(names(text))
    assert q.claim == claim_of(text) and q.frame == question_frame(text)
    assert q.wants_number == wants_number(text) and q.compare == is_compare(text)
    assert q.asked == q.text == text and q.shown_as is None and q.route == "answer"


def test_a_question_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        read_text("Which papers skip warmup?").text = "something else"  # type: ignore[misc]


def test_routes():
    assert read_question("Which papers skip warmup?").route == "list"
    assert read_question("Which papers skip warmup?", lists=False).route == "answer"
    assert read_question("What batch size does LAMB use?").route == "answer"


def test_whitespace_is_normalised_once():
    q = read_question("  Which papers\n skip   warmup? ")
    assert q.asked == q.text == "Which papers skip warmup?"


def test_a_follow_up_is_resolved_against_the_last_answer():
    q = read_question("What about the second one?", [_prev()])
    assert q.route == "answer" and q.pinned == ("b",) and q.rewritten
    assert q.asked == "What about the second one?" and q.shown_as == q.text == "Which papers skip warmup?"
    assert q.terms == tuple(query_terms(q.text))  # terms of what is asked, as resolved


def test_a_near_miss_asked_back_is_the_pin_route():
    q = read_question("include the first one", [_prev(excluded=True)])
    assert (q.route, q.pick, q.asked) == ("pin", 1, "include the first one")
    # without near-misses in the last answer it is an ordinary follow-up
    assert read_question("include the first one", [_prev()]).route == "answer"


def test_the_list_route_needs_no_pinned_papers():
    # "which of these ...?" points at papers: answered about them, not as a new list
    q = read_question("Which of these use ImageNet?", [_prev()])
    assert q.route == "answer" and q.pinned



@pytest.mark.parametrize(("text", "terms", "polarity"), [
    ("Which papers don't use warmup?", ("warmup",), "absence"),
    ("Which papers didn't need labels?", ("need", "label"), "absence"),
    ("Which papers get rid of the warm-up?", ("rid", "warmup"), "absence"),
    ("Which papers forgo warmup?", ("forgo", "warmup"), "absence"),
    ("Which papers study the accuracy trade-off?", ("accuraci", "tradeoff"), "presence"),
])
def test_a_question_in_a_researchers_words_reads_as_its_plain_form(text, terms, polarity):
    """Contractions are no topic ("don't" -> "don"), removal verbs are absence cues, and a
    hyphenated compound with a particle is one word ("warm-up" is warmup, not "warm")."""
    q = read_text(text, "list")
    assert q.terms == terms and q.property.polarity == polarity


def test_how_long_asks_for_a_quantity_and_is_no_topic_word():
    assert query_terms("How long a context does ByteScale train with?") == ["context", "bytescal", "train"]
    assert "long" in query_terms("Which papers study long-context training?")
    assert wants_number("How long a context does ByteScale train with?")


@pytest.mark.parametrize(("text", "number"), [
    ("How many datasets were used?", True),
    ("What top-1 accuracy on ImageNet-1K does the method reach?", True),
    ("What average improvement over SupSup does the continual learning method report?", True),
    ("By what margin does the transfer attack raise the success rate?", True),
    ("How far did the hybrid segmentation shrink the BLEU gap?", True),
    ("Up to what share of layers can the tool freeze?", True),
    ("What model sizes was the music model scaled to?", True),
    # a name, not a quantity: the measured word belongs to what is named, or a paper is asked for
    ("Which metric scores the answers?", False),
    ("Which benchmark accuracy results are reported?", False),
    ("Which paper argues that the accuracy drop comes from too few updates?", False),
    ("Which datasets is the defence evaluated on?", False),
])
def test_a_question_asking_for_a_measured_quantity_wants_a_number(text, number):
    assert wants_number(text) is number


@pytest.mark.parametrize(("text", "asking"), [
    ("A distillation paper finds that an extra loss hurts the student. Which theory does its analysis draw on?",
     "Which theory does its analysis draw on?"),
    ("A paper does this. Which dataset? And which metric?", "Which dataset? And which metric?"),
    ("Which paper finds that code helps reasoning?", "Which paper finds that code helps reasoning?"),
    ("A paper describes its method. It uses a dataset.", "A paper describes its method. It uses a dataset."),
    # one sentence is all asking, a description before a comma included
    ("In the graph-network approach that predicts chip timing before routing, what R2 does it reach?",
     "In the graph-network approach that predicts chip timing before routing, what R2 does it reach?"),
])
def test_the_sentence_that_asks_is_read_apart_from_the_description(text, asking):
    assert asking_sentence(text) == asking


def test_a_finding_that_describes_the_paper_is_not_the_finding_asked_for():
    """"A paper finds that X. Which theory ...?" is a lookup about the paper that finds X: the paper
    need not be checked for stating X as the answer, and what is asked is read from the question."""
    q = read_text("A distillation paper finds that adding a logit-level loss makes the student worse. "
                  "How many classification heads does it use?")
    assert q.claim is None and q.wants_number
    assert read_text("Which paper finds that adding a logit-level loss makes the student worse?").claim


def test_every_word_of_the_sentence_that_asks_is_what_is_asked():
    """The paper described before, the asking sentence says only what is asked: its words weigh the
    sentence that answers ("jointly optimizes ... through bi-level optimization"), beside the
    form's own ("two components")."""
    q = read_text("A learning-to-learn approach tackles overfitting in post-training quantization. Which two "
                  "components does it optimize jointly through bi-level optimization?")
    assert q.asked_for[0] == "compon" and {"optim", "joint", "bi", "level"} <= set(q.asked_for)
    assert "overfit" not in q.asked_for and "overfit" in q.terms
    one = read_text("What masking ratio does the method that crops still images reach?")
    assert one.asked_for == ("mask", "ratio")  # one sentence: the form alone
