"""What the learned relevance judge reads for one (question, paper) pair: the question, and the
paper's title with the sentences of its abstract most likely to decide, so the deciding sentence
is inside the judge's window. Pure logic, shared by training (``eval.judge.train``) and scoring,
so both build the same input; the model's card names the layout it was trained on.

Two layouts:

* ``top3`` (the first judge): the 3 sentences sharing most question terms, in the abstract's order.
  On the training labels the deciding sentence is among them for 73% of plain questions and 52%
  of paraphrases: a paraphrase shares few words with the sentence that answers it.
* ``ranked``: every sentence, best first, scored by shared question terms, half a point per term
  sharing its first four letters ("sparsity" meets "sparse"), and one point for a sentence about
  the paper's own work ("we ...", "this paper ..."); the tokenizer's window cuts the tail. At 192
  tokens the deciding sentence is inside for 89% of plain questions and 80% of paraphrases.
"""

from __future__ import annotations

from collections.abc import Collection

from rag.text.analysis import split_sentences, terms
from rag.text.lexicon import OWN_WORK

MAX_SENTENCES = 3
LAYOUTS = ("top3", "ranked")
_PREFIX = 4


def passage_sentences(question_terms: Collection[str], abstract: str, max_sentences: int = MAX_SENTENCES) -> list[str]:
    """The ``max_sentences`` sentences with the most of the question's terms
    (:func:`~rag.text.analysis.query_terms`; ties: the earlier sentence), in the abstract's order."""
    wanted = set(question_terms)
    sentences = split_sentences(abstract)
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(wanted & set(terms(sentences[i]))), i))[:max_sentences]
    return [sentences[i] for i in sorted(scored)]


def ranked_sentences(question_terms: Collection[str], abstract: str) -> list[str]:
    """Every sentence of ``abstract``, the likeliest to decide first (ties: the earlier)."""
    wanted = set(question_terms)
    prefixes = {t[:_PREFIX] for t in wanted if len(t) >= _PREFIX}
    sentences = split_sentences(abstract)

    def score(i: int) -> float:
        have = set(terms(sentences[i]))
        near = prefixes & {t[:_PREFIX] for t in have if len(t) >= _PREFIX}
        return len(wanted & have) + 0.5 * len(near) + (1.0 if OWN_WORK.search(sentences[i]) else 0.0)

    return [sentences[i] for i in sorted(range(len(sentences)), key=lambda i: (-score(i), i))]


def judge_passage(question_terms: Collection[str], title: str, abstract: str, layout: str = "top3",
                  deciding: str | None = None) -> str:
    """The title, then the paper's sentences in ``layout``. ``deciding`` (training only) is the
    sentence a labeller marked as the one that decides: in the ``ranked`` layout it is moved up
    to third place when it ranks lower, so the judge learns from pairs whose evidence it reads."""
    if layout == "top3":
        return f"{title}. " + " ".join(passage_sentences(question_terms, abstract))
    if layout != "ranked":
        raise ValueError(f"unknown judge input layout {layout!r} (known: {', '.join(LAYOUTS)})")
    sentences = ranked_sentences(question_terms, abstract)
    if deciding:
        at = next((i for i, s in enumerate(sentences) if s.strip() == deciding.strip()), None)
        if at is not None and at > 2:
            sentences.insert(2, sentences.pop(at))
    return f"{title}. " + " ".join(sentences)
