"""One process for the HTTP API and the web UI: the index, embedder and models load once and both
faces share them (and the backends visitors pick). The UI is mounted at ``/``, the API under
``/v1`` and ``/healthz``."""

from __future__ import annotations

import threading
from typing import Any

from rag.exposure import check_exposure, is_loopback
from rag.settings import Settings

__all__ = ["build_server", "check_exposure", "is_loopback", "serve"]

UI_CONCURRENCY = 8  # answers the UI streams at once; the model's own slot limit queues the rest


def build_server(settings: Settings, app: Any = None):
    """The ASGI app: API routes plus the Gradio UI at ``/``, over one Paperchat."""
    import gradio as gr

    from api.app import build_api
    from rag.llm.choice import BackendPool
    from ui.access import gradio_auth, uploads_allowed
    from ui.app import asset, build_app, head_html

    if app is None:
        from rag.paperchat import Paperchat

        app = Paperchat(settings)
    pool = BackendPool(settings)
    server = build_api(app, settings, pool)
    demo = build_app(app, settings, pool, uploads=uploads_allowed(settings, None))
    demo.queue(default_concurrency_limit=UI_CONCURRENCY)
    auth, message = gradio_auth(settings)
    server = gr.mount_gradio_app(
        server, demo, path="/", auth=auth, auth_message=message, show_error=False, footer_links=[],
        max_file_size=int(settings.upload_max_mb * 1024 * 1024), css=asset("app.css"), head=head_html())
    server.state.demo = demo
    return server, demo


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, allow_no_auth: bool = False) -> None:
    """Serve until interrupted."""
    import logging

    import uvicorn

    check_exposure(settings, host, allow_no_auth)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server, demo = build_server(settings)
    threading.Thread(target=demo.services.warm_up, name="paperchat-warm-up", daemon=True).start()
    uvicorn.run(server, host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
