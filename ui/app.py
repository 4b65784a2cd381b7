"""The Gradio web UI's layout: components, their wiring to :mod:`ui.handlers`, and launching.

Styles and scripts are files in ``ui/assets`` (read when the app launches, not at import).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import gradio as gr

from rag.llm.choice import BackendPool, offers
from rag.settings import Settings
from ui import exports, render
from ui.handlers import UPLOAD_TYPES, UPLOADS_OFF, Panel, Services, new_chat, respond, toggle_cited, upload

ASSETS = Path(__file__).resolve().parent / "assets"
EXAMPLES = [
    "Which papers skip warmup?",
    "How does one prevent attention entropy collapse?",
    "What is Deep Gradient Compression?",
    "Which papers report results on ImageNet?",
]


def asset(name: str) -> str:
    return (ASSETS / name).read_text("utf-8")


def head_html() -> str:
    """What goes in the page's <head>: the citation-link script."""
    return f"<script>\n{asset('cites.js')}</script>\n"


def build_app(app: Any, settings: Settings, pool: BackendPool | None = None, *,
              uploads: bool = True) -> gr.Blocks:
    """The whole UI over ``app`` (a :class:`rag.paperchat.Paperchat` or anything with its methods).

    ``uploads``: whether visitors may add papers (see :func:`ui.access.uploads_allowed`); when
    not, the upload box says why and the upload handler refuses, whoever calls it.
    Launch it with ``css=asset("app.css"), head=head_html()`` (as :func:`launch` does) for the
    styles and the citation links' scrolling."""
    services = Services(app, settings, pool, uploads=uploads)
    with gr.Blocks(title="paperchat", fill_width=True, analytics_enabled=False) as demo:
        with gr.Column(elem_classes="pc-header"):
            gr.HTML(
                "<h1>paperchat</h1><div>Answers about ML paper abstracts, every claim cited "
                "and checked against the abstract.</div>",
                js_on_load=None,
            )
            stats = gr.HTML(render.stats_line({}), elem_id="pc-stats", js_on_load=None)
        history = gr.State([])
        last = gr.State({"sources": [], "citations": []})
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
                # the latest answer as files (ui.exports); shown once there is one
                with gr.Row(visible=False, elem_id="pc-export") as export_row:
                    export_buttons = [
                        gr.DownloadButton(exports.LABELS[f], elem_id=f"pc-export-{f}", size="sm", visible=False)
                        for f in exports.ORDER
                    ]
                turns_before = gr.State(0)
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
                if uploads else UPLOADS_OFF
            )
            files = gr.File(  # hidden when uploads are off; the handler refuses whoever calls it anyway
                file_types=UPLOAD_TYPES, file_count="multiple", label="Paper files", elem_id="pc-upload",
                visible=uploads,
            )
            upload_status = gr.HTML("", elem_id="pc-upload-status", js_on_load=None)

        chat_outputs = [chatbot, history, last, sources, papers, answer_text, question]
        # the order of Panel's fields
        panel_inputs = [backend, model, base_url, api_key, k, date_from, date_to, min_up, only_cited]
        chat_inputs = [question, chatbot, history, *panel_inputs]

        def _respond(question_text, chat, past, *panel):
            yield from respond(services, question_text, chat, past, Panel(*panel))

        def _upload(fs, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
            return upload(services, fs, progress)

        def _after_answer(past, before):
            return exports.after_answer(services.app, past, before)

        hidden = {"api_visibility": "private"}
        export_outputs = [export_row, *export_buttons]
        for trigger in (ask.click, question.submit):
            trigger(exports.before_answer, [question, history], [*export_outputs, turns_before], queue=False,
                    **hidden)
        ask.click(_respond, chat_inputs, chat_outputs, concurrency_id="chat", api_name="ask").then(
            _after_answer, [history, turns_before], export_outputs, **hidden)
        question.submit(_respond, chat_inputs, chat_outputs, concurrency_id="chat", **hidden).then(
            _after_answer, [history, turns_before], export_outputs, **hidden)
        only_cited.change(toggle_cited, [last, only_cited], [papers], queue=False, **hidden)
        new.click(new_chat, None, chat_outputs, queue=False, **hidden)
        chatbot.clear(new_chat, None, chat_outputs, queue=False, **hidden)
        for trigger in (new.click, chatbot.clear):
            trigger(exports.hidden, None, export_outputs, queue=False, **hidden)
        copy.click(None, [answer_text], None, js=asset("copy.js"))
        # the ingest's progress bar belongs in the upload box: shown on every output it would
        # also cover the header's stats line, the one thing that says what the index holds
        files.upload(_upload, [files], [upload_status, stats], concurrency_limit=1, api_name="upload",
                     show_progress_on=[upload_status])
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
    allow_no_auth: bool = False,
    **kwargs: Any,
) -> Any:
    """Build the UI over one shared Paperchat and serve it. No public link unless ``share``.

    The same rules as ``paperchat serve``: PAPERCHAT_API_KEYS (or PAPERCHAT_AUTH) asks for a
    login; a non-loopback host (or a share link) without either is refused unless
    ``allow_no_auth``. ``block=False`` returns the running Blocks (tests); ``app`` replaces the
    default Paperchat.
    """
    from rag.exposure import check_exposure
    from ui.access import gradio_auth, uploads_allowed

    check_exposure(settings, "0.0.0.0" if share else host, allow_no_auth, ui_only=True)
    if app is None:
        from rag.paperchat import Paperchat

        app = Paperchat(settings)
    demo = build_app(app, settings, uploads=uploads_allowed(settings, host, share=share))
    threading.Thread(target=demo.services.warm_up, name="paperchat-warm-up", daemon=True).start()
    auth, message = gradio_auth(settings)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        auth_message=message,
        max_file_size=int(settings.upload_max_mb * 1024 * 1024),
        show_error=False,
        css=asset("app.css"),
        head=head_html(),
        footer_links=[],
        prevent_thread_lock=not block,
        **kwargs,
    )
    return demo
