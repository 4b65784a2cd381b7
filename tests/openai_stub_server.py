"""A tiny real HTTP server speaking the OpenAI chat-completions wire format, for tests.

It runs in a thread on 127.0.0.1 (a free port), so the code under test goes through the real
``openai`` SDK, httpx and sockets: JSON replies, SSE streaming (``data: {...}`` chunks, then
``data: [DONE]``), ``/v1/models``, and the error bodies OpenAI really sends. It records every
request (path, headers, JSON body) and answers from a queue of programmed replies.

    with OpenAIStubServer(models=["stub-model"]) as stub:
        stub.reply("hello [1]")
        ...  # point OPENAI_BASE_URL at stub.url
        assert stub.requests[-1].json["model"] == "stub-model"

Failure modes: ``stub.fail = "auth"`` (401 invalid_api_key), ``"server_error"`` (500),
``"garbage"`` (200 with a body that is not JSON), ``"html"`` (200 with a web page, as from a URL
that is not the API); an unknown model gets 404 model_not_found as
from OpenAI; ``stub.delay_s`` delays every reply (for timeouts); ``stub.api_key`` makes a wrong or
missing ``Authorization: Bearer`` header a 401.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FailMode = Literal["auth", "server_error", "garbage", "html"] | None


@dataclass
class StubReply:
    """One programmed answer. ``top_logprobs`` (token -> logprob) is sent for the first token
    when the request asks for logprobs."""

    text: str
    top_logprobs: dict[str, float] | None = None
    finish_reason: str = "stop"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class _State:
    models: list[str]
    api_key: str | None = None
    fail: FailMode = None
    delay_s: float = 0.0
    replies: deque[StubReply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    default_reply: str = "ok"
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error_body(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _logprobs(text: str, top: dict[str, float]) -> dict[str, Any]:
    first = max(top, key=top.get) if top else text
    entries = [
        {"token": tok, "logprob": lp, "bytes": list(tok.encode("utf-8"))}
        for tok, lp in sorted(top.items(), key=lambda kv: -kv[1])
    ]
    return {
        "content": [
            {
                "token": first,
                "logprob": top.get(first, 0.0),
                "bytes": list(first.encode("utf-8")),
                "top_logprobs": entries,
            }
        ],
        "refusal": None,
    }


def _pieces(text: str) -> list[str]:
    """Split like a tokenizer would, roughly: words with their leading space."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out.append(word if i == 0 else " " + word)
    return [p for p in out if p]


class _Handler(BaseHTTPRequestHandler):
    server_version = "openai-stub/1.0"
    protocol_version = "HTTP/1.1"
    state: _State  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        return

    # --- plumbing ----------------------------------------------------------------------------
    def _read_json(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return raw.decode("utf-8", "replace")

    def _record(self, body: Any) -> None:
        with self.state.lock:
            self.state.requests.append(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    json=body,
                )
            )

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def _gate(self) -> bool:
        """Delay, auth and forced failures shared by every endpoint; True if already answered."""
        st = self.state
        if st.delay_s:
            time.sleep(st.delay_s)
        expected = f"Bearer {st.api_key}" if st.api_key is not None else None
        if st.fail == "auth" or (expected is not None and self.headers.get("authorization") != expected):
            given = (self.headers.get("authorization") or "").removeprefix("Bearer ")
            shown = (given[:3] + "*" * 4 + given[-4:]) if len(given) > 8 else given
            self._send(
                401,
                _error_body(
                    f"Incorrect API key provided: {shown}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
            return True
        if st.fail == "server_error":
            self._send(
                500,
                _error_body(
                    "The server had an error while processing your request. Sorry about that!",
                    "server_error",
                    None,
                ),
            )
            return True
        if st.fail == "garbage":
            self._send(200, b"<html>this is not JSON</html>", "application/json")
            return True
        if st.fail == "html":
            page = b"<!doctype html><html><head><title>Welcome</title></head><body>It works!</body></html>"
            self._send(200, page, "text/html; charset=utf-8")
            return True
        return False

    # --- endpoints ---------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._record(None)
        if self._gate():
            return
        if self.path.rstrip("/") == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "stub"}
                for m in self.state.models
            ]
            self._send(200, {"object": "list", "data": data})
            return
        self._not_found()

    def do_POST(self) -> None:  # noqa: N802
        body = self._read_json()
        self._record(body)
        if self._gate():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._not_found()
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send(
                400,
                _error_body("'messages' is a required property", "invalid_request_error", None, "messages"),
            )
            return
        model = body.get("model")
        if model not in self.state.models:
            self._send(
                404,
                _error_body(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error",
                    "model_not_found",
                ),
            )
            return
        with self.state.lock:
            reply = (
                self.state.replies.popleft() if self.state.replies else StubReply(self.state.default_reply)
            )
        if body.get("stream"):
            self._stream(body, reply)
        else:
            self._complete(body, reply)

    def _not_found(self) -> None:
        self._send(
            404, _error_body(f"Invalid URL ({self.command} {self.path})", "invalid_request_error", None)
        )

    def _complete(self, body: dict[str, Any], reply: StubReply) -> None:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": reply.text, "refusal": None},
            "finish_reason": reply.finish_reason,
            "logprobs": None,
        }
        if body.get("logprobs") and reply.top_logprobs is not None:
            choice["logprobs"] = _logprobs(reply.text, reply.top_logprobs)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(_pieces(reply.text))
        self._send(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [choice],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                "system_fingerprint": "fp_stub",
            },
        )

    def _stream(self, body: dict[str, Any], reply: StubReply) -> None:
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            payload = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body["model"],
                "system_fingerprint": "fp_stub",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            return b"data: " + json.dumps(payload).encode("utf-8") + b"\n\n"

        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(chunk({"role": "assistant", "content": "", "refusal": None}))
            for piece in _pieces(reply.text):
                self.wfile.write(chunk({"content": piece}))
                self.wfile.flush()
            self.wfile.write(chunk({}, reply.finish_reason))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


class OpenAIStubServer:
    """Start with ``with OpenAIStubServer() as stub:`` (or ``start()``/``stop()``)."""

    def __init__(self, models: list[str] | None = None, api_key: str | None = None) -> None:
        self._state = _State(models=list(models or ["stub-model"]), api_key=api_key)
        handler = type("StubHandler", (_Handler,), {"state": self._state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OpenAIStubServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- programming and inspection ----------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL as OPENAI_BASE_URL wants it (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, text: str, *, top_logprobs: dict[str, float] | None = None) -> OpenAIStubServer:
        """Queue the text of the next answer (FIFO); when empty, answers are ``default_reply``."""
        with self._state.lock:
            self._state.replies.append(StubReply(text, top_logprobs))
        return self

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    @property
    def fail(self) -> FailMode:
        return self._state.fail

    @fail.setter
    def fail(self, mode: FailMode) -> None:
        self._state.fail = mode

    @property
    def delay_s(self) -> float:
        return self._state.delay_s

    @delay_s.setter
    def delay_s(self, seconds: float) -> None:
        self._state.delay_s = seconds

    @property
    def api_key(self) -> str | None:
        return self._state.api_key

    @api_key.setter
    def api_key(self, key: str | None) -> None:
        self._state.api_key = key

    @property
    def models(self) -> list[str]:
        return self._state.models
