"""LaTeX markup out of abstracts at parse time, on the real seed strings: what is shown, quoted and
verified is the normalised text; the source's text stays in ``abstract_raw``."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answer.cite import support
from rag.ingest.corpus import CorpusLoad, parse_file
from rag.text.analysis import Idf, split_sentences
from rag.text.latex import normalise_latex

# (paper id, text in the seed dump, what the reader sees instead)
SEED_CASES = [
    ("efficient-online-reinforcement-learning-fine-tuning-0fd3696", "``recalibrate''", "\u201crecalibrate\u201d"),
    ("flashattention-2-faster-attention-with-better-b597176", "(2-4times", "(2-4\u00d7"),
    ("flashattention-2-faster-attention-with-better-b597176", "25-40\\%", "25-40%"),
    ("concurrent-adversarial-learning-for-large-batch-training", "75.3\\% top-1", "75.3% top-1"),
    ("on-training-sample-memorization-lessons-from-d4f75ab",
     "``Memorization-Informed Fr\\'echet Inception Distance''",
     "\u201cMemorization-Informed Fr\u00e9chet Inception Distance\u201d"),
    ("training-llms-over-neurally-compressed-text", 'na\\"ively', "na\u00efvely"),
    ("scan-and-snap-understanding-training-dynamics-and-token-efa0027", "\\emph{scan and snap}", "scan and snap"),
    ("proof-artifact-co-training-for-theorem-proving-with-c1780b8",
     "({\\bf P}roof {\\bf A}rtifact {\\bf C}o-{\\bf T}raining)", "(Proof Artifact Co-Training)"),
    ("anarchic-federated-learning", "{\\em linear speedup effect}", "linear speedup effect"),
    ("alim-adjusting-label-importance-mechanism-for-noisy-5870022",
     "\\textcolor[rgb]{0.93,0.0,0.47}{Our code", "Our code"),
    ("w2v-bert-combining-contrastive-learning-and-masked-92b6151", "wav2vec~2.0", "wav2vec 2.0"),
    ("w2v-bert-combining-contrastive-learning-and-masked-92b6151", "shows~5\\% to~10\\%", "shows 5% to 10%"),
    ("towards-crowdsourced-training-of-large-neural-networks-e038b4c", "a \\$250M server", "a $250M server"),
    ("fast-adversarial-training-with-smooth-convergence", "\\ie the", "i.e. the"),
    ("killing-two-birds-with-one-stone-efficient-and-robust-eaa7e77",
     "\\https://github.com", "https://github.com"),
    ("high-dimensional-location-estimation-via-norm-f491bb7", "Cram\\'er-Rao", "Cram\u00e9r-Rao"),
    ("token-level-serialized-output-training-for-joint-55e26d7", "(\\{de,es,it\\}-en)", "({de,es,it}-en)"),
    ("learning-in-imperfect-environment-multi-label-b3b31f7", "\\method{}.", "method."),
    ("efficient-diffusion-training-via-min-snr-weighting-strategy", "256times256", "256\u00d7256"),
    ("armor-v0-1-empowering-autoregressive-multimodal-2153513", '``what or how to generate"',
     "\u201cwhat or how to generate\u201d"),
]
# not markup: prices, number ranges written with a tilde, "about" tildes
SEED_KEPT = [
    ("lora-fine-tuning-efficiently-undoes-safety-training-in-21d4afb", "less than $200 per model"),
    ("efficient-n-m-sparse-dnn-training-using-algorithm-7b4481e", "2.97~25.22x"),
    ("unraveling-the-mystery-of-scaling-laws-part-i", "1M~60M parameters"),
    ("data-mixture-inference-what-do-bpe-tokenizers-reveal-c064ac9", "(~60%)"),
]


def _by_id(corpus: CorpusLoad) -> dict:
    return {p.paper_id: p for p in corpus.papers}


@pytest.mark.parametrize(("paper_id", "raw", "shown"), SEED_CASES, ids=[f"{c[0][:28]}:{c[1][:14]}" for c in SEED_CASES])
def test_seed_markup_is_shown_as_meant(seed_corpus: CorpusLoad, paper_id: str, raw: str, shown: str):
    paper = _by_id(seed_corpus)[paper_id]
    assert raw in paper.abstract_raw  # the source's text, kept for provenance
    assert shown in paper.abstract and raw not in paper.abstract
    assert normalise_latex(paper.abstract_raw) == paper.abstract


@pytest.mark.parametrize(("paper_id", "text"), SEED_KEPT, ids=[c[1] for c in SEED_KEPT])
def test_text_that_only_looks_like_markup_is_kept(seed_corpus: CorpusLoad, paper_id: str, text: str):
    assert text in _by_id(seed_corpus)[paper_id].abstract


def test_every_seed_abstract_is_normalised_once_and_for_all(seed_corpus: CorpusLoad):
    changed = [p for p in seed_corpus.papers if p.abstract_raw is not None]
    assert len(changed) == 53
    for p in seed_corpus.papers:
        assert normalise_latex(p.abstract) == p.abstract, p.paper_id  # idempotent
        assert p.abstract_raw != p.abstract
        for markup in ("\\%", "``", "\\emph", "{\\bf", "\\'", "~("):
            assert markup not in p.abstract, (p.paper_id, markup)
        assert not re.search(r"\dtimes", p.abstract), p.paper_id


@pytest.mark.parametrize(("raw", "shown"), [
    ("accuracy drops $\\sim$10 points", "accuracy drops ~10 points"),
    ("an $O(n^2)$ cost", "an O(n^2) cost"),
    ("a $\\times$2 speed-up and $\\alpha$-divergence", "a ×2 speed-up and α-divergence"),
    ("\\textit{sparse} and \\textbf{\\emph{nested}} words", "sparse and nested words"),
    ("an \\emph{} empty one", "an empty one"),
    ("costs $5 and $7 each", "costs $5 and $7 each"),  # two prices are not math
    ("ties~like~these", "ties like these"),
    ("it's the ``model's own'' view", "it's the \u201cmodel's own\u201d view"),
    ("plain text, nothing to do", "plain text, nothing to do"),
])
def test_normalise_latex(raw: str, shown: str):
    assert normalise_latex(raw) == shown
    assert normalise_latex(shown) == shown


def test_jsonl_abstracts_are_normalised_and_keep_their_source_text(tmp_path: Path):
    path = tmp_path / "papers.jsonl"
    rows = [{"title": "Marked Up", "abstract": "We reach 46.1\\% with \\emph{two} bits, i.e. $\\sim$2times less."},
            {"title": "Plain", "abstract": "Nothing to change here at all, just words."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    papers, _, warnings = parse_file(path)
    assert warnings == []
    marked, plain = papers
    assert marked.abstract == "We reach 46.1% with two bits, i.e. ~2× less."
    assert marked.abstract_raw == rows[0]["abstract"]
    assert plain.abstract_raw is None
    # provenance does not make a paper "changed" for ingest (a store may not keep it)
    assert replace(marked, abstract_raw=None).content_hash == marked.content_hash


def test_quotes_are_spans_of_the_shown_abstract_and_verify_against_it(seed_corpus: CorpusLoad):
    paper = _by_id(seed_corpus)["concurrent-adversarial-learning-for-large-batch-training"]
    idf = Idf(f"{p.title}. {p.abstract}" for p in seed_corpus.papers)
    quote = next(s for s in split_sentences(paper.abstract) if "75.3%" in s)
    assert quote in paper.abstract and "\\" not in quote
    score, best, reason = support(quote, paper, idf)
    assert best == quote and score == 1.0, reason
    # a claim with the percentage as readers write it is checked against the number as shown
    claim = "ConAdv reaches 75.3% top-1 accuracy on ImageNet ResNet-50"
    assert support(claim, paper, idf)[0] > 0.5
    assert support(claim.replace("75.3%", "77.1%"), paper, idf)[2] == "number 77.1% is not in the cited abstract"
