"""Unknown names on the seed index: the engine refuses and says which name no paper uses (the pure reading:
unit/test_unknown.py)."""

from __future__ import annotations


def test_the_engine_refuses_and_says_which_name_no_paper_uses(seed_index):
    from rag.engine import AnswerEngine

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
    from rag.engine import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    for question in ("Which paper trains an agent to play Minecraft?", "Which papers play Minecraft?"):
        events = list(engine.stream(question))
        notes = [e.text for e in events if e.type == "note"]
        assert any("“Minecraft”" in n for n in notes)
        assert events[-1].type == "done" and events[-1].answer.refused
