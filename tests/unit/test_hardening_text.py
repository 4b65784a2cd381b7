"""Hardening checks that need no index or server: Markdown literals through a CommonMark renderer, the
upload-limit message, README commands (the rest: integration/test_hardening.py)."""

from __future__ import annotations

import pytest
from helpers import REPO

from rag.settings import load_settings


def test_markdown_literal_round_trips_through_a_commonmark_renderer():
    """Unit level: the escaped text renders to exactly the original characters."""
    from markdown_it import MarkdownIt

    from rag.text.sanitize import markdown_literal

    md = MarkdownIt("commonmark", {"html": True})
    for text in ["![x](http://h/leak?d=1)", "<img src=x onerror=alert(1)>", "a_b *c* `d` ~~e~~ | f",
                 "[l](javascript:alert(1))", "- item", "12. twelve", "# head", "&amp; &lt;", "C:\\path\\x",
                 "10% of 3.5 e.g. GPT-4o", "$x^2$ and \\(y\\)"]:
        html = md.render(markdown_literal(text)).strip()
        assert html.startswith("<p>") and html.endswith("</p>"), (text, html)
        import html as html_lib

        assert html_lib.unescape(html[3:-4]) == text, (text, html)


def test_upload_limit_message_does_not_guess_the_size():
    from rag.errors import UploadTooLargeError
    from rag.ingest.uploads import check_upload

    with pytest.raises(UploadTooLargeError, match=r"^big\.jsonl is larger than the upload limit of 20 MB"):
        check_upload("big.jsonl", 300 * 2**20, load_settings())


def test_readme_commands_say_which_paperchat_they_run():
    readme = (REPO / "README.md").read_text("utf-8")
    assert "source .venv/bin/activate" in readme


def test_a_k_a_ends_no_sentence():
    from rag.text.analysis import split_sentences

    text = "Two kinds are used (a.k.a. Data Parallelism) in training. We evaluate it."
    assert split_sentences(text) == ["Two kinds are used (a.k.a. Data Parallelism) in training.", "We evaluate it."]
