"""Plain helpers for tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.types import Paper

REPO = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO / "data" / "seeds"
# tests/data: hand-written inputs shared by every tier (tests/unit, tests/integration, tests/browser)
TEST_DATA = Path(__file__).resolve().parent / "data"
SEED_FILES = sorted(SEEDS_DIR.glob("*.txt"))

# A real abstract-sized passage for hand-written fixtures (the parsers want >= 80 characters).
ABSTRACT = (
    "We study how learning rate warmup interacts with adaptive optimizers in transformer training, "
    "and show that a short warmup is enough when the second-moment estimate is initialised well."
)


def paper_record(p: Paper, **overrides) -> dict:
    """A JSONL/CSV record carrying everything the parsers accept for ``p``."""
    rec: dict = {"title": p.title, "abstract": p.abstract}
    for key in ("authors", "organization", "upvotes", "url"):
        if getattr(p, key) is not None:
            rec[key] = getattr(p, key)
    if p.date:
        rec["date"] = p.date
    rec.update(overrides)
    return rec


def write_jsonl(path: Path, records: Sequence[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def paperchat_cmd(*args: str) -> list[str]:
    """The installed ``paperchat`` console script (falls back to ``python -m cli``)."""
    script = Path(sys.executable).with_name("paperchat")
    if script.is_file():
        return [str(script), *args]
    found = shutil.which("paperchat")
    return [found, *args] if found else [sys.executable, "-m", "cli", *args]


def run_paperchat(*args: str, timeout: float = 180, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process with the current (test-isolated) environment."""
    return subprocess.run(paperchat_cmd(*args), capture_output=True, text=True, timeout=timeout, cwd=cwd)
