"""The saved document-frequency table gives the same IDF as the table built from every paper."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.ingest.corpus import CorpusLoad
from rag.retrieve.doc_freq import DocFreq, paper_text
from rag.text.analysis import Idf, terms


def _probe_terms(papers) -> list[str]:
    """Every term of the seeds, joined pairs included, and terms no paper has."""
    out = {t for p in papers for t in terms(paper_text(p))}
    return sorted(out) + ["zzzunknown", "", "é", "x" * 300]


def test_saved_table_equals_idf_over_the_seeds(seed_corpus: CorpusLoad, tmp_path: Path) -> None:
    papers = list(seed_corpus.papers)
    old = Idf(f"{p.title}. {p.abstract}" for p in papers)  # what the retriever built at the first answer
    DocFreq.build(papers).save(tmp_path / "idf")
    new = DocFreq.load(tmp_path / "idf").idf()
    assert new.n == old.n == len(papers)
    for t in _probe_terms(papers):
        assert new(t) == old(t) and new.known(t) == old.known(t), t


@pytest.mark.parametrize("n_removed", [0, 1, 25])
def test_an_update_equals_a_rebuild(seed_corpus: CorpusLoad, n_removed: int) -> None:
    papers = list(seed_corpus.papers)
    base, added = papers[:300], papers[300:340]
    removed = base[:n_removed]
    changed = [replace(base[50], abstract=base[50].abstract + " Zebrafish warm-up schedules.")]
    updated = DocFreq.build(base).updated(removed + [base[50]], added + changed)
    final = [p for p in base if p not in removed and p is not base[50]] + added + changed
    rebuilt = DocFreq.build(final)
    assert updated.n == rebuilt.n == len(final)
    assert np.array_equal(updated.vocab, rebuilt.vocab) and np.array_equal(updated.df, rebuilt.df)


def test_removing_what_was_never_counted_is_an_error(seed_corpus: CorpusLoad) -> None:
    papers = list(seed_corpus.papers)
    with pytest.raises(ValueError, match="negative"):
        DocFreq.build(papers[:10]).updated([papers[20]], [])
