"""rag.answer.summary_check: a verified summary sentence is kept only when it adds something from the
evidence (a content term, number or name) that the question and the quoted titles do not say; a
question asking for a number wants one. Planted summaries over a real seed abstract."""

from __future__ import annotations

import pytest
from helpers import SEED_FILES

from rag.answer.summary_check import new_content, why_uninformative
from rag.ingest.corpus import load_corpus
from rag.question.property import wants_number

DGC = "deep-gradient-compression-reducing-the-communication-a227204"


@pytest.fixture(scope="module")
def dgc():
    return next(p for p in load_corpus(SEED_FILES).papers if p.paper_id == DGC)


@pytest.mark.parametrize("question, summary, kept", [
    # restates the question under the paper's name: nothing new
    ("Which paper finds that most of the gradient exchange in distributed SGD is redundant?",
     "Deep Gradient Compression finds that most of the gradient exchange in distributed SGD is redundant.", False),
    ("Which paper finds that most of the gradient exchange in distributed SGD is redundant?",
     "The authors find that the gradient exchange is redundant.", False),
    # the number the question did not have
    ("Which paper finds that most of the gradient exchange in distributed SGD is redundant?",
     "Deep Gradient Compression finds that 99.9% of the gradient exchange in distributed SGD is redundant.", True),
    # a content term from the evidence: how it does it
    ("Which paper finds that most of the gradient exchange in distributed SGD is redundant?",
     "Deep Gradient Compression uses momentum correction and local gradient clipping.", True),
    # a number asked for and given / asked for and missing
    ("By how much does Deep Gradient Compression compress the gradients?",
     "Deep Gradient Compression compresses the gradients from 270x to 600x.", True),
    ("By how much does Deep Gradient Compression compress the gradients?",
     "Deep Gradient Compression compresses the gradients without losing accuracy.", False),
])
def test_planted_summaries(dgc, question: str, summary: str, kept: bool) -> None:
    why = why_uninformative(summary, question, [dgc.title], [dgc.abstract], wants_number=wants_number(question))
    assert (why is None) == kept, why


def test_the_reason_says_which_check_failed(dgc) -> None:
    q = "By how much does Deep Gradient Compression compress the gradients?"
    assert "asks for a number" in why_uninformative("It compresses the gradients.", q, [dgc.title], [dgc.abstract],
                                                    wants_number=True)
    q = "Which paper finds that most of the gradient exchange in distributed SGD is redundant?"
    assert "restated the question" in why_uninformative(
        "The paper finds the gradient exchange redundant.", q, [dgc.title], [dgc.abstract], wants_number=False)


@pytest.mark.parametrize("text, quantity", [
    ("It stores 2 bits per parameter.", True), ("from 270x to 600x", True), ("39% non-English", True),
    ("124M and 210M models", True), ("even when quantized to int8", False), ("GPT-4 and Llama2", False),
])
def test_a_quantity_is_a_number_standing_on_its_own(text: str, quantity: bool) -> None:
    from rag.answer.summary_check import states_quantity

    assert states_quantity(text) is quantity


def test_new_content_counts_only_what_the_evidence_says(dgc) -> None:
    q = "Which paper finds that most of the gradient exchange in distributed SGD is redundant?"
    # "quantum" is new to the question but no abstract says it: not information, an invention
    assert new_content("Deep Gradient Compression is quantum.", q, [dgc.title], [dgc.abstract]) == []
    assert "99.9%" in new_content("It finds 99.9% redundant.", q, [dgc.title], [dgc.abstract])
