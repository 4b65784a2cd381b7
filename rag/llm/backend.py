"""The one interface paperchat's code calls: :class:`LLMBackend`, a LlamaIndex LLM plus the name
users see, its capabilities (from :mod:`rag.backends`) and uniform error handling.

``stream`` (text deltas), ``complete`` (optionally constrained to a JSON schema), ``complete_json``
and ``yes_no_logprob``. Every failure comes out as :class:`~rag.errors.BackendError` (``kind``
from :data:`~rag.llm.errors.ErrorKind`); nothing here falls back to another backend. Request
options use the OpenAI names everywhere (``max_tokens``, ``temperature``, ``response_format``,
``logprobs``, ``top_logprobs``); the local backend translates the few llama.cpp spells differently.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, LogProb, MessageRole

from rag.backends import spec_for
from rag.errors import BackendError, ConfigError, ModelError
from rag.llm.errors import map_openai_error

if TYPE_CHECKING:
    from llama_index.core.llms.llm import LLM

Message = ChatMessage | Mapping[str, Any]
Messages = str | Sequence[Message]

YES_NO_TOP_LOGPROBS = 10


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
    ``kind`` names the registry entry ("local", "openai", "openai-compatible"); capabilities
    default to that entry's, and a test's own kind may set them directly.
    """

    name: str
    llm: LLM
    kind: str = "custom"
    url: str | None = None
    model: str = ""
    timeout_s: float | None = None
    capable_judge: bool | None = None  # None: from the registry entry of ``kind``
    supports_schema: bool | None = None
    slots: int | None = None  # requests the backend serves at once (None: no limit on our side)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.slots) if self.slots else None
        spec = spec_for(self.kind)
        if self.capable_judge is None:
            self.capable_judge = bool(spec and spec.capable_judge)
        if self.supports_schema is None:
            self.supports_schema = bool(spec is None or spec.json_schema)

    @contextmanager
    def slot(self, wait_s: float) -> Iterator[bool]:
        """Hold one of the backend's request slots for a ``with`` block; yields False (and holds
        nothing) when none frees up within ``wait_s``, so a caller can go on without the model
        rather than queue behind every other user's request."""
        if self._slots is None:
            yield True
            return
        got = self._slots.acquire(timeout=max(0.0, wait_s))
        try:
            yield got
        finally:
            if got:
                self._slots.release()

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
