"""Pool several scored runs (each an ``eval`` output directory) into one side-by-side table of the
list route's numbers: list F1 overall and by wording (``-a``: the first wording; the rest: its
paraphrases), list citation precision, refusal accuracy, false refusals, the fit's objective (mean
F1 over list and unanswerable questions, an unanswerable one scoring 1 when refused); for lookups
(and numeric / compare questions) the share of key facts in the answer, citation precision and
false refusals; and answer latency p50.

    python -m eval.summarise eval/results/reader-2026-12-05/{holdout,holdout2,...} [--systems a,b]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _scored(item: dict, answer: dict) -> dict:
    """An answer as scored: one that failed with an error answered nothing (no key fact, no gold
    paper: a false refusal) and refused nothing either (an unanswerable question is not counted as
    correctly refused)."""
    if not answer.get("error"):
        return answer
    return {"list_f1": 0.0, "citation_precision": None, "key_fact_rate": 0.0, "latency_s": None,
            "refused": item["kind"] != "unanswerable", "error": answer["error"]}


def summarise(items: list[tuple[dict, dict]]) -> dict[str, float | int | None]:
    """(gold item, one system's answer) pairs -> the pooled numbers; an answer that failed with an
    error counts as a failure in each of them, and in ``errors``."""
    items = [(it, _scored(it, a)) for it, a in items]
    lists = [(it, a) for it, a in items if it["kind"] == "list"]
    unans = [a for it, a in items if it["kind"] == "unanswerable"]
    lookups = [a for it, a in items if it["kind"] in ("lookup", "numeric", "compare")]
    lat = sorted(a["latency_s"] for _, a in items if a["latency_s"] is not None)
    return {
        "list_f1": _mean([a["list_f1"] for _, a in lists]),
        "f1_first_wording": _mean([a["list_f1"] for it, a in lists if it["id"].endswith("-a")]),
        "f1_paraphrases": _mean([a["list_f1"] for it, a in lists if not it["id"].endswith("-a")]),
        "citation_precision": _mean([a["citation_precision"] for _, a in lists if a["citation_precision"] is not None]),
        "refusal_accuracy": _mean([1.0 if a["refused"] else 0.0 for a in unans]),
        "false_refusals": _mean([1.0 if a["refused"] else 0.0 for _, a in lists]),
        "objective": _mean([a["list_f1"] for _, a in lists] + [1.0 if a["refused"] else 0.0 for a in unans]),
        "lookup_key_facts": _mean([a["key_fact_rate"] for a in lookups if a["key_fact_rate"] is not None]),
        "lookup_citation_precision": _mean([a["citation_precision"] for a in lookups
                                            if a["citation_precision"] is not None]),
        "lookup_false_refusals": _mean([1.0 if a["refused"] else 0.0 for a in lookups]),
        "latency_p50_s": lat[len(lat) // 2] if lat else None,
        "list_questions": len(lists), "unanswerable": len(unans), "lookups": len(lookups),
        "errors": sum(bool(a.get("error")) for _, a in items),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--systems", default=None, help="comma-separated answer systems (default: all in the first run)")
    a = ap.parse_args(argv)
    runs = [json.loads((d / "results.json").read_text("utf-8")) for d in a.runs]
    systems = a.systems.split(",") if a.systems else list(runs[0]["items"][0]["answers"])
    table = {s: summarise([(it, it["answers"][s]) for r in runs for it in r["items"] if s in it["answers"]])
             for s in systems}
    names = list(next(iter(table.values())))
    print("| system | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for s, row in table.items():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()]
        print(f"| {s} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
