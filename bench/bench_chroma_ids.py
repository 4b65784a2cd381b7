"""Probe: a filtered dense query on a Chroma server as ``where`` vs as ``ids=`` (the passing
papers' chunk ids), at several selectivities, against an index kept by ``bench_scale.py --keep``.

    python bench/bench_chroma_ids.py /tmp/scale1m/1000000 [generation dir name]

Prints, per ``upvotes >= t``: the passing papers and chunk ids, the time to collect the ids from
SQLite (the path the catalogue's chunk columns replaced), and the median of 3 queries (n=100)
each way. What it printed on 2026-12-02 is in ``results/chroma-ids-2026-12-02.md``.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from bench_scale import start_chroma  # bench/ is the script's directory


def main() -> None:
    d = Path(sys.argv[1])
    gen = sys.argv[2] if len(sys.argv) > 2 else sorted((d / "home" / "index").iterdir())[-1].name
    proc, port = start_chroma(d / "chroma")
    try:
        import chromadb

        col = chromadb.HttpClient(host="127.0.0.1", port=port).get_collection("paperchat_g1")
        db = sqlite3.connect(d / "home" / "index" / gen / "papers.sqlite")
        up = np.load(d / "home" / "index" / gen / "upvotes.npy")
        vecs = np.load(d.parent / "pool.npz")["vecs"]
        rng = np.random.default_rng(1)

        def query_vec() -> list[float]:
            q = vecs[rng.choice(len(vecs), 6)].mean(0)
            return (q / np.linalg.norm(q)).tolist()

        col.query(query_embeddings=[query_vec()], n_results=10, include=["distances"])  # load the index
        for lo in (297, 290, 270, 240):
            rows = np.flatnonzero(up >= lo).tolist()
            t = time.perf_counter()
            ids: list[str] = []
            for i in range(0, len(rows), 900):
                part = rows[i:i + 900]
                for (cj,) in db.execute(f"SELECT chunk_ids FROM papers WHERE row IN ({','.join('?' * len(part))})",
                                        part):
                    ids += json.loads(cj)
            sql = time.perf_counter() - t
            by_ids, by_where = [], []
            for _ in range(3):
                q = query_vec()
                t = time.perf_counter()
                col.query(query_embeddings=[q], n_results=100, ids=ids, include=["distances"])
                by_ids.append(time.perf_counter() - t)
                t = time.perf_counter()
                col.query(query_embeddings=[q], n_results=100, where={"upvotes": {"$gte": lo}}, include=["distances"])
                by_where.append(time.perf_counter() - t)
            print(f"upvotes>={lo}: rows {len(rows)} ids {len(ids)} sql {sql * 1000:.0f} ms; "
                  f"ids= {np.median(by_ids) * 1000:.0f} ms; where= {np.median(by_where) * 1000:.0f} ms", flush=True)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
