"""The UI's Export buttons: the latest answer as Markdown, BibTeX and (for a list answer) CSV files
that the browser downloads.

The files are rendered by :mod:`rag.answer.export` and :mod:`rag.answer.bibtex` (escaping is their
business) and written to a fresh folder under the system temp directory, named after the question
(``rag.answer.export.file_name``: ASCII letters, digits and dashes only). Gradio serves them from
there; folders older than :data:`KEEP_S` are removed at the next export, so a long-running server
does not fill the disk.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer import bibtex, export
from rag.errors import PaperchatError
from rag.types.answers import Answer

log = logging.getLogger("paperchat.ui")

KEEP_S = 3600.0  # an export folder outlives the page that asked for it by this long
LABELS = {"markdown": "Export Markdown", "bibtex": "Export BibTeX", "csv": "Export CSV"}
ORDER = ("markdown", "bibtex", "csv")


def export_root() -> Path:
    return Path(tempfile.gettempdir()) / "paperchat-exports"


def render_files(answer: Answer, papers: dict) -> dict[str, str]:
    """format -> file content for ``answer``: Markdown always; BibTeX when a cited paper is in the
    index; CSV for a list answer."""
    out = {"markdown": export.to_markdown(answer, papers)}
    cited = export.cited_papers(answer, papers)
    if cited:
        out["bibtex"] = bibtex.to_bibtex(cited)
    if export.is_list_answer(answer):
        out["csv"] = export.to_csv(answer, papers)
    return out


def _prune(root: Path, now: float) -> None:
    for old in root.glob("*"):
        try:
            if old.is_dir() and now - old.stat().st_mtime > KEEP_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # another process removed it first
            continue


def write_files(answer: Answer, papers: dict, root: Path | None = None) -> dict[str, Path]:
    """Write :func:`render_files` into a new folder under ``root``; format -> path."""
    root = root or export_root()
    root.mkdir(parents=True, exist_ok=True)
    _prune(root, time.time())
    folder = Path(tempfile.mkdtemp(prefix="answer-", dir=root))
    paths = {}
    for fmt, text in render_files(answer, papers).items():
        path = folder / export.file_name(answer.question, fmt)
        path.write_text(text, encoding="utf-8", newline="")
        paths[fmt] = path
    return paths


def hidden() -> tuple:
    """The export row hidden (no answer yet, a new chat, an answer on its way)."""
    return (gr.Row(visible=False), *(gr.DownloadButton(value=None, visible=False) for _ in ORDER))


def before_answer(question: str, history: Sequence[Answer]) -> tuple:
    """When a question is sent: hide the buttons (they would offer the previous answer) and
    remember how many answers there were, so :func:`after_answer` can tell whether one was added.
    An empty question changes nothing."""
    if not (question or "").strip():
        return (gr.skip(),) * (len(ORDER) + 2)
    return (*hidden(), len(history or []))


def after_answer(app: Any, history: Sequence[Answer], turns_before: int | None) -> tuple:
    """Offer the latest answer's files when this turn added an answer (not when it failed)."""
    history = list(history or [])
    if len(history) <= (turns_before or 0):
        return hidden()
    answer = history[-1]
    try:
        papers = app.papers_by_id(c.paper_id for c in answer.citations)
    except PaperchatError as e:  # the index went away: the Markdown still has the titles
        log.warning("export without paper details: %s", e)
        papers = {}
    try:
        paths = write_files(answer, papers)
    except OSError:
        log.exception("could not write the export files")
        return hidden()
    buttons = [gr.DownloadButton(value=str(paths[f]), visible=True) if f in paths
               else gr.DownloadButton(value=None, visible=False) for f in ORDER]
    return (gr.Row(visible=True), *buttons)
