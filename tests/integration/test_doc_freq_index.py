"""The seed index saves its document-frequency table and answers from it (the table's own logic:
unit/test_doc_freq.py)."""

from __future__ import annotations

from rag.retrieve.doc_freq import paper_text
from rag.text.analysis import Idf, query_terms, terms


def _probe_terms(papers) -> list[str]:
    """Every term of the seeds, joined pairs included, and terms no paper has."""
    out = {t for p in papers for t in terms(paper_text(p))}
    return sorted(out) + ["zzzunknown", "", "é", "x" * 300]


def test_the_seed_index_saves_the_table_and_answers_from_it(seed_index) -> None:
    """On the real seeds index: the retriever's IDF comes from the generation's file and equals
    the one built from every paper, as before."""
    r = seed_index.app.retriever()
    assert r.derived.doc_freq is not None
    papers = list(r.papers.values())
    old = Idf(f"{p.title}. {p.abstract}" for p in papers)
    new = r.idf
    for t in _probe_terms(papers) + query_terms("which papers skip warmup in distributed training?"):
        assert new(t) == old(t) and new.known(t) == old.known(t), t
