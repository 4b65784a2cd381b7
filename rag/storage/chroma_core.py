"""Reading an embedded Chroma through its Rust core, without chromadb's Python layer.

Importing ``chromadb`` costs about a second of CPU (pydantic models, the ``overrides`` decorator
checking 160 method signatures), more than a whole ``paperchat search`` may take; its Rust core,
``chromadb_rust_bindings``, imports in 20 ms. The embedded client is a thin layer over that core
(``chromadb/api/rust.py``): for reads we make the same calls on the same files, so the HNSW index,
the filters and the answers are Chroma's own.

Only reads live here. :class:`rag.storage.chroma.ChromaStore` opens the full client at its first
write and reads through it from then on, and it uses the full client from the start when this
reader cannot open the directory (no database yet, migrations to apply: the core is opened to
validate them, never to apply them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_TENANT = "default_tenant"
_DATABASE = "default_database"
_SQLITE = "chroma.sqlite3"


def _cache_size() -> int:
    """HNSW indexes kept open, as chromadb sizes it: 5 files each within the open-file limit."""
    try:
        import resource  # not on Windows

        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        limit = 512  # the C runtime's default there
    if limit <= 0:  # RLIM_INFINITY
        limit = 65536
    return max(1, limit // 5)


def _json(where: dict | None) -> str | None:
    return json.dumps(where) if where else None


class CoreCollection:
    """One collection, with the read methods of ``chromadb.Collection`` that the store uses."""

    def __init__(self, bindings: Any, model: Any) -> None:
        self._b = bindings
        self._id = str(model.id)
        self.name: str = model.name
        self.metadata: dict | None = model.metadata

    def count(self) -> int:
        return int(self._b.count(self._id, _TENANT, _DATABASE))

    def get(self, ids: Sequence[str] | None = None, where: dict | None = None, limit: int | None = None,
            offset: int | None = None, include: Sequence[str] = ("metadatas", "documents")) -> dict[str, Any]:
        got = self._b.get(self._id, list(ids) if ids is not None else None, _json(where), limit, offset or 0,
                          None, list(include), _TENANT, _DATABASE)
        return {"ids": got.ids, "documents": got.documents, "metadatas": got.metadatas,
                "embeddings": got.embeddings}

    def query(self, query_embeddings: Sequence[Any], n_results: int, where: dict | None = None,
              include: Sequence[str] = ("metadatas", "documents", "distances"),
              ids: Sequence[str] | None = None) -> dict[str, Any]:
        got = self._b.query(self._id, list(ids) if ids is not None else None, list(query_embeddings), n_results,
                            _json(where), None, list(include), _TENANT, _DATABASE)
        return {"ids": got.ids, "distances": got.distances, "documents": got.documents,
                "metadatas": got.metadatas}


class CoreReader:
    """The read side of an embedded ``chromadb.PersistentClient`` over ``path``."""

    def __init__(self, path: Path) -> None:
        import chromadb_rust_bindings as core

        sqlite = path / _SQLITE
        if not sqlite.is_file():
            raise FileNotFoundError(f"no Chroma database at {sqlite}")
        config = core.SqliteDBConfig(hash_type=core.MigrationHash.MD5,  # chromadb's default hash
                                     migration_mode=core.MigrationMode.Validate, url=str(sqlite))
        self._b = core.Bindings(allow_reset=False, sqlite_db_config=config, persist_path=str(path),
                                hnsw_cache_size=_cache_size())

    def list_collections(self) -> list[str]:
        return [c.name for c in self._b.list_collections(None, 0, _TENANT, _DATABASE)]

    def get_collection(self, name: str, embedding_function: None = None) -> CoreCollection:
        return CoreCollection(self._b, self._b.get_collection(name, _TENANT, _DATABASE))


def open_reader(path: Path) -> CoreReader | None:
    """A reader over the embedded Chroma at ``path``; None when only the full client can open it."""
    try:
        return CoreReader(path)
    except Exception:  # no database, pending migrations, another core version: the full client decides
        return None
