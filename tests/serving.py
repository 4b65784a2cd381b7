"""Serving a Paperchat over HTTP for tests: uvicorn on 127.0.0.1 in a thread (the API and the UI in
one process), and clients for it. Shared by the API, export and hardening tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import openai
from helpers import free_port

from api.serve import build_server
from rag.paperchat import Paperchat

KEY = "test-key-0123456789abcdef"
WARMUP = {"fast-certified-robust-training-with-short-warmup",
          "stabilizing-transformer-training-by-preventing-ca067b6"}


@dataclass
class Served:
    url: str
    app: Paperchat

    def client(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=300)

    def http(self, key: str | None = KEY) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=300,
                            headers={"Authorization": f"Bearer {key}"} if key else {})


@contextmanager
def serving(app: Paperchat) -> Iterator[Served]:
    import uvicorn

    server_app, _ = build_server(app.settings, app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(server_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield Served(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
