"""The files of a paper catalogue and how values are encoded in its columns: what the writer
(:mod:`rag.storage.catalogue_write`) and the reader (:mod:`rag.storage.catalogue`) must agree on,
kept in one place so they cannot drift apart.

Files in the generation's directory: ``papers.sqlite`` (row, paper_id, content_hash, chunk ids,
the paper as JSON; and chunk id -> row), ``date_ord.npy`` (yyyymmdd, 0 when the paper has no full date),
``upvotes.npy`` (-1 when unknown), ``live.npy`` (false for a removed paper's row),
``date_how.npy`` (how the date is known: written, its year inferred and how, month and day only,
none; codes of :data:`rag.text.dates.DATE_KINDS`),
``chunk_id.npy`` / ``chunk_row.npy`` (every chunk id of the chunks table and its paper's row, as
columns: a selective filter turns into the passing papers' chunk ids without SQL) and
``facts.json`` (papers per source, for ``stats``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.text.dates import DATE_KINDS, date_kind

DB_FILE = "papers.sqlite"


def date_ord_of(iso: str | None) -> int:
    return int(iso.replace("-", "")) if iso else 0


KIND_CODE = {k: i for i, k in enumerate(DATE_KINDS)}


def date_how_code(date_iso: str | None, date_text: str | None, date_inferred: str | None) -> int:
    return KIND_CODE[date_kind(date_iso, date_text, date_inferred)]


def id_column(ids: Sequence[bytes]) -> np.ndarray:
    """Fixed-width bytes as wide as the longest id (24 for rag.ingest.chunk.chunk_id's)."""
    return np.array(ids, dtype=bytes) if len(ids) else np.zeros(0, dtype="S1")
