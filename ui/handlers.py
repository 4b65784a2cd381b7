"""The web UI's handlers: plain functions of the shared services, testable without a browser.

One ``Paperchat`` per process (index, embedder and default LLM load once and are shared by every
browser session); backends picked in the settings panel are built lazily, once per distinct
configuration, and shared too. Per-session state is only the chat: the previous answers (passed
back as history for follow-ups; their citations keep their numbers for the whole conversation)
and what the last answer retrieved.

Every handler turns errors into a message on the page: a :class:`PaperchatError` shows its own
text, anything else is logged with its traceback and shown as one line. Answers are folded from
the engine's events by :class:`rag.answer.stream.Fold` and rendered from their structure by
:mod:`ui.render`, which escapes everything.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer.stream import Fold
from rag.errors import PaperchatError
from rag.ingest.corpus import SUPPORTED_SUFFIXES
from rag.ingest.uploads import check_upload
from rag.llm.choice import BackendPool, default_label
from rag.settings import Settings
from rag.types.answers import Answer, Citation, Line, Source, conversation_citations
from rag.types.papers import Filters
from ui import render

log = logging.getLogger("paperchat.ui")

UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)
_STREAM_EVERY_S = 0.08  # re-render the streamed answer at most this often


def _skip() -> Any:
    """Gradio's "leave this output as it is". Imported here, not at the top: gradio takes seconds
    to import, and importing the handlers (tests, tools) should not cost that; a running UI has
    imported it already."""
    import gradio as gr

    return gr.skip()


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def unexpected(e: BaseException, what: str) -> str:
    """Log ``e`` with its traceback; return the one line the page shows."""
    log.exception("unexpected error while %s", what)
    return f"Something went wrong while {what} ({type(e).__name__}); the details are in the server log."


# ----------------------------------------------------------------------------------------------
# process-wide services
# ----------------------------------------------------------------------------------------------


class Services:
    """What every session shares: the Paperchat facade and the backends built from the settings
    panel, one per distinct configuration."""

    def __init__(self, app: Any, settings: Settings, pool: BackendPool | None = None, *,
                 uploads: bool = True) -> None:
        self.app = app
        self.settings = settings
        self.pool = pool or BackendPool(settings)
        self.uploads = uploads  # whether visitors may add papers (ui.access.uploads_allowed)

    def default_backend_label(self) -> str:
        return default_label(self.settings)

    def backend_for(self, choice: str, model: str = "", url: str = "", api_key: str = "") -> Any:
        """The backend for the settings panel's values; None means the app's own (default) one.
        ConfigError for a choice this server does not offer or that cannot work."""
        return self.pool.get(choice, model, url, api_key)

    def stats_html(self) -> str:
        try:
            stats = self.app.stats()
        except PaperchatError as e:
            return f'<div class="pc-stats pc-bad" data-papers="0">{render.esc(_one_line(e))}</div>'
        except Exception as e:  # noqa: BLE001 - shown as one line, logged in full
            return f'<div class="pc-stats pc-bad" data-papers="0">{render.esc(unexpected(e, "reading the index"))}</div>'
        return render.stats_line(stats, self.default_backend_label())

    def warm_up(self) -> None:
        """Open the index and load the default model now, so the first question is fast."""
        try:
            self.app.retriever()
            llm = self.app.llm
            if llm is not None:
                llm.load()  # loads a local model now; a no-op for remote backends
            log.info("index and model ready")
        except PaperchatError as e:
            log.warning("warm-up: %s", e)
        except Exception:  # noqa: BLE001 - the first question will report it properly
            log.exception("warm-up failed")


# ----------------------------------------------------------------------------------------------
# handlers (plain functions of the services, testable without a browser)
# ----------------------------------------------------------------------------------------------


def _filters(date_from: str | None, date_to: str | None, min_upvotes: float | None) -> Filters | None:
    # 0 means "no minimum": as a filter it would only drop the papers whose upvotes are unknown
    f = Filters(
        date_from=(date_from or "").strip() or None,
        date_to=(date_to or "").strip() or None,
        min_upvotes=int(min_upvotes) if min_upvotes else None,
    )
    return f if f.active else None


@dataclass(frozen=True)
class Panel:
    """The settings panel's values for one question, in the order the layout passes them."""

    backend: str = "default"
    model: str = ""
    url: str = ""
    api_key: str = ""
    k: float = 5
    date_from: str = ""
    date_to: str = ""
    min_upvotes: float | None = None
    only_cited: bool = False


def _last(sources: Sequence[Source] = (), citations: Sequence[Citation] = ()) -> dict:
    """What the latest turn retrieved and cited (for the papers table's "only cited" toggle)."""
    return {"sources": list(sources), "citations": list(citations)}


def _conversation(history: Sequence[Answer], extra_lines: Sequence[Line] = (),
                  extra_citations: Sequence[Citation] = (), extra_sources: Sequence[Source] = ()):
    """Every citation, source and line of the conversation so far (plus a turn still forming)."""
    citations = {c.n: c for c in conversation_citations(history)}
    for c in extra_citations:
        citations[c.n] = c
    sources: dict[str, Source] = {}
    lines: list[Line] = []
    for a in history:
        sources.update({s.paper_id: s for s in a.sources})
        lines += a.lines
    sources.update({s.paper_id: s for s in extra_sources})
    return [citations[n] for n in sorted(citations)], list(sources.values()), lines + list(extra_lines)


def _panel(history: Sequence[Answer], fold: Fold | None = None, *, pending: bool = False) -> str:
    extra = (fold.lines, fold.citations, fold.sources) if fold is not None else ((), (), ())
    citations, sources, lines = _conversation(history, *extra)
    empty = "The answer cites no paper; the retrieved papers are listed below." if history else \
        "Ask a question: the papers an answer cites appear here."
    return render.sources_panel(citations, sources, lines, pending=pending, empty=empty)


def _about(answer: Answer) -> list[str]:
    titles = {s.paper_id: s.title for s in answer.sources}
    return [titles[p] for p in answer.pinned if p in titles]


def final_html(answer: Answer) -> str:
    return render.answer_html(answer.lines, answer.citations, notes=answer.notes, refused=answer.refused,
                              standalone=answer.standalone_question, about=_about(answer),
                              excluded=answer.excluded)


def _forming(chat: list[dict], history: list[Answer], fold: Fold, panel: Panel, *, streaming: bool = False,
             error: str | None = None) -> tuple:
    """The outputs for an answer not (or never) finished: what streamed so far, with the typing
    cursor while ``streaming``, or with ``error`` when it stopped."""
    chat[-1] = {"role": "assistant", "content": render.answer_html(
        fold.lines, fold.citations, draft=fold.draft, notes=fold.notes, streaming=streaming, error=error)}
    return (
        list(chat),
        history,
        _last(fold.sources, fold.citations),
        _panel(history, fold, pending=streaming),
        render.papers_table(fold.sources, fold.citations, only_cited=panel.only_cited),
        _skip(),
        _skip(),
    )


def respond(services: Services, question: str, chat: list[dict], history: list[Answer],
            panel: Panel) -> Iterator[tuple]:
    """Stream one answer into the chat. Yields (chat, history, last, sources, papers, answer_text,
    question box)."""
    question = (question or "").strip()
    chat = list(chat or [])
    history = list(history or [])
    if not question:
        yield chat, history, _skip(), _skip(), _skip(), _skip(), ""
        return
    chat.append({"role": "user", "content": render.user_html(question)})
    chat.append({"role": "assistant", "content": render.answer_html([], streaming=True)})
    fold = Fold()
    yield (list(chat), history, _last(), _panel(history, pending=True), render.papers_table([]), "", "")
    try:
        filters = _filters(panel.date_from, panel.date_to, panel.min_upvotes)
        backend = services.backend_for(panel.backend, panel.model, panel.url, panel.api_key)
        events = services.app.ask_stream(
            question, history=history or None, k=int(panel.k) if panel.k else None, filters=filters,
            backend=backend,
        )
        last_yield = 0.0
        for ev in events:
            fold.add(ev)
            if fold.done:
                break
            now = time.monotonic()
            if ev.type == "token" and now - last_yield < _STREAM_EVERY_S:
                continue
            last_yield = now
            yield _forming(chat, history, fold, panel, streaming=True)
        answer = fold.answer
        if answer is None:
            raise PaperchatError("the answer engine stopped without an answer")
        # the verified answer replaces whatever was streamed
        chat[-1] = {"role": "assistant", "content": final_html(answer)}
        history = [*history, answer]
        yield (
            list(chat),
            history,
            _last(answer.sources, answer.citations),
            _panel(history),
            render.papers_table(answer.sources, answer.citations, only_cited=panel.only_cited,
                                empty="No paper was retrieved for this question (the answer says why)."),
            answer.text,
            _skip(),
        )
    except PaperchatError as e:
        msg = _one_line(e)
    except Exception as e:  # noqa: BLE001 - never a stack trace in the page
        msg = unexpected(e, "answering")
    else:
        return
    yield _forming(chat, history, fold, panel, error=msg)


def toggle_cited(last: dict | None, only_cited: bool) -> str:
    last = last or {}
    return render.papers_table(last.get("sources") or [], last.get("citations") or [], only_cited=only_cited)


def new_chat() -> tuple:
    return ([], [], _last(), render.sources_panel([], []), render.papers_table([]), "", "")


UPLOADS_OFF = ("Adding papers here needs a login: the operator sets PAPERCHAT_API_KEYS (or PAPERCHAT_AUTH), "
               "or adds them with `paperchat ingest`.")


def _upload_status(ok: bool, text: str, details: Sequence[str] = (), paths: Sequence[Path] = ()) -> str:
    """The upload's outcome. Gradio's temp folders are cut from messages: the user knows the file
    by its own name."""
    for p in paths:
        text = text.replace(str(p.parent) + os.sep, "")
        details = [d.replace(str(p.parent) + os.sep, "") for d in details]
    cls = "pc-ok" if ok else "pc-bad"
    icon = "&#10003;" if ok else "&#10007;"
    extra = "".join(f"<li>{render.esc(d)}</li>" for d in details)
    return (
        f'<div class="pc-upload-status"><div class="{cls}">{icon} {render.esc(text)}</div>'
        + (f'<ul class="pc-skipped">{extra}</ul>' if extra else "")
        + "</div>"
    )


def upload(services: Services, files: Any, progress: Any = None) -> tuple[str, str]:
    """Ingest uploaded files; returns (status html, stats html). A bad file changes nothing."""
    if not services.uploads:
        return _upload_status(False, UPLOADS_OFF), services.stats_html()
    if not files:
        return _upload_status(False, "Choose a .txt, .jsonl or .csv file first."), services.stats_html()
    paths = [
        Path(f if isinstance(f, str | Path) else getattr(f, "name", f))
        for f in (files if isinstance(files, list) else [files])
    ]
    for p in paths:
        try:
            check_upload(p.name, p.stat().st_size, services.settings)
        except PaperchatError as e:
            return _upload_status(False, _one_line(e), paths=paths), services.stats_html()

    def on_progress(done: int, total: int) -> None:
        if progress is not None and total:
            progress((done, total), desc="Embedding", unit="chunks")

    try:
        if progress is not None:
            progress(0, desc="Reading files")
        corpus, report = services.app.ingest(paths, progress=on_progress,
                                             max_papers=services.settings.upload_max_papers)
    except PaperchatError as e:
        return _upload_status(False, f"Nothing was added: {_one_line(e)}", paths=paths), services.stats_html()
    except Exception as e:  # noqa: BLE001
        return _upload_status(
            False, "Nothing was added. " + unexpected(e, "adding papers")
        ), services.stats_html()
    warnings = list(corpus.warnings)
    text = (
        f"Added {report.papers_new} new paper{'s' if report.papers_new != 1 else ''} "
        f"({report.papers_changed} changed, {report.papers_unchanged} unchanged) from "
        f"{', '.join(p.name for p in paths)}; the index holds {report.papers_total} papers."
    )
    details = warnings[:5] + (
        [f"\u2026 and {len(warnings) - 5} more warnings"] if len(warnings) > 5 else []
    )
    return _upload_status(True, text, details, paths), services.stats_html()


