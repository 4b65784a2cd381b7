"""The UI without a browser: the pure rendering functions (escaping above all), the handlers'
error paths and history passing against a scripted engine, one handler run on a real index, and
the served app (concurrency, API) through Gradio's own client.
"""

from __future__ import annotations

import html
import logging
import re
from html.parser import HTMLParser

import pytest
from helpers import write_jsonl
from ui_fixtures import QUOTE, answer, citation, events_for, quote_line, run, source

from rag.errors import BackendError, ConfigError, CorpusError, IndexMissingError
from rag.settings import load_settings
from rag.types.answers import Event, Exclusion, Line
from ui import render
from ui.app import build_app
from ui.handlers import Services, new_chat, toggle_cited, upload

EVIL = [
    "<script>alert(1)</script>",
    '<img src=x onerror="window.__pwned=2">',
    "![x](http://evil.example/x.png)",
    "[click](javascript:alert(1))",
    "${window.__pwned=3}",
    "{{constructor.constructor('alert(1)')()}}",
    "$$x^2$$ and `code` and **bold** and _em_ and <b>b</b>",
    '" onmouseover="alert(1)',
    "line one\n\n# heading\n- item\n<div>",
    "&lt;script&gt; already escaped &amp; stays literal",
]
ALLOWED_TAGS = {
    "div",
    "p",
    "ul",
    "ol",
    "li",
    "a",
    "span",
    "mark",
    "blockquote",
    "details",
    "summary",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "b",
}
ALLOWED_ATTRS = {"class", "id", "href", "title", "data-cite", "data-papers", "aria-label"}


class _Audit(HTMLParser):
    """Collects tags, attributes and the decoded text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def audit(fragment: str) -> _Audit:
    a = _Audit()
    a.feed(fragment)
    a.close()
    return a


def assert_inert(fragment: str) -> None:
    """Only our own tags and attributes; no raw character any renderer downstream would act on."""
    a = audit(fragment)
    for tag, attrs in a.tags:
        assert tag in ALLOWED_TAGS, tag
        assert set(attrs) <= ALLOWED_ATTRS, attrs
        if "href" in attrs:
            assert attrs["href"].startswith("#pc-src-"), attrs
    assert "\n" not in fragment  # one raw-HTML block for Markdown: nothing in it is Markdown
    text_outside_tags = "".join(part.split(">", 1)[-1] for part in fragment.split("<"))
    for ch in "[]$`{}*_!":
        assert ch not in text_outside_tags, (ch, fragment)


# ----------------------------------------------------------------------------------------------
# escaping
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", EVIL)
def test_esc_round_trips_to_the_literal_text_and_leaves_nothing_active(text: str) -> None:
    out = render.esc(text)
    assert html.unescape(out.replace("<br>", "\n")) == text
    bare = re.sub(r"&#?\w+;", "", out.replace("<br>", ""))  # what is left besides character references
    for ch in "<>\"'[]()!$`{}*_#|~\\&":
        assert ch not in bare


@pytest.mark.parametrize("text", EVIL)
def test_every_renderer_shows_hostile_paper_text_literally(text: str) -> None:
    src = source(
        title=f"T {text}", abstract=f"Intro sentence here. {text} {QUOTE} Tail.", organization=text, date=text
    )
    cit = citation(title=f"T {text}", quote=QUOTE)
    lines = [quote_line(title=f"T {text}"), Line(kind="summary", text=text, cites=["no-warmup"]),
             Line(kind="heading", text=text), Line(kind="nearest", text=text, paper_id="x", label=text)]
    ans = answer(lines=lines, citations=[cit], sources=[src], notes=[text])
    fragments = [
        render.answer_html(ans.lines, ans.citations, notes=ans.notes, error=text, standalone=text, about=[text],
                           excluded=[Exclusion(paper_id="x", title=f"T {text}", quote=text, reason=text)]),
        render.answer_html(ans.lines, streaming=True, draft=text),
        render.source_card(cit, src, ans.lines),
        render.papers_table([src], [cit]),
        render.sources_panel([cit], [src], ans.lines),
        render.user_html(text),
        render.stats_line({"papers": 3, "date_range": [text, text]}, text),
    ]
    for frag in fragments:
        assert_inert(frag)
    decoded = "".join(audit(fragments[0].replace("<br>", "\n")).text)
    for line in text.split("\n"):
        assert line in decoded, (line, fragments[0])


def test_near_misses_render_collapsed_numbered_with_why_and_the_sentence() -> None:
    ex = [Exclusion(paper_id="a", title="Alpha", quote="Alpha re-warms.", reason="judged 40% likely", closeness=0.4),
          Exclusion(paper_id="b", title="Beta", quote="", reason="it says the opposite", closeness=0.1)]
    a = audit(render.answer_html([quote_line()], [citation(1)], excluded=ex))
    tags = [t for t, _ in a.tags]
    assert tags.count("details") == 1 and tags.count("ol") == 1 and tags.count("li") == 3  # 1 item + 2 near-misses
    assert not any(attrs.get("open") is not None for t, attrs in a.tags if t == "details")  # collapsed
    text = "".join(a.text)
    assert "Considered, not listed (2)" in text and text.index("Alpha") < text.index("Beta")
    assert "“Alpha re-warms.”" in text and "it says the opposite" in text
    assert "details" not in render.answer_html([quote_line()], [citation(1)])  # nothing to show: no section


def test_answer_html_renders_lines_and_links_their_citations() -> None:
    cits = [citation(1), citation(2, paper_id="b", title="B", supported=False)]
    lines = [quote_line(), Line(kind="summary", text="See both.", cites=["b", "no-warmup"]),
             Line(kind="summary", text="Uncited [7] text.", cites=["nobody"])]
    out = render.answer_html(lines, cits)
    a = audit(out)
    links = [attrs for tag, attrs in a.tags if tag == "a"]
    assert [lk["href"] for lk in links] == ["#pc-src-1", "#pc-src-1", "#pc-src-2"]  # number order
    assert "pc-cite-unverified" in links[2]["class"]
    assert "No Warmup Needed" in links[0]["title"]  # hover shows the paper and the quote
    text = "".join(a.text)
    assert "[7]" in text  # brackets in the text are text: only citations become links
    tags = [t for t, _ in a.tags]
    assert tags.count("li") == 1 and tags.count("p") == 1  # two summary sentences: one paragraph


def test_answer_html_keeps_conversation_numbers() -> None:
    """A paper cited as [4] earlier in the conversation is [4] here too: numbers come from data."""
    out = render.answer_html([quote_line()], [citation(4)])
    assert 'href="#pc-src-4"' in out and "&#91;4&#93;" in out


def test_answer_html_while_streaming_shows_the_draft_unlinked_and_a_cursor() -> None:
    out = render.answer_html([quote_line()], [citation(1)], draft="Half an answer [3", streaming=True)
    assert "pc-typing" in out and "pc-draft" in out and 'href="#pc-src-3"' not in out
    assert out.endswith("&#9612;</span></p></div>")  # the cursor ends the text, on its line
    assert render.answer_html([], streaming=True).endswith('&#9612;</span></div>')


def test_answer_html_notes_error_refusal_and_rewrite() -> None:
    out = render.answer_html(
        [Line(kind="heading", text="I couldn't find this.")],
        [],
        notes=["backend x unreachable"],
        refused=True,
        error="boom",
        standalone="skip warmup?",
        about=["Paper A"],
    )
    a = audit(out)
    classes = [attrs.get("class", "") for _, attrs in a.tags]
    assert "pc-answer pc-refused" in classes and "pc-note" in classes and "pc-error" in classes
    text = "".join(a.text)
    assert (
        "backend x unreachable" in text
        and "boom" in text
        and "Understood as: skip warmup? (about: Paper A)" in text
    )


# ----------------------------------------------------------------------------------------------
# highlighting and cards
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("abstract", "quotes", "marked"),
    [
        ("One. Two three. Four.", ["Two three."], ["Two three."]),
        ("One.  Two\nthree. Four.", ["Two three."], ["Two\nthree."]),  # whitespace differs
        ("One. Two. Three.", ["Two.", "Two. Three."], ["Two. Three."]),  # overlapping: merged
        ("One. Two. Three.", ["Three.", "One."], ["One.", "Three."]),  # in text order
        ("One. Two.", ["Not there."], []),  # only what the abstract contains is marked
        ("A <b>x</b> & y. Z.", ["A <b>x</b> & y."], ["A <b>x</b> & y."]),
    ],
)
def test_highlight_marks_exactly_the_quotes(abstract: str, quotes: list[str], marked: list[str]) -> None:
    out = render.highlight(abstract, quotes)
    assert (
        html.unescape(
            out.replace('<mark class="pc-evidence">', "").replace("</mark>", "").replace("<br>", "\n")
        )
        == abstract
    )
    got = [
        html.unescape(part.split("</mark>")[0]).replace("<br>", "\n")
        for part in out.split('<mark class="pc-evidence">')[1:]
    ]
    assert got == marked


def test_quotes_for_collects_every_sentence_the_answer_quotes_for_that_source() -> None:
    lines = [quote_line("a", "A", "S1."), quote_line("a", "A", "S2."), quote_line("b", "B", "S3.")]
    assert render.quotes_for(citation(1, paper_id="a", quote="S1."), lines) == ["S1.", "S2."]
    assert render.quotes_for(citation(2, paper_id="b", quote="S3."), lines) == ["S3."]


def test_source_card_shows_meta_badge_quote_and_highlighted_abstract() -> None:
    card = render.source_card(citation(2), source(), [quote_line()])
    a = audit(card)
    text = "".join(a.text)
    assert ("div", {"class": "pc-card", "id": "pc-src-2", "data-cite": "2"}) in a.tags
    for needle in ("No Warmup Needed", "2024-01-02", "12 upvotes", "3 authors", "verified", QUOTE):
        assert needle in text
    assert card.count('<mark class="pc-evidence">') == 2  # the quote block and inside the abstract
    unverified = render.source_card(citation(1, supported=False), source(upvotes=None, authors=1, date=None))
    text = "".join(audit(unverified).text)
    assert (
        "unverified" in text and "upvotes unknown" in text and "1 author" in text and "date unknown" in text
    )
    # a citation whose paper is not among the sources still gets a card (title and quote)
    bare = render.source_card(citation(1), None)
    assert "No Warmup Needed" in bare and QUOTE.replace(".", "&#46;") in bare


def test_sources_panel_orders_by_citation_number_and_has_empty_states() -> None:
    panel = render.sources_panel([citation(2, "b"), citation(1)], [source(), source("B", "b")])
    assert panel.index('id="pc-src-1"') < panel.index('id="pc-src-2"')
    assert "Finding the evidence" in render.sources_panel([], [], pending=True)
    assert "Checking the citations" in render.sources_panel([], [], [quote_line()], pending=True)
    assert "Ask a question" in render.sources_panel([], [])


def test_papers_table_lists_scores_and_filters_to_cited() -> None:
    srcs = [source(cited=True, score=0.91234), source("Other", "other", score=0.1, upvotes=None, date=None)]
    table = render.papers_table(srcs, [citation(1)])
    a = audit(table)
    assert [t for t, _ in a.tags].count("tr") == 3  # header + 2
    assert "0.912" in "".join(a.text) and 'href="#pc-src-1"' in table
    only = render.papers_table(srcs, [citation(1)], only_cited=True)
    assert [t for t, _ in audit(only).tags].count("tr") == 2 and "Other" not in only
    none_cited = render.papers_table([srcs[1]], [], only_cited=True)
    assert "None of the retrieved papers is cited" in none_cited
    assert "No papers retrieved" in render.papers_table([])


def test_stats_line() -> None:
    assert 'data-papers="0"' in render.stats_line({})
    line = render.stats_line({"papers": 540, "date_range": ["2021-01-01", "2024-12-31"]}, "local qwen")
    assert 'data-papers="540"' in line and "540 papers indexed" in html.unescape(line)


# ----------------------------------------------------------------------------------------------
# handlers against a scripted engine
# ----------------------------------------------------------------------------------------------




def test_respond_streams_then_shows_the_verified_text(settings, fake) -> None:
    final = answer()
    # the stream said more than verification kept
    fake.script.append(events_for(final, tokens=["An unsupported ", "claim [1]."], notes=["model note"]))
    steps = run(Services(fake, settings), "Which papers skip warmup?")
    assert "pc-typing" in steps[0][0][-1]["content"]  # placeholder while retrieving
    assert any("unsupported claim" in s[0][-1]["content"] for s in steps[1:-1])  # streamed
    chat, history, last, sources, papers, text, _ = steps[-1]
    assert "unsupported claim" not in chat[-1]["content"] and "pc-typing" not in chat[-1]["content"]
    assert chat[0]["role"] == "user" and chat[-1]["role"] == "assistant"
    assert history == [final] and text == final.text
    assert 'id="pc-src-1"' in sources and "<mark" in sources
    assert "pc-row-cited" in papers
    assert steps[0][-1] == ""  # the question box is cleared at once


def test_follow_up_passes_previous_answers_and_filters(settings, fake) -> None:
    services = Services(fake, settings)
    first = run(services, "Which papers skip warmup?")[-1]
    run(
        services,
        "What about the second one?",
        chat=first[0],
        history=first[1],
        k=7,
        date_from="2024-01-01",
        min_upvotes=3,
    )
    call = fake.calls[-1]
    assert [a.question for a in call["history"]] == ["Which papers skip warmup?"]
    assert call["k"] == 7 and call["filters"].date_from == "2024-01-01" and call["filters"].min_upvotes == 3
    assert fake.calls[0]["filters"] is None  # empty fields and min upvotes 0 mean no filter
    run(services, "q", min_upvotes=0)
    assert fake.calls[-1]["filters"] is None


@pytest.mark.parametrize(
    "error",
    [
        IndexMissingError("nothing is indexed yet: run `paperchat ingest` first"),
        BackendError("cannot reach openai-compatible at http://127.0.0.1:9/v1"),
    ],
)
def test_library_errors_become_a_message_in_the_chat(settings, fake, error) -> None:
    fake.script.append(error)
    chat, history, *_ = run(Services(fake, settings), "Which papers skip warmup?")[-1]
    assert "pc-error" in chat[-1]["content"] and str(error).split(":")[0] in html.unescape(
        chat[-1]["content"]
    )
    assert history == []


def test_an_error_mid_stream_keeps_what_was_streamed(settings, fake) -> None:
    fake.script.append(
        [
            Event(type="sources", sources=[source()]),
            Event(type="line", line=quote_line(text="Partial quote."), citation=citation(1)),
            BackendError("stream broke"),
        ]
    )
    chat, _, _, _, papers, *_ = run(Services(fake, settings), "q")[-1]
    assert "Partial" in chat[-1]["content"] and "stream broke" in chat[-1]["content"]
    assert "No Warmup Needed" in papers


def test_unexpected_errors_are_logged_and_shown_as_one_line(settings, fake, caplog) -> None:
    fake.script.append(ZeroDivisionError("division by zero"))
    with caplog.at_level(logging.ERROR, logger="paperchat.ui"):
        chat, *_ = run(Services(fake, settings), "q")[-1]
    content = html.unescape(chat[-1]["content"])
    assert "ZeroDivisionError" in content and "server log" in content and "Traceback" not in content
    assert any(r.exc_info for r in caplog.records)  # the traceback went to the log


def test_bad_filter_values_are_reported_not_raised(settings, fake) -> None:
    chat, *_ = run(Services(fake, settings), "q", date_from="May 2024")[-1]
    assert "date-from must be a date like" in html.unescape(chat[-1]["content"])
    assert fake.calls == []


def test_empty_question_does_nothing(settings, fake) -> None:
    (step,) = run(Services(fake, settings), "   ")
    assert step[0] == [] and fake.calls == []


def test_toggle_and_new_chat(settings, fake) -> None:
    last = run(Services(fake, settings), "q")[-1][2]
    assert "Other Paper" in toggle_cited(last, False) and "Other Paper" not in toggle_cited(last, True)
    chat, history, *_ = new_chat()
    assert chat == [] and history == []


def test_backends_are_built_once_per_configuration(settings, fake) -> None:
    settings = settings.model_copy(update={"ui_allow_custom_backend": True})
    services = Services(fake, settings)
    assert services.backend_for("default") is None
    assert services.backend_for("default", "m", "http://x/v1", "k") is None  # default ignores the fields
    a = services.backend_for("openai-compatible", "m1", "http://127.0.0.1:9/v1")
    b = services.backend_for("openai-compatible", "m1", "http://127.0.0.1:9/v1")
    c = services.backend_for("openai-compatible", "m1", "http://127.0.0.1:10/v1")
    assert a is b and a is not c
    assert a.kind == "openai-compatible" and a.url == "http://127.0.0.1:9/v1" and a.model == "m1"
    with pytest.raises(ConfigError, match="OpenAI needs an API key"):
        services.backend_for("openai", "gpt-4o-mini")


def test_a_backend_choice_that_cannot_work_is_shown_in_the_chat(settings, fake) -> None:
    chat, *_ = run(Services(fake, settings), "q", backend="openai")[-1]
    assert "PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND" in html.unescape(chat[-1]["content"])
    assert fake.calls == []


# ----------------------------------------------------------------------------------------------
# upload
# ----------------------------------------------------------------------------------------------


def test_upload_adds_papers_with_progress(settings, fake, tmp_path) -> None:
    good = write_jsonl(
        tmp_path / "good.jsonl",
        [{"title": "A New Paper", "abstract": "We study something new in a long enough abstract " * 3}],
    )
    seen = []
    status, stats = upload(Services(fake, settings), [str(good)], lambda *a, **kw: seen.append((a, kw)))
    assert "Added 1 new paper" in html.unescape(status) and 'data-papers="41"' in stats
    assert seen and seen[-1][0] == ((2, 2),)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"", "file is empty"),
        ("bin.jsonl", bytes(range(256)) * 8, "binary"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type"),
    ],
)
def test_bad_uploads_say_why_and_add_nothing(settings, fake, tmp_path, name, content, expected) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    status, stats = upload(Services(fake, settings), [str(path)])
    assert expected in html.unescape(status) and "pc-bad" in status
    assert str(tmp_path) not in html.unescape(status)  # the file's own name, not the server's path
    assert 'data-papers="40"' in stats


def test_upload_size_limit_comes_from_settings(home, fake, tmp_path) -> None:
    settings = load_settings(llm_backend="none", upload_max_mb=0.001)
    big = write_jsonl(tmp_path / "big.jsonl", [{"title": "Big", "abstract": "word " * 400}])
    status, _ = upload(Services(fake, settings), [str(big)])
    assert "is larger than the upload limit of 0.001 MB (PAPERCHAT_UPLOAD_MAX_MB)" in html.unescape(status)
    assert fake.ingested == []


def test_upload_reports_library_and_unexpected_errors(settings, fake, tmp_path) -> None:
    good = write_jsonl(
        tmp_path / "g.jsonl", [{"title": "T", "abstract": "An abstract that is long enough. " * 4}]
    )
    fake.ingest_error = CorpusError("g.jsonl line 3: not JSON")
    assert "Nothing was added: g.jsonl line 3: not JSON" in html.unescape(
        upload(Services(fake, settings), [str(good)])[0]
    )
    fake.ingest_error = OSError("disk full")
    assert "OSError" in upload(Services(fake, settings), [str(good)])[0]
    assert "Choose a" in html.unescape(upload(Services(fake, settings), None)[0])


# ----------------------------------------------------------------------------------------------
# the handler on a real index (real parser, embedder, Chroma, retrieval, verification)
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# the served app
# ----------------------------------------------------------------------------------------------


def test_build_app_wires_the_api(settings, fake) -> None:
    demo = build_app(fake, settings)
    names = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert {"ask", "upload"} <= names


@pytest.mark.parametrize("allow", [False, True])
def test_the_panel_shows_typed_backend_fields_only_when_the_operator_allows_them(settings, fake, allow) -> None:
    demo = build_app(fake, settings.model_copy(update={"ui_allow_custom_backend": allow}))
    by_id = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}

    def shown(block) -> bool:
        while block is not None:
            if block.visible is False:
                return False
            block = getattr(block, "parent", None)
        return True

    assert [shown(by_id[i]) for i in ("pc-model", "pc-base-url", "pc-api-key")] == [allow] * 3
    choices = [value for _, value in by_id["pc-backend"].choices]
    assert ("openai-compatible" in choices) is allow
