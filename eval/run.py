"""One evaluation run: every system over the gold set, scored, written to a run directory.

``run_eval`` returns the results dict and writes ``results.json`` (metadata, aggregates with
bootstrap CIs, paired comparisons, targets, one row per gold item), ``report.md`` and PNG plots.
Scoring is done by the pure functions of :mod:`eval.metrics`; this module only drives systems
and arranges numbers.

Scope decisions a reader of the numbers needs:

* Retrieval metrics are over answerable items only (unanswerable items have no gold papers and
  are not retrieved).
* Citation precision is over answerable items whose answer cites something; citation recall,
  key-fact hit rate and false refusals are over answerable items; refusal accuracy is over
  unanswerable items; the supported-citation rate is over every answer with a citation.
* List set precision/recall/F1 compare the distinct cited paper ids of a list question with its
  gold set (a refusal scores 0).
* Latency: wall time of each call. Retrieval systems get one untimed warm-up query and the LLM
  is loaded before the first answer, so loading a model is not counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from eval import metrics as M
from eval.gold import KINDS, GoldItem, require_papers
from eval.machine import git_info, machine_info
from eval.systems import (
    AnswerOutcome,
    PaperchatAnswers,
    PaperchatSearch,
    StockLlamaIndex,
    timed_retrieve,
)
from rag.errors import ConfigError, PaperchatError
from rag.storage.fsutil import atomic_write_text

RETRIEVAL_SYSTEMS = ("hybrid", "bm25", "dense", "llamaindex")
ANSWER_SYSTEMS = (*PaperchatAnswers.VARIANTS, "llamaindex")
OUR_RETRIEVAL = "hybrid"
OUR_ANSWERS = "ours"
ANSWER_METRICS = ("citation_precision", "citation_recall", "supported_rate", "key_fact_rate",
                  "list_precision", "list_recall", "list_f1", "refusal_accuracy", "false_refusal_rate")
LOWER_IS_BETTER = frozenset({"false_refusal_rate"})
REPO = Path(__file__).resolve().parent.parent


def retrieval_metric_names(k: int) -> list[str]:
    """recall at 5, 10 and k (those <= k), MRR within k, nDCG at min(10, k)."""
    cutoffs = sorted({c for c in (5, 10, k) if c <= k})
    return [f"recall@{c}" for c in cutoffs] + ["mrr", f"ndcg@{min(10, k)}"]


def headline_retrieval(k: int) -> list[str]:
    return [f"recall@{min(10, k)}", "mrr", f"ndcg@{min(10, k)}"]


def score_retrieval(ranked: Sequence[str], gold: Sequence[str], k: int) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in retrieval_metric_names(k):
        if name == "mrr":
            out[name] = M.mrr(ranked, gold, k)
        elif name.startswith("recall@"):
            out[name] = M.recall_at_k(ranked, gold, int(name.split("@")[1]))
        else:
            out[name] = M.ndcg_at_k(ranked, gold, int(name.split("@")[1]))
    return out


def score_answer(item: GoldItem, a: AnswerOutcome) -> dict[str, float | None]:
    """Per-item answer metrics (None where a metric does not apply to this item)."""
    gold, ok = list(item.gold_ids), list(item.acceptable_ids)
    cited = a.cited_ids
    row: dict[str, float | None] = dict.fromkeys(ANSWER_METRICS)
    row["supported_rate"] = M.rate(c.supported for c in a.citations)
    if item.answerable:
        row["citation_precision"] = M.citation_precision(cited, gold, ok)
        row["citation_recall"] = M.citation_recall(cited, gold)
        row["key_fact_rate"] = M.key_fact_hit_rate(a.text, item.key_facts)
        row["false_refusal_rate"] = float(a.refused)
    else:
        row["refusal_accuracy"] = float(a.refused)
    if item.kind == "list":
        p, r, f1 = M.set_prf(cited, gold, ok)
        row["list_precision"], row["list_recall"], row["list_f1"] = p, r, f1
    return row


def by_wording(items: Sequence[GoldItem], scored: dict[str, dict]) -> dict[str, Any] | None:
    """List F1 of a need's first wording against its paraphrases (sets with need groups only):
    the gap says how much the answer depends on using the abstracts' own words."""
    first, para = [], []
    for it in items:
        f1 = scored.get(it.id, {}).get("metrics", {}).get("list_f1")
        if not it.group or it.kind != "list" or f1 is None:
            continue
        (first if it.id.endswith("-a") else para).append(f1)
    if not first:
        return None
    return {"first_wording_list_f1": M.mean(first), "paraphrase_list_f1": M.mean(para),
            "n_first": len(first), "n_paraphrases": len(para)}


def _ci(values: Iterable[float | None], n_boot: int, seed: int) -> dict[str, Any]:
    vals = [v for v in values if v is not None]
    mean, lo, hi = M.bootstrap_ci(vals, n=n_boot, seed=seed)
    return {"mean": mean, "lo": lo, "hi": hi, "n": len(vals)}


def _aggregate(rows: list[dict], metric_names: Sequence[str], n_boot: int, seed: int) -> dict[str, Any]:
    """{"overall": {metric: ci}, "by_kind": {kind: {metric: ci}}} from per-item metric dicts."""
    out: dict[str, Any] = {"overall": {m: _ci((r["metrics"][m] for r in rows), n_boot, seed) for m in metric_names},
                           "by_kind": {}}
    for kind in KINDS:
        sub = [r for r in rows if r["kind"] == kind]
        if sub:
            out["by_kind"][kind] = {m: _ci((r["metrics"][m] for r in sub), n_boot, seed) for m in metric_names}
    return out


def _latency(values: Sequence[float]) -> dict[str, float | None]:
    return {"p50_s": M.percentile(values, 50), "p95_s": M.percentile(values, 95),
            "mean_s": M.mean(values), "n": len(values)}


def paired_difference(ours: dict[str, dict], base: dict[str, dict], metric: str, n_boot: int, seed: int,
                      kinds: Sequence[str] | None = None) -> dict[str, Any]:
    """Bootstrap CI of the per-item difference ours - baseline on the items both scored.

    ``ours``/``base`` map item id -> {"kind", "metrics"}. For lower-is-better metrics the sign is
    flipped, so a positive difference always means ours is better.
    """
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    diffs = []
    for iid, row in ours.items():
        other = base.get(iid)
        if other is None or (kinds is not None and row["kind"] not in kinds):
            continue
        a, b = row["metrics"].get(metric), other["metrics"].get(metric)
        if a is not None and b is not None:
            diffs.append(sign * (a - b))
    mean, lo, hi = M.bootstrap_ci(diffs, n=n_boot, seed=seed)
    if mean is None:
        verdict = "n/a"
    elif lo is not None and lo > 0:
        verdict = "yes"
    elif hi is not None and hi < 0:
        verdict = "no (worse)"
    elif mean > 0:
        verdict = "ahead, not significant"
    elif mean == 0:
        verdict = "tie"
    else:
        verdict = "behind, not significant"
    return {"metric": metric, "diff": mean, "lo": lo, "hi": hi, "n": len(diffs), "verdict": verdict,
            "better": "higher" if sign > 0 else "lower"}


# --- metadata --------------------------------------------------------------------------------------


def settings_summary(app: Any) -> dict[str, Any]:
    s = app.settings
    out = {name: getattr(s, name, None) for name in
           ("embed_model", "fusion", "dense_weight", "rrf_k", "candidate_k", "top_k", "chunk_size",
            "chunk_overlap", "collection", "llm_backend", "local_model", "llm_ctx", "max_answer_tokens")}
    out["embedder"] = getattr(app.embedder, "name", None)
    try:
        out["resolved_backend"] = s.resolved_backend()
    except AttributeError:
        pass
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}


def gold_fingerprint(items: Sequence[GoldItem]) -> str:
    payload = json.dumps([it.to_dict() for it in items], sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


# --- the run ---------------------------------------------------------------------------------------


def _bar(iterable, *, desc: str, total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit="q", file=sys.stderr, disable=not enabled, leave=False)


def run_eval(app: Any, gold_items: Sequence[GoldItem], systems: Sequence[str] = RETRIEVAL_SYSTEMS, k: int = 10,
             answers: bool = False, out_dir: Path | str | None = None, progress: bool = True, *,
             answer_systems: Sequence[str] | None = None, n_boot: int = 1000, seed: int = 0,
             gold_source: str | None = None, cache_dir: Path | None = None,
             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate ``systems`` (retrieval) and, with ``answers``, ``answer_systems`` on ``gold_items``.

    ``app`` is a :class:`rag.paperchat.Paperchat` (or anything with its ``settings``, ``embedder``,
    ``retriever()``, ``search()``, ``ask()`` and ``llm``). ``answer_systems`` defaults to
    ``ours`` plus ``llamaindex`` when that is among ``systems`` and an LLM is configured.
    ``cache_dir`` holds the stock index's embeddings (default ``settings.cache_dir/eval``).
    Raises :class:`~rag.errors.PaperchatError` subclasses for bad arguments or gold papers missing
    from the index. Writes results.json, report.md and plots to ``out_dir`` when given.
    """
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    unknown = [s for s in systems if s not in RETRIEVAL_SYSTEMS]
    if unknown:
        raise ConfigError(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(RETRIEVAL_SYSTEMS)}")
    if not gold_items:
        raise ConfigError("the gold set is empty")
    say = log or (lambda msg: print(msg, file=sys.stderr))
    notes: list[str] = []
    started = dt.datetime.now(dt.UTC)

    retriever = app.retriever()
    require_papers(gold_items, set(retriever.papers), gold_source or "gold set")

    llm_backend = None
    if answers:
        if answer_systems is None:
            answer_systems = [OUR_ANSWERS]
            if "llamaindex" in systems:
                llm_backend = app.llm
                if llm_backend is None:
                    notes.append("llamaindex answers skipped: no LLM configured (llm_backend=none)")
                else:
                    answer_systems.append("llamaindex")
        bad = [s for s in answer_systems if s not in ANSWER_SYSTEMS]
        if bad:
            raise ConfigError(f"unknown answer system(s) {', '.join(bad)}; choose from {', '.join(ANSWER_SYSTEMS)}")
        if "llamaindex" in answer_systems and llm_backend is None:
            llm_backend = app.llm
            if llm_backend is None:
                raise ConfigError("the llamaindex answer baseline needs an LLM; set llm_backend (not none)")
    answer_systems = list(answer_systems or []) if answers else []

    stock: StockLlamaIndex | None = None
    if "llamaindex" in systems or "llamaindex" in answer_systems:
        cache = Path(cache_dir) if cache_dir is not None else Path(app.settings.cache_dir) / "eval"
        say(f"building the stock LlamaIndex index (embeddings cached in {cache}) ...")
        stock = StockLlamaIndex.build(app, cache, llm_backend=llm_backend, progress=progress)
        notes.append(f"stock LlamaIndex embeddings {'loaded from' if stock.cache_hit else 'written to'} "
                     f"{stock.cache_file}")

    answerable = [it for it in gold_items if it.answerable]
    rows: dict[str, dict[str, Any]] = {
        it.id: {**it.to_dict(), "retrieval": {}, "answers": {}} for it in gold_items}

    # --- retrieval ---------------------------------------------------------------------------
    retrieval: dict[str, Any] = {}
    per_system: dict[str, dict[str, dict]] = {}
    metric_names = retrieval_metric_names(k)
    for name in systems:
        system = stock if name == "llamaindex" else PaperchatSearch(app, name)
        assert system is not None
        system.retrieve(gold_items[0].question, k)  # warm-up, untimed
        scored: dict[str, dict] = {}
        latencies = []
        for it in _bar(answerable, desc=f"retrieval {name}", total=len(answerable), enabled=progress):
            got = timed_retrieve(system, it.question, k)
            m = score_retrieval(got.ids, it.gold_ids, k)
            latencies.append(got.latency_s)
            scored[it.id] = {"kind": it.kind, "metrics": m}
            rows[it.id]["retrieval"][name] = {
                "ids": got.ids, "latency_s": round(got.latency_s, 5),
                "first_gold_rank": M.first_relevant_rank(got.ids, it.gold_ids, k), **m}
        per_system[name] = scored
        retrieval[name] = {**_aggregate(list(scored.values()), metric_names, n_boot, seed),
                           "latency": _latency(latencies)}
        say(f"retrieval {name}: " + ", ".join(
            f"{m} {retrieval[name]['overall'][m]['mean']:.3f}" for m in headline_retrieval(k)
            if retrieval[name]["overall"][m]["mean"] is not None))

    comparisons: dict[str, list[dict]] = {"retrieval": [], "answers": []}
    if OUR_RETRIEVAL in per_system:
        for base in systems:
            if base == OUR_RETRIEVAL:
                continue
            for metric in headline_retrieval(k):
                for scope, kinds in [("overall", None), *((kd, [kd]) for kd in KINDS if kd != "unanswerable")]:
                    d = paired_difference(per_system[OUR_RETRIEVAL], per_system[base], metric, n_boot, seed, kinds)
                    if d["n"]:
                        comparisons["retrieval"].append({"ours": OUR_RETRIEVAL, "baseline": base, "scope": scope, **d})

    # --- answers -----------------------------------------------------------------------------
    answer_results: dict[str, Any] = {}
    answer_scored: dict[str, dict[str, dict]] = {}
    if answer_systems:
        backend = app.llm
        if backend is not None and callable(getattr(backend, "load", None)):
            say(f"loading the LLM ({backend.name}) ...")
            backend.load()  # a local model loads here, not inside the first timed answer
    for name in answer_systems:
        system = stock if name == "llamaindex" else PaperchatAnswers(app, name)
        assert system is not None
        scored = {}
        latencies = []
        errors: list[str] = []
        for it in _bar(gold_items, desc=f"answers {name}", total=len(gold_items), enabled=progress):
            try:
                a = system.answer(it.question)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - one failed item is recorded and reported, not fatal
                errors.append(f"{it.id}: {type(e).__name__}: {e}")
                rows[it.id]["answers"][name] = {"error": f"{type(e).__name__}: {e}"}
                continue
            m = score_answer(it, a)
            latencies.append(a.latency_s)
            scored[it.id] = {"kind": it.kind, "metrics": m}
            rows[it.id]["answers"][name] = {**a.to_dict(), "cited_ids": a.cited_ids, **m}
        answer_scored[name] = scored
        answer_results[name] = {**_aggregate(list(scored.values()), ANSWER_METRICS, n_boot, seed),
                                "latency": _latency(latencies), "errors": errors,
                                "items": len(scored), "by_wording": by_wording(gold_items, scored)}
        if errors:
            notes.append(f"{name}: {len(errors)} question(s) failed and are not scored (see answers.{name}.errors)")
        ov = answer_results[name]["overall"]
        say(f"answers {name}: " + ", ".join(
            f"{m} {ov[m]['mean']:.3f}" for m in ("citation_precision", "refusal_accuracy", "false_refusal_rate")
            if ov[m]["mean"] is not None))
    if OUR_ANSWERS in answer_scored:
        for base in answer_scored:
            if base == OUR_ANSWERS:
                continue
            for metric in ANSWER_METRICS:
                d = paired_difference(answer_scored[OUR_ANSWERS], answer_scored[base], metric, n_boot, seed)
                if d["n"]:
                    comparisons["answers"].append({"ours": OUR_ANSWERS, "baseline": base, "scope": "overall", **d})

    from eval.report import evaluate_targets

    results: dict[str, Any] = {
        "meta": {
            "date": started.isoformat(timespec="seconds"),
            "seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
            "git": git_info(), "machine": machine_info(), "settings": settings_summary(app),
            "papers_indexed": len(retriever.papers),
            "gold": {"source": gold_source, "sha1": gold_fingerprint(gold_items), "items": len(gold_items),
                     "by_kind": {kd: sum(1 for it in gold_items if it.kind == kd) for kd in KINDS}},
            "k": k, "n_boot": n_boot, "seed": seed, "systems": list(systems), "answer_systems": answer_systems,
            "retrieval_metrics": metric_names, "headline_retrieval": headline_retrieval(k),
            "answer_backend": getattr(app.llm, "name", None) if answers else None,
            "notes": notes,
        },
        "retrieval": retrieval,
        "answers": answer_results,
        "comparisons": comparisons,
        "items": list(rows.values()),
    }
    results["targets"] = evaluate_targets(results)
    if out_dir is not None:
        write_run(results, Path(out_dir), log=say)
    return results


def write_run(results: dict[str, Any], out_dir: Path, log: Callable[[str], None] | None = None) -> list[Path]:
    """results.json (atomically), report.md and the plots; returns the paths written."""
    from eval.report import render_report, write_plots

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        plots = write_plots(results, out_dir)
    except ImportError as e:
        plots = []
        results["meta"]["notes"].append(f"plots skipped: {e} (pip install matplotlib)")
    results["meta"]["plots"] = [p.name for p in plots]
    written.append(_write_atomic(out_dir / "results.json", json.dumps(results, indent=2, default=str) + "\n"))
    written.append(_write_atomic(out_dir / "report.md", render_report(results)))
    written += plots
    if log:
        log(f"wrote {out_dir / 'results.json'}, {out_dir / 'report.md'} and {len(plots)} plot(s)")
    return written


def _write_atomic(path: Path, text: str) -> Path:
    atomic_write_text(path, text)
    return path


def load_results(path: Path | str) -> dict[str, Any]:
    """results.json of a run, given the run directory or the file itself."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    try:
        return json.loads(p.read_text("utf-8"))
    except FileNotFoundError:
        raise PaperchatError(f"{p}: no such results file (is {path} a run directory?)") from None
    except (OSError, json.JSONDecodeError) as e:
        raise PaperchatError(f"{p}: cannot read results ({e})") from None
