"""Which LLM backends a visitor of a shared server may pick, and what each one is sent.

The rule this module exists for: **the operator's API key goes only to the operator's endpoint**.
The operator's endpoint is ``OPENAI_BASE_URL`` when it is set, else api.openai.com. A URL a visitor
types gets the key the visitor typed, or no key at all; it never inherits ``OPENAI_API_KEY``.

Visitor-typed URLs, models and keys are refused unless the operator turned on
``ui_allow_custom_backend``: with it off, a visitor chooses only among the backends the operator
configured. Pure logic over :class:`~rag.settings.Settings`: no I/O, no client is built here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from rag.backends import BACKENDS, OPENAI_URL, spec_for
from rag.errors import ConfigError
from rag.settings import Settings
from rag.text.sanitize import has_controls

_ENABLE = "the operator can allow them with PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND=true"


@dataclass(frozen=True)
class Offer:
    """One entry of the backend picker."""

    value: str  # "default" or a registry name
    label: str


def _norm_url(url: str | None) -> str:
    return (url or "").strip().rstrip("/")


def operator_key_endpoint(settings: Settings) -> str | None:
    """The one URL the operator's ``OPENAI_API_KEY`` may be sent to (None without a key)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else ""
    if not key:
        return None
    return _norm_url(settings.openai_base_url) or OPENAI_URL


def offers(settings: Settings) -> list[Offer]:
    """The picker's entries: the default, the bundled model, evidence only, and the remote
    backends the operator configured; with custom backends allowed, OpenAI and a URL of one's own."""
    custom = settings.ui_allow_custom_backend
    configured = {  # remote backends the operator set up, as the picker names them
        "openai": f"OpenAI {settings.openai_model}" if operator_key_endpoint(settings) == OPENAI_URL else None,
        "openai-compatible": f"{settings.openai_model} at the server's endpoint" if settings.openai_base_url else None,
    }
    out = [Offer("default", "Default (from settings)")]
    for spec in sorted(BACKENDS, key=lambda b: b.remote):  # local choices first
        if not spec.remote:
            out.append(Offer(spec.name, spec.label))
        elif custom:
            out.append(Offer(spec.name, spec.label))
        elif configured.get(spec.name):
            out.append(Offer(spec.name, configured[spec.name]))
    return out


def check_url(url: str) -> str:
    """A visitor's base URL, normalised; ConfigError when it is not an http(s) URL with a host."""
    url = _norm_url(url)
    if has_controls(url) or any(c.isspace() for c in url):
        raise ConfigError("the base URL contains spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the base URL must look like http://host:port/v1, got {url[:80]!r}")
    return url


def visitor_settings(
    settings: Settings, choice: str, model: str = "", url: str = "", api_key: str = ""
) -> Settings | None:
    """Settings for the backend a visitor picked; None means the server's own default backend.

    Raises ConfigError for a choice the server does not offer, for typed fields when custom
    backends are off, and for a choice that cannot work (OpenAI with no key to use)."""
    choice = (choice or "default").strip()
    model, url, api_key = (model or "").strip(), _norm_url(url), (api_key or "").strip()
    if choice == "default":
        return None  # the panel's fields do not apply to the server's own backend
    offered = {o.value for o in offers(settings)}
    if choice not in offered:
        spec = spec_for(choice)
        raise ConfigError(f"the backend {choice!r} is not offered on this server; {_ENABLE}"
                          if spec is not None and spec.remote else f"unknown backend {choice!r}")
    own_url = _norm_url(settings.openai_base_url)
    if not settings.ui_allow_custom_backend:
        typed = [name for name, value, own in (("model", model, settings.openai_model),
                                                ("base URL", url, own_url), ("API key", api_key, ""))
                 if value and value != own]
        if typed:
            raise ConfigError(f"this server does not accept the {' and '.join(typed)} typed in the page; {_ENABLE}")
    update: dict = {"llm_backend": choice}
    if model:
        update["openai_model"] = model
    if choice == "openai-compatible":
        target = check_url(url) if url else own_url
        if not target:
            raise ConfigError("an OpenAI-compatible backend needs a base URL (e.g. http://127.0.0.1:8000/v1)")
        update["openai_base_url"] = target
    elif choice == "openai":
        target = OPENAI_URL
    else:
        update["openai_api_key"] = None  # a local model needs no key: carry none
        return settings.model_copy(update=update)
    if api_key:
        update["openai_api_key"] = SecretStr(api_key)
    elif target == operator_key_endpoint(settings):
        update["openai_api_key"] = settings.openai_api_key
    else:
        update["openai_api_key"] = None  # never the operator's key to somebody else's URL
    if choice == "openai" and update["openai_api_key"] is None:
        raise ConfigError("OpenAI needs an API key: type one in the settings panel")
    return settings.model_copy(update=update)


def default_label(settings: Settings) -> str:
    """The server's own backend in words, for a header or a health check (no URL, no key)."""
    which = settings.resolved_backend()
    if which == "local":
        return f"local {settings.gguf_path.name if settings.gguf_path else settings.local_model}"
    if which == "openai":
        return f"OpenAI {settings.openai_model}"
    if which == "openai-compatible":
        return f"{settings.openai_model} at the server's OpenAI-compatible endpoint"
    return "the evidence only (no LLM)"


class BackendPool:
    """The backends visitors picked, built once per distinct configuration and shared by every
    session of the process (web UI and HTTP API alike). ``None`` stands for the server's own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._backends: dict[tuple[str, str, str, str], object] = {}
        self._lock = threading.Lock()

    def get(self, choice: str, model: str = "", url: str = "", api_key: str = ""):
        """The backend for a visitor's choice (:func:`visitor_settings` decides what is allowed and
        which key goes where); None for the server's own, ``NO_MODEL`` for evidence only (which
        must not wait for the server's model). ConfigError for a choice not offered."""
        from rag.llm import NO_MODEL

        derived = visitor_settings(self.settings, choice, model, url, api_key)
        if derived is None:
            return None
        base = self.settings
        if derived.resolved_backend() == "none":
            return None if base.resolved_backend() == "none" else NO_MODEL
        if (derived.llm_backend == base.resolved_backend() and derived.openai_model == base.openai_model
                and derived.openai_base_url == base.openai_base_url
                and derived.openai_api_key == base.openai_api_key):
            return None  # the same backend the app already has
        secret = derived.openai_api_key.get_secret_value() if derived.openai_api_key is not None else ""
        key = (derived.llm_backend, derived.openai_model, derived.openai_base_url or "", secret)
        with self._lock:
            if key not in self._backends:
                from rag.llm import llm_from

                self._backends[key] = llm_from(derived)
            return self._backends[key]
