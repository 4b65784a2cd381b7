"""BibTeX entries for cited papers, under keys that are stable: a paper gets the same key in every
export, run and conversation.

Apart from the other renderings (``rag.answer.export``) because BibTeX has rules of its own: keys
built from names, years and titles, and escaping. LaTeX's special characters become commands whose
braces balance (BibTeX counts braces whatever precedes them, so ``\\{`` would still close a field).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

from rag.answer.paper_fields import arxiv_id, author_list, safe_url, year_of
from rag.text.analysis import INDEX_STOPWORDS
from rag.types.papers import Paper


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
