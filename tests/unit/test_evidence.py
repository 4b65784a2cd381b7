"""Which sentences of a paper a normal answer quotes (``rag.answer.evidence``), on real seed
abstracts: the best one, then the one that says what the best one left unsaid."""

from __future__ import annotations

from rag.answer.evidence import score_paper
from rag.question.read import read_text
from rag.types.papers import Hit

DISKGNN = "DiskGNN: Bridging I/O Efficiency and Model Accuracy for Out-of-Core GNN Training"
DGC = "Deep Gradient Compression: Reducing the Communication Bandwidth for Distributed Training"


def _sentences(seed_titles, seed_idf, title: str, question: str):
    q = read_text(question)
    return score_paper(list(q.terms), Hit(paper=seed_titles[title], score=1.0, rank=1, best_chunk=""), seed_idf, q.wants_number).sentences


def test_the_second_quote_says_what_the_first_left_unsaid_with_a_number_when_one_is_asked(seed_titles, seed_idf):
    got = _sentences(seed_titles, seed_idf, DISKGNN, "By how much does the out-of-core GNN training system that "
                     "packs node features on disk via offline sampling speed up Ginex and MariusGNN?")
    assert "pack the target node features" in got[0].text  # the sentence that describes the system
    assert "over 8x" in got[1].text and got[1].adds  # the one with the speed-up, not a second description


def test_the_best_sentence_stays_first(seed_titles, seed_idf):
    got = _sentences(seed_titles, seed_idf, DGC, "What gradient compression ratio does Deep Gradient Compression achieve?")
    assert "270x to 600x" in got[0].text or "270x to 600x" in got[1].text
    assert not got[0].adds and sum(s.adds for s in got) <= 1
