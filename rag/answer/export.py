"""An answer as a file someone keeps: Markdown with numbered references, BibTeX entries for the
cited papers, CSV of a list answer, or the plain text the CLI prints.

Pure functions over an :class:`~rag.types.answers.Answer` and the cited :class:`~rag.types.papers.Paper` records
(the answer carries paper ids and titles only; names, dates and links live on the papers, which
the faces look up in the index). Every field of a paper is hostile input, and each format has its
own way to keep it inert:

* Markdown: titles, names and quotes escaped with :func:`rag.text.sanitize.markdown_literal`; a link
  only for an http(s) URL, percent-encoded so it cannot close its autolink. No raw HTML is written.
* BibTeX: LaTeX's special characters become commands whose braces balance (BibTeX counts braces
  whatever precedes them, so ``\\{`` would still close a field).
* CSV: a cell that starts with ``= + - @`` (or a tab / carriage return) is prefixed with ``'``,
  so a spreadsheet shows it as text instead of running it as a formula.

Keys are stable: a paper gets the same BibTeX key in every export, run and conversation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Literal
from urllib.parse import quote, urlsplit

from rag.text.analysis import INDEX_STOPWORDS
from rag.text.sanitize import markdown_literal
from rag.text.titles import short_title
from rag.types.answers import Answer, Line, answer_text, line_text, quoted
from rag.types.papers import Paper

Format = Literal["text", "markdown", "bibtex", "json"]
FORMATS: tuple[str, ...] = ("text", "markdown", "bibtex", "json")
# what a downloaded file of each format is called and served as
SUFFIXES = {"markdown": ".md", "bibtex": ".bib", "csv": ".csv", "text": ".txt", "json": ".json"}
BIBTEX_MEDIA_TYPE = "application/x-bibtex"

_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_ARXIV_HOST = re.compile(r"^(?:www\.|export\.)?arxiv\.org$", re.IGNORECASE)
_ARXIV_PATH = re.compile(
    r"^/(?:abs|pdf)/((?:\d{4}\.\d{4,5})|(?:[a-z-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?(?:\.pdf)?/?$")
# characters left as they are in a URL we print; everything else is percent-encoded, so no space,
# quote, angle bracket, brace or backslash can end the link or the field it sits in
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"


# ----------------------------------------------------------------------------------------------
# what every format reads off a paper
# ----------------------------------------------------------------------------------------------


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


def _ascii_word(text: str) -> str:
    """Letters and digits of ``text`` as lower-case ASCII ("Müller" -> "muller")."""
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]+", "", text.encode("ascii", "ignore").decode().lower())


def _surname(name: str) -> str:
    """"Lee, Jane" and "Jane Lee" -> "lee" (reference managers write the first, pages the second)."""
    family = name.split(",", 1)[0] if "," in name else (name.split() or [""])[-1]
    return _ascii_word(family)


def _first_title_word(title: str) -> str:
    for word in re.split(r"[^0-9A-Za-z\u00C0-\uFFFF]+", title):
        w = _ascii_word(word)
        if w and w not in INDEX_STOPWORDS:
            return w
    return ""


def base_key(paper: Paper) -> str:
    """The paper's BibTeX key before de-duplication: first author's surname + year + first title
    word ("lee2024training") when the names are known; else the paper id, which the index keeps
    unique and stable (derived from the normalised title) and which ``/v1/papers/{id}`` serves."""
    names = author_list(paper)
    surname = _surname(names[0]) if names else ""
    if surname:
        return f"{surname}{year_of(paper) or ''}{_first_title_word(paper.title)}"
    return re.sub(r"[^a-z0-9-]+", "", paper.paper_id.lower()) or "paper"


def bibtex_keys(papers: Sequence[Paper]) -> dict[str, str]:
    """paper_id -> key, unique within ``papers``. Papers whose base keys collide all get a suffix
    from their own paper id, so no paper's key depends on the order of the export."""
    base = {p.paper_id: base_key(p) for p in papers}
    counts: dict[str, int] = {}
    for k in base.values():
        counts[k] = counts.get(k, 0) + 1
    keys = {pid: k if counts[k] == 1 else f"{k}-{hashlib.sha1(pid.encode()).hexdigest()[:6]}"
            for pid, k in base.items()}
    seen: set[str] = set()
    for pid, k in keys.items():  # a suffix that collides with another base key: longer suffix
        if k in seen:
            keys[pid] = f"{k}-{hashlib.sha1(pid.encode()).hexdigest()[:12]}"
        seen.add(keys[pid])
    return keys


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
# BibTeX
# ----------------------------------------------------------------------------------------------

# every LaTeX special character as text whose braces balance; a backslash first of all
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_TABLE = str.maketrans(_LATEX)


def latex_escape(text: str) -> str:
    """``text`` as the value of a braced BibTeX field that LaTeX typesets as exactly that text:
    whitespace collapsed to single spaces, special characters as commands."""
    return " ".join(text.split()).translate(_LATEX_TABLE)


def _bib_name(name: str) -> str:
    """One author for ``author = {A and B}``: a name that holds the word "and" (a consortium) is
    braced, so BibTeX does not split it into two people."""
    text = latex_escape(name)
    return f"{{{text}}}" if re.search(r"\band\b", text, re.IGNORECASE) else text


def bibtex_entry(paper: Paper, key: str) -> str:
    """One ``@misc`` entry (no venue is known, and ``@article`` requires a journal): title (its
    capitals kept), authors when named, year, url, arXiv eprint, abstract."""
    fields: list[tuple[str, str]] = [("title", f"{{{latex_escape(paper.title)}}}")]
    names = author_list(paper)
    if names:
        fields.append(("author", " and ".join(_bib_name(n) for n in names)))
    year = year_of(paper)
    if year:
        fields.append(("year", year))
    url = safe_url(paper.url)
    if url:
        # a URL field is read verbatim (url / hyperref): percent-encoded (no brace, backslash or
        # space is left in it), not LaTeX-escaped
        fields.append(("url", url))
    eprint = arxiv_id(paper.url)
    if eprint:
        fields += [("eprint", eprint), ("archivePrefix", "arXiv")]
    if paper.abstract:
        fields.append(("abstract", latex_escape(paper.abstract)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n"


def to_bibtex(papers: Iterable[Paper]) -> str:
    """One entry per paper (the first of any repeated paper id), keys unique within the export."""
    unique: list[Paper] = []
    seen: set[str] = set()
    for p in papers:
        if p.paper_id not in seen:
            seen.add(p.paper_id)
            unique.append(p)
    keys = bibtex_keys(unique)
    return "\n".join(bibtex_entry(p, keys[p.paper_id]) for p in unique)


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

