"""What the learned relevance judge reads for one (question, paper) pair: the question, and the
paper's title with the few sentences of its abstract that share most of the question's terms
(in the abstract's order), so a pair fits the judge's window (about 160 tokens) and the sentence
that decides is among what it reads. Pure logic, shared by training (``eval.judge.train``) and
scoring, so both build the same input."""

from __future__ import annotations

from rag.text import query_terms, split_sentences, terms

MAX_SENTENCES = 3


def passage_sentences(question: str, abstract: str, max_sentences: int = MAX_SENTENCES) -> list[str]:
    """The ``max_sentences`` sentences with the most question terms (ties: the earlier
    sentence), in the abstract's order."""
    wanted = set(query_terms(question))
    sentences = split_sentences(abstract)
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(wanted & set(terms(sentences[i]))), i))[:max_sentences]
    return [sentences[i] for i in sorted(scored)]


def judge_passage(question: str, title: str, abstract: str, max_sentences: int = MAX_SENTENCES) -> str:
    """The title, then the paper's :func:`passage_sentences`."""
    return f"{title}. " + " ".join(passage_sentences(question, abstract, max_sentences))
