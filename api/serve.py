"""One process for the HTTP API and the web UI: the index, embedder and models load once and both
faces share them (and the backends visitors pick). The UI is mounted at ``/``, the API under
``/v1`` and ``/healthz``."""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

from rag.errors import ConfigError
from rag.settings import Settings

UI_CONCURRENCY = 8  # answers the UI streams at once; the model's own slot limit queues the rest


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str, allow_no_auth: bool) -> None:
    """Refuse to serve beyond this machine with nobody's key required, unless told to."""
    if not is_loopback(host) and not settings.api_key_list and not allow_no_auth:
        raise ConfigError(
            f"refusing to listen on {host} without PAPERCHAT_API_KEYS: anyone who can reach it could use the "
            "server's models and keys; set PAPERCHAT_API_KEYS, listen on 127.0.0.1, or pass --allow-no-auth")


def build_server(settings: Settings, app: Any = None):
    """The ASGI app: API routes plus the Gradio UI at ``/``, over one Paperchat."""
    import gradio as gr

    from api.app import build_api
    from rag.backend_choice import BackendPool
    from ui.app import asset, build_app, head_html

    if app is None:
        from rag.paperchat import Paperchat

        app = Paperchat(settings)
    pool = BackendPool(settings)
    server = build_api(app, settings, pool)
    demo = build_app(app, settings, pool)
    demo.queue(default_concurrency_limit=UI_CONCURRENCY)
    keys = settings.api_key_list
    if keys:
        auth: Any = lambda _user, password: password in keys  # noqa: E731 - what Gradio takes
        message = "paperchat: log in with any user name and one of PAPERCHAT_API_KEYS as the password"
    elif settings.auth:
        auth, message = tuple(settings.auth.split(":", 1)), "paperchat: log in with PAPERCHAT_AUTH's user and password"
    else:
        auth, message = None, None
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
