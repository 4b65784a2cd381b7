"""Control characters out of paper text, and out of anything printed to a terminal.

Paper text is hostile input: a title can carry ``ESC ] 0 ; … BEL`` (set the window title),
``ESC [ 2 J`` (clear the screen) or ``ESC [ 8 m`` (hide what follows). Two lines of defence:

* :func:`clean_text` runs at parse time on every field, so what is indexed, embedded, quoted and
  shown holds no C0/C1 control character, no DEL, no bidirectional override and no lone
  surrogate. Newlines and tabs have no meaning inside a field and become spaces.
* :func:`terminal_safe` runs on every string the CLI prints, because model output, error
  messages (which name files a visitor chose) and indexes built by older versions reach the
  terminal too. It keeps newlines and tabs and replaces every other control with U+FFFD.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from rag.errors import QuestionError

# C0 controls (minus tab/newline, handled per function), DEL, C1 controls.
_C0_C1 = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Bidirectional embeddings/overrides/isolates: they reorder what a reader sees ("Trojan source").
_BIDI = "\u202a-\u202e\u2066-\u2069"
# Lone UTF-16 surrogates: valid in JSON ("\ud800"), not encodable as UTF-8.
_SURROGATES = "\ud800-\udfff"

_JUNK = re.compile(f"[{_C0_C1}{_BIDI}{_SURROGATES}]")
# Whole escape sequences, so their parameters do not stay behind as text: CSI (ESC [ … final),
# OSC / DCS / APC / PM / SOS (ESC ] … BEL or ST; only when terminated, because a lone C1 byte in
# mojibake such as "â€\x9d" must not swallow the rest of an abstract), and ESC x.
_ESCAPE_SEQ = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x9d\x9e\x9f\x98])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x7e]"
)
_WHITESPACE = re.compile(r"[\t\n\r\v\f\u0085\u2028\u2029\u00a0]")

REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """One field of a paper as stored: escape sequences are removed whole, whitespace (including
    U+2028/U+0085) becomes a space, runs of spaces collapse, and remaining controls, bidi
    overrides and lone surrogates are removed."""
    text = _ESCAPE_SEQ.sub("", text)
    text = _WHITESPACE.sub(" ", text)
    text = _JUNK.sub("", text)
    return " ".join(text.split())


def terminal_safe(text: str) -> str:
    """``text`` with every control character except newline and tab replaced by U+FFFD, so that
    nothing it contains can move the cursor, recolour, retitle or clear a terminal."""
    text = text.replace("\r\n", "\n")
    return _JUNK.sub(REPLACEMENT, text)


def has_controls(text: str) -> bool:
    """True when :func:`terminal_safe` would change ``text`` (tests, assertions)."""
    return bool(_JUNK.search(text.replace("\r\n", "\n")))


MAX_QUESTION_CHARS = 2000


def check_question(question: str, what: str = "question") -> None:
    """QuestionError naming what is wrong with a question: empty, too long, or holding a lone
    surrogate (what a non-UTF-8 argument or a JSON ``"\\ud800"`` decodes to: it cannot be encoded,
    so it would fail later, half-way through an answer)."""
    if not question or not question.strip():
        raise QuestionError(f"the {what} is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the {what} is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}")
    if _LONE_SURROGATE.search(question):
        raise QuestionError(f"the {what} is not valid UTF-8 text (it holds an undecodable byte or a lone surrogate)")


_LONE_SURROGATE = re.compile(f"[{_SURROGATES}]")

# Markdown's active characters: the ASCII punctuation a CommonMark or GFM renderer may read as
# syntax anywhere in a line (emphasis, links, images, code, HTML, entities, tables, strike-through,
# math, autolinks); CommonMark lets any ASCII punctuation be backslash-escaped.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()<>#!|~&$@:])")
# a dot inside a word ("evil.com"): linkify-style renderers read it as a domain
_DOMAIN_DOT = re.compile(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z])")
# what starts a block when it starts a line: a list item, a setext rule, an ordered item
_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d{1,9}(?=[.)]))")


def markdown_literal(text: str) -> str:
    """``text`` as Markdown that renders as exactly that text: a paper's ``![x](http://host/leak)``,
    ``<img onerror=...>``, ``javascript:`` link, ``$...$`` or bare URL shows as the characters it
    is, with no image, link, HTML or math. ``:`` and a dot inside a word are escaped so a URL or a
    domain is no autolink either (GFM and linkify read them only as unbroken text)."""
    text = _DOMAIN_DOT.sub(r"\\.", _MARKDOWN_ACTIVE.sub(r"\\\1", text))
    m = _BLOCK_START.match(text)
    if m and m.group(2)[0].isdigit():  # escape the '.' or ')' after an ordered item's number
        end = m.end()
        return text[:end] + "\\" + text[end:]
    return _BLOCK_START.sub(r"\1\\\2", text) if m else text


def public_url(url: str) -> str:
    """A URL as it may be shown to anyone: scheme, host, port and path, without the user name,
    password, query or fragment (where credentials and tokens live)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if not parts.scheme or not host:
        return "(a URL)"
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
