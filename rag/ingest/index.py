"""Ingest: papers -> chunks -> embeddings -> Chroma, BM25 + catalogue -> atomic switch.

Each generation gets its BM25 index and paper catalogue (rag/retrieve/derived.py), written before the
pointer moves, so no serving process builds them at open. Two ways to a new generation:

- **update in place** (same embedder, the live generation has its files): only new or changed
  papers are chunked and embedded, into the live collection; readers ignore chunks their
  catalogue does not list, so nothing is visible before the pointer moves. Cost follows the
  change: adding 1,000 papers to a large index does not copy it.
- **rebuild** (first ingest, another embedder, an index from an older version): a new collection;
  chunk ids are content hashes, so a chunk already embedded (in the live generation or in one
  left by a killed ingest) is copied, not re-embedded.

Crash-safe either way: readers follow the pointer, which moves only when the generation is complete.
This module chooses the way and rebuilds; the update in place is :mod:`rag.ingest.update`, and both
write chunks through :mod:`rag.ingest.writes` and report with :mod:`rag.ingest.report`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from rag.embed.bundled import Embedder
from rag.errors import IndexMissingError, StoreError
from rag.ingest.chunk import Chunker
from rag.ingest.report import IngestReport, Progress
from rag.ingest.update import ingest_in_place
from rag.ingest.writes import embed_and_write, refresh_metadata, write_chunks
from rag.retrieve.derived import build_derived, build_from_store, derived_path, drop_derived, try_open
from rag.settings import Settings
from rag.storage.chroma import Active, ChromaStore
from rag.types.papers import Chunk, Paper


def require_active(store: ChromaStore, embedder_name: str | None = None) -> Active:
    active = store.active()
    if active is None:
        raise IndexMissingError("the index is empty: run `paperchat ingest` first")
    if embedder_name is not None and active.embedder != embedder_name:
        raise IndexMissingError(
            f"the index was built with embedder {active.embedder!r} but settings ask for {embedder_name!r}: "
            "run `paperchat ingest` again, or set PAPERCHAT_EMBED_MODEL to match"
        )
    return active


def ingest(
    papers: Sequence[Paper],
    store: ChromaStore,
    embedder: Embedder,
    settings: Settings,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Merge ``papers`` into the index (or replace its contents with them when ``replace``).

    A paper whose id exists is updated when its content hash differs. Returns what happened;
    raises StoreError / ModelError without touching the live generation.
    """
    t0 = time.perf_counter()
    active = store.active()
    if active is not None and active.collection not in store.generations():
        active = None  # pointer to a dropped collection: treat as empty
    previous = (try_open(derived_path(settings, store.generation_name(active.generation)))
                if active is not None else None)
    old: dict[str, Paper] | None = None  # every paper: read only for a rebuild
    if previous is not None:
        old_hash = previous.catalogue.hashes()  # ids and hashes only: an update reads no paper
    elif active is not None:
        old = {p.paper_id: p for p in store.load_papers(active)}
        old_hash = {pid: p.content_hash for pid, p in old.items()}
    else:
        old, old_hash = {}, {}

    incoming = {p.paper_id: p for p in papers}
    new = sum(1 for pid in incoming if pid not in old_hash)
    changed = sum(1 for pid, p in incoming.items() if pid in old_hash and old_hash[pid] != p.content_hash)
    unchanged = len(incoming) - new - changed
    gone = [pid for pid in old_hash if pid not in incoming] if replace else []
    total = len(old_hash) - len(gone) + new

    # vectors are reused only from an index of the same model and size
    same_model = (active is not None and active.embedder == embedder.name
                  and (not active.dim or active.dim == embedder.dim))
    if same_model and not gone and new == 0 and changed == 0:
        if previous is None:  # an index from an older version: give it its BM25 file and catalogue
            build_from_store(settings, store, active)
        return IngestReport(
            papers_total=total, papers_new=0, papers_changed=0, papers_unchanged=unchanged,
            chunks_total=store.count(active.collection), chunks_embedded=0, chunks_reused=0,
            generation=active.generation, collection=active.collection,
            seconds=time.perf_counter() - t0, up_to_date=True,
        )

    if same_model and previous is not None:
        fresh = [p for pid, p in incoming.items() if old_hash.get(pid) != p.content_hash]
        report = ingest_in_place(fresh, old_hash, gone, previous, active, store, embedder, settings, progress)
        report.papers_total = total
        report.papers_new, report.papers_changed, report.papers_unchanged = new, changed, unchanged
        report.seconds = time.perf_counter() - t0
        return report

    if old is None:
        old = {p.paper_id: p for p in previous.catalogue.papers()}  # SQLite: far faster than Chroma
    merged: dict[str, Paper] = {} if replace else dict(old)
    merged.update(incoming)
    chunker = Chunker(embedder.count_tokens, embedder.name, settings.chunk_size, settings.chunk_overlap)
    ordered = sorted(merged.values(), key=lambda p: (p.source, p.line))
    chunks: list[tuple[Paper, Chunk, int]] = []
    for paper in ordered:
        cs = chunker.chunks(paper)
        chunks.extend((paper, c, len(cs)) for c in cs)
    wanted = {c.chunk_id for _, c, _ in chunks}

    # The staging generation: the highest existing generation above the active one (left by a
    # killed ingest: its embeddings are reused), else a fresh number.
    existing = store.generations()
    gen_numbers = [int(n.rsplit("_g", 1)[1]) for n in existing]
    base = active.generation if active else 0
    leftovers = [g for g in gen_numbers if g > base]
    generation = max(leftovers) if leftovers else max([base, *gen_numbers]) + 1
    staging = store.generation_name(generation)
    if staging in existing and store.embedder_of(staging) != embedder.name:
        store.drop(staging)  # left by a killed ingest with another model: its vectors are not ours
    store.collection(staging, create=True, embedder=embedder.name)
    for name in existing:  # older leftovers are garbage from earlier crashes
        if name not in (staging, active.collection if active else None):
            store.drop(name)

    have = store.ids(staging)
    stale = sorted(have - wanted)
    store.delete(staging, stale)
    have &= wanted

    # copy embeddings that the live generation already has
    to_copy = [c for _, c, _ in chunks if c.chunk_id not in have]
    reused = len(have)
    if same_model and to_copy:
        got = store.get(active.collection, [c.chunk_id for c in to_copy], embeddings=True)
        vectors = dict(zip(got["ids"], got["embeddings"], strict=True))
        batch = [(p, c, n) for p, c, n in chunks if c.chunk_id in vectors and c.chunk_id not in have]
        write_chunks(store, staging, batch, np.array([vectors[c.chunk_id] for _, c, _ in batch]))
        have.update(c.chunk_id for _, c, _ in batch)
        reused += len(batch)

    todo = [(p, c, n) for p, c, n in chunks if c.chunk_id not in have]
    embed_and_write(todo, store, staging, embedder, settings, progress)

    # metadata may have changed without the embedded text changing (e.g. upvotes): rewrite heads
    if store.count(staging) != len(wanted):
        raise StoreError(f"generation {staging} has {store.count(staging)} chunks, expected {len(wanted)}")
    refresh_metadata(store, staging, chunks)

    # BM25 and the catalogue are built here, once per generation, before the pointer moves
    chunk_ids: dict[str, list[str]] = {}
    for p, c, _ in chunks:
        chunk_ids.setdefault(p.paper_id, []).append(c.chunk_id)
    build_derived(derived_path(settings, staging), ordered, chunk_ids)  # all re-embedded: cost is elsewhere

    store.set_active(Active(collection=staging, generation=generation, embedder=embedder.name, dim=embedder.dim))
    if active is not None and active.collection != staging:
        store.drop(active.collection)
    drop_derived(settings, keep={staging})
    return IngestReport(
        papers_total=len(merged), papers_new=new, papers_changed=changed, papers_unchanged=unchanged,
        chunks_total=len(wanted), chunks_embedded=len(todo), chunks_reused=reused, generation=generation,
        collection=staging, seconds=time.perf_counter() - t0,
    )
