"""Reference-manager exports ingested into a real index and answered with citations (parsing:
unit/test_references.py)."""

from __future__ import annotations

from helpers import TEST_DATA

from rag.ingest.corpus import parse_file
from rag.paperchat import Paperchat
from rag.settings import load_settings

DATA = TEST_DATA / "references"


def test_reference_files_ingest_and_answer_with_citations(embedder):
    app = Paperchat(load_settings(), embedder=embedder)
    corpus, report = app.ingest([DATA / "zotero.bib", DATA / "zotero.ris", DATA / "zotero.json"])
    assert len(corpus.papers) == 5 and report.papers_new == 5
    a = app.ask("How much activation memory do the checkpointing schedules save?")
    assert not a.refused
    assert a.citations[0].title == "Gradient Checkpointing Schedules for Long Sequences"
    assert "5x less activation memory" in a.text
    hits = app.search("draft heads speculative decoding", k=1).hits
    assert hits[0].paper.title == "Speculative Decoding with Tiny Draft Heads"
    # the authors' names survive the store, for citing; a seed paper (count only) keeps its old hash
    stored = {p.title: p for p in app.retriever().papers.values()}
    assert stored["Gradient Checkpointing Schedules for Long Sequences"].author_names == ckpt_names()


def ckpt_names() -> str:
    (ckpt,) = [p for p in parse_file(DATA / "zotero.ris")[0] if p.title.startswith("Gradient Checkpointing")]
    return ckpt.author_names
