"""The `paperchat` CLI: in-process with click's CliRunner, and as a real process where it matters
(exit codes, stderr, no tracebacks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import ABSTRACT, run_paperchat

from cli.main import main

HIT_KEYS = {"rank", "paper_id", "title", "score", "bm25_score", "bm25_rank", "dense_score", "dense_rank",
            "date", "upvotes", "best_chunk"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_error_line(stderr: str, starts: str) -> None:
    assert stderr.startswith("error: " + starts), stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert "Traceback" not in stderr


# ----------------------------------------------------------------------------------------------
# errors are one line, exit 1
# ----------------------------------------------------------------------------------------------


def test_ingest_bad_file_is_one_error_line(tmp_path: Path, home: Path):
    bad = tmp_path / "scan.txt"
    bad.write_bytes(b"\x00\x01binary\x00" * 30)
    result = invoke("ingest", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert_one_error_line(result.stderr, f"{bad}: looks like a binary file")
    assert not home.exists()  # parsing fails before anything is written


def test_ingest_bad_file_in_a_real_process(tmp_path: Path):
    bad = tmp_path / "papers.jsonl"
    bad.write_text(json.dumps({"title": "Good", "abstract": ABSTRACT}) + "\n{broken\n", "utf-8")
    proc = run_paperchat("ingest", str(tmp_path / "papers.jsonl"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, "papers.jsonl:2: invalid JSON")


@pytest.mark.slow  # the CLI process loads the bundled embedder before it finds no index
def test_search_before_ingest_in_a_real_process():
    proc = run_paperchat("search", "warmup")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, "the index is empty: run `paperchat ingest` first")


@pytest.mark.slow  # the CLI loads the bundled embedder before it finds no index
def test_search_before_ingest():
    result = invoke("search", "--json", "warmup")
    assert result.exit_code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr, "the index is empty: run `paperchat ingest` first")


def test_stats_before_ingest(home: Path):
    result = invoke("stats", "--json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert (s["papers"], s["chunks"], s["collection"]) == (0, 0, None)
    assert s["store"] == f"embedded Chroma at {home / 'chroma'}"  # same key as for a built index


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-13-01"], "date-from must be a date like 2024-05-31, got '2024-13-01'"),
        (["--from", "2024-06-01", "--to", "2024-05-01"], "date range is empty"),
        (["--min-upvotes", "-3"], "min-upvotes must be >= 0, got -3"),
    ],
)
def test_search_with_a_bad_filter(args: list[str], message: str):
    result = invoke("search", "warmup", *args)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, message)


def test_search_with_an_empty_query_is_a_usage_error():
    result = invoke("search", "  ")
    assert result.exit_code == 2 and "QUERY is empty" in result.stderr


def test_bad_setting_is_one_error_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_CHUNK_SIZE", "7")
    result = invoke("stats")
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "invalid settings: chunk_size: ")


# ----------------------------------------------------------------------------------------------
# ingest
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow  # ingests through the CLI: loads the bundled embedder
def test_ingest_then_reingest(small_corpus: Path):
    first = invoke("ingest", str(small_corpus))
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == "parsed 20 records from 1 files: 20 unique papers, 0 duplicates merged"
    assert lines[1].startswith("indexed 20 papers (20 new, 0 changed, 0 unchanged): ")
    assert " chunks embedded, 0 reused, in " in lines[1]

    again = invoke("ingest", "--json", str(small_corpus))
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["up_to_date"] is True and report["chunks_embedded"] == 0
    assert (report["records"], report["duplicates"], report["warnings"]) == (20, 0, [])
    assert report["files"] == [{"path": str(small_corpus), "layout": "jsonl", "records": 20, "skipped": 0}]
    assert {"papers_total", "papers_new", "papers_changed", "papers_unchanged", "chunks_total", "chunks_reused",
            "generation", "collection", "seconds"} <= report.keys()

    text = invoke("ingest", str(small_corpus))
    assert text.stdout.splitlines()[1].startswith("index up to date: 20 papers (")

    stats = json.loads(invoke("stats", "--json").stdout)
    assert stats["papers"] == 20 and stats["chunks"] == report["chunks_total"]


@pytest.mark.slow  # ingests through the CLI: loads the bundled embedder
def test_ingest_reports_skipped_records(tmp_path: Path, small_papers):
    p = small_papers[0]
    dump = tmp_path / "dump.txt"
    dump.write_text(f"{p.title}\n\n{p.abstract}\n\nOrphan Title\n\n", "utf-8")
    result = invoke("ingest", str(dump))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: dump.txt:5: title 'Orphan Title' has no abstract after it; skipped",
        "warning: 1 record skipped (see above)",
    ]
    assert result.stdout.startswith("parsed 1 records from 1 files: 1 unique papers")


@pytest.mark.slow  # ingests through the CLI: loads the bundled embedder
def test_ingest_replace_flag(tmp_path: Path, small_corpus: Path, small_papers):
    assert invoke("ingest", str(small_corpus)).exit_code == 0
    few = tmp_path / "few.jsonl"
    few.write_text("".join(json.dumps({"title": p.title, "abstract": p.abstract}) + "\n"
                           for p in small_papers[:3]), "utf-8")
    result = invoke("ingest", "--replace", "--json", str(few))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["papers_total"] == 3
    assert json.loads(invoke("stats", "--json").stdout)["papers"] == 3


@pytest.mark.slow  # ingests through the CLI: loads the bundled embedder
def test_home_flag_beats_the_environment(tmp_path: Path, small_corpus: Path, home: Path):
    other = tmp_path / "other-home"
    assert invoke("--home", str(other), "ingest", str(small_corpus)).exit_code == 0
    assert (other / "chroma").is_dir()
    assert not home.exists()
    assert json.loads(invoke("--home", str(other), "stats", "--json").stdout)["papers"] == 20


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and "0.1.0" in result.stdout


# ----------------------------------------------------------------------------------------------
# search and stats over the seed index
# ----------------------------------------------------------------------------------------------


def test_search_json_shape(seed_index):
    result = invoke("--home", str(seed_index.home), "search", "--json", "-k", "7", "which papers skip warmup?")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"query", "mode", "filter_note", "hits", "timings_ms"}
    assert (out["query"], out["mode"], out["filter_note"]) == ("which papers skip warmup?", "hybrid", None)
    assert len(out["hits"]) == 7
    for i, hit in enumerate(out["hits"], start=1):
        assert set(hit) == HIT_KEYS
        assert hit["rank"] == i
        assert isinstance(hit["score"], float) and hit["best_chunk"]
    assert "fast-certified-robust-training-with-short-warmup" in {h["paper_id"] for h in out["hits"]}
    assert out["timings_ms"]["total_ms"] > 0


def test_search_json_with_filter_and_mode(seed_index):
    result = invoke("--home", str(seed_index.home), "search", "--json", "--mode", "dense", "--min-upvotes", "3",
                    "--from", "2024-01-01", "image restoration")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "dense"
    # the second paper's "May 12" is dated 2025 from its page (rag.text.dates)
    assert out["filter_note"].startswith(
        "filter (date 2024-01-01 to …, upvotes >= 3) kept 2 of 540 papers (1 with an inferred year)")
    assert [(h["paper_id"], h["upvotes"], h["date"]) for h in out["hits"]] == [
        ("dreamclear-high-capacity-real-world-image-restoration-fa466a2", 3, "2024-10-24"),
        ("simple-semi-supervised-knowledge-distillation-from-e01ccfd", 3, "2025-05-12")]
    assert out["hits"][0]["bm25_score"] is None and out["hits"][0]["dense_score"] is not None


def test_search_text_output(seed_index):
    result = invoke("--home", str(seed_index.home), "search", "-k", "3", "--mode", "bm25",
                    "certified robust training warmup")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == " 1. Fast Certified Robust Training with Short Warmup  [fast-certified-robust-training-with-short-warmup]"
    assert lines[1].startswith("    score ") and lines[1].endswith(" · 2021-03-31")
    assert len(lines) == 9  # three lines per hit
    assert result.stderr == ""


def test_search_with_no_match_says_so(seed_index):
    result = invoke("--home", str(seed_index.home), "search", "--min-upvotes", "1000", "training")
    assert result.exit_code == 0
    assert result.stdout == "no matching papers\n"
    assert result.stderr.startswith("filter (upvotes >= 1000) kept 0 of 540 papers")


def test_stats(seed_index):
    result = invoke("--home", str(seed_index.home), "stats", "--json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["papers"] == 540
    assert s["chunks"] == seed_index.report.chunks_total
    assert (s["collection"], s["generation"], s["embedder"]) == ("paperchat_g1", 1, "all-MiniLM-L6-v2-int8")
    assert s["store"] == f"embedded Chroma at {seed_index.home / 'chroma'}"
    assert s["sources"] == sorted(Path(f.path).name for f in seed_index.corpus.files)
    # 28 dates written with their year, 18 "Mon D" in 004 dated 2025 from their page (rag.text.dates)
    assert (s["with_full_date"], s["with_upvotes"]) == (46, 11)
    assert s["dates"] == {"written": 28, "inferred": {"page-newest-year+1": 18}, "without_year": 0, "none": 494}
    assert s["date_range"] == ["2017-05-24", "2025-11-27"]

    text = invoke("--home", str(seed_index.home), "stats")
    assert "papers: 540" in text.stdout.splitlines()
    assert ("dates: 28 written in the source, 18 with an inferred year, 494 with no date in the source"
            in text.stdout.splitlines())


# ----------------------------------------------------------------------------------------------
# usage mistakes are one line too (exit 2), and nothing from paper text drives the terminal
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "QUESTION is empty (see 'main ask --help')"),
        (["search", "warmup", "-k", "0"], "Invalid value for '-k': 0 is not in the range 1<=x<=1000."),
        (["search", "warmup", "-k", "abc"], "Invalid value for '-k': 'abc' is not a valid integer"),
        (["ask"], "Missing argument 'QUESTION'."),
        (["nonsense"], "No such command 'nonsense'."),
        (["--bogus"], "No such option '--bogus'."),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert_one_error_line(result.stderr, message)
    assert "Usage:" not in result.stderr and "Try " not in result.stderr


def test_usage_error_in_a_real_process_names_the_command():
    proc = run_paperchat("ask", "")
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, "QUESTION is empty (see 'paperchat ask --help')")


def test_echo_replaces_control_characters_but_keeps_our_own_styles():
    import click

    from cli.output import echo, styled

    @click.command()
    def show() -> None:
        echo("title \x1b]0;PWNED\x07\x1b[2J\x1b[31mred\x9b8m\rback\nnext\tcol")
        echo(styled("note: \x1b[8mhidden", fg="yellow"))

    out = CliRunner().invoke(show, color=True).output
    first, second, third = out.splitlines()
    assert "\x1b" not in first and "\x07" not in first and "\x9b" not in first and "\r" not in first
    assert first.startswith("title \ufffd]0;PWNED\ufffd") and second == "next\tcol"
    assert third == "\x1b[33mnote: \ufffd[8mhidden\x1b[0m"  # only the yellow we added


HOSTILE_TITLE = "Warmup \u001b]0;PWNED\u0007\u001b[2J\u001b[31mHijack\u001b[8m Study"


@pytest.mark.slow  # ingests through the CLI: loads the bundled embedder
def test_hostile_paper_text_never_reaches_the_terminal(tmp_path: Path, small_papers):
    """Paper text is cleaned at parse time; whatever the CLI prints is cleaned again."""
    records = [{"title": HOSTILE_TITLE, "abstract": "We study \u001b[2Jlearning rate warmup \u009b31m for "
                "transformers and find that a short warmup phase is enough for stable training at scale."}]
    records += [{"title": p.title, "abstract": p.abstract} for p in small_papers[:5]]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    assert invoke("ingest", str(path)).exit_code == 0
    for args in (["search", "warmup hijack"], ["search", "warmup hijack", "--json"],
                 ["ask", "What does the warmup hijack study find?", "--backend", "none"],
                 ["ask", "What does the warmup hijack study find?", "--backend", "none", "--json"]):
        proc = run_paperchat(*args)
        assert proc.returncode == 0, proc.stderr
        for stream in (proc.stdout, proc.stderr):
            assert not any(c in stream for c in "\x1b\x07\x9b\r"), (args, stream[:300])
        assert "Hijack" in proc.stdout
        if "--json" in args:
            data = json.loads(proc.stdout)
            text = json.dumps(data, ensure_ascii=False)
            assert not any(c in text for c in "\x1b\x07\x9b"), args


def test_ingest_of_a_missing_path_says_so_in_one_line(home: Path):
    result = invoke("ingest", "/nonexistent")
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "/nonexistent: no such file or directory")
    assert not home.exists()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ('{"title": "T", "abstract": "%s", "upvotes": 1e400}', "bad.jsonl:1: upvotes must be a whole number, got 1e400"),
        ('{"title": "T", "abstract": "%s", "upvotes": %s}', "bad.jsonl:1: invalid JSON"),
        ('{"title": "T", "abstract": "%s", "upvotes": 2.7}', "bad.jsonl:1: upvotes must be a whole number, got 2.7"),
    ],
)
def test_crafted_jsonl_is_one_error_line_in_a_real_process(tmp_path: Path, record: str, message: str):
    text = record % ((ABSTRACT, "9" * 5000) if record.count("%s") == 2 else ABSTRACT)
    (tmp_path / "bad.jsonl").write_text(text + "\n", "utf-8")
    proc = run_paperchat("ingest", str(tmp_path / "bad.jsonl"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert_one_error_line(proc.stderr, message)


FRACTAL_Q = ("Which paper pre-trains convolutional networks on automatically generated fractal patterns with "
             "formula-derived category labels instead of photographs?")


def test_ask_prints_the_clause_quote_its_json_carries(seed_index):
    """`paperchat ask` and `--json` show the span the engine chose, "…" where words were left out."""
    home = str(seed_index.home)
    data = json.loads(invoke("--home", home, "ask", FRACTAL_Q, "--backend", "none", "--json").output)
    cut = next(ln for ln in data["lines"] if ln["kind"] == "quote" and ln["cut_after"])
    assert cut["context"].startswith(cut["text"]) and f"\u201c{cut['text']}\u2026\u201d" in data["answer"]
    out = invoke("--home", home, "ask", FRACTAL_Q, "--backend", "none").output
    assert f"\u201c{cut['text']}\u2026\u201d" in out and cut["context"] not in out
