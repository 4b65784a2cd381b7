"""Backend choice against real capture servers on 127.0.0.1 and a served Gradio app: the operator's key
never reaches a visitor's URL (the offer/refusal logic: unit/test_backend_choice.py)."""

from __future__ import annotations

import itertools

import pytest
from helpers import SEED_FILES, free_port, paper_record, write_jsonl
from openai_stub_server import OpenAIStubServer

from rag.backends import OPENAI_URL
from rag.errors import ConfigError, PaperchatError
from rag.settings import load_settings

CANARY = "sk-CANARY-0123456789abcdef"


VISITOR_KEY = "sk-visitor-key"


KEYS = ["", VISITOR_KEY]


MODELS = ["", "gpt-4o-mini", "other-model"]


def _all_headers(stub: OpenAIStubServer) -> str:
    return "\n".join(f"{k}: {v}" for r in stub.requests for k, v in r.headers.items())


@pytest.mark.parametrize("allow", [False, True])
@pytest.mark.parametrize("operator_has_url", [False, True])
def test_capture_servers_never_see_the_canary_at_a_visitor_url(allow: bool, operator_has_url: bool) -> None:
    from ui_fixtures import FakePaperchat

    from ui.app import Services

    with OpenAIStubServer(models=["gpt-4o-mini", "other-model"]) as operator, \
            OpenAIStubServer(models=["gpt-4o-mini", "other-model"]) as visitor:
        extra = dict(openai_base_url=operator.url) if operator_has_url else {}
        settings = load_settings(llm_backend="none", openai_api_key=CANARY, ui_allow_custom_backend=allow, **extra)
        services = Services(FakePaperchat(), settings)
        urls = ["", operator.url, operator.url + "/", visitor.url, visitor.url + "/"]
        sent = 0
        for choice, url, key, model in itertools.product(
            ["default", "openai", "openai-compatible"], urls, KEYS, MODELS
        ):
            try:
                backend = services.backend_for(choice, model, url, key)
            except ConfigError:
                continue
            if backend is None or backend.kind != "openai-compatible":
                if backend is not None and backend.kind == "openai":
                    assert backend.url == OPENAI_URL  # not reachable from here; the rule test covers its key
                continue
            try:
                backend.complete("Say ok.", max_tokens=4)
            except PaperchatError:
                pass  # an unknown model is a 404, still a request whose headers were captured
            sent += 1
        assert CANARY not in _all_headers(visitor)
        assert all(r.authorization in (None, f"Bearer {VISITOR_KEY}", "Bearer not-needed")
                   for r in visitor.requests)
        if allow:
            assert sent > 0 and visitor.requests, "the visitor's URL was never tried: the test proves nothing"
        else:
            assert not visitor.requests
        if operator_has_url:
            # the positive path still works: the operator's key reaches the operator's server
            assert f"Bearer {CANARY}" in _all_headers(operator) or not allow


@pytest.mark.slow
@pytest.mark.parametrize("allow", [False, True])
def test_gradio_client_ask_with_a_visitor_url_never_sends_the_servers_key(
    allow: bool, home, embedder, tmp_path, monkeypatch, seed_corpus
) -> None:
    from gradio_client import Client

    from rag.paperchat import Paperchat
    from ui.app import launch

    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("PAPERCHAT_LLM_BACKEND", "none")
    monkeypatch.setenv("PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND", "true" if allow else "false")
    papers = [p for p in seed_corpus.papers if "Attention Entropy Collapse" in p.title]
    assert papers, SEED_FILES
    corpus = write_jsonl(tmp_path / "one.jsonl", [paper_record(p) for p in papers])
    settings = load_settings()
    app = Paperchat(settings, embedder=embedder)
    app.ingest([corpus])
    with OpenAIStubServer(models=["gpt-4o-mini"]) as visitor:
        visitor.reply("Attention entropy collapse is prevented by sigma reparameterization [1].")
        demo = launch(settings, port=free_port(), app=app, block=False, quiet=True)
        refused = ""
        try:
            client = Client(demo.local_url, verbose=False)
            result = client.predict(
                "How does one prevent attention entropy collapse?",  # question
                [],  # chatbot
                "openai-compatible",  # backend
                "gpt-4o-mini",  # model
                visitor.url,  # base URL typed by the visitor
                "",  # API key left blank
                5, "", "", None, False,
                api_name="/ask",
            )
            refused = str(result[0][-1])
        except Exception as e:  # noqa: BLE001 - gradio_client's AppError: the radio refused the value
            refused = str(e)
            assert not allow, refused
        finally:
            demo.close()
        assert CANARY not in _all_headers(visitor)
        if allow:
            assert visitor.chat_requests, "the answer never asked the visitor's server: nothing was proven"
            assert visitor.chat_requests[0].authorization == "Bearer not-needed"
        else:
            assert not visitor.requests
            assert "not in the list of choices" in refused or "not offered on this server" in refused
