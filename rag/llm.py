"""LLM backends behind one small interface, built on LlamaIndex LLM classes.

Three backends, picked by :func:`llm_from` from ``settings.resolved_backend()``:

* ``local`` — :class:`LocalLlamaCpp`, a LlamaIndex ``CustomLLM`` running a GGUF in-process with
  xllamacpp (llama.cpp's own server code, called directly; no HTTP on our side).
* ``openai`` — LlamaIndex ``OpenAILike`` against api.openai.com with ``OPENAI_API_KEY``.
* ``openai-compatible`` — ``OpenAILike`` against ``OPENAI_BASE_URL`` (vLLM, llama.cpp server,
  Ollama, LM Studio …), with a short timeout and no retries so a dead server fails fast.

Callers use :class:`LLMBackend`: ``stream`` (text deltas), ``complete`` (optionally constrained
to a JSON schema) and ``yes_no_logprob``. Every failure comes out as
:class:`~rag.errors.BackendError` with a one-line message naming the backend and its URL and a
``kind`` the caller can branch on (see :data:`ErrorKind`). Nothing here ever falls back to another
backend: a configured remote that is down is an error, not a silent switch to the local model.

Request options use the OpenAI names everywhere (``max_tokens``, ``temperature``,
``response_format``, ``logprobs``, ``top_logprobs``); :class:`LocalLlamaCpp` translates the few
that llama.cpp spells differently.
"""

from __future__ import annotations

import atexit
import json
import math
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    LogProb,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import Field, PrivateAttr

from rag.errors import BackendError, ConfigError, ModelError
from rag.models import BundledName, resolve_gguf
from rag.settings import OPENAI_URL

if TYPE_CHECKING:
    from llama_index.core.llms.llm import LLM

    from rag.settings import Settings

ErrorKind = Literal[
    "unreachable",  # connection refused, DNS failure, TLS failure
    "timeout",  # no answer within settings.llm_timeout_s
    "auth",  # 401/403: missing or wrong API key
    "model_not_found",  # 404: the server has no such model (or the URL is not an OpenAI API)
    "context_length",  # the prompt does not fit the model's context window
    "bad_request",  # 400/422: the server rejected the request (unsupported option, bad schema)
    "bad_response",  # the answer could not be parsed (not JSON, no choices, invalid JSON output)
    "error",  # anything else: 429, 5xx, a local runtime failure
]

Message = ChatMessage | Mapping[str, Any]
Messages = str | Sequence[Message]

YES_NO_TOP_LOGPROBS = 10


# --------------------------------------------------------------------------------------------
# local: xllamacpp in-process
# --------------------------------------------------------------------------------------------

_servers: dict[tuple[str, int, int], Any] = {}
_servers_lock = threading.Lock()
_streams: set[tuple[threading.Event, threading.Thread]] = set()
_streams_lock = threading.Lock()
_atexit_registered = False
EXIT_WAIT_S = 15.0


def _stop_streams_at_exit() -> None:
    """Ask running generations to stop and wait for them (bounded) before the interpreter tears
    down: a worker thread still inside llama.cpp at finalization aborts the process."""
    with _streams_lock:
        active = list(_streams)
    for stop, _ in active:
        stop.set()
    deadline = time.monotonic() + EXIT_WAIT_S
    for _, worker in active:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))


def _load_server(path: str, n_ctx: int, n_threads: int) -> Any:
    """One xllamacpp Server per (model, context, threads) per process: loading is paid once.

    llama.cpp's server queues concurrent requests itself, so sharing one is thread-safe; the lock
    only makes sure two threads asking at once do not both load the model.
    """
    key = (path, n_ctx, n_threads)
    with _servers_lock:
        server = _servers.get(key)
        if server is not None:
            return server
        try:
            import xllamacpp
        except ImportError as e:
            raise ModelError(
                f"the local backend needs the package 'xllamacpp' ({e}); run `pip install xllamacpp`"
            ) from None

        params = xllamacpp.CommonParams()
        params.model.path = path
        params.n_ctx = n_ctx
        params.n_parallel = 1  # one slot: the whole context window serves one request at a time
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.verbosity = 0
        params.ui = False
        params.cache_ram_mib = 256  # host-RAM prompt cache; the default is 8 GiB
        # Server() also listens on a random 127.0.0.1 port; a random key we never use keeps
        # other local users off it. Direct handle_* calls do not go through HTTP auth.
        params.api_keys = [secrets.token_hex(16)]
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as e:
            raise ModelError(
                f"llama.cpp could not load {path} ({e}): is it a complete GGUF file of a "
                "model architecture this xllamacpp version supports?"
            ) from None
        global _atexit_registered
        if not _atexit_registered:
            atexit.register(_stop_streams_at_exit)
            _atexit_registered = True
        _servers[key] = server
        return server


def unload_local_models() -> None:
    """Drop the cached llama.cpp servers (tests; freeing memory in a long-lived process)."""
    with _servers_lock:
        _servers.clear()


def _message_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    out = []
    for m in messages:
        role = m.role.value if isinstance(m.role, MessageRole) else str(m.role)
        out.append({"role": role, "content": m.content or ""})
    return out


def _local_logprobs(choice: Mapping[str, Any]) -> list[list[LogProb]] | None:
    content = (choice.get("logprobs") or {}).get("content") or []
    out = []
    for tok in content:
        top = tok.get("top_logprobs") or [tok]
        out.append([LogProb(token=t["token"], logprob=t["logprob"], bytes=t.get("bytes") or []) for t in top])
    return out or None


class LocalLlamaCpp(CustomLLM):
    """A GGUF model run in-process by xllamacpp, as a LlamaIndex LLM (chat and completion).

    The model loads on first use (or :meth:`load`) and is shared by every instance with the same
    path, context and threads. ``complete(prompt)`` sends the prompt as one user message so the
    model's own chat template applies. Extra keyword arguments go into the llama.cpp request:
    ``max_tokens``, ``temperature``, ``json_schema`` (or OpenAI's ``response_format``, translated),
    ``logprobs``/``top_logprobs``, ``stop``, ``seed``. Failures raise BackendError.
    """

    model_path: str = Field(description="GGUF file to load.")
    model_name: str = Field(description="Short name shown to users, e.g. qwen2.5-coder-0.5b.")
    context_window: int = Field(default=4096, description="llama.cpp n_ctx.")
    n_threads: int = Field(default=2, description="CPU threads for prompt processing and generation.")
    max_tokens: int = Field(default=256, description="Default cap on generated tokens per call.")
    temperature: float = Field(default=0.0, description="Default sampling temperature.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _server: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "paperchat_local_llamacpp"

    @property
    def backend_name(self) -> str:
        return f"local:{self.model_name}"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=self.model_name,
        )

    def load(self) -> None:
        """Load the model now (a few seconds) instead of on the first request."""
        with self._lock:
            if self._server is None:
                self._server = _load_server(self.model_path, self.context_window, self.n_threads)

    # --- raw OpenAI-style dicts ---------------------------------------------------------------
    def _request(self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        req: dict[str, Any] = {
            "messages": _message_dicts(messages),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        for key, value in kwargs.items():
            if value is None:
                continue
            if key == "response_format" and isinstance(value, Mapping):
                schema = (value.get("json_schema") or {}).get("schema") or value.get("schema")
                if schema is not None:
                    req["json_schema"] = schema
                    continue
            req[key] = value
        return req

    def _fail(self, err: Mapping[str, Any]) -> BackendError:
        detail = err.get("error", err)
        if not isinstance(detail, Mapping):
            detail = {"message": str(detail)}
        message = str(detail.get("message") or detail)
        etype = str(detail.get("type") or "")
        code = detail.get("code")
        if etype == "exceed_context_size_error":
            kind: ErrorKind = "context_length"
            hint = "shorten the prompt or raise PAPERCHAT_LLM_CTX"
        elif code == 400 or etype == "invalid_request_error":
            kind, hint = "bad_request", "the request was rejected"
        else:
            kind, hint = "error", "llama.cpp failed"
        return BackendError(
            f"{self.backend_name} ({self.model_path}): {hint}: {message}",
            backend=self.backend_name,
            kind=kind,
        )

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one non-streaming chat completion request; the response dict as llama.cpp gives it."""
        self.load()
        try:
            response = self._server.handle_chat_completions(request)
        except ValueError as e:  # xllamacpp validates the request (messages, schema) up front
            raise self._fail({"code": 400, "message": str(e)}) from None
        if not isinstance(response, Mapping) or "error" in response or "choices" not in response:
            raise self._fail(response if isinstance(response, Mapping) else {"message": repr(response)})
        return dict(response)

    def create_stream(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Stream chunks of one chat completion. Closing the iterator early stops generation.

        xllamacpp streams through a callback that blocks until generation ends, so it runs in a
        worker thread feeding a queue; the callback returns True (stop) once we are closed.
        """
        self.load()
        server = self._server
        chunks: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        done = object()

        def on_chunk(chunk: Any) -> bool:
            chunks.put(chunk)
            return stop.is_set()

        def work() -> None:
            try:
                server.handle_chat_completions({**request, "stream": True}, on_chunk)
            except BaseException as e:  # noqa: BLE001 - handed to the consumer thread
                chunks.put(e)
            finally:
                with _streams_lock:
                    _streams.discard(entry)
                chunks.put(done)

        worker = threading.Thread(target=work, name="paperchat-llamacpp-stream", daemon=True)
        entry = (stop, worker)
        with _streams_lock:
            _streams.add(entry)
        worker.start()
        try:
            while (item := chunks.get()) is not done:
                if isinstance(item, ValueError):
                    raise self._fail({"code": 400, "message": str(item)})
                if isinstance(item, BaseException):
                    raise self._fail({"message": f"{type(item).__name__}: {item}"})
                if not isinstance(item, Mapping) or "error" in item or "choices" not in item:
                    raise self._fail(item if isinstance(item, Mapping) else {"message": repr(item)})
                yield dict(item)
        finally:
            stop.set()

    # --- LlamaIndex LLM interface -------------------------------------------------------------
    def _with_system(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        msgs = list(messages)
        if self.system_prompt and not any(m.role == MessageRole.SYSTEM for m in msgs):
            msgs.insert(0, ChatMessage(role=MessageRole.SYSTEM, content=self.system_prompt))
        return msgs

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        response = self.create(self._request(self._with_system(messages), kwargs))
        choice = response["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
            raw=response,
            logprobs=_local_logprobs(choice),
            additional_kwargs={"usage": response.get("usage"), "timings": response.get("timings")},
        )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._request(self._with_system(messages), kwargs)

        def gen() -> ChatResponseGen:
            text = ""
            for chunk in self.create_stream(request):
                choices = chunk.get("choices") or [{}]
                delta = (choices[0].get("delta") or {}).get("content") or ""
                text += delta
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                    delta=delta,
                    raw=chunk,
                    additional_kwargs={"timings": chunk["timings"]} if "timings" in chunk else {},
                )

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        r = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(
            text=r.message.content or "",
            raw=r.raw,
            logprobs=r.logprobs,
            additional_kwargs=r.additional_kwargs,
        )

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        chat_gen = self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)

        def gen() -> CompletionResponseGen:
            for r in chat_gen:
                yield CompletionResponse(
                    text=r.message.content or "",
                    delta=r.delta,
                    raw=r.raw,
                    additional_kwargs=r.additional_kwargs,
                )

        return gen()


# --------------------------------------------------------------------------------------------
# error mapping for OpenAI-style HTTP backends
# --------------------------------------------------------------------------------------------


def _root_cause(e: BaseException) -> str:
    seen = e
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen) or type(seen).__name__
    return text.splitlines()[0][:200]


def _server_message(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"]).splitlines()[0][:300]
        if isinstance(err, str):
            return err[:300]
    return (getattr(e, "message", None) or str(e)).splitlines()[0][:300]


def _server_code(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping):
            return str(err.get("code") or err.get("type") or "")
    return str(getattr(e, "code", "") or "")


def map_openai_error(
    e: BaseException, *, backend: str, url: str, model: str, timeout_s: float | None
) -> BackendError:
    """Turn an exception from the openai SDK (or httpx under it) into our BackendError."""
    import httpx
    import openai

    where = backend if url in backend else f"{backend} at {url}"
    if isinstance(e, BackendError):
        return e
    if isinstance(e, openai.APITimeoutError | httpx.TimeoutException):
        limit = f" within {timeout_s:g}s" if timeout_s else ""
        return BackendError(
            f"{where} did not answer{limit} (timeout; raise PAPERCHAT_LLM_TIMEOUT_S if the server is just slow)",
            backend=backend,
            kind="timeout",
        )
    if isinstance(e, openai.APIConnectionError | httpx.TransportError):
        return BackendError(
            f"cannot reach {where}: {_root_cause(e)} (is the server running, and is OPENAI_BASE_URL right?)",
            backend=backend,
            kind="unreachable",
        )
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return BackendError(
            f"{where} rejected the API key (HTTP {e.status_code}: {_server_message(e)}); check OPENAI_API_KEY",
            backend=backend,
            kind="auth",
        )
    if isinstance(e, openai.NotFoundError):
        return BackendError(
            f"{where} has no model {model!r} (HTTP 404: {_server_message(e)}); set OPENAI_MODEL to a model "
            f"the server lists at {url.rstrip('/')}/models, and check the URL ends in /v1",
            backend=backend,
            kind="model_not_found",
        )
    if isinstance(e, openai.BadRequestError | openai.UnprocessableEntityError):
        msg = _server_message(e)
        code = _server_code(e)
        if "context_length" in code or re.search(r"context (length|size|window)|too long", msg, re.I):
            return BackendError(
                f"{where}: the prompt does not fit the model's context window ({msg})",
                backend=backend,
                kind="context_length",
            )
        return BackendError(
            f"{where} rejected the request (HTTP {e.status_code}: {msg})", backend=backend, kind="bad_request"
        )
    if isinstance(e, openai.APIStatusError):
        return BackendError(
            f"{where} failed with HTTP {e.status_code}: {_server_message(e)}", backend=backend, kind="error"
        )
    if isinstance(
        e,
        openai.APIResponseValidationError | json.JSONDecodeError | ValueError | KeyError | IndexError
        # the SDK hands back the raw body as a str when it is not JSON (a web page at the URL)
        | AttributeError | TypeError,
    ):
        return BackendError(
            f"{where} sent a response that is not an OpenAI-compatible chat completion "
            f"({type(e).__name__}: {str(e)[:200]}); is the URL the API, ending in /v1, rather than a web page?",
            backend=backend,
            kind="bad_response",
        )
    if isinstance(e, openai.OpenAIError):
        return BackendError(f"{where} failed: {_root_cause(e)}", backend=backend, kind="error")
    return BackendError(
        f"{where} failed: {type(e).__name__}: {_root_cause(e)}", backend=backend, kind="error"
    )


# --------------------------------------------------------------------------------------------
# the one interface callers use
# --------------------------------------------------------------------------------------------


def to_chat_messages(messages: Messages) -> list[ChatMessage]:
    """Accept a prompt string, OpenAI-style dicts or LlamaIndex ChatMessages."""
    if isinstance(messages, str):
        return [ChatMessage(role=MessageRole.USER, content=messages)]
    out = []
    for m in messages:
        if isinstance(m, ChatMessage):
            out.append(m)
        else:
            out.append(ChatMessage(role=MessageRole(m["role"]), content=m.get("content") or ""))
    return out


def json_schema_response_format(schema: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's ``response_format`` for a JSON schema (name derived from the schema's title)."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "response"))[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": dict(schema)}}


def yes_probability(top: Sequence[LogProb]) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the first token's alternatives ("Yes", " yes", "YES" …).

    None when neither appears among the alternatives the backend returned.
    """
    p_yes = p_no = 0.0
    for lp in top:
        word = lp.token.strip().strip(".,!:;\"'").lower()
        if word == "yes":
            p_yes += math.exp(lp.logprob)
        elif word == "no":
            p_no += math.exp(lp.logprob)
    if p_yes + p_no <= 0.0:
        return None
    return p_yes / (p_yes + p_no)


@dataclass
class LLMBackend:
    """A LlamaIndex LLM plus the name users see and uniform error handling.

    ``llm`` composes with LlamaIndex (query engines, programs); the methods below are what
    paperchat's own code calls. Every method raises only :class:`BackendError` for backend
    failures (``ModelError`` if the local model cannot load), never falls back to another backend.
    ``kind`` is "local", "openai", "openai-compatible" or anything a test chooses.
    """

    name: str
    llm: LLM
    kind: str = "custom"
    url: str | None = None
    model: str = ""
    timeout_s: float | None = None

    @property
    def context_window(self) -> int:
        """Tokens the model accepts (prompt + answer), as configured (settings.llm_ctx)."""
        return int(self.llm.metadata.context_window)

    def load(self) -> LLMBackend:
        """Load a local model now (no-op for remote backends); returns self."""
        load = getattr(self.llm, "load", None)
        if callable(load):
            with self._errors():
                load()
        return self

    def _where(self) -> str:
        if self.url is None or self.url in self.name:
            return self.name
        return f"{self.name} at {self.url}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (BackendError, ModelError, ConfigError):
            raise
        except Exception as e:  # noqa: BLE001 - every backend failure becomes a BackendError
            raise map_openai_error(
                e,
                backend=self.name,
                url=self.url or "(in-process)",
                model=self.model,
                timeout_s=self.timeout_s,
            ) from e

    def stream(
        self, messages: Messages, max_tokens: int | None = None, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield text deltas as the model produces them. Closing the iterator stops generation."""
        kwargs: dict[str, Any] = {"temperature": temperature}
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        msgs = to_chat_messages(messages)
        responses: Any = None
        try:
            with self._errors():
                responses = self.llm.stream_chat(msgs, **kwargs)
                chunks = 0
                for r in responses:
                    chunks += 1
                    if r.delta:
                        yield r.delta
            if chunks == 0:  # a well-formed stream has at least a role or a finish chunk
                raise BackendError(
                    f"{self._where()} answered without a single chat.completion.chunk event: not an "
                    "OpenAI-compatible streaming response (is the URL the API, ending in /v1, rather than a web page?)",
                    backend=self.name,
                    kind="bad_response",
                )
        finally:
            close = getattr(responses, "close", None)
            if callable(close):
                close()  # stops local generation now rather than when garbage-collected

    def chat(self, messages: Messages, **kwargs: Any) -> ChatResponse:
        """One non-streaming chat call with raw OpenAI-style options (escape hatch)."""
        msgs = to_chat_messages(messages)
        with self._errors():
            return self.llm.chat(msgs, **kwargs)

    def complete(
        self,
        messages: Messages,
        max_tokens: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float = 0.0,
    ) -> str:
        """The whole reply as text. With ``json_schema`` the backend constrains the output to it
        (llama.cpp grammar locally; ``response_format`` json_schema on OpenAI-style servers);
        use :meth:`complete_json` to get it parsed and checked."""
        kwargs: dict[str, Any] = {"temperature": temperature}
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if json_schema is not None:
            kwargs["response_format"] = json_schema_response_format(json_schema)
        r = self.chat(messages, **kwargs)
        return r.message.content or ""

    def complete_json(
        self, messages: Messages, json_schema: Mapping[str, Any], max_tokens: int | None = None
    ) -> Any:
        """``complete`` constrained to ``json_schema`` and parsed; BackendError(kind="bad_response")
        if the reply is not valid JSON (e.g. cut off by ``max_tokens``)."""
        text = self.complete(messages, max_tokens=max_tokens, json_schema=json_schema)
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise BackendError(
                f"{self.name} returned invalid JSON for a schema-constrained request ({e.msg} at "
                f"char {e.pos}; got {text[:80]!r}); raise max_tokens?",
                backend=self.name,
                kind="bad_response",
            ) from None

    def yes_no_logprob(self, prompt: Messages) -> float | None:
        """Probability that the reply starts with "yes" rather than "no", from the first token's
        log-probabilities: P(yes) / (P(yes) + P(no)), in [0, 1].

        None when the backend returns no logprobs, or neither word is among the top alternatives.
        The prompt must ask for a yes/no answer; this does not add any instruction.
        """
        r = self.chat(prompt, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=YES_NO_TOP_LOGPROBS)
        if not r.logprobs or not r.logprobs[0]:
            return None
        return yes_probability(r.logprobs[0])


# --------------------------------------------------------------------------------------------
# factory
# --------------------------------------------------------------------------------------------


def _openai_like(settings: Settings, *, api_base: str, api_key: str, max_retries: int) -> Any:
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.openai_model,
        api_base=api_base,
        api_key=api_key,
        is_chat_model=True,
        context_window=settings.llm_ctx,
        timeout=settings.llm_timeout_s,
        max_retries=max_retries,
        temperature=0.0,
    )


def local_backend(
    settings: Settings,
    bundled: BundledName = "qwen2.5-coder-0.5b",
    progress: Callable[[int, int], None] | None = None,
) -> LLMBackend:
    """The in-process backend. Finds (or assembles) the GGUF now; loads it on first use."""
    model = resolve_gguf(settings, bundled, progress)
    llm = LocalLlamaCpp(
        model_path=str(model.path),
        model_name=model.name,
        context_window=settings.llm_ctx,
        n_threads=settings.threads,
        max_tokens=settings.max_answer_tokens,
    )
    return LLMBackend(name=llm.backend_name, llm=llm, kind="local", url=None, model=model.name)


def llm_from(settings: Settings, *, bundled: BundledName | None = None) -> LLMBackend | None:
    """The backend ``settings`` asks for (``auto``: OPENAI_BASE_URL > OPENAI_API_KEY > local);
    None for ``none``. Constructing a remote backend does no I/O; errors surface on first call.
    ``bundled`` picks the bundled local model when ``gguf_path`` is unset."""
    which = settings.resolved_backend()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else ""
    if which == "none":
        return None
    if which == "local":
        return local_backend(settings, bundled or settings.local_model)
    if which == "openai":
        if not key:
            raise ConfigError("llm_backend=openai needs OPENAI_API_KEY (or choose another backend)")
        llm = _openai_like(settings, api_base=OPENAI_URL, api_key=key, max_retries=1)
        return LLMBackend(
            name=f"openai:{settings.openai_model}",
            llm=llm,
            kind="openai",
            url=OPENAI_URL,
            model=settings.openai_model,
            timeout_s=settings.llm_timeout_s,
        )
    if which == "openai-compatible":
        if not settings.openai_base_url:
            raise ConfigError(
                "llm_backend=openai-compatible needs OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1)"
            )
        url = settings.openai_base_url.rstrip("/")
        llm = _openai_like(settings, api_base=url, api_key=key or "not-needed", max_retries=0)
        return LLMBackend(
            name=f"openai-compatible:{url} model {settings.openai_model}",
            llm=llm,
            kind="openai-compatible",
            url=url,
            model=settings.openai_model,
            timeout_s=settings.llm_timeout_s,
        )
    raise ConfigError(f"unknown llm_backend {which!r}")


__all__ = [
    "ErrorKind",
    "LLMBackend",
    "LocalLlamaCpp",
    "json_schema_response_format",
    "llm_from",
    "local_backend",
    "map_openai_error",
    "to_chat_messages",
    "unload_local_models",
    "yes_probability",
]
