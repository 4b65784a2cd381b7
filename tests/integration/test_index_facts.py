"""`stats` from the facts file the last ingest wrote: the same answer as Chroma's, without Chroma,
and never a stale one (removed before an ingest, ignored for another database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import paper_record, write_jsonl

from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.storage import facts as index_facts

_STATS_MODULES = """
import json, sys
from rag.paperchat import Paperchat
from rag.settings import load_settings
stats = Paperchat(load_settings()).stats()
print(json.dumps({"stats": stats, "loaded": [m for m in ("chromadb", "numpy", "onnxruntime") if m in sys.modules]}))
"""


def test_importing_the_library_loads_no_model_numpy_or_chroma():
    code = "import sys, rag.paperchat, cli.main; print([m for m in ('chromadb', 'numpy', 'onnxruntime', 'bm25s') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_stats_from_the_facts_file_match_chroma_and_skip_it(app: Paperchat, small_corpus: Path):
    _, report = app.ingest([small_corpus])
    path = index_facts.facts_path(app.settings)
    assert path.is_file()
    from_chroma = app._stats_from_store()
    assert from_chroma["papers"] == 20 and from_chroma["chunks"] == report.chunks_total
    assert app.stats() == from_chroma

    proc = subprocess.run([sys.executable, "-c", _STATS_MODULES], capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    assert out["stats"] == from_chroma
    assert out["loaded"] == []  # neither Chroma nor a model nor numpy was imported


def test_an_ingest_removes_the_facts_before_it_writes(app: Paperchat, small_corpus: Path, small_papers, tmp_path):
    app.ingest([small_corpus])
    path = index_facts.facts_path(app.settings)
    seen: list[bool] = []
    more = write_jsonl(tmp_path / "more.jsonl", [
        {**paper_record(small_papers[0]), "title": "A Brand New Paper About Warmup-Free Training"}])
    app.ingest([more], progress=lambda done, total: seen.append(path.exists()))
    assert seen and not any(seen)  # gone while the index changed
    assert json.loads(path.read_text("utf-8"))["facts"]["papers"] == 21
    assert app.stats()["papers"] == 21


def test_facts_for_another_database_or_collection_are_ignored(app: Paperchat, small_corpus: Path):
    app.ingest([small_corpus])
    path = index_facts.facts_path(app.settings)
    data = json.loads(path.read_text("utf-8"))
    assert index_facts.load(path, app.settings) == data["facts"]

    forged = {**data, "database": [0, 0], "facts": {**data["facts"], "papers": 999}}
    path.write_text(json.dumps(forged), "utf-8")
    assert index_facts.load(path, app.settings) is None
    assert Paperchat(app.settings, embedder=app.embedder).stats()["papers"] == 20  # from Chroma

    other = load_settings(collection="othername")
    assert index_facts.facts_path(other) != path
    path.write_text(json.dumps(data), "utf-8")
    assert index_facts.load(path, other) is None
    path.write_text("{not json", "utf-8")
    assert index_facts.load(path, app.settings) is None


def test_an_injected_store_never_uses_the_facts(app: Paperchat, small_corpus: Path):
    app.ingest([small_corpus])
    path = index_facts.facts_path(app.settings)
    data = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**data, "facts": {**data["facts"], "papers": 999}}), "utf-8")
    assert Paperchat(app.settings, embedder=app.embedder).stats()["papers"] == 999  # the file is trusted
    assert Paperchat(app.settings, embedder=app.embedder, store=app.store).stats()["papers"] == 20
