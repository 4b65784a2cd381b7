"""Questions that ask which papers use or report a named thing: "Which papers report ROUGE
scores?", "... results on SQuAD?", "... experiments on the SVHN dataset?". The answer is every
paper whose abstract uses the name, and the sentence that uses it says so. The fitted judge weighs
how much of the question a sentence covers, and "report" and "scores" are rarely in the same
sentence as "ROUGE", so it refused these (two seed papers say ROUGE, judged 28% and 14% likely).
Pure, over the question, the corpus IDF and the candidates."""

from __future__ import annotations

from collections.abc import Sequence

from rag.lists.features import Candidate
from rag.lists.rules import Judgement
from rag.question.read import Question
from rag.text.analysis import Idf, name_pattern, stem, terms
from rag.text.lexicon import USAGE_WORDS

_USAGE = frozenset(stem(w) for w in USAGE_WORDS)


def mentioned_name(question: Question, idf: Idf, max_papers: int) -> str | None:
    """The name the question asks papers to use or report: one at most ``max_papers`` papers use,
    the rest of its topic saying only how a paper uses a thing (report, results, scores, dataset).
    None for any other question ("which papers use ROUGE to train summarisers?" asks more)."""
    if question.property.polarity != "presence" or max_papers <= 0:
        return None
    topic = set(question.property.topic)
    for name in question.names:
        named = set(terms(name, joined=False))
        if named and named <= topic and all(0 < idf.df(t) <= max_papers for t in named) \
                and all(t in _USAGE for t in topic - named):
            return name
    return None


def naming(name: str, cands: Sequence[Candidate], listed: set[str]) -> list[Judgement]:
    """The candidates not yet listed or vetoed whose abstract uses ``name``, each quoted with the
    first sentence that does, in retrieval order."""
    pattern = name_pattern(name)
    out = []
    for c in sorted(cands, key=lambda c: c.hit.rank):
        if c.vetoed or c.hit.paper.paper_id in listed:
            continue
        quote = next((s for s in c.sentences if pattern.search(s)), None)
        if quote:
            out.append(Judgement(hit=c.hit, qualifies=True, quote=quote, score=0.0,
                                 reason=f"uses {name}, which the question asks papers to use or report"))
    return out
