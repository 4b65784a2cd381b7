"""Names no indexed abstract uses make a question unanswerable here (rag.unknown), on the seeds."""

from __future__ import annotations

import pytest

from rag.unknown import unknown_names


@pytest.mark.parametrize(("question", "missing"), [
    ("Which papers use 3D Gaussian splatting for SLAM (simultaneous localization and mapping)?", ["SLAM"]),
    ("Is there a Gaussian-splatting-based SLAM system?", ["SLAM"]),
    ("Which paper trains an agent to play Minecraft?", ["Minecraft"]),
    ("Which paper introduced the Sophia optimizer?", ["Sophia"]),
    ("Which paper speeds up FlashAttention-2 on A100 GPUs?", []),  # every name is in the seeds
    ("Which papers implement faster GPU or NPU kernels for attention?", []),  # "NPUs" in an abstract
    ("Papers on low-resource NLP for languages spoken in Africa", []),  # "African"
    ("What FID does Min-SNR weighting reach on ImageNet 256x256?", []),  # a size, not a name
    ("Which papers train with Minecraft or Atari agents?", []),  # an alternative offered with "or"
    ("which papers use cheap tricks to fight overthinking?", []),  # ordinary words are not names
    ("Is there work building models or benchmarks in Mandarin Chinese?", []),  # qualifies a name papers use
    ("Which papers use 3D Gaussian Splatting SLAM?", ["SLAM"]),  # the name's head is what no paper uses
])
def test_unknown_names(seed_idf, question, missing):
    assert unknown_names(question, seed_idf) == missing


def test_the_engine_refuses_and_says_which_name_no_paper_uses(seed_index):
    from rag.answer import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    listed = engine.ask("Which papers use 3D Gaussian splatting for SLAM (simultaneous localization and mapping)?")
    assert listed.route == "aggregate" and listed.refused and not listed.citations
    assert any("“SLAM”" in n for n in listed.notes)
    assert any(line.kind == "nearest" for line in listed.lines)  # the splatting papers, shown as nearest only
    one = engine.ask("Which paper trains an agent to play Minecraft?")
    assert one.route == "answer" and one.refused and any("“Minecraft”" in n for n in one.notes)
    fine = engine.ask("Which paper speeds up FlashAttention on GPUs?")
    assert not fine.refused


def test_the_reason_streams_as_a_note_before_the_refusal(seed_index):
    # the CLI and the UI show streamed notes as they come: the refusal must not arrive unexplained
    from rag.answer import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    for question in ("Which paper trains an agent to play Minecraft?", "Which papers play Minecraft?"):
        events = list(engine.stream(question))
        notes = [e.text for e in events if e.type == "note"]
        assert any("“Minecraft”" in n for n in notes)
        assert events[-1].type == "done" and events[-1].answer.refused
