"""No work at import time: what each command imports, checked in fresh processes.

Nothing here is timed (the times are bench/bench_cli.py's); a test fails when a command starts
importing a heavy package it does not use, which is how start-up time regresses: a top-level
import added for one command is paid by every command that imports the module.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.paperchat import Paperchat

ROOT = Path(__file__).resolve().parents[2]
# seconds to import on 2 cores, and none of them needed by the modules below
MODELS = {"torch", "xllamacpp", "llama_cpp", "transformers", "gradio"}
ARRAYS = {"numpy", "onnxruntime", "chromadb"}


def _imported(*args: str) -> set[str]:
    """Top-level packages a fresh ``python -X importtime ARGS`` imports (this checkout's code)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {line.split("|")[2].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    return {name.split(".")[0] for name in names} - {"import time:"}


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("cli.main", MODELS | ARRAYS | {"pydantic"}),  # `paperchat --help` and every command's start
        ("rag.paperchat", MODELS | ARRAYS),
        ("rag.engine", MODELS | ARRAYS),
        ("ui.handlers", MODELS | ARRAYS),
    ],
)
def test_importing_a_module_imports_nothing_heavy(module: str, absent: set[str]):
    got = _imported("-c", f"import {module}")
    assert module.split(".")[0] in got
    assert not got & absent, f"import {module} imports {sorted(got & absent)}"


def test_stats_and_search_import_only_what_they_use(app: Paperchat, small_corpus: Path):
    app.ingest([small_corpus])  # writes the facts file `stats` reads instead of opening Chroma

    stats = _imported("-m", "cli", "stats")
    assert not stats & (MODELS | ARRAYS), sorted(stats & (MODELS | ARRAYS))

    search = _imported("-m", "cli", "search", "warmup", "-k", "3")
    # the dense half: Chroma's Rust core (its Python layer costs a second; rag/storage/chroma_core.py)
    # and the query embedder
    assert {"chromadb_rust_bindings", "onnxruntime", "numpy"} <= search
    assert "chromadb" not in search
    assert not search & MODELS, sorted(search & MODELS)

