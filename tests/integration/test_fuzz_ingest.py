"""Property-based fuzzing of ingest: no input file makes the parsers crash.

Every input is a real seed file (both page-dump layouts) or JSONL / CSV built from real seed
papers, then mutated: nasty characters inserted (controls, CR, U+2028, U+0085, lone surrogates,
NUL, escape sequences, huge digit strings, quotes, braces), spans deleted, lines duplicated,
swapped or dropped, text truncated, line endings changed, field values replaced (1e400, NaN,
booleans, lists, objects, huge and negative numbers, impossible dates). The property: papers come
back and every one is clean and chunkable, or a :class:`CorpusError` whose one-line message starts
with the file name and (where a line means something) names a line in the file. Any other
exception fails the test.

Most cases parse text in memory (fast); one in four also goes through a real file with
byte-level damage (invalid UTF-8, BOMs, NUL), so ``parse_file``'s checks are fuzzed too. The
seed is fixed (``derandomize``) and there is no example database, so CI runs the same cases
every time; the 4,000 cases take about 40 s on two slow cores (4 s of it importing LlamaIndex
for the chunker).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from helpers import ABSTRACT, SEED_FILES, paper_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.errors import CorpusError
from rag.ingest.corpus import Paper, load_corpus, parse_file
from rag.ingest.fields import paper_id_for
from rag.ingest.pages import parse_page_dump
from rag.ingest.records import parse_csv, parse_jsonl
from rag.text.sanitize import has_controls

# ----------------------------------------------------------------------------------------------
# the material: real seeds
# ----------------------------------------------------------------------------------------------

_SEED_TEXT = {p.name: p.read_text("utf-8") for p in SEED_FILES}
_LAYOUT = {p.name: parse_file(p)[1].layout for p in SEED_FILES}
BLOCKS_SEEDS = sorted(n for n, lay in _LAYOUT.items() if lay == "blocks")
LINES_SEEDS = sorted(n for n, lay in _LAYOUT.items() if lay == "lines")
SEED_PAPERS = load_corpus(SEED_FILES).papers
# papers exactly as in the seeds need no chunking check: only what a mutation touched does
_CLEAN_PAIRS = {(p.title, p.abstract) for p in SEED_PAPERS}
_RECORDS = [paper_record(p) for p in SEED_PAPERS[::9]]  # 60 papers, every optional field seen

NASTY = [
    "\x00", "\x01", "\x07", "\x08", "\t", "\x0b", "\x0c", "\x1b", "\x1c", "\x1e", "\x7f", "\x85",
    "\x9b", "\x9d", "\r", "\r\n", "\n", "\n\n", "\u2028", "\u2029", "\u00a0", "\u202e", "\u2066",
    "\ufeff", "\ud800", "\udfff", "\x1b]0;PWNED\x07\x1b[2J\x1b[31m", "\x1b[8m", "\x9b2J",
    '"', "'", ",", ",,", "{", "}", "[", "]", ":", "\\", "\\u0000", "\\ud800", "\\u2028", "\\u001b[2J",
    "9" * 5000, "1" * 12, "1e400", "NaN", "Infinity", "-1", "2.7", "•", "·", "\n·\n", " authors",
    "\n  • 12 authors\n", "Feb 30, 2023", "Sep 21, 0000 5", "Sep 21, 2023 " + "7" * 5000, "Subscribe",
    "a" * 500, "é", "\u0301", "日本語",
]

# (pattern, replacements) aimed at the page-dump metadata the parser converts to numbers and dates
DUMP_SUBS: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"(?<=• )\d+(?= authors)"), ["9" * 5000, "1" * 10, "0", "00000000003", "-4", ""]),
    (re.compile(r"(?<=\d{4} )\d+$|(?<=[A-Z][a-z]{2} \d )\d+$|(?<=[A-Z][a-z]{2} \d\d )\d+$", re.M),
     ["7" * 5000, "1" * 10, "1" * 4301, "0", "3.5"]),
    (re.compile(r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}(?:, \d{4})?", re.M),
     ["Feb 30, 2023", "Feb 29, 2023", "Jan 1, 0000", "Dec 31, 9999", "Jan 1, 99999", "Mar 0", "Apr 31",
      "Sept 99, 2020"]),
    (re.compile(r"^·$", re.M), ["", "· ·", "·\n·", "\u00b7\u2028"]),
]

# JSON text put in place of a field's value (raw, so 1e400 and 5,000-digit ints reach the parser)
JSON_VALUES = [
    "1e400", "-1e400", "Infinity", "-Infinity", "NaN", "true", "false", "null", "2.7", "3.0", "-0.0",
    "-1", "0", "3", '"3"', '"3.0"', '"2.5"', '" 12 "', '"lots"', '"inf"', "[]", "{}", '[1, "a", null]',
    '{"a": [1]}', '""', '"   "', "123", "1" * 5000, "1" * 1001, "12345678901", '"' + "9" * 5000 + '"',
    '"\\ud800"', '"x\\udfffy"', '"\\u001b]0;PWNED\\u0007\\u001b[2J"', '"\u2028\u0085"', '"a\\u0000b"',
    '"Feb 30, 2023"', '"0000-01-01"', '"99999-01-01"', '"2024-02-29"', '"2023-02-29"', '"Sep 21, 2023 2"',
    '"May 12 ' + "3" * 5000 + '"', "[" * 3000 + "]" * 3000, '"Ann, Bob and Cy"', '"\\t\\n\\r"', '"' + "x" * 600 + '"',
]
JSON_FIELDS = ["title", "abstract", "authors", "upvotes", "date", "organization", "org", "url", "Title", "extra"]

CSV_VALUES = [
    "2.7", "3.0", "3", " 4 ", "true", "-1", "1e400", "inf", "NaN", "9" * 5000, "12345678901", "", " ",
    "Feb 30, 2023", "0000-01-01", "99999-01-01", "2024-02-29", "a\x00b", "line\rbreak", "line\nbreak",
    "cr\r\nlf", 'quote"in', '"', "\x1b]0;PWNED\x07\x1b[2J", "\u2028", "\ufeff", "Ann, Bob and Cy",
    ABSTRACT * 700,  # ~140 KB: above csv's default field_size_limit (131072)
]
CSV_OPTIONAL = ["authors", "date", "upvotes", "organization", "url"]


@dataclass(frozen=True)
class Case:
    name: str  # file name; its suffix picks the parser
    text: str  # may hold lone surrogates (they come from JSON escapes in real files)
    data: bytes | None  # the file's bytes, when this case also goes through a real file


# ----------------------------------------------------------------------------------------------
# mutators
# ----------------------------------------------------------------------------------------------


def _insert(draw: st.DrawFn, text: str) -> str:
    i = draw(st.integers(0, len(text)))
    return text[:i] + draw(st.sampled_from(NASTY)) + text[i:]


def _delete(draw: st.DrawFn, text: str) -> str:
    i = draw(st.integers(0, len(text)))
    return text[:i] + text[i + draw(st.integers(1, 200)):]


def _replace_char(draw: st.DrawFn, text: str) -> str:
    i = draw(st.integers(0, max(0, len(text) - 1)))
    return text[:i] + draw(st.sampled_from(NASTY)) + text[i + 1:]


def _truncate(draw: st.DrawFn, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


def _line_op(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["dup", "swap", "drop", "move", "blank"]))
    if op == "dup":
        lines.insert(j, lines[i])
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "drop":
        del lines[i]
    elif op == "move":
        lines.insert(j, lines.pop(i))
    else:
        lines.insert(i, "")
    return "\n".join(lines)


def _shuffle(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    if len(lines) > 40:
        return text
    return "\n".join(draw(st.permutations(lines)))


def _line_endings(draw: st.DrawFn, text: str) -> str:
    return text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\n\r", "\u2028", "\x85", "\x0c"])))


_OPS: list[Callable[[st.DrawFn, str], str]] = [
    _insert, _insert, _insert, _delete, _replace_char, _truncate, _line_op, _line_op, _shuffle, _line_endings,
]


def _mutate(draw: st.DrawFn, text: str, extra: Sequence[Callable[[st.DrawFn, str], str]] = ()) -> str:
    ops = [*_OPS, *extra]
    for _ in range(draw(st.integers(0, 4))):
        text = draw(st.sampled_from(ops))(draw, text)
    return text


def _dump_sub(draw: st.DrawFn, text: str) -> str:
    pattern, values = draw(st.sampled_from(DUMP_SUBS))
    found = list(pattern.finditer(text))
    if not found:
        return text
    m = found[draw(st.integers(0, len(found) - 1))]
    return text[: m.start()] + draw(st.sampled_from(values)) + text[m.end():]


@st.composite
def _file_bytes(draw: st.DrawFn, text: str) -> bytes | None:
    """One case in four is also written to a real file, sometimes with byte-level damage."""
    if draw(st.integers(0, 3)):
        return None
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes invalid UTF-8
    damage = draw(st.sampled_from(["none", "none", "bom", "utf16-bom", "bad-byte", "nul", "crlf", "empty"]))
    i = draw(st.integers(0, len(data)))
    if damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "utf16-bom":
        data = b"\xff\xfe" + data
    elif damage == "bad-byte":
        data = data[:i] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"])) + data[i:]
    elif damage == "nul":
        data = data[:i] + b"\x00" + data[i:]
    elif damage == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif damage == "empty":
        data = b" \n\r\n\t"
    return data


@st.composite
def dump_cases(draw: st.DrawFn, seeds: Sequence[str]) -> Case:
    name = draw(st.sampled_from(seeds))
    lines = _SEED_TEXT[name].split("\n")
    size = draw(st.integers(4, 60))
    start = draw(st.integers(0, max(0, len(lines) - size)))
    text = "\n".join(lines[start : start + size]) + "\n"
    text = _mutate(draw, text, extra=[_dump_sub, _dump_sub, _dump_sub])
    return Case(name, text, draw(_file_bytes(text)))


@st.composite
def jsonl_cases(draw: st.DrawFn) -> Case:
    records = [dict(r) for r in draw(st.lists(st.sampled_from(_RECORDS), min_size=1, max_size=5))]
    raw: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        rec = records[draw(st.integers(0, len(records) - 1))]
        rec[draw(st.sampled_from(JSON_FIELDS))] = f"@@RAW{len(raw)}@@"
        raw.append(draw(st.sampled_from(JSON_VALUES)))
    lines = [json.dumps(r, ensure_ascii=draw(st.booleans())) for r in records]
    if draw(st.integers(0, 5)) == 0:  # a whole line that is not an object
        lines[draw(st.integers(0, len(lines) - 1))] = draw(st.sampled_from(
            ["[" + lines[0] + "]", '"a string"', "123", "null", "[" * 5000, "{" * 100000, "{'single': 1}"]))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    for i, value in enumerate(raw):
        text = text.replace(f'"@@RAW{i}@@"', value)
    text = _mutate(draw, text)
    return Case("papers.jsonl", text, draw(_file_bytes(text)))


@st.composite
def csv_cases(draw: st.DrawFn) -> Case:
    columns = ["title", "abstract", *draw(st.lists(st.sampled_from(CSV_OPTIONAL), unique=True, max_size=5))]
    columns = draw(st.permutations(columns))
    records = draw(st.lists(st.sampled_from(_RECORDS), min_size=1, max_size=5))
    rows = [[str(r.get(c, "")) for c in columns] for r in records]
    for _ in range(draw(st.integers(0, 3))):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        row[draw(st.integers(0, len(columns) - 1))] = draw(st.sampled_from(CSV_VALUES))
    header = [draw(st.sampled_from([c, c.upper(), f" {c} ", c + "\r", c + "\x00"])) if i == 0 else c
              for i, c in enumerate(columns)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"]))).writerows([header, *rows])
    text = _mutate(draw, buf.getvalue())
    return Case("papers.csv", text, draw(_file_bytes(text)))


# ----------------------------------------------------------------------------------------------
# the property
# ----------------------------------------------------------------------------------------------

# messages about a whole file, which name no line
FILE_LEVEL = ("file is empty", "looks like a binary file", "is UTF-16 text", "no papers found")


@cache
def _chunker():
    from tokenizers import Tokenizer

    from rag.embed.bundled import MINILM_TOKENIZER
    from rag.ingest.chunk import Chunker

    tok = Tokenizer.from_file(str(MINILM_TOKENIZER))
    tok.no_truncation()
    tok.no_padding()
    return Chunker(lambda s: len(tok.encode(s, add_special_tokens=False).ids), "fuzz", 200, 40)


def _max_line(text: str) -> int:
    """An upper bound on any line number a parser may report for ``text``."""
    return text.count("\n") + text.count("\r") + 1


def check_error(e: CorpusError, names: Sequence[str], max_line: int) -> None:
    msg = str(e)
    assert "\n" not in msg and "\r" not in msg and not has_controls(msg), msg
    m = re.match(r"^(?:" + "|".join(re.escape(n) for n in names) + r")(?::(\d+))?: (.+)$", msg)
    assert m, f"message does not start with the file name: {msg[:200]!r}"
    if m[1] is None:
        assert m[2].startswith(FILE_LEVEL), f"a record-level error names no line: {msg[:200]!r}"
    else:
        assert 1 <= int(m[1]) <= max_line, msg[:200]


def check_papers(papers: Sequence[Paper], max_line: int, chunk: bool = True) -> None:
    chunked = 0
    for p in papers:
        assert isinstance(p.title, str) and isinstance(p.abstract, str)
        assert p.title and p.abstract and p.title == p.title.strip() and len(p.title) <= 400
        for value in (p.title, p.abstract, p.organization, p.date_text, p.url):
            if value is not None:
                assert isinstance(value, str) and value and not has_controls(value), repr(value)[:200]
                value.encode("utf-8")  # strict: no lone surrogate
        for count in (p.authors, p.upvotes):
            assert count is None or (type(count) is int and 0 <= count < 10**9), count
        assert p.date is None or date.fromisoformat(p.date).isoformat() == p.date
        assert p.paper_id == paper_id_for(p.title)
        assert 1 <= p.line <= max_line
        assert len(p.content_hash) == 16
        # chunk what a mutation touched (bounded per case to keep the suite fast)
        if chunk and chunked < 3 and (p.title, p.abstract) not in _CLEAN_PAIRS and len(p.abstract) < 20_000:
            chunks = _chunker().chunks(p)
            assert chunks and all(isinstance(c.embed_text, str) and not has_controls(c.embed_text) for c in chunks)
            chunked += 1


_PARSERS = {".txt": lambda text, src: parse_page_dump(text, src)[0], ".jsonl": lambda text, src: parse_jsonl(text, src)[0],
            ".csv": lambda text, src: parse_csv(text, src)[0]}


def check_case(case: Case, tmp_dir: Path) -> None:
    """Parse in memory, and through a real file when the case has bytes; assert the property."""
    parse = _PARSERS[Path(case.name).suffix]
    try:
        papers = parse(case.text, case.name)
    except CorpusError as e:
        check_error(e, [case.name], _max_line(case.text))
    else:
        check_papers(papers, _max_line(case.text))
    if case.data is None:
        return
    path = tmp_dir / case.name
    path.write_bytes(case.data)
    try:
        papers, stats, warnings = parse_file(path)
    except CorpusError as e:
        check_error(e, [str(path), case.name], _max_line(case.data.decode("utf-8", "replace")))
    else:
        assert papers and stats.records == len(papers)
        assert all(w.startswith(case.name + ":") and "\n" not in w for w in warnings)
        check_papers(papers, _max_line(case.data.decode("utf-8", "replace")), chunk=False)


_FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(_FUZZ, max_examples=900)
@given(case=dump_cases(BLOCKS_SEEDS))
def test_fuzz_page_dump_blocks(case: Case, fuzz_dir: Path):
    check_case(case, fuzz_dir)


@settings(_FUZZ, max_examples=800)
@given(case=dump_cases(LINES_SEEDS))
def test_fuzz_page_dump_lines(case: Case, fuzz_dir: Path):
    check_case(case, fuzz_dir)


@settings(_FUZZ, max_examples=1200)
@given(case=jsonl_cases())
def test_fuzz_jsonl(case: Case, fuzz_dir: Path):
    check_case(case, fuzz_dir)


@settings(_FUZZ, max_examples=1100)
@given(case=csv_cases())
def test_fuzz_csv(case: Case, fuzz_dir: Path):
    check_case(case, fuzz_dir)
