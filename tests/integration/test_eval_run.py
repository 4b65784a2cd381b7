"""End-to-end evaluation runs over a real 20-paper index (bundled embedder, embedded Chroma).

Retrieval systems are the real ones. Answers come from a scripted app (hand-made
:class:`rag.types.answers.Answer` objects, so the expected metrics can be computed by hand) and, for the
stock LlamaIndex path, from a recording LLM built on LlamaIndex's own response types.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import Field

from eval.cli import eval_group
from eval.gold import GoldError, GoldItem, load_gold
from eval.run import run_eval
from eval.systems import PaperchatAnswers, StockLlamaIndex
from rag.errors import ConfigError
from rag.llm.backend import LLMBackend
from rag.paperchat import Paperchat
from rag.types.answers import Answer, Citation, Line
from rag.types.papers import Paper

UNANSWERABLE = ["What is the boiling point of liquid nitrogen in kelvin?",
                "Which recipe uses saffron and cardamom?"]


class RecordingLLM(CustomLLM):
    """Replies with a fixed text and records every prompt it was sent."""

    reply: str = "The first source answers this [1]. Another claim [9]."
    prompts: list[str] = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=8192, num_output=64, model_name="recording")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.reply)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs):
        self.prompts.append(prompt)
        yield CompletionResponse(text=self.reply, delta=self.reply)


class ScriptedApp:
    """The real app for search; ``ask`` returns hand-made answers and records the questions."""

    def __init__(self, app: Paperchat, answers: dict[str, Answer], llm: LLMBackend | None = None) -> None:
        self._app = app
        self.answers = answers
        self.asked: list[str] = []
        self.llm = llm
        self.settings = app.settings

    @property
    def embedder(self):
        return self._app.embedder

    def retriever(self):
        return self._app.retriever()

    def search(self, *args, **kwargs):
        return self._app.search(*args, **kwargs)

    def ask(self, question: str, **kwargs) -> Answer:
        self.asked.append(question)
        return self.answers[question]


def _item(id_: str, kind: str, question: str, papers: list[Paper], facts: list[str]) -> dict:
    return {"id": id_, "question": question, "kind": kind, "gold_titles": [p.title for p in papers],
            "key_facts": facts, "notes": ""}


def _fact(p: Paper) -> str:
    """A phrase copied from the abstract (like the real gold set's key facts)."""
    return " ".join(p.abstract.split()[3:7])


@pytest.fixture
def index(app: Paperchat, small_corpus: Path) -> Paperchat:
    app.ingest([small_corpus])
    return app


@pytest.fixture
def gold_file(tmp_path: Path, small_papers: list[Paper]) -> Path:
    p = small_papers
    records = [
        # lookups ask for a paper by its own title: every retriever should put it first
        *(_item(f"lookup-{i}", "lookup", p[i].title, [p[i]], [_fact(p[i])]) for i in range(3)),
        _item("list-1", "list", f"Which papers discuss {p[3].title} or {p[4].title}?", [p[3], p[4]],
              [_fact(p[3]), _fact(p[4])]),
        _item("compare-1", "compare", f"How do {p[5].title} and {p[6].title} differ?", [p[5], p[6]],
              [_fact(p[5]), _fact(p[6])]),
        *(_item(f"unans-{i}", "unanswerable", q, [], []) for i, q in enumerate(UNANSWERABLE)),
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _cite(n: int, p: Paper, supported: bool = True) -> Citation:
    return Citation(n=n, paper_id=p.paper_id, title=p.title, quote=p.abstract[:40], supported=supported)


def _said(question: str, text: str, citations: list[Citation], **kw) -> Answer:
    """A scripted answer whose text is ``text`` (one line per text line, as the engine writes them)."""
    lines = [Line(kind="heading", text=t) for t in text.split("\n")]
    return Answer(question, lines=lines, citations=citations, **kw)


def _scripted_answers(items: list[GoldItem], p: list[Paper]) -> dict[str, Answer]:
    """Hand-made answers; the expected metrics are worked out in test_run_eval_end_to_end."""
    q = {it.id: it.question for it in items}
    outsider = p[10]
    return {
        # cites gold + a wrong paper (flagged unsupported); states the key fact
        q["lookup-0"]: _said(q["lookup-0"], f"... {_fact(p[0]).upper()} ...",
                              [_cite(1, p[0]), _cite(2, outsider, supported=False)]),
        # cites gold only; key fact missing
        q["lookup-1"]: _said(q["lookup-1"], "an answer without the fact", [_cite(1, p[1])]),
        # refuses an answerable question
        q["lookup-2"]: _said(q["lookup-2"], "I couldn't find this.", [], refused=True),
        # list: one gold, one wrong; states one of two facts
        q["list-1"]: _said(q["list-1"], f"- {_fact(p[3])} [1]\n- other [2]", [_cite(1, p[3]), _cite(2, outsider)],
                            route="aggregate"),
        # compare: both gold, both facts
        q["compare-1"]: _said(q["compare-1"], f"{_fact(p[5])} [1] while {_fact(p[6])} [2]",
                               [_cite(1, p[5]), _cite(2, p[6])]),
        q["unans-0"]: _said(q["unans-0"], "I couldn't find this.", [], refused=True),
        # answers an unanswerable question
        q["unans-1"]: _said(q["unans-1"], "Saffron is used [1].", [_cite(1, outsider)]),
    }


def test_run_eval_end_to_end(index: Paperchat, gold_file: Path, small_papers: list[Paper], tmp_path: Path):
    items = load_gold(gold_file)
    llm = RecordingLLM()
    fake = ScriptedApp(index, _scripted_answers(items, small_papers),
                       llm=LLMBackend(name="recording", llm=llm, kind="test"))
    out = tmp_path / "run"
    res = run_eval(fake, items, ["hybrid", "bm25", "dense", "llamaindex"], k=10, answers=True, out_dir=out,
                   progress=False, n_boot=200, gold_source=str(gold_file), log=lambda m: None)

    # --- files ----------------------------------------------------------------------------------
    for name in ("results.json", "report.md", "retrieval_by_kind.png", "answers.png", "latency.png"):
        assert (out / name).is_file(), name
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out / "results.json").read_text())
    assert saved["meta"]["gold"]["items"] == 7
    assert saved["meta"]["machine"]["logical_cpus"] and saved["meta"]["settings"]["embedder"] == index.embedder.name
    assert saved["meta"]["date"] and "commit" in saved["meta"]["git"]
    assert len(saved["items"]) == 7

    # --- retrieval: real systems, sane numbers ---------------------------------------------------
    assert set(res["retrieval"]) == {"hybrid", "bm25", "dense", "llamaindex"}
    for name, block in res["retrieval"].items():
        assert set(block["by_kind"]) == {"lookup", "list", "compare"}, "unanswerable items are not retrieved"
        for m in ("recall@5", "recall@10", "mrr", "ndcg@10"):
            ci = block["overall"][m]
            assert ci["n"] == 5
            assert 0 <= ci["lo"] <= ci["mean"] <= ci["hi"] <= 1, (name, m, ci)
        assert block["by_kind"]["lookup"]["mrr"]["mean"] == 1.0, f"{name} missed a paper asked for by title"
        assert block["latency"]["n"] == 5 and block["latency"]["p50_s"] > 0
    unans = [row for row in saved["items"] if row["kind"] == "unanswerable"]
    assert all(row["retrieval"] == {} for row in unans)
    lookup0 = next(row for row in saved["items"] if row["id"] == "lookup-0")
    assert lookup0["retrieval"]["hybrid"]["ids"][0] == small_papers[0].paper_id
    assert lookup0["retrieval"]["hybrid"]["first_gold_rank"] == 1

    # --- answers: ours, against hand-computed values ---------------------------------------------
    assert fake.asked == [it.question for it in items]
    ours = res["answers"]["ours"]["overall"]
    assert ours["citation_precision"]["mean"] == pytest.approx((0.5 + 1 + 0.5 + 1) / 4)
    assert ours["citation_precision"]["n"] == 4  # the refused answerable item cites nothing
    assert ours["citation_recall"]["mean"] == pytest.approx((1 + 1 + 0 + 0.5 + 1) / 5)
    assert ours["supported_rate"]["mean"] == pytest.approx((0.5 + 1 + 1 + 1 + 1) / 5)
    assert ours["key_fact_rate"]["mean"] == pytest.approx((1 + 0 + 0 + 0.5 + 1) / 5)
    assert ours["false_refusal_rate"]["mean"] == pytest.approx(1 / 5)
    assert ours["refusal_accuracy"]["mean"] == pytest.approx(1 / 2)
    assert ours["list_f1"]["mean"] == pytest.approx(0.5) and ours["list_f1"]["n"] == 1
    assert res["answers"]["ours"]["latency"]["n"] == 7
    targets = {t["name"]: t["status"] for t in res["targets"]}
    assert targets == {"hybrid recall@10 on lookup": "PASS", "hybrid recall@10 on list": "PASS",
                       "citation precision": "MISS", "refusal accuracy": "MISS", "false refusal rate": "MISS"}

    # --- answers: the stock CitationQueryEngine got our LLM; its markers map to paper ids --------
    assert len(llm.prompts) == 7
    assert all("Source 1:" in pr for pr in llm.prompts)
    assert items[0].question in llm.prompts[0]
    stock_rows = [row["answers"]["llamaindex"] for row in saved["items"]]
    for row in stock_rows:
        assert row["cited_ids"][-1] == "invalid:[9]"  # only 5 sources were given
        assert row["cited_ids"][0] in index.retriever().papers
        assert not row["refused"]
    stock = res["answers"]["llamaindex"]["overall"]
    assert stock["refusal_accuracy"]["mean"] == 0.0 and stock["false_refusal_rate"]["mean"] == 0.0
    assert {c["metric"] for c in res["comparisons"]["answers"]} >= {"citation_precision", "refusal_accuracy"}

    report = (out / "report.md").read_text()
    for text in ("## Targets", "**PASS**", "**MISS**", "| recall@10 |", "llamaindex", "Does hybrid beat",
                 "Does ours beat", "citation precision"):
        assert text in report, text


def test_gold_papers_missing_from_the_index_are_an_error(index: Paperchat, small_papers: list[Paper]):
    item = GoldItem(id="x", question="q?", kind="lookup", gold_titles=("A Paper We Never Ingested",),
                    key_facts=(), gold_ids=("a-paper-we-never-ingested",))
    with pytest.raises(GoldError, match="(?s)1 gold paper.*not in the index.*x: A Paper We Never Ingested"):
        run_eval(index, [item], ["bm25"], progress=False, log=lambda m: None)


def test_stock_index_embeddings_are_cached(index: Paperchat, tmp_path: Path, small_papers: list[Paper]):
    cache = tmp_path / "cache"
    first = StockLlamaIndex.build(index, cache)
    assert not first.cache_hit and first.cache_file is not None and first.cache_file.is_file()

    class QueryOnly:
        """The same embedder, but embedding documents is forbidden: the cache must serve them."""

        def __init__(self, inner):
            self.inner, self.name, self.dim = inner, inner.name, inner.dim

        def embed_query(self, text):
            return self.inner.embed_query(text)

        def embed_documents(self, texts):
            raise AssertionError("documents were embedded again")

    app2 = SimpleNamespace(retriever=index.retriever, embedder=QueryOnly(index.embedder), settings=index.settings)
    second = StockLlamaIndex.build(app2, cache)
    assert second.cache_hit
    q = small_papers[2].title
    assert second.retrieve(q, 5) == first.retrieve(q, 5)
    assert first.retrieve(q, 5)[0] == small_papers[2].paper_id


def test_cli_run_and_compare(index: Paperchat, gold_file: Path, tmp_path: Path):
    runner = CliRunner()
    a, b = tmp_path / "a", tmp_path / "b"
    r = runner.invoke(eval_group, ["--gold", str(gold_file), "--systems", "bm25,hybrid", "-k", "5",
                                   "--out", str(a), "--no-progress", "--bootstrap", "100"])
    assert r.exit_code == 0, r.output
    assert "recall@5" in r.output and "report:" in r.output
    res = json.loads((a / "results.json").read_text())
    assert res["meta"]["retrieval_metrics"] == ["recall@5", "mrr", "ndcg@5"]
    assert list(res["retrieval"]) == ["bm25", "hybrid"] and res["answers"] == {}

    r = runner.invoke(eval_group, ["--gold", str(gold_file), "--systems", "dense,hybrid", "-k", "5",
                                   "--out", str(b), "--no-progress", "--bootstrap", "100"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(eval_group, ["compare", str(a), str(b)])
    assert r.exit_code == 0, r.output
    assert "## Retrieval: hybrid" in r.output and "| overall | recall@5 |" in r.output
    assert "## Retrieval: bm25 (only in A)" in r.output and "## Retrieval: dense (only in B)" in r.output

    r = runner.invoke(eval_group, ["--gold", str(gold_file), "--systems", "bm25,tfidf", "--no-progress"])
    assert r.exit_code == 1 and "error: unknown system(s) tfidf" in r.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    r = runner.invoke(eval_group, ["--gold", str(bad), "--no-progress"])
    assert r.exit_code == 1 and f"{bad}:1:" in r.output
    r = runner.invoke(eval_group, ["compare", str(a), str(tmp_path)])
    assert r.exit_code == 1 and "no such results file" in r.output


@pytest.mark.parametrize("name,mode,aggregate_route", [("ours-plain", "hybrid", False), ("ours-bm25", "bm25", True),
                                                       ("ours-dense", "dense", True)])
def test_answer_baselines_are_our_engine_with_one_part_taken_away(
    index: Paperchat, small_papers: list[Paper], monkeypatch: pytest.MonkeyPatch, name: str, mode: str,
    aggregate_route: bool,
):
    app = Paperchat(index.settings.model_copy(update={"llm_backend": "none"}), embedder=index.embedder)
    assert app.llm is None  # the evidence-built answer: no model in this test
    retriever = app.retriever()
    modes: list[str] = []
    real_search = retriever.search

    def spy(*args, **kwargs):
        modes.append(kwargs.get("mode", "hybrid"))
        return real_search(*args, **kwargs)

    monkeypatch.setattr(retriever, "search", spy)
    system = PaperchatAnswers(app, name)
    paper = small_papers[2]
    got = system.answer(f"What does the paper titled {paper.title} propose?")
    assert modes and set(modes) == {mode}, "every retrieval of the baseline uses its one retriever"
    assert not got.refused and got.cited_ids[0] == paper.paper_id and got.route == "answer"

    modes.clear()
    listed = system.answer(f"Which papers discuss {small_papers[3].title}?")
    assert listed.route == ("aggregate" if aggregate_route else "answer") and set(modes) == {mode}


def test_an_unknown_answer_system_is_named(index: Paperchat):
    with pytest.raises(ConfigError, match="unknown paperchat answer system 'ours-magic'.*ours-bm25"):
        PaperchatAnswers(index, "ours-magic")


def test_the_rules_baseline_judges_lists_by_rules_and_ours_by_the_fitted_judge(index: Paperchat,
                                                                                  small_papers: list[Paper]):
    from rag.engine import LIST_LEARNED, LIST_RULES

    app = Paperchat(index.settings.model_copy(update={"llm_backend": "none"}), embedder=index.embedder)
    q = f"Which papers discuss {small_papers[3].title}?"
    assert PaperchatAnswers(app, "ours-rules").answer(q).backend == LIST_RULES
    assert PaperchatAnswers(app, "ours").answer(q).backend == LIST_LEARNED
