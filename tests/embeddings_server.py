"""A real HTTP server on 127.0.0.1 speaking OpenAI's ``POST /v1/embeddings`` wire format, for tests.

Vectors are deterministic and mean something: each stemmed word of the input is hashed into one of
``dim`` buckets (signed), so texts sharing words are near each other and dense search over them
finds the right paper. Replies carry ``object``, ``data[{object, index, embedding}]``, ``model`` and
``usage`` as OpenAI sends them, in shuffled order (clients must sort by ``index``), as floats or
base64 float32 (``encoding_format``), cut to ``dimensions`` when asked.

    with EmbeddingsServer(models={"text-embedding-3-small": 64}) as srv:
        srv.fail_next(429, 503)            # the next two requests fail (with Retry-After: 0)
        ...  # point PAPERCHAT_EMBED_BASE_URL at srv.url
        assert srv.requests[-1].json["model"] == "text-embedding-3-small"

Also: ``api_key`` (a wrong or missing bearer token gets 401 invalid_api_key), ``delay_s`` (every
reply waits; ``max_in_flight`` records the most requests it ever held at once), ``fail_after``
(every request after the first N gets 500: a server that dies mid-ingest), unknown models get 404
``model_not_found``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


def text_vector(text: str, dim: int) -> np.ndarray:
    """Signed hashed bag of words (crude stemming: plural s dropped), L2-normalised."""
    v = np.zeros(dim, dtype=np.float32)
    for w in _WORD.findall(text.lower()):
        w = w[:-1] if len(w) > 3 and w.endswith("s") else w
        h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
        v[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    n = float(np.linalg.norm(v))
    if n == 0:
        v[0] = 1.0
        return v
    return v / n


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    json: Any

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class EmbeddingsServer:
    def __init__(self, models: dict[str, int] | None = None, *, api_key: str | None = None) -> None:
        self.models = dict(models or {"text-embedding-3-small": 64})
        self.api_key = api_key
        self.delay_s = 0.0
        self.fail_after: int | None = None
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._failures.extend(statuses)

    @property
    def texts_embedded(self) -> int:
        """Texts in the requests that were answered 200."""
        return sum(len(r.json["input"]) for r in self.requests if r.json.get("_ok"))

    def __enter__(self) -> EmbeddingsServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _error(self, status: int, message: str, type_: str, code: str | None,
                       headers: dict[str, str] | None = None) -> None:
                self._send(status, {"error": {"message": message, "type": type_, "param": None, "code": code}},
                           headers)

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {}
                req = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._lock:
                    outer.requests.append(req)
                    n_seen = len(outer.requests)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    forced = outer._failures.pop(0) if outer._failures else None
                try:
                    if outer.delay_s:
                        time.sleep(outer.delay_s)
                    self._answer(req, body, n_seen, forced)
                finally:
                    with outer._lock:
                        outer.in_flight -= 1

            def _answer(self, req: Request, body: dict, n_seen: int, forced: int | None) -> None:
                if self.path.rstrip("/") != "/v1/embeddings":
                    self._error(404, f"Invalid URL (POST {self.path})", "invalid_request_error", None)
                    return
                if outer.api_key is not None and req.authorization != f"Bearer {outer.api_key}":
                    self._error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
                    return
                if forced is not None:
                    msg = "Rate limit reached for requests" if forced == 429 else "The server had an error"
                    self._error(forced, msg, "requests" if forced == 429 else "server_error", None,
                                {"retry-after": "0"})
                    return
                if outer.fail_after is not None and n_seen > outer.fail_after:
                    self._error(500, "The server had an error", "server_error", None)
                    return
                model = body.get("model")
                if model not in outer.models:
                    self._error(404, f"The model `{model}` does not exist or you do not have access to it.",
                                "invalid_request_error", "model_not_found")
                    return
                texts = body.get("input")
                if isinstance(texts, str):
                    texts = [texts]
                if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
                    self._error(400, "'input' must be a non-empty string or array of non-empty strings",
                                "invalid_request_error", None)
                    return
                dim = outer.models[model]
                vecs = [text_vector(t, dim) for t in texts]
                if body.get("dimensions"):
                    vecs = [v[: int(body["dimensions"])] for v in vecs]
                b64 = body.get("encoding_format") == "base64"
                data = [{"object": "embedding", "index": i,
                         "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if b64 else v.tolist()}
                        for i, v in enumerate(vecs)]
                random.Random(n_seen).shuffle(data)
                tokens = sum(len(t.split()) for t in texts)
                body["_ok"] = True
                self._send(200, {"object": "list", "data": data, "model": model,
                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
