"""The in-place update of an index: same embedder, and the live generation has its BM25 index and
catalogue. Only new or changed papers are chunked and embedded, into the live collection, and the
next generation's files are patched from the previous one's, so the cost follows the change, not
the index. :mod:`rag.ingest.index` decides between this and a rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rag.embed.bundled import Embedder
from rag.ingest.chunk import Chunker
from rag.ingest.report import IngestReport, Progress
from rag.ingest.writes import embed_and_write, write_chunks
from rag.retrieve.derived import Derived, derived_path, drop_derived, try_open, update_derived
from rag.settings import Settings
from rag.storage.chroma import Active, ChromaStore
from rag.storage.fsutil import atomic_write_text
from rag.types.papers import Chunk, Paper

_PENDING = "stale_chunks.json"  # chunk ids an update still has to delete


def ingest_in_place(fresh: list[Paper], old_hash: dict[str, str], gone: list[str], previous: Derived,
                     active: Active, store: ChromaStore, embedder: Embedder, settings: Settings,
                     progress: Progress | None) -> IngestReport:
    """An update of an index of the same model: ``fresh`` papers (new, or changed) are chunked and
    embedded into the live collection, ``gone`` ones removed; a new generation of the BM25 index,
    catalogue and document frequencies is written from the previous one's, patched (no paper
    that did not change is read), the pointer moves, stale chunks go.

    Cost follows the change, not the index (no copy of the unchanged vectors). Readers take a
    chunk only when its id is in its paper's catalogue entry, so chunks written before the pointer
    moves (new or changed papers) and stale ones not yet deleted are invisible to them; a killed
    update leaves the previous generation answering, and the next run reuses what it wrote."""
    live = active.collection
    fresh = sorted(fresh, key=lambda p: (p.source, p.line))
    chunker = Chunker(embedder.count_tokens, embedder.name, settings.chunk_size, settings.chunk_overlap)
    chunks: list[tuple[Paper, Chunk, int]] = []
    for paper in fresh:
        cs = chunker.chunks(paper)
        chunks.extend((paper, c, len(cs)) for c in cs)
    wanted = {c.chunk_id for _, c, _ in chunks}

    # chunks already in the live collection (same text, or written by a killed update) are kept;
    # their metadata is rewritten (e.g. new upvotes), so Chroma's own filter sees the new values
    got = store.get(live, sorted(wanted), embeddings=True)
    have = dict(zip(got["ids"], got["embeddings"], strict=True))
    kept = [(p, c, n) for p, c, n in chunks if c.chunk_id in have]
    if kept:
        write_chunks(store, live, kept, np.array([have[c.chunk_id] for _, c, _ in kept]))
    todo = [(p, c, n) for p, c, n in chunks if c.chunk_id not in have]
    embed_and_write(todo, store, live, embedder, settings, progress)

    affected = [p.paper_id for p in fresh if p.paper_id in old_hash]
    old_chunks = previous.catalogue.chunk_ids(affected + gone)
    stale = sorted({cid for ids in old_chunks.values() for cid in ids} - wanted)
    stale += [cid for cid in _pending_stale(previous) if cid not in wanted]

    chunk_ids: dict[str, list[str]] = {}
    for p, c, _ in chunks:
        chunk_ids.setdefault(p.paper_id, []).append(c.chunk_id)
    numbers = [int(n.rsplit("_g", 1)[1]) for n in store.generations()]
    generation = max([active.generation, *numbers]) + 1  # above any staging collection left by a crash
    name = store.generation_name(generation)
    path = derived_path(settings, name)
    update_derived(path, previous, affected + gone, fresh, chunk_ids)
    # should the deletes below not happen (killed), the next update finds them here
    atomic_write_text(path / _PENDING, json.dumps(stale))

    store.set_active(Active(collection=live, generation=generation, embedder=embedder.name, dim=embedder.dim))
    store.delete(live, stale)
    _sweep_orphans(store, live, path)
    (path / _PENDING).unlink(missing_ok=True)
    for other in store.generations():  # staging collections left by killed full rebuilds
        if other != live:
            store.drop(other)
    drop_derived(settings, keep={name})
    removed_chunks = sum(len(v) for v in old_chunks.values())
    total = (previous.catalogue.n_chunks if previous.catalogue.has_chunks
             else sum(len(v) for v in previous.catalogue.all_chunk_ids().values())) - removed_chunks + len(chunks)
    return IngestReport(
        papers_total=0, papers_new=0, papers_changed=0, papers_unchanged=0,
        chunks_total=total, chunks_embedded=len(todo), chunks_reused=total - len(todo),
        generation=generation, collection=live, seconds=0.0,
    )


def _sweep_orphans(store: ChromaStore, live: str, path: Path) -> None:
    """Delete the chunks the new generation does not list: those a killed update wrote for papers
    that were never ingested again (an upload not retried). Only when the collection holds more
    chunks than the generation lists, so an ordinary update pays one count."""
    listed = try_open(path)
    if listed is None or not listed.catalogue.has_chunks or store.count(live) <= (listed.catalogue.n_chunks or 0):
        return
    ids, _ = listed.catalogue.chunk_columns()
    known = {x.decode("utf-8") for x in ids.tolist()}
    store.delete(live, sorted(store.ids(live) - known))


def _pending_stale(previous: Derived) -> list[str]:
    try:
        return [str(c) for c in json.loads((previous.path / _PENDING).read_text("utf-8"))]
    except (OSError, ValueError, TypeError):
        return []
