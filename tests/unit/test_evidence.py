"""Which sentences of a paper a normal answer quotes (``rag.answer.evidence``), on real seed
abstracts: the best two, and a third with a number when the question asks for one and they have none."""

from __future__ import annotations

from rag.answer.evidence import score_paper
from rag.question.read import read_text
from rag.types.papers import Hit

DISKGNN = "DiskGNN: Bridging I/O Efficiency and Model Accuracy for Out-of-Core GNN Training"
DGC = "Deep Gradient Compression: Reducing the Communication Bandwidth for Distributed Training"
DISKGNN_Q = ("By how much does the out-of-core GNN training system that packs node features on disk via offline "
             "sampling speed up Ginex and MariusGNN?")


def _sentences(seed_titles, seed_idf, title: str, question: str):
    q = read_text(question)
    hit = Hit(paper=seed_titles[title], score=1.0, rank=1, best_chunk="")
    return score_paper(list(q.terms), hit, seed_idf, q.wants_number).sentences


def test_a_number_the_best_sentences_lack_comes_third(seed_titles, seed_idf):
    got = _sentences(seed_titles, seed_idf, DISKGNN, DISKGNN_Q)
    assert not any(s.has_number for s in got[:2]) and not any(s.adds for s in got[:2])
    assert "over 8x" in got[2].text and got[2].adds


def test_nothing_is_added_when_the_best_sentences_have_the_number_or_none_is_asked(seed_titles, seed_idf):
    got = _sentences(seed_titles, seed_idf, DGC, "What gradient compression ratio does Deep Gradient Compression achieve?")
    assert any("270x to 600x" in s.text for s in got[:2]) and not any(s.adds for s in got)
    plain = _sentences(seed_titles, seed_idf, DISKGNN, "Which system packs node features on disk for out-of-core GNN "
                       "training?")
    assert not any(s.adds for s in plain)
