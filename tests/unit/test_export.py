"""Exports of an answer (rag/answer/export.py, bibtex.py, paper_fields.py): pure tests on hand-made
papers, then the faces over the real seed index (`paperchat ask --format`, `GET /v1/papers/{id}?format=bibtex`)
and the UI's export handler. The browser download is in test_ui_browser.py."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from helpers import balanced, entries

from rag.answer import bibtex, export, paper_fields
from rag.types.answers import Answer, Citation, Exclusion, Line
from rag.types.papers import Paper

ABSTRACT = "We train transformers without any learning rate warmup. Training is stable."


def paper(title: str, pid: str | None = None, **kw) -> Paper:
    return Paper(paper_id=pid or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"), title=title,
                 abstract=kw.pop("abstract", ABSTRACT), source="t.jsonl", line=1, **kw)


LEE = paper("Training Transformers Without Learning-Rate Warmup", authors=2,
            author_names="Lee, Jane; Hans M\u00fcller", date="2024-01-15", url="http://arxiv.org/abs/2401.01234v2")
SEED = paper("Fast Certified Robust Training with Short Warmup", authors=5, date_text="Mar 31, 2021")
NODATE = paper("Stabilizing Transformer Training by Preventing Attention Entropy Collapse", authors=None)


def list_answer(*papers: Paper, first_n: int = 1) -> Answer:
    lines = [Line(kind="heading", text=f"{len(papers)} papers in the index say so:")]
    cits = []
    for i, p in enumerate(papers):
        lines.append(Line(kind="item", text="We train transformers without any learning rate warmup.",
                          paper_id=p.paper_id, label=p.title, cites=[p.paper_id]))
        cits.append(Citation(n=first_n + i, paper_id=p.paper_id, title=p.title, quote="q", supported=True))
    return Answer(question="Which papers skip warmup?", lines=lines, citations=cits, route="aggregate")


def by_id(*papers: Paper) -> dict[str, Paper]:
    return {p.paper_id: p for p in papers}


# ----------------------------------------------------------------------------------------------
# BibTeX keys
# ----------------------------------------------------------------------------------------------


def test_key_is_surname_year_first_title_word_else_the_paper_id():
    assert bibtex.base_key(LEE) == "lee2024training"
    assert bibtex.base_key(paper("On the Warmup", author_names="Jane Doe", date_text="2019")) == "doe2019warmup"
    assert bibtex.base_key(paper("A Study", author_names="\u00c9mile M\u00fcller-Lyer")) == "mullerlyerstudy"
    assert bibtex.base_key(SEED) == SEED.paper_id  # page dumps name no author


def test_keys_are_stable_across_exports_and_unique_within_one():
    twin = paper("Training Tricks", author_names="Lee, Kim", date="2024-02-01")  # also lee2024training
    alone = bibtex.bibtex_keys([LEE])
    together = bibtex.bibtex_keys([LEE, twin, SEED])
    again = bibtex.bibtex_keys([SEED, twin, LEE])  # another order, another run
    assert together == again
    assert len(set(together.values())) == 3
    assert together[LEE.paper_id].startswith("lee2024training-") and together[twin.paper_id].startswith(
        "lee2024training-")
    assert alone[LEE.paper_id] == "lee2024training"
    assert together[SEED.paper_id] == SEED.paper_id


def test_a_paper_repeated_in_the_input_is_one_entry():
    assert [k for _, k in entries(bibtex.to_bibtex([LEE, SEED, LEE]))] == ["lee2024training", SEED.paper_id]


# ----------------------------------------------------------------------------------------------
# BibTeX fields and escaping
# ----------------------------------------------------------------------------------------------


def test_entry_fields_and_arxiv_eprint():
    bib = bibtex.to_bibtex([LEE, SEED, NODATE])
    lee, seed, nodate = bib.split("\n@")
    assert lee.startswith("@misc{lee2024training,")
    assert "title = {{Training Transformers Without Learning-Rate Warmup}}" in lee
    assert "author = {Lee, Jane and Hans M\u00fcller}" in lee
    assert "year = {2024}" in lee and "url = {http://arxiv.org/abs/2401.01234v2}" in lee
    assert "eprint = {2401.01234}" in lee and "archivePrefix = {arXiv}" in lee
    assert f"abstract = {{{ABSTRACT}}}" in lee
    assert "author" not in seed and "year = {2021}" in seed and "eprint" not in seed and "url" not in seed
    assert "year" not in nodate


@pytest.mark.parametrize("url", ["https://arxiv.org/pdf/2401.01234.pdf", "https://www.arxiv.org/abs/2401.01234",
                                 "http://arxiv.org/abs/hep-th/9901001v3"])
def test_arxiv_ids(url):
    assert paper_fields.arxiv_id(url) in ("2401.01234", "hep-th/9901001")


@pytest.mark.parametrize("url", ["https://arxiv.org.evil.com/abs/2401.01234", "https://example.com/abs/2401.01234",
                                 "javascript:alert(1)//arxiv.org/abs/2401.01234", None])
def test_not_arxiv(url):
    assert paper_fields.arxiv_id(url) is None


def test_latex_special_characters_are_escaped_and_braces_always_balance():
    evil = paper("Break {out}} @misc{pwned, title={x} \\ 100% & #1 _a_ ~b^ $x$", pid="evil",
                 abstract="}} \\end{document} 50% off & more # _ ~ ^ $", author_names="O'Brien, {Pat}}; A and B",
                 url="https://example.com/a b}{\\x")
    bib = bibtex.to_bibtex([evil])
    assert len(entries(bib)) == 1  # the title's "@misc{pwned" starts no entry of its own
    assert balanced(bib) and bib.endswith("\n}\n")
    for field in re.findall(r"^  \w+ = (\{.*\}),?$", bib, re.M):
        assert balanced(field), field  # every field closes where it should
    assert r"100\% \& \#1 \_a\_ \textasciitilde{}b\textasciicircum{} \$x\$" in bib
    assert r"\textbraceleft{}out\textbraceright{}\textbraceright{}" in bib
    assert r"\textbackslash{}end\textbraceleft{}document\textbraceright{}" in bib
    assert "author = {O'Brien, \\textbraceleft{}Pat\\textbraceright{}\\textbraceright{} and {A and B}}" in bib
    assert "url = {https://example.com/a%20b%7D%7B%5Cx}" in bib


def test_a_non_http_url_is_left_out():
    for url in ("javascript:alert(1)", "data:text/html,<script>x</script>", "file:///etc/passwd", "//host/x",
                "http://", "not a url"):
        bib = bibtex.to_bibtex([paper("T", pid="t", url=url)])
        assert "url" not in bib, url


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def test_markdown_has_the_answer_with_markers_then_numbered_references():
    md = export.to_markdown(list_answer(LEE, SEED, NODATE), by_id(LEE, SEED, NODATE))
    head, refs = md.split("\n## References\n\n")
    assert head.startswith("# Which papers skip warmup?\n\n3 papers in the index say so\\:\n\n- ")
    assert "\u201cWe train transformers without any learning rate warmup.\u201d [1]" in head
    assert head.count("\n- ") == 3  # one list, not three paragraphs
    lines = refs.strip().split("\n")
    assert lines[0] == ("- [1] **Training Transformers Without Learning-Rate Warmup**. Lee, Jane; Hans M\u00fcller. "
                        "2024. <http://arxiv.org/abs/2401.01234v2>")
    assert lines[1] == "- [2] **Fast Certified Robust Training with Short Warmup**. 5 authors. 2021"
    assert lines[2] == "- [3] **Stabilizing Transformer Training by Preventing Attention Entropy Collapse**"


def test_markdown_reference_numbers_are_the_conversation_numbers():
    md = export.to_markdown(list_answer(LEE, SEED, first_n=4), by_id(LEE, SEED))
    assert "[4]" in md and "- [4] **Training" in md and "- [5] **Fast" in md and "[1]" not in md


def test_markdown_date_as_written_when_it_has_no_year():
    p = paper("Undated", pid="undated", date_text="Mar 31")
    assert "- [1] **Undated**. Mar 31" in export.to_markdown(list_answer(p), by_id(p))


def test_markdown_cites_a_paper_no_longer_in_the_index_by_its_title():
    md = export.to_markdown(list_answer(LEE), {})
    assert "- [1] **Training Transformers Without Learning-Rate Warmup**" in md


HOSTILE_TITLE = '<img src=x onerror=alert(1)> [click](javascript:alert(1)) ![x](http://evil.example/x.png) **b**'


def test_markdown_keeps_hostile_titles_and_links_inert():
    from markdown_it import MarkdownIt

    evil = paper(HOSTILE_TITLE, pid="evil", author_names="<script>alert(2)</script>", url="javascript:alert(3)")
    data = paper("Data Link", pid="data", url="data:text/html;base64,PHNjcmlwdD4=")
    spaced = paper("Spaced Link", pid="spaced", url='https://ok.example/a b"><script>x</script>')
    md = export.to_markdown(list_answer(evil, data, spaced), by_id(evil, data, spaced))
    html = MarkdownIt("commonmark", {"html": True, "linkify": False}).render(md)
    assert not re.search(r"<(?!/?(h1|h2|p|ul|li|strong|a)\b)", html), html  # no tag from a paper
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == ["https://ok.example/a%20b%22%3E%3Cscript%3Ex%3C/script%3E"], hrefs
    assert "data:" not in md.split("## References")[1].replace("Data Link", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the title is shown, as text


def test_markdown_carries_a_list_answers_near_misses_inert():
    from dataclasses import replace

    from markdown_it import MarkdownIt

    a, b = paper("Alpha"), paper("Beta")
    ans = replace(list_answer(a), excluded=[Exclusion(paper_id=b.paper_id, title=HOSTILE_TITLE,
                                                      quote="It re-warms [x](javascript:alert(1)).",
                                                      reason="judged 30% likely; listing needs 40%")])
    md = export.to_markdown(ans, by_id(a, b))
    tail = md.split("## Considered, not listed", 1)[1]
    assert "judged 30% likely; listing needs 40%" in tail and "It re-warms" in tail
    html = MarkdownIt("commonmark", {"html": True, "linkify": False}).render(md)
    assert "href" not in html.split("Considered, not listed", 1)[1]  # no live link from a paper
    assert not re.search(r"<(?!/?(h1|h2|p|ul|ol|li|strong|a)\b)", html), html
    assert "## Considered" not in export.to_markdown(list_answer(a), by_id(a))


# ----------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------


def test_csv_of_a_list_answer():
    rows = list(csv.reader(io.StringIO(export.to_csv(list_answer(LEE, SEED), by_id(LEE, SEED)))))
    assert rows[0] == ["n", "title", "year", "url", "quote"]
    assert rows[1] == ["1", LEE.title, "2024", "http://arxiv.org/abs/2401.01234v2",
                       "We train transformers without any learning rate warmup."]
    assert rows[2][:4] == ["2", SEED.title, "2021", ""]
    assert export.is_list_answer(list_answer(LEE))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_csv_cells_never_start_a_formula(start):
    evil = paper(f"{start}HYPERLINK(\"http://evil\",\"x\")", pid="evil", date_text="2021")
    ans = list_answer(evil)
    ans.lines[1].text = f"{start}1+cmd|' /C calc'!A0"
    rows = list(csv.reader(io.StringIO(export.to_csv(ans, by_id(evil)))))
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    if start != "\t":  # a leading tab is whitespace, dropped like any other
        assert rows[1][1].startswith("'") and rows[1][4].startswith("'")


def test_file_names_are_plain():
    assert export.file_name("Which papers skip warmup?", "markdown") == "paperchat-which-papers-skip-warmup.md"
    assert export.file_name("../../etc/passwd\x00 <x>", "bibtex") == "paperchat-etc-passwd-x.bib"
    assert export.file_name("\u201c\u201d", "csv") == "paperchat-answer.csv"
    assert len(export.file_name("word " * 100, "csv")) <= 60 + len("paperchat-.csv")


# ----------------------------------------------------------------------------------------------
# the UI's handler (files on disk, buttons shown only for a new answer)
# ----------------------------------------------------------------------------------------------


class _Papers:
    def __init__(self, *papers: Paper) -> None:
        self.known = by_id(*papers)

    def papers_by_id(self, ids):
        return {i: self.known[i] for i in ids if i in self.known}


def test_ui_export_writes_the_files_of_the_latest_answer(tmp_path, monkeypatch):
    from ui import exports

    monkeypatch.setattr(exports, "export_root", lambda: tmp_path / "exports")
    row, md, bib, csv_ = exports.after_answer(_Papers(LEE, SEED), [list_answer(LEE, SEED)], 0)
    assert row.visible is True and md.visible and bib.visible and csv_.visible
    assert md.value["orig_name"] == "paperchat-which-papers-skip-warmup.md"
    assert "## References" in Path(md.value["path"]).read_text()
    assert len(entries(Path(bib.value["path"]).read_text())) == 2
    assert Path(csv_.value["path"]).name == "paperchat-which-papers-skip-warmup.csv"
    # no new answer (the turn failed): nothing offered
    assert exports.after_answer(_Papers(LEE), [list_answer(LEE)], 1)[0].visible is False
    # a quote answer: no CSV
    quote = Answer(question="q", lines=[Line(kind="quote", text="x", paper_id=LEE.paper_id, label=LEE.title,
                                            cites=[LEE.paper_id])],
                   citations=[Citation(1, LEE.paper_id, LEE.title, "x", True)])
    assert exports.after_answer(_Papers(LEE), [quote], 0)[3].visible is False


# ----------------------------------------------------------------------------------------------
# the faces over the real seed index
# ----------------------------------------------------------------------------------------------
