"""The in-process backend: a GGUF model run by xllamacpp (llama.cpp's own server code, called
directly; no HTTP on our side), as a LlamaIndex ``CustomLLM``.

One xllamacpp ``Server`` per (model, context, threads) per process, loaded on first use and
shared (:mod:`rag.llm.local_servers`); streaming runs llama.cpp's blocking callback in a worker
thread feeding a queue, and closing the stream stops generation. Failures come out as BackendError.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

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

from rag.errors import BackendError
from rag.llm.errors import ErrorKind
from rag.llm.local_servers import load_server, streams, streams_lock


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
                self._server = load_server(self.model_path, self.context_window, self.n_threads)

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
                with streams_lock:
                    streams.discard(entry)
                chunks.put(done)

        worker = threading.Thread(target=work, name="paperchat-llamacpp-stream", daemon=True)
        entry = (stop, worker)
        with streams_lock:
            streams.add(entry)
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
