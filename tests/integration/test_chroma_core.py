"""Reading an embedded index through Chroma's Rust core gives what the full client gives.

A store opened over an existing index reads through :class:`rag.storage.chroma_core.CoreReader`
(no ``chromadb`` import: about a second less per command); these tests compare every read it
serves with the full ``chromadb.PersistentClient`` on the same files, and check that the first
write moves the store onto the full client for good.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.storage.chroma import Active, ChromaStore, _client
from rag.storage.chroma_core import CoreReader, open_reader


@pytest.fixture
def indexed(app: Paperchat, small_corpus: Path) -> Paperchat:
    app.ingest([small_corpus])
    return app


def _pair(app: Paperchat) -> tuple[ChromaStore, ChromaStore]:
    core = ChromaStore(app.settings)
    assert isinstance(core._client, CoreReader)
    return core, ChromaStore(app.settings, client=_client(app.settings))


def test_every_read_matches_the_full_client(indexed: Paperchat):
    core, full = _pair(indexed)
    active = full.active()
    assert active is not None and core.active() == active
    assert core.generations() == full.generations() == [active.collection]
    name = active.collection
    assert core.count(name) == full.count(name) > 20
    assert core.embedder_of(name) == full.embedder_of(name) == indexed.embedder.name
    assert core.ids(name) == full.ids(name)
    assert core.chunk_ids_by_paper(name) == full.chunk_ids_by_paper(name)
    assert core.load_papers(active) == full.load_papers(active)

    some = sorted(full.ids(name))[:7]
    got_core, got_full = core.get(name, some, embeddings=True), full.get(name, some, embeddings=True)
    assert got_core["ids"] == got_full["ids"] and got_core["documents"] == got_full["documents"]
    assert got_core["metadatas"] == got_full["metadatas"]
    assert np.allclose(np.asarray(got_core["embeddings"]), np.asarray(got_full["embeddings"]))

    vector = indexed.embedder.embed_query("which papers skip warmup?")
    cases = [dict(), dict(where={"chunk_index": 0}), dict(ids=some), dict(documents=False, metadatas=False),
             dict(where={"$and": [{"n_chunks": {"$gte": 2}}, {"chunk_index": {"$lte": 1}}]})]
    for kwargs in cases:
        a, b = core.query(name, vector, 9, **kwargs), full.query(name, vector, 9, **kwargs)
        assert [r[0] for r in a] == [r[0] for r in b], kwargs
        assert [r[2:] for r in a] == [r[2:] for r in b], kwargs
        assert np.allclose([r[1] for r in a], [r[1] for r in b]), kwargs
        assert a, kwargs


def test_a_bad_filter_is_one_store_error_from_either_client(indexed: Paperchat):
    from rag.errors import StoreError

    core, full = _pair(indexed)
    name = full.active().collection
    vector = indexed.embedder.embed_query("warmup")
    for store in (core, full):
        with pytest.raises(StoreError, match="querying"):
            store.query(name, vector, 3, where={"year": {"$nonsense": 1}})


def test_the_first_write_moves_the_store_onto_the_full_client(indexed: Paperchat):
    core, _ = _pair(indexed)
    before = core.active()
    core.set_active(Active(collection=before.collection, generation=before.generation + 7,
                           embedder=before.embedder, dim=before.dim))
    assert not isinstance(core._client, CoreReader)
    assert core.active().generation == before.generation + 7  # read back through the writer
    core.set_active(before)
    assert ChromaStore(indexed.settings).active() == before  # and a fresh reader sees it on disk


def test_searches_of_a_fresh_process_read_through_the_core(indexed: Paperchat):
    reader = Paperchat(indexed.settings, embedder=indexed.embedder)
    assert isinstance(reader.store._client, CoreReader)
    a = reader.search("which papers skip warmup?", k=5)
    b = indexed.search("which papers skip warmup?", k=5)
    assert [(h.paper.paper_id, h.best_chunk) for h in a.hits] == [(h.paper.paper_id, h.best_chunk) for h in b.hits]
    assert np.allclose([h.score for h in a.hits], [h.score for h in b.hits])


def test_without_a_database_the_full_client_opens_it(home: Path):
    settings = load_settings(llm_backend="none")
    assert open_reader(settings.chroma_path) is None
    store = ChromaStore(settings)
    assert not isinstance(store._client, CoreReader)
    assert store.active() is None
    assert (settings.chroma_path / "chroma.sqlite3").is_file()


def test_search_never_imports_chromadb_python(indexed: Paperchat):
    code = ("import sys; from rag.paperchat import Paperchat; from rag.settings import load_settings; "
            "app = Paperchat(load_settings(llm_backend='none')); hits = app.search('warmup', k=3).hits; "
            "assert hits; print(sorted(m for m in sys.modules if m.split('.')[0] == 'chromadb'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
