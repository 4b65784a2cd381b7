"""PAPERCHAT_EMBED_MODEL=openai against a real HTTP server on 127.0.0.1 speaking /v1/embeddings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from embeddings_server import EmbeddingsServer, text_vector
from helpers import paper_record, write_jsonl

from rag.embed.bundled import embedder_from
from rag.embed.remote import EmbedEndpoint, OpenAIEmbedder, embed_endpoint
from rag.errors import IndexMissingError, ModelError
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.types.papers import Paper


@pytest.fixture
def server() -> Iterator[EmbeddingsServer]:
    with EmbeddingsServer({"text-embedding-3-small": 64, "other-model": 48}) as srv:
        yield srv


def _embedder(srv: EmbeddingsServer, **kw) -> OpenAIEmbedder:
    kw.setdefault("backoff_s", 0.001)
    return OpenAIEmbedder(EmbedEndpoint(srv.url, None), "text-embedding-3-small", count_tokens=len, **kw)


def test_batches_keep_input_order_and_are_normalised(server: EmbeddingsServer) -> None:
    texts = [f"paper {i} about warmup schedules number {i}" for i in range(10)]
    vecs = _embedder(server, batch_size=4).embed_documents(texts)
    assert sorted(len(r.json["input"]) for r in server.requests) == [2, 4, 4]  # in parallel
    assert all(r.json["encoding_format"] == "float" and r.json["model"] == "text-embedding-3-small"
               for r in server.requests)
    assert vecs.shape == (10, 64) and vecs.dtype == np.float32
    # the server shuffles data[]; rows still follow the input
    expected = np.vstack([text_vector(t, 64) for t in texts])
    assert np.allclose(vecs, expected, atol=1e-6)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_retries_429_and_5xx_then_succeeds(server: EmbeddingsServer) -> None:
    server.fail_next(429, 503, 500)
    vec = _embedder(server).embed_query("learning rate warmup")
    assert len(server.requests) == 4
    assert np.allclose(vec, text_vector("learning rate warmup", 64), atol=1e-6)


def test_gives_up_after_max_retries_with_a_clear_error(server: EmbeddingsServer) -> None:
    server.fail_next(503, 503, 503)
    with pytest.raises(ModelError, match=r"answered 503 after 3 tries: The server had an error"):
        _embedder(server, max_retries=2).embed_query("x")
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(server: EmbeddingsServer) -> None:
    emb = OpenAIEmbedder(EmbedEndpoint(server.url, None), "no-such-model", count_tokens=len, backoff_s=0.001)
    with pytest.raises(ModelError, match=r"answered 404: The model `no-such-model` does not exist"):
        emb.embed_query("x")
    assert len(server.requests) == 1


def test_unreachable_server_is_named(server: EmbeddingsServer) -> None:
    from helpers import free_port

    emb = OpenAIEmbedder(EmbedEndpoint(f"http://127.0.0.1:{free_port()}/v1", None), "m", count_tokens=len,
                         max_retries=1, backoff_s=0.001)
    with pytest.raises(ModelError, match=r"unreachable after 2 tries"):
        emb.embed_query("x")


def test_requests_in_flight_are_bounded(server: EmbeddingsServer) -> None:
    server.delay_s = 0.05
    vecs = _embedder(server, batch_size=2, max_in_flight=3).embed_documents([f"text {i}" for i in range(24)])
    assert vecs.shape == (24, 64)
    assert len(server.requests) == 12
    assert server.max_in_flight == 3  # parallel, but never more than the bound


def test_dimensions_are_asked_for_and_named(server: EmbeddingsServer) -> None:
    emb = _embedder(server, dimensions=16)
    assert emb.name == "openai:text-embedding-3-small:dim16"
    assert emb.embed_query("warmup").shape == (16,)
    assert server.requests[-1].json["dimensions"] == 16


def test_a_server_changing_vector_size_is_an_error(server: EmbeddingsServer) -> None:
    emb = _embedder(server)
    assert emb.dim == 64  # probed once
    server.models["text-embedding-3-small"] = 32
    with pytest.raises(ModelError, match=r"returned 32-dimensional vectors .* expected 64"):
        emb.embed_query("warmup")


# --- which key goes where --------------------------------------------------------------------------

def test_operator_key_goes_only_to_the_operator_endpoint(server: EmbeddingsServer) -> None:
    # the embeddings URL is not the operator's endpoint (api.openai.com): no key is sent there
    s = load_settings(embed_model="openai", embed_base_url=server.url, openai_api_key="sk-operator-secret")
    assert embed_endpoint(s) == EmbedEndpoint(server.url, None)
    embedder_from(s).embed_query("x")
    assert server.requests[-1].authorization is None

    # OPENAI_BASE_URL is the operator's endpoint: embeddings default to it, with the key
    s = load_settings(embed_model="openai", openai_base_url=server.url + "/", openai_api_key="sk-operator-secret")
    embedder_from(s).embed_query("x")
    assert server.requests[-1].authorization == "Bearer sk-operator-secret"

    # another URL with its own key gets that key, never the operator's
    s = load_settings(embed_model="openai", embed_base_url=server.url, embed_api_key="tei-key",
                      openai_base_url="http://127.0.0.1:9/v1", openai_api_key="sk-operator-secret")
    embedder_from(s).embed_query("x")
    assert server.requests[-1].authorization == "Bearer tei-key"

    assert embed_endpoint(load_settings(embed_model="openai", openai_api_key="sk-a")) == EmbedEndpoint(
        "https://api.openai.com/v1", "sk-a")


def test_a_key_the_server_refuses_is_a_clear_error() -> None:
    with EmbeddingsServer(api_key="right-key") as srv:
        s = load_settings(embed_model="openai", embed_base_url=srv.url, embed_api_key="wrong-key")
        with pytest.raises(ModelError, match=r"answered 401: Incorrect API key"):
            embedder_from(s).embed_query("x")
        assert len(srv.requests) == 1


# --- ingest and search through the server -----------------------------------------------------------

def _settings(srv: EmbeddingsServer, **kw):
    kw = {"embed_api_batch": 8, "embed_max_in_flight": 2, **kw}
    return load_settings(embed_model="openai", embed_base_url=srv.url, **kw)


def test_ingest_and_search_with_server_embeddings(server: EmbeddingsServer, small_corpus: Path,
                                                  small_papers: list[Paper]) -> None:
    app = Paperchat(_settings(server))
    _, report = app.ingest([small_corpus])
    assert report.chunks_embedded >= len(small_papers)
    assert app.store.active().embedder == "openai:text-embedding-3-small"
    assert app.store.active().dim == 64
    target = small_papers[3]
    res = app.search(target.title, k=3, mode="dense")
    assert res.hits[0].paper.paper_id == target.paper_id
    # a new process with the same settings reuses the index; the query goes to the same model
    res = Paperchat(_settings(server)).search(target.title, k=3)
    assert res.hits[0].paper.paper_id == target.paper_id
    assert server.requests[-1].json["input"] == [target.title]


def test_an_index_refuses_another_model_or_size(server: EmbeddingsServer, small_corpus: Path) -> None:
    Paperchat(_settings(server)).ingest([small_corpus])
    with pytest.raises(IndexMissingError, match=r"built with embedder 'openai:text-embedding-3-small' but "
                                                 r"settings ask for 'openai:other-model'"):
        Paperchat(_settings(server, embed_api_model="other-model")).search("warmup")
    with pytest.raises(IndexMissingError, match=r"'openai:text-embedding-3-small:dim16'"):
        Paperchat(_settings(server, embed_dimensions=16)).search("warmup")
    # the same name now serving another size: refused at query time, not answered with nonsense
    server.models["text-embedding-3-small"] = 48
    with pytest.raises(IndexMissingError, match=r"holds 64-dimensional vectors .* returns 48-dimensional"):
        Paperchat(_settings(server)).search("warmup", mode="dense")
    # BM25 needs no query vector and still answers
    assert Paperchat(_settings(server)).search("warmup", mode="bm25").papers_total == 20


def test_a_server_dying_mid_ingest_leaves_the_old_index_and_resumes(
        server: EmbeddingsServer, tmp_path: Path, small_papers: list[Paper]) -> None:
    first = small_papers[:5]
    app = Paperchat(_settings(server, embed_max_in_flight=1))
    app.ingest([write_jsonl(tmp_path / "a.jsonl", [paper_record(p) for p in first])])
    before = app.search(first[0].title, k=5)

    both = write_jsonl(tmp_path / "b.jsonl", [paper_record(p) for p in small_papers])
    # two more requests succeed (the size probe, one step of 8 chunks), then the server fails
    server.fail_after = len(server.requests) + 2
    with pytest.raises(ModelError, match="answered 500"):
        Paperchat(_settings(server, embed_max_in_flight=1, embed_max_retries=1)).ingest([both])
    server.fail_after = None

    # the old index still answers as before
    after = Paperchat(_settings(server)).search(first[0].title, k=5)
    assert [h.paper.paper_id for h in after.hits] == [h.paper.paper_id for h in before.hits]
    assert after.papers_total == 5

    sent_before = server.texts_embedded
    _, report = Paperchat(_settings(server)).ingest([both])
    assert report.papers_total == 20
    # what was embedded before the crash is reused, not sent again
    assert 0 < report.chunks_embedded < report.chunks_total - report.chunks_reused + 8
    assert report.chunks_reused >= 8 + len(first)  # the step written before the crash, and the old papers
    assert server.texts_embedded - sent_before == report.chunks_embedded + 1  # + the size probe


def test_concurrent_queries_share_one_client(server: EmbeddingsServer) -> None:
    emb = _embedder(server)
    errors: list[Exception] = []

    def run() -> None:
        try:
            for i in range(5):
                emb.embed_query(f"query {i}")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(server.requests) == 20
