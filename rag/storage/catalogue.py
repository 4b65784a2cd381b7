"""The paper catalogue of one index generation: SQLite for the papers, numpy columns for filters.

Why: at 100k papers every serving process loaded all papers from Chroma into Python objects at
start-up (26 s, most of a 2 GiB heap) and a date filter looped over them in Python (31 ms). Here
row ``i`` is the lexical index's document ``i``; a paper is read from SQLite only when it is
shown, and filters are vectorised masks over two memory-mapped columns. The files are written
once by ingest and never changed, so every process opens them read-only and shares the page cache.
This module reads a catalogue; :mod:`rag.storage.catalogue_write` writes one, and
:mod:`rag.storage.catalogue_format` holds its files and column encodings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.storage.catalogue_format import DB_FILE, KIND_CODE, date_how_code, date_ord_of, id_column
from rag.text.dates import DATE_KINDS, date_counts
from rag.types.papers import Filters, Paper

_IN_CHUNK = 900  # SQLite's default limit on bound parameters is 999


def _iso(ordinal: int) -> str:
    return f"{ordinal // 10000:04d}-{ordinal // 100 % 100:02d}-{ordinal % 100:02d}"


_INFERRED_FROM = KIND_CODE["page-header"]  # codes from here on are inferred years


class Catalogue:
    """Read-only view of a written catalogue. Thread-safe: one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path / DB_FILE).is_file():
            raise FileNotFoundError(path / DB_FILE)
        self.date_ord = np.load(path / "date_ord.npy", mmap_mode="r")
        self.upvotes = np.load(path / "upvotes.npy", mmap_mode="r")
        # catalogues written before updates patched them have no dead rows and no live column
        self.live = np.load(path / "live.npy", mmap_mode="r") if (path / "live.npy").is_file() else None
        self.n_rows = int(self.date_ord.shape[0])
        self._local = threading.local()
        self._uri = f"file:{(path / DB_FILE).resolve()}?mode=ro&immutable=1"
        self.n = int(self._db().execute("SELECT count(*) FROM papers").fetchone()[0])
        n_live = self.n_rows if self.live is None else int(np.count_nonzero(self.live))
        if (self.n != n_live or self.n_rows != self.upvotes.shape[0]
                or (self.live is not None and self.live.shape[0] != self.n_rows)):
            raise ValueError(f"{path}: damaged catalogue ({self.n} papers, {self.n_rows} rows, {n_live} live)")
        self.paper = lru_cache(maxsize=4096)(self._paper)
        self.date_how = self._load_date_how()
        # catalogues written before the chunks table (earlier today's format) still open
        self.has_chunks = self._db().execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='chunks'").fetchone() is not None
        self.n_chunks = (int(self._db().execute("SELECT count(*) FROM chunks").fetchone()[0])
                         if self.has_chunks else None)
        self._chunk_cols = self._load_chunk_columns()

    def _load_chunk_columns(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The chunk columns, or None for a catalogue written before them (or with a count that
        disagrees with the table: then they are not trusted, and filters go the slower way)."""
        try:
            ids = np.load(self.path / "chunk_id.npy", mmap_mode="r", allow_pickle=False)
            rows = np.load(self.path / "chunk_row.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        if ids.shape != rows.shape or ids.shape[0] != self.n_chunks:
            return None
        return ids, rows

    def _load_date_how(self) -> np.ndarray | None:
        """The date-how column, or None for a catalogue written before it (or a damaged one)."""
        try:
            how = np.load(self.path / "date_how.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        return how if how.shape == (self.n_rows,) else None

    def date_how_column(self) -> np.ndarray:
        """How each row's date is known (codes of :data:`rag.text.dates.DATE_KINDS`, 0 for a dead row),
        as a new array; from SQL when this catalogue predates the column (an update then writes
        it, so the pass is paid once)."""
        if self.date_how is not None:
            return np.array(self.date_how, dtype=np.int8)
        how = np.zeros(self.n_rows, dtype=np.int8)
        for row, iso, text, inferred in self._db().execute(
                "SELECT row, json_extract(data, '$.date'), json_extract(data, '$.date_text'), "
                "json_extract(data, '$.date_inferred') FROM papers"):
            how[row] = date_how_code(iso, text, inferred)
        return how

    def chunk_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, their rows) of the chunks table; from SQL when this catalogue predates the
        columns (an update then writes them, so the pass is paid once)."""
        if self._chunk_cols is not None:
            return np.asarray(self._chunk_cols[0]), np.asarray(self._chunk_cols[1])
        if not self.has_chunks:
            return id_column([]), np.zeros(0, dtype=np.int64)
        got = self._db().execute("SELECT chunk_id, row FROM chunks ORDER BY row").fetchall()
        return id_column([c.encode("utf-8") for c, _ in got]), np.array([r for _, r in got], dtype=np.int64)

    def chunk_ids_passing(self, mask: np.ndarray, at_most: int) -> list[str] | None:
        """Ids of the chunks whose paper passes ``mask`` (rows, as from :meth:`mask`); None when
        there are more than ``at_most`` or this catalogue predates the chunk columns."""
        if self._chunk_cols is None:
            return None
        ids, rows = self._chunk_cols
        passing = np.asarray(mask)[np.asarray(rows)] > 0
        if int(np.count_nonzero(passing)) > at_most:
            return None
        return [x.decode("utf-8") for x in np.asarray(ids)[passing].tolist()]

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

    def papers_of(self, paper_ids: Sequence[str]) -> list[Paper]:
        """The papers of ``paper_ids`` the catalogue has, in row order."""
        got = self._select_in("SELECT row, data FROM papers WHERE paper_id IN ({})", list(paper_ids))
        return [Paper(**json.loads(d)) for _, d in sorted(got)]

    def live_rows(self) -> np.ndarray:
        """Which rows hold a paper (a removed paper's row does not), as a new bool array."""
        return np.ones(self.n_rows, dtype=bool) if self.live is None else np.array(self.live, dtype=bool)

    def sources(self) -> Counter[str]:
        """Papers per source file: from the generation's facts, else one SQL pass (older files)."""
        try:
            return Counter(json.loads((self.path / "facts.json").read_text("utf-8"))["sources"])
        except (OSError, ValueError, KeyError, TypeError):
            return Counter(dict(self._db().execute(
                "SELECT json_extract(data, '$.source'), count(*) FROM papers GROUP BY 1")))

    def summary(self) -> dict:
        """What ``stats`` reports about the papers, from the columns and the facts file: no paper
        is read (a scan of every paper's JSON took seconds at 1M)."""
        d = np.asarray(self.date_ord)
        dated = d[d > 0]
        u = np.asarray(self.upvotes)
        how = self.date_how_column()
        if self.live is not None:
            how = how[np.asarray(self.live)]
        per_code = np.bincount(how.astype(np.int64), minlength=len(DATE_KINDS))
        kinds = Counter({DATE_KINDS[min(c, len(DATE_KINDS) - 1)]: int(n) for c, n in enumerate(per_code)})
        return {
            "papers": self.n,
            "chunks": self.n_chunks,
            "sources": sorted(self.sources()),
            "with_full_date": int(dated.shape[0]),
            "date_range": [_iso(int(dated.min())), _iso(int(dated.max()))] if dated.size else None,
            "with_upvotes": int(np.count_nonzero(u >= 0)),
            "dates": date_counts(kinds),
        }

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
        keep = self.live_rows()
        lacks = np.zeros(self.n_rows, dtype=bool)
        if filters.date_from or filters.date_to:
            d = np.asarray(self.date_ord)
            has = d > 0
            lacks |= ~has
            keep &= has
            if filters.date_from:
                keep &= d >= date_ord_of(filters.date_from)
            if filters.date_to:
                keep &= d <= date_ord_of(filters.date_to)
        if filters.min_upvotes is not None:
            u = np.asarray(self.upvotes)
            lacks |= u < 0
            keep &= u >= filters.min_upvotes
        if self.live is not None:
            lacks &= np.asarray(self.live)
        return keep.astype(np.float32), int(keep.sum()), int(lacks.sum())

    def date_detail(self, mask: np.ndarray | None) -> tuple[int, int | None]:
        """For a date filter's note: how many rows passing ``mask`` (from :meth:`mask`) have an
        inferred year, and how many live rows give a month and day without the year (None when
        this catalogue predates the date-how column: its papers have no inferred year, and the
        count would need a pass over every paper at query time)."""
        if self.date_how is None:
            return 0, None
        how = np.asarray(self.date_how)
        inferred = 0 if mask is None else int(np.count_nonzero((how >= _INFERRED_FROM) & (np.asarray(mask) > 0)))
        yearless = how == KIND_CODE["without-year"]
        if self.live is not None:
            yearless &= np.asarray(self.live)
        return inferred, int(np.count_nonzero(yearless))


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
