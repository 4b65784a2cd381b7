"""Does one slow request stall the server? ``paperchat serve`` on 127.0.0.1 in a child process
over the seeds, then two phases, each bounded in count and time:

1. **10 concurrent non-streaming chats** (the ``openai`` SDK's default) with ``paperchat:none``,
   while one prober times ``/healthz`` every 100 ms and another opens a streaming chat every
   500 ms and times its first chunk. Target: ``/healthz`` and first chunk p95 under 0.5 s.
2. **An ingest of 3,000 papers over HTTP** (``POST /v1/ingest``, the first 3,000 papers of the
   training corpus in ``../shared``; read at run time, never copied), while ``/v1/search`` and a
   non-streaming chat are timed every 500 ms until the ingest answers. Target: p95 under 2 s.

    python bench/bench_server.py [--corpus ../shared/corpora/arxiv-2025-train/papers.jsonl] [--no-write]

Writes ``bench/results/server-<date>.json`` and ``.md`` with the machine, commit and load.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from eval.machine import LoadSampler, git_info, machine_info  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGETS = {"healthz_s p95": 0.5, "stream_first_chunk_s p95": 0.5, "search_during_ingest_s p95": 2.0,
           "chat_during_ingest_s p95": 2.0}
QUESTIONS = ["Which papers skip warmup?", "What is Deep Gradient Compression?",
             "How does one prevent attention entropy collapse?", "Which papers compress gradients?"]


def _p95(xs: list[float]) -> float | None:
    return round(sorted(xs)[max(0, int(len(xs) * 0.95 + 0.5) - 1)], 3) if xs else None


def _summary(xs: list[float]) -> dict:
    return {"n": len(xs), "p50": round(statistics.median(xs), 3) if xs else None, "p95": _p95(xs),
            "max": round(max(xs), 3) if xs else None}


def _wait_up(url: str, proc: subprocess.Popen, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("serve did not come up")


class Prober(threading.Thread):
    """Calls ``fn`` every ``every`` seconds until stopped, recording seconds per call (or errors)."""

    def __init__(self, fn, every: float) -> None:
        super().__init__(daemon=True)
        self.fn, self.every, self.times, self.errors = fn, every, [], []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                self.fn()
                self.times.append(time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001 - recorded, the bench goes on
                self.errors.append(f"{type(e).__name__}: {e}"[:200])
            self.stop.wait(max(0.0, self.every - (time.monotonic() - t0)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/arxiv-2025-train/papers.jsonl")
    ap.add_argument("--papers", type=int, default=3000)
    ap.add_argument("--chats", type=int, default=10)
    ap.add_argument("--checkout", type=Path, default=None,
                    help="run another checkout's paperchat (python -m cli with it first on the path), e.g. the commit before")
    ap.add_argument("--out", default=None, help="results file stem (default server-<date>)")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()

    import openai

    key = secrets.token_hex(16)
    tmp = Path(tempfile.mkdtemp(prefix="paperchat-bench-server-"))
    env = {**os.environ, "PAPERCHAT_HOME": str(tmp / "home"), "PAPERCHAT_API_KEYS": key}
    exe: list[str] = [str(Path(sys.executable).with_name("paperchat"))]
    if a.checkout is not None:
        exe = [sys.executable, "-m", "cli"]
        env["PYTHONPATH"] = str(a.checkout.resolve())
    subprocess.run([*exe, "ingest"], env=env, check=True, capture_output=True)
    port = 18000 + os.getpid() % 1000
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*exe, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=a.checkout or ROOT)
    load = LoadSampler()
    load.__enter__()
    out: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
                 "git": git_info(), "targets": TARGETS, "checkout": str(a.checkout) if a.checkout else None}
    try:
        _wait_up(url, proc)
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=600)
        http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})
        http2 = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})

        streamer = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=600)

        def stream_first() -> None:
            # its own client, closed at once: an abandoned stream left to the garbage collector
            # inside another request deadlocks httpcore's pool (a client-side hang, not the server's)
            with streamer.chat.completions.create(model="paperchat:none", stream=True, messages=[
                    {"role": "user", "content": "What is Deep Gradient Compression?"}]) as stream:
                next(iter(stream))

        # phase 1: concurrent non-streaming chats
        health = Prober(lambda: http.get("/healthz").raise_for_status(), 0.1)
        first = Prober(stream_first, 0.5)
        chat_times: list[float] = []

        def one_chat(i: int) -> None:
            t0 = time.monotonic()
            client.chat.completions.create(model="paperchat:none", messages=[
                {"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}])
            chat_times.append(time.monotonic() - t0)

        health.start()
        first.start()
        time.sleep(1.0)
        workers = [threading.Thread(target=one_chat, args=(i,)) for i in range(a.chats)]
        t0 = time.monotonic()
        for w in workers:
            w.start()
        for w in workers:
            w.join(300)
        wall = time.monotonic() - t0
        health.stop.set()
        first.stop.set()
        health.join()
        first.join()
        out["concurrent_chats"] = {"chats": a.chats, "wall_s": round(wall, 2), "chat_s": _summary(chat_times),
                                   "healthz_s": _summary(health.times), "stream_first_chunk_s": _summary(first.times),
                                   "errors": health.errors + first.errors}

        # phase 2: an ingest over HTTP while search and chat are timed
        lines = []
        with a.corpus.open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                lines.append(json.dumps({k: rec[k] for k in ("title", "abstract", "date", "url")}))
                if len(lines) >= a.papers:
                    break
        upload = tmp / "upload.jsonl"
        upload.write_text("\n".join(lines) + "\n", "utf-8")
        search = Prober(lambda: http.get("/v1/search", params={"q": "gradient compression", "k": 5})
                        .raise_for_status(), 0.5)
        chat = Prober(lambda: client.chat.completions.create(model="paperchat:none", messages=[
            {"role": "user", "content": "What is Deep Gradient Compression?"}]), 0.5)
        health = Prober(lambda: http2.get("/healthz").raise_for_status(), 0.5)
        result: dict = {}

        def ingest() -> None:
            t0 = time.monotonic()
            with upload.open("rb") as fh:
                r = httpx.post(f"{url}/v1/ingest", files={"files": ("upload.jsonl", fh)},
                               headers={"Authorization": f"Bearer {key}"}, timeout=3600)
            result.update(status=r.status_code, seconds=round(time.monotonic() - t0, 1), body=r.json())

        for p in (search, chat, health):
            p.start()
        t = threading.Thread(target=ingest)
        t.start()
        t.join(3600)
        for p in (search, chat, health):
            p.stop.set()
            p.join()
        out["ingest_over_http"] = {"papers": len(lines), "status": result.get("status"),
                                   "ingest_s": result.get("seconds"),
                                   "papers_new": (result.get("body") or {}).get("papers_new"),
                                   "search_during_ingest_s": _summary(search.times),
                                   "chat_during_ingest_s": _summary(chat.times),
                                   "healthz_during_ingest_s": _summary(health.times),
                                   "errors": search.errors + chat.errors + health.errors}
    finally:
        proc.terminate()
        proc.wait(30)
        load.__exit__()
        out["load"] = load.summary()
        shutil.rmtree(tmp, ignore_errors=True)
    checks = {
        "healthz_s p95": out["concurrent_chats"]["healthz_s"]["p95"],
        "stream_first_chunk_s p95": out["concurrent_chats"]["stream_first_chunk_s"]["p95"],
        "search_during_ingest_s p95": out["ingest_over_http"]["search_during_ingest_s"]["p95"],
        "chat_during_ingest_s p95": out["ingest_over_http"]["chat_during_ingest_s"]["p95"],
    }
    out["met"] = {k: v is not None and v <= TARGETS[k] for k, v in checks.items()}
    print(json.dumps(out, indent=2))
    if not a.no_write:
        stem = RESULTS / (a.out or f"server-{datetime.now(UTC).date().isoformat()}")
        stem.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n", "utf-8")
        md = [f"# Server under load ({out['date']}, {out['git'].get('commit', '?')[:7]}"
              f"{', code of ' + str(a.checkout) if a.checkout else ''})", "",
              f"Machine: {out['machine'].get('cpu_model', '?')}, {out['machine'].get('logical_cpus', '?')} cores; "
              f"load during the run: {out['load']}", "", "| figure | value | target | met |", "|---|---|---|---|"]
        for k, v in checks.items():
            md.append(f"| {k} | {v} s | <= {TARGETS[k]} s | {'yes' if out['met'][k] else 'MISS'} |")
        c, i = out["concurrent_chats"], out["ingest_over_http"]
        md += ["", f"- {c['chats']} concurrent non-streaming chats (paperchat:none): wall {c['wall_s']} s, "
               f"each {c['chat_s']}; /healthz {c['healthz_s']}; streaming first chunk {c['stream_first_chunk_s']}; "
               f"errors {len(c['errors'])}",
               f"- ingest of {i['papers']} papers over HTTP: status {i['status']} in {i['ingest_s']} s "
               f"({i['papers_new']} new); meanwhile search {i['search_during_ingest_s']}, chat "
               f"{i['chat_during_ingest_s']}, /healthz {i['healthz_during_ingest_s']}; errors {len(i['errors'])}"]
        stem.with_suffix(".md").write_text("\n".join(md) + "\n", "utf-8")


if __name__ == "__main__":
    main()
