"""Backend error kinds, and the mapping of OpenAI SDK / httpx exceptions onto them, so every
remote failure is one :class:`~rag.errors.BackendError` line naming the backend and its URL."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from rag.errors import BackendError

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
