"""`paperchat ask` run N times under CPU contention with the bundled local model: every run must
exit 0 (a summary stopped at its time budget used to leave llama.cpp's thread running at
interpreter exit: SIGSEGV / SIGABRT after the answer was printed, 13 of 60 runs).

Contention: one busy-looping process per core runs for the whole bench. The seeds are ingested
into a temporary home first. Each run asks one of a few questions with ``--json``.

    python bench/bench_cli_exit.py [--runs 50] [--budget 8] [--no-write]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from eval.machine import LoadSampler, git_info, machine_info  # noqa: E402

QUESTIONS = ["What is Deep Gradient Compression?", "Which papers skip warmup?",
             "How does one prevent attention entropy collapse?", "How much faster is FlashAttention-2?"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--budget", type=float, default=None, help="PAPERCHAT_ANSWER__SUMMARY_BUDGET_S (default: the setting's)")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="paperchat-bench-exit-"))
    env = {**os.environ, "PAPERCHAT_HOME": str(tmp / "home")}
    if a.budget is not None:
        env["PAPERCHAT_ANSWER__SUMMARY_BUDGET_S"] = str(a.budget)
    exe = str(Path(sys.executable).with_name("paperchat"))
    subprocess.run([exe, "ingest"], env=env, check=True, capture_output=True)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    load = LoadSampler()
    load.__enter__()
    codes, seconds, summaries = [], [], 0
    try:
        deadline = time.monotonic() + 3600
        for i in range(a.runs):
            if time.monotonic() > deadline:
                break
            t0 = time.monotonic()
            r = subprocess.run([exe, "ask", "--json", QUESTIONS[i % len(QUESTIONS)]], env=env,
                               capture_output=True, text=True, timeout=600)
            seconds.append(round(time.monotonic() - t0, 1))
            codes.append(r.returncode)
            if r.returncode == 0:
                summaries += any(ln.get("kind") == "summary" for ln in json.loads(r.stdout).get("lines", []))
            print(i, r.returncode, seconds[-1], flush=True)
    finally:
        for b in busy:
            b.kill()
        load.__exit__()
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(), "git": git_info(),
           "runs": len(codes), "exit_codes": dict(collections.Counter(codes)), "with_summary": summaries,
           "seconds_p50": sorted(seconds)[len(seconds) // 2] if seconds else None, "max_s": max(seconds, default=None),
           "contention": f"{len(busy)} busy-looping processes", "load": load.summary(), "budget_s": a.budget}
    print(json.dumps(out, indent=2))
    if not a.no_write:
        stem = ROOT / "bench" / "results" / f"cli-exit-{datetime.now(UTC).date().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
