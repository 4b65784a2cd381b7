"""The one HTTP client of `paperchat fetch`: polite, bounded and resumable.

* Polite: requests to one host are at least ``fetch_delay_s`` apart (arXiv asks for 3 s), and
  go one at a time.
* Retries: 429, 408 and 5xx answers and connections cut off mid-reply are retried with
  exponential backoff; the Retry-After of a 429 or 503 (seconds or an HTTP date) is honoured, capped at
  ``fetch_max_wait_s``. A host that cannot be reached at all fails at once: no network is not
  something waiting fixes.
* Bounded: a reply over ``fetch_max_mb`` is not read.
* Resumable: a reply that parsed is kept under ``<home>/cache/fetch`` (written atomically), so
  a rerun after a crash or a kill asks only for what it does not have.

Parsing happens before caching: a reply that is HTML, cut off or malformed is never cached.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from rag.errors import FetchError
from rag.storage.fsutil import atomic_write_text
from rag.text.sanitize import public_url

if TYPE_CHECKING:
    import httpx

    from rag.settings import Settings

T = TypeVar("T")
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 64 * 1024


class ResponseCache:
    """Reply bodies by URL, one small JSON file each. A file is whole or absent (atomic writes)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, url: str) -> str | None:
        try:
            entry = json.loads(self.path(url).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("url") != url or not isinstance(entry.get("body"), str):
            return None
        return entry["body"]

    def put(self, url: str, body: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write_text(self.path(url), json.dumps({"url": url, "fetched_at": stamp, "body": body}))

    def drop(self, url: str) -> None:
        self.path(url).unlink(missing_ok=True)


@dataclass
class Counts:
    requests: int = 0  # requests sent over the network, retries included
    cached: int = 0  # replies taken from the cache
    stored: int = 0  # replies written to the cache


class PoliteClient:
    """GET with the politeness, retries, cap and cache described above. One thread at a time."""

    def __init__(self, *, cache: ResponseCache | None, delay_s: float = 3.0, max_retries: int = 4,
                 backoff_s: float = 2.0, max_wait_s: float = 60.0, timeout_s: float = 30.0,
                 max_mb: float = 20.0, refresh: bool = False,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache = cache
        self.delay_s, self.max_retries, self.backoff_s = delay_s, max_retries, backoff_s
        self.max_wait_s, self.timeout_s, self.max_mb = max_wait_s, timeout_s, max_mb
        self.max_bytes = int(max_mb * 2**20)
        self.refresh = refresh  # ask the network even when the cache has the reply (and replace it)
        self.counts = Counts()
        self._sleep, self._clock = sleep, clock
        self._next_at: dict[str, float] = {}  # host -> earliest time of its next request
        self._client: httpx.Client | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, refresh: bool = False, **kwargs) -> PoliteClient:
        return cls(cache=ResponseCache(settings.cache_dir / "fetch"), delay_s=settings.fetch_delay_s,
                   max_retries=settings.fetch_max_retries, backoff_s=settings.fetch_backoff_s,
                   max_wait_s=settings.fetch_max_wait_s, timeout_s=settings.fetch_timeout_s,
                   max_mb=settings.fetch_max_mb, refresh=refresh, **kwargs)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, parse: Callable[[str, str], T], *, what: str, cache: bool = True) -> T:
        """``parse(body, shown)`` of the reply to ``url`` (from the cache when it has it), where
        ``shown`` names the request for messages: ``what`` ("Daily Papers for 2024-05-01") and the
        URL without its query or credentials. The reply is cached only when ``parse`` accepted it
        (a FetchError is a refusal) and ``cache`` is true."""
        shown = f"{what} ({public_url(url)})"
        if self.cache is not None and not self.refresh:
            body = self.cache.get(url)
            if body is not None:
                try:
                    result = parse(body, shown)
                except FetchError:  # written by another version, or damaged: ask again
                    self.cache.drop(url)
                else:
                    self.counts.cached += 1
                    return result
        body = self._download(url, shown)
        result = parse(body, shown)
        if cache and self.cache is not None:
            self.cache.put(url, body)
            self.counts.stored += 1
        return result

    # --- the network ---------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s, follow_redirects=True, max_redirects=5,
                                        headers={"user-agent": "paperchat-fetch"})
        return self._client

    def _download(self, url: str, shown: str) -> str:
        import httpx

        host = urlsplit(url).hostname or "the server"
        problem = ""
        for attempt in range(self.max_retries + 1):
            self._wait_turn(host)
            wait: float | None = None
            try:
                self.counts.requests += 1
                with self._http().stream("GET", url) as r:
                    if r.status_code == 200:
                        return self._read(r, shown)
                    problem = f"the server answered {r.status_code} {r.reason_phrase}".rstrip()
                    if r.status_code not in RETRY_STATUS:
                        raise FetchError(f"{shown}: {problem}")
                    if r.status_code in (429, 503):  # the two that may say when to come back
                        wait = _retry_after(r.headers.get("retry-after"))
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                raise FetchError(f"cannot reach {host} (no network, or the server is down: "
                                 f"{_reason(e)})") from None
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
                problem = f"the reply was cut off ({_reason(e)})"
            except httpx.TooManyRedirects:
                raise FetchError(f"{shown}: too many redirects") from None
            except (httpx.HTTPError, httpx.InvalidURL) as e:  # a body that does not decode, a bad redirect
                raise FetchError(f"{shown}: the reply could not be read ({_reason(e)})") from None
            finally:
                self._next_at[host] = self._clock() + self.delay_s
            if attempt < self.max_retries:
                self._sleep(min(self.max_wait_s, wait if wait is not None else self.backoff_s * 2**attempt))
        tries = self.max_retries + 1
        raise FetchError(f"{shown}: {problem} ({tries} tr{'ies' if tries != 1 else 'y'})")

    def _wait_turn(self, host: str) -> None:
        due = self._next_at.get(host)
        if due is not None:
            left = due - self._clock()
            if left > 0:
                self._sleep(left)

    def _read(self, r: httpx.Response, shown: str) -> str:
        declared = r.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{shown}: the reply is {_size(int(declared))}, over the "
                             f"{self.max_mb:g} MB limit (PAPERCHAT_FETCH_MAX_MB)")
        data = bytearray()
        for chunk in r.iter_bytes(_CHUNK):
            data += chunk
            if len(data) > self.max_bytes:
                raise FetchError(f"{shown}: the reply is over the {self.max_mb:g} MB limit "
                                 "(PAPERCHAT_FETCH_MAX_MB)")
        return data.decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 // 10 else f"{max(1, round(n / 1024))} KB"


def _reason(e: Exception) -> str:
    return " ".join(str(e).split())[:160] or type(e).__name__
