"""Turn a results dict (see :mod:`eval.run`) into a markdown report, target verdicts and plots.

Pure over the results dict except :func:`write_plots`, which draws with matplotlib's Agg canvas
(no pyplot, no global backend switch) and writes PNGs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.gold import KINDS

ANSWER_LABELS = {
    "citation_precision": "citation precision",
    "citation_recall": "citation recall",
    "supported_rate": "supported citations",
    "key_fact_rate": "key-fact hit rate",
    "list_precision": "list set precision",
    "list_recall": "list set recall",
    "list_f1": "list set F1",
    "refusal_accuracy": "refusal accuracy (unanswerable)",
    "false_refusal_rate": "false refusals (answerable, lower is better)",
}


@dataclass(frozen=True)
class Target:
    name: str
    section: str  # "retrieval" | "answers"
    system: str
    metric: str
    scope: str  # "overall" or a kind
    op: str  # ">=" | "<="
    threshold: float


TARGETS: tuple[Target, ...] = (
    Target("hybrid recall@10 on lookup", "retrieval", "hybrid", "recall@10", "lookup", ">=", 0.95),
    Target("hybrid recall@10 on list", "retrieval", "hybrid", "recall@10", "list", ">=", 0.90),
    Target("citation precision", "answers", "ours", "citation_precision", "overall", ">=", 0.90),
    Target("refusal accuracy", "answers", "ours", "refusal_accuracy", "overall", ">=", 0.85),
    Target("false refusal rate", "answers", "ours", "false_refusal_rate", "overall", "<=", 0.10),
)


def _cell(results: dict, section: str, system: str, metric: str, scope: str) -> dict | None:
    block = results.get(section, {}).get(system)
    if not block:
        return None
    table = block["overall"] if scope == "overall" else block["by_kind"].get(scope, {})
    ci = table.get(metric)
    return ci if ci and ci.get("mean") is not None else None


def evaluate_targets(results: dict[str, Any], targets: Sequence[Target] = TARGETS) -> list[dict[str, Any]]:
    """One row per target: value, CI and PASS / MISS (on the point estimate) or n/a (not measured)."""
    out = []
    for t in targets:
        ci = _cell(results, t.section, t.system, t.metric, t.scope)
        status = "n/a"
        if ci is not None:
            ok = ci["mean"] >= t.threshold if t.op == ">=" else ci["mean"] <= t.threshold
            status = "PASS" if ok else "MISS"
        out.append({"name": t.name, "system": t.system, "metric": t.metric, "scope": t.scope, "op": t.op,
                    "threshold": t.threshold, "status": status,
                    "value": ci["mean"] if ci else None, "lo": ci["lo"] if ci else None,
                    "hi": ci["hi"] if ci else None, "n": ci["n"] if ci else 0})
    return out


# --- formatting ------------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def fmt_ci(ci: dict | None) -> str:
    if not ci or ci.get("mean") is None:
        return "–"
    if ci["lo"] == ci["hi"]:
        return f"{ci['mean']:.3f}"
    return f"{ci['mean']:.3f} [{ci['lo']:.2f}, {ci['hi']:.2f}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _short(title: str, n: int = 70) -> str:
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x * 1000:.1f}"


def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def render_report(results: dict[str, Any]) -> str:
    meta = results["meta"]
    k = meta["k"]
    ret, ans = results.get("retrieval", {}), results.get("answers", {})
    systems, answer_systems = list(ret), list(ans)
    lines: list[str] = ["# paperchat evaluation", ""]
    git = meta.get("git") or {}
    mach = meta.get("machine") or {}
    gold = meta.get("gold") or {}
    st = meta.get("settings") or {}
    lines += [
        f"- date: {meta.get('date')} ({meta.get('seconds')} s)",
        f"- commit: {git.get('commit') or 'unknown'}{' (uncommitted changes)' if git.get('dirty_files') else ''}",
        f"- machine: {mach.get('cpu_model')}, {mach.get('usable_cpus') or mach.get('logical_cpus')} CPUs, "
        f"{mach.get('ram_gib')} GiB, {mach.get('os')}, Python {mach.get('python')}",
        f"- gold: {gold.get('source') or 'given items'} ({gold.get('items')} items: "
        + ", ".join(f"{n} {kd}" for kd, n in (gold.get("by_kind") or {}).items() if n) + f"; sha1 {gold.get('sha1')})",
        f"- index: {meta.get('papers_indexed')} papers; embedder {st.get('embedder')}; fusion {st.get('fusion')} "
        f"(dense weight {st.get('dense_weight')}, rrf_k {st.get('rrf_k')}); candidate_k {st.get('candidate_k')}; "
        f"top_k {st.get('top_k')}; chunks {st.get('chunk_size')}/{st.get('chunk_overlap')} tokens",
        f"- retrieval depth k={k}; bootstrap {meta.get('n_boot')} resamples, 95% CIs in brackets (seed {meta.get('seed')})",
    ]
    if meta.get("answer_backend") is not None or answer_systems:
        lines.append(f"- answer LLM: {meta.get('answer_backend') or 'none'}")
    lines.append("")

    # --- targets -------------------------------------------------------------------------------
    lines += ["## Targets", ""]
    lines += _table(["target", "threshold", "value", "status"], [
        (t["name"], f"{t['op']} {t['threshold']:.2f}",
         fmt_ci({"mean": t["value"], "lo": t["lo"], "hi": t["hi"]}) + (f" (n={t['n']})" if t["n"] else ""),
         f"**{t['status']}**") for t in results.get("targets", [])])
    lines.append("")

    # --- retrieval -----------------------------------------------------------------------------
    if systems:
        names = meta["retrieval_metrics"]
        lines += ["## Retrieval, all answerable questions", ""]
        lines += _table(["metric", *systems], [
            (m, *(fmt_ci(ret[s]["overall"].get(m)) for s in systems)) for m in names])
        n = next(iter(ret.values()))["overall"][names[0]]["n"]
        lines += ["", f"n = {n} questions (unanswerable ones have no gold papers and are excluded).", ""]
        lines += ["## Retrieval by kind", ""]
        for m in meta["headline_retrieval"]:
            lines += [f"### {m}", ""]
            rows = []
            for kd in KINDS:
                cells = [ret[s]["by_kind"].get(kd, {}).get(m) for s in systems]
                if any(c and c.get("n") for c in cells):
                    rows.append((kd, max(c["n"] for c in cells if c), *(fmt_ci(c) for c in cells)))
            lines += _table(["kind", "n", *systems], rows) + [""]
        comps = results.get("comparisons", {}).get("retrieval", [])
        if comps:
            lines += ["## Does hybrid beat each baseline?", "",
                      "Paired bootstrap over the same questions: difference hybrid - baseline with its 95% CI; "
                      "\"yes\" when the whole CI is above 0.", ""]
            rows = [(c["baseline"], c["metric"], c["scope"], f"{c['diff']:+.3f} [{c['lo']:+.2f}, {c['hi']:+.2f}]",
                     c["verdict"]) for c in comps if c["scope"] == "overall"]
            lines += _table(["baseline", "metric", "scope", "hybrid - baseline", "hybrid better?"], rows) + [""]
            per_kind = [c for c in comps if c["scope"] != "overall" and c["metric"] == meta["headline_retrieval"][0]]
            if per_kind:
                lines += [f"Per kind, {meta['headline_retrieval'][0]}:", ""]
                lines += _table(["baseline", "kind", "n", "hybrid - baseline", "hybrid better?"], [
                    (c["baseline"], c["scope"], c["n"], f"{c['diff']:+.3f} [{c['lo']:+.2f}, {c['hi']:+.2f}]",
                     c["verdict"]) for c in per_kind]) + [""]
        lines += ["## Retrieval latency", ""]
        lines += _table(["system", "p50 ms", "p95 ms", "mean ms", "n"], [
            (s, _ms(ret[s]["latency"]["p50_s"]), _ms(ret[s]["latency"]["p95_s"]), _ms(ret[s]["latency"]["mean_s"]),
             ret[s]["latency"]["n"]) for s in systems]) + [""]

    # --- answers -------------------------------------------------------------------------------
    if answer_systems:
        lines += ["## Answers", "",
                  "Citation precision: answerable questions with at least one citation; recall, key facts and "
                  "false refusals: answerable questions; refusal accuracy: unanswerable questions; supported "
                  "citations: every answer that cites. The stock pipeline's citations are judged with our "
                  "verifier's support test (rag.answer.cite.support).", ""]
        rows = []
        for m, label in ANSWER_LABELS.items():
            cells = [ans[s]["overall"].get(m) for s in answer_systems]
            rows.append((label, *(fmt_ci(c) + (f" (n={c['n']})" if c and c.get("n") else "") for c in cells)))
        lines += _table(["metric", *answer_systems], rows) + [""]
        lines += ["### Answers by kind", ""]
        for m in ("citation_precision", "citation_recall", "key_fact_rate", "false_refusal_rate", "refusal_accuracy"):
            krows = []
            for kd in KINDS:
                cells = [ans[s]["by_kind"].get(kd, {}).get(m) for s in answer_systems]
                if any(c and c.get("n") for c in cells):
                    krows.append((kd, *(fmt_ci(c) for c in cells)))
            if krows:
                lines += [f"**{ANSWER_LABELS[m]}**", ""] + _table(["kind", *answer_systems], krows) + [""]
        comps = results.get("comparisons", {}).get("answers", [])
        if comps:
            lines += ["### Does ours beat each baseline?", "",
                      "Paired bootstrap; a positive difference always means ours is better "
                      "(false refusals: ours lower).", ""]
            lines += _table(["baseline", "metric", "ours better by", "ours better?"], [
                (c["baseline"], ANSWER_LABELS.get(c["metric"], c["metric"]),
                 f"{c['diff']:+.3f} [{c['lo']:+.2f}, {c['hi']:+.2f}]", c["verdict"]) for c in comps]) + [""]
        worded = [s for s in answer_systems if ans[s].get("by_wording")]
        if worded:
            lines += ["### List answers by wording", "",
                      "Mean list F1 on each need's first wording and on its paraphrases (the words a "
                      "researcher would use rather than the abstracts').", ""]
            lines += _table(["system", "first wording", "paraphrases", "gap"], [
                (s, _s(ans[s]["by_wording"]["first_wording_list_f1"]), _s(ans[s]["by_wording"]["paraphrase_list_f1"]),
                 _s((ans[s]["by_wording"]["first_wording_list_f1"] or 0) - (ans[s]["by_wording"]["paraphrase_list_f1"] or 0)))
                for s in worded]) + [""]
        lines += ["### Answer latency", ""]
        lines += _table(["system", "p50 s", "p95 s", "mean s", "answered", "failed"], [
            (s, _s(ans[s]["latency"]["p50_s"]), _s(ans[s]["latency"]["p95_s"]), _s(ans[s]["latency"]["mean_s"]),
             ans[s]["items"], len(ans[s]["errors"])) for s in answer_systems]) + [""]

    # --- misses --------------------------------------------------------------------------------
    if "hybrid" in ret:
        head = meta["headline_retrieval"][0]
        misses = []
        for row in results.get("items", []):
            r = row["retrieval"].get("hybrid")
            if r and r.get(head) is not None and r[head] < 1:
                got = set(r["ids"])
                lost = [t for t, pid in zip(row["gold_titles"], row["gold_ids"], strict=True) if pid not in got]
                misses.append((row["id"], row["kind"], fmt(r[head], 2), "; ".join(_short(t) for t in lost)))
        if misses:
            lines += [f"## Hybrid misses ({head} < 1)", ""]
            lines += _table(["item", "kind", head, f"gold papers not in the top {k}"], misses) + [""]

    if meta.get("plots"):
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in meta["plots"]] + [""]
    if meta.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in meta["notes"]] + [""]
    return "\n".join(lines)


# --- plots -----------------------------------------------------------------------------------------


def _bars(ax, groups: Sequence[str], series: dict[str, list[dict | None]], title: str, ylabel: str) -> None:
    import numpy as np

    x = np.arange(len(groups))
    width = 0.8 / max(len(series), 1)
    for i, (name, cells) in enumerate(series.items()):
        means = [c["mean"] if c and c.get("mean") is not None else 0.0 for c in cells]
        lo = [m - c["lo"] if c and c.get("lo") is not None else 0.0 for m, c in zip(means, cells, strict=True)]
        hi = [c["hi"] - m if c and c.get("hi") is not None else 0.0 for m, c in zip(means, cells, strict=True)]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, means, width, yerr=[lo, hi], capsize=2, label=name)
    ax.set_xticks(x)
    ax.set_xticklabels(groups, rotation=20, ha="right")
    ax.set_ylim(0, 1.2)  # headroom for the legend above the bars
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper center", ncol=max(len(series), 1), frameon=False)


def write_plots(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """retrieval_by_kind.png, answers.png (when answers were run) and latency.png; returns paths.
    Raises ImportError when matplotlib is not installed (``pip install -e .[eval]``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out: list[Path] = []
    ret, ans = results.get("retrieval", {}), results.get("answers", {})
    meta = results["meta"]

    def save(fig: Figure, name: str) -> None:
        FigureCanvasAgg(fig)
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        out.append(path)

    if ret:
        metrics = meta["headline_retrieval"]
        kinds = [kd for kd in KINDS if any(kd in ret[s]["by_kind"] for s in ret)]
        groups = ["overall", *kinds]
        fig = Figure(figsize=(4.2 * len(metrics), 4))
        for j, m in enumerate(metrics):
            ax = fig.add_subplot(1, len(metrics), j + 1)
            series = {s: [ret[s]["overall"].get(m)] + [ret[s]["by_kind"].get(kd, {}).get(m) for kd in kinds]
                      for s in ret}
            _bars(ax, groups, series, m, m)
        save(fig, "retrieval_by_kind.png")

    if ans:
        metrics = [m for m in ANSWER_LABELS if any(ans[s]["overall"].get(m, {}).get("mean") is not None for s in ans)]
        fig = Figure(figsize=(max(6.0, 1.1 * len(metrics) + 2), 4.2))
        ax = fig.add_subplot(1, 1, 1)
        series = {s: [ans[s]["overall"].get(m) for m in metrics] for s in ans}
        _bars(ax, [m.replace("_", " ") for m in metrics], series, "answer metrics (overall)", "rate")
        save(fig, "answers.png")

    items = results.get("items", [])
    panels = []
    if ret:
        panels.append(("retrieval latency", "ms", {s: [row["retrieval"][s]["latency_s"] * 1000 for row in items
                                                       if s in row["retrieval"]] for s in ret}))
    if ans:
        panels.append(("answer latency", "s", {s: [row["answers"][s]["latency_s"] for row in items
                                                   if "latency_s" in row["answers"].get(s, {})] for s in ans}))
    if panels:
        fig = Figure(figsize=(5 * len(panels), 4))
        for j, (title, unit, data) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), j + 1)
            data = {s: v for s, v in data.items() if v}
            if data:
                ax.boxplot(list(data.values()), showfliers=True)
                ax.set_xticks(range(1, len(data) + 1))
                ax.set_xticklabels(list(data))
                if unit == "ms" and max(max(v) for v in data.values()) > 20 * min(min(v) for v in data.values()):
                    ax.set_yscale("log")
            ax.set_title(title)
            ax.set_ylabel(unit)
            ax.grid(axis="y", alpha=0.3)
        save(fig, "latency.png")
    return out
