"""LLM backends behind one small interface (:class:`~rag.llm.backend.LLMBackend`), picked by
:func:`llm_from` from ``settings.resolved_backend()``; the table of backends and their
capabilities is :mod:`rag.backends`.

* ``local`` — :mod:`rag.llm.local`: a GGUF run in-process with xllamacpp (weights:
  :mod:`rag.llm.weights`);
* ``openai`` — LlamaIndex ``OpenAILike`` against api.openai.com with ``OPENAI_API_KEY``;
* ``openai-compatible`` — ``OpenAILike`` against ``OPENAI_BASE_URL``, with a short timeout and no
  retries so a dead server fails fast.

Importing this package loads nothing: the adapters import LlamaIndex and llama.cpp when a
backend is built. Nothing here ever falls back to another backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rag.backends import OPENAI_URL
from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.llm.backend import LLMBackend
    from rag.llm.weights import BundledName
    from rag.settings import Settings


class _NoModel:
    """An explicit choice of no model (evidence only), where ``None`` means "the default one"."""

    def __repr__(self) -> str:
        return "NO_MODEL"


NO_MODEL = _NoModel()


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


def _remote(settings: Settings, kind: str, name: str, url: str, key: str, *, retries: int) -> LLMBackend:
    """An OpenAI-protocol backend at ``url`` (the key given here is the only one it will send).
    Its name and the URL its errors show are the public part of ``url``: a password or a token in
    OPENAI_BASE_URL stays out of every note a visitor sees."""
    from rag.llm.backend import LLMBackend
    from rag.text.sanitize import public_url

    llm = _openai_like(settings, api_base=url, api_key=key, max_retries=retries)
    return LLMBackend(name=name, llm=llm, kind=kind, url=public_url(url), model=settings.openai_model,
                      timeout_s=settings.llm_timeout_s)


def local_backend(
    settings: Settings,
    bundled: BundledName = "qwen2.5-coder-0.5b",
    progress: Callable[[int, int], None] | None = None,
) -> LLMBackend:
    """The in-process backend. Finds (or assembles) the GGUF now; loads it on first use."""
    from rag.llm.backend import LLMBackend
    from rag.llm.local import LocalLlamaCpp
    from rag.llm.weights import resolve_gguf

    model = resolve_gguf(settings, bundled, progress)
    llm = LocalLlamaCpp(
        model_path=str(model.path),
        model_name=model.name,
        context_window=settings.llm_ctx,
        n_threads=settings.threads,
        max_tokens=settings.max_answer_tokens,
    )
    # llama.cpp here serves one request at a time (one slot): others wait for it, within a budget
    return LLMBackend(name=llm.backend_name, llm=llm, kind="local", url=None, model=model.name, slots=1)


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
        return _remote(settings, "openai", f"openai:{settings.openai_model}", OPENAI_URL, key, retries=1)
    if which == "openai-compatible":
        if not settings.openai_base_url:
            raise ConfigError(
                "llm_backend=openai-compatible needs OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1)"
            )
        from rag.text.sanitize import public_url

        url = settings.openai_base_url.rstrip("/")
        # no retries: a dead local server should fail fast, not three times
        return _remote(settings, "openai-compatible",
                       f"openai-compatible:{public_url(url)} model {settings.openai_model}",
                       url, key or "not-needed", retries=0)
    raise ConfigError(f"unknown llm_backend {which!r}")
