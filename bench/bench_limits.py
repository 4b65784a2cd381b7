"""What the input limits bound: peak RSS and time of reading files at each limit, each in a fresh
process (``ru_maxrss`` of the child), with synthetic text (no corpus is copied).

The limits (``rag/ingest/``: corpus, fields, records, chunk; settings): bytes per file 256 MiB;
characters per abstract 20,000 (a longer record is skipped with a warning before it is cleaned);
characters per JSONL record 1,000,000 (skipped before it is decoded); papers per file 200,000;
chunks per paper 64 (about 20 at the abstract limit); an HTTP upload 20 MB (``PAPERCHAT_UPLOAD_MAX_MB``).

Cases: a 200 MB one-line JSONL (the 18.5 GB reproduction), 256 MiB of abstracts at the abstract
limit, 256 MiB at the papers-per-file limit, one 20 MB upload of ordinary abstracts; each parsed
and chunked as ingest does, plus a full ingest (embedding included) of the 20 MB upload's first
``--embed`` papers, which shows what embedding adds (it works in fixed-size steps).

    python bench/bench_limits.py [--embed 300] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from eval.machine import git_info, loadavg, machine_info  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORDS = ("model training data attention layer gradient token image robot policy reward loss network "
         "transformer diffusion graph language vision learning optimizer benchmark").split()

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
t0 = time.monotonic()
mode, path = sys.argv[1], Path(sys.argv[2])
out = {}
try:
    if mode == "parse":
        from rag.ingest.chunk import Chunker
        from rag.ingest.corpus import load_corpus
        from rag.embed.bundled import embedder_from
        from rag.settings import load_settings
        load = load_corpus([path])
        s = load_settings()
        e = embedder_from(s)
        ch = Chunker(e.count_tokens, e.name, s.chunk_size, s.chunk_overlap)
        out = {"papers": len(load.papers), "skipped": sum(f.skipped for f in load.files),
               "chunks": sum(len(ch.chunks(p)) for p in load.papers), "warnings": load.warnings[:2]}
    else:
        from rag.paperchat import Paperchat
        from rag.settings import load_settings
        _, r = Paperchat(load_settings()).ingest([path])
        out = {"papers": r.papers_total, "chunks": r.chunks_embedded}
except Exception as e:
    out = {"refused": " ".join(str(e).split())[-200:]}
out.update(seconds=round(time.monotonic() - t0, 1),
           peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
print(json.dumps(out))
"""


def _text(rng: random.Random, chars: int) -> str:
    out, n = [], 0
    while n < chars:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)[:chars]


def _write(path: Path, records, limit_bytes: int | None = None) -> Path:
    size = 0
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            line = json.dumps(rec) + "\n"
            if limit_bytes is not None and size + len(line) > limit_bytes:
                break
            f.write(line)
            size += len(line)
    return path


def _run(mode: str, path: Path, home: Path) -> dict:
    import os

    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True,
                       env={**os.environ, "PAPERCHAT_HOME": str(home)}, cwd=ROOT)
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {"error": r.stderr[-400:]}
    out.update(file_mb=round(path.stat().st_size / 2**20, 1), wall_s=round(time.monotonic() - t0, 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--embed", type=int, default=300)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    from rag.ingest.corpus import _MAX_FILE_BYTES
    from rag.ingest.fields import MAX_ABSTRACT_CHARS, MAX_RECORDS_PER_FILE

    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="paperchat-bench-limits-"))
    cases = {}
    one = tmp / "one-line-200mb.jsonl"
    one.write_text(json.dumps({"title": "Huge", "abstract": "word " * (40 * 2**20)}) + "\n", "utf-8")
    cases["200 MB single-record JSONL (skipped)"] = ("parse", one)
    cases["256 MiB of abstracts at the 20,000-character limit"] = ("parse", _write(
        tmp / "abstract-limit.jsonl",
        ({"title": f"Paper {i}", "abstract": _text(rng, MAX_ABSTRACT_CHARS)} for i in range(10**6)), _MAX_FILE_BYTES))
    cases["200,000 papers in one file (the papers-per-file limit)"] = ("parse", _write(
        tmp / "records-limit.jsonl",
        ({"title": f"Paper {i}", "abstract": _text(rng, 1100)} for i in range(MAX_RECORDS_PER_FILE)), _MAX_FILE_BYTES))
    upload = _write(tmp / "upload-20mb.jsonl",
                    ({"title": f"Paper {i}", "abstract": _text(rng, 1300)} for i in range(10**6)), 20 * 10**6)
    cases["20 MB upload of ordinary abstracts"] = ("parse", upload)
    head = tmp / "upload-head.jsonl"
    head.write_text("".join(upload.read_text("utf-8").splitlines(keepends=True)[: a.embed]), "utf-8")
    cases[f"full ingest (embedding) of the upload's first {a.embed} papers"] = ("ingest", head)

    out = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(), "git": git_info(),
           "load_before": loadavg(), "cases": {}}
    for i, (name, (mode, path)) in enumerate(cases.items()):
        out["cases"][name] = _run(mode, path, tmp / f"home{i}")
        print(name, out["cases"][name], flush=True)
    out["load_after"] = loadavg()
    if not a.no_write:
        stem = RESULTS / f"limits-{datetime.now(UTC).date().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n", "utf-8")
        md = [f"# Input limits: peak memory ({out['date']}, {out['git'].get('commit', '?')[:7]})", "",
              f"Machine: {out['machine'].get('cpu_model', '?')}; load before {out['load_before']}, after "
              f"{out['load_after']}. Each case is a fresh process; peak RSS is its own ru_maxrss (the "
              "interpreter, the embedder and the parsed corpus).", "",
              "| case | file MB | papers | skipped | chunks | wall s | peak RSS MiB | refused |",
              "|---|---|---|---|---|---|---|---|"]
        for name, c in out["cases"].items():
            md.append(f"| {name} | {c.get('file_mb')} | {c.get('papers', '-')} | {c.get('skipped', '-')} | "
                      f"{c.get('chunks', '-')} | {c.get('wall_s')} | {c.get('peak_rss_mib')} | {c.get('refused', '')} |")
        stem.with_suffix(".md").write_text("\n".join(md) + "\n", "utf-8")


if __name__ == "__main__":
    main()
