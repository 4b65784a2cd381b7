"""What ingest derives from a generation besides its vectors: the BM25 index and the paper catalogue.

Both live in one directory per generation (``settings.lexical_dir / <prefix>_g<n>``), written
atomically by ingest *before* the pointer flips, so a reader that follows the pointer always finds
them complete, and a killed ingest leaves the previous generation's directory untouched. Row ``i``
of the catalogue is document ``i`` of the lexical index.

An index written by an older paperchat has no such directory: the first open builds it from
Chroma (:func:`build_from_store`) and saves it for every later process.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.catalogue import Catalogue, write_catalogue
from rag.fsutil import atomic_dir
from rag.lexical import LexicalIndex, paper_tokens
from rag.settings import Settings
from rag.types import Paper

_LEXICAL = "bm25"


@dataclass
class Derived:
    path: Path
    catalogue: Catalogue
    lexical: LexicalIndex


def derived_path(settings: Settings, generation_name: str) -> Path:
    """The directory of a generation (named like its collection, ``<prefix>_g<n>``; an update in
    place gets a new generation over the same collection)."""
    return settings.lexical_dir / generation_name


def open_derived(path: Path) -> Derived:
    """Open a written directory; FileNotFoundError / ValueError when it is missing or damaged."""
    cat = Catalogue(path)
    lex = LexicalIndex.load(path / _LEXICAL)
    if lex.n_docs != len(cat):
        raise ValueError(f"{path}: catalogue has {len(cat)} papers, BM25 {lex.n_docs}")
    return Derived(path, cat, lex)


def try_open(path: Path) -> Derived | None:
    try:
        return open_derived(path)
    except (OSError, ValueError, KeyError):
        return None


def build_derived(path: Path, papers: Sequence[Paper], chunk_ids: dict[str, list[str]],
                  previous: Derived | None = None) -> None:
    """Write the catalogue and BM25 index of ``papers`` into ``path`` (atomically).

    With ``previous`` (the live generation's files), papers whose content is unchanged keep their
    BM25 postings and their order; only new or changed papers are tokenised, and they follow."""
    by_id = {p.paper_id: p for p in papers}
    if previous is not None:
        old_ids = list(previous.catalogue.ids())
        old_hash = previous.catalogue.hashes()
        keep = np.array([pid in by_id and by_id[pid].content_hash == old_hash[pid] for pid in old_ids],
                        dtype=bool)
        kept = {pid for pid, k in zip(old_ids, keep, strict=True) if k}
        fresh = [p for p in papers if p.paper_id not in kept]
        ordered = [by_id[pid] for pid, k in zip(old_ids, keep, strict=True) if k] + fresh
        lexical = previous.lexical.merged(keep, (paper_tokens(p.title, p.abstract) for p in fresh))
    else:
        ordered = list(papers)
        lexical = LexicalIndex.build(paper_tokens(p.title, p.abstract) for p in ordered)

    def write(tmp: Path) -> None:
        write_catalogue(tmp, ordered, [chunk_ids.get(p.paper_id, []) for p in ordered])
        lexical.save(tmp / _LEXICAL)

    atomic_dir(path, write)


def build_from_store(settings: Settings, store, active) -> Derived:
    """The files of a generation that has none (written by an older version): from Chroma, saved
    where they belong, or into a temporary directory when that is not writable."""
    papers = store.load_papers(active)
    chunk_ids = store.chunk_ids_by_paper(active.collection)
    path = derived_path(settings, store.generation_name(active.generation))
    try:
        build_derived(path, papers, chunk_ids)
    except OSError:
        path = Path(tempfile.mkdtemp(prefix="paperchat-index-"))
        build_derived(path, papers, chunk_ids)
    return open_derived(path)


def drop_derived(settings: Settings, keep: set[str]) -> None:
    """Remove the directories of generations other than ``keep`` (this collection prefix only)."""
    root = settings.lexical_dir
    if not root.is_dir():
        return
    ours = re.compile(rf"^{re.escape(settings.collection)}_g\d+$")
    for d in root.iterdir():
        if d.is_dir() and ours.match(d.name) and d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
