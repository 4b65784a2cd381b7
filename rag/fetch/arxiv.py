"""arXiv's Atom API (``GET {api}?id_list=...`` or ``?search_query=...&start=&max_results=``). Pure:
ids and queries in, URLs out; an Atom feed's text in, records out. The XML is parsed by
``defusedxml`` with DTDs forbidden, so a hostile reply cannot expand entities or reach files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

from rag.errors import FetchError
from rag.fetch.records import ARXIV_ID, Page, author_names, fail, iso_day, looks_like_html, text, versionless

ABS_PAGE = "https://arxiv.org/abs/"
IDS_PER_REQUEST = 50  # id_list URLs stay short
MAX_RESULTS = 30_000  # arXiv serves at most this many results of one query
SORTS = {"relevance": "relevance", "submitted": "submittedDate", "updated": "lastUpdatedDate"}

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
# what a user may paste: an id, arXiv:id, or the abs / pdf / Hugging Face page of one
_ID_IN = re.compile(r"^(?:arxiv:|https?://(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/))?"
                    r"(?P<id>.+?)(?:\.pdf)?/?$", re.IGNORECASE)


def normalise_id(value: str) -> str:
    """``2401.01234``, ``arXiv:2401.01234v2`` or an arXiv / Hugging Face page as the id it names."""
    m = _ID_IN.match(value.strip())
    found = m.group("id") if m else ""
    if not ARXIV_ID.fullmatch(found):
        raise FetchError(f"{value[:80]!r} is not an arXiv id (like 2401.01234 or hep-th/9901001)")
    return found


def id_batches(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), IDS_PER_REQUEST):
        yield ids[i : i + IDS_PER_REQUEST]


def ids_url(api_url: str, ids: list[str]) -> str:
    return _url(api_url, {"id_list": ",".join(ids), "max_results": len(ids)})


def query_url(api_url: str, query: str, start: int, count: int, sort: str = "relevance") -> str:
    params: dict[str, object] = {"search_query": query, "start": start, "max_results": count}
    if sort != "relevance":
        params.update(sortBy=SORTS[sort], sortOrder="descending")
    return _url(api_url, params)


def _url(api_url: str, params: dict[str, object]) -> str:
    return f"{api_url}{'&' if '?' in api_url else '?'}{urlencode(params)}"


def parse_feed(body: str, what: str) -> Page:
    """Records of one Atom feed. arXiv reports a bad request as a feed whose one entry is titled
    "Error": that, HTML, a cut-off or malformed feed, or XML that is not Atom is a FetchError
    naming ``what``; an entry without an id or title is left out with a warning."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if looks_like_html(body):
        raise fail(what, "the server sent an HTML page, not an Atom feed")
    try:
        root = fromstring(body.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as e:
        raise fail(what, f"the feed was refused ({type(e).__name__}: DTDs and entities are not accepted)") from None
    except ParseError as e:
        cut = "no element found" in str(e) or "unclosed token" in str(e)
        raise fail(what, "the feed was cut off (incomplete XML)" if cut else f"the feed is not valid XML ({e})") from None
    if root.tag != f"{_ATOM}feed":
        raise fail(what, f"expected an Atom feed, got a <{root.tag.rsplit('}', 1)[-1][:40]}> document")
    page = Page(total=_int(root.findtext(f"{_OPENSEARCH}totalResults")))
    for n, entry in enumerate(root.iterfind(f"{_ATOM}entry"), start=1):
        entry_id = text(entry.findtext(f"{_ATOM}id")) or ""
        if "/api/errors" in entry_id:
            summary = text(entry.findtext(f"{_ATOM}summary")) or "no detail"
            raise fail(what, f"arXiv answered with an error: {summary[:200]}")
        arxiv_id = _entry_id(entry_id)
        if arxiv_id is None:
            page.warnings.append(f"{what}: entry {n} has no arXiv id; left out")
            continue
        page.records.append(_record(entry, arxiv_id))
    return page


def _entry_id(entry_id: str) -> str | None:
    """``http://arxiv.org/abs/2401.01234v2`` -> ``2401.01234``."""
    tail = entry_id.split("/abs/", 1)[-1] if "/abs/" in entry_id else ""
    return versionless(tail) if ARXIV_ID.fullmatch(tail) else None


def _record(entry, arxiv_id: str) -> dict:
    rec = {
        "arxiv_id": arxiv_id,
        "title": text(entry.findtext(f"{_ATOM}title")),
        "abstract": text(entry.findtext(f"{_ATOM}summary")),
        "authors": author_names([a.findtext(f"{_ATOM}name") for a in entry.iterfind(f"{_ATOM}author")]),
        "date": iso_day(entry.findtext(f"{_ATOM}published")),
        "url": ABS_PAGE + arxiv_id,
    }
    return {k: v for k, v in rec.items() if v is not None}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
