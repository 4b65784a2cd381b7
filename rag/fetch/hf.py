"""Hugging Face Daily Papers: one request per day (``GET {api}?date=YYYY-MM-DD``), answered with a
JSON list of objects whose ``paper`` holds ``id`` (the arXiv id), ``title``, ``summary``,
``authors`` ([{"name"}]), ``publishedAt`` and ``upvotes``. Pure: URLs in, records out."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from rag.errors import FetchError
from rag.fetch.records import ARXIV_ID, Page, author_names, fail, iso_day, looks_like_html, text

PAPER_PAGE = "https://huggingface.co/papers/"
MAX_DAYS = 366  # one run covers at most a year: 366 polite requests


def parse_day(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise FetchError(f"{name} must be a date like 2024-05-01, got {value[:40]!r}") from None


def days(date_from: str, date_to: str | None, today: date) -> list[date]:
    """The days from ``date_from`` to ``date_to`` (inclusive; default: that one day), checked:
    real dates, in order, at most a day after ``today`` (UTC; it is tomorrow east of it) and at
    most :data:`MAX_DAYS` of them."""
    first = parse_day(date_from, "--from")
    last = parse_day(date_to, "--to") if date_to else first
    if last < first:
        raise FetchError(f"date range is empty: {first} is after {last}")
    if last > today + timedelta(days=1):  # a day ahead: where it is already tomorrow
        raise FetchError(f"{last} is in the future (today is {today}); Daily Papers has nothing for it yet")
    n = (last - first).days + 1
    if n > MAX_DAYS:
        raise FetchError(f"{n} days asked for; fetch at most {MAX_DAYS} days per run")
    return [first + timedelta(days=i) for i in range(n)]


def day_url(api_url: str, day: date) -> str:
    sep = "&" if "?" in api_url else "?"
    return f"{api_url}{sep}{urlencode({'date': day.isoformat()})}"


def parse_daily(body: str, what: str, day: date) -> Page:
    """Records of one day's reply. A reply that is not the documented JSON list (HTML, cut off,
    another shape) is a FetchError naming ``what``; a single odd item is left out with a warning."""
    if looks_like_html(body):
        raise fail(what, "the server sent an HTML page, not the JSON list of papers")
    try:
        items = json.loads(body)
    except json.JSONDecodeError as e:
        cut = e.pos >= len(body.rstrip()) or e.msg.startswith("Unterminated")
        raise fail(what, "the reply was cut off (incomplete JSON)" if cut else
                   f"the reply is not valid JSON ({e.msg} at character {e.pos})") from None
    except RecursionError:
        raise fail(what, "the reply is not valid JSON (nested too deeply)") from None
    if not isinstance(items, list):
        raise fail(what, f"expected a JSON list of papers, got a JSON {type(items).__name__}")
    page = Page()
    for n, item in enumerate(items, start=1):
        paper = item.get("paper") if isinstance(item, dict) else None
        if not isinstance(paper, dict):
            page.warnings.append(f"{what}: item {n} has no paper; left out")
            continue
        page.records.append(_record(paper, day))
    return page


def _record(paper: dict, day: date) -> dict:
    pid = paper.get("id")
    upvotes = paper.get("upvotes")
    rec = {
        "arxiv_id": pid if isinstance(pid, str) and ARXIV_ID.fullmatch(pid) else None,
        "title": text(paper.get("title")),
        "abstract": text(paper.get("summary")),
        "authors": author_names(paper.get("authors"), "name"),
        # the paper's own date; the listing day when the reply has none that is real
        "date": iso_day(paper.get("publishedAt")) or day.isoformat(),
        "url": PAPER_PAGE + quote(pid, safe=".") if isinstance(pid, str) and 0 < len(pid) <= 64 else None,
        "upvotes": upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) and upvotes >= 0 else None,
    }
    return {k: v for k, v in rec.items() if v is not None}
