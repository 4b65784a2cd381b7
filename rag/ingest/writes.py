"""How chunks reach a Chroma collection during an ingest: embedded in steps, each written as it is
done (a killed ingest keeps every finished step), with their paper's metadata
(:mod:`rag.storage.chroma_layout`); and metadata rewritten where a paper changed but its text did
not. Shared by the rebuild (:mod:`rag.ingest.index`) and the in-place update (:mod:`rag.ingest.update`).
"""

from __future__ import annotations

import numpy as np

from rag.embed.bundled import Embedder
from rag.ingest.report import Progress
from rag.settings import Settings
from rag.storage.chroma import ChromaStore
from rag.storage.chroma_layout import chunk_metadata
from rag.types.papers import Chunk, Paper


def embed_and_write(todo: list[tuple[Paper, Chunk, int]], store: ChromaStore, name: str, embedder: Embedder,
                     settings: Settings, progress: Progress | None) -> None:
    """Embed ``todo``, writing each step as it is done so a crash keeps the progress."""
    # sorting by length keeps padding (and so wasted compute) small within a batch
    todo.sort(key=lambda t: len(t[1].embed_text))
    # a remote embedder says how many texts keep all its requests in flight; one step is written
    # at a time, so a crash loses at most one step
    step = int(embedder.write_batch) or max(16, settings.embed_batch_size * 4)
    if progress:
        progress(0, len(todo))
    for off in range(0, len(todo), step):
        batch = todo[off : off + step]
        vecs = embedder.embed_documents([c.embed_text for _, c, _ in batch])
        write_chunks(store, name, batch, vecs)
        if progress:
            progress(min(off + step, len(todo)), len(todo))


def write_chunks(store: ChromaStore, name: str, batch: list[tuple[Paper, Chunk, int]], vectors: np.ndarray) -> None:
    store.add(
        name,
        ids=[c.chunk_id for _, c, _ in batch],
        embeddings=vectors,
        documents=[c.text for _, c, _ in batch],
        metadatas=[chunk_metadata(p, c, n) for p, c, n in batch],
    )


def refresh_metadata(store: ChromaStore, name: str, chunks: list[tuple[Paper, Chunk, int]]) -> None:
    """Re-write metadata whose paper fields changed while the chunk text did not."""
    got = store.get(name, [c.chunk_id for _, c, _ in chunks], embeddings=True)
    current = {i: (m, e) for i, m, e in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True)}
    stale = [(p, c, n) for p, c, n in chunks if current[c.chunk_id][0] != chunk_metadata(p, c, n)]
    if stale:
        write_chunks(store, name, stale, np.array([current[c.chunk_id][1] for _, c, _ in stale]))
