"""Writing a paper catalogue (:mod:`rag.storage.catalogue`): once per generation, by ingest, never
changed after. :func:`write_catalogue` writes one from the papers; :func:`update_catalogue` patches
the previous generation's.

An update does not rewrite the catalogue (220 s at 1M papers): it copies the previous
generation's SQLite file (seconds), deletes the removed papers' rows and inserts the new ones in
one transaction, and extends the columns. Rows keep their numbers (they are the lexical index's
rows, which keep theirs too); a removed paper leaves a dead row.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.storage.catalogue_format import DB_FILE, date_how_code, date_ord_of, id_column
from rag.types.papers import Paper

if TYPE_CHECKING:
    from rag.storage.catalogue import Catalogue


def _create(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE papers (row INTEGER PRIMARY KEY, paper_id TEXT NOT NULL UNIQUE, "
               "content_hash TEXT NOT NULL, chunk_ids TEXT NOT NULL, data TEXT NOT NULL)")
    # chunk id -> row: a dense hit needs no Chroma metadata to find (and vet) its paper
    db.execute("CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, row INTEGER NOT NULL, paper_id TEXT NOT NULL) "
               "WITHOUT ROWID")


def _insert(db: sqlite3.Connection, first_row: int, papers: Sequence[Paper],
            chunk_ids: Sequence[Sequence[str]]) -> None:
    db.executemany("INSERT INTO papers VALUES (?, ?, ?, ?, ?)", (
        (first_row + i, p.paper_id, p.content_hash, json.dumps(list(c)), json.dumps(p.to_dict()))
        for i, (p, c) in enumerate(zip(papers, chunk_ids, strict=True))))
    db.executemany("INSERT OR IGNORE INTO chunks VALUES (?, ?, ?)", (
        (cid, first_row + i, p.paper_id) for i, (p, c) in enumerate(zip(papers, chunk_ids, strict=True))
        for cid in c))


def _columns(papers: Sequence[Paper]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([date_ord_of(p.date) for p in papers], dtype=np.int32),
            np.array([-1 if p.upvotes is None else p.upvotes for p in papers], dtype=np.int64),
            np.array([date_how_code(p.date, p.date_text, p.date_inferred) for p in papers], dtype=np.int8))


def _save_columns(path: Path, date_ord: np.ndarray, upvotes: np.ndarray, live: np.ndarray,
                  sources: Mapping[str, int], date_how: np.ndarray) -> None:
    np.save(path / "date_ord.npy", date_ord)
    np.save(path / "upvotes.npy", upvotes)
    np.save(path / "live.npy", live)
    np.save(path / "date_how.npy", date_how)
    (path / "facts.json").write_text(json.dumps({"sources": dict(sorted(sources.items()))}), "utf-8")


def _chunk_columns(first_row: int, chunk_ids: Sequence[Sequence[str]],
                   taken: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The chunks table's new entries as columns, as ``INSERT OR IGNORE`` leaves them: a chunk id
    already in ``taken`` or met earlier keeps its first row."""
    seen = set() if taken is None else {bytes(x) for x in np.asarray(taken)}
    ids, rows = [], []
    for i, cids in enumerate(chunk_ids):
        for cid in cids:
            key = cid.encode("utf-8")
            if key not in seen:
                seen.add(key)
                ids.append(key)
                rows.append(first_row + i)
    return id_column(ids), np.array(rows, dtype=np.int64)


def _save_chunk_columns(path: Path, ids: np.ndarray, rows: np.ndarray) -> None:
    np.save(path / "chunk_id.npy", ids)
    np.save(path / "chunk_row.npy", rows.astype(np.int64))


def write_catalogue(path: Path, papers: Sequence[Paper], chunk_ids: Sequence[Sequence[str]]) -> None:
    """Write the catalogue of ``papers`` (row order) into directory ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path / DB_FILE)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        _create(db)
        _insert(db, 0, papers, chunk_ids)
        db.commit()
    finally:
        db.close()
    date_ord, upvotes, date_how = _columns(papers)
    _save_columns(path, date_ord, upvotes, np.ones(len(papers), dtype=bool), Counter(p.source for p in papers),
                  date_how)
    _save_chunk_columns(path, *_chunk_columns(0, chunk_ids))


def update_catalogue(path: Path, previous: Catalogue, remove: Sequence[str], papers: Sequence[Paper],
                     chunk_ids: Sequence[Sequence[str]]) -> np.ndarray:
    """Write into directory ``path`` the catalogue of ``previous`` without the papers ``remove``
    and with ``papers`` added in new rows after the last one (a changed paper is removed and added).
    Returns the new live mask over rows (what the lexical index's update needs as ``keep``,
    extended by the new rows). ``previous``'s files are only read."""
    path.mkdir(parents=True, exist_ok=True)
    gone = previous.rows_and_chunks(remove)
    old_sources = Counter(p.source for p in previous.papers_of(list(gone)))
    shutil.copyfile(previous.path / DB_FILE, path / DB_FILE)  # a file copy: seconds at 1M papers
    db = sqlite3.connect(path / DB_FILE)
    try:
        db.execute("PRAGMA journal_mode=OFF")  # a private copy in a temporary directory
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        db.executemany("DELETE FROM papers WHERE row = ?", ((row,) for row, _ in gone.values()))
        db.executemany("DELETE FROM chunks WHERE chunk_id = ? AND row = ?",
                       ((cid, row) for row, cids in gone.values() for cid in cids))
        _insert(db, previous.n_rows, papers, chunk_ids)
        db.commit()
    finally:
        db.close()
    dead = np.array(sorted(row for row, _ in gone.values()), dtype=np.int64)
    live = np.concatenate([previous.live_rows(), np.ones(len(papers), dtype=bool)])
    live[dead] = False
    date_new, up_new, how_new = _columns(papers)
    date_ord = np.concatenate([np.asarray(previous.date_ord), date_new])
    upvotes = np.concatenate([np.asarray(previous.upvotes), up_new])
    date_how = np.concatenate([previous.date_how_column(), how_new])
    date_ord[dead], upvotes[dead], date_how[dead] = 0, -1, 0
    sources = previous.sources() - old_sources + Counter(p.source for p in papers)
    _save_columns(path, date_ord, upvotes, live, sources, date_how)
    old_ids, old_rows = previous.chunk_columns()
    if dead.size:  # the DELETE above: a removed paper's chunks leave the table
        kept = ~np.isin(old_rows, dead)
        old_ids, old_rows = old_ids[kept], old_rows[kept]
    new_ids, new_rows = _chunk_columns(previous.n_rows, chunk_ids, taken=old_ids)
    _save_chunk_columns(path, np.concatenate([old_ids, new_ids]), np.concatenate([old_rows, new_rows]))
    return live
