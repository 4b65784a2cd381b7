"""Questions that compare papers they name ("How do AdaBelief and AdaBound differ ...?").

Term coverage judges such a question against each paper alone, and each paper covers only half of
it (its own name), so both were refused although both were retrieved first. Here the names are
resolved to retrieved papers, so the answer can quote each one. Pure logic over retrieved hits.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.text.analysis import name_pattern
from rag.text.lexicon import COMPARE_QUESTION, SEVERAL_PAPERS
from rag.types.papers import Hit


def is_compare(question: str) -> bool:
    return bool(COMPARE_QUESTION.search(question))


def named_papers(question: str, names_used: Sequence[str], hits: Sequence[Hit]) -> list[Hit]:
    """The retrieved papers the question names, one per name in the order named: a paper whose
    title uses the name comes before one whose abstract does; a name that an already chosen paper
    uses picks nothing new. "The two Partial FC papers" takes every title that uses the name."""
    chosen: list[Hit] = []
    several = bool(SEVERAL_PAPERS.search(question))
    found = [n for n in names_used if len(n) > 2]
    order = sorted(found, key=lambda n: question.find(n))
    for name in order:
        form = name_pattern(name)
        if any(form.search(f"{h.paper.title} {h.paper.abstract}") for h in chosen) and not several:
            continue
        in_title = [h for h in hits if form.search(h.paper.title) and h not in chosen]
        in_text = [h for h in hits if form.search(h.paper.abstract) and h not in chosen]
        if several and len(in_title) >= 2:
            chosen += in_title
        elif in_title or in_text:
            chosen.append((in_title or in_text)[0])
    return chosen
