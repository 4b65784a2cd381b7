""""Verified" checks what a claim says, not only which words it uses: names, numbers and polarity
must agree with the cited abstract. Planted wrong model sentences over real seed abstracts."""

from __future__ import annotations

import pytest
from helpers import SEED_FILES

from rag.answer.cite import summary_lines, support, verify_lines
from rag.ingest.corpus import load_corpus
from rag.text.analysis import Idf, missing_names, names, polarity_conflict
from rag.types.answers import Line


@pytest.fixture(scope="module")
def seeds():
    corpus = load_corpus(SEED_FILES)
    by_title = {p.title.split(":")[0]: p for p in corpus.papers}
    idf = Idf(f"{p.title}. {p.abstract}" for p in corpus.papers)
    return by_title, idf


def paper(seeds, title: str):
    return seeds[0][title]


WRONG = [
    # (paper, model sentence, what the verifier must name)
    ("Cocktail Party Attack", "The attack that recovers private inputs from aggregated gradients is CPA Party Attack.",
     "name 'CPA Party Attack'"),
    ("Stabilizing Transformer Training by Preventing Attention Entropy Collapse",
     "sigmaReparam stabilises training by reducing the learning rate during warmup.", "'warmup' is present"),
    ("Stabilizing Transformer Training by Preventing Attention Entropy Collapse",
     "sigmaReparam trains a Vision Transformer to competitive performance with warmup and weight decay.",
     "'warmup' is present"),
    ("Deep Gradient Compression", "Deep Gradient Compression achieves a gradient compression ratio from 270x to 900x.",
     "number 900x"),
    # a number from another paper (FlashAttention-2's 225 TFLOPs/s) attributed to DGC
    ("Deep Gradient Compression", "Deep Gradient Compression reaches 225 TFLOPs/s per GPU.", "number 225"),
    ("FlashAttention-2", "FlashAttention-2 reaches 225 TFLOPs/s per H100 GPU.", "name 'H100 GPU'"),
]
RIGHT = [
    ("Cocktail Party Attack", "The Cocktail Party Attack (CPA) recovers private inputs from aggregated gradients."),
    ("Stabilizing Transformer Training by Preventing Attention Entropy Collapse",
     "sigmaReparam trains a Vision Transformer to competitive performance without warmup."),
    ("Deep Gradient Compression", "Deep Gradient Compression achieves a gradient compression ratio from 270x to 600x."),
    ("FlashAttention-2", "FlashAttention-2 reaches 225 TFLOPs/s per A100 GPU."),
]


@pytest.mark.parametrize(("title", "claim", "reason"), WRONG)
def test_wrong_model_sentences_are_not_supported(seeds, title, claim, reason):
    p = paper(seeds, title)
    score, _, why = support(claim, p, seeds[1])
    assert score == 0.0 and reason in why, why
    lines, dropped = summary_lines(claim, [p], seeds[1])
    assert lines == [] and reason in dropped[0]


@pytest.mark.parametrize(("title", "claim"), RIGHT)
def test_right_model_sentences_stay_verified(seeds, title, claim):
    p = paper(seeds, title)
    lines, dropped = summary_lines(claim, [p], seeds[1])
    assert [ln.cites for ln in lines] == [[p.paper_id]], dropped
    v = verify_lines(lines, {p.paper_id: p}, seeds[1], {p.paper_id: 1})
    assert v.citations and v.citations[0].supported and not v.dropped


def test_a_sentence_citing_two_papers_keeps_only_the_one_that_holds_its_number(seeds):
    dgc, fa2 = paper(seeds, "Deep Gradient Compression"), paper(seeds, "FlashAttention-2")
    line = Line(kind="summary", text="FlashAttention-2 reaches 225 TFLOPs/s per A100 GPU.",
                cites=[dgc.paper_id, fa2.paper_id])
    v = verify_lines([line], {dgc.paper_id: dgc, fa2.paper_id: fa2}, seeds[1], {dgc.paper_id: 1, fa2.paper_id: 2})
    assert v.lines[0].cites == [fa2.paper_id] and any("[1]" in d for d in v.dropped)


@pytest.mark.parametrize(("sentence", "expected"), [
    ("The Cocktail Party Attack (CPA) works.", ["Cocktail Party Attack", "CPA"]),
    ("Deep Gradient Compression cuts ResNet-50 gradients.", ["Deep Gradient Compression", "ResNet-50"]),
    ("We train without warmup.", []),
    ("It targets A100 GPUs and beats FlashAttention.", ["FlashAttention", "A100 GPUs"]),
    ("sigmaReparam is simple.", ["sigmaReparam"]),
])
def test_names(sentence, expected):
    assert names(sentence) == expected


def test_names_match_up_to_case_plural_and_hyphen():
    assert missing_names("Vision Transformers and vision-transformer", "a Vision Transformer (ViT)") == []
    assert missing_names("It uses GPT-4.", "We compare with GPT-3.") == ["GPT-4"]


@pytest.mark.parametrize(("claim", "source", "conflict"), [
    ("It trains with warmup.", "We train without any warmup.", True),
    ("It trains without warmup.", "We train without any warmup.", False),
    ("It removes the warmup phase.", "Training uses a warmup phase.", True),
    ("It needs a long warmup.", "We propose shorter warmup schedules.", True),
    ("It uses a shorter warmup.", "We propose shorter warmup schedules.", False),
    ("It uses warmup.", "Prior work uses warmup; we train without warmup.", False),  # the source says both
    ("It is warmup-free.", "Training uses a warmup phase.", True),
    # a negator does not reach into the next sentence (ELECTRA: "... a generator sample or not. Thorough ...")
    ("Thorough experiments demonstrate it.", "We predict whether it was replaced or not. Thorough experiments "
     "demonstrate it.", False),
    # "-free" makes only the word it follows absent, there and only there: a verbatim quote under the
    # title "A Noise is Worth Diffusion Guidance" was removed because "guidance-free" elsewhere made
    # every "guidance" of the abstract absent, and "Exemplar-Free Task Arithmetic" negated "task"
    ("Diffusion Guidance: the model needs guidance.", "Diffusion Guidance. The refined noise gives "
     "guidance-free sampling. Sampling needs guidance otherwise.", False),
    ("It uses guidance-free sampling.", "We sample with guidance.", True),
    ("Exemplar-Free Task Arithmetic: it merges task vectors.", "Exemplar-Free Task Arithmetic. We merge "
     "task vectors.", False),
    ("A training-free method.", "The method is trained for a week.", True),
])
def test_polarity(claim, source, conflict):
    assert (polarity_conflict(claim, source) is not None) is conflict


@pytest.mark.parametrize("name", ["Robustness", "Big Progress", "Class Imbalance", "Less"])
def test_a_name_ending_in_double_s_is_found_as_written(name):
    """Taking every final "s" off ("Robustne") found no text, so a quote under a title such as
    "... Advancing Both Robustness and Generalization" was removed and a lookup refused."""
    assert missing_names(f"{name} matters", f"We study {name.lower()} here") == []


def test_every_seed_title_supports_its_own_names(seed_titles):
    """A quote line claims its words under the paper's title: each name of a title is found in it."""
    for title, paper in seed_titles.items():
        assert missing_names(title, f"{paper.title}. {paper.abstract}") == [], title


def test_a_quote_under_a_title_with_a_negator_is_supported(seeds):
    """"Pre-training without Natural Images: Although the models ..." is a verbatim quote under its
    paper's title: the title's "without" reaches no word after the colon ("although" was read as
    absent, and the quote removed as unsupported)."""
    p = paper(seeds, "Pre-training without Natural Images")
    sentence = next(s for s in p.abstract.split(". ") if s.startswith("Although the models"))
    line = Line(kind="quote", text=sentence, paper_id=p.paper_id, label=p.title, cites=[p.paper_id])
    v = verify_lines([line], {p.paper_id: p}, seeds[1], {p.paper_id: 1})
    assert [ln.text for ln in v.lines] == [sentence] and not v.dropped
