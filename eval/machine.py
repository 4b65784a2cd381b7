"""What an eval run or a benchmark records about the machine it ran on: hardware, commit, and how
busy the CPUs were. One module for ``paperchat eval`` and the scripts in ``bench/``; on a shared
2-core machine the load average is what tells a reader whether a number is the code's or the
neighbours'."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_cmd(cmd: list[str], timeout: float = 20) -> str:
    """A command's stdout, or "" when it is missing or fails (the record is best-effort)."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return list(os.getloadavg())


def busy_processes(limit: int = 6) -> list[str]:
    """The busiest processes now (other users of the CPU), as ``ps`` sees them."""
    lines = run_cmd(["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"]).splitlines()[1 : limit + 1]
    return [" ".join(line.split())[:140] for line in lines]


def _proc_field(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    model = _proc_field("/proc/cpuinfo", "model name")
    mem = _proc_field("/proc/meminfo", "MemTotal")
    lscpu = run_cmd(["lscpu"])
    hyper = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Hypervisor vendor")), "")
    return {
        "cpu_model": model.split(":", 1)[1].strip() if model else platform.processor(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "avx512_vnni": "avx512_vnni" in lscpu or "avx_vnni" in lscpu,
        "ram_gib": round(int(mem.split()[1]) / 1024 / 1024, 1) if mem else None,
        "virtualization": run_cmd(["systemd-detect-virt"]) or ("KVM" if "KVM" in lscpu else ""),
        "hypervisor": hyper,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def git_info() -> dict[str, Any]:
    status = run_cmd(["git", "status", "--porcelain"])
    return {
        "commit": run_cmd(["git", "rev-parse", "HEAD"]),
        "subject": run_cmd(["git", "log", "-1", "--format=%s"]),
        "dirty_files": len(status.splitlines()) if status else 0,
    }


class LoadSampler:
    """Samples the 1-minute load average every few seconds, filed under the current ``phase``."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.phase = "run"
        self.samples: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True, name="bench-load")

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.samples.setdefault(self.phase, []).append(loadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()

    def summary(self, phase: str | None = None) -> dict[str, Any]:
        """min/mean/max of one phase's samples, or of all of them."""
        s = self.samples.get(phase, []) if phase else [x for v in self.samples.values() for x in v]
        if not s:
            return {"n": 0, "now": loadavg()[0]}
        return {"n": len(s), "min": min(s), "mean": round(statistics.fmean(s), 2), "max": max(s)}
