"""Exports through the real CLI and HTTP API over the seed index (the formats themselves:
unit/test_export.py)."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner
from helpers import balanced, entries
from serving import KEY, WARMUP, serving

from cli.main import main
from rag.paperchat import Paperchat
from rag.settings import load_settings


def _ask(seed_index, *args: str):
    return CliRunner().invoke(main, ["--home", str(seed_index.home), "ask", "Which papers skip warmup?",
                                     "--backend", "none", *args])


def test_cli_ask_format_bibtex_prints_one_entry_per_cited_paper(seed_index):
    result = _ask(seed_index, "--format", "bibtex")
    assert result.exit_code == 0, result.output
    keys = [k for _, k in entries(result.stdout)]
    assert sorted(keys) == sorted(WARMUP), result.stdout  # seed pages name no authors: keyed by paper id
    assert result.stdout.count("\n@") == 1 and balanced(result.stdout)
    assert result.stdout == _ask(seed_index, "--format", "bibtex").stdout  # stable


def test_cli_ask_format_markdown_and_json(seed_index):
    md = _ask(seed_index, "--format", "markdown")
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("# Which papers skip warmup?") and "## References" in md.stdout
    assert "- [1] **" in md.stdout and "- [2] **" in md.stdout
    assert "Fast Certified Robust Training with Short Warmup" in md.stdout and "5 authors" in md.stdout
    as_format = json.loads(_ask(seed_index, "--format", "json").stdout)
    as_flag = json.loads(_ask(seed_index, "--json").stdout)
    assert {c["paper_id"] for c in as_format["citations"]} == WARMUP
    assert as_format["lines"] == as_flag["lines"]
    clash = _ask(seed_index, "--json", "--format", "bibtex")
    assert clash.exit_code == 2 and "--json and --format bibtex disagree" in clash.stderr


def test_api_paper_as_bibtex(seed_index):
    settings = load_settings(home=seed_index.home, llm_backend="none", api_keys=KEY)
    app = Paperchat(settings, embedder=seed_index.app.embedder, store=seed_index.app.store)
    pid = "fast-certified-robust-training-with-short-warmup"
    with serving(app) as s, s.http() as http:
        r = http.get(f"/v1/papers/{pid}", params={"format": "bibtex"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/x-bibtex")
        assert [k for _, k in entries(r.text)] == [pid]
        assert "title = {{Fast Certified Robust Training with Short Warmup}}" in r.text
        assert http.get(f"/v1/papers/{pid}").json()["paper_id"] == pid  # JSON stays the default
        bad = http.get(f"/v1/papers/{pid}", params={"format": "ris"})
        assert bad.status_code == 400
        assert bad.json()["error"]["message"] == "format must be one of json, bibtex, got 'ris'"
        assert http.get("/v1/papers/no-such-paper", params={"format": "bibtex"}).status_code == 404
        with httpx.Client(base_url=s.url) as anonymous:
            assert anonymous.get(f"/v1/papers/{pid}", params={"format": "bibtex"}).status_code == 401
