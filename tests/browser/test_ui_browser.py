"""The web UI in a real headless Chromium against the real default stack.

One server per session (``python -m ui`` in a subprocess) over a temp home that holds a real index
of 40 seed papers (including the two that skip warmup) and the bundled local model. Each test gets
a fresh browser page, i.e. a fresh chat session. Screenshots go to artifacts/screenshots/.

Needs Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium``), driven by the PyPI
``playwright`` package; ``playwright install`` is never used (it downloads, and there is no network).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO, SEED_FILES, free_port, paper_record, write_jsonl

from rag.ingest.corpus import load_corpus

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SHOTS = REPO / "artifacts" / "screenshots"
WARMUP_PAPERS = (
    "Fast Certified Robust Training with Short Warmup",
    "Stabilizing Transformer Training by Preventing Attention Entropy Collapse",
)
ANSWER_TIMEOUT_MS = 180_000  # the first model answer on 2 cores can take a while
INJECTION_TITLE = "<script>window.__pwned=1</script> Injection"
INJECTION_ABSTRACT = (
    "We study script injection attacks against chat interfaces that display paper abstracts. "
    '<img src=x onerror="window.__pwned=2"> Escaping every title and abstract before rendering blocks '
    "script injection in chat interfaces, even for markup such as ![x](http://evil.example/x.png) or "
    "${window.__pwned=3} and {{constructor.constructor('window.__pwned=4')()}}. "
    "We also check that $$x^2$$ and <b>bold</b> tags stay literal text in every panel of the interface."
)
INJECTION_QUESTION = "How can script injection in chat interfaces be blocked?"


@dataclass
class Server:
    url: str
    home: Path
    tmp: Path
    log: Path


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("PAPERCHAT_", "OPENAI_", "CHROMA_"))
    }
    env.update(
        PAPERCHAT_HOME=str(home),
        PAPERCHAT_UPLOAD_MAX_MB="1",
        # the backend-down test types a URL; with this off the panel has no URL field
        PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND="true",
        PYTHONUNBUFFERED="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


def _subset(path: Path) -> Path:
    """40 seed papers: the two warmup papers and 38 others chosen with a fixed seed."""
    papers = load_corpus(SEED_FILES).papers
    warm = [p for p in papers if p.title in WARMUP_PAPERS]
    assert len(warm) == 2, "the seeds no longer hold both warmup papers"
    others = sorted((p for p in papers if p.title not in WARMUP_PAPERS), key=lambda p: p.paper_id)
    random.Random(0).shuffle(others)
    return write_jsonl(path, [paper_record(p) for p in warm + others[:38]])


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the UI server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the UI server did not answer within {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("ui-browser")
    home, cwd = tmp / "home", tmp / "cwd"
    cwd.mkdir()
    env = _env(home)
    corpus = _subset(tmp / "subset.jsonl")
    cli = [sys.executable, "-m", "cli", "ingest", str(corpus)]
    done = subprocess.run(cli, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    port = free_port()
    log = tmp / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url, proc, log)
        deadline = time.monotonic() + 300  # warm-up: index open, local model assembled and loaded
        while "index and model ready" not in log.read_text() and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-4000:])
            time.sleep(0.5)
        yield Server(url=url, home=home, tmp=tmp, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser(server: Server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server: Server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url)
    pg.wait_for_selector("#pc-question textarea", timeout=60_000)
    pg.wait_for_selector("#pc-stats .pc-stats[data-papers]:not([data-papers='0'])", timeout=60_000)
    pg.page_errors = errors
    yield pg
    ctx.close()


def shot(page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


# ----------------------------------------------------------------------------------------------
# page helpers
# ----------------------------------------------------------------------------------------------

_ANSWER_DONE = """(n) => {
  const answers = document.querySelectorAll('#pc-chat .pc-answer');
  return answers.length >= n && !answers[answers.length - 1].querySelector('.pc-typing');
}"""


def ask(page, question: str, *, saw_streaming: list | None = None) -> str:
    """Ask ``question``; wait for the verified answer; return its text. ``saw_streaming`` gets
    True appended when the answer was seen half-written (the typing cursor)."""
    before = page.locator("#pc-chat .pc-answer").count()
    page.fill("#pc-question textarea", question)
    page.click("#pc-ask")
    if saw_streaming is not None:
        try:
            # half-written: the typing cursor after some text (a citation already linked)
            page.wait_for_selector("#pc-chat .pc-answer:has(.pc-typing) a.pc-cite", timeout=30_000)
            saw_streaming.append(True)
            shot(page, "03a-streaming")
        except Exception:  # noqa: BLE001 - finished before we looked
            saw_streaming.append(False)
    page.wait_for_function(_ANSWER_DONE, arg=before + 1, timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#pc-chat .pc-answer").last.inner_text()


def paper_count(page) -> int:
    return int(page.locator("#pc-stats .pc-stats").get_attribute("data-papers"))


def open_accordion(page, label: str) -> None:
    page.get_by_role("button", name=label).first.click()


def textbox(page, elem_id: str):
    return page.locator(f"#{elem_id}").locator("textarea, input").first


def upload(page, path: Path) -> str:
    """Upload one file; wait for the status line; return it."""
    page.locator("#pc-upload input[type=file]").set_input_files(str(path))
    status = page.locator("#pc-upload-status .pc-upload-status")
    status.wait_for(timeout=120_000)
    return status.inner_text()


# ----------------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------------


def test_warmup_question_cites_and_citation_opens_the_highlighted_abstract(page) -> None:
    shot(page, "01-empty")
    text = ask(page, "Which papers skip warmup?")
    answer = page.locator("#pc-chat .pc-answer").last
    assert answer.locator("a.pc-cite").count() >= 2
    for title in WARMUP_PAPERS:
        assert title in text
    # the papers view lists what was retrieved, with scores; cited rows link to their card
    rows = page.locator("#pc-papers tbody tr")
    assert rows.count() >= 5
    assert page.locator("#pc-papers tbody tr.pc-row-cited").count() >= 2
    # the source card: title, meta, verified badge; abstract collapsed until a citation is clicked
    card = page.locator("#pc-src-1")
    assert card.locator(".pc-verified").is_visible()
    assert "authors" in card.locator(".pc-meta").inner_text()
    assert not card.locator(".pc-abstract-text").is_visible()
    answer.locator("a.pc-cite").first.click()
    mark = card.locator(".pc-abstract-text mark.pc-evidence").first
    mark.wait_for(state="visible", timeout=5_000)
    abstract = card.locator(".pc-abstract-text").inner_text()
    assert mark.inner_text() in abstract and len(abstract) > len(mark.inner_text()) + 50
    assert len(page.context.pages) == 1, "a citation link opened a new tab"
    page.wait_for_timeout(800)  # let the smooth scroll finish
    shot(page, "02-warmup-answer-citation-opened")
    # copy answer: the verified answer text, markers included
    page.click("#pc-copy")
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1]" in copied and WARMUP_PAPERS[0] in copied
    # show only cited sources
    page.locator("#pc-only-cited input").check()
    page.wait_for_function(
        "document.querySelectorAll('#pc-papers tbody tr').length === "
        "document.querySelectorAll('#pc-papers tbody tr.pc-row-cited').length"
    )
    assert (
        page.locator("#pc-papers tbody tr").count()
        == page.locator("#pc-papers tbody tr.pc-row-cited").count()
        >= 2
    )
    assert not page.page_errors


def test_a_near_miss_opens_and_pins_back_into_the_list(page) -> None:
    ask(page, "Which papers skip warmup?")
    answer = page.locator("#pc-chat .pc-answer").last
    near = answer.locator("details.pc-excluded")
    assert near.count() == 1 and not near.locator("ol").is_visible()  # collapsed until asked
    near.locator("summary").click()
    first = near.locator("li").first
    first.wait_for(state="visible", timeout=5_000)
    title = first.locator(".pc-excluded-title").inner_text()
    assert first.locator(".pc-excluded-why").inner_text() and first.locator(".pc-excluded-quote").inner_text()
    shot(page, "12-near-miss-opened")
    text = ask(page, "include the first one")
    last = page.locator("#pc-chat .pc-answer").last
    assert "one added by you" in text and title in text
    assert last.locator("ul.pc-list > li").count() == 3 and last.locator("a.pc-cite").count() >= 3
    assert f"you added “{title}”" in text
    shot(page, "13-near-miss-pinned-back")
    assert not page.page_errors


def test_streamed_answer_with_follow_up_and_new_chat(page) -> None:
    seen: list[bool] = []
    first = ask(page, "How does one prevent attention entropy collapse?", saw_streaming=seen)
    assert seen == [True], "the answer never appeared half-written"
    assert "Entropy Collapse" in first
    assert page.locator("#pc-chat .pc-answer").last.locator("a.pc-cite").count() >= 1
    # the follow-up names no paper: only the history (the previous Answer) says which one is meant
    second = ask(page, "Does that paper make training more stable?")
    assert page.locator("#pc-chat .pc-answer").count() == 2
    assert "Understood as" in second and "Entropy Collapse" in second, second
    assert page.locator("#pc-chat .pc-answer").last.locator("a.pc-cite").count() >= 1
    shot(page, "03-follow-up")
    page.click("#pc-new")
    page.wait_for_function("document.querySelectorAll('#pc-chat .pc-answer').length === 0")
    assert "Ask a question" in page.locator("#pc-sources").inner_text()


def test_refusal_still_lists_the_retrieved_papers(page) -> None:
    text = ask(page, "What is the capital of France?")
    assert "couldn't find" in text
    assert page.locator("#pc-chat .pc-answer").last.locator("a.pc-cite").count() == 0
    assert page.locator("#pc-papers tbody tr").count() >= 3
    shot(page, "04-refusal")


def test_backend_down_shows_a_note_and_still_answers(page) -> None:
    open_accordion(page, "Settings")
    page.get_by_label("OpenAI-compatible URL").check()
    textbox(page, "pc-base-url").fill("http://127.0.0.1:9/v1")
    text = ask(page, "How does one prevent attention entropy collapse?")
    note = page.locator("#pc-chat .pc-answer").last.locator(".pc-note")
    assert note.count() >= 1
    assert "127.0.0.1:9" in note.first.inner_text()
    assert "Entropy Collapse" in text
    assert page.locator("#pc-chat .pc-answer").last.locator("a.pc-cite").count() >= 1
    assert page.locator("#pc-chat .pc-error").count() == 0
    page.locator("#pc-chat .pc-answer").last.scroll_into_view_if_needed()
    shot(page, "05-backend-down")


def test_upload_adds_a_paper(page, server: Server) -> None:
    open_accordion(page, "Add papers")
    before = paper_count(page)
    good = write_jsonl(
        server.tmp / "good.jsonl",
        [
            {
                "title": "Zebra Finch Song Learning with Sparse Transformers",
                "abstract": (
                    "We model zebra finch song learning with a sparse transformer trained on ten thousand "
                    "recorded song bouts, and show that sparsity patterns mirror the birds' syllable structure."
                ),
                "date": "2024-05-01",
                "upvotes": 7,
                "authors": 3,
            }
        ],
    )
    status = upload(page, good)
    assert "Added 1 new paper" in status, status
    page.wait_for_function(f"document.querySelector('#pc-stats .pc-stats').dataset.papers === '{before + 1}'")
    page.locator("#pc-upload-status").scroll_into_view_if_needed()
    shot(page, "06-upload-ok")
    text = ask(page, "How is zebra finch song learning modelled?")
    assert "Zebra Finch" in text


_UPLOAD_WATCH = """() => {
  const stats = document.querySelector('#pc-stats');
  const r = stats.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + 12, r.top + r.height / 2);
  return {stats: stats.innerText, statsOnTop: !!(top && top.closest('#pc-stats .pc-stats')),
          status: document.querySelector('#pc-upload-status').innerText};
}"""


def test_upload_progress_stays_in_the_upload_box(page, server: Server) -> None:
    open_accordion(page, "Add papers")
    before = paper_count(page)
    rows = [{"title": f"Progress Bar Placement Study {i}",
             "abstract": f"Study {i} of where a progress bar belongs while papers are added. " * 12}
            for i in range(12)]
    path = write_jsonl(server.tmp / "progress.jsonl", rows)
    page.locator("#pc-upload input[type=file]").set_input_files(str(path))
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = page.evaluate(_UPLOAD_WATCH)
        seen.append(state)
        if ("Reading files" in state["status"] or "Embedding" in state["status"]) and len(seen) % 5 == 1:
            shot(page, "06b-upload-progress", full_page=True)
        if "Added" in state["status"]:
            break
        time.sleep(0.1)
    assert "Added 12 new papers" in seen[-1]["status"], seen[-1]
    progress = [s for s in seen if "Reading files" in s["status"] or "Embedding" in s["status"]]
    assert progress, "no progress was shown in the upload box"
    # the header's stats line is never covered: no progress text in it, nothing painted over it
    assert all("Reading files" not in s["stats"] and "Embedding" not in s["stats"] for s in seen)
    assert all(s["statsOnTop"] for s in progress)
    page.wait_for_function(f"document.querySelector('#pc-stats .pc-stats').dataset.papers === '{before + 12}'")


@pytest.mark.parametrize("kind", ["binary", "empty", "too-big"])
def test_bad_upload_shows_the_error_and_changes_nothing(page, server: Server, kind: str) -> None:
    open_accordion(page, "Add papers")
    before = paper_count(page)
    if kind == "binary":
        path = server.tmp / "bad.jsonl"
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "empty":
        path = server.tmp / "empty.txt"
        path.write_bytes(b"")
    else:  # over PAPERCHAT_UPLOAD_MAX_MB=1: valid records, 1.5 MB
        path = server.tmp / "big.jsonl"
        rec = {"title": "Big", "abstract": "x " * 500}
        path.write_text("".join(json.dumps({**rec, "title": f"Big {i}"}) + "\n" for i in range(1500)))
    if kind == "too-big":
        # Gradio refuses the upload itself (launch(max_file_size=upload_max_mb)); the handler checks
        # the same limit for API calls (tested in test_ui_render.py)
        page.locator("#pc-upload input[type=file]").set_input_files(str(path))
        msg = page.get_by_text("exceed the maximum allowed size of 1.0 Mb", exact=False).first
        msg.wait_for(timeout=30_000)
        assert "big.jsonl" in msg.inner_text()
        page.wait_for_timeout(600)  # the toast fades in
    else:
        status = upload(page, path)
        assert "Nothing was added" in status
        assert ("empty" if kind == "empty" else path.name) in status, status
        assert "/tmp/" not in status  # named as the user knows it, not by Gradio's temp path
        page.locator("#pc-upload-status").scroll_into_view_if_needed()
    assert "Traceback" not in page.content()
    shot(page, f"07-upload-{kind}")
    page.wait_for_timeout(500)
    assert paper_count(page) == before
    page.reload()
    page.wait_for_selector("#pc-stats .pc-stats[data-papers]:not([data-papers='0'])")
    assert paper_count(page) == before


def test_script_injection_paper_renders_as_text(page, server: Server) -> None:
    open_accordion(page, "Add papers")
    evil = write_jsonl(
        server.tmp / "evil.jsonl",
        [
            {
                "title": INJECTION_TITLE,
                "abstract": INJECTION_ABSTRACT,
                "organization": "<b>Org</b>",
                "authors": 2,
            }
        ],
    )
    status = upload(page, evil)
    assert "Added 1 new paper" in status, status
    text = ask(page, INJECTION_QUESTION)
    answer = page.locator("#pc-chat .pc-answer").last
    assert answer.locator("a.pc-cite").count() >= 1, text
    assert INJECTION_TITLE in text  # the title, literally, in the chat
    answer.locator("a.pc-cite").first.click()
    page.locator("#pc-src-1 .pc-abstract-text").wait_for(state="visible")
    page.wait_for_timeout(1_000)  # give any injected handler (onerror) time to run
    assert page.evaluate("typeof window.__pwned") == "undefined"
    card = page.locator("#pc-src-1").inner_text()
    assert INJECTION_TITLE in card
    assert '<img src=x onerror="window.__pwned=2">' in card
    assert "![x](http://evil.example/x.png)" in card
    assert "${window.__pwned=3}" in card and "{{constructor" in card and "$$x^2$$" in card
    assert INJECTION_TITLE in page.locator("#pc-papers").inner_text()
    # nothing from the paper became markup anywhere on the page
    assert page.evaluate('document.querySelectorAll(\'img[src="x"], img[src*="evil"]\').length') == 0
    assert (
        page.evaluate(
            "[...document.querySelectorAll('#pc-chat b, #pc-sources b, #pc-papers b')]"
            ".filter(b => b.textContent.includes('bold') || b.textContent === 'Org').length"
        )
        == 0
    )
    shot(page, "08-injection-as-text")
    assert not page.page_errors


def _every_citation_opens_its_paper(page) -> int:
    """Click every [n] in the whole conversation; the card it opens is the paper the link was
    written for (the link's tooltip names it). Returns how many links were checked."""
    links = page.locator("#pc-chat a.pc-cite")
    for i in range(links.count()):
        link = links.nth(i)
        n = link.get_attribute("href").removeprefix("#pc-src-")  # Gradio's sanitizer drops data-* in chat
        written_for = link.get_attribute("title").split(" \u2014 ")[0]
        link.click()
        card = page.locator(f"#pc-src-{n}")
        card.locator(".pc-abstract-text").wait_for(state="visible", timeout=5_000)
        assert card.locator(".pc-title").inner_text() == written_for, (n, written_for)
    return links.count()


def test_three_turns_every_old_and_new_citation_opens_the_right_paper(page) -> None:
    first = ask(page, "Which papers skip warmup?")
    assert all(t in first for t in WARMUP_PAPERS)
    answers = page.locator("#pc-chat .pc-answer")
    first_link = answers.first.locator("a.pc-cite").first
    paper_one = first_link.get_attribute("title").split(" \u2014 ")[0]
    # a follow-up about the first paper answers from that paper, under the same number
    more = ask(page, "Tell me more about the first one")
    assert "couldn't find" not in more and paper_one in more, more
    assert answers.nth(1).locator('a.pc-cite[href="#pc-src-1"]').count() >= 1, answers.nth(1).inner_html()[:3000]
    # a new topic: new papers get new numbers, old ones keep theirs
    ask(page, "What is ReZero?")  # a paper of the 40 (Deep Gradient Compression is not among them)
    assert answers.count() == 3
    checked = _every_citation_opens_its_paper(page)
    assert checked >= 4
    # the first answer's [1] still opens the paper it was written for, after two more turns
    first_link.click()
    assert page.locator("#pc-src-1 .pc-title").inner_text() == paper_one
    page.wait_for_timeout(600)
    shot(page, "09-three-turns-citations", full_page=True)
    assert not page.page_errors


FRACTAL_TITLE = "Pre-training without Natural Images"
FRACTAL_QUESTION = ("Which paper pre-trains convolutional networks on automatically generated fractal patterns "
                    "with formula-derived category labels instead of photographs?")


def test_a_clause_quote_shows_its_cut_and_its_citation_opens_the_paper(page, server: Server) -> None:
    """The answer quotes the clause that answers, marks the cut with "…" (from the line's fields),
    keeps the whole sentence as its tooltip and in the source card, and [n] opens that paper."""
    paper = next(p for p in load_corpus(SEED_FILES).papers if p.title == FRACTAL_TITLE)
    open_accordion(page, "Add papers")
    upload(page, write_jsonl(server.tmp / "fractal.jsonl", [paper_record(paper)]))
    ask(page, FRACTAL_QUESTION)
    answer = page.locator("#pc-chat .pc-answer").last
    item = answer.locator("li:has(.pc-cut)").first
    item.wait_for(timeout=5_000)
    clause = item.locator(".pc-clause").inner_text()
    sentence = item.locator(".pc-clause").get_attribute("title")
    assert clause and sentence.startswith(clause) and len(sentence) > len(clause) + 20
    assert f"\u201c{clause}\u2026\u201d" in item.inner_text()  # the ellipsis where words were left out
    link = item.locator("a.pc-cite").first
    n = link.get_attribute("href").removeprefix("#pc-src-")  # Gradio's sanitizer drops data-* in chat
    link.click()
    card = page.locator(f"#pc-src-{n}")
    assert card.locator(".pc-title").inner_text() == FRACTAL_TITLE
    # the card shows the whole sentence with the quoted clause marked, and marks it in the abstract
    assert card.locator("blockquote.pc-quote").inner_text() == sentence
    assert card.locator("blockquote.pc-quote mark.pc-evidence").inner_text() == clause
    mark = card.locator(".pc-abstract-text mark.pc-evidence").first
    mark.wait_for(state="visible", timeout=5_000)
    assert mark.inner_text() == clause
    page.wait_for_timeout(600)
    shot(page, "10-clause-quote-citation-opened")
    item.locator(".pc-clause").hover()
    page.wait_for_timeout(300)
    shot(page, "10b-clause-quote")
    assert not page.page_errors


def _download(page, elem_id: str):
    """Click an Export button; return (suggested file name, content)."""
    with page.expect_download(timeout=30_000) as info:
        page.locator(f"#{elem_id}").click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text("utf-8")


def test_export_the_answer_as_markdown_and_bibtex(page) -> None:
    """The Export buttons appear under the chat once an answer is there; the Markdown file is the
    answer with its [n] markers and a numbered reference per cited paper."""
    assert not page.locator("#pc-export-markdown").is_visible()  # nothing to export yet
    ask(page, "Which papers skip warmup?")
    page.locator("#pc-export-markdown").wait_for(state="visible", timeout=30_000)
    assert page.locator("#pc-export-bibtex").is_visible()
    page.locator("#pc-export").scroll_into_view_if_needed()
    shot(page, "11-export-buttons")
    name, md = _download(page, "pc-export-markdown")
    assert name == "paperchat-which-papers-skip-warmup.md"
    assert md.startswith("# Which papers skip warmup?\n")
    body, refs = md.split("\n## References\n")
    assert "[1]" in body and "[2]" in body
    numbered = re.findall(r"^- \[(\d+)\] \*\*(.+?)\*\*", refs, re.M)
    assert [n for n, _ in numbered] == ["1", "2"], refs
    assert {t for _, t in numbered} == set(WARMUP_PAPERS)
    name, bib = _download(page, "pc-export-bibtex")
    assert name == "paperchat-which-papers-skip-warmup.bib" and bib.count("@misc{") == 2
    if page.locator("#pc-export-csv").is_visible():  # a list answer
        name, table = _download(page, "pc-export-csv")
        assert table.startswith("n,title,year,url,quote") and len(table.strip().splitlines()) == 3
    # a new chat has nothing to export
    page.click("#pc-new")
    page.locator("#pc-export-markdown").wait_for(state="hidden", timeout=10_000)
    assert not page.page_errors
