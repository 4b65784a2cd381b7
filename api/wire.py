"""The OpenAI chat-completions wire format, as plain dicts: responses, stream chunks and error
bodies, plus the ``paperchat`` extension field that carries an answer's structure.

A plain client shows ``choices[0].message.content`` (the answer with ``[n]`` markers and a short
sources list); a client that knows paperchat reads ``paperchat`` (citations with paper id, title,
quote, supported, score; the answer's lines; notes). Pure functions, no I/O.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from rag.errors import ConfigError
from rag.text.sanitize import markdown_literal
from rag.types.answers import Answer, answer_text

MODEL = "paperchat"


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def sources_text(answer: Answer) -> str:
    """The short sources list that follows the answer in ``content`` (titles Markdown-inert)."""
    if not answer.citations:
        return ""
    return "Sources:\n" + "\n".join(f"[{c.n}] {markdown_literal(c.title)}" for c in answer.citations)


def content(answer: Answer) -> str:
    """What a plain chat client shows: the answer text, then its sources. ``content`` is Markdown
    to the clients that render it (Open WebUI, LibreChat), so every word a paper or a model wrote
    is escaped to render as itself: no image, link or HTML a paper planted reaches them live. The
    ``paperchat`` field carries the same text unescaped, as data."""
    src = sources_text(answer)
    return answer_text(answer.lines, answer.numbers(), markdown_literal) + (f"\n\n{src}" if src else "")


def extension(answer: Answer) -> dict[str, Any]:
    """The ``paperchat`` field: the answer as structure (see README, "Use it from other tools")."""
    return {
        "citations": [
            {"n": c.n, "paper_id": c.paper_id, "title": c.title, "quote": c.quote, "supported": c.supported,
             "score": c.support_score, "reason": c.reason}
            for c in answer.citations
        ],
        "lines": [ln.to_dict() for ln in answer.lines],
        "refused": answer.refused,
        "route": answer.route,
        "backend": answer.backend,
        "standalone_question": answer.standalone_question,
        "pinned": list(answer.pinned),
        "notes": list(answer.notes),
        "sources": [{"paper_id": s.paper_id, "title": s.title, "score": s.score, "cited": s.cited,
                     "date": s.date, "upvotes": s.upvotes} for s in answer.sources],
        "timings": dict(answer.timings),
        # a list answer's near-misses, closest first: considered, not listed, and why
        "excluded": [e.to_dict() for e in answer.excluded],
    }


def _usage() -> dict[str, int]:
    # we do not count tokens of our own text; zeros keep strict clients happy
    return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def completion(answer: Answer, model: str, cid: str | None = None, text: str | None = None) -> dict[str, Any]:
    """A whole ``chat.completion`` response."""
    return {
        "id": cid or completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text if text is not None else content(answer)},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(),
        "paperchat": extension(answer),
    }


def chunk(cid: str, model: str, *, content_delta: str | None = None, role: bool = False,
          finish: str | None = None, answer: Answer | None = None) -> dict[str, Any]:
    """One ``chat.completion.chunk``; the last one (``finish``) carries the ``paperchat`` field."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content_delta is not None:
        delta["content"] = content_delta
    out: dict[str, Any] = {
        "id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    if answer is not None:
        out["paperchat"] = extension(answer)
    return out


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def message_text(message: Mapping[str, Any]) -> str:
    """The text of one chat message: a string, or the text parts of a list of content parts.
    ConfigError (a 400) for a text part whose ``text`` is not a string."""
    c = message.get("content")
    if isinstance(c, str):
        return c
    if isinstance(c, Sequence):
        parts = [p for p in c if isinstance(p, Mapping) and p.get("type") == "text"]
        if any(not isinstance(p.get("text", ""), str) for p in parts):
            raise ConfigError("a message's text part must have a string 'text'")
        return "".join(p.get("text", "") for p in parts)
    return ""
