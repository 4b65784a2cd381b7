"""`paperchat fetch`: Hugging Face Daily Papers and arXiv, against a replay server on 127.0.0.1.

The server answers with the hand-written replies in tests/data/fetch (the APIs' documented
formats), can be scripted per request (429 with Retry-After, 500s, cut-off bodies, HTML, a stall)
and counts what it was asked. Nothing here reaches the network. Fetched papers go into a real
index (bundled embedder, embedded Chroma) and are searched with date and upvote filters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from helpers import REPO, TEST_DATA, free_port

from cli.main import main
from rag.errors import FetchError
from rag.fetch import hf
from rag.fetch.http import PoliteClient
from rag.fetch.run import fetch_arxiv, fetch_hf
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.types.papers import Filters

DATA = TEST_DATA / "fetch"
DAYS = ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]
PAPERS_BY_DAY = {"2024-05-01": 3, "2024-05-02": 2, "2024-05-03": 2, "2024-05-04": 0}


# ----------------------------------------------------------------------------------------------
# the replay server
# ----------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False  # promise twice the body's length, send the body, close: a reply cut off
    stall: threading.Event | None = None  # answer only once this is set
    no_length: bool = False  # no Content-Length: the body ends when the connection closes


def _file(path: str) -> Reply:
    body = (DATA / path).read_bytes()
    kind = "application/json" if path.endswith(".json") else "application/atom+xml; charset=utf-8"
    return Reply(body=body, headers={"content-type": kind})


class Replay:
    """Scripted replies by request key; the last reply of a script repeats."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.hits: list[str] = []
        self.lock = threading.Lock()
        self.base = ""
        for day in DAYS:
            self.set(f"hf:{day}", _file(f"hf/{day}.json"))
        self.set("ids:2401.05001,2312.05002", _file("arxiv/ids.xml"))
        self.set("query:all:warmup:0", _file("arxiv/query-page1.xml"))
        self.set("query:all:warmup:2", _file("arxiv/query-page2.xml"))

    def set(self, key: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[key] = list(replies)

    def take(self, key: str) -> Reply | None:
        with self.lock:
            self.hits.append(key)
            script = self.scripts.get(key)
            if not script:
                return None
            return script.pop(0) if len(script) > 1 else script[0]

    def count(self, prefix: str = "") -> int:
        with self.lock:
            return sum(h.startswith(prefix) for h in self.hits)

    @property
    def hf_url(self) -> str:
        return f"{self.base}/api/daily_papers"

    @property
    def arxiv_url(self) -> str:
        return f"{self.base}/api/query"


def _key(path: str, q: dict[str, list[str]]) -> str:
    one = {k: v[0] for k, v in q.items()}
    if path == "/api/daily_papers":
        return f"hf:{one.get('date')}"
    if path == "/api/query" and "id_list" in one:
        return f"ids:{one['id_list']}"
    if path == "/api/query":
        return f"query:{one.get('search_query')}:{one.get('start')}"
    return f"other:{path}"


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            parts = urlsplit(self.path)
            reply = replay.take(_key(parts.path, parse_qs(parts.query)))
            if reply is None:
                reply = Reply(status=404, body=b'{"error": "not found"}')
            if reply.stall is not None:
                reply.stall.wait(120)
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            if not reply.no_length:
                self.send_header("content-length", str(len(reply.body) * (2 if reply.cut else 1)))
            if reply.cut or reply.no_length:
                self.send_header("connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # a client killed mid-reply is expected
        pass


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch, home: Path) -> Iterator[Replay]:
    """A replay server, and settings pointing both APIs at it with no politeness delay or backoff."""
    r = Replay()
    server = _Server(("127.0.0.1", 0), _handler(r))
    r.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PAPERCHAT_HF_API_URL", r.hf_url)
    monkeypatch.setenv("PAPERCHAT_ARXIV_API_URL", r.arxiv_url)
    monkeypatch.setenv("PAPERCHAT_FETCH_DELAY_S", "0")
    monkeypatch.setenv("PAPERCHAT_FETCH_BACKOFF_S", "0")
    try:
        yield r
    finally:
        for script in r.scripts.values():
            for reply in script:
                if reply.stall is not None:
                    reply.stall.set()
        server.shutdown()
        server.server_close()


def recording_client(settings, **kwargs) -> tuple[PoliteClient, list[float]]:
    """The real client, its sleeps recorded instead of slept (so waits are asserted, not endured)."""
    sleeps: list[float] = []
    return PoliteClient.from_settings(settings, sleep=sleeps.append, **kwargs), sleeps


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_one_error_line(stderr: str, starts: str) -> None:
    assert stderr.startswith("error: " + starts), stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert "Traceback" not in stderr


def _by_title(app: Paperchat, query: str, title: str, **filters):
    hits = app.search(query, k=20, filters=Filters(**filters) if filters else None).hits
    found = [h.paper for h in hits if h.paper.title == title]
    assert found, [h.paper.title for h in hits]
    return found[0]


# ----------------------------------------------------------------------------------------------
# Daily Papers into a real index
# ----------------------------------------------------------------------------------------------


def test_hf_range_adds_papers_with_dates_upvotes_and_authors(replay: Replay, app: Paperchat, small_corpus: Path):
    app.ingest([small_corpus])
    before = app.stats()["papers"]
    result = fetch_hf(app.settings, "2024-05-01", "2024-05-04")
    assert replay.hits == [f"hf:{d}" for d in DAYS]
    assert (result.papers, result.requests, result.cached, result.warnings) == (7, 4, 0, [])
    # one file per day that has papers (the Saturday has none), under <home>/fetched
    assert [p.name for p in result.files] == ["2024-05-01.jsonl", "2024-05-02.jsonl", "2024-05-03.jsonl"]
    assert all(p.parent == app.settings.home / "fetched" / "hf" for p in result.files)

    corpus, report = app.ingest(result.files)
    assert report.papers_new == 7
    assert app.stats()["papers"] == before + 7  # incremental: the papers already there stay

    p = _by_title(app, "warmup vision transformers initialisation",
                  "Warmup-Free Training of Vision Transformers with Scaled Initialisation")
    assert (p.date, p.upvotes) == ("2024-04-30", 42)  # the paper's own date, with its year
    assert p.url == "https://huggingface.co/papers/2405.00101"
    assert p.author_names == "Mara Lindqvist; Tomás Ferreira; Yuki Sato" and p.authors == 3
    assert "scaled initialisation of the residual branches" in p.abstract  # whitespace of the reply collapsed

    on_may_2 = app.search("models", k=50, filters=Filters(date_from="2024-05-02", date_to="2024-05-02")).hits
    assert {h.paper.title for h in on_may_2} == {"Retrieval-Augmented Protein Language Models",
                                                 "Calibrated Uncertainty for Diffusion Policies in Robot Manipulation"}
    popular = app.search("models", k=50, filters=Filters(date_from="2024-04-01", min_upvotes=40)).hits
    assert {h.paper.upvotes for h in popular} == {42, 56}


def test_cached_replies_make_a_rerun_request_nothing(replay: Replay):
    settings = load_settings()
    first = fetch_hf(settings, "2024-05-01", "2024-05-04")
    assert (first.requests, replay.count()) == (4, 4)
    again = fetch_hf(settings, "2024-05-01", "2024-05-04")
    assert (again.requests, again.cached, replay.count()) == (0, 4, 4)
    assert again.papers == 7 and [p.name for p in again.files] == [p.name for p in first.files]
    # --refresh asks again (fresh upvotes) and keeps the cache current
    fresh = fetch_hf(settings, "2024-05-01", None, refresh=True)
    assert (fresh.requests, replay.count()) == (1, 5)


def test_a_day_not_over_yet_is_not_cached(replay: Replay):
    settings = load_settings()
    for _ in range(2):
        fetch_hf(settings, "2024-05-01", "2024-05-02", today=date(2024, 5, 2))
    assert replay.hits == ["hf:2024-05-01", "hf:2024-05-02", "hf:2024-05-02"]


def test_requests_to_one_host_are_spaced_by_the_delay(replay: Replay, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_FETCH_DELAY_S", "3")
    settings = load_settings()
    client, sleeps = recording_client(settings, clock=lambda: 100.0)  # no time passes between requests
    fetch_hf(settings, "2024-05-01", "2024-05-03", client=client)
    assert sleeps == [3.0, 3.0]  # before the 2nd and the 3rd request, none before the first
    client, sleeps = recording_client(settings, clock=lambda: 100.0)
    fetch_hf(settings, "2024-05-01", "2024-05-03", client=client)
    assert sleeps == []  # the cache makes no one wait


def test_odd_items_are_left_out_with_a_warning(replay: Replay):
    good = json.loads((DATA / "hf" / "2024-05-02.json").read_text("utf-8"))
    long_title = {"paper": {**good[0]["paper"], "id": "2405.09999", "title": "T" * 500}}
    no_abstract = {"paper": {"id": "2405.09998", "title": "A paper without a summary", "upvotes": 1}}
    hostile = {"paper": {**good[1]["paper"], "upvotes": True, "publishedAt": "2024-13-45", "id": "../../x"}}
    replay.set("hf:2024-05-02", Reply(body=json.dumps([*good[:1], long_title, no_abstract, "junk", hostile]).encode()))
    result = fetch_hf(load_settings(), "2024-05-02")
    records = [json.loads(line) for line in result.files[0].read_text("utf-8").splitlines()]
    assert [r["title"] for r in records] == [good[0]["paper"]["title"], good[1]["paper"]["title"]]
    odd = records[1]
    assert "upvotes" not in odd and odd["date"] == "2024-05-02"  # a bool is no count; a bad date: the listing day
    assert odd["url"] == "https://huggingface.co/papers/..%2F..%2Fx"  # an id cannot leave the papers page
    assert len(result.warnings) == 3
    assert "item 4 has no paper" in result.warnings[0]
    assert "title is 500 characters" in result.warnings[1] and "no abstract" in result.warnings[2]


# ----------------------------------------------------------------------------------------------
# arXiv
# ----------------------------------------------------------------------------------------------


def test_arxiv_by_ids(replay: Replay, app: Paperchat):
    result = fetch_arxiv(app.settings, ["2401.05001", "https://arxiv.org/abs/2312.05002", "arXiv:2401.05001"])
    assert replay.hits == ["ids:2401.05001,2312.05002"]  # one request, duplicates asked once
    assert (result.papers, result.warnings) == (2, [])
    app.ingest(result.files)
    p = _by_title(app, "warmup Adam layer-wise learning rates", "Layer-wise Learning Rates Make Warmup Unnecessary for Adam")
    assert (p.date, p.upvotes, p.url) == ("2024-01-09", None, "https://arxiv.org/abs/2401.05001")
    assert p.author_names == "Grace Holloway; Ahmed Karim; Lena Vogel"
    older = app.search("state space", k=10, filters=Filters(date_to="2023-12-31")).hits
    assert [h.paper.title for h in older] == ["State Space Models as Efficient Long-Sequence Encoders"]


def test_arxiv_ids_it_does_not_have_are_named(replay: Replay):
    replay.set("ids:2401.05001,2312.05002,2405.99999", _file("arxiv/ids.xml"))
    result = fetch_arxiv(load_settings(), ["2401.05001", "2312.05002", "2405.99999"])
    assert result.papers == 2
    assert result.warnings == ["arXiv has no paper for 1 id: 2405.99999"]


def test_arxiv_query_is_paged_and_stops_at_the_total(replay: Replay, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_FETCH_ARXIV_PAGE", "2")
    settings = load_settings()
    client, sleeps = recording_client(settings)
    seen: list[tuple[int, int]] = []
    result = fetch_arxiv(settings, query="all:warmup", max_results=50, client=client,
                         progress=lambda done, total: seen.append((done, total)))
    assert replay.hits == ["query:all:warmup:0", "query:all:warmup:2"]  # 3 results: two pages, then stop
    assert result.papers == 3 and result.files[0].name.startswith("query-all-warmup-")
    assert seen == [(1, 2), (2, 2)]
    records = [json.loads(line) for line in result.files[0].read_text("utf-8").splitlines()]
    assert [r["date"] for r in records] == ["2024-04-02", "2024-03-15", "2024-01-09"]
    again = fetch_arxiv(settings, query="all:warmup", max_results=50)
    assert (again.requests, again.cached, replay.count()) == (0, 2, 2)


def test_arxiv_query_max_limits_the_requests(replay: Replay, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_FETCH_ARXIV_PAGE", "2")
    result = fetch_arxiv(load_settings(), query="all:warmup", max_results=2)
    assert replay.hits == ["query:all:warmup:0"] and result.papers == 2


# ----------------------------------------------------------------------------------------------
# retries, limits, and replies that are not what the API documents
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "waited"), [("7", 7.0), ("3600", 60.0)])
def test_429_honours_retry_after_capped(replay: Replay, retry_after: str, waited: float):
    replay.set("hf:2024-05-01", Reply(status=429, headers={"retry-after": retry_after}), _file("hf/2024-05-01.json"))
    settings = load_settings()
    client, sleeps = recording_client(settings)
    result = fetch_hf(settings, "2024-05-01", client=client)
    assert sleeps == [waited]  # PAPERCHAT_FETCH_MAX_WAIT_S (60) caps what the server asks for
    assert (result.papers, result.requests, replay.count()) == (3, 2, 2)


def test_5xx_is_retried_with_exponential_backoff(replay: Replay, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_FETCH_BACKOFF_S", "1.5")
    replay.set("hf:2024-05-01", Reply(status=500), Reply(status=503), _file("hf/2024-05-01.json"))
    settings = load_settings()
    client, sleeps = recording_client(settings)
    assert fetch_hf(settings, "2024-05-01", client=client).papers == 3
    assert sleeps == [1.5, 3.0]


def test_a_reply_cut_off_in_transit_is_retried(replay: Replay):
    body = (DATA / "hf" / "2024-05-01.json").read_bytes()
    replay.set("hf:2024-05-01", Reply(body=body[:300], cut=True), _file("hf/2024-05-01.json"))
    assert fetch_hf(load_settings(), "2024-05-01").papers == 3
    assert replay.count() == 2


def test_persistent_500_is_one_line_and_changes_nothing(replay: Replay, monkeypatch: pytest.MonkeyPatch, home: Path):
    monkeypatch.setenv("PAPERCHAT_FETCH_MAX_RETRIES", "2")
    replay.set("hf:2024-05-02", Reply(status=500, body=b"<h1>oops</h1>"))
    result = invoke("fetch", "hf", "--from", "2024-05-01", "--to", "2024-05-03")
    assert result.exit_code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr, f"Daily Papers for 2024-05-02 ({replay.hf_url}): the server answered "
                          "500 Internal Server Error (3 tries); nothing was added to the index (1 reply so far "
                          "is cached: a rerun resumes)")
    assert replay.hits == ["hf:2024-05-01"] + ["hf:2024-05-02"] * 3  # never past the failing day
    assert not (home / "fetched").exists() and not (home / "chroma").exists()


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(body=(DATA / "hf" / "2024-05-01.json").read_bytes()[:700]), "the reply was cut off (incomplete JSON)"),
        (Reply(body=(DATA / "maintenance.html").read_bytes(), headers={"content-type": "text/html"}),
         "the server sent an HTML page, not the JSON list of papers"),
        (Reply(body=b'{"error": "Invalid date"}'), "expected a JSON list of papers, got a JSON dict"),
        (Reply(status=404, body=b"{}"), "the server answered 404 Not Found"),
        (Reply(body=b"this is not gzip", headers={"content-encoding": "gzip"}),
         "the reply could not be read (Error -3 while decompressing data: incorrect header check)"),
    ],
    ids=["truncated-json", "html", "an-object", "404", "bad-gzip"],
)
def test_a_bad_daily_reply_is_one_clear_line(replay: Replay, reply: Reply, problem: str, home: Path):
    replay.set("hf:2024-05-01", reply)
    result = invoke("fetch", "hf", "--from", "2024-05-01")
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, f"Daily Papers for 2024-05-01 ({replay.hf_url}): {problem}; "
                          "nothing was added to the index")
    assert not (home / "fetched").exists() and not (home / "chroma").exists()
    # the bad reply was not cached: with a good one, the rerun asks again and succeeds
    replay.set("hf:2024-05-01", _file("hf/2024-05-01.json"))
    assert fetch_hf(load_settings(), "2024-05-01").requests == 1


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("arxiv/truncated.xml", "the feed was cut off (incomplete XML)"),
        ("arxiv/error.xml", "arXiv answered with an error: incorrect id format for 2401.0500x"),
        ("arxiv/bomb.xml", "the feed was refused (DTDForbidden: DTDs and entities are not accepted)"),
        ("maintenance.html", "the server sent an HTML page, not an Atom feed"),
    ],
)
def test_a_bad_feed_is_one_clear_line(replay: Replay, fixture: str, problem: str):
    replay.set("ids:2401.05001,2312.05002", _file(fixture))
    with pytest.raises(FetchError) as e:
        fetch_arxiv(load_settings(), ["2401.05001", "2312.05002"])
    assert str(e.value) == (f"arXiv ids 2401.05001, 2312.05002 ({replay.arxiv_url}): {problem}; "
                            "nothing was added to the index")


def test_a_feed_that_is_not_atom(replay: Replay):
    replay.set("query:all:warmup:0", Reply(body=b"<?xml version='1.0'?><rss><channel/></rss>"))
    with pytest.raises(FetchError, match=r"arXiv query 'all:warmup' \(results 1-100\) \(http.*\): expected an Atom feed, "
                                         r"got a <rss> document"):
        fetch_arxiv(load_settings(), query="all:warmup")


@pytest.mark.parametrize(("no_length", "problem"), [(False, "the reply is 4 KB, over the 0.001 MB limit"),
                                                     (True, "the reply is over the 0.001 MB limit")])
def test_a_reply_over_the_size_limit_is_not_read(replay: Replay, monkeypatch: pytest.MonkeyPatch, no_length: bool,
                                                 problem: str):
    monkeypatch.setenv("PAPERCHAT_FETCH_MAX_MB", "0.001")
    replay.set("hf:2024-05-01", Reply(body=(DATA / "hf" / "2024-05-01.json").read_bytes(), no_length=no_length))
    with pytest.raises(FetchError) as e:
        fetch_hf(load_settings(), "2024-05-01")
    assert str(e.value) == (f"Daily Papers for 2024-05-01 ({replay.hf_url}): {problem} (PAPERCHAT_FETCH_MAX_MB); "
                            "nothing was added to the index")


def test_a_damaged_cache_entry_is_fetched_again(replay: Replay):
    settings = load_settings()
    fetch_hf(settings, "2024-05-01")
    client = PoliteClient.from_settings(settings)
    client.cache.path(hf.day_url(settings.hf_api_url, date(2024, 5, 1))).write_text('{"url": "x"', "utf-8")
    assert fetch_hf(settings, "2024-05-01", client=client).papers == 3
    assert replay.count() == 2


# ----------------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hf", "--from", "2024-02-30"], "--from must be a date like 2024-05-01, got '2024-02-30'"),
        (["hf", "--from", "May 1"], "--from must be a date like 2024-05-01, got 'May 1'"),
        (["hf", "--from", "2024-05-03", "--to", "2024-05-01"], "date range is empty: 2024-05-03 is after 2024-05-01"),
        (["hf", "--from", "2023-01-01", "--to", "2024-12-31"], "731 days asked for; fetch at most 366 days per run"),
        (["hf", "--from", "2999-01-01"], "2999-01-01 is in the future"),
        (["arxiv"], 'give arXiv ids or --query "..."'),
        (["arxiv", "2401.05001", "--query", "all:warmup"], "give arXiv ids or --query, not both"),
        (["arxiv", "2401.05001", "../../etc/passwd"], "'../../etc/passwd' is not an arXiv id"),
    ],
)
def test_bad_input_is_one_line_and_asks_nothing(replay: Replay, args: list[str], message: str):
    result = invoke("fetch", *args)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, message)
    assert replay.hits == []


# ----------------------------------------------------------------------------------------------
# the real command, in a real process
# ----------------------------------------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


@pytest.mark.slow  # the fetched papers are indexed: loads the bundled embedder
def test_cli_fetch_json_report(replay: Replay):
    result = invoke("fetch", "hf", "--from", "2024-05-01", "--to", "2024-05-02", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["fetch"]["papers"], out["fetch"]["requests"], out["ingest"]["papers_new"]) == (5, 2, 5)
    again = invoke("fetch", "hf", "--from", "2024-05-01", "--to", "2024-05-02")
    assert again.exit_code == 0, again.output
    assert "fetched 5 papers into 2 files" in again.stdout and "(0 requests, 2 from the cache)" in again.stdout
    assert "index up to date: 5 papers" in again.stdout


def test_unreachable_server_is_one_line_and_leaves_the_index(app: Paperchat, small_corpus: Path, home: Path):
    app.ingest([small_corpus])
    before = app.stats()
    port = free_port()  # bound and closed again: nothing listens there
    proc = subprocess.run(_cli("fetch", "arxiv", "2401.05001"), capture_output=True, text=True, timeout=120,
                          env=_env(PAPERCHAT_ARXIV_API_URL=f"http://127.0.0.1:{port}/api/query"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert_one_error_line(proc.stderr, "cannot reach 127.0.0.1 (no network, or the server is down: ")
    assert proc.stderr.rstrip().endswith("nothing was added to the index")
    assert not (home / "fetched").exists()
    assert Paperchat(app.settings, embedder=app.embedder).stats() == before


def test_a_killed_fetch_resumes_without_asking_again(replay: Replay, app: Paperchat):
    stall = threading.Event()
    replay.set("hf:2024-05-03", Reply(stall=stall))
    env = _env(PAPERCHAT_FETCH_TIMEOUT_S="300")
    args = ("fetch", "hf", "--from", "2024-05-01", "--to", "2024-05-04")
    proc = subprocess.Popen(_cli(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while replay.count("hf:2024-05-03") == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the fetch never reached the third day"
            time.sleep(0.05)
        proc.kill()  # SIGKILL while it waits for the third day
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -9
    assert not (app.settings.home / "fetched").exists()  # nothing is written before every day is in

    stall.set()
    replay.set("hf:2024-05-03", _file("hf/2024-05-03.json"))  # the server is back to normal
    replay.hits.clear()
    done = subprocess.run(_cli(*args), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert replay.hits == ["hf:2024-05-03", "hf:2024-05-04"]  # the first two days came from the cache
    assert "fetched 7 papers into 3 files" in done.stdout and "(2 requests, 2 from the cache)" in done.stdout
    assert Paperchat(app.settings, embedder=app.embedder).stats()["papers"] == sum(PAPERS_BY_DAY.values())
