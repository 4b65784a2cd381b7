"""Short titles label the quotes of an answer (UI and CLI); the full title stays in the sources
panel, the tooltips and the citations list."""

from __future__ import annotations

import pytest
from ui_fixtures import answer, citation, events_for, quote_line, source

from cli.main import _short_label
from rag.answer.stream import REVISED, TextStream
from rag.ingest.corpus import CorpusLoad
from rag.text.titles import short_title
from rag.types.answers import Line
from ui import render

DEEPZERO = "DeepZero: Scaling up Zeroth-Order Optimization for Deep Model Training"
WARMUP = "Fast Certified Robust Training with Short Warmup"


@pytest.mark.parametrize(("title", "short"), [
    (DEEPZERO, "DeepZero"),
    ("1-bit Adam: Communication Efficient Large-Scale Training with Adam's Convergence Speed", "1-bit Adam"),
    ("ReZero is All You Need: Fast Convergence at Large Depth", "ReZero is All You Need"),
    ("FlashVideo:Flowing Fidelity to Detail for Efficient High-Resolution Video Generation", "FlashVideo"),
    ("When, Why and How Much? Adaptive Learning Rate Scheduling by Refinement", "When, Why and How Much?"),
    ("Continual Learning with Dynamic Sparse Training: Exploring Algorithms for Effective Model Updates",
     "Continual Learning with Dynamic Sparse Training"),
    (WARMUP, WARMUP),  # eight words or fewer: kept whole
    ("Exploiting Pretrained Biochemical Language Models for Targeted Drug Design",
     "Exploiting Pretrained Biochemical Language Models\u2026"),
    ("Learning 3D Human Shape and Pose from Dense Body Parts", "Learning 3D Human Shape and Pose\u2026"),
    ("Training Transformers Together", "Training Transformers Together"),
    ("Training and Evaluating Language Models with Template-based Data Generation",
     "Training and Evaluating Language Models\u2026"),  # never ends on "with…"
    ("Time 10:30 matters a lot for this long title", "Time 10:30 matters a lot\u2026"),  # not a name colon
    (": Leading colon and then a long list of words", "Leading colon and then a long\u2026"),
])
def test_short_title(title: str, short: str):
    assert short_title(title) == short


def test_every_seed_title_has_a_short_title_that_starts_it(seed_corpus: CorpusLoad):
    for p in seed_corpus.papers:
        short = p.short_title
        assert short and len(short.split()) <= 8, (p.title, short)
        assert " ".join(p.title.split()).lstrip(": ").startswith(short.rstrip("\u2026?")), (p.title, short)
    by_title = {p.title: p.short_title for p in seed_corpus.papers}
    assert by_title[DEEPZERO] == "DeepZero"


def test_the_ui_leads_a_quote_with_the_short_title_and_keeps_the_full_one():
    cit = citation(title=DEEPZERO, paper_id="dz")
    line = quote_line(paper_id="dz", title=DEEPZERO)
    body = render.answer_html([line], [cit])
    assert '<b class="pc-label" title="DeepZero&#58; Scaling up' in body
    assert ">DeepZero</b>: \u201c" in body
    card = render.source_card(cit, source(title=DEEPZERO, paper_id="dz"), [line])
    assert render.esc(DEEPZERO) in card  # the sources panel names the paper in full


def _printed(events) -> list[str]:
    text = TextStream(label=_short_label)  # what the CLI prints: one rendering, short labels
    out: list[str] = []
    for ev in events:
        out += text.add(ev)
    return out


def test_the_cli_leads_quotes_with_short_titles_streamed_or_revised():
    line = quote_line(paper_id="dz", title=DEEPZERO)
    ans = answer(lines=[Line(kind="heading", text="1 paper says so:"), line],
                 citations=[citation(title=DEEPZERO, paper_id="dz")], sources=[source(title=DEEPZERO, paper_id="dz")])
    streamed = _printed(events_for(ans))
    assert streamed == ["- DeepZero: \u201cWe train vision transformers without any learning rate warmup.\u201d [1]",
                        "1 paper says so."]  # a list's count closes it
    # the verified answer differs from what streamed: reprinted whole, short titles again
    changed = answer(lines=[quote_line(paper_id="dz", title=DEEPZERO, text="Another sentence.")],
                     citations=ans.citations, sources=ans.sources)
    revised = _printed(events_for(ans)[:-1] + events_for(changed)[-1:])
    assert revised[-2:] == [REVISED, "- DeepZero: \u201cAnother sentence.\u201d [1]"]
    # nothing streamed before done (e.g. a refusal): the whole answer, short titles
    assert _printed(events_for(ans)[-1:]) == ["1 paper says so:", streamed[0]]
    assert ans.text.startswith("1 paper says so:\n- " + DEEPZERO)  # the canonical text keeps the full title
