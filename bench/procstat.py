"""The benchmarks' one reading of a process's memory (Linux ``/proc/self/status``)."""

from __future__ import annotations

from pathlib import Path


def memory_mib() -> dict[str, float]:
    """VmRSS, RssAnon (private), RssFile (mapped files the OS may share or drop) and VmHWM, in MiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[k] = round(int(v.split()[0]) / 1024, 1)
    return out
