"""Reference-manager exports (Zotero-style BibTeX, RIS and CSL-JSON, in tests/data/references):
each parses into papers with titles, abstracts, authors, dates and links, skips the entry without
an abstract with one warning, ingests into a real Chroma and answers; hostile files fail in one
line naming file and line, and never take the good entries of a file down with a bad block."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import TEST_DATA

from rag.errors import CorpusError
from rag.ingest.corpus import parse_file
from rag.ingest.uploads import check_upload
from rag.settings import load_settings

DATA = TEST_DATA / "references"


def test_zotero_bibtex_reads_latex_dates_and_links_and_skips_the_entry_without_abstract():
    papers, stats, warnings = parse_file(DATA / "zotero.bib")
    by_title = {p.title: p for p in papers}
    assert set(by_title) == {"Training Transformers Without Learning-Rate Warmup",
                             "Sparse Mixture-of-Experts Routing with α-Entmax"}  # braces and math resolved
    warm = by_title["Training Transformers Without Learning-Rate Warmup"]
    assert warm.authors == 2 and warm.date_text == "2024" and warm.date is None  # a year alone is not a full date
    assert warm.url == "http://arxiv.org/abs/2401.01234" and warm.line == 1
    assert "40%" in by_title["Sparse Mixture-of-Experts Routing with α-Entmax"].abstract  # \% resolved
    assert stats.layout == "bibtex" and stats.skipped == 1
    assert warnings == ["zotero.bib: 1 record skipped (no abstract): line 23"]


def test_ris_and_csl_json_read_full_dates_authors_and_doi_links():
    ris, stats, warnings = parse_file(DATA / "zotero.ris")
    ckpt = next(p for p in ris if p.title.startswith("Gradient Checkpointing"))
    assert ckpt.date == "2024-03-15" and ckpt.authors == 2 and ckpt.url == "https://example.org/ckpt"
    assert len(ris) == 2 and stats.skipped == 1 and warnings == ["zotero.ris: 1 record skipped (no abstract): line 12"]
    csl, stats, warnings = parse_file(DATA / "zotero.json")
    (draft,) = csl
    assert draft.date == "2024-02-01" and draft.authors == 2  # a "literal" author counts
    assert draft.author_names and draft.author_names.count("; ") == 1
    assert draft.url == "https://doi.org/10.48550/arXiv.2402.00001" and draft.line == 2
    assert stats.layout == "csl-json" and warnings == ["zotero.json: 1 record skipped (no abstract): line 11"]


@pytest.mark.parametrize("name, text, message", [
    ("refs.json", '{"title": "x"}', "expected CSL-JSON (a JSON array of items"),
    ("refs.json", '[{"title": {"nested": 1}, "abstract": "An abstract long enough."}]', "refs.json:1: title"),
    ("refs.json", '[{"title": "A", "abstract": "B"}, 7]', "refs.json:1: expected a CSL-JSON item"),
    ("refs.json", "[" * 100_000, "invalid JSON"),
    ("refs.json", '[{"title": "A", "abstract": "An abstract."}', "the array is not closed"),
    ("refs.bib", "@article{broken, title = {never closed", "no papers found"),
    ("refs.ris", "this is not RIS at all\n", "refs.ris"),
])
def test_hostile_reference_files_fail_in_one_line_naming_the_file(tmp_path: Path, name, text, message):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    with pytest.raises(CorpusError) as e:
        parse_file(path)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_broken_bibtex_block_is_a_warning_and_the_good_entries_stay(tmp_path: Path):
    good = (DATA / "zotero.bib").read_text("utf-8")
    path = tmp_path / "mixed.bib"
    path.write_text(good + "\n@article{bad, title = {oops\n", "utf-8")
    papers, _, warnings = parse_file(path)
    assert len(papers) == 2
    assert any("a BibTeX block could not be read" in w for w in warnings)


def test_uploads_accept_the_reference_formats():
    s = load_settings()
    for name in ("refs.bib", "refs.ris", "refs.json"):
        check_upload(name, 100, s)  # raises on a refused type
    with pytest.raises(CorpusError, match="unsupported file type"):
        check_upload("refs.enw", 100, s)


def test_fields_added_later_leave_an_old_papers_hash_alone():
    from dataclasses import replace

    paper = parse_file(DATA / "zotero.json")[0][0]
    bare = replace(paper, author_names=None, date_inferred=None)
    assert replace(paper, date_inferred=None).content_hash != bare.content_hash  # names count when set
    # the hash of a paper without them is computed exactly as before the fields existed
    import hashlib
    import json
    from dataclasses import asdict

    old = {k: v for k, v in asdict(bare).items()
           if k not in ("source", "line", "abstract_raw", "author_names", "date_inferred")}
    assert bare.content_hash == hashlib.sha1(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
