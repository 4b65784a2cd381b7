"""The UI on a real index and served: the handler over the bundled embedder and Chroma, two users on a
launched app, login, python -m ui (rendering and handlers with a fake engine: unit/test_ui_render.py)."""

from __future__ import annotations

import html
import threading

import pytest
from helpers import free_port, paper_record, write_jsonl
from ui_fixtures import FakePaperchat, run

from rag.paperchat import Paperchat
from rag.settings import load_settings
from ui.app import launch
from ui.handlers import Services, upload


def test_respond_on_a_real_index(home, tmp_path, embedder, seed_corpus) -> None:
    warm = [p for p in seed_corpus.papers if "Short Warmup" in p.title or "Entropy Collapse" in p.title]
    others = sorted(seed_corpus.papers, key=lambda p: (len(p.abstract), p.paper_id))[:10]
    corpus = write_jsonl(tmp_path / "c.jsonl", [paper_record(p) for p in warm + others])
    settings = load_settings(llm_backend="none")
    app = Paperchat(settings, embedder=embedder)
    services = Services(app, settings)
    status, stats = upload(services, [str(corpus)])
    assert "Added 12 new papers" in html.unescape(status) and 'data-papers="12"' in stats
    chat, history, last, sources, papers, text, _ = run(services, "Which papers skip warmup?")[-1]
    assert "Fast Certified Robust Training with Short Warmup" in html.unescape(chat[-1]["content"])
    assert 'class="pc-cite"' in chat[-1]["content"] and "<mark" in sources and "pc-verified" in sources
    assert history[0].citations and text == history[0].text
    # a bad file leaves the index as it was
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\x00\x01" * 100)
    status, stats = upload(services, [str(bad)])
    assert "Nothing was added" in html.unescape(status) and 'data-papers="12"' in stats


def test_two_users_chat_at_once(settings) -> None:
    """Both requests must be inside the engine together: with a queue of one, the barrier breaks."""
    from gradio_client import Client

    barrier = threading.Barrier(2, timeout=20)
    fake = FakePaperchat(before_answer=barrier.wait)
    port = free_port()
    demo = launch(settings, port=port, app=fake, block=False, quiet=True)
    try:
        results: list = [None, None]

        def ask(i: int) -> None:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            results[i] = client.predict(
                f"question {i}", [], "default", "", "", "", 5, "", "", None, False, api_name="/ask"
            )

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for r in results:
            assert r is not None
            content = (
                r[0][-1]["content"][0]["text"]
                if isinstance(r[0][-1]["content"], list)
                else r[0][-1]["content"]
            )
            assert "pc-error" not in content and "pc-cite" in content
        assert not demo.share_url
    finally:
        demo.close()


def test_login_is_required_when_auth_is_set(home) -> None:
    import urllib.error
    import urllib.parse
    import urllib.request

    settings = load_settings(llm_backend="none", auth="alice:s3cret")
    port = free_port()
    demo = launch(settings, port=port, app=FakePaperchat(), block=False, quiet=True)
    try:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=10)
        assert e.value.code == 401
        for password, ok in (("wrong", False), ("s3cret", True)):
            data = urllib.parse.urlencode({"username": "alice", "password": password}).encode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", data=data, timeout=10) as r:
                    assert ok and r.status == 200
            except urllib.error.HTTPError as err:
                assert not ok and err.code in (400, 401)
    finally:
        demo.close()


def test_python_m_ui_help() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "ui", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for flag in ("--host", "--port", "--share"):
        assert flag in out.stdout
