"""Parsers over the real seed dumps (counts pinned exactly) and over every malformed input we know."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ABSTRACT, SEED_FILES

from rag.errors import CorpusError, PaperchatError
from rag.ingest.corpus import Paper, bundled_seed_paths, load_corpus, merge_duplicates, parse_file
from rag.ingest.fields import normalize_title, paper_id_for
from rag.ingest.pages import parse_date

# ----------------------------------------------------------------------------------------------
# the real seeds
# ----------------------------------------------------------------------------------------------

SEED_EXPECTED = {  # file prefix -> (records, layout)
    "000": (18, "blocks"),
    "001": (421, "lines"),
    "002": (14, "blocks"),
    "003": (55, "lines"),
    "004": (50, "blocks"),
}


def _seed(prefix: str) -> Path:
    (path,) = [p for p in SEED_FILES if p.name.startswith(prefix + "_")]
    return path


def test_bundled_seed_paths_are_the_five_seed_files():
    assert [p.name[:3] for p in bundled_seed_paths()] == sorted(SEED_EXPECTED)
    assert bundled_seed_paths() == SEED_FILES


@pytest.mark.parametrize("prefix", sorted(SEED_EXPECTED))
def test_seed_file_records_and_layout(prefix: str):
    papers, stats, warnings = parse_file(_seed(prefix))
    records, layout = SEED_EXPECTED[prefix]
    assert (len(papers), stats.records, stats.layout) == (records, records, layout)
    assert stats.skipped == 0 and warnings == []
    assert all(p.source == _seed(prefix).name for p in papers)
    # every record is a real paper: a short title line and a paragraph-sized abstract
    assert all(0 < len(p.title) <= 400 and len(p.abstract) >= 80 for p in papers)
    assert all(p.paper_id == paper_id_for(p.title) for p in papers)


def test_seed_corpus_totals(seed_corpus):
    assert seed_corpus.records == 558
    assert len(seed_corpus.papers) == 540
    assert seed_corpus.duplicates == 18
    assert seed_corpus.warnings == []
    assert len({p.paper_id for p in seed_corpus.papers}) == 540
    assert [f.records for f in seed_corpus.files] == [18, 421, 14, 55, 50]


def test_page_chrome_is_not_parsed_as_papers(seed_corpus):
    titles = {p.title.lower() for p in seed_corpus.papers}
    for chrome in ("new", "subscribe", "daily papers", "get trending papers in your email inbox!"):
        assert chrome not in titles
    # layout "lines" glues the first title to the Subscribe button
    first_001, _, _ = parse_file(_seed("001"))
    assert first_001[0].title == (
        "Reliably Re-Acting to Partner's Actions with the Social Intrinsic Motivation of Transfer Empowerment"
    )
    assert first_001[0].line == 3


def test_organisation_line_in_004():
    papers, _, _ = parse_file(_seed("004"))
    flash = [p for p in papers if p.title.startswith("Flash-DMD:")]
    assert len(flash) == 1
    p = flash[0]
    assert p.organization == "tencent Tencent"
    assert p.authors is None
    assert p.upvotes == 2
    assert p.date_text == "Nov 25"  # as written: the dump gives no year...
    # ...but the page writes full dates up to 2024, so it was captured in 2025 at the earliest
    assert (p.date, p.date_inferred) == ("2025-11-25", "page-newest-year+1")
    assert p.line == 229
    assert [q.organization for q in papers if q.organization] == ["tencent Tencent"]


def test_authors_line_and_dated_line_in_004():
    papers, _, _ = parse_file(_seed("004"))
    first = papers[0]
    assert first.title == "How to Make Cross Encoder a Good Teacher for Efficient Image-Text Retrieval?"
    assert first.authors == 10  # "  • 10 authors"
    assert (first.date, first.date_text, first.upvotes) == ("2024-07-10", "Jul 10, 2024", None)

    dual = next(p for p in papers if p.title.startswith("DualToken-ViT"))
    assert dual.authors == 7
    assert (dual.date, dual.date_text, dual.upvotes) == ("2023-09-21", "Sep 21, 2023", 2)  # "Sep 21, 2023 2"

    second = papers[1]  # "May 12 3": upvotes, no year written; the year is the page's (rag.text.dates)
    assert (second.authors, second.date, second.date_text, second.upvotes) == (4, "2025-05-12", "May 12", 3)
    assert (first.date_inferred, dual.date_inferred, second.date_inferred) == (None, None, "page-newest-year+1")


def test_four_papers_in_004_have_no_metadata():
    papers, _, _ = parse_file(_seed("004"))
    bare = [p for p in papers
            if (p.authors, p.organization, p.date, p.date_text, p.upvotes) == (None, None, None, None, None)]
    assert [p.line for p in bare] == [69, 89, 149, 201]
    assert bare[1].title == "Towards a Unified View of Large Language Model Post-Training"


def test_dedupe_fills_fields_from_other_copies(seed_corpus):
    """'Fast Certified Robust Training' is in 000, 002 and 004; only 004 has its date."""
    p = next(p for p in seed_corpus.papers if p.paper_id == "fast-certified-robust-training-with-short-warmup")
    assert p.source.startswith("000_") and p.line == 55  # first appearance
    assert p.date == "2021-03-31" and p.date_text == "Mar 31, 2021"
    assert p.authors == 5


def test_ids_are_stable_slugs_of_the_normalised_title(seed_corpus):
    ids = {p.title: p.paper_id for p in seed_corpus.papers}
    # pinned: ids are stored in the index and in eval gold sets, so they must never drift
    assert ids["Fast Certified Robust Training with Short Warmup"] == "fast-certified-robust-training-with-short-warmup"
    assert ids["Stabilizing Transformer Training by Preventing Attention Entropy Collapse"] == (
        "stabilizing-transformer-training-by-preventing-ca067b6"
    )
    # parsing again gives the same ids in the same order
    assert [p.paper_id for p in load_corpus(SEED_FILES).papers] == [p.paper_id for p in seed_corpus.papers]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Fast Certified Robust Training with Short Warmup", "fast-certified-robust-training-with-short-warmup"),
        ("  FAST certified, robust training -- with SHORT warmup!  ", "fast-certified-robust-training-with-short-warmup"),
        ("Café: Naïve Attention", "cafe-naive-attention"),
        ("1-bit Adam", "1-bit-adam"),
    ],
)
def test_paper_id_for(title: str, expected: str):
    assert paper_id_for(title) == expected


def test_long_title_id_is_truncated_with_a_hash_suffix():
    a = paper_id_for("A " + "very " * 30 + "long title about transformers")
    b = paper_id_for("A " + "very " * 30 + "long title about diffusion")
    assert len(a) <= 64 and len(b) <= 64
    assert a != b  # same 56-character prefix, different hash
    assert a.startswith("a-very-very-")


def test_paper_id_needs_letters_or_digits():
    with pytest.raises(ValueError):
        paper_id_for("?!- ...")
    assert normalize_title("?!- ...") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sep 21, 2023 2", ("2023-09-21", 2)),
        ("Jul 10, 2024", ("2024-07-10", None)),
        ("May 12 3", (None, 3)),
        ("Nov 25", (None, None)),
        ("Sept 5, 2020", ("2020-09-05", None)),
        ("Feb 29, 2024 10", ("2024-02-29", 10)),
    ],
)
def test_parse_date(text: str, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["Feb 30, 2024", "Tomorrow", "2024-01-01", "Sep 21 2023 x"])
def test_parse_date_rejects(text: str):
    with pytest.raises(ValueError):
        parse_date(text)


# ----------------------------------------------------------------------------------------------
# dedupe
# ----------------------------------------------------------------------------------------------


def _p(title: str, abstract: str, source: str, line: int, **kw) -> Paper:
    return Paper(paper_id=paper_id_for(title), title=title, abstract=abstract, source=source, line=line, **kw)


def test_merge_keeps_the_longest_abstract_and_fills_missing_fields():
    short = _p("Short Warmup", ABSTRACT[:90], "a.txt", 1, upvotes=4)
    other = _p("Other Paper", ABSTRACT, "a.txt", 5)
    long = _p("Short  warmup.", ABSTRACT, "b.txt", 7, authors=3, date="2024-01-02", date_text="Jan 2, 2024")
    merged, dups = merge_duplicates([short, other, long])
    assert dups == 1
    assert [p.paper_id for p in merged] == ["short-warmup", "other-paper"]  # order of first appearance
    m = merged[0]
    assert m.abstract == ABSTRACT  # the longer copy wins
    assert (m.upvotes, m.authors, m.date) == (4, 3, "2024-01-02")  # fields merged from both copies


def test_merge_points_at_the_first_appearance():
    """corpus.merge_duplicates documents that the first appearance's source and line are kept."""
    short = _p("Short Warmup", ABSTRACT[:90], "a.txt", 1)
    long = _p("Short Warmup", ABSTRACT, "b.txt", 7)
    (m,), _ = merge_duplicates([short, long])
    assert m.abstract == ABSTRACT
    assert (m.source, m.line) == ("a.txt", 1)


def test_merge_with_equal_abstracts_keeps_the_first():
    a = _p("Same", ABSTRACT, "a.txt", 1)
    b = _p("Same", ABSTRACT, "b.txt", 2, upvotes=9)
    (m,), dups = merge_duplicates([a, b])
    assert dups == 1 and (m.source, m.upvotes) == ("a.txt", 9)


# ----------------------------------------------------------------------------------------------
# hand-written page dumps
# ----------------------------------------------------------------------------------------------


def test_blocks_dump_with_a_title_missing_its_abstract(tmp_path: Path):
    path = tmp_path / "dump.txt"
    path.write_text(
        "new\n\nSubscribe\n\nDaily Papers\n\nMar 3\n\n"
        f"Paper One\n\n{ABSTRACT}\n\n  • 3 authors\n·\nMar 3, 2024 5\n\n"
        "Paper Two\n\n"  # line 17: no abstract follows
        f"Paper Three\n\n{ABSTRACT} Three.\n\nSome Lab\n·\nMar 4\n",
        encoding="utf-8",
    )
    papers, stats, warnings = parse_file(path)
    assert [p.title for p in papers] == ["Paper One", "Paper Three"]
    assert (stats.layout, stats.records, stats.skipped) == ("blocks", 2, 1)
    assert len(warnings) == 1
    assert warnings[0].startswith("dump.txt:17: ") and "Paper Two" in warnings[0]
    one, three = papers
    assert (one.authors, one.date, one.upvotes, one.line) == (3, "2024-03-03", 5, 9)
    # "Mar 4" would be 2025 (the page writes 2024 out), after the page's own "Mar 3": no year
    assert (three.organization, three.date_text, three.date, three.line) == ("Some Lab", "Mar 4", None, 19)
    # the whole-corpus loader passes the warning on instead of dropping the record silently
    corpus = load_corpus([path])
    assert corpus.warnings == warnings and len(corpus.papers) == 2


def test_lines_dump(tmp_path: Path):
    path = tmp_path / "lines.txt"
    path.write_text(
        "Get trending papers in your email inbox!\n"
        f"SubscribeFirst Paper\n{ABSTRACT}\nSecond Paper\n{ABSTRACT} Again.\n",
        encoding="utf-8",
    )
    papers, stats, warnings = parse_file(path)
    assert stats.layout == "lines" and warnings == []
    assert [(p.title, p.line) for p in papers] == [("First Paper", 2), ("Second Paper", 4)]


# ----------------------------------------------------------------------------------------------
# JSONL and CSV happy paths
# ----------------------------------------------------------------------------------------------


def test_jsonl_with_optional_fields(tmp_path: Path):
    path = tmp_path / "papers.jsonl"
    rows = [
        {"title": "List Authors", "abstract": ABSTRACT, "authors": ["A. One", "B. Two", "C. Three"],
         "date": "2024-05-01", "upvotes": 7, "url": "https://example.org/1", "organization": "Lab"},
        {"Title": "Int Authors", "Abstract": ABSTRACT, "authors": 4, "date": "2023-12-31T08:00:00Z", "upvotes": "12"},
        {"title": "Text Authors", "abstract": ABSTRACT, "authors": "Ann Lee, Bo Chen and Cy Diaz",
         "date": "Sep 21, 2023"},
        {"title": "Bare", "abstract": ABSTRACT},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    papers, stats, warnings = parse_file(path)
    assert (stats.layout, stats.records, warnings) == ("jsonl", 4, [])
    a, b, c, d = papers
    assert (a.authors, a.date, a.upvotes, a.url, a.organization, a.line) == (
        3, "2024-05-01", 7, "https://example.org/1", "Lab", 1)
    assert (b.title, b.authors, b.date, b.upvotes, b.line) == ("Int Authors", 4, "2023-12-31", 12, 2)
    assert (c.authors, c.date, c.date_text) == (3, "2023-09-21", "Sep 21, 2023")
    assert (d.authors, d.date, d.upvotes, d.url) == (None, None, None, None)


def test_csv_with_optional_fields(tmp_path: Path):
    path = tmp_path / "papers.csv"
    path.write_text(
        "Title,Abstract,authors,date,upvotes\n"
        f'"Quoted, Title","{ABSTRACT}",5,2022-02-02,3\n'
        f"Plain Title,{ABSTRACT.replace(',', ';')},,,\n"
        ",,,,\n",  # an all-empty row is skipped, not an error
        encoding="utf-8",
    )
    papers, stats, _ = parse_file(path)
    assert (stats.layout, stats.records) == ("csv", 2)
    a, b = papers
    assert (a.title, a.authors, a.date, a.upvotes, a.line) == ("Quoted, Title", 5, "2022-02-02", 3, 2)
    assert (b.authors, b.date, b.upvotes, b.line) == (None, None, None, 3)


def test_same_paper_in_jsonl_and_dump_dedupes(tmp_path: Path, seed_corpus):
    p = seed_corpus.papers[0]
    path = tmp_path / "extra.jsonl"
    path.write_text(json.dumps({"title": p.title.upper(), "abstract": p.abstract, "upvotes": 99}) + "\n", "utf-8")
    corpus = load_corpus([_seed("000"), path])
    assert corpus.duplicates == 1 and len(corpus.papers) == 18
    merged = next(q for q in corpus.papers if q.paper_id == p.paper_id)
    assert merged.upvotes == 99


def test_directory_expands_to_supported_files(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"title": "A", "abstract": ABSTRACT}) + "\n", "utf-8")
    (tmp_path / "notes.md").write_text("ignored", "utf-8")
    corpus = load_corpus([tmp_path])
    assert [p.title for p in corpus.papers] == ["A"]
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(CorpusError, match="empty_dir: directory has no"):
        load_corpus([empty])


# ----------------------------------------------------------------------------------------------
# malformed input: every error names the file, and the line where there is one
# ----------------------------------------------------------------------------------------------

_GOOD = json.dumps({"title": "Good", "abstract": ABSTRACT})

MALFORMED = [
    # (id, file name, bytes, message pattern after the file name)
    ("empty", "empty.txt", b"", r": file is empty"),
    ("whitespace", "blank.txt", b"  \n\n\t \r\n", r": file is empty"),
    ("binary", "data.txt", b"PK\x03\x04\x00\x00binary\x00" * 20, r": looks like a binary file"),
    ("invalid-utf8", "latin1.txt", f"Title\n\n{ABSTRACT}\n".encode() + b"caf\xe9 ol\xe9\n", r":4: not valid UTF-8"),
    ("suffix", "papers.pdf", b"%PDF-1.7", r": unsupported file type \.pdf"),
    ("no-suffix", "papers", b"whatever", r": unsupported file type \(none\)"),
    ("bad-json", "bad.jsonl", (_GOOD + "\n{'title': 'single quotes'}\n").encode(), r":2: invalid JSON"),
    ("json-not-object", "list.jsonl", b'["title", "abstract"]\n', r":1: expected a JSON object"),
    ("jsonl-bad-upvotes", "up.jsonl", json.dumps({"title": "T", "abstract": ABSTRACT, "upvotes": "lots"}).encode(),
     r":1: upvotes must be a whole number"),
    ("jsonl-negative-upvotes", "neg.jsonl", json.dumps({"title": "T", "abstract": ABSTRACT, "upvotes": -1}).encode(),
     r":1: upvotes must not be negative"),
    ("jsonl-bad-date", "date.jsonl", json.dumps({"title": "T", "abstract": ABSTRACT, "date": "last week"}).encode(),
     r":1: date 'last week' is not YYYY-MM-DD"),
    ("csv-no-abstract-column", "nocol.csv", b"title,summary\nA,B\n", r":1: CSV header must have columns title and abstract; missing abstract"),
    ("csv-empty-title", "notitle.csv", f'title,abstract\nGood,"{ABSTRACT}"\n,"{ABSTRACT}"\n'.encode(), r":3: record has no title"),
    ("csv-extra-field", "wide.csv", f'title,abstract\nGood,"{ABSTRACT}",surplus\n'.encode(), r":2: row has more fields"),
    ("no-papers", "chrome.txt", b"new\n\nSubscribe\n\nDaily Papers\n\nMar 3\n", r": no papers found"),
    ("titles-only", "titles.txt", b"One title\n\nAnother title\n\nA third\n",
     r": no papers found \(3 records skipped: titles\.txt:1: title 'One title' has no abstract"),
]


@pytest.mark.parametrize(("name", "data", "pattern"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_file_is_a_corpus_error_naming_file_and_line(tmp_path: Path, name: str, data: bytes, pattern: str):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorpusError, match=r"^" + r"(.*/)?" + name.replace(".", r"\.") + pattern) as info:
        parse_file(path)
    assert isinstance(info.value, PaperchatError)
    assert "\n" not in str(info.value)  # one line, printable as is by the CLI


def test_missing_file_and_directory_are_named(tmp_path: Path):
    with pytest.raises(CorpusError, match=r"nothere\.txt: no such file"):
        parse_file(tmp_path / "nothere.txt")
    d = tmp_path / "dir.txt"
    d.mkdir()
    with pytest.raises(CorpusError, match=r"dir\.txt: is a directory"):
        parse_file(d)


def test_one_bad_file_aborts_the_whole_load(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n", "utf-8")
    with pytest.raises(CorpusError, match=r"bad\.jsonl:1: invalid JSON"):
        load_corpus([_seed("000"), bad])


def test_utf8_bom_is_accepted(tmp_path: Path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _GOOD.encode() + b"\n")
    papers, _, _ = parse_file(path)
    assert papers[0].title == "Good"


# ----------------------------------------------------------------------------------------------
# crash inputs found by fuzzing (integration/test_fuzz_ingest.py): each gives papers or one clear line
# ----------------------------------------------------------------------------------------------

_HUGE = "9" * 5000  # past Python's 4,300-digit int/str limit


def _rec(**fields) -> dict:
    return {"title": "T", "abstract": ABSTRACT, **fields}


def _jsonl_line(raw_value: str, field: str = "upvotes") -> str:
    """One JSONL record whose ``field`` holds ``raw_value`` as raw JSON text (1e400, NaN, ...)."""
    return json.dumps(_rec(**{field: "@@"})).replace('"@@"', raw_value)


def _error(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with pytest.raises(CorpusError) as info:
        parse_file(path)
    return str(info.value)


def _parse(tmp_path: Path, name: str, data: str | bytes) -> tuple[list[Paper], list[str]]:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    papers, _, warnings = parse_file(path)
    return papers, warnings


def test_dump_absurd_author_and_upvote_counts_warn_and_keep_the_paper(tmp_path: Path):
    dump = (f"Paper One\n\n{ABSTRACT}\n\n  • {_HUGE} authors\n·\nMar 3, 2024 {_HUGE}\n\n"
            f"Paper Two\n\n{ABSTRACT}\n\n  • 1234567890 authors\n·\nMar 4, 2024 12\n")
    papers, warnings = _parse(tmp_path, "dump.txt", dump)
    assert [(p.title, p.authors, p.upvotes, p.date) for p in papers] == [
        ("Paper One", None, None, "2024-03-03"), ("Paper Two", None, 12, "2024-03-04")]
    assert warnings == [
        "dump.txt:5: 5000-digit author count is not plausible; authors left empty",
        "dump.txt:7: 5000-digit upvote count is not plausible; upvotes left empty",
        "dump.txt:13: 10-digit author count is not plausible; authors left empty",
    ]


@pytest.mark.parametrize(
    ("date_line", "warning"),
    [
        ("Feb 30, 2023 4", "impossible date 'Feb 30, 2023': day is out of range for month; date left empty"),
        ("Jan 1, 0000 4", "impossible date 'Jan 1, 0000': year 0 is out of range; date left empty"),
    ],
)
def test_dump_impossible_date_warns_and_keeps_paper_and_upvotes(tmp_path: Path, date_line: str, warning: str):
    papers, warnings = _parse(tmp_path, "d.txt", f"Paper\n\n{ABSTRACT}\n\n• 3 authors\n·\n{date_line}\n")
    assert [(p.authors, p.upvotes, p.date, p.date_text) for p in papers] == [(3, 4, None, None)]
    assert warnings == [f"d.txt:7: {warning}"]


def test_dump_year_with_five_digits_is_not_a_date_line(tmp_path: Path):
    papers, warnings = _parse(tmp_path, "d.txt", f"Paper\n\n{ABSTRACT}\n\n• 3 authors\n·\nJan 1, 99999\n")
    assert [(p.authors, p.date) for p in papers] == [(3, None)]
    assert warnings == ["d.txt:6: '·' not followed by a date line",
                        "d.txt:7: title 'Jan 1, 99999' has no abstract after it; skipped"]


def test_parse_date_refuses_an_absurd_upvote_count():
    with pytest.raises(ValueError, match="5000-digit upvote count is not plausible"):
        parse_date(f"Sep 21, 2023 {_HUGE}")


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("upvotes", "1e400", "upvotes must be a whole number, got 1e400"),
        ("upvotes", "Infinity", "upvotes must be a whole number, got Infinity"),
        ("upvotes", "-Infinity", "upvotes must be a whole number, got -Infinity"),
        ("upvotes", "NaN", "upvotes must be a whole number, got NaN"),
        ("upvotes", "2.7", "upvotes must be a whole number, got 2.7"),
        ("upvotes", "true", "upvotes must be a whole number, got true"),
        ("upvotes", '"2.7"', "upvotes must be a whole number, got '2.7'"),
        ("upvotes", "[1]", "upvotes must be a whole number, got a list"),
        ("upvotes", "-3", "upvotes must not be negative, got -3"),
        ("upvotes", "12345678901", "upvotes 12345678901 is not plausible (more than 9 digits)"),
        ("upvotes", '"12345678901"', "upvotes '12345678901' is not plausible (more than 9 digits)"),
        ("upvotes", "9" * 4000, "upvotes 99999999999999999999…(4000 characters) is not plausible (more than 9 digits)"),
        ("upvotes", _HUGE, "invalid JSON (5000-digit number is too long)"),
        ("authors", "1e400", "authors must be a whole number, got 1e400"),
        ("authors", "NaN", "authors must be a whole number, got NaN"),
        ("authors", "2.5", "authors must be a whole number, got 2.5"),
        ("authors", "false", "authors must be a whole number, got false"),
        ("authors", '"2.5"', "authors must be a whole number, got '2.5'"),
        ("authors", '{"n": 3}', "authors must be a whole number, got an object"),
        ("authors", "-1", "authors must not be negative, got -1"),
        ("authors", "1e12", "authors 1e12 is not plausible (more than 9 digits)"),
        ("title", "true", "title must be text, got true"),
        ("title", '["A", "B"]', "title must be text, got a list"),
        ("title", '{"en": "A"}', "title must be text, got an object"),
        ("title", "NaN", "title must be text, got NaN"),
        ("abstract", "[]", "abstract must be text, got a list"),
        ("organization", "false", "organization must be text, got false"),
        ("url", '{"href": "x"}', "url must be text, got an object"),
        ("title", '"\\u001b[2J\\u0007"', "record has no title"),  # nothing left after cleaning
        ("title", '"?!\\u00a0\\u2028-"', "title '?! -' has no letters or digits"),
        ("title", json.dumps("x" * 401), "title is 401 characters, at most 400 allowed (is the abstract in the title field?)"),
        ("title", "1" * 4000, "title is 4000 characters, at most 400 allowed (is the abstract in the title field?)"),
        ("date", '"Feb 30, 2023"', "date 'Feb 30, 2023' is not a real date (day is out of range for month)"),
        ("date", '"2023-02-30"', "date '2023-02-30' is not a real date (day is out of range for month)"),
        ("date", '"0000-01-01"', "date '0000-01-01' is not a real date (year 0 is out of range)"),
        ("date", '"99999-01-01"', "date '99999-01-01' is not YYYY-MM-DD (or 'Mon D, YYYY')"),
        ("date", "[2024, 1, 1]", "date must be text, got a list"),
    ],
)
def test_jsonl_bad_field_value_is_one_line_naming_file_line_and_field(tmp_path: Path, field: str, raw: str,
                                                                       message: str):
    text = json.dumps(_rec()) + "\n\n" + _jsonl_line(raw, field) + "\n"
    assert _error(tmp_path, "papers.jsonl", text) == f"papers.jsonl:3: {message}"


@pytest.mark.parametrize(
    ("raw_upvotes", "raw_authors", "expected"),
    [
        ("3.0", "4.0", (3, 4)),
        ('"3"', '"4"', (3, 4)),
        ('" 3.0 "', '"+4"', (3, 4)),
        ("0", "[]", (0, 0)),
        ("null", '["A", "B", "C"]', (None, 3)),
        ('""', '"Ann Lee; Bo Chen and Cy Diaz"', (None, 3)),
        ("999999999", "999999999", (999999999, 999999999)),
    ],
)
def test_jsonl_whole_numbers_are_accepted(tmp_path: Path, raw_upvotes: str, raw_authors: str, expected):
    line = json.dumps(_rec(upvotes="@u", authors="@a")).replace('"@u"', raw_upvotes).replace('"@a"', raw_authors)
    (p,), _ = _parse(tmp_path, "ok.jsonl", line + "\n")
    assert (p.upvotes, p.authors) == expected
    assert type(p.upvotes) in (int, type(None)) and type(p.authors) in (int, type(None))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "invalid JSON (nested too deeply)"),
        ("[" + json.dumps(_rec()) + "]", "expected a JSON object with title and abstract, got an array "
                                         "(JSONL has one object per line)"),
        ('"just a string"', "expected a JSON object with title and abstract, got 'just a string'"),
        ("12", "expected a JSON object with title and abstract, got 12"),
        ("{'title': 'T'}", "invalid JSON (Expecting property name enclosed in double quotes at column 2)"),
        ('{"title": "T", "id": ' + _HUGE + "}", "invalid JSON (5000-digit number is too long)"),
    ],
)
def test_jsonl_bad_line_is_one_line_naming_file_and_line(tmp_path: Path, line: str, message: str):
    assert _error(tmp_path, "p.jsonl", json.dumps(_rec()) + "\n" + line + "\n") == f"p.jsonl:2: {message}"


def test_jsonl_number_title_is_taken_as_written(tmp_path: Path):
    line = json.dumps(_rec(title="@t", organization="@o")).replace('"@t"', "2048").replace('"@o"', "4.50")
    (p,), _ = _parse(tmp_path, "n.jsonl", line + "\n")
    assert (p.title, p.paper_id, p.organization) == ("2048", "2048", "4.50")


def test_lone_surrogate_and_escape_sequences_are_cleaned_at_parse_time(tmp_path: Path):
    """A lone surrogate used to pass the parser and crash the tokenizer; escape sequences used to
    reach the terminal (OSC retitle, clear screen, red)."""
    title = "\\ud800Good \\u001b]0;PWNED\\u0007\\u001b[2J\\u001b[31mTitle\\u202e\\u0085end"
    line = f'{{"title": "{title}", "abstract": "{ABSTRACT}\\udfff\\u0000", "organization": "\\u009b31mLab"}}'
    (p,), _ = _parse(tmp_path, "s.jsonl", line + "\n")
    assert (p.title, p.abstract, p.organization) == ("Good Title end", ABSTRACT, "Lab")
    assert p.paper_id == "good-title-end"
    from tokenizers import Tokenizer

    from rag.embed.bundled import MINILM_TOKENIZER

    Tokenizer.from_file(str(MINILM_TOKENIZER)).encode(p.title + p.abstract)  # TypeError before


def test_terminal_escape_in_a_page_dump_title_is_stripped(tmp_path: Path):
    dump = f"Paper \x1b]0;PWNED\x07\x1b[2J\x1b[31mOne\x1b[0m\n\n{ABSTRACT}\x9b8m\n"
    (p,), _ = _parse(tmp_path, "esc.txt", dump)
    assert (p.title, p.abstract) == ("Paper One", ABSTRACT)


def test_jsonl_line_separators_inside_strings_stay_in_their_record(tmp_path: Path):
    """U+2028 / U+0085 are valid raw inside JSON strings; str.splitlines() used to cut the record."""
    first = json.dumps(_rec(title="A\u2028B\u0085C"), ensure_ascii=False)
    second = json.dumps(_rec(title="Second", upvotes="x"))
    text = f"\u2028{first}\x0c\r\n\r\n{second}\n"  # whitespace json does not know, outside the value
    assert _error(tmp_path, "ls.jsonl", text) == "ls.jsonl:3: upvotes must be a whole number, got 'x'"
    papers, _ = _parse(tmp_path, "ls.jsonl", f"{first}\r{json.dumps(_rec(title='Next'))}\r")  # CR-only file
    assert [(p.title, p.line) for p in papers] == [("A B C", 1), ("Next", 2)]


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_csv_with_cr_line_endings_parses_with_editor_line_numbers(tmp_path: Path, newline: str):
    text = newline.join(["title,abstract", f'"Quoted, Title","{ABSTRACT}"', "", f'"Multi{newline}Line",{ABSTRACT}',
                         f"Last,{ABSTRACT}"]) + newline
    text = text.replace(f",{ABSTRACT}", f',"{ABSTRACT}"')
    papers, _ = _parse(tmp_path, "mac.csv", text)
    assert [(p.title, p.line) for p in papers] == [("Quoted, Title", 2), ("Multi Line", 4), ("Last", 6)]


def test_csv_bare_cr_in_header_is_one_line_naming_file_and_line(tmp_path: Path):
    message = _error(tmp_path, "h.csv", f"title\r,abstract\nA,{ABSTRACT.replace(',', '')}\n")
    assert message == "h.csv:1: CSV header must have columns title and abstract; missing abstract (found: title)"


def test_csv_field_larger_than_the_csv_module_limit_parses(tmp_path: Path):
    """A field over csv's own limit (131072) is read, then judged by ours: the oversized abstract
    is skipped with a warning, the next row is kept."""
    long_abstract = " ".join([ABSTRACT] * 1000)  # ~190 KB, csv.field_size_limit() is 131072 by default
    (p,), warnings = _parse(tmp_path, "long.csv", f'title,abstract\nLong,"{long_abstract}"\nShort,"{ABSTRACT}"\n')
    assert p.abstract == ABSTRACT
    assert warnings == ["long.csv: 1 record skipped (abstract over 20,000 characters): line 2"]


def test_csv_nul_and_controls_are_cleaned(tmp_path: Path):
    filler = "".join(f"Paper {i},{ABSTRACT.replace(',', '')}\n" for i in range(60))  # NUL past the binary sniff
    papers, _ = _parse(tmp_path, "nul.csv", f'title,abstract,upvotes\n{filler}Zero\x00Day,"\x1b[2J{ABSTRACT}",3.0\n')
    assert (papers[-1].title, papers[-1].abstract, papers[-1].upvotes) == ("ZeroDay", ABSTRACT, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("\n\n,,\n", "c.csv:1: CSV header must have columns title and abstract (found: nothing)"),
        (f"title,abstract\nT,{ABSTRACT.replace(',', '')},2.7,x\n", "c.csv:2: row has more fields than the header"),
        ("title,abstract,upvotes\n" + f'T,"{ABSTRACT}",2.7\n', "c.csv:2: upvotes must be a whole number, got '2.7'"),
        ("title,abstract,upvotes\n" + f'T,"{ABSTRACT}",true\n', "c.csv:2: upvotes must be a whole number, got 'true'"),
        ("title,abstract,authors\n" + f'T,"{ABSTRACT}",{_HUGE}\n',
         f"c.csv:2: authors {_HUGE[:40] + '…'!r} is not plausible (more than 9 digits)"),
    ],
)
def test_csv_bad_input_is_one_line_naming_file_and_line(tmp_path: Path, data: str, message: str):
    assert _error(tmp_path, "c.csv", data) == message


def test_page_dump_line_numbers_are_editor_lines_whatever_the_line_endings(tmp_path: Path):
    dump = f"Paper One\n\n{ABSTRACT}\n\n• 3 authors\n·\nMar 3, 2024 5\n\nPaper Two\n\n{ABSTRACT}\n"
    expected = [("Paper One", 1, 3), ("Paper Two", 9, None)]
    for newline in ("\n", "\r\n", "\r"):
        papers, _ = _parse(tmp_path, "d.txt", dump.replace("\n", newline))
        assert [(p.title, p.line, p.authors) for p in papers] == expected, repr(newline)
    # U+2028 breaks a page-dump line (it means nothing else in a web page); parts keep the line's number
    papers, _ = _parse(tmp_path, "d.txt", f"Paper One\u2028{ABSTRACT}\nPaper Two\u2029{ABSTRACT}\n")
    assert [(p.title, p.line) for p in papers] == [("Paper One", 1), ("Paper Two", 2)]
    # U+0085 / FF / VT inside an abstract are whitespace, not line breaks that would cut it in two
    (p,), _ = _parse(tmp_path, "d.txt", f"Paper One\n{ABSTRACT[:50]}\x85{ABSTRACT[50:]}\x0c more\n")
    assert p.abstract == f"{ABSTRACT[:50]} {ABSTRACT[50:]} more"


def test_missing_path_is_named_before_its_type(tmp_path: Path):
    for path in (Path("/nonexistent"), tmp_path / "gone.pdf", tmp_path / "nodir" / "x.txt"):
        with pytest.raises(CorpusError) as info:
            load_corpus([path])
        assert str(info.value) == f"{path}: no such file or directory"
        with pytest.raises(CorpusError) as info:
            parse_file(path)
        assert str(info.value) == f"{path}: no such file or directory"
    with pytest.raises(CorpusError, match=r"^.*: cannot read \(File name too long\)$"):
        load_corpus([tmp_path / ("a" * 5000 + ".txt")])
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(CorpusError) as info:
        parse_file(plain)
    assert str(info.value) == f"{plain}: is a directory"


def test_utf16_and_oversized_files_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "u16.csv"
    path.write_text("title,abstract\n", encoding="utf-16")
    with pytest.raises(CorpusError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}: is UTF-16 text; save it as UTF-8"
    import rag.ingest.corpus

    monkeypatch.setattr(rag.ingest.corpus, "_MAX_FILE_BYTES", 2**20)
    big = tmp_path / "big.jsonl"
    big.write_bytes(b" " * (2**20 + 1))
    with pytest.raises(CorpusError) as info:
        parse_file(big)
    assert str(info.value) == f"{big}: file is larger than 1 MiB; split it into smaller files"


def test_invalid_utf8_line_counts_cr_only_lines(tmp_path: Path):
    assert _error(tmp_path, "cr.txt", b"Title\r\rAbstract\r\xff\r") == f"{tmp_path / 'cr.txt'}:4: not valid UTF-8 text"


def test_records_without_an_abstract_are_skipped_and_named_in_one_warning(tmp_path: Path):
    """A reference-manager export often has a few entries without an abstract: the others are
    kept, and one warning names the skipped lines (it used to reject the whole file)."""
    lines = [_GOOD, "", json.dumps({"title": "Lonely Title"}),
             json.dumps({"title": "Second good", "abstract": ABSTRACT}), json.dumps({"title": "Also alone", "abstract": ""})]
    path = tmp_path / "noabs.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    papers, stats, warnings = parse_file(path)
    assert [p.title for p in papers] == ["Good", "Second good"]
    assert warnings == ["noabs.jsonl: 2 records skipped (no abstract): lines 3, 5"]
    assert stats.skipped == 2
    csv_path = tmp_path / "noabs.csv"
    csv_path.write_text(f'title,abstract\nGood,"{ABSTRACT}"\nLonely,\n', "utf-8")
    papers, stats, warnings = parse_file(csv_path)
    assert [p.title for p in papers] == ["Good"] and warnings == ["noabs.csv: 1 record skipped (no abstract): line 3"]


def test_an_oversized_abstract_is_skipped_before_it_costs_memory(tmp_path: Path):
    """One huge abstract took 18.5 GB: a record over the abstract limit (or a JSONL line over the
    record limit) is skipped with a warning naming it, in every format; the others are kept."""
    from rag.ingest.fields import MAX_ABSTRACT_CHARS
    from rag.ingest.records import _MAX_RECORD_CHARS

    big = "word " * (MAX_ABSTRACT_CHARS // 5 + 10)
    huge = "x" * (_MAX_RECORD_CHARS + 1)
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join([_GOOD, json.dumps({"title": "Big", "abstract": big}),
                               json.dumps({"title": "Huge", "abstract": huge})]) + "\n", "utf-8")
    papers, stats, warnings = parse_file(path)
    assert [p.title for p in papers] == ["Good"]
    assert warnings == [f"big.jsonl: 1 record skipped (abstract over {MAX_ABSTRACT_CHARS:,} characters): line 2",
                        f"big.jsonl: 1 record skipped (record over {_MAX_RECORD_CHARS:,} characters): line 3"]
    dump = tmp_path / "big.txt"
    dump.write_text(f"Good title\n\n{ABSTRACT}\n\nBig title\n\n{big}\n", "utf-8")
    papers, _, warnings = parse_file(dump)
    assert [p.title for p in papers] == ["Good title"]
    assert warnings == [f"big.txt:7: abstract of 'Big title' is over {MAX_ABSTRACT_CHARS:,} characters; skipped"]


def test_a_file_with_more_papers_than_the_limit_is_refused(tmp_path: Path, monkeypatch):
    import rag.ingest.fields as fields

    monkeypatch.setattr(fields, "MAX_RECORDS_PER_FILE", 2)
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps({"title": f"T{i}", "abstract": ABSTRACT}) for i in range(3)), "utf-8")
    with pytest.raises(CorpusError, match=r"many\.jsonl: more than 2 papers in one file; split it"):
        parse_file(path)
