"""An answer as a file someone keeps: Markdown with numbered references, BibTeX entries for the
cited papers (rendered by :mod:`rag.answer.bibtex`), CSV of a list answer, or the plain text the
CLI prints.

Pure functions over an :class:`~rag.types.answers.Answer` and the cited :class:`~rag.types.papers.Paper` records
(the answer carries paper ids and titles only; names, dates and links live on the papers, which
the faces look up in the index, and every format reads them through :mod:`rag.answer.paper_fields`).
Every field of a paper is hostile input, and each format has its own way to keep it inert:

* Markdown: titles, names and quotes escaped with :func:`rag.text.sanitize.markdown_literal`; a link
  only for an http(s) URL, percent-encoded so it cannot close its autolink. No raw HTML is written.
* BibTeX: LaTeX's special characters become commands whose braces balance (see :mod:`rag.answer.bibtex`).
* CSV: a cell that starts with ``= + - @`` (or a tab / carriage return) is prefixed with ``'``,
  so a spreadsheet shows it as text instead of running it as a formula.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Literal

from rag.answer.paper_fields import author_list, safe_url, year_of
from rag.text.sanitize import markdown_literal
from rag.text.titles import short_title
from rag.types.answers import Answer, Line, answer_text, line_text, quoted
from rag.types.papers import Paper

Format = Literal["text", "markdown", "bibtex", "json"]
FORMATS: tuple[str, ...] = ("text", "markdown", "bibtex", "json")
# what a downloaded file of each format is called and served as
SUFFIXES = {"markdown": ".md", "bibtex": ".bib", "csv": ".csv", "text": ".txt", "json": ".json"}
BIBTEX_MEDIA_TYPE = "application/x-bibtex"


def cited_papers(answer: Answer, papers: Mapping[str, Paper]) -> list[Paper]:
    """The papers the answer cites, in citation-number order; a citation whose paper is no longer
    in ``papers`` (re-ingested away) is left out."""
    return [papers[c.paper_id] for c in sorted(answer.citations, key=lambda c: c.n) if c.paper_id in papers]


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def _short_labels(lines: Iterable[Line]) -> list[Line]:
    """Quote and list lines under the paper's short title; the references carry the full one."""
    return [replace(ln, label=short_title(ln.label)) if ln.kind in ("quote", "item") and ln.label else ln
            for ln in lines]


def _body(lines: Sequence[Line], numbers: Mapping[str, int]) -> str:
    """The lines as Markdown blocks: consecutive bullets form one list, every other line is its
    own paragraph (one newline would join two sentences into one paragraph)."""
    blocks: list[list[str]] = []
    in_list = False
    for ln in lines:
        text = line_text(ln, numbers, markdown_literal)
        bullet = ln.kind in ("quote", "item", "nearest")
        if bullet and in_list:
            blocks[-1].append(text)
        else:
            blocks.append([text])
        in_list = bullet
    return "\n\n".join("\n".join(b) for b in blocks)


def authors_text(paper: Paper) -> str:
    """The names when the source lists them ("A; B; C", more than six as the first three et al.),
    else "N authors", else ""."""
    names = author_list(paper)
    if names:
        return "; ".join(names) if len(names) <= 6 else "; ".join(names[:3]) + " et al."
    if paper.authors:
        return f"{paper.authors} author{'s' if paper.authors != 1 else ''}"
    return ""


def reference_markdown(n: int, title: str, paper: Paper | None) -> str:
    """One numbered reference: ``[n] **title**. authors. year. <link>``; what is unknown is left
    out. ``[n]`` rather than ``n.``: citation numbers run over a conversation, so one answer may
    cite 2 and 5, which a Markdown ordered list would renumber as 2 and 3."""
    parts = [f"**{markdown_literal(title)}**"]
    if paper is not None:
        who = authors_text(paper)
        when = year_of(paper) or paper.date_text
        parts += [markdown_literal(x) for x in (who, when) if x]
        link = safe_url(paper.url)
        if link:
            parts.append(f"<{link}>")
    return f"- [{n}] " + ". ".join(p.rstrip(".") if not p.startswith("<") else p for p in parts)


def to_markdown(answer: Answer, papers: Mapping[str, Paper]) -> str:
    """The question as a heading, the answer's lines with their [n] markers, then "References":
    one line per cited paper, in number order, with title, authors, year and link; a list
    answer's near-misses last ("Considered, not listed"), so the audit travels with the list."""
    out = [f"# {markdown_literal(answer.question.strip())}", _body(_short_labels(answer.lines), answer.numbers())]
    cites = sorted(answer.citations, key=lambda c: c.n)
    if cites:
        out.append("## References")
        out.append("\n".join(reference_markdown(c.n, papers[c.paper_id].title if c.paper_id in papers else c.title,
                                                papers.get(c.paper_id)) for c in cites))
    if answer.excluded:
        out.append("## Considered, not listed")
        out.append("\n".join(
            f"{i}. **{markdown_literal(e.title)}**: {markdown_literal(e.reason)}"
            + (f" (“{markdown_literal(e.quote)}”)" if e.quote else "")
            for i, e in enumerate(answer.excluded, start=1)))
    return "\n\n".join(x for x in out if x) + "\n"


def to_text(answer: Answer) -> str:
    """The canonical plain rendering (what ``paperchat ask`` prints as the answer)."""
    return answer_text(answer.lines, answer.numbers())


# ----------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------

CSV_COLUMNS = ("n", "title", "year", "url", "quote")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading ``'``."""
    text = "" if value is None else " ".join(str(value).split())
    return "'" + text if text.startswith(_FORMULA_START) else text


def is_list_answer(answer: Answer) -> bool:
    """True when the answer lists papers (the list route's item lines)."""
    return any(ln.kind == "item" for ln in answer.lines)


def to_csv(answer: Answer, papers: Mapping[str, Paper]) -> str:
    """One row per listed paper (the item lines; quote lines when the answer is not a list), in
    answer order: citation number, full title, year, http(s) link, the quoted words."""
    numbers = answer.numbers()
    titles: dict[str, str] = {c.paper_id: c.title for c in answer.citations}
    kind = "item" if is_list_answer(answer) else "quote"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for ln in answer.lines:
        if ln.kind != kind or not ln.paper_id:
            continue
        paper = papers.get(ln.paper_id)
        title = paper.title if paper is not None else titles.get(ln.paper_id, ln.label)
        writer.writerow([csv_cell(x) for x in (
            numbers.get(ln.paper_id, ""), title, year_of(paper) if paper else "",
            safe_url(paper.url) if paper else "", quoted(ln))])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# file names
# ----------------------------------------------------------------------------------------------


def file_name(question: str, fmt: str) -> str:
    """A download's name: "paperchat-" + the question's first words as a lower-case ASCII slug +
    the format's suffix; nothing a file system or a Content-Disposition header could misread."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", question).encode("ascii", "ignore")
                       .decode().lower())
    slug = "-".join(words)[:60].rstrip("-") or "answer"
    return f"paperchat-{slug}{SUFFIXES[fmt]}"

