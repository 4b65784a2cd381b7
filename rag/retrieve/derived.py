"""What ingest derives from a generation besides its vectors: the BM25 index, the paper catalogue
and the answer side's document frequencies (rag/retrieve/doc_freq.py).

Both live in one directory per generation (``settings.lexical_dir / <prefix>_g<n>``), written
atomically by ingest *before* the pointer flips, so a reader that follows the pointer always finds
them complete, and a killed ingest leaves the previous generation's directory untouched. Row ``i``
of the catalogue is document ``i`` of the lexical index.

An index written by an older paperchat has no such directory: the first open builds it from
Chroma (:func:`build_from_store`) and saves it for every later process. A directory written
before the document frequencies were saved gets them at the first need (:func:`doc_freq_of`).

An update (:func:`update_derived`) costs the change, not the index: the catalogue is copied and
patched, BM25 postings of unchanged papers are kept, document frequencies are adjusted.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.retrieve.doc_freq import DocFreq
from rag.retrieve.lexical import LexicalIndex, paper_tokens
from rag.settings import Settings
from rag.storage.catalogue import Catalogue
from rag.storage.catalogue_write import update_catalogue, write_catalogue
from rag.storage.fsutil import atomic_dir
from rag.types.papers import Paper

_LEXICAL = "bm25"
_DOC_FREQ = "idf"


@dataclass
class Derived:
    path: Path
    catalogue: Catalogue
    lexical: LexicalIndex
    doc_freq: DocFreq | None = None  # None: a directory from before they were saved


def derived_path(settings: Settings, generation_name: str) -> Path:
    """The directory of a generation (named like its collection, ``<prefix>_g<n>``; an update in
    place gets a new generation over the same collection)."""
    return settings.lexical_dir / generation_name


def open_derived(path: Path) -> Derived:
    """Open a written directory; FileNotFoundError / ValueError when it is missing or damaged."""
    cat = Catalogue(path)
    lex = LexicalIndex.load(path / _LEXICAL)
    if lex.n_docs != cat.n_rows or lex.n_live != len(cat):
        raise ValueError(f"{path}: catalogue has {cat.n_rows} rows ({len(cat)} papers), BM25 {lex.n_docs} "
                         f"({lex.n_live})")
    try:
        df: DocFreq | None = DocFreq.load(path / _DOC_FREQ)
    except (OSError, ValueError, KeyError):
        df = None
    if df is not None and df.n != len(cat):
        raise ValueError(f"{path}: document frequencies count {df.n} papers, the catalogue {len(cat)}")
    return Derived(path, cat, lex, df)


def try_open(path: Path) -> Derived | None:
    try:
        return open_derived(path)
    except (OSError, ValueError, KeyError):
        return None


def build_derived(path: Path, papers: Sequence[Paper], chunk_ids: dict[str, list[str]]) -> None:
    """Write the catalogue, BM25 index and document frequencies of ``papers`` (row order) into
    ``path``, atomically."""
    lexical = LexicalIndex.build(paper_tokens(p.title, p.abstract) for p in papers)
    doc_freq = DocFreq.build(papers)

    def write(tmp: Path) -> None:
        write_catalogue(tmp, papers, [chunk_ids.get(p.paper_id, []) for p in papers])
        lexical.save(tmp / _LEXICAL)
        doc_freq.save(tmp / _DOC_FREQ)

    atomic_dir(path, write)


def update_derived(path: Path, previous: Derived, remove: Sequence[str], papers: Sequence[Paper],
                   chunk_ids: dict[str, list[str]]) -> None:
    """Write into ``path`` (atomically) the files of ``previous``'s papers without ``remove`` and
    with ``papers`` (new, or changed: then also in ``remove``) in new rows, in their order.

    Nothing of ``previous`` is changed, so a crash half-way leaves it as it was. Cost: copying the
    catalogue file, the change's SQL, BM25's linear merge, analysing only ``papers`` and the
    removed ones."""
    old = previous.catalogue
    removed = old.papers_of(remove)

    def write(tmp: Path) -> None:
        live = update_catalogue(tmp, old, [p.paper_id for p in removed], papers,
                                [chunk_ids.get(p.paper_id, []) for p in papers])
        keep = live[: old.n_rows]
        previous.lexical.merged(keep, (paper_tokens(p.title, p.abstract) for p in papers)).save(tmp / _LEXICAL)
        # a generation from before the table was saved passes that on: its first answer makes it
        # (:func:`doc_freq_of`), so an update never pays a pass over every paper
        if previous.doc_freq is not None:
            previous.doc_freq.updated(removed, papers).save(tmp / _DOC_FREQ)

    atomic_dir(path, write)


def doc_freq_of(derived: Derived) -> DocFreq:
    """The generation's document frequencies; a directory from before they were saved gets them
    now, from its catalogue (one pass over every paper, once), saved beside the rest when the
    directory is writable."""
    if derived.doc_freq is not None:
        return derived.doc_freq
    table = DocFreq.build(derived.catalogue.papers())
    try:
        atomic_dir(derived.path / _DOC_FREQ, table.save)
    except OSError:
        pass  # read-only: every process pays the pass, as before
    derived.doc_freq = table
    return table


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
    """Remove the directories of generations other than ``keep`` (this collection prefix only),
    and the half-written ones a killed build left (:func:`rag.storage.fsutil.atomic_dir`'s temporary
    ``.<name>.*`` siblings: only one ingest runs at a time, and this one has finished)."""
    root = settings.lexical_dir
    if not root.is_dir():
        return
    ours = re.compile(rf"^{re.escape(settings.collection)}_g\d+$")
    unfinished = re.compile(rf"^\.{re.escape(settings.collection)}_g\d+\.")
    for d in root.iterdir():
        if d.is_dir() and ((ours.match(d.name) and d.name not in keep) or unfinished.match(d.name)):
            shutil.rmtree(d, ignore_errors=True)
