"""Pure rendering for the web UI: answers, source cards and the papers table as HTML strings.

Everything that came from a paper or a model (titles, abstracts, quotes, answer text, notes) is
untrusted. It passes through :func:`esc`, which HTML-escapes it *and* turns every character that
Markdown, KaTeX or Gradio's HTML templates (``${...}``, Handlebars ``{{...}}``) would interpret
into a numeric character reference. The browser decodes those references to the literal
characters only after every renderer has run, so a title like ``<script>…`` or ``![x](http://evil)``
shows up as text. The HTML these functions emit contains no raw newlines, so a Markdown renderer
treats it as one raw HTML block and leaves it alone.

Answers are rendered from their structure (:class:`~rag.types.answers.Line` and
:class:`~rag.types.answers.Citation` by paper id); nothing here parses text the core formatted. No Gradio
import here: these are plain functions to HTML strings, unit-tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from rag.text.titles import short_title
from rag.types.answers import Citation, Exclusion, Line, Source

# Characters with a meaning in Markdown (incl. GFM tables/strikethrough), KaTeX ($), Gradio's
# HTML templates (${value}, {{handlebars}}) or JS template literals (`). Newlines become <br>.
_NEUTRAL = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()<>#+-.!|~$:=@"}
_NEUTRAL.update({"&": "&amp;", '"': "&quot;", "'": "&#39;", "\n": "<br>", "\r": ""})
_TABLE = str.maketrans(_NEUTRAL)


def esc(text: object) -> str:
    """Untrusted text -> HTML that renders as exactly that text, wherever Gradio puts it."""
    if text is None:
        return ""
    return str(text).translate(_TABLE)


def esc_attr(text: object) -> str:
    """Like :func:`esc`, for an attribute value (a tooltip): newlines become spaces."""
    return esc(" ".join(str(text or "").split()))


def src_id(n: int) -> str:
    """The DOM id of source card ``n`` (what a citation link points at)."""
    return f"pc-src-{int(n)}"


# ----------------------------------------------------------------------------------------------
# answers
# ----------------------------------------------------------------------------------------------


def _cite_link(n: int, citation: Citation | None) -> str:
    tip = ""
    cls = "pc-cite"
    if citation is not None:
        tip = f"{citation.title} \u2014 \u201c{citation.quote}\u201d"
        if not citation.supported:
            cls += " pc-cite-unverified"
    return (
        f'<a class="{cls}" href="#{src_id(n)}" data-cite="{int(n)}" title="{esc_attr(tip)}">'
        f"&#91;{int(n)}&#93;</a>"
    )


def _links(paper_ids: Sequence[str], citations: Mapping[str, Citation]) -> str:
    """The [n] links of the cited papers that have a citation, in number order."""
    cited = sorted((citations[p] for p in dict.fromkeys(paper_ids) if p in citations), key=lambda c: c.n)
    return "".join(_cite_link(c.n, c) for c in cited)


_CUT = '<span class="pc-cut" title="words of the sentence left out">&#8230;</span>'


def _quote_html(line: Line) -> str:
    """A quote's text; a quote cut from its sentence gets "…" where words were left out and the
    whole sentence as its tooltip (from the line's fields, never from its text)."""
    if not (line.cut_before or line.cut_after):
        return esc(line.text)
    body = f'<span class="pc-clause" title="{esc_attr(line.sentence)}">{esc(line.text)}</span>'
    return (_CUT if line.cut_before else "") + body + (_CUT if line.cut_after else "")


def _line_html(line: Line, citations: Mapping[str, Citation]) -> str:
    if line.kind in ("quote", "item"):
        links = _links(line.cites or [line.paper_id or ""], citations)
        # the short title leads; the full one is its tooltip and heads the source card
        label = f'<b class="pc-label" title="{esc_attr(line.label)}">{esc(short_title(line.label))}</b>'
        return f"{label}: \u201c{_quote_html(line)}\u201d" + (f" {links}" if links else "")
    if line.kind == "summary":
        links = _links(line.cites, citations)
        return esc(line.text) + (f" {links}" if links else "")
    return esc(line.label or line.text)


def answer_html(
    lines: Sequence[Line],
    citations: Sequence[Citation] = (),
    *,
    draft: str = "",
    notes: Iterable[str] = (),
    refused: bool = False,
    streaming: bool = False,
    error: str | None = None,
    standalone: str | None = None,
    about: Sequence[str] = (),
    excluded: Sequence[Exclusion] = (),
) -> str:
    """The assistant's chat message, rendered from the answer's lines: quote, list-item and
    nearest-paper lines as a bullet list, headings and summary sentences as paragraphs, each
    citation a link to its card; the notes (backend failures, filters) and an error line.
    ``draft`` is the model's summary while it streams (shown as plain, unlinked text until the
    verified answer replaces it). ``standalone`` / ``about``: the follow-up as the engine
    understood it and the titles of the papers it points at (shown small, above the answer).
    ``excluded``: a list answer's near-misses, in a collapsed section under it. Everything is
    escaped."""
    cmap = {c.paper_id: c for c in citations}
    parts: list[str] = []
    if standalone:
        extra = f" (about: {'; '.join(about)})" if about else ""
        parts.append(f'<div class="pc-rewrite">Understood as: {esc(standalone + extra)}</div>')
    for note in notes:
        parts.append(f'<div class="pc-note"><b>Note:</b> {esc(note)}</div>')
    items: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if items:
            parts.append('<ul class="pc-list">' + "".join(items) + "</ul>")
            items.clear()
        if para:
            parts.append("<p>" + " ".join(para) + "</p>")
            para.clear()

    for line in lines:
        if line.kind in ("quote", "item", "nearest"):
            if para:
                flush()
            items.append(f"<li>{_line_html(line, cmap)}</li>")
        elif line.kind == "summary":
            if items:
                flush()
            para.append(_line_html(line, cmap))
        else:
            flush()
            parts.append(f"<p>{_line_html(line, cmap)}</p>")
    flush()
    if draft.strip():
        parts.append(f'<p class="pc-draft">{esc(" ".join(draft.split()))}</p>')
    if streaming:  # the cursor sits at the end of the text so far
        cursor = '<span class="pc-typing" aria-label="answering">&#9612;</span>'
        last = parts[-1] if parts else ""
        if last.endswith("</li></ul>"):
            parts[-1] = last[: -len("</li></ul>")] + cursor + "</li></ul>"
        elif last.endswith("</p>"):
            parts[-1] = last[: -len("</p>")] + cursor + "</p>"
        else:
            parts.append(cursor)
    if excluded:
        parts.append(excluded_html(excluded))
    if error:
        parts.append(f'<div class="pc-error"><b>Error:</b> {esc(error)}</div>')
    cls = "pc-answer pc-refused" if refused else "pc-answer"
    return f'<div class="{cls}">' + "".join(parts) + "</div>"


def excluded_html(excluded: Sequence[Exclusion]) -> str:
    """The papers a list answer considered and did not list, closest first, each with why and
    the sentence that decided; numbered so "include the 2nd one" can pin one back."""
    items = "".join(
        f'<li><span class="pc-excluded-title">{esc(e.title)}</span> '
        f'<span class="pc-excluded-why">{esc(e.reason)}</span>'
        + (f'<div class="pc-excluded-quote">“{esc(e.quote)}”</div>' if e.quote else "") + "</li>"
        for e in excluded)
    return (f'<details class="pc-excluded"><summary>Considered, not listed ({len(excluded)})</summary>'
            f'<ol>{items}</ol><div class="pc-excluded-hint">Say “include the 2nd one” to add one back.</div>'
            "</details>")


def user_html(text: str) -> str:
    """The user's message, escaped like everything else (it is echoed into the page)."""
    return f'<div class="pc-question">{esc(text)}</div>'


# ----------------------------------------------------------------------------------------------
# evidence highlighting
# ----------------------------------------------------------------------------------------------


def _find(haystack: str, needle: str) -> tuple[int, int] | None:
    """Span of ``needle`` in ``haystack``, exact or up to whitespace differences."""
    needle = needle.strip()
    if not needle:
        return None
    i = haystack.find(needle)
    if i >= 0:
        return i, i + len(needle)
    words = needle.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, haystack)
    return (m.start(), m.end()) if m else None


def highlight(abstract: str, quotes: Iterable[str]) -> str:
    """The abstract, escaped, with every quote that occurs in it wrapped in <mark>.

    Quotes not found verbatim are ignored: only text the abstract really contains is marked.
    """
    spans: list[tuple[int, int]] = []
    for q in quotes:
        span = _find(abstract, q)
        if span:
            spans.append(span)
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out: list[str] = []
    pos = 0
    for a, b in merged:
        out.append(esc(abstract[pos:a]))
        out.append(f'<mark class="pc-evidence">{esc(abstract[a:b])}</mark>')
        pos = b
    out.append(esc(abstract[pos:]))
    return "".join(out)


def quotes_for(citation: Citation, lines: Iterable[Line]) -> list[str]:
    """What to mark in a cited paper's abstract: every span the answer quotes from it, and its
    citation's sentence unless a quote was cut from that sentence (then the cut span alone is
    what the answer says, and only it is marked)."""
    mine = [ln for ln in lines if ln.kind in ("quote", "item") and ln.paper_id == citation.paper_id]
    cut_from = {ln.sentence for ln in mine if ln.cut_before or ln.cut_after}
    quotes = [citation.quote] if citation.quote and citation.quote not in cut_from else []
    for line in mine:
        if line.text not in quotes:
            quotes.append(line.text)
    return quotes


def marked_sentence(sentence: str, quotes: Iterable[str]) -> str:
    """The citation's sentence with the spans the answer quotes from it marked; all of it marked
    when none lies inside it (the answer quoted the sentence whole)."""
    inside = [q for q in quotes if _find(sentence, q)]
    return highlight(sentence, inside) if inside else highlight(sentence, [sentence])


# ----------------------------------------------------------------------------------------------
# sources panel
# ----------------------------------------------------------------------------------------------


def _meta(source: Source | None) -> str:
    if source is None:
        return ""
    bits = [
        esc(source.date) if source.date else "date unknown",
        f"{int(source.upvotes)} upvote{'s' if source.upvotes != 1 else ''}"
        if source.upvotes is not None
        else "upvotes unknown",
        (
            f"{int(source.authors)} author{'s' if source.authors != 1 else ''}"
            if source.authors is not None
            else "authors unknown"
        ),
    ]
    if source.organization:
        bits.append(esc(source.organization))
    return '<div class="pc-meta">' + " &#183; ".join(f"<span>{b}</span>" for b in bits) + "</div>"


def badge(citation: Citation) -> str:
    if citation.supported:
        return (
            f'<span class="pc-badge pc-verified" title="{esc_attr(citation.reason)}">&#10003; verified</span>'
        )
    return (
        f'<span class="pc-badge pc-unverified" title="{esc_attr(citation.reason)}">&#9888; unverified</span>'
    )


def source_card(citation: Citation, source: Source | None, lines: Iterable[Line] = ()) -> str:
    """One citation's card: number, title, date/upvotes/authors, verified badge, the quote, and
    the whole abstract (collapsed) with the supporting sentence(s) marked."""
    n = citation.n
    quotes = quotes_for(citation, lines)
    title = source.title if source is not None else citation.title
    head = (
        f'<div class="pc-card-head"><span class="pc-num">{n}</span>'
        f'<span class="pc-title">{esc(title)}</span>{badge(citation)}</div>'
    )
    quote = (
        f'<blockquote class="pc-quote">{marked_sentence(citation.quote, quotes)}</blockquote>'
        if citation.quote
        else ""
    )
    reason = f'<div class="pc-reason">{esc(citation.reason)}</div>' if citation.reason else ""
    abstract = ""
    if source is not None and source.abstract:
        abstract = (
            '<details class="pc-abstract"><summary>Abstract</summary>'
            f'<div class="pc-abstract-text">{highlight(source.abstract, quotes)}</div></details>'
        )
    return (
        f'<div class="pc-card" id="{src_id(n)}" data-cite="{n}">'
        f"{head}{_meta(source)}{quote}{reason}{abstract}</div>"
    )


def sources_panel(
    citations: Sequence[Citation],
    sources: Sequence[Source],
    lines: Sequence[Line] = (),
    *,
    pending: bool = False,
    empty: str = "Ask a question: the papers an answer cites appear here.",
) -> str:
    """Every citation as a card, in number order: pass the whole conversation's citations, and
    every ``[n]`` in any answer of it opens the paper it was written for. ``pending``: the answer is
    still forming."""
    by_id = {s.paper_id: s for s in sources}
    if not citations:
        if pending:
            empty = "Checking the citations against the abstracts\u2026" if lines else "Finding the evidence\u2026"
        return f'<div class="pc-sources"><div class="pc-empty">{esc(empty)}</div></div>'
    cards = "".join(
        source_card(c, by_id.get(c.paper_id), lines) for c in sorted(citations, key=lambda c: c.n)
    )
    return f'<div class="pc-sources">{cards}</div>'


# ----------------------------------------------------------------------------------------------
# papers table
# ----------------------------------------------------------------------------------------------


def papers_table(
    sources: Sequence[Source], citations: Sequence[Citation] = (), *, only_cited: bool = False,
    empty: str = "No papers retrieved yet.",
) -> str:
    """The retrieved papers with their retrieval scores; cited ones link to their card."""
    cited_n: dict[str, list[int]] = {}
    for c in citations:
        cited_n.setdefault(c.paper_id, []).append(c.n)
    # in retrieval order, so the # column and the score agree (a list answer lists its cited papers first)
    rows = sorted((s for s in sources if not only_cited or s.cited or s.paper_id in cited_n), key=lambda s: -s.score)
    if not sources:
        return f'<div class="pc-papers"><div class="pc-empty">{esc(empty)}</div></div>'
    if not rows:
        return (
            '<div class="pc-papers"><div class="pc-empty">None of the retrieved papers is cited; '
            "untick \u201cshow only cited sources\u201d to see them.</div></div>"
        )
    body = []
    for i, s in enumerate(rows, start=1):
        ns = cited_n.get(s.paper_id, [])
        cite = "".join(_cite_link(n, None) for n in ns) if ns else ("&#10003;" if s.cited else "")
        body.append(
            f'<tr class="{"pc-row-cited" if ns or s.cited else ""}">'
            f'<td class="pc-rank">{i}</td><td class="pc-ptitle">{esc(s.title)}</td>'
            f'<td class="pc-score">{s.score:.3f}</td><td class="pc-date">{esc(s.date or "")}</td>'
            f'<td class="pc-up">{"" if s.upvotes is None else int(s.upvotes)}</td><td>{cite}</td></tr>'
        )
    head = (
        "<thead><tr><th>#</th><th>Title</th><th>Score</th><th>Date</th><th>Upvotes</th>"
        "<th>Cited</th></tr></thead>"
    )
    return (
        f'<div class="pc-papers"><table class="pc-table">{head}<tbody>{"".join(body)}</tbody></table></div>'
    )


def stats_line(stats: dict, backend: str = "") -> str:
    """The header's one-line summary of the index (and the backend in use)."""
    papers = stats.get("papers", 0)
    if not papers:
        text = "No papers indexed yet: add some under \u201cAdd papers\u201d."
    else:
        text = f"{papers} papers indexed"
        if stats.get("date_range"):
            a, b = stats["date_range"]
            text += f" \u00b7 dated {a} to {b}"
    if backend:
        text += f" \u00b7 answers by {backend}"
    return f'<div class="pc-stats" data-papers="{int(papers)}">{esc(text)}</div>'
