"""Plain helpers for tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.ingest.corpus import parse_file
from rag.types.papers import Hit, Paper

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


def page_dump(tmp_path: Path, header: str | list[str] | None, dates: list[str | None],
          abstracts: dict[int, str] | None = None, name: str = "page.txt") -> list[Paper]:
    """A "blocks" Daily Papers dump with ``header`` as the page's own date line(s) and one paper
    per entry of ``dates`` (None: no metadata); returns the parsed papers, checking no warning."""
    head = [header] if isinstance(header, str) else (header or [])
    parts = ["new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers", *head]
    for i, d in enumerate(dates):
        parts += [f"Paper Number {i}", (abstracts or {}).get(i, f"{ABSTRACT} ({i})")]
        if d is not None:
            parts += [f"  • {i + 2} authors\n·\n{d}"]
    path = tmp_path / name
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    papers, _, warnings = parse_file(path)
    assert warnings == [] and len(papers) == len(dates)
    return papers


def entries(bib: str) -> list[tuple[str, str]]:
    """(type, key) of each BibTeX entry in ``bib``."""
    return re.findall(r"^@(\w+)\{([^,]+),", bib, re.M)


def balanced(text: str) -> bool:
    """Whether every brace in ``text`` closes, and none closes before it opens."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def hit(paper: Paper, rank: int = 1, dense: float = 0.5) -> Hit:
    """A search hit for ``paper`` at ``rank``, scored as the list judge's tests need."""
    return Hit(paper=paper, score=1.0 / rank, rank=rank, best_chunk=paper.abstract[:200], bm25_score=1.0 / rank,
               dense_score=dense)
