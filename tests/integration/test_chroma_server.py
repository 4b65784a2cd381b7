"""CHROMA_HOST: the same ingest and search against a real `chroma run` server subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import free_port, run_paperchat

from cli.main import main
from rag.errors import PaperchatError, StoreError
from rag.paperchat import Paperchat
from rag.settings import load_settings


def _chroma_cli() -> str:
    script = Path(sys.executable).with_name("chroma")
    found = str(script) if script.is_file() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` CLI (from the chromadb package) is not installed in this environment")
    return found


@pytest.fixture
def chroma_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """A real Chroma server on a free local port with its data in tmp; CHROMA_HOST/PORT point at it."""
    port = free_port()
    log = (tmp_path / "chroma-server.log").open("wb")
    proc = subprocess.Popen(
        [_chroma_cli(), "run", "--path", str(tmp_path / "server-data"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"chroma server did not start (exit {proc.poll()}):\n"
                            + (tmp_path / "chroma-server.log").read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
        monkeypatch.setenv("CHROMA_PORT", str(port))
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_ingest_search_and_stats_through_a_chroma_server(chroma_server, embedder, small_corpus, small_papers,
                                                         home: Path):
    host, port = chroma_server
    settings = load_settings()
    assert (settings.chroma_host, settings.chroma_port) == (host, port)
    app = Paperchat(settings, embedder=embedder)
    assert app.stats() == {"papers": 0, "chunks": 0, "collection": None, "store": f"Chroma server {host}:{port}"}

    _, report = app.ingest([small_corpus])
    assert (report.papers_total, report.papers_new, report.generation) == (20, 20, 1)
    target = small_papers[5]
    for mode in ("hybrid", "bm25", "dense"):
        hits = app.search(target.title, k=3, mode=mode).hits
        assert hits[0].paper.paper_id == target.paper_id, mode

    stats = app.stats()
    assert stats["store"] == f"Chroma server {host}:{port}"
    assert (stats["papers"], stats["chunks"]) == (20, report.chunks_total)
    assert not (home / "chroma").exists()  # the embedded store was never opened

    # the data really is on the server: a plain chromadb client sees our collections
    import chromadb

    client = chromadb.HttpClient(host=host, port=port)
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    assert {"paperchat_meta", "paperchat_g1"} <= names
    assert client.get_collection("paperchat_g1").count() == report.chunks_total

    # idempotent over HTTP too, and the CLI (another client) reads the same index
    _, again = app.ingest([small_corpus])
    assert again.up_to_date
    result = CliRunner().invoke(main, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert (s["store"], s["papers"]) == (f"Chroma server {host}:{port}", 20)


def test_closed_port_is_a_store_error(monkeypatch: pytest.MonkeyPatch):
    port = free_port()  # nothing listens there once the probe socket is closed
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    app = Paperchat(load_settings())
    with pytest.raises(StoreError) as info:
        app.stats()
    assert isinstance(info.value, PaperchatError)
    assert f"Chroma server at 127.0.0.1:{port}" in str(info.value)


@pytest.mark.parametrize("args", [["stats"], ["search", "warmup"]])
def test_closed_port_is_one_cli_error_line(monkeypatch: pytest.MonkeyPatch, args: list[str]):
    port = free_port()
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot open Chroma server at 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_closed_port_in_a_real_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_corpus: Path):
    port = free_port()
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    proc = run_paperchat("ingest", str(small_corpus))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot open Chroma server at 127.0.0.1:{port}: ")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
