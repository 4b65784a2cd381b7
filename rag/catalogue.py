"""The paper catalogue of one index generation: SQLite for the papers, numpy columns for filters.

Why: at 100k papers every serving process loaded all papers from Chroma into Python objects at
start-up (26 s, most of a 2 GiB heap) and a date filter looped over them in Python (31 ms). Here
row ``i`` is the lexical index's document ``i``; a paper is read from SQLite only when it is
shown, and filters are vectorised masks over two memory-mapped columns. The files are written
once by ingest and never changed, so every process opens them read-only and shares the page cache.

Files in the generation's directory: ``papers.sqlite`` (row, paper_id, content_hash, chunk ids,
the paper as JSON; and chunk id -> row), ``date_ord.npy`` (yyyymmdd, 0 when the paper has no full date) and
``upvotes.npy`` (-1 when unknown).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.types import Filters, Paper

_DB = "papers.sqlite"
_IN_CHUNK = 900  # SQLite's default limit on bound parameters is 999


def _date_ord(iso: str | None) -> int:
    return int(iso.replace("-", "")) if iso else 0


def write_catalogue(path: Path, papers: Sequence[Paper], chunk_ids: Sequence[Sequence[str]]) -> None:
    """Write the catalogue of ``papers`` (row order) into directory ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path / _DB)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE papers (row INTEGER PRIMARY KEY, paper_id TEXT NOT NULL UNIQUE, "
                   "content_hash TEXT NOT NULL, chunk_ids TEXT NOT NULL, data TEXT NOT NULL)")
        db.executemany("INSERT INTO papers VALUES (?, ?, ?, ?, ?)", (
            (i, p.paper_id, p.content_hash, json.dumps(list(c)), json.dumps(p.to_dict()))
            for i, (p, c) in enumerate(zip(papers, chunk_ids, strict=True))))
        # chunk id -> row: a dense hit needs no Chroma metadata to find (and vet) its paper
        db.execute("CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, row INTEGER NOT NULL, paper_id TEXT NOT NULL) "
                   "WITHOUT ROWID")
        db.executemany("INSERT OR IGNORE INTO chunks VALUES (?, ?, ?)", (
            (cid, i, p.paper_id) for i, (p, c) in enumerate(zip(papers, chunk_ids, strict=True)) for cid in c))
        db.commit()
    finally:
        db.close()
    np.save(path / "date_ord.npy", np.array([_date_ord(p.date) for p in papers], dtype=np.int32))
    np.save(path / "upvotes.npy", np.array([-1 if p.upvotes is None else p.upvotes for p in papers],
                                           dtype=np.int64))


class Catalogue:
    """Read-only view of a written catalogue. Thread-safe: one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path / _DB).is_file():
            raise FileNotFoundError(path / _DB)
        self.date_ord = np.load(path / "date_ord.npy", mmap_mode="r")
        self.upvotes = np.load(path / "upvotes.npy", mmap_mode="r")
        self._local = threading.local()
        self._uri = f"file:{(path / _DB).resolve()}?mode=ro&immutable=1"
        self.n = int(self._db().execute("SELECT count(*) FROM papers").fetchone()[0])
        if self.n != self.date_ord.shape[0] or self.n != self.upvotes.shape[0]:
            raise ValueError(f"{path}: damaged catalogue ({self.n} papers, {self.date_ord.shape[0]} dates)")
        self.paper = lru_cache(maxsize=4096)(self._paper)
        # catalogues written before the chunks table (earlier today's format) still open
        self.has_chunks = self._db().execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='chunks'").fetchone() is not None
        self.n_chunks = (int(self._db().execute("SELECT count(*) FROM chunks").fetchone()[0])
                         if self.has_chunks else None)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        return db

    def __len__(self) -> int:
        return self.n

    # --- lookups ---------------------------------------------------------------------------------
    def _paper(self, paper_id: str) -> Paper | None:
        row = self._db().execute("SELECT data FROM papers WHERE paper_id = ?", (paper_id,)).fetchone()
        return Paper(**json.loads(row[0])) if row else None

    def _select_in(self, sql: str, keys: Sequence) -> list[tuple]:
        out: list[tuple] = []
        for off in range(0, len(keys), _IN_CHUNK):
            part = list(keys[off : off + _IN_CHUNK])
            out += self._db().execute(sql.format(",".join("?" * len(part))), part).fetchall()
        return out

    def ids_at(self, rows: Sequence[int]) -> list[str]:
        """Paper ids of ``rows``, in that order."""
        got = dict(self._select_in("SELECT row, paper_id FROM papers WHERE row IN ({})", [int(r) for r in rows]))
        return [got[int(r)] for r in rows]

    def rows_of(self, paper_ids: Sequence[str]) -> dict[str, int]:
        """Rows of the ids the catalogue has (others are left out)."""
        return {pid: row for row, pid in self._select_in(
            "SELECT row, paper_id FROM papers WHERE paper_id IN ({})", list(paper_ids))}

    def chunk_ids(self, paper_ids: Sequence[str]) -> dict[str, list[str]]:
        return {pid: json.loads(c) for pid, c in self._select_in(
            "SELECT paper_id, chunk_ids FROM papers WHERE paper_id IN ({})", list(paper_ids))}

    def all_chunk_ids(self) -> dict[str, list[str]]:
        return {pid: json.loads(c) for pid, c in self._db().execute("SELECT paper_id, chunk_ids FROM papers")}

    def chunk_rows(self, chunk_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """chunk id -> (row, paper_id) for the chunks this generation lists (others left out)."""
        return {cid: (row, pid) for cid, row, pid in self._select_in(
            "SELECT chunk_id, row, paper_id FROM chunks WHERE chunk_id IN ({})", list(chunk_ids))}

    def rows_and_chunks(self, paper_ids: Sequence[str]) -> dict[str, tuple[int, frozenset[str]]]:
        """paper_id -> (row, its chunk ids) for the ids the catalogue has."""
        return {pid: (row, frozenset(json.loads(c))) for row, pid, c in self._select_in(
            "SELECT row, paper_id, chunk_ids FROM papers WHERE paper_id IN ({})", list(paper_ids))}

    def hashes(self) -> dict[str, str]:
        """paper_id -> content hash of every paper (what an ingest compares against)."""
        return dict(self._db().execute("SELECT paper_id, content_hash FROM papers"))

    def ids(self) -> Iterator[str]:
        for (pid,) in self._db().execute("SELECT paper_id FROM papers ORDER BY row"):
            yield pid

    def papers(self) -> Iterator[Paper]:
        """Every paper in row order, streamed."""
        for (data,) in self._db().execute("SELECT data FROM papers ORDER BY row"):
            yield Paper(**json.loads(data))

    # --- filters ---------------------------------------------------------------------------------
    def mask(self, filters: Filters) -> tuple[np.ndarray | None, int, int]:
        """(rows that pass as float32 0/1, how many pass, how many lack a filtered field);
        the same rule as :meth:`Filters.matches` and :meth:`Filters.lacks_field`, vectorised."""
        if not filters.active:
            return None, self.n, 0
        keep = np.ones(self.n, dtype=bool)
        lacks = np.zeros(self.n, dtype=bool)
        if filters.date_from or filters.date_to:
            d = np.asarray(self.date_ord)
            has = d > 0
            lacks |= ~has
            keep &= has
            if filters.date_from:
                keep &= d >= _date_ord(filters.date_from)
            if filters.date_to:
                keep &= d <= _date_ord(filters.date_to)
        if filters.min_upvotes is not None:
            u = np.asarray(self.upvotes)
            lacks |= u < 0
            keep &= u >= filters.min_upvotes
        return keep.astype(np.float32), int(keep.sum()), int(lacks.sum())


class PaperMap(Mapping[str, Paper]):
    """``paper_id -> Paper`` over a catalogue, read on demand: what ``HybridRetriever.papers``
    was as a dict, without holding every paper in memory."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._cat = catalogue

    def __getitem__(self, paper_id: str) -> Paper:
        if not isinstance(paper_id, str):
            raise KeyError(paper_id)
        p = self._cat.paper(paper_id)
        if p is None:
            raise KeyError(paper_id)
        return p

    def __contains__(self, paper_id: object) -> bool:
        return isinstance(paper_id, str) and self._cat.paper(paper_id) is not None

    def __len__(self) -> int:
        return len(self._cat)

    def __iter__(self) -> Iterator[str]:
        return self._cat.ids()

    def values(self):  # one query, not one per paper
        return list(self._cat.papers())

    def items(self):
        return [(p.paper_id, p) for p in self._cat.papers()]
