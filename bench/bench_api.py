"""HTTP API load benchmark: N concurrent OpenAI-SDK clients against one ``paperchat serve``.

Builds a real index of the bundled seeds in a temporary PAPERCHAT_HOME, starts ``paperchat serve``
on 127.0.0.1 in a child process (bundled Qwen2.5-Coder-0.5B by default, 2 threads), waits for its
warm-up, then:

1. one client alone asks each question once (streaming): first content chunk and full answer;
2. ``--clients`` clients at once (default 20), each holding a three-turn conversation (a question,
   a follow-up about the first paper of its answer, a new question), streaming; every client stops
   by itself after its three turns.

Recorded per request: ``first_chunk_s`` (the first content chunk: the first quoted evidence line
with its ``[n]``), ``total_s`` (``[DONE]``), errors, whether the model's summary made it into the
answer or was skipped (busy model, with a note), and cross-talk (an answer whose citations do not
belong to its own question's retrieved sources). Machine, commit and load averages are recorded.

    python bench/bench_api.py                       # 20 clients x 3 turns, writes bench/results/api-<date>.*
    python bench/bench_api.py --clients 4 --no-write  # quick check

Targets: 20 clients: 0 errors, first chunk p95 <= 3 s, full answer p95 <= 30 s; one client alone:
first chunk <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.machine import LoadSampler, git_info, loadavg, machine_info

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUESTIONS = [
    "How does one prevent attention entropy collapse?",
    "What is Deep Gradient Compression?",
    "Which papers skip warmup?",
    "What gradient compression ratio does Deep Gradient Compression achieve?",
    "How much faster is FlashAttention-2 than FlashAttention?",
    "Which paper recovers private inputs from aggregated gradients in federated learning?",
]
FOLLOW_UP = "Tell me more about the first one"
TARGETS = {"concurrent first_chunk_s p95": 3.0, "concurrent total_s p95": 30.0, "alone first_chunk_s p50": 0.5}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]


def _summary(xs: list[float]) -> dict[str, Any]:
    return {"n": len(xs), "p50": _pct(xs, 50), "p95": _pct(xs, 95), "max": max(xs) if xs else None,
            "mean": statistics.fmean(xs) if xs else None}


def ask(client, messages: list[dict]) -> dict[str, Any]:
    """One streamed request; what a user would see and when."""
    t0 = time.perf_counter()
    first = None
    text = ""
    extra = None
    try:
        for chunk in client.chat.completions.create(model="paperchat", messages=messages, stream=True):
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta and first is None:
                first = time.perf_counter() - t0
            text += delta or ""
            if getattr(chunk, "model_extra", None) and "paperchat" in chunk.model_extra:
                extra = chunk.model_extra["paperchat"]
    except Exception as e:  # noqa: BLE001 - an error is a result here
        return {"error": f"{type(e).__name__}: {e}"[:300], "total_s": time.perf_counter() - t0}
    total = time.perf_counter() - t0
    notes = (extra or {}).get("notes", [])
    return {
        "first_chunk_s": first, "total_s": total, "text": text, "error": None if extra else "no paperchat field",
        "citations": [c["paper_id"] for c in (extra or {}).get("citations", [])],
        "sources": [s["paper_id"] for s in (extra or {}).get("sources", [])],
        "pinned": (extra or {}).get("pinned", []),
        "summary": any(ln["kind"] == "summary" for ln in (extra or {}).get("lines", [])),
        "summary_skipped_busy": any("busy" in n for n in notes),
        "refused": (extra or {}).get("refused"),
    }


def conversation(client, i: int) -> list[dict[str, Any]]:
    q1, q3 = QUESTIONS[i % len(QUESTIONS)], QUESTIONS[(i + 3) % len(QUESTIONS)]
    out = []
    messages = [{"role": "user", "content": q1}]
    r = ask(client, messages)
    out.append({"turn": 1, "question": q1, **r})
    if r.get("text"):
        messages += [{"role": "assistant", "content": r["text"]}, {"role": "user", "content": FOLLOW_UP}]
        r2 = ask(client, messages)
        out.append({"turn": 2, "question": FOLLOW_UP, **r2})
        messages += [{"role": "assistant", "content": r2.get("text", "")}, {"role": "user", "content": q3}]
    else:
        messages = [{"role": "user", "content": q3}]
    out.append({"turn": 3, "question": q3, **ask(client, messages)})
    return out


def cross_talk(r: dict[str, Any]) -> bool:
    """An answer citing a paper its own request did not retrieve (or pin) came from another request."""
    allowed = set(r.get("sources", [])) | set(r.get("pinned", []))
    return bool(r.get("citations")) and not set(r["citations"]) <= allowed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--backend", default="local", help="PAPERCHAT_LLM_BACKEND for the server (default: local)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    import openai

    home = Path(tempfile.mkdtemp(prefix="paperchat-bench-api-"))
    key = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERCHAT_", "OPENAI_", "CHROMA_"))}
    env.update(PAPERCHAT_HOME=str(home), PAPERCHAT_LLM_BACKEND=args.backend, PAPERCHAT_API_KEYS=key,
               PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False")
    exe = [sys.executable, "-m", "cli"]
    print("ingesting the seeds ...", flush=True)
    subprocess.run([*exe, "ingest"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=900)
    port = _free_port()
    log = home / "server.log"
    proc = subprocess.Popen([*exe, "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    results: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 600
        while "index and model ready" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not get ready:\n" + log.read_text()[-3000:])
            time.sleep(0.5)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=600)
        print("one client alone ...", flush=True)
        ask(client, [{"role": "user", "content": QUESTIONS[0]}])  # warm the request path once
        alone = [{"question": q, **ask(client, [{"role": "user", "content": q}])} for q in QUESTIONS]
        print(f"{args.clients} clients x 3 turns ...", flush=True)
        runs: list[list[dict]] = [[] for _ in range(args.clients)]
        start = threading.Barrier(args.clients)

        def run(i: int) -> None:
            c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=600)
            start.wait()
            runs[i] = conversation(c, i)

        with LoadSampler() as load:
            t0 = time.perf_counter()
            threads = [threading.Thread(target=run, args=(i,)) for i in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        flat = [r for conv in runs for r in conv]
        ok = [r for r in flat if not r.get("error")]
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(), "git": git_info(),
            "backend": args.backend, "clients": args.clients, "load": load.summary(), "loadavg_after": loadavg(),
            "alone": {"first_chunk_s": _summary([r["first_chunk_s"] for r in alone if r.get("first_chunk_s")]),
                      "total_s": _summary([r["total_s"] for r in alone if not r.get("error")]),
                      "requests": alone},
            "concurrent": {
                "wall_s": wall, "requests": len(flat), "errors": len(flat) - len(ok),
                "first_chunk_s": _summary([r["first_chunk_s"] for r in ok if r.get("first_chunk_s") is not None]),
                "total_s": _summary([r["total_s"] for r in ok]),
                "follow_up_total_s": _summary([r["total_s"] for r in ok if r["turn"] == 2]),
                "with_summary": sum(r["summary"] for r in ok),
                "summary_skipped_busy": sum(r["summary_skipped_busy"] for r in ok),
                "cross_talk": sum(cross_talk(r) for r in ok),
                "follow_ups_pinned": sum(1 for r in ok if r["turn"] == 2 and r["pinned"]),
                "runs": runs,
            },
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(home, ignore_errors=True)
    c, a = results["concurrent"], results["alone"]
    checks = {
        "concurrent errors == 0": c["errors"] == 0,
        "concurrent first_chunk_s p95 <= 3": (c["first_chunk_s"]["p95"] or 1e9) <= 3.0,
        "concurrent total_s p95 <= 30": (c["total_s"]["p95"] or 1e9) <= 30.0,
        "alone first_chunk_s p50 <= 0.5": (a["first_chunk_s"]["p50"] or 1e9) <= 0.5,
    }
    results["targets"] = {k: "PASS" if v else "MISS" for k, v in checks.items()}
    md = render(results)
    print(md)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = Path(args.out) if args.out else RESULTS / f"api-{datetime.now(UTC):%Y-%m-%d}"
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        stem.with_suffix(".md").write_text(md + "\n")
        print(f"wrote {stem}.json and {stem}.md")
    return 0


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def render(r: dict[str, Any]) -> str:
    c, a, m = r["concurrent"], r["alone"], r["machine"]
    lines = [
        f"# API load benchmark ({r['date']})", "",
        f"- machine: {m.get('cpu_model')}, {m.get('usable_cpus')} CPUs, {m.get('ram_gib')} GiB; "
        f"commit {r['git'].get('commit', '')[:12]} ({r['git'].get('dirty_files')} uncommitted files)",
        f"- server: `paperchat serve`, backend {r['backend']}, one process (API + UI); load average during the "
        f"concurrent run {r['load']}",
        f"- {r['clients']} clients, each a 3-turn streamed conversation (question, \"{FOLLOW_UP}\", new question)",
        "", "| measure | p50 | p95 | max |", "|---|---|---|---|",
        f"| one client alone: first chunk (s) | {_f(a['first_chunk_s']['p50'])} | {_f(a['first_chunk_s']['p95'])} | "
        f"{_f(a['first_chunk_s']['max'])} |",
        f"| one client alone: full answer (s) | {_f(a['total_s']['p50'])} | {_f(a['total_s']['p95'])} | "
        f"{_f(a['total_s']['max'])} |",
        f"| {r['clients']} clients: first chunk (s) | {_f(c['first_chunk_s']['p50'])} | {_f(c['first_chunk_s']['p95'])} | "
        f"{_f(c['first_chunk_s']['max'])} |",
        f"| {r['clients']} clients: full answer (s) | {_f(c['total_s']['p50'])} | {_f(c['total_s']['p95'])} | "
        f"{_f(c['total_s']['max'])} |",
        f"| {r['clients']} clients: follow-ups, full answer (s) | {_f(c['follow_up_total_s']['p50'])} | "
        f"{_f(c['follow_up_total_s']['p95'])} | {_f(c['follow_up_total_s']['max'])} |",
        "",
        f"Requests {c['requests']}, errors {c['errors']}, cross-talk {c['cross_talk']}, follow-ups resolved to a "
        f"pinned paper {c['follow_ups_pinned']}/{r['clients']}; answers with the model's summary "
        f"{c['with_summary']}, summaries skipped because the model was busy {c['summary_skipped_busy']}; "
        f"wall time {c['wall_s']:.1f} s.",
        "", "| target | status |", "|---|---|", *[f"| {k} | {v} |" for k, v in r["targets"].items()],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
