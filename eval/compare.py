"""Compare two evaluation runs: per system, every metric of A and B and the difference B - A.

Differences in what was run (commit, gold set, settings, k) are listed first, because a change in
a number means little when the gold set changed under it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.gold import KINDS
from eval.report import ANSWER_LABELS, fmt
from eval.run import load_results


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    d = b - a
    return "0" if abs(d) < 5e-4 else f"{d:+.3f}"


def _setup_differences(ma: dict, mb: dict) -> list[str]:
    out = []
    for label, get in [
        ("commit", lambda m: (m.get("git") or {}).get("commit")),
        ("gold set", lambda m: (m.get("gold") or {}).get("sha1")),
        ("k", lambda m: m.get("k")),
        ("papers indexed", lambda m: m.get("papers_indexed")),
        ("answer LLM", lambda m: m.get("answer_backend")),
    ]:
        va, vb = get(ma), get(mb)
        if va != vb:
            out.append(f"- {label}: {va} -> {vb}")
    sa, sb = ma.get("settings") or {}, mb.get("settings") or {}
    for key in sorted(set(sa) | set(sb)):
        if sa.get(key) != sb.get(key):
            out.append(f"- setting {key}: {sa.get(key)} -> {sb.get(key)}")
    return out


def _section_rows(block_a: dict | None, block_b: dict | None, metrics: list[str]) -> list[tuple[str, ...]]:
    rows = []
    for scope in ["overall", *KINDS]:
        for m in metrics:
            def get(block, scope=scope, m=m):
                if not block:
                    return None
                table = block["overall"] if scope == "overall" else block["by_kind"].get(scope, {})
                ci = table.get(m)
                return ci.get("mean") if ci else None

            a, b = get(block_a), get(block_b)
            if a is None and b is None:
                continue
            rows.append((scope, m, fmt(a), fmt(b), _delta(a, b)))
    return rows


def _latency_rows(block_a: dict | None, block_b: dict | None, unit: float, label: str) -> list[tuple[str, ...]]:
    rows = []
    for key in ("p50_s", "p95_s"):
        a = (block_a or {}).get("latency", {}).get(key)
        b = (block_b or {}).get("latency", {}).get(key)
        if a is None and b is None:
            continue
        fa = None if a is None else a * unit
        fb = None if b is None else b * unit
        rows.append(("latency", f"{key[:3]} {label}", fmt(fa, 1), fmt(fb, 1), _delta(fa, fb)))
    return rows


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| scope | metric | A | B | B - A |", "|---|---|---|---|---|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def compare_results(a: dict[str, Any], b: dict[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    """Markdown comparison of two results dicts (see :func:`compare_runs`)."""
    ma, mb = a["meta"], b["meta"]
    lines = [f"# Comparison: A = {name_a} ({ma.get('date')}), B = {name_b} ({mb.get('date')})", ""]
    diffs = _setup_differences(ma, mb)
    lines += (["What differs between the runs:", "", *diffs] if diffs else ["Same commit, gold set, k and settings."])
    lines.append("")
    ta = {t["name"]: t for t in a.get("targets", [])}
    tb = {t["name"]: t for t in b.get("targets", [])}
    if ta or tb:
        lines += ["## Targets", "", "| target | A | B |", "|---|---|---|"]
        for name in dict.fromkeys([*ta, *tb]):
            cell = lambda t: "–" if t is None else f"{fmt(t['value'])} {t['status']}"  # noqa: E731
            lines.append(f"| {name} | {cell(ta.get(name))} | {cell(tb.get(name))} |")
        lines.append("")
    metrics_r = list(dict.fromkeys([*ma.get("retrieval_metrics", []), *mb.get("retrieval_metrics", [])]))
    for system in dict.fromkeys([*a.get("retrieval", {}), *b.get("retrieval", {})]):
        ra, rb = a.get("retrieval", {}).get(system), b.get("retrieval", {}).get(system)
        lines += [f"## Retrieval: {system}" + ("" if ra and rb else f" (only in {'A' if ra else 'B'})"), ""]
        lines += _table(_section_rows(ra, rb, metrics_r) + _latency_rows(ra, rb, 1000, "ms")) + [""]
    for system in dict.fromkeys([*a.get("answers", {}), *b.get("answers", {})]):
        xa, xb = a.get("answers", {}).get(system), b.get("answers", {}).get(system)
        lines += [f"## Answers: {system}" + ("" if xa and xb else f" (only in {'A' if xa else 'B'})"), ""]
        lines += _table(_section_rows(xa, xb, list(ANSWER_LABELS)) + _latency_rows(xa, xb, 1, "s")) + [""]
    return "\n".join(lines)


def compare_runs(a: Path | str, b: Path | str) -> str:
    """Markdown table of metric differences (B - A) per system between two run directories (or
    their results.json files). Raises PaperchatError when a run cannot be read."""
    return compare_results(load_results(a), load_results(b), str(a), str(b))
