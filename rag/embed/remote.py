"""Embeddings from a server that speaks OpenAI's ``/v1/embeddings`` (OpenAI, TEI, vLLM, ...).

A million abstracts take ~14 hours through the bundled model on two cores; a user with that many
papers has an embedding server or an API key. This adapter batches texts, keeps a bounded number
of requests in flight, retries 429/5xx and dropped connections with exponential backoff (honouring
``Retry-After``), and returns L2-normalised float32 vectors like every other embedder. Resuming
after a crash is the ingest's business: it writes each finished step to the staging generation.

The operator's ``OPENAI_API_KEY`` is sent only to the operator's endpoint (``OPENAI_BASE_URL``,
else api.openai.com); another embeddings URL gets ``PAPERCHAT_EMBED_API_KEY`` or no key at all.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from rag.backends import OPENAI_URL
from rag.errors import ModelError
from rag.settings import Settings
from rag.text.sanitize import public_url

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class EmbedEndpoint:
    """Where embeddings requests go and the key they carry (None: no Authorization header)."""

    url: str
    api_key: str | None


def _norm_url(url: str | None) -> str:
    return (url or "").strip().rstrip("/")


def embed_endpoint(settings: Settings) -> EmbedEndpoint:
    """The embeddings URL and key the settings allow. Pure: no request is made."""
    url = _norm_url(settings.embed_base_url) or _norm_url(settings.openai_base_url) or OPENAI_URL
    if not url.startswith(("http://", "https://")):
        raise ModelError(f"the embeddings URL must look like http://host:port/v1, got {url[:80]!r}")
    own = settings.embed_api_key.get_secret_value() if settings.embed_api_key is not None else ""
    if own:
        return EmbedEndpoint(url, own)
    operator = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else ""
    operator_url = _norm_url(settings.openai_base_url) or OPENAI_URL
    return EmbedEndpoint(url, operator if operator and url == operator_url else None)


def embedder_name(model: str, dimensions: int | None) -> str:
    """The name recorded in the index: a query must be embedded by the same model and size."""
    return f"openai:{model}" + (f":dim{dimensions}" if dimensions else "")


class OpenAIEmbedder:
    """Client of one ``/v1/embeddings`` endpoint. Thread-safe; the HTTP client is built lazily."""

    def __init__(self, endpoint: EmbedEndpoint, model: str, *, count_tokens: Callable[[str], int],
                 dimensions: int | None = None, batch_size: int = 256, max_in_flight: int = 4,
                 max_retries: int = 6, timeout_s: float = 60.0, backoff_s: float = 0.5) -> None:
        self.endpoint = endpoint
        self.model = model
        self.name = embedder_name(model, dimensions)
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        # the ingest writes this many texts per step: every request of a step is in flight at once
        self.write_batch = batch_size * max_in_flight
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self._count_tokens = count_tokens
        self._dim: int | None = dimensions
        self._client = None
        self._lock = threading.Lock()

    # --- the Embedder protocol -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """The vector size; asks the server once when neither configured nor seen yet."""
        if self._dim is None:
            self.embed_query("dimension probe")
        assert self._dim is not None
        return self._dim

    def count_tokens(self, text: str) -> int:
        return self._count_tokens(text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(batches) == 1 or self.max_in_flight == 1:
            return np.vstack([self._request(b) for b in batches])
        with ThreadPoolExecutor(max_workers=min(self.max_in_flight, len(batches))) as pool:
            return np.vstack(list(pool.map(self._request, batches)))

    def embed_query(self, text: str) -> np.ndarray:
        return self._request([text])[0]

    # --- HTTP ------------------------------------------------------------------------------------
    def _http(self):
        import httpx

        with self._lock:
            if self._client is None:
                headers = {"content-type": "application/json"}
                if self.endpoint.api_key:
                    headers["authorization"] = f"Bearer {self.endpoint.api_key}"
                limits = httpx.Limits(max_connections=self.max_in_flight + 1)
                self._client = httpx.Client(timeout=self.timeout_s, headers=headers, limits=limits)
            return self._client

    def _request(self, texts: list[str]) -> np.ndarray:
        import httpx

        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.dimensions:
            body["dimensions"] = self.dimensions
        url = f"{self.endpoint.url}/embeddings"
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                r = self._http().post(url, json=body)
            except httpx.TransportError as e:  # refused, reset, timed out
                if last:
                    raise ModelError(f"embeddings server {public_url(url)} unreachable after {attempt + 1} tries: "
                                     f"{type(e).__name__}: {e}") from e
                time.sleep(self._backoff(attempt, None))
                continue
            if r.status_code == 200:
                return self._parse(r, url, len(texts))
            if r.status_code in _RETRY_STATUS and not last:
                time.sleep(self._backoff(attempt, r.headers.get("retry-after")))
                continue
            raise ModelError(f"embeddings server {public_url(url)} answered {r.status_code}"
                             + (f" after {attempt + 1} tries" if attempt else "") + f": {_message(r)}")
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), _MAX_BACKOFF_S)
            except ValueError:
                pass  # an HTTP date: fall back to our own schedule
        return min(self.backoff_s * 2**attempt, _MAX_BACKOFF_S) * (0.5 + random.random() / 2)

    def _parse(self, r, url: str, n: int) -> np.ndarray:
        try:
            data = r.json()["data"]
            rows = sorted(data, key=lambda d: d["index"])
            vecs = [_vector(d["embedding"]) for d in rows]
        except (ValueError, KeyError, TypeError) as e:
            raise ModelError(f"embeddings server {public_url(url)} sent a reply that is not an embeddings list: "
                             f"{r.text[:200]!r}") from e
        if len(vecs) != n or [d["index"] for d in rows] != list(range(n)):
            raise ModelError(f"embeddings server {public_url(url)} returned {len(vecs)} vectors for {n} texts")
        out = np.asarray(vecs, dtype=np.float32)
        with self._lock:
            if self._dim is None:
                self._dim = out.shape[1]
            if out.shape[1] != self._dim:
                raise ModelError(f"embeddings server {public_url(url)} returned {out.shape[1]}-dimensional vectors for "
                                 f"model {self.model!r}, expected {self._dim}")
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)


def _vector(value) -> list[float]:
    """A float list, or the base64 little-endian float32 some servers send regardless."""
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f4").tolist()
    if not isinstance(value, list):
        raise TypeError("embedding is not a list")
    return value


def _message(r) -> str:
    try:
        err = r.json().get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
    except (ValueError, AttributeError):
        pass
    return r.text[:200] or r.reason_phrase


def openai_embedder_from(settings: Settings, count_tokens: Callable[[str], int]) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        embed_endpoint(settings), settings.embed_api_model, count_tokens=count_tokens,
        dimensions=settings.embed_dimensions, batch_size=settings.embed_api_batch,
        max_in_flight=settings.embed_max_in_flight, max_retries=settings.embed_max_retries,
        timeout_s=settings.embed_timeout_s,
    )
