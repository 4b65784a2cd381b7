"""The Gradio web UI: a thin face over :class:`rag.engine.Paperchat`.

One ``Paperchat`` per process (index, embedder and default LLM load once and are shared by every
browser session); backends picked in the settings panel are built lazily, once per distinct
configuration, and shared too. Per-session state is only the chat: the previous answers (passed
back as history for follow-ups) and what the last answer cited.

Every handler turns errors into a message on the page: a :class:`PaperchatError` shows its own
text, anything else is logged with its traceback and shown as one line. All text from papers or
models goes through :mod:`ui.render`, which escapes it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from rag.backend_choice import offers, visitor_settings
from rag.errors import PaperchatError
from rag.retrieve import Filters
from rag.schema import Answer, Citation, Source
from rag.settings import Settings
from ui import render

log = logging.getLogger("paperchat.ui")

EXAMPLES = [
    "Which papers skip warmup?",
    "How does one prevent attention entropy collapse?",
    "What is Deep Gradient Compression?",
    "Which papers report results on ImageNet?",
]
UPLOAD_TYPES = [".txt", ".jsonl", ".csv"]
_STREAM_EVERY_S = 0.08  # re-render the streamed answer at most this often

CSS = """
.pc-header h1 { margin: 0; font-size: 1.6rem; }
.pc-header { gap: 2px !important; }
.pc-rewrite { font-size: 0.8em; color: var(--body-text-color-subdued); margin-bottom: 4px; }
.pc-stats { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.pc-stats.pc-bad { color: #991b1b; }
.pc-answer p { margin: 0.25em 0; }
.pc-answer ul.pc-list { margin: 0.25em 0 0.25em 1.1em; padding: 0; }
.pc-answer ul.pc-list li { margin: 0.3em 0; }
a.pc-cite { text-decoration: none; font-weight: 600; color: var(--color-accent); cursor: pointer;
  padding: 0 1px; border-radius: 3px; }
a.pc-cite:hover { background: var(--color-accent-soft); }
a.pc-cite.pc-cite-unverified { color: #b45309; }
.pc-note { background: #fff7ed; color: #7c2d12; border-left: 3px solid #f97316; padding: 4px 8px;
  margin: 4px 0; border-radius: 4px; font-size: 0.9em; }
.pc-error { background: #fef2f2; color: #7f1d1d; border-left: 3px solid #dc2626; padding: 4px 8px;
  margin: 4px 0; border-radius: 4px; }
.pc-typing { animation: pc-blink 1s steps(2, start) infinite; color: var(--color-accent); }
@keyframes pc-blink { to { visibility: hidden; } }
.pc-panel-title { font-weight: 600; margin: 2px 0 6px; }
.pc-sources { max-height: 560px; overflow-y: auto; padding-right: 4px; }
.pc-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin-bottom: 8px; background: var(--block-background-fill); scroll-margin-top: 8px; }
.pc-card.pc-flash { animation: pc-flash 1.6s ease-out; }
@keyframes pc-flash { from { box-shadow: 0 0 0 3px var(--color-accent); } to { box-shadow: 0 0 0 0 transparent; } }
.pc-card-head { display: flex; gap: 8px; align-items: baseline; }
.pc-num { background: var(--color-accent); color: white; border-radius: 10px; min-width: 1.5em;
  text-align: center; font-weight: 700; font-size: 0.85em; padding: 0 5px; }
.pc-title { font-weight: 600; flex: 1; }
.pc-badge { font-size: 0.75em; border-radius: 10px; padding: 1px 7px; white-space: nowrap; }
.pc-verified { background: #dcfce7; color: #166534; }
.pc-unverified { background: #fef3c7; color: #92400e; }
.pc-meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin: 3px 0; }
.pc-meta span { white-space: nowrap; }
.pc-quote { margin: 6px 0; padding-left: 8px; border-left: 3px solid var(--border-color-primary);
  font-size: 0.9em; }
.pc-reason { font-size: 0.78em; color: var(--body-text-color-subdued); }
.pc-abstract summary { cursor: pointer; font-size: 0.85em; color: var(--color-accent); }
.pc-abstract-text { font-size: 0.88em; line-height: 1.45; margin-top: 4px; }
mark.pc-evidence { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; }
.pc-empty { color: var(--body-text-color-subdued); font-size: 0.9em; padding: 6px 0; }
.pc-papers { max-height: 360px; overflow-y: auto; }
table.pc-table { width: 100%; border-collapse: collapse; font-size: 0.85em; }
#pc-papers table.pc-table, #pc-papers table.pc-table tr, #pc-papers table.pc-table thead,
#pc-papers table.pc-table tbody { border: none !important; }
#pc-papers table.pc-table th, #pc-papers table.pc-table td { padding: 3px 6px; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; text-align: left; vertical-align: top; }
#pc-papers table.pc-table th { font-weight: 600; background: var(--block-background-fill); position: sticky; top: 0; }
table.pc-table td.pc-date { white-space: nowrap; }
table.pc-table td.pc-score, table.pc-table td.pc-up, table.pc-table td.pc-rank { text-align: right;
  font-variant-numeric: tabular-nums; }
tr.pc-row-cited td { background: var(--color-accent-soft); }
.pc-upload-status .pc-ok { color: #166534; }
.pc-upload-status .pc-bad { color: #991b1b; font-weight: 600; }
.pc-upload-status .pc-skipped { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""

# Citation links: open the card's abstract and scroll to it. Capture phase, so Gradio's own link
# handling (new tab for links in chat messages) never sees the click.
HEAD = """
<script>
(() => {
  if (window.__pcCites) return;
  window.__pcCites = true;
  function show(n) {
    const card = document.getElementById('pc-src-' + n);
    if (!card) return;
    const d = card.querySelector('details');
    if (d) d.open = true;
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    card.classList.remove('pc-flash'); void card.offsetWidth; card.classList.add('pc-flash');
  }
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.pc-cite') : null;
    if (!a) return;
    e.preventDefault(); e.stopPropagation();
    show(a.dataset.cite || (a.getAttribute('href') || '').replace('#pc-src-', ''));
  }, true);
})();
</script>
"""

COPY_JS = """
(text) => {
  const t = text || '';
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(t); }
  else {
    const ta = document.createElement('textarea'); ta.value = t; document.body.appendChild(ta);
    ta.select(); document.execCommand('copy'); ta.remove();
  }
  return [];
}
"""


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

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._backends: dict[tuple[str, str, str, str], Any] = {}
        self._lock = threading.Lock()

    def default_backend_label(self) -> str:
        s = self.settings
        which = s.resolved_backend()
        if which == "local":
            return f"local {s.gguf_path.name if s.gguf_path else s.local_model}"
        if which == "openai":
            return f"OpenAI {s.openai_model}"
        if which == "openai-compatible":
            return f"{s.openai_model} at {s.openai_base_url}"
        return "the evidence only (no LLM)"

    def backend_for(self, choice: str, model: str = "", url: str = "", api_key: str = "") -> Any:
        """The backend for the settings panel's values; None means the app's own (default) one.

        What a visitor may choose, and which key goes where, is decided by
        :func:`rag.backend_choice.visitor_settings` (the operator's key never reaches a URL a visitor
        typed). Raises ConfigError for a choice this server does not offer or that cannot work."""
        derived = visitor_settings(self.settings, choice, model, url, api_key)
        if derived is None:
            return None
        base = self.settings
        if (derived.llm_backend == base.resolved_backend() and derived.openai_model == base.openai_model
                and derived.openai_base_url == base.openai_base_url
                and derived.openai_api_key == base.openai_api_key):
            return None  # the same backend the app already has
        secret = derived.openai_api_key.get_secret_value() if derived.openai_api_key is not None else ""
        key = (derived.llm_backend, derived.openai_model, derived.openai_base_url or "", secret)
        with self._lock:
            if key not in self._backends:
                from rag.llm import llm_from

                self._backends[key] = llm_from(derived)
            return self._backends[key]

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
            if llm is not None and getattr(llm, "kind", "") == "local":
                llm.load()
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


def _last(citations: list[Citation], sources: list[Source], text: str) -> dict:
    return {"citations": citations, "sources": sources, "text": text}


def respond(
    services: Services,
    question: str,
    chat: list[dict],
    history: list[Answer],
    backend_choice: str,
    model: str,
    url: str,
    api_key: str,
    k: float,
    date_from: str,
    date_to: str,
    min_upvotes: float | None,
    only_cited: bool,
) -> Iterator[tuple]:
    """Stream one answer into the chat. Yields (chat, history, last, sources, papers, answer_text,
    question box)."""
    question = (question or "").strip()
    chat = list(chat or [])
    history = list(history or [])
    if not question:
        yield chat, history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        return
    chat.append({"role": "user", "content": render.user_html(question)})
    chat.append({"role": "assistant", "content": render.answer_html("", streaming=True)})
    text, notes, sources, citations = "", [], [], []
    pending_sources = render.sources_panel([], [], pending=True)
    yield (list(chat), history, _last([], [], ""), pending_sources, render.papers_table([]), "", "")
    try:
        filters = _filters(date_from, date_to, min_upvotes)
        backend = services.backend_for(backend_choice, model, url, api_key)
        events = services.app.ask_stream(
            question, history=history or None, k=int(k) if k else None, filters=filters, backend=backend
        )
        answer: Answer | None = None
        last_yield = 0.0
        for ev in events:
            if ev.type == "sources":
                sources = list(ev.sources or [])
            elif ev.type == "token":
                text += ev.text
            elif ev.type == "item":
                text += ("\n" if text else "") + ev.text
                if ev.citation is not None:
                    citations.append(ev.citation)
            elif ev.type == "note":
                notes.append(ev.text)
            elif ev.type == "done":
                answer = ev.answer
                break
            now = time.monotonic()
            if ev.type == "token" and now - last_yield < _STREAM_EVERY_S:
                continue
            last_yield = now
            chat[-1] = {
                "role": "assistant",
                "content": render.answer_html(text, citations, notes=notes, streaming=True),
            }
            yield (
                list(chat),
                history,
                _last(citations, sources, text),
                render.sources_panel(citations, sources, text, pending=True),
                render.papers_table(sources, citations, only_cited=only_cited),
                text,
                gr.skip(),
            )
        if answer is None:
            raise PaperchatError("the answer engine stopped without an answer")
        # the verified answer replaces whatever was streamed
        chat[-1] = {
            "role": "assistant",
            "content": render.answer_html(
                answer.answer,
                answer.citations,
                notes=answer.notes,
                refused=answer.refused,
                standalone=answer.standalone_question,
            ),
        }
        history = [*history, answer]
        yield (
            list(chat),
            history,
            _last(answer.citations, answer.sources, answer.answer),
            render.sources_panel(
                answer.citations,
                answer.sources,
                answer.answer,
                empty="The answer cites no paper; the retrieved papers are listed below.",
            ),
            render.papers_table(answer.sources, answer.citations, only_cited=only_cited),
            answer.answer,
            gr.skip(),
        )
    except PaperchatError as e:
        msg = _one_line(e)
    except Exception as e:  # noqa: BLE001 - never a stack trace in the page
        msg = unexpected(e, "answering")
    else:
        return
    chat[-1] = {"role": "assistant", "content": render.answer_html(text, citations, notes=notes, error=msg)}
    yield (
        list(chat),
        history,
        _last(citations, sources, text),
        render.sources_panel(citations, sources, text),
        render.papers_table(sources, citations, only_cited=only_cited),
        text,
        gr.skip(),
    )


def toggle_cited(last: dict | None, only_cited: bool) -> str:
    last = last or {}
    return render.papers_table(last.get("sources") or [], last.get("citations") or [], only_cited=only_cited)


def new_chat() -> tuple:
    return ([], [], _last([], [], ""), render.sources_panel([], []), render.papers_table([]), "", "")


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
    if not files:
        return _upload_status(False, "Choose a .txt, .jsonl or .csv file first."), services.stats_html()
    paths = [
        Path(f if isinstance(f, str | Path) else getattr(f, "name", f))
        for f in (files if isinstance(files, list) else [files])
    ]
    limit_mb = services.settings.upload_max_mb
    for p in paths:
        if p.suffix.lower() not in UPLOAD_TYPES:
            return (
                _upload_status(False, f"{p.name}: unsupported file type; upload .txt, .jsonl or .csv."),
                services.stats_html(),
            )
        size = p.stat().st_size
        if size > limit_mb * 1024 * 1024:
            return (
                _upload_status(
                    False,
                    f"{p.name} is {size / 1048576:.3g} MB; the upload limit is {limit_mb:g} MB "
                    "(PAPERCHAT_UPLOAD_MAX_MB).",
                ),
                services.stats_html(),
            )

    def on_progress(done: int, total: int) -> None:
        if progress is not None and total:
            progress((done, total), desc="Embedding", unit="chunks")

    try:
        if progress is not None:
            progress(0, desc="Reading files")
        corpus, report = services.app.ingest(paths, progress=on_progress)
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
        [f"\u2026 and {len(warnings) - 5} more skipped records"] if len(warnings) > 5 else []
    )
    return _upload_status(True, text, details, paths), services.stats_html()


# ----------------------------------------------------------------------------------------------
# layout
# ----------------------------------------------------------------------------------------------


def build_app(app: Any, settings: Settings) -> gr.Blocks:
    """The whole UI over ``app`` (a :class:`rag.engine.Paperchat` or anything with its methods).

    Launch it with ``css=CSS, head=HEAD`` (as :func:`launch` does) for the styles and the citation
    links' scrolling."""
    services = Services(app, settings)
    with gr.Blocks(title="paperchat", fill_width=True, analytics_enabled=False) as demo:
        with gr.Column(elem_classes="pc-header"):
            gr.HTML(
                "<h1>paperchat</h1><div>Answers about ML paper abstracts, every claim cited "
                "and checked against the abstract.</div>",
                js_on_load=None,
            )
            stats = gr.HTML(render.stats_line({}), elem_id="pc-stats", js_on_load=None)
        history = gr.State([])
        last = gr.State(_last([], [], ""))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="pc-chat",
                    label="Chat",
                    height=560,
                    latex_delimiters=[],
                    sanitize_html=True,
                    render_markdown=True,
                    buttons=[],
                    feedback_options=None,
                    group_consecutive_messages=False,
                    placeholder="Ask about the indexed papers, e.g. \u201cWhich papers skip warmup?\u201d",
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="pc-question",
                        show_label=False,
                        scale=5,
                        lines=1,
                        max_lines=4,
                        placeholder="Ask a question about the papers\u2026",
                        autofocus=True,
                    )
                    ask = gr.Button("Ask", variant="primary", elem_id="pc-ask", scale=1, min_width=80)
                with gr.Row():
                    new = gr.Button("New chat", elem_id="pc-new", size="sm")
                    copy = gr.Button("Copy answer", elem_id="pc-copy", size="sm")
                answer_text = gr.Textbox(visible="hidden", elem_id="pc-answer-text")
                gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Examples")
            with gr.Column(scale=2, min_width=340):
                gr.HTML('<div class="pc-panel-title">Sources</div>', js_on_load=None)
                sources = gr.HTML(render.sources_panel([], []), elem_id="pc-sources", js_on_load=None)
                gr.HTML('<div class="pc-panel-title">Retrieved papers</div>', js_on_load=None)
                only_cited = gr.Checkbox(
                    label="Show only cited sources", value=False, elem_id="pc-only-cited"
                )
                papers = gr.HTML(render.papers_table([]), elem_id="pc-papers", js_on_load=None)
        with gr.Accordion("Settings", open=False, elem_id="pc-settings"):
            with gr.Row():
                backend = gr.Radio(
                    [(o.label, o.value) for o in offers(settings)],
                    value="default",
                    label="Answer backend",
                    elem_id="pc-backend",
                )
                # typed backends only where the operator allows them (PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND);
                # the handler refuses typed values otherwise, whatever a client sends
                custom = settings.ui_allow_custom_backend
                model = gr.Textbox(
                    value=settings.openai_model,
                    label="Model (OpenAI / OpenAI-compatible)",
                    elem_id="pc-model",
                    visible=custom,
                )
            with gr.Row(visible=custom):
                base_url = gr.Textbox(
                    value=settings.openai_base_url or "",
                    label="OpenAI-compatible base URL",
                    placeholder="http://127.0.0.1:8000/v1",
                    elem_id="pc-base-url",
                )
                api_key = gr.Textbox(
                    value="",
                    type="password",
                    elem_id="pc-api-key",
                    label="API key, sent only to the URL above (blank: no key; the server's own key "
                    "goes only to the server's own URL)",
                )
            with gr.Row():
                k = gr.Slider(
                    1, 20, value=settings.top_k, step=1, label="Number of sources (k)", elem_id="pc-k"
                )
                date_from = gr.Textbox(
                    label="From date (YYYY-MM-DD)", placeholder="2023-01-01", elem_id="pc-from"
                )
                date_to = gr.Textbox(label="To date (YYYY-MM-DD)", placeholder="2024-12-31", elem_id="pc-to")
                min_up = gr.Number(
                    label="Minimum upvotes", value=None, precision=0, minimum=0, elem_id="pc-min-upvotes"
                )
        with gr.Accordion("Add papers", open=False, elem_id="pc-upload-box"):
            gr.Markdown(
                f"Upload Daily Papers page dumps (.txt), JSONL or CSV (title and abstract required; "
                f"at most {settings.upload_max_mb:g} MB per file). A file that cannot be read adds nothing."
            )
            files = gr.File(
                file_types=UPLOAD_TYPES, file_count="multiple", label="Paper files", elem_id="pc-upload"
            )
            upload_status = gr.HTML("", elem_id="pc-upload-status", js_on_load=None)

        chat_outputs = [chatbot, history, last, sources, papers, answer_text, question]
        chat_inputs = [
            question,
            chatbot,
            history,
            backend,
            model,
            base_url,
            api_key,
            k,
            date_from,
            date_to,
            min_up,
            only_cited,
        ]

        def _respond(*args):
            yield from respond(services, *args)

        def _upload(fs, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
            return upload(services, fs, progress)

        hidden = {"api_visibility": "private"}
        ask.click(_respond, chat_inputs, chat_outputs, concurrency_id="chat", api_name="ask")
        question.submit(_respond, chat_inputs, chat_outputs, concurrency_id="chat", **hidden)
        only_cited.change(toggle_cited, [last, only_cited], [papers], queue=False, **hidden)
        new.click(new_chat, None, chat_outputs, queue=False, **hidden)
        chatbot.clear(new_chat, None, chat_outputs, queue=False, **hidden)
        copy.click(None, [answer_text], None, js=COPY_JS)
        files.upload(_upload, [files], [upload_status, stats], concurrency_limit=1, api_name="upload")
        demo.load(services.stats_html, None, [stats], queue=False, **hidden)
    demo.services = services  # for launch() and tests
    return demo


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    *,
    app: Any = None,
    block: bool = True,
    **kwargs: Any,
) -> Any:
    """Build the UI over one shared Paperchat and serve it. No public link unless ``share``.

    ``block=False`` returns the running Blocks (tests); ``app`` replaces the default Paperchat.
    """
    if app is None:
        from rag.engine import Paperchat

        app = Paperchat(settings)
    demo = build_app(app, settings)
    threading.Thread(target=demo.services.warm_up, name="paperchat-warm-up", daemon=True).start()
    auth = tuple(settings.auth.split(":", 1)) if settings.auth else None
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        auth_message="paperchat: log in with PAPERCHAT_AUTH's user and password" if auth else None,
        max_file_size=int(settings.upload_max_mb * 1024 * 1024),
        show_error=False,
        css=CSS,
        head=HEAD,
        footer_links=[],
        prevent_thread_lock=not block,
        **kwargs,
    )
    return demo
