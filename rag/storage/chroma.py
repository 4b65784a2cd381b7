"""Chroma adapter: embedded ``PersistentClient`` by default, ``HttpClient`` when CHROMA_HOST is set.

This module owns the Chroma client: collections, the pointer to the live generation, paged reads
and writes, queries. What a chunk record holds (the paper fields on every chunk, the whole abstract
on a paper's head chunk) and how filters become a ``where`` clause is :mod:`rag.storage.chroma_layout`.

The index lives in *generations*: each ingest that changes something writes a new collection and
then flips one pointer record (a single upsert, atomic in Chroma). Readers only follow the
pointer, so an ingest killed half-way leaves the previous generation answering. We always pass
our own embeddings; Chroma's default embedding function (which downloads a model) is never used.

An embedded store reads through Chroma's Rust core (:mod:`rag.storage.chroma_core`: a second less
at start) until its first write, which opens the full client for everything after.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.settings import Settings
from rag.storage.chroma_core import CoreReader, open_reader
from rag.storage.chroma_layout import paper_from_metadata
from rag.types.papers import Paper

_POINTER_ID = "active"
_GET_PAGE = 2000
_MAX_UPSERT = 5000  # below Chroma's own limit; bigger batches gain nothing


@dataclass(frozen=True)
class Active:
    """The live index: its Chroma collection, generation number, embedder name and vector size
    (None in pointers written before sizes were recorded)."""

    collection: str
    generation: int
    embedder: str
    dim: int | None = None


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as e:  # chromadb raises ValueError / httpx errors / its own types
        where = (f"Chroma server at {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host
                 else f"embedded Chroma at {settings.chroma_path}")
        raise StoreError(f"cannot open {where}: {e}") from e


class ChromaStore:
    """Thin wrapper over a Chroma client; every method names the collection it touches."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.prefix = settings.collection
        self.where = (f"Chroma server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host
                      else f"embedded Chroma at {settings.chroma_path}")
        self._settings = settings
        reader = open_reader(settings.chroma_path) if client is None and not settings.chroma_host else None
        self._client = client if client is not None else reader or _client(settings)
        self._max_batch: int | None = None

    def load_papers(self, active: Active) -> list[Paper]:
        """Rebuild the paper list from the head chunk of each paper (it carries the whole abstract)."""
        papers = [paper_from_metadata(meta, meta.get("abstract", ""))
                  for _id, _doc, meta in self.iter_all(active.collection, where={"chunk_index": 0})]
        papers.sort(key=lambda p: (p.source, p.line))
        return papers

    def chunk_ids_by_paper(self, name: str) -> dict[str, list[str]]:
        """paper_id -> its chunk ids in chunk order (for a catalogue built from an older index)."""
        col = self.collection(name)
        out: dict[str, list[tuple[int, str]]] = {}
        try:
            for off in range(0, col.count(), _GET_PAGE):
                got = col.get(include=["metadatas"], limit=_GET_PAGE, offset=off)
                for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                    out.setdefault(meta["paper_id"], []).append((int(meta.get("chunk_index", 0)), cid))
        except Exception as e:
            raise self._fail(f"listing chunks of {name}", e) from e
        return {pid: [cid for _, cid in sorted(v)] for pid, v in out.items()}

    def _writable(self):
        """The full client: the one it reads through, or, for a store reading through Chroma's
        core, one opened now, through which every later read goes too (so a reader never misses
        what this process wrote)."""
        if isinstance(self._client, CoreReader):
            self._client = _client(self._settings)
        return self._client

    # --- errors --------------------------------------------------------------------------------
    def _fail(self, action: str, e: Exception) -> StoreError:
        return StoreError(f"{self.where}: {action} failed: {e}")

    # --- the pointer ---------------------------------------------------------------------------
    def _meta(self):
        return self._writable().get_or_create_collection(f"{self.prefix}_meta", embedding_function=None)

    def active(self) -> Active | None:
        name = f"{self.prefix}_meta"
        try:
            if name not in self._names():  # never ingested: nothing to create just to read it
                return None
            got = self._client.get_collection(name, embedding_function=None).get(ids=[_POINTER_ID],
                                                                                 include=["metadatas"])
        except Exception as e:
            raise self._fail("reading the active index", e) from e
        if not got["ids"]:
            return None
        m = got["metadatas"][0]
        dim = int(m["dim"]) if m.get("dim") else None
        return Active(collection=m["collection"], generation=int(m["generation"]), embedder=m["embedder"], dim=dim)

    def set_active(self, active: Active) -> None:
        meta = {"collection": active.collection, "generation": active.generation, "embedder": active.embedder}
        if active.dim:
            meta["dim"] = active.dim
        try:
            # a one-element embedding keeps Chroma from computing one with its default model
            self._meta().upsert(ids=[_POINTER_ID], embeddings=[[0.0]], metadatas=[meta], documents=[""])
        except Exception as e:
            raise self._fail("switching the active index", e) from e

    # --- generations ---------------------------------------------------------------------------
    def generation_name(self, generation: int) -> str:
        return f"{self.prefix}_g{generation}"

    def _names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self._client.list_collections()]

    def generations(self) -> list[str]:
        pat = re.compile(rf"^{re.escape(self.prefix)}_g(\d+)$")
        try:
            names = self._names()
        except Exception as e:
            raise self._fail("listing collections", e) from e
        return sorted((n for n in names if pat.match(n)), key=lambda n: int(pat.match(n).group(1)))

    def collection(self, name: str, *, create: bool = False, embedder: str = ""):
        try:
            if create:
                return self._writable().get_or_create_collection(
                    name, embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedder": embedder},
                )
            return self._client.get_collection(name, embedding_function=None)
        except Exception as e:
            raise self._fail(f"opening collection {name}", e) from e

    def embedder_of(self, name: str) -> str:
        """The embedder a collection was created for ("" when it does not say)."""
        return str((self.collection(name).metadata or {}).get("embedder", ""))

    def drop(self, name: str) -> None:
        try:
            self._writable().delete_collection(name)
        except Exception as e:
            raise self._fail(f"deleting collection {name}", e) from e

    # --- records -------------------------------------------------------------------------------
    def add(self, name: str, ids: list[str], embeddings: np.ndarray, documents: list[str],
            metadatas: list[dict]) -> None:
        if not ids:
            return
        self._writable()
        col = self.collection(name)
        vectors = np.asarray(embeddings, dtype=np.float32)
        step = self.max_batch()
        try:
            for off in range(0, len(ids), step):  # Chroma refuses a batch above its limit
                end = off + step
                col.upsert(ids=ids[off:end], embeddings=vectors[off:end], documents=documents[off:end],
                           metadatas=metadatas[off:end])
        except Exception as e:
            raise self._fail(f"writing {len(ids)} chunks to {name}", e) from e

    def max_batch(self) -> int:
        """The most records one upsert may carry (Chroma's limit: 5461 embedded, the server's own)."""
        if self._max_batch is None:
            try:
                self._max_batch = max(1, min(int(self._writable().get_max_batch_size()), _MAX_UPSERT))
            except Exception:  # an older server without the endpoint
                self._max_batch = _GET_PAGE
        return self._max_batch

    def ids(self, name: str) -> set[str]:
        col = self.collection(name)
        out: set[str] = set()
        try:
            total = col.count()
            for off in range(0, total, _GET_PAGE):
                out.update(col.get(include=[], limit=_GET_PAGE, offset=off)["ids"])
        except Exception as e:
            raise self._fail(f"listing ids of {name}", e) from e
        return out

    def get(self, name: str, ids: list[str], *, embeddings: bool = False) -> dict:
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        col = self.collection(name)
        out: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        try:
            for off in range(0, len(ids), _GET_PAGE):
                got = col.get(ids=ids[off : off + _GET_PAGE], include=include)
                out["ids"] += got["ids"]
                out["documents"] += got["documents"]
                out["metadatas"] += got["metadatas"]
                if embeddings:
                    out["embeddings"] += list(got["embeddings"])
        except Exception as e:
            raise self._fail(f"reading chunks of {name}", e) from e
        return out

    def iter_all(self, name: str, where: dict | None = None) -> Iterator[tuple[str, str, dict]]:
        """Every (id, document, metadata) in pages, so 100k-paper indexes stream."""
        col = self.collection(name)
        try:
            off = 0
            while True:
                got = col.get(where=where, include=["documents", "metadatas"], limit=_GET_PAGE, offset=off)
                if not got["ids"]:
                    return
                yield from zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                off += len(got["ids"])
        except StoreError:
            raise
        except Exception as e:
            raise self._fail(f"reading {name}", e) from e

    def delete(self, name: str, ids: list[str]) -> None:
        if not ids:
            return
        self._writable()
        col = self.collection(name)
        try:
            for off in range(0, len(ids), _GET_PAGE):
                col.delete(ids=ids[off : off + _GET_PAGE])
        except Exception as e:
            raise self._fail(f"deleting chunks from {name}", e) from e

    def count(self, name: str) -> int:
        try:
            return self.collection(name).count()
        except StoreError:
            raise
        except Exception as e:
            raise self._fail(f"counting {name}", e) from e

    def query(self, name: str, vector: np.ndarray, n: int, where: dict | None = None, *,
              documents: bool = True, metadatas: bool = True, at_most: int | None = None,
              ids: Sequence[str] | None = None) -> list[tuple[str, float, str, dict]]:
        """Nearest chunks as (id, cosine similarity, document, metadata), best first.
        ``documents=False`` / ``metadatas=False`` leave them out ("" / {} in their place): reading
        them is most of a query's cost on a large collection, and a search shows a handful.
        ``at_most``: a lower bound of the collection's size the caller knows: up to it, ``n`` is
        asked for without counting the collection first (a count costs 10 ms at 100k chunks).
        ``ids``: search only among these chunks (all of which the caller knows exist): at 1M
        chunks, 36k ids took 58 ms where the same filter as ``where`` took 609 ms
        (bench/results/chroma-ids-2026-12-02.md)."""
        col = self.collection(name)
        include = ["distances"] + (["metadatas"] if metadatas else []) + (["documents"] if documents else [])
        try:
            if ids is not None:
                n = min(n, len(ids))
            elif at_most is None or n > at_most:  # only a collection this small needs the count
                n = min(n, col.count())
            if n <= 0:
                return []
            got = col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=n,
                            where=where, include=include, ids=list(ids) if ids is not None else None)
        except Exception as e:
            raise self._fail(f"querying {name}", e) from e
        ids = got["ids"][0]
        docs = got["documents"][0] if documents else [""] * len(ids)
        metas = got["metadatas"][0] if metadatas else [{} for _ in ids]
        return [(i, 1.0 - float(d), doc, meta)
                for i, d, doc, meta in zip(ids, got["distances"][0], docs, metas, strict=True)]


def store_from(settings: Settings) -> ChromaStore:
    return ChromaStore(settings)
