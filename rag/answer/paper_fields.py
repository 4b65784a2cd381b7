"""What every export format reads off a paper: its year, its authors, a link safe to print, its
arXiv identifier.

The Markdown, BibTeX and CSV renderings (``rag.answer.export``, ``rag.answer.bibtex``) read these
the same way; in one place, a paper's year or link cannot come out one way in a reference and
another in a spreadsheet. Every field of a paper is hostile input: :func:`safe_url` gives a link
only for an http(s) URL, percent-encoded so it cannot close the autolink or field it sits in.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from rag.types.papers import Paper

_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_ARXIV_HOST = re.compile(r"^(?:www\.|export\.)?arxiv\.org$", re.IGNORECASE)
_ARXIV_PATH = re.compile(
    r"^/(?:abs|pdf)/((?:\d{4}\.\d{4,5})|(?:[a-z-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?(?:\.pdf)?/?$")
# characters left as they are in a URL we print; everything else is percent-encoded, so no space,
# quote, angle bracket, brace or backslash can end the link or the field it sits in
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"


def year_of(paper: Paper) -> str | None:
    """The year of publication when the source gives one (ISO date first, else the date as
    written, e.g. "2021" or "Mar 31, 2021"); None for "Mar 31"."""
    if paper.date:
        return paper.date[:4]
    m = _YEAR.search(paper.date_text or "")
    return m.group(1) if m else None


def author_list(paper: Paper) -> list[str]:
    """The authors' names, in order; empty when the source gave only a count (page dumps)."""
    return [n.strip() for n in (paper.author_names or "").split(";") if n.strip()]


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) link with a host, percent-encoded so that it holds no space,
    quote, angle bracket, brace or backslash; None for anything else (``javascript:``, ``data:``,
    a relative path, garbage)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return quote(url, safe=_URL_SAFE)


def arxiv_id(url: str | None) -> str | None:
    """The arXiv identifier of an arxiv.org abs (or pdf) link, without its version; else None."""
    url = safe_url(url)
    if url is None:
        return None
    parts = urlsplit(url)
    m = _ARXIV_PATH.match(parts.path) if _ARXIV_HOST.match(parts.hostname or "") else None
    return m.group(1) if m else None
