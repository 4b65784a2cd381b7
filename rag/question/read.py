"""A question read once, from its text and the conversation, into the structure every route and
step reads: which route answers it, its terms, the property a list question asks, the finding or
the side of an attack / defence it asks for, the papers a follow-up points at. Routes pass this
down instead of the text, so nothing downstream parses the question again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.question.compare import is_compare
from rag.question.focus import asked_for, asks_names, asks_others_names
from rag.question.followup import excluded_pick, rewrite
from rag.question.property import Property, is_aggregate, property_of, wants_number
from rag.text.analysis import names, numbers, query_terms, split_sentences
from rag.text.claims import claim_of
from rag.text.frames import Frame, question_frame
from rag.text.lexicon import ORIGIN_QUESTION
from rag.types.answers import Answer

Route = Literal["pin", "list", "answer"]


@dataclass(frozen=True)
class Question:
    asked: str  # as asked, whitespace-normalised
    text: str  # what is asked, a follow-up's references resolved ("standalone")
    route: Route  # "pin": a near-miss asked back; "list": which papers ...?; "answer": the rest
    terms: tuple[str, ...]  # content terms of ``text`` (rag.text.analysis.query_terms), in order
    property: Property  # what a list question asks papers to have
    pinned: tuple[str, ...] = ()  # paper ids a follow-up points at
    rewritten: bool = False  # ``text`` differs from what was asked
    pick: int | None = None  # "pin": the 1-based near-miss asked for
    names: tuple[str, ...] = ()  # the names it uses ("AdaBelief", "LAMB")
    wants_number: bool = False
    numbers: tuple[str, ...] = ()  # the numbers it states itself ("LLaMA-2 7B", "IWSLT 2021"): never the answer
    asked_for: tuple[str, ...] = ()  # terms of what it asks for, not of how it names the paper (rag.question.focus)
    wants_names: bool = False  # what it asks for is named things ("which datasets ...")
    wants_others: bool = False  # named by others ("which baselines ..."): the paper's own names do not answer
    compare: bool = False  # compares papers it names
    claim: str | None = None  # the finding asked for ("... finds that code hurts reasoning")
    frame: Frame | None = None  # an attack or a defence asked for
    by_model: bool = False  # "list" because the route model said so (the pattern did not match)
    origin: bool = False  # asks which paper introduced what it names ("where was HER proposed?")

    @property
    def shown_as(self) -> str | None:
        """The question as the answer shows it was read, when that differs from what was asked."""
        return self.text if self.rewritten else None


def asking_sentence(text: str) -> str:
    """The sentence that asks, when the text describes its paper first: "A distillation paper finds
    that X. Which theory does its analysis draw on?" asks the last sentence, and "finds that X"
    only describes the paper. A one-sentence question is all asking ("In the study that X, what is
    the name of the loss that Y?" asks with its description too: which words of one sentence
    describe cannot be told by its punctuation)."""
    sentences = split_sentences(text)
    if len(sentences) < 2 or not sentences[-1].endswith("?"):
        return text
    first = len(sentences) - 1
    while first > 0 and sentences[first - 1].endswith("?"):  # "Which theory? And why?" asks both
        first -= 1
    return " ".join(sentences[first:]) if first else text


def read_text(text: str, route: Route = "answer", *, asked: str | None = None, pinned: Sequence[str] = (),
              rewritten: bool = False, pick: int | None = None, by_model: bool = False) -> Question:
    """``text`` read as a standalone question (no conversation): its terms from all of it, what it
    asks for (the quantity, names, finding or comparison) from the sentence that asks."""
    terms = tuple(query_terms(text))
    named = tuple(names(text))
    ask = asking_sentence(text)
    number = wants_number(ask)
    focus = asked_for(ask)
    if ask != text:
        # the paper is described before the question, so every word of the sentence that asks is
        # about what is asked: "... . Which two components does it optimize jointly through bi-level
        # optimization?" is answered by the sentence saying "jointly optimizes ... bi-level"
        focus = tuple(dict.fromkeys(focus + tuple(query_terms(ask))))
    return Question(asked=asked if asked is not None else text, text=text, route=route, terms=terms,
                    property=property_of(text, terms), names=named, pinned=tuple(pinned), rewritten=rewritten,
                    pick=pick, wants_number=number, numbers=tuple(dict.fromkeys(numbers(text))), asked_for=focus,
                    wants_names=asks_names(ask, focus, number), wants_others=asks_others_names(ask, focus),
                    compare=is_compare(ask), claim=claim_of(ask), frame=question_frame(text), by_model=by_model,
                    origin=bool(named) and bool(ORIGIN_QUESTION.search(ask)))


# the route model reads only questions with this many content terms: "tell me more", "why?" or
# "explain ByteScale" are never a list question, and it was fitted on none of them
_MODEL_MIN_TERMS = 3


def model_may_read(text: str) -> bool:
    """Whether the route model is asked at all: never for a question asking for a number, comparing
    named things or with under ``_MODEL_MIN_TERMS`` content terms."""
    return not (wants_number(text) or is_compare(text) or len(query_terms(text)) < _MODEL_MIN_TERMS)


def _model_says_list(text: str) -> bool:
    from rag.question.route_model import shipped_route_model

    return model_may_read(text) and shipped_route_model().asks_for_papers(text)


def asks_for_papers(text: str, *, route_model: bool = False) -> bool:
    """A question whose answer is a set of papers: the pattern's forms ("which papers ...?"), or,
    with ``route_model``, a researcher's own phrasing that the fitted model recognises."""
    return is_aggregate(text) or (route_model and _model_says_list(text))


def read_question(text: str, history: Sequence[Answer] | None = None, *, lists: bool = True,
                  route_model: bool = False) -> Question:
    """Read ``text`` after ``history``: a near-miss pinned back ("include the second one"), a list
    question ("which papers ...?", when ``lists``; see :func:`asks_for_papers`) or any other, with a
    follow-up's references resolved against the last answer."""
    asked = " ".join(text.split())
    if history and (pick := excluded_pick(asked, history[-1])) is not None:
        return read_text(asked, "pin", pick=pick)
    standalone = rewrite(asked, history)
    q = standalone.question
    pattern = is_aggregate(q)
    by_model = not pattern and route_model and not standalone.rewritten and _model_says_list(q)
    is_list = lists and not standalone.pinned and (pattern or by_model)
    return read_text(q, "list" if is_list else "answer", asked=asked, pinned=standalone.pinned,
                     rewritten=standalone.rewritten, by_model=is_list and by_model)
