"""The reading judge (a cross-encoder shipped as int8 ONNX) and the list judges' one interface:
the shipped model loads with onnxruntime alone and is the file its card names, a damaged copy is
refused in one line, it reads (a paper's own passage outscores an unrelated one), a judge chain
hands over when a backend fails, and alone on the real seed index it lists with verbatim quotes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import BackendError, ModelError
from rag.judge.reader import Reader, shipped_directory
from rag.lists.judges import ListInput, Verdicts, judges_for
from rag.lists.route import _judge
from rag.lists.rules import Judgement
from rag.question.read import read_text
from rag.types.answers import Event
from rag.types.papers import Filters, Hit, Paper, SearchResult


@pytest.mark.slow  # loads the reading judge in a subprocess
def test_the_shipped_reader_is_the_file_its_card_names_and_runs_without_torch():
    code = ("import sys; from rag.judge.reader import load_reader; r = load_reader(); "
            "p = r.probabilities('which papers skip warmup?', ['A. We train without warmup.']); "
            "assert 0.0 <= p[0] <= 1.0; assert 'torch' not in sys.modules; print(r.threshold)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 0.0 < float(out.stdout) < 1.0


def test_a_damaged_reader_is_refused_in_one_line(tmp_path: Path):
    copy = tmp_path / "judge"
    shutil.copytree(shipped_directory(), copy)
    data = bytearray((copy / "judge.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "judge.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="judge.onnx .*sha256 differs"):
        Reader(copy)
    (copy / "card.json").write_text("{not json", "utf-8")
    with pytest.raises(ModelError, match="card is missing or damaged"):
        Reader(copy)


@pytest.mark.slow  # loads the reading judge
def test_a_reader_reads_what_its_card_says_it_was_trained_to_read(tmp_path: Path):
    import json

    copy = tmp_path / "judge"
    shutil.copytree(shipped_directory(), copy)
    card = json.loads((copy / "card.json").read_text("utf-8"))
    assert Reader(copy).layout == card["params"].get("layout", "top3")  # a card without one: the first layout
    card["params"]["layout"] = "ranked"
    (copy / "card.json").write_text(json.dumps(card), "utf-8")
    assert Reader(copy).layout == "ranked"
    card["params"]["layout"] = "whole-abstract"
    (copy / "card.json").write_text(json.dumps(card), "utf-8")
    with pytest.raises(ModelError, match="layout this version does not know"):
        Reader(copy)


@pytest.mark.slow  # loads the reading judge
def test_the_reader_prefers_the_paper_that_answers():
    r = Reader(shipped_directory())
    off_topic = ("Protein folding with diffusion. We generate protein backbones with a diffusion model and "
                 "evaluate designability.")
    q = "Which papers speed up LLM inference with speculative decoding?"
    answers = ("Speculative Decoding with Tiny Draft Heads. Speculative decoding needs a fast draft model. We "
               "attach two-layer draft heads to a frozen LLM and accept 3.1 tokens per step, a 2.4x speedup.")
    p_yes, p_no = r.probabilities(q, [answers, off_topic])
    assert p_yes > 0.4 and p_yes > 10 * p_no  # measured 0.54 vs 0.03
    # an absence is where it is weakest (held-out AUC 0.84): it still ranks the paper that states
    # it first, but far below its threshold (measured 0.21 vs 0.02), which is why it is one feature
    # of the fitted list judge and not the judge on its own
    q = "Which papers train transformers without learning-rate warmup?"
    answers = ("Stable training without warmup. We show that with our normalisation, transformers train stably "
               "without any learning-rate warmup, removing a tuning step.")
    p_yes, p_no = r.probabilities(q, [answers, off_topic])
    assert p_yes > 3 * p_no


class _Failing:
    label, streams = "remote (judge)", True

    def run(self, given):
        yield Judgement(hit=given.pool[0], qualifies=True, quote="q", score=1.0, reason="r")
        raise BackendError("remote: connection refused", backend="remote", kind="connection")


class _Own:
    label, streams = "own", False

    def run(self, given):
        yield "a note from the judge"
        return Verdicts([], notes=["kept quietly"])


def _given() -> ListInput:
    paper = Paper(paper_id="p1", title="T", abstract="A.", source="test", line=1)
    hits = [Hit(paper=paper, score=1.0, rank=1, best_chunk="")]
    return ListInput(read_text("which papers?", "list"), hits, SearchResult(query="which papers?", mode="hybrid", hits=hits, filters=Filters()), None, None)


def test_a_judge_chain_hands_over_when_the_backend_fails_and_says_so():
    notes: list[str] = []
    shown = []
    gen = _judge([_Failing(), _Own()], _given(), notes, lambda j: shown.append(j) or Event(type="note", text="item"))
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        judge, verdicts = stop.value
    assert judge.label == "own" and verdicts.notes == ["kept quietly"]
    assert len(shown) == 1  # the failed judge's streamed paper was shown before it failed
    assert notes == ["remote: connection refused — judged without the model instead (paperchat's own list judge)",
                     "a note from the judge"]
    assert [e.text for e in events if e.type == "note"][-2:] == notes


def test_the_chain_puts_a_capable_backend_first_and_the_settings_judge_last(home):
    from rag.settings import load_settings

    s = load_settings()
    s = s.model_copy(update={"listing": s.listing.model_copy(update={"judge": "reader"})})

    class Capable:  # the two capabilities an LLM declares (rag.protocols.LLM)
        name, capable_judge, supports_schema = "remote", True, True

    class Small:
        name, capable_judge, supports_schema = "local", False, True

    class NoSchema:  # trusted, but cannot answer in JSON: never the judge
        name, capable_judge, supports_schema = "plain", True, False

    assert [j.label for j in judges_for(s, Capable(), None)] == ["remote (judge)", "list judge (reader)"]
    assert [j.label for j in judges_for(s, Small(), None)] == ["list judge (reader)"]
    assert [j.label for j in judges_for(s, NoSchema(), None)] == ["list judge (reader)"]
    assert [j.label for j in judges_for(s, None, None)] == ["list judge (reader)"]

    class NoSchema:
        name, capable_judge, supports_schema = "remote", True, False

    assert [j.label for j in judges_for(s, NoSchema(), None)] == ["list judge (reader)"]  # cannot answer in JSON


def test_the_reader_alone_lists_with_verbatim_quotes_on_the_seed_index(seed_index):
    """The reader-only judge (an eval baseline) end to end: it lists the paper whose title says
    it shortens warmup, quoting a sentence of that paper's own abstract."""
    from rag.engine import LIST_READER, AnswerEngine

    s = seed_index.app.settings
    s = s.model_copy(update={"listing": s.listing.model_copy(update={"judge": "reader"})})
    a = AnswerEngine(seed_index.app.retriever(), None, settings=s).ask("Which papers skip warmup?")
    assert a.backend == LIST_READER and a.route == "aggregate" and not a.refused
    assert "fast-certified-robust-training-with-short-warmup" in {c.paper_id for c in a.citations}
    papers = seed_index.app.retriever().papers
    for c in a.citations:
        assert c.quote in papers[c.paper_id].abstract and "judged" in c.reason
