"""CLI start-up benchmark: wall time of `paperchat --help`, `stats` and `search` as a user runs them,
and of importing the modules the faces import (`rag.engine`, `ui.handlers`).

Each command runs as a fresh process (``python -m cli ...``, the same code as the ``paperchat``
script; ``python -c "import X"`` for the imports) ``--runs`` times after one warm-up run, timed
with ``perf_counter`` around ``subprocess.run``; the children's CPU time comes from
``getrusage``. ``--compare DIR`` runs a second checkout (e.g. a ``git worktree`` or ``git
archive`` of an older commit) with the same interpreter, alternating the two trees run by run, so
both see the same load. ``--importtime`` also runs each command once per tree under
``python -X importtime`` and records the costliest top-level imports (cumulative microseconds of
that one run: where the start-up goes, not a timing to compare).

    python bench/bench_cli.py --home ~/.paperchat          # an existing index (the seeds)
    python bench/bench_cli.py                              # ingests the seeds into a temp home first
    python bench/bench_cli.py --compare /tmp/before --tag 2026-12-02 --importtime

Target (p50 wall, 2 quiet cores): `stats` and `search` <= 1 s. Writes bench/results/cli-<tag>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.machine import busy_processes, git_info, loadavg, machine_info

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# name -> the interpreter's arguments (run in the tree's root, so its own packages are imported)
COMMANDS: dict[str, list[str]] = {
    "--help": ["-m", "cli", "--help"],
    "stats": ["-m", "cli", "stats"],
    "search": ["-m", "cli", "search", "which papers skip warmup?"],
    "search -k 3": ["-m", "cli", "search", "warmup", "-k", "3"],
    "import rag.engine": ["-c", "import rag.engine"],
    "import ui.handlers": ["-c", "import ui.handlers"],
}
TARGETS = {"stats": 1.0, "search": 1.0, "search -k 3": 1.0}  # p50 wall seconds


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one ``python ARGS`` run in ``tree``; raises if it fails."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: python {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return wall, _children_cpu() - cpu0


def top_imports(tree: Path, args: list[str], env: dict[str, str], n: int = 8) -> list[tuple[str, int]]:
    """The ``n`` costliest top-level imports of one ``python -X importtime ARGS`` run in ``tree``:
    (module, cumulative microseconds), costliest first."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=tree, env=env, capture_output=True,
                          text=True)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if cumulative.strip().isdigit() and not name.startswith("  "):  # " name": imported by no other
            rows.append((name.strip(), int(cumulative)))
    return sorted(rows, key=lambda r: -r[1])[:n]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    i = (len(xs) - 1) * q
    lo, hi = int(i), min(int(i) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)


def summarise(walls: list[float], cpus: list[float]) -> dict[str, Any]:
    return {"n": len(walls), "p50_s": round(_pct(walls, 0.5), 3), "p95_s": round(_pct(walls, 0.95), 3),
            "min_s": round(min(walls), 3), "max_s": round(max(walls), 3), "mean_s": round(statistics.fmean(walls), 3),
            "cpu_p50_s": round(_pct(cpus, 0.5), 3), "walls_s": [round(w, 4) for w in walls]}


def ingest_seeds(home: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", "--home", str(home), "ingest"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERCHAT_")}
    tmp = None
    ingest_s = None
    if args.home:
        home = Path(args.home).expanduser()
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
        home = tmp / "home"
        env["PAPERCHAT_HOME"] = str(home)
        ingest_s = ingest_seeds(home, env)
    env["PAPERCHAT_HOME"] = str(home)
    trees = {"after": ROOT}
    if args.compare:
        trees = {"before": Path(args.compare).resolve(), "after": ROOT}
    commands = {name: COMMANDS[name] for name in (args.commands or COMMANDS)}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = loadavg()
    samples: dict[str, dict[str, tuple[list[float], list[float]]]] = {
        t: {c: ([], []) for c in commands} for t in trees}
    loads: list[float] = []
    imports = None
    try:
        for name, cmd in commands.items():
            for tree in trees.values():
                run_once(tree, cmd, env)  # warm-up: page cache, bytecode
            for i in range(args.runs):
                order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
                for label, tree in order:
                    wall, cpu = run_once(tree, cmd, env)
                    samples[label][name][0].append(wall)
                    samples[label][name][1].append(cpu)
                loads.append(loadavg()[0])
        if args.importtime:
            imports = {label: {name: top_imports(tree, cmd, env) for name, cmd in commands.items()}
                       for label, tree in trees.items()}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    results = {label: {name: summarise(*s) for name, s in per.items()} for label, per in samples.items()}
    return {
        "started": started, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(), "git": git_info(), "trees": {k: str(v) for k, v in trees.items()},
        "home": "temporary (seeds ingested)" if tmp else str(home), "seed_ingest_s": ingest_s,
        "runs": args.runs, "commands": commands, "load_before": load_before, "load_after": loadavg(),
        "load_during": {"min": min(loads), "mean": round(statistics.fmean(loads), 2), "max": max(loads)},
        "busy_processes": [p for p in busy_processes() if float(p.split()[1]) >= 1.0],  # the ones using a CPU
        "results": results, "targets": TARGETS, "top_imports": imports,
    }


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    labels = list(r["results"])
    spread = "(min–max)" if "max_s" in next(iter(r["results"][labels[0]].values())) else "/ p95"
    out = [f"# CLI start-up — {r['started'][:10]}", "",
           "Produced by `python bench/bench_cli.py` (raw numbers: the .json beside this file).", "",
           f"- Run: {r['started']} → {r['finished']} (UTC); commit `{r['git']['commit'][:12]}` "
           f"({r['git']['dirty_files']} uncommitted/untracked files in the work tree).",
           f"- Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs ({m['virtualization']}), "
           f"{m['ram_gib']} GiB RAM, Python {m['python']}.",
           f"- Index: {r['home']}, the bundled seeds (540 papers). Each command is a fresh "
           f"Python process, {r['runs']} runs after one warm-up, trees alternating run by run.",
           "- Trees: " + "; ".join(f"{k} = `{v}`" for k, v in r["trees"].items()) + ".",
           f"- Load average (1 min): before {r['load_before'][0]}, during min {r['load_during']['min']} / "
           f"mean {r['load_during']['mean']} / max {r['load_during']['max']}, after {r['load_after'][0]} "
           "(2 CPUs: above ~1 the neighbours were using the cores too; CPU s is the work itself).", "",
           "| command | " + " | ".join(f"{lb} wall p50 {spread} s | {lb} CPU p50 s" for lb in labels)
           + " | target |",
           "|---|" + "---|---|" * len(labels) + "---|"]
    commands = r.get("commands") or COMMANDS  # results from before "commands" was recorded: the same three
    for name in r["results"][labels[0]]:
        cells = []
        for lb in labels:
            s = r["results"][lb][name]
            rng = f" ({s['min_s']:.2f}–{s['max_s']:.2f})" if "max_s" in s else f" / {s['p95_s']:.2f}"
            cells += [f"{s['p50_s']:.2f}{rng}", f"{s['cpu_p50_s']:.2f}"]
        target = r["targets"].get(name)
        verdict = ""
        if target is not None:
            ok = r["results"][labels[-1]][name]["p50_s"] <= target
            verdict = f"≤ {target:g} s **{'PASS' if ok else 'MISS'}**"
        out.append(f"| `{_shown(commands[name])}` | " + " | ".join(cells) + f" | {verdict} |")
    out += ["", "PASS/MISS is the last tree's p50."]
    if r.get("top_imports"):
        out += ["", "Costliest top-level imports, one `python -X importtime` run per command and tree "
                "(cumulative ms of that run, under the load above):", ""]
        for name in r["results"][labels[0]]:
            for lb in labels:
                top = r["top_imports"][lb][name]
                out.append(f"- `{_shown(commands[name])}`, {lb}: "
                           + ", ".join(f"{mod} {us / 1000:.0f}" for mod, us in top[:6]))
    out += ["", "Busiest processes at the end:", ""]
    out += [f"    {p}" for p in r["busy_processes"]]
    return "\n".join(out) + "\n"


def _shown(argv: list[str]) -> str:
    """How a user would type the command: ``paperchat ...`` or ``python -c "..."``."""
    if argv[:2] == ["-m", "cli"]:
        return "paperchat " + " ".join(a if a.replace("-", "").isalnum() else f'"{a}"' for a in argv[2:])
    return "python " + " ".join(a if a.startswith("-") else f'"{a}"' for a in argv)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", help="an existing PAPERCHAT_HOME with an index (default: ingest the seeds into a temp one)")
    ap.add_argument("--compare", help="another checkout to time side by side (labelled 'before')")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--commands", nargs="+", choices=list(COMMANDS), metavar="NAME",
                    help=f"time only these (default: all of {', '.join(COMMANDS)})")
    ap.add_argument("--importtime", action="store_true",
                    help="also record each command's costliest imports (one -X importtime run per tree)")
    ap.add_argument("--tag", default=None, help="result file date tag (default: today, UTC)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--render", metavar="JSON", help="only re-render the .md beside an existing result JSON")
    args = ap.parse_args()
    if args.render:
        path = Path(args.render)
        path.with_suffix(".md").write_text(render(json.loads(path.read_text("utf-8"))), "utf-8")
        return
    r = run(args)
    text = render(r)
    print(text)
    if not args.no_write:
        tag = args.tag or datetime.now(UTC).strftime("%Y-%m-%d")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"cli-{tag}.json").write_text(json.dumps(r, indent=1), "utf-8")
        (RESULTS / f"cli-{tag}.md").write_text(text, "utf-8")


if __name__ == "__main__":
    main()
