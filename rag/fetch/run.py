"""`paperchat fetch`: ask an API, check every record, write JSONL under ``<home>/fetched``.

Nothing is ingested here: the caller hands :attr:`FetchResult.files` to ``Paperchat.ingest``,
which adds or updates those papers and keeps the rest. All requests finish before any file is
written, so a failure (no network, an error status, a reply that is not what the API documents)
changes neither the fetched files nor the index; the replies that did arrive are in the cache,
so the rerun asks only for the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from rag.errors import FetchError
from rag.fetch import arxiv, hf
from rag.fetch.http import PoliteClient
from rag.fetch.records import check_record
from rag.settings import Settings
from rag.storage.fsutil import atomic_write_text

Progress = Callable[[int, int], None]  # (requests done, requests expected)
MAX_QUERY_CHARS = 1000


@dataclass
class FetchResult:
    """What one fetch brought: the files to ingest and what it cost."""

    source: str
    files: list[Path] = field(default_factory=list)
    papers: int = 0  # records written (each file's papers, before merging duplicates across files)
    requests: int = 0  # requests sent over the network, retries included
    cached: int = 0  # replies taken from the cache
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["files"] = [str(p) for p in self.files]
        return d


def fetch_hf(settings: Settings, date_from: str, date_to: str | None = None, *, refresh: bool = False,
             progress: Progress | None = None, client: PoliteClient | None = None,
             today: date | None = None) -> FetchResult:
    """Daily Papers for each day from ``date_from`` to ``date_to``, one file per day that has papers.
    A day not over yet (today, UTC) is fetched but not cached: its list is still growing."""
    today = today or datetime.now(UTC).date()
    wanted = hf.days(date_from, date_to, today)
    result = FetchResult(source="hf")
    pages: list[tuple[date, list[dict]]] = []
    with _client(settings, refresh, client) as http, _failing(http, result):
        for i, day in enumerate(wanted):
            page = http.get(hf.day_url(settings.hf_api_url, day), lambda b, w, d=day: hf.parse_daily(b, w, d),
                            what=f"Daily Papers for {day}", cache=day < today)
            result.warnings.extend(page.warnings)
            pages.append((day, page.records))
            _tick(progress, i + 1, len(wanted))
    for day, records in pages:
        _write(settings.fetched_dir / "hf" / f"{day}.jsonl", records, f"Daily Papers for {day}", result)
    return result


def fetch_arxiv(settings: Settings, ids: Iterable[str] = (), query: str | None = None, max_results: int = 100,
                *, sort: str = "relevance", refresh: bool = False, progress: Progress | None = None,
                client: PoliteClient | None = None) -> FetchResult:
    """arXiv papers by id (any number, in requests of :data:`arxiv.IDS_PER_REQUEST`), or the
    first ``max_results`` of a search query, paged by ``fetch_arxiv_page``. One file per run."""
    wanted = list(dict.fromkeys(arxiv.normalise_id(i) for i in ids))
    if bool(wanted) == bool(query and query.strip()):
        raise FetchError("give arXiv ids or --query, not both" if wanted else "give arXiv ids or --query \"...\"")
    result = FetchResult(source="arxiv")
    with _client(settings, refresh, client) as http, _failing(http, result):
        if wanted:
            records = _by_ids(settings, http, wanted, result, progress)
            name = f"ids-{_digest(sorted(wanted))}"
            what = f"arXiv ids {_shown_ids(wanted)}"
        else:
            assert query is not None
            records = _by_query(settings, http, query.strip(), max_results, sort, result, progress)
            slug = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:40] or "query"
            name = f"query-{slug}-{_digest([query.strip(), sort, str(max_results)])}"
            what = f"arXiv query {query.strip()[:60]!r}"
    _write(settings.fetched_dir / "arxiv" / f"{name}.jsonl", records, what, result)
    return result


def _by_ids(settings: Settings, http: PoliteClient, wanted: list[str], result: FetchResult,
            progress: Progress | None) -> list[dict]:
    batches = list(arxiv.id_batches(wanted))
    records: list[dict] = []
    for i, batch in enumerate(batches):
        page = http.get(arxiv.ids_url(settings.arxiv_api_url, batch), arxiv.parse_feed,
                        what=f"arXiv ids {_shown_ids(batch)}")
        result.warnings.extend(page.warnings)
        records.extend(page.records)
        _tick(progress, i + 1, len(batches))
    found = {r.get("arxiv_id") for r in records}
    missing = [i for i in wanted if arxiv.versionless(i) not in found]
    if missing:
        result.warnings.append(f"arXiv has no paper for {len(missing)} id{'s' if len(missing) != 1 else ''}: "
                               f"{_shown_ids(missing)}")
    return records


def _by_query(settings: Settings, http: PoliteClient, query: str, max_results: int, sort: str,
              result: FetchResult, progress: Progress | None) -> list[dict]:
    if len(query) > MAX_QUERY_CHARS:
        raise FetchError(f"the query is {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are sent")
    if not 1 <= max_results <= arxiv.MAX_RESULTS:
        raise FetchError(f"--max must be between 1 and {arxiv.MAX_RESULTS:,}, got {max_results}")
    size = settings.fetch_arxiv_page
    limit = max_results
    records: list[dict] = []
    start = pages = 0
    while start < limit:
        count = min(size, limit - start)
        what = f"arXiv query {query[:60]!r} (results {start + 1}-{start + count})"
        page = http.get(arxiv.query_url(settings.arxiv_api_url, query, start, count, sort),
                        arxiv.parse_feed, what=what)
        result.warnings.extend(page.warnings)
        records.extend(page.records)
        if page.total is not None:
            limit = min(limit, page.total)
        start, pages = start + count, pages + 1
        _tick(progress, pages, pages + math.ceil(max(0, limit - start) / size))
        if not page.records:  # arXiv sometimes answers a page empty: stop rather than loop on
            if start < limit:
                result.warnings.append(f"{what}: arXiv sent no entries; stopped at {len(records)} papers")
            break
    return records


def _write(path: Path, records: list[dict], what: str, result: FetchResult) -> None:
    """Write the records ``rag.ingest.corpus`` accepts (one per paper) to ``path``, atomically; a warning
    for each one left out. No file for no papers."""
    kept: dict[str, dict] = {}
    for rec in records:
        reason = check_record(rec, str(path))
        if reason is not None:
            result.warnings.append(f"{what}: {str(rec.get('title') or rec.get('arxiv_id') or 'a paper')[:80]!r} "
                                   f"left out ({reason})")
            continue
        kept.setdefault(rec.get("arxiv_id") or rec["title"].lower(), rec)
    if not kept:
        return
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept.values()))
    result.files.append(path)
    result.papers += len(kept)


class _failing:
    """Counts the client's requests into the result, and turns a failure into one line saying
    that nothing was added and whether a rerun resumes."""

    def __init__(self, http: PoliteClient, result: FetchResult) -> None:
        self.http, self.result = http, result

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> None:
        self.result.requests = self.http.counts.requests
        self.result.cached = self.http.counts.cached
        if isinstance(exc, FetchError):
            done = self.http.counts.stored + self.http.counts.cached
            resume = (f" ({done} repl{'ies' if done != 1 else 'y'} so far {'are' if done != 1 else 'is'} cached: "
                      "a rerun resumes)") if done else ""
            raise FetchError(f"{exc}; nothing was added to the index{resume}") from None


def _client(settings: Settings, refresh: bool, client: PoliteClient | None) -> PoliteClient:
    return client if client is not None else PoliteClient.from_settings(settings, refresh=refresh)


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _digest(parts: list[str]) -> str:
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:10]


def _shown_ids(ids: list[str]) -> str:
    return ", ".join(ids[:3]) + (f" (+{len(ids) - 3} more)" if len(ids) > 3 else "")
