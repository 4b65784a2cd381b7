"""What an ingest tells its caller: progress while chunks are embedded, a report at the end. Its own
module because both ways to a generation fill it: the rebuild (:mod:`rag.ingest.index`) and the
in-place update (:mod:`rag.ingest.update`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int], None]  # (done, total) chunks embedded


@dataclass
class IngestReport:
    papers_total: int
    papers_new: int
    papers_changed: int
    papers_unchanged: int
    chunks_total: int
    chunks_embedded: int
    chunks_reused: int
    generation: int | None
    collection: str | None
    seconds: float
    up_to_date: bool = False
    warnings: list[str] = field(default_factory=list)
