"""The HTTP API against the real thing: uvicorn on 127.0.0.1 serving the API and the UI in one
process over the real seed index, driven by the ``openai`` SDK (chat, streaming, follow-ups,
errors) and by ``httpx`` (REST, ingest, auth)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from helpers import ABSTRACT, TEST_DATA
from serving import KEY, WARMUP, Served, serving

from api.serve import check_exposure
from api.wire import content
from rag.errors import ConfigError
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.text.sanitize import markdown_literal
from rag.types.answers import answer_text


@pytest.fixture(scope="module")
def served(seed_index) -> Iterator[Served]:
    """The seed index (read-only: nothing here ingests into it), evidence-only answers."""
    settings = load_settings(home=seed_index.home, llm_backend="none", api_keys=KEY)
    with serving(Paperchat(settings, embedder=seed_index.app.embedder, store=seed_index.app.store)) as s:
        yield s


# ----------------------------------------------------------------------------------------------
# OpenAI wire format through the openai SDK
# ----------------------------------------------------------------------------------------------


def test_models_list_paperchat_and_the_configured_backends(served):
    ids = [m.id for m in served.client().models.list()]
    assert ids[0] == "paperchat" and "paperchat:none" in ids and "paperchat:local" in ids


def test_chat_completion_answers_with_both_warmup_papers_and_structured_citations(served):
    r = served.client().chat.completions.create(
        model="paperchat", messages=[{"role": "user", "content": "Which papers skip warmup?"}],
        temperature=0.3, max_tokens=50, user="someone")  # accepted and ignored
    text = r.choices[0].message.content
    assert r.object == "chat.completion" and r.choices[0].finish_reason == "stop"
    extra = r.model_extra["paperchat"]
    cited = {c["paper_id"] for c in extra["citations"]}
    assert cited == WARMUP
    for c in extra["citations"]:
        assert c["supported"] and c["quote"] and f"[{c['n']}]" in text
        assert c["quote"] in served.app.retriever().papers[c["paper_id"]].abstract
    assert "Sources:\n[1] " in text


def test_streaming_sends_the_evidence_first_and_the_structure_last(served):
    stream = served.client().chat.completions.create(
        model="paperchat", stream=True,
        messages=[{"role": "user", "content": "How does one prevent attention entropy collapse?"}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Entropy Collapse" in text and "[1]" in text and "Sources:" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    extra = chunks[-1].model_extra["paperchat"]
    assert extra["citations"] and all(c["supported"] for c in extra["citations"])


def test_a_follow_up_turn_resolves_against_the_earlier_answer(served):
    client = served.client()
    messages = [{"role": "user", "content": "Which papers skip warmup?"}]
    first = client.chat.completions.create(model="paperchat", messages=messages)
    firsts = {c["n"]: c for c in first.model_extra["paperchat"]["citations"]}
    messages += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": "Tell me more about the second one"}]
    follow = client.chat.completions.create(model="paperchat", messages=messages)
    extra = follow.model_extra["paperchat"]
    assert not extra["refused"] and extra["pinned"] == [firsts[2]["paper_id"]]
    assert [c["n"] for c in extra["citations"]] == [2]  # the same paper, the same number


def test_near_misses_reach_the_client_as_data_and_one_pins_back(served):
    client = served.client()
    messages = [{"role": "user", "content": "Which papers skip warmup?"}]
    first = client.chat.completions.create(model="paperchat", messages=messages)
    excluded = first.model_extra["paperchat"]["excluded"]
    assert len(excluded) == 5 and not {e["paper_id"] for e in excluded} & WARMUP
    assert set(excluded[0]) == {"paper_id", "title", "quote", "reason", "closeness"}
    assert excluded[0]["quote"] in served.app.retriever().papers[excluded[0]["paper_id"]].abstract
    messages += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": "include the first one"}]
    extra = client.chat.completions.create(model="paperchat", messages=messages).model_extra["paperchat"]
    assert [c["n"] for c in extra["citations"]] == [1, 2, 3]
    assert extra["citations"][-1]["paper_id"] == excluded[0]["paper_id"] == extra["pinned"][0]


def test_a_streamed_answer_also_works_as_history(served):
    client = served.client()
    messages = [{"role": "user", "content": "Which papers skip warmup?"}]
    text = "".join(c.choices[0].delta.content or "" for c in
                   client.chat.completions.create(model="paperchat", messages=messages, stream=True))
    messages += [{"role": "assistant", "content": text}, {"role": "user", "content": "What about the first one?"}]
    follow = client.chat.completions.create(model="paperchat", messages=messages)
    assert follow.model_extra["paperchat"]["pinned"]


def test_unknown_model_gets_openai_404(served):
    with pytest.raises(openai.NotFoundError) as info:
        served.client().chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["code"] == "model_not_found" and info.value.body["param"] == "model"


def test_bad_key_gets_401(served):
    with pytest.raises(openai.AuthenticationError) as info:
        served.client("wrong-key-xxxxxxxxxxxxxxxx").models.list()
    assert info.value.body["code"] == "invalid_api_key"


@pytest.mark.parametrize(("body", "message"), [
    ({"model": "paperchat", "messages": []}, "messages is empty"),
    ({"model": "paperchat", "messages": [{"role": "assistant", "content": "hi"}]}, "last message must be the user"),
    ({"model": "paperchat"}, "'messages' is a required property"),
    ({"model": "paperchat", "messages": [{"role": "user", "content": "   "}]}, "has no text"),
])
def test_bad_chat_requests_get_400_in_openai_shape(served, body, message):
    with served.http() as http:
        r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 400 and message in r.json()["error"]["message"]
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}


# ----------------------------------------------------------------------------------------------
# REST
# ----------------------------------------------------------------------------------------------


def test_search_papers_and_health(served):
    with served.http() as http:
        r = http.get("/v1/search", params={"q": "which papers skip warmup?", "k": 5, "mode": "bm25"})
        assert r.status_code == 200 and len(r.json()["hits"]) == 5
        pid = r.json()["hits"][0]["paper_id"]
        paper = http.get(f"/v1/papers/{pid}").json()
        assert paper["paper_id"] == pid and paper["abstract"]
        assert http.get("/v1/papers/no-such-paper").status_code == 404
        bad = http.get("/v1/search", params={"q": "x", "from": "May 2024"})
        assert bad.status_code == 400 and "date-from" in bad.json()["error"]["message"]
        assert http.get("/v1/search", params={"q": "x", "k": 0}).status_code == 400
        filtered = http.get("/v1/search", params={"q": "warmup", "min_upvotes": 1}).json()
        assert "filter (upvotes >= 1) kept" in filtered["filter_note"]
        health = http.get("/healthz")
        assert health.status_code == 200 and health.json()["papers"] == 540
    with served.http(key=None) as anonymous:
        assert anonymous.get("/v1/search", params={"q": "warmup"}).status_code == 401
        assert anonymous.get("/healthz").status_code == 200


def test_ui_is_served_at_the_root_of_the_same_process(served):
    with served.http(key=None) as http:
        r = http.get("/")
    assert r.status_code == 200 and ("login" in r.text.lower() or "gradio" in r.text.lower())


def test_ingest_needs_a_key_rejects_bad_files_and_keeps_the_index(served, tmp_path):
    with served.http(key=None) as anonymous:
        assert anonymous.post("/v1/ingest", files={"files": ("a.jsonl", b"{}")}).status_code == 401
    with served.http() as http:
        bad = http.post("/v1/ingest", files={"files": ("../../etc/evil.jsonl", b'{"title": "x"}\n')})
        assert bad.status_code == 400
        msg = bad.json()["error"]["message"]
        assert msg == "evil.jsonl: no papers found (1 record skipped (no abstract): line 1)", msg
        assert http.post("/v1/ingest", files={"files": ("x.pdf", b"%PDF")}).status_code == 400
        big = b"x" * int(served.app.settings.upload_max_mb * 1024 * 1024 + 10)
        assert http.post("/v1/ingest", files={"files": ("big.jsonl", big)}).status_code == 413
        assert http.get("/healthz").json()["papers"] == 540


def test_ingest_adds_a_paper_that_the_next_search_finds(home, embedder, small_corpus):
    """Its own server over a small index in this test's home: the seed index stays read-only."""
    app = Paperchat(load_settings(llm_backend="none", api_keys=KEY), embedder=embedder)
    app.ingest([small_corpus])
    record = {"title": "Zebra Finch Song Learning with Sparse Transformers", "abstract": ABSTRACT.replace(
        "learning rate warmup interacts with adaptive optimizers in transformer training",
        "zebra finch song learning is modelled by a sparse transformer")}
    with serving(app) as s, s.http() as http:
        before = http.get("/healthz").json()["papers"]
        r = http.post("/v1/ingest", files={"files": ("finch.jsonl", json.dumps(record).encode() + b"\n")})
        assert r.status_code == 200, r.text
        assert r.json()["papers_new"] == 1 and r.json()["files"] == ["finch.jsonl"]
        assert http.get("/healthz").json()["papers"] == before + 1
        found = http.get("/v1/search", params={"q": "zebra finch song", "k": 1}).json()["hits"][0]
        assert found["title"] == record["title"]


def test_ingest_takes_a_reference_manager_export(home, embedder, small_corpus):

    bib = (TEST_DATA / "references" / "zotero.bib").read_bytes()
    app = Paperchat(load_settings(llm_backend="none", api_keys=KEY), embedder=embedder)
    app.ingest([small_corpus])
    with serving(app) as s, s.http() as http:
        r = http.post("/v1/ingest", files={"files": ("My Library.bib", bib)})
        assert r.status_code == 200, r.text
        assert r.json()["papers_new"] == 2  # the entry without an abstract is skipped, with a warning
        assert any("no abstract" in w for w in r.json()["warnings"])
        found = http.get("/v1/search", params={"q": "transformers without learning-rate warmup", "k": 1}).json()
        assert found["hits"][0]["title"] == "Training Transformers Without Learning-Rate Warmup"


def test_serving_beyond_loopback_without_keys_is_refused():
    settings = load_settings()
    with pytest.raises(ConfigError, match="refusing to listen on 0.0.0.0 without PAPERCHAT_API_KEYS"):
        check_exposure(settings, "0.0.0.0", allow_no_auth=False)
    check_exposure(settings, "127.0.0.1", allow_no_auth=False)
    check_exposure(settings, "0.0.0.0", allow_no_auth=True)
    check_exposure(load_settings(api_keys=KEY), "0.0.0.0", allow_no_auth=False)


def test_with_keys_the_ui_needs_a_login_with_a_key(served):
    with served.http(key=None) as http:
        assert http.get("/config").status_code in (401, 403)  # the UI's config is behind the login
        assert http.post("/login", data={"username": "anyone", "password": "not-a-key"}).status_code >= 400
        ok = http.post("/login", data={"username": "anyone", "password": KEY})
        assert ok.status_code == 200, ok.text
        assert http.get("/config").status_code == 200  # the session cookie opens it


FRACTAL_Q = ("Which paper pre-trains convolutional networks on automatically generated fractal patterns with "
             "formula-derived category labels instead of photographs?")


def test_a_clause_quote_is_the_same_span_in_content_lines_and_stream(served):
    """The HTTP API shows the span the engine chose: "…" in the content where words were left
    out, the span and its whole sentence as structure, streamed and not streamed alike."""
    r = served.client().chat.completions.create(model="paperchat", messages=[{"role": "user", "content": FRACTAL_Q}])
    lines = r.model_extra["paperchat"]["lines"]
    cut = next(ln for ln in lines if ln["kind"] == "quote" and ln["cut_after"])
    assert cut["context"].startswith(cut["text"]) and len(cut["context"]) > len(cut["text"])
    text = r.choices[0].message.content
    assert f"\u201c{cut['text']}\u2026\u201d" in text and cut["context"] not in text
    # the canonical text (Markdown-escaped: "(FractalDB)" is a paper's words), then sources
    canonical = served.app.ask(FRACTAL_Q)
    assert text == content(canonical) and text.startswith(answer_text(canonical.lines, canonical.numbers(),
                                                                      markdown_literal) + "\n\nSources:")
    stream = served.client().chat.completions.create(
        model="paperchat", stream=True, messages=[{"role": "user", "content": FRACTAL_Q}])
    streamed = "".join(c.choices[0].delta.content or "" for c in stream)
    assert streamed == text
