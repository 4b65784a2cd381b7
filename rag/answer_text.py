"""The canonical plain-text rendering of an answer's lines: what ``paperchat ask`` prints, what
``--json`` carries as ``answer``, what a copied answer holds and what the HTTP API sends as the
message content. Faces that can do better (the web UI) render the lines themselves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.types import Line


def markers(paper_ids: Sequence[str], numbers: Mapping[str, int]) -> str:
    """``[1][3]`` for the papers that have a number, in number order."""
    ns = sorted({numbers[p] for p in paper_ids if p in numbers})
    return "".join(f"[{n}]" for n in ns)


def line_text(line: Line, numbers: Mapping[str, int]) -> str:
    """One line as text (a summary sentence without its paragraph)."""
    if line.kind in ("quote", "item"):
        mark = markers(line.cites or ([line.paper_id] if line.paper_id else []), numbers)
        return f"- {line.label}: \u201c{line.text}\u201d" + (f" {mark}" if mark else "")
    if line.kind == "nearest":
        return f"- {line.label or line.text}"
    if line.kind == "summary":
        mark = markers(line.cites, numbers)
        body = line.text.rstrip()
        end = body[-1] if body and body[-1] in ".!?" else ""
        body = body[:-1] if end else body
        return f"{body} {mark}{end or '.'}" if mark else f"{body}{end or '.'}"
    return line.text


def answer_text(lines: Sequence[Line], numbers: Mapping[str, int]) -> str:
    """All lines, one per text line (a summary of two sentences is two lines, each with its
    markers, so every claim stands next to its citation)."""
    return "\n".join(line_text(line, numbers) for line in lines)
