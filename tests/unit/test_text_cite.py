"""Pure logic of answers: sentence splitting, terms, citation verification, routing, negation,
follow-up rewriting. Hand-made cases with known outcomes."""

from __future__ import annotations

import pytest

from rag.answer.cite import markers, split_claims, strip_markers, summary_lines, verify_lines
from rag.lists.rules import judge_sentence
from rag.question.followup import rewrite
from rag.question.property import Property, is_aggregate
from rag.question.read import read_text
from rag.text.analysis import Idf, coverage, numbers, query_terms, split_sentences, terms
from rag.types.answers import Answer, Citation, Line, Source, answer_text
from rag.types.papers import Paper

DGC = Paper(
    paper_id="dgc", title="Deep Gradient Compression", source="t", line=1,
    abstract=("Large-scale distributed training requires significant communication bandwidth. "
              "In this paper, we find 99.9% of the gradient exchange in distributed SGD is redundant. "
              "Deep Gradient Compression achieves a gradient compression ratio from 270x to 600x without losing accuracy."),
)
WARM = Paper(
    paper_id="warm", title="Stabilizing Transformer Training", source="t", line=2,
    abstract=("Training stability is of great importance to Transformers. "
              "sigmaReparam enables training a Vision Transformer to competitive performance without warmup, "
              "weight decay or adaptive optimizers."),
)
IDF = Idf([f"{p.title}. {p.abstract}" for p in (DGC, WARM)] + ["an unrelated document about protein folding"])


@pytest.mark.parametrize(("text", "expected"), [
    ("One. Two.", ["One.", "Two."]),
    ("We use e.g. ResNet et al. in Fig. 2. Then 2.1% more.", ["We use e.g. ResNet et al. in Fig. 2.", "Then 2.1% more."]),
    ("Written by J. Smith. It works!", ["Written by J. Smith.", "It works!"]),
    ("no end", ["no end"]),
    ("", []),
])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_terms_join_compounds_and_stem():
    assert "warmup" in terms("warm-up") and "warmup" in terms("warm up") and "warmup" in terms("warmups")
    assert "pretrain" in terms("pre-training") and "pretrain" in terms("pretraining")
    assert query_terms("Which papers skip warmup?") == ["skip", "warmup"]


def test_numbers_normalised():
    assert numbers("from 270x to 600x, 99.9% and 1,000 samples") == ["270x", "600x", "99.9%", "1000"]


def test_coverage_weights_rare_terms():
    assert coverage(["warmup"], ["warmup", "train"], IDF) == pytest.approx(1.0)
    assert coverage(["warmup", "protein"], ["warmup"], IDF) == pytest.approx(0.5, abs=0.01)
    assert coverage([], ["x"], IDF) == 0.0


def test_markers_and_claims():
    assert markers("A [1] and B [2, 3].") == [1, 2, 3]
    assert strip_markers("A [1] and B [2].") == "A and B ."
    claims = split_claims("- first line [1]\nSecond sentence [2]. Third one [1].")
    assert [c.markers for c in claims] == [[1], [2], [1]]


def _say(text: str, *cites: str) -> Line:
    return Line(kind="summary", text=text, cites=list(cites))


PAPERS = {"dgc": DGC, "warm": WARM}
NUMBERS = {"dgc": 1, "warm": 2}


def test_verify_keeps_supported_claims_with_quotes():
    v = verify_lines([_say("DGC reaches a compression ratio from 270x to 600x.", "dgc")], PAPERS, IDF, NUMBERS)
    assert v.lines and not v.dropped
    (c,) = v.citations
    assert c.n == 1 and c.paper_id == "dgc" and c.supported and "270x" in c.quote


def test_verify_numbers_citations_by_the_conversation():
    v = verify_lines([_say("DGC reaches a compression ratio from 270x to 600x.", "dgc")], PAPERS, IDF, {"dgc": 5})
    assert [c.n for c in v.citations] == [5]


def test_verify_drops_invented_number():
    v = verify_lines([_say("DGC reaches a compression ratio of 900x.", "dgc")], PAPERS, IDF, NUMBERS)
    assert v.empty and "900x" in v.dropped[0]


def test_verify_drops_claim_cited_to_wrong_paper():
    v = verify_lines([_say("A Vision Transformer trains without warmup.", "dgc")], PAPERS, IDF, NUMBERS)
    assert v.empty
    v2 = verify_lines([_say("A Vision Transformer trains without warmup.", "warm")], PAPERS, IDF, NUMBERS)
    assert [c.paper_id for c in v2.citations] == ["warm"]


def test_verify_removes_only_the_wrong_citation():
    line = _say("A Vision Transformer trains to competitive performance without warmup.", "dgc", "warm")
    v = verify_lines([line], PAPERS, IDF, NUMBERS)
    assert [c.n for c in v.citations] == [2] and v.lines[0].cites == ["warm"]
    assert any("[1]" in d for d in v.dropped)


def test_verify_drops_uncited_claims_and_keeps_our_own_framing():
    lines = [Line(kind="heading", text="2 papers in the index say so:"), _say("Every paper here skips warmup."),
             _say("DGC exchanges redundant gradients.", "dgc")]
    v = verify_lines(lines, PAPERS, IDF, NUMBERS)
    assert any("no citation" in d for d in v.dropped)
    assert [ln.kind for ln in v.lines] == ["heading", "summary"] and "Every paper" not in answer_text(v.lines, NUMBERS)


def test_summary_lines_cite_the_supporting_sources_only():
    lines, dropped = summary_lines("DGC reaches 270x to 600x [2]. It also lands on Mars [1].", [DGC, WARM], IDF)
    assert [(ln.text, ln.cites) for ln in lines] == [("DGC reaches 270x to 600x.", ["dgc"])]
    assert dropped and "Mars" in dropped[0]


def test_answer_text_renders_the_lines_with_their_numbers():
    lines = [Line(kind="heading", text="1 paper in the index says so:"),
             Line(kind="item", text="We skip warmup.", paper_id="warm", label="Warm", cites=["warm"]),
             _say("It trains without warmup.", "warm", "dgc")]
    assert answer_text(lines, {"warm": 3, "dgc": 1}) == (
        "1 paper in the index says so:\n- Warm: \u201cWe skip warmup.\u201d [3]\nIt trains without warmup [1][3]."
    )


@pytest.mark.parametrize(("q", "agg"), [
    ("Which papers skip warmup?", True),
    ("which papers use reinforcement learning from human feedback", True),
    ("What papers study quantization?", True),
    ("List papers that propose new benchmarks", True),
    ("List all the papers about diffusion", True),
    ("How many papers use ImageNet?", True),
    ("Are there any papers on speculative decoding?", True),
    ("Which paper compresses gradients?", False),
    ("What is the compression ratio of DGC?", False),
    ("How does sigmaReparam stabilise training?", False),
    ("What about the second one?", False),
])
def test_is_aggregate(q, agg):
    assert is_aggregate(q) is agg


def test_parse_property_polarity():
    assert read_text("Which papers skip warmup?").property == Property(topic=("warmup",), polarity="absence")
    assert read_text("Which papers train without weight decay?").property.polarity == "absence"
    assert read_text("Which papers use warmup?").property.polarity == "presence"


@pytest.mark.parametrize(("sentence", "ok"), [
    ("We train a ViT to competitive performance without warmup, weight decay or normalization.", True),
    ("To conduct faster certified training with shorter warmup, we propose three improvements.", True),
    ("Our method removes the need for learning rate warm-up entirely.", True),
    ("Prior methods usually use a long warmup schedule.", False),
    ("Long warmup schedules were needed in prior works.", False),
    ("WSRL employs a warmup phase that seeds the online RL run.", False),
    ("We examine the effect of different warm-up strategies.", False),
    ("We skip the evaluation on ImageNet.", False),
])
def test_judge_sentence_negation(sentence, ok):
    idf = Idf([sentence, "warmup schedules", "other text about images"])
    score, reason = judge_sentence(sentence, Property(topic=("warmup",), polarity="absence"), idf)
    assert (score > 0) is ok, reason


def _prev_answer() -> Answer:
    return Answer(
        question="Which papers skip warmup?",
        citations=[Citation(n=1, paper_id="a", title="Paper A", quote="q", supported=True),
                   Citation(n=2, paper_id="b", title="Paper B", quote="q", supported=True)],
        sources=[Source(paper_id="a", title="Paper A", score=1, abstract=""),
                 Source(paper_id="b", title="Paper B", score=1, abstract="")],
    )


@pytest.mark.parametrize(("q", "pinned"), [
    ("What about the second one?", ["b"]),
    ("does it use ImageNet?", ["a"]),
    ("Tell me more about paper 2", ["b"]),
    ("what does [2] report?", ["b"]),
    ("How do they differ?", ["a", "b"]),
    ("and the last one?", ["b"]),
])
def test_rewrite_follow_ups(q, pinned):
    s = rewrite(q, [_prev_answer()])
    assert s.pinned == pinned and s.rewritten


def test_rewrite_repeats_previous_question_for_bare_reference():
    s = rewrite("What about the second one?", [_prev_answer()])
    assert s.question.startswith("Which papers skip warmup") and s.pinned == ["b"]
    assert "Paper B" not in s.question  # the pinned paper travels as data, not inside the question


def test_rewrite_keeps_the_new_topic():
    s = rewrite("does it use ImageNet?", [_prev_answer()])
    assert "ImageNet" in s.question and s.pinned == ["a"] and "(in:" not in s.question


def test_rewrite_without_history_or_reference_is_identity():
    assert rewrite("Which papers skip warmup?", None).question == "Which papers skip warmup?"
    s = rewrite("Which paper compresses gradients?", [_prev_answer()])
    assert s.question == "Which paper compresses gradients?" and not s.pinned


@pytest.mark.parametrize(("q", "agg"), [
    ("Which federated learning papers defend against gradient inversion?", True),
    ("Which systems papers report GPU speedups?", True),
    ("Papers that train without warmup", True),
    ("Is there a paper on speculative decoding?", True),
    ("Do any papers use RLHF?", True),
    ("Find work on model merging", True),
    ("Find work where a slow cross-encoder supervises a fast bi-encoder.", True),
    ("Find preference-tuning work evaluated by win rates on AlpacaEval.", True),
    ("Find literature reviews that categorise existing methods.", True),
    ("Find the learning rate the paper uses.", False),
    ("Is there work on 2-bit KV-cache quantization?", True),
    ("Is there any recent research about tokenizers?", True),
    ("Is there work where an LLM writes reward code?", True),
    ("List recent papers on diffusion", True),
    ("Are there papers about KANs?", True),
    ("Which optimizer works best?", False),
    ("What method does the paper use?", False),
    ("Which of these is faster?", False),
])
def test_list_questions_in_the_forms_users_type(q, agg):
    assert is_aggregate(q) is agg
