"""A recording fake LLM for tests of the logic around the model, built from the real OpenAI types.

``FakeOpenAIClient`` stands in for ``openai.OpenAI``: ``chat.completions.create(**kwargs)`` returns
real ``openai.types.chat.ChatCompletion`` objects (or an iterator of real ``ChatCompletionChunk``
objects when ``stream=True``) built from replies you enqueue, and records every call's keyword
arguments. ``FakeOpenAI`` is LlamaIndex's real ``OpenAILike`` LLM wired to that client, so the
whole path our code takes (LlamaIndex request building, response parsing, logprob conversion,
error mapping) runs for real; only the network is replaced. It cannot drift from the wire format
because every response is validated by the SDK's own models.

    fake = FakeOpenAI().enqueue("Warmup is skipped by [1].")
    backend = fake.backend()                 # an rag.llm.LLMBackend
    text = backend.complete("why?")          # or pass fake itself wherever a LlamaIndex LLM goes
    assert fake.messages[-1][-1]["content"] == "why?"

Errors: ``fake.enqueue_error(openai_error(401))`` makes the next call raise the real SDK exception.
When the queue is empty a call fails loudly, so a test never passes on a reply it did not script.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from llama_index.llms.openai_like import OpenAILike
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice, ChoiceLogprobs
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob, TopLogprob
from openai.types.completion_usage import CompletionUsage
from pydantic import PrivateAttr

from rag.llm.backend import LLMBackend

FAKE_URL = "http://fake-openai.invalid/v1"

_STATUS_ERRORS: dict[int, tuple[type[openai.APIStatusError], str, str | None]] = {
    400: (openai.BadRequestError, "Invalid request.", None),
    401: (openai.AuthenticationError, "Incorrect API key provided: sk-f****fake.", "invalid_api_key"),
    403: (openai.PermissionDeniedError, "You are not allowed to sample from this model.", None),
    404: (
        openai.NotFoundError,
        "The model `fake-model` does not exist or you do not have access to it.",
        "model_not_found",
    ),
    429: (openai.RateLimitError, "Rate limit reached for requests.", "rate_limit_exceeded"),
    500: (openai.InternalServerError, "The server had an error while processing your request.", None),
}


def openai_error(status: int, message: str | None = None, code: str | None = None) -> openai.APIStatusError:
    """The exception the real SDK raises for an HTTP ``status`` answer, with OpenAI's error body."""
    cls, default_message, default_code = _STATUS_ERRORS.get(status, (openai.APIStatusError, "Error.", None))
    body = {
        "error": {
            "message": message or default_message,
            "type": "invalid_request_error",
            "param": None,
            "code": code or default_code,
        }
    }
    request = httpx.Request("POST", f"{FAKE_URL}/chat/completions")
    response = httpx.Response(status, request=request, json=body)
    return cls(f"Error code: {status} - {body}", response=response, body=body["error"])


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx.Request("POST", f"{FAKE_URL}/chat/completions"))


def timeout_error() -> openai.APITimeoutError:
    return openai.APITimeoutError(request=httpx.Request("POST", f"{FAKE_URL}/chat/completions"))


@dataclass
class FakeReply:
    text: str
    top_logprobs: dict[str, float] | None = None  # first token's alternatives, token -> logprob
    finish_reason: str = "stop"


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words) if w or i == 0]


class _Completions:
    def __init__(self, client: FakeOpenAIClient) -> None:
        self._client = client

    def create(self, **kwargs: Any) -> ChatCompletion | Iterator[ChatCompletionChunk]:
        return self._client._create(kwargs)


class _Chat:
    def __init__(self, client: FakeOpenAIClient) -> None:
        self.completions = _Completions(client)


class FakeOpenAIClient:
    """The slice of ``openai.OpenAI`` that LlamaIndex's OpenAI LLMs use."""

    def __init__(self) -> None:
        self.queue: deque[FakeReply | BaseException] = deque()
        self.requests: list[dict[str, Any]] = []
        self.chat = _Chat(self)

    def __enter__(self) -> FakeOpenAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def _create(self, kwargs: dict[str, Any]) -> ChatCompletion | Iterator[ChatCompletionChunk]:
        self.requests.append(kwargs)
        if not self.queue:
            raise AssertionError(f"FakeOpenAI got a request with no reply queued: {kwargs.get('messages')!r}")
        item = self.queue.popleft()
        if isinstance(item, BaseException):
            raise item
        model = kwargs.get("model", "fake-model")
        if kwargs.get("stream"):
            return self._chunks(item, model)
        return self._completion(item, model, bool(kwargs.get("logprobs")))

    @staticmethod
    def _completion(reply: FakeReply, model: str, want_logprobs: bool) -> ChatCompletion:
        logprobs = None
        if want_logprobs and reply.top_logprobs:
            ranked = sorted(reply.top_logprobs.items(), key=lambda kv: -kv[1])
            first, first_lp = ranked[0]
            logprobs = ChoiceLogprobs(
                content=[
                    ChatCompletionTokenLogprob(
                        token=first,
                        logprob=first_lp,
                        bytes=list(first.encode()),
                        top_logprobs=[
                            TopLogprob(token=t, logprob=lp, bytes=list(t.encode())) for t, lp in ranked
                        ],
                    )
                ]
            )
        n_out = len(_pieces(reply.text))
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex[:24]}",
            object="chat.completion",
            created=int(time.time()),
            model=model,
            choices=[
                Choice(
                    index=0,
                    message=ChatCompletionMessage(role="assistant", content=reply.text),
                    finish_reason=reply.finish_reason,  # type: ignore[arg-type]
                    logprobs=logprobs,
                )
            ],
            usage=CompletionUsage(prompt_tokens=10, completion_tokens=n_out, total_tokens=10 + n_out),
        )

    @staticmethod
    def _chunks(reply: FakeReply, model: str) -> Iterator[ChatCompletionChunk]:
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())

        def chunk(delta: ChoiceDelta, finish: str | None = None) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=cid,
                object="chat.completion.chunk",
                created=created,
                model=model,
                choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],  # type: ignore[arg-type]
            )

        yield chunk(ChoiceDelta(role="assistant", content=""))
        for piece in _pieces(reply.text):
            yield chunk(ChoiceDelta(content=piece))
        yield chunk(ChoiceDelta(), reply.finish_reason)


class FakeOpenAI(OpenAILike):
    """LlamaIndex's OpenAILike over a :class:`FakeOpenAIClient`: a real LlamaIndex LLM that
    answers from a queue and records what it was sent."""

    _fake: FakeOpenAIClient = PrivateAttr()

    def __init__(self, model: str = "fake-model", **kwargs: Any) -> None:
        client = FakeOpenAIClient()
        super().__init__(
            model=model,
            api_key="sk-fake",
            api_base=FAKE_URL,
            is_chat_model=True,
            max_retries=0,
            temperature=0.0,
            openai_client=client,
            **kwargs,
        )
        self._fake = client

    @classmethod
    def class_name(cls) -> str:
        return "FakeOpenAI"

    # --- scripting ---------------------------------------------------------------------------
    def enqueue(self, *texts: str, top_logprobs: dict[str, float] | None = None) -> FakeOpenAI:
        """Queue replies in order (each serves one call, streaming or not)."""
        for text in texts:
            self._fake.queue.append(FakeReply(text, top_logprobs))
        return self

    def enqueue_error(self, error: BaseException) -> FakeOpenAI:
        """The next call raises ``error`` (use :func:`openai_error` for real SDK exceptions)."""
        self._fake.queue.append(error)
        return self

    # --- inspection --------------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every ``chat.completions.create`` call's keyword arguments, as the SDK would get them."""
        return self._fake.requests

    @property
    def messages(self) -> list[list[dict[str, Any]]]:
        """The messages of every call, in order."""
        return [list(r["messages"]) for r in self._fake.requests]

    @property
    def pending(self) -> int:
        return len(self._fake.queue)

    def backend(self, name: str | None = None) -> LLMBackend:
        """This fake behind our LLMBackend interface (as llm_from would return it)."""
        return LLMBackend(
            name=name or f"fake:{self.model}",
            llm=self,
            kind="openai-compatible",
            url=FAKE_URL,
            model=self.model,
            timeout_s=self.timeout,
        )
