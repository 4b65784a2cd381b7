"""Does a model's summary sentence add anything? A small model, asked for a one-line answer, often
restates the question ("The papers that skip warmup are the ones that skip warmup"), or names the
quoted papers and stops. Such a sentence passes verification (every word is in the evidence) and
costs the reader a line, so it is dropped.

A summary sentence is kept only when it carries something from the evidence that neither the
question nor the quoted papers' titles already say: a content term, a number or a name. When the
question asks for a number, a sentence without one does not answer it and is dropped too. Pure
logic over text, run after verification; the analyser is :mod:`rag.text.analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.text.analysis import names, numbers, stem, terms
from rag.text.lexicon import SUMMARY_FRAMING_WORDS

# words that frame a summary rather than inform: "the authors find", "this approach improves"
_FRAMING = frozenset(stem(w) for w in SUMMARY_FRAMING_WORDS)


# a quantity stands on its own ("2 bits", "270x", "39%", "124M"); the digit of a name ("int8",
# "GPT-4", "Llama2") does not answer "how many"
_QUANTITY = re.compile(r"(?<![A-Za-z0-9_.\-])\d")


def states_quantity(text: str) -> bool:
    """Whether ``text`` states a number as a quantity, not only inside a name."""
    return _QUANTITY.search(text) is not None


def _numbers(text: str) -> set[str]:
    return {n.rstrip("%x") for n in numbers(text)}


def new_content(sentence: str, question: str, titles: Iterable[str], evidence: Iterable[str]) -> list[str]:
    """What ``sentence`` says that the question and the titles do not, and the evidence does:
    content terms (stemmed), numbers and names, in the sentence's order."""
    titles, evidence = list(titles), list(evidence)
    given = set(terms(question)) | set().union(*(terms(t) for t in titles)) | _FRAMING
    source = " ".join(evidence)
    source_terms = set(terms(source))
    found = [t for t in dict.fromkeys(terms(sentence, joined=False)) if t not in given and t in source_terms]
    asked_numbers = _numbers(question) | set().union(*(_numbers(t) for t in titles))
    found += [n for n in dict.fromkeys(numbers(sentence)) if n.rstrip("%x") not in asked_numbers
              and n.rstrip("%x") in _numbers(source)]
    known = f"{question} {' '.join(titles)}".lower()
    found += [n for n in names(sentence) if n.lower() not in known and n.lower() in source.lower()
              and n not in found]
    return list(dict.fromkeys(found))


def why_uninformative(sentence: str, question: str, titles: Sequence[str], evidence: Sequence[str], *,
                      wants_number: bool) -> str | None:
    """None when the summary sentence adds information; otherwise why it does not, in words a
    user reads in the answer's notes."""
    if wants_number and not states_quantity(sentence):
        return "the question asks for a number and the model's summary gives none"
    if not new_content(sentence, question, titles, evidence):
        return "the model's summary only restated the question and the titles of the quoted papers"
    return None
