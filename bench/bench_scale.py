"""Scale benchmark: 10k -> 100k (-> 1M) synthetic papers on a Chroma server, and the seeds before/after.

What is measured, per size, on a real ``chroma run`` server (one per size, data in a temp dir):

- **write**: synthetic records through ``ChromaStore.add`` (batched within Chroma's limit),
  records/s; then the generation's BM25 index + catalogue (``rag.retrieve.derived.build_derived``, what
  ingest now does before the pointer flips), seconds.
- **cold open + search in a fresh process** (``--child``): ``Paperchat.retriever()`` time (the
  pointer read + mapping the files), then p50/p95 of ``bm25`` / ``dense`` / ``hybrid`` / hybrid with
  a broad date filter (``date_from=2024-01-01``, ~40% of papers: post-filtered) / hybrid with a
  selective filter (``min_upvotes=290``, ~3%: Chroma's ``where``), and the process's RSS with the
  embedding model's share taken out (RSS after loading the model, before opening the index, is
  subtracted; RssFile, the memory-mapped index pages, is reported apart).
- **adding 1,000 papers** through the real ``ingest()`` with precomputed vectors (an embedder
  that looks each text's vector up), i.e. everything but the model.
- **disk**: Chroma's data directory and the BM25 + catalogue directory.

Chunks: one per synthetic paper (its title + abstract; ``--real-chunks``: the real chunker, ~1.7 a
paper). The 1,000 added papers always go through the real chunker inside ``ingest()``; an update
in place never re-chunks the papers already indexed, so their chunking does not change its cost.

Synthetic papers: ``bench_index.synthetic_papers`` (5-8 random sentences of the seed abstracts,
synthetic titles, dates over 2022-2025 with 20% undated, upvotes 0-300, fixed RNG seed). Each seed
sentence is embedded once by the bundled model; a paper's vector is the normalised mean of its
sentences' vectors. Search cost depends on the number and size of vectors and postings, not on
what the text says.

Seeds before/after, in one run: the seed index is ingested once (current code); the search
timing child then runs twice on that same home, once with the baseline commit's ``rag`` (``git
archive``) and once with the working tree's.

Build once, measure again: at 1M the write is the expensive part (1.5-2 h on 2 loaded cores).
``--keep DIR`` builds each size into ``DIR/<size>`` (the Chroma server's data, the home with its
generation's files, ``build.json`` with the write numbers, ``pool.npz`` with the sentence vectors)
and keeps it; ``--reuse DIR`` runs only the measurements (cold open + search child, disk, adding
papers, the facts phase) against it, with whatever code is checked out now. Each add round adds
papers no earlier round added (``add_rounds.json``), so the index grows by ``--add`` per run.

    python bench/bench_scale.py --sizes 10000,100000 [--baseline 58569b5] [--tmp DIR]
    nice -n 19 python bench/bench_scale.py --sizes 1000000 --no-seeds --keep /tmp/scale1m --build-only
    python bench/bench_scale.py --sizes 1000000 --no-seeds --reuse /tmp/scale1m --tag=-1m \
        --plot-with bench/results/scale-2026-12-02.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from procstat import memory_mib  # bench/ is the script's directory

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RNG_SEED = 20261123


# --- the child: cold open + search in a fresh process ---------------------------------------------

def child(home: str, queries_file: str, chroma: str | None) -> None:
    """Runs with whatever ``rag`` is first on sys.path (baseline or current): public API only."""
    t0 = time.perf_counter()
    from rag.paperchat import Paperchat
    from rag.settings import load_settings
    from rag.types.papers import Filters

    over: dict[str, Any] = {"home": Path(home)}
    if chroma:
        host, port = chroma.split(":")
        over.update(chroma_host=host, chroma_port=int(port))
    app = Paperchat(load_settings(**over))
    app.embedder.embed_query("warm the model up")
    imports_model_s = time.perf_counter() - t0
    t = time.perf_counter()
    app.store.active()  # import chromadb and connect: not the index's own cost
    connect_s = time.perf_counter() - t
    base = memory_mib()
    t = time.perf_counter()
    r = app.retriever()
    open_s = time.perf_counter() - t
    opened = memory_mib()
    queries = json.loads(Path(queries_file).read_text())
    cases = {"bm25": ("bm25", None), "dense": ("dense", None), "hybrid": ("hybrid", None),
             "hybrid_date_filter": ("hybrid", Filters(date_from="2024-01-01")),
             "hybrid_selective_filter": ("hybrid", Filters(min_upvotes=290))}
    out: dict[str, Any] = {"imports_and_model_s": round(imports_model_s, 3), "store_connect_s": round(connect_s, 3),
                           "open_s": round(open_s, 3),
                           "papers": len(r.papers), "modes": {}}
    for name, (mode, flt) in cases.items():
        r.search("efficient attention for language models", mode=mode, filters=flt)  # warm-up
        walls, hits = [], 0
        for q in queries:
            t = time.perf_counter()
            res = r.search(q, mode=mode, filters=flt)
            walls.append((time.perf_counter() - t) * 1000)
            hits += len(res.hits)
        out["modes"][name] = {"p50": round(float(np.percentile(walls, 50)), 2),
                              "p95": round(float(np.percentile(walls, 95)), 2), "n": len(walls),
                              "mean_hits": round(hits / len(walls), 2)}
    end = memory_mib()
    out["rss_mib"] = {"after_model": base, "after_open": opened, "after_search": end,
                      "serving_minus_model": round(end["VmRSS"] - base["VmRSS"], 1),
                      "anon_minus_model": round(end["RssAnon"] - base["RssAnon"], 1)}
    print("CHILD-RESULT " + json.dumps(out))


def run_child(home: Path, queries_file: Path, chroma: str | None, pythonpath: str | None = None) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(home), str(queries_file)]
    if chroma:
        cmd.append(chroma)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600, cwd=tempfile.gettempdir())
    for line in p.stdout.splitlines():
        if line.startswith("CHILD-RESULT "):
            return json.loads(line[len("CHILD-RESULT "):])
    raise RuntimeError(f"child failed ({p.returncode}): {p.stderr[-3000:]}")


# --- a Chroma server ---------------------------------------------------------------------------

def start_chroma(path: Path) -> tuple[subprocess.Popen, int]:
    """A ``chroma run`` server on a free local port with its data in ``path``."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("chroma")
    log = (path.parent / f"{path.name}.log").open("wb")
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("chroma server did not start")


def dir_mib(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1) if path.exists() else 0.0


# --- one size ----------------------------------------------------------------------------------

class PrecomputedEmbedder:
    """Looks each text's vector up (made like the synthetic ones): ingest without the model."""

    def __init__(self, name: str, dim: int, table: dict[str, np.ndarray], count_tokens) -> None:
        self.name, self.dim, self._table, self.count_tokens = name, dim, table, count_tokens

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._table[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._table[text]


def _mean_vec(vecs: np.ndarray, idx: list[int]) -> np.ndarray:
    v = vecs[idx].mean(axis=0)
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def added_papers(round_: int, add_n: int, pool: list[str], title_words: list[str]) -> list[tuple[Any, list[int]]]:
    """The papers of the ``round_``-th "add 1,000 papers" measurement on one kept index.

    Each round adds papers no earlier round added (own RNG, own title prefix), so a measurement
    re-run against a kept index (``--reuse``) adds new papers instead of finding them unchanged."""
    from dataclasses import replace

    from bench_index import synthetic_papers

    from rag.ingest.fields import paper_id_for

    out = []
    for p, idx in synthetic_papers(add_n, pool, title_words, random.Random(RNG_SEED + 1 + round_)):
        title = p.title.replace("Synthetic ", f"Added r{round_} ", 1)
        out.append((replace(p, title=title, paper_id=paper_id_for(title)), idx))
    return out


def build_size(n: int, pool: list[str], vecs: np.ndarray, title_words: list[str], embedder: Any,
               d: Path, real_chunks: bool) -> dict[str, Any]:
    """The expensive part, done once into ``d``: ``n`` synthetic records written to a Chroma
    server whose data lives in ``d/chroma``, the generation's BM25 + catalogue in ``d/home``.
    What it measured is saved as ``d/build.json`` so a ``--reuse`` run reports it too."""
    from concurrent.futures import ThreadPoolExecutor

    from bench_index import synthetic_papers
    from tqdm import tqdm

    from rag.embed.bundled import MINILM_TOKENIZER, token_counter
    from rag.ingest.chunk import Chunker, chunk_id, embed_text
    from rag.settings import load_settings
    from rag.storage.chroma import ChromaStore
    from rag.storage.chroma_layout import chunk_metadata
    from rag.types.papers import Chunk

    res: dict[str, Any] = {"papers": n}
    proc, port = start_chroma(d / "chroma")
    try:
        settings = load_settings(home=d / "home", chroma_host="127.0.0.1", chroma_port=port)
        store = ChromaStore(settings)
        name = store.generation_name(1)
        store.collection(name, create=True, embedder=embedder.name)
        rng = random.Random(RNG_SEED)
        count = token_counter(MINILM_TOKENIZER)
        papers, chunk_ids, batch = [], {}, []
        t = time.perf_counter()
        add_s = [0.0]
        bar = tqdm(unit="chunk", desc=f"write {n}", file=sys.stderr, mininterval=30)
        chunker = Chunker(count, embedder.name, settings.chunk_size, settings.chunk_overlap)
        chunk_s = 0.0
        pool_ex = ThreadPoolExecutor(1)  # one batch in flight while the next one is made
        pending = None

        def write(b: list) -> None:
            a = time.perf_counter()
            store.add(name, [c.chunk_id for _, c, _, _ in b], np.stack([v for *_, v in b]),
                      [c.text for _, c, _, _ in b], [chunk_metadata(p, c, k) for p, c, k, _ in b])
            add_s[0] += time.perf_counter() - a
            bar.update(len(b))

        for i, (paper, idx) in enumerate(synthetic_papers(n, pool, title_words, rng)):
            v = _mean_vec(vecs, idx)
            c0 = time.perf_counter()
            if real_chunks:
                cs = chunker.chunks(paper)
            else:  # one chunk per paper: what the search cost depends on is the number of vectors
                et = embed_text(paper.title, paper.abstract)
                cs = [Chunk(chunk_id=chunk_id(embedder.name, et), paper_id=paper.paper_id, index=0,
                            text=paper.abstract, embed_text=et)]
            chunk_s += time.perf_counter() - c0
            papers.append(paper)
            chunk_ids[paper.paper_id] = [c.chunk_id for c in cs]
            batch.extend((paper, c, len(cs), v) for c in cs)
            if len(batch) >= 5000 or i == n - 1:
                if pending is not None:
                    pending.result()
                pending, batch = pool_ex.submit(write, batch), []
        if pending is not None:
            pending.result()
        pool_ex.shutdown()
        bar.close()
        records = store.count(name)
        res["write"] = {"s": round(time.perf_counter() - t, 1), "chroma_add_s": round(add_s[0], 1), "records": records,
                        "records_per_s": round(records / (time.perf_counter() - t), 1), "batch": store.max_batch(),
                        "chunking_s": round(chunk_s, 1), "load_after": _loadavg()}
        _finish_generation(res, store, settings, name, embedder, papers, chunk_ids)
        del papers, chunk_ids
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    (d / "build.json").write_text(json.dumps(res))
    return res


def _finish_generation(res: dict[str, Any], store: Any, settings: Any, name: str, embedder: Any,
                       papers: list, chunk_ids: dict[str, list[str]]) -> None:
    """What ingest does once the records are in: the generation's files, then the pointer flip."""
    from rag.retrieve.derived import build_derived, derived_path
    from rag.storage.chroma import Active

    t = time.perf_counter()
    build_derived(derived_path(settings, name), papers, chunk_ids)
    res["derived_build_s"] = round(time.perf_counter() - t, 1)
    res["derived_load_after"] = _loadavg()
    store.set_active(Active(collection=name, generation=1, embedder=embedder.name, dim=embedder.dim))
    print(f"[bench] {len(papers)}: derived built in {res['derived_build_s']} s", file=sys.stderr, flush=True)


def derive_size(n: int, pool: list[str], title_words: list[str], embedder: Any, d: Path,
                write: dict[str, Any]) -> dict[str, Any]:
    """Finish a kept size whose Chroma write completed but whose process stopped before the
    generation's files and the pointer were made: the papers are made again from the fixed RNG
    seed (the same sequence :func:`build_size` wrote), a sample of them is checked against the
    records in Chroma (ids and documents), then the files are built and the pointer set.
    ``write`` is the write's numbers as recorded while it ran (they go into ``build.json``)."""
    from bench_index import synthetic_papers

    from rag.ingest.chunk import chunk_id, embed_text
    from rag.settings import load_settings
    from rag.storage.chroma import ChromaStore

    if (d / "build.json").exists():
        raise SystemExit(f"{d / 'build.json'} exists: this size was finished already")
    res: dict[str, Any] = {"papers": n, "write": write, "derived_after_restart": True}
    proc, port = start_chroma(d / "chroma")
    try:
        settings = load_settings(home=d / "home", chroma_host="127.0.0.1", chroma_port=port)
        store = ChromaStore(settings)
        name = store.generation_name(1)
        records = store.count(name)
        if records != n:
            raise SystemExit(f"{name} holds {records} records, not {n}: the write did not finish")
        res["write"]["records"] = records
        t = time.perf_counter()
        papers, chunk_ids = [], {}
        for paper, _ in synthetic_papers(n, pool, title_words, random.Random(RNG_SEED)):
            papers.append(paper)
            chunk_ids[paper.paper_id] = [chunk_id(embedder.name, embed_text(paper.title, paper.abstract))]
        res["papers_made_s"] = round(time.perf_counter() - t, 1)
        sample = random.Random(7).sample(range(n), 200)
        got = store.collection(name).get(ids=[chunk_ids[papers[i].paper_id][0] for i in sample],
                                         include=["documents", "metadatas"])
        by_id = dict(zip(got["ids"], got["documents"], strict=True))
        bad = [i for i in sample if by_id.get(chunk_ids[papers[i].paper_id][0]) != papers[i].abstract]
        if bad:
            raise SystemExit(f"{len(bad)} of 200 sampled papers differ from Chroma's records (first: row {bad[0]})")
        res["sample_checked"] = len(sample)
        _finish_generation(res, store, settings, name, embedder, papers, chunk_ids)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    (d / "build.json").write_text(json.dumps(res))
    return res


def facts_phase(settings: Any, store: Any, idf_table: bool) -> dict[str, Any]:
    """What ``stats`` and the first answer's IDF cost on the live generation: the catalogue's
    summary (columns + facts, no paper read), and, with ``idf_table``, making the IDF table of a
    generation written before it was saved (the one-off pass over every paper), then opening it."""
    from rag.retrieve.derived import derived_path, doc_freq_of, open_derived

    active = store.active()
    path = derived_path(settings, store.generation_name(active.generation))
    out: dict[str, Any] = {}
    t = time.perf_counter()
    derived = open_derived(path)
    out["open_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    out["summary"] = derived.catalogue.summary()
    out["summary_s"] = round(time.perf_counter() - t, 3)
    out["idf_saved_before"] = derived.doc_freq is not None
    if idf_table or derived.doc_freq is not None:
        t = time.perf_counter()
        doc_freq_of(derived)
        out["idf_table_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        idf = open_derived(path).doc_freq.idf()
        vals = [idf(w) for w in ("warmup", "attent", "model", "zzznope")]
        out["idf_open_and_4_lookups_ms"] = round((time.perf_counter() - t) * 1000, 2)
        out["idf_terms"] = int(open_derived(path).doc_freq.vocab.shape[0])
        out["idf_sample"] = [round(v, 4) for v in vals]
    out["load_after"] = _loadavg()
    return out


def measure_size(d: Path, pool: list[str], vecs: np.ndarray, title_words: list[str], embedder: Any,
                 queries_file: Path, add_n: int, idf_table: bool = False) -> dict[str, Any]:
    """Cold open + search (a fresh process), disk, then adding ``add_n`` papers through the real
    ``ingest()``, against the index kept in ``d`` (by :func:`build_size`, maybe by older code)."""
    from rag.embed.bundled import MINILM_TOKENIZER, token_counter
    from rag.ingest.index import ingest
    from rag.settings import load_settings
    from rag.storage.chroma import ChromaStore

    res: dict[str, Any] = json.loads((d / "build.json").read_text())
    proc, port = start_chroma(d / "chroma")
    try:
        settings = load_settings(home=d / "home", chroma_host="127.0.0.1", chroma_port=port)
        res["load_before_serve"] = _loadavg()
        res["serve"] = run_child(d / "home", queries_file, f"127.0.0.1:{port}")
        res["load_after_serve"] = _loadavg()
        print(f"[bench] {res['papers']}: {json.dumps(res['serve'])}", file=sys.stderr, flush=True)
        res["disk_mib"] = {"chroma": dir_mib(d / "chroma"), "bm25_and_catalogue": dir_mib(settings.lexical_dir)}
        if add_n:
            rounds = d / "add_rounds.json"
            round_ = json.loads(rounds.read_text())["next"] if rounds.exists() else 0
            count = token_counter(MINILM_TOKENIZER)
            extra = added_papers(round_, add_n, pool, title_words)
            table = {}
            from rag.ingest.chunk import Chunker

            chunker = Chunker(count, embedder.name, settings.chunk_size, settings.chunk_overlap)
            for p, idx in extra:
                for c in chunker.chunks(p):
                    table[c.embed_text] = _mean_vec(vecs, idx)
            pre = PrecomputedEmbedder(embedder.name, embedder.dim, table, count)
            rounds.write_text(json.dumps({"next": round_ + 1}))
            t = time.perf_counter()
            report = ingest([p for p, _ in extra], ChromaStore(settings), pre, settings)
            res["add_papers"] = {"papers": add_n, "round": round_, "s": round(time.perf_counter() - t, 1),
                                 "chunks_embedded": report.chunks_embedded, "chunks_reused": report.chunks_reused,
                                 "load_after": _loadavg()}
            print(f"[bench] {res['papers']}: adding {add_n} papers took {res['add_papers']['s']} s",
                  file=sys.stderr, flush=True)
            res["disk_mib_after_add"] = {"chroma": dir_mib(d / "chroma"),
                                         "bm25_and_catalogue": dir_mib(settings.lexical_dir)}
        res["facts"] = facts_phase(settings, ChromaStore(settings), idf_table)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    return res


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- seeds before/after ------------------------------------------------------------------------

def seeds_compare(base: Path, baseline: str, queries_file: Path) -> dict[str, Any]:
    from rag.paperchat import Paperchat
    from rag.settings import load_settings

    home = base / "seeds"
    t = time.perf_counter()
    Paperchat(load_settings(home=home)).ingest()
    ingest_s = round(time.perf_counter() - t, 1)
    old = base / "baseline-src"
    old.mkdir(exist_ok=True)
    tar = subprocess.run(["git", "archive", baseline, "rag"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=tar, check=True)
    out = {"ingest_s_current": ingest_s, "baseline_commit": baseline}
    # first opens (the baseline builds its BM25 cache; ours finds the files ingest wrote), then warm
    out["baseline_first"] = run_child(home, queries_file, None, pythonpath=str(old))
    out["current_first"] = run_child(home, queries_file, None)
    out["baseline"] = run_child(home, queries_file, None, pythonpath=str(old))
    out["current"] = run_child(home, queries_file, None)
    return out


# --- report ------------------------------------------------------------------------------------

def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"# Scale benchmark, {r['date']}", "",
             f"Machine: {m.get('cpu_model')}, {m.get('usable_cpus')} usable CPUs, "
             f"{m.get('ram_gib')} GiB RAM, {m.get('virtualization')}; Python {m.get('python')}. Commit `{r['git']['commit'][:12]}` "
             f"({r['git']['dirty_files']} uncommitted files). Load average at start {r['load_start']}, end "
             f"{r['load_end']} (the machine was shared with other work). Chroma server (`chroma run`, one per "
             f"size, HNSW defaults: cosine, M=16, ef_construction=100, ef_search=100). "
             f"{'Real chunker' if r.get('real_chunks') else 'One chunk per synthetic paper'}. Total {r['total_s']} s.", ""]
    if r.get("seeds"):
        s = r["seeds"]
        lines += ["## Seeds (540 papers), baseline vs now, same index, same run", "",
                  f"Baseline = commit `{s['baseline_commit']}`; each column a fresh process.", "",
                  "| | baseline first open | now first open | baseline | now |", "|---|---:|---:|---:|---:|",
                  "| open s | " + " | ".join(f"{s[k]['open_s']}" for k in
                                               ("baseline_first", "current_first", "baseline", "current")) + " |"]
        for mode in s["current"]["modes"]:
            lines.append(f"| {mode} p50 / p95 ms | " + " | ".join(
                f"{s[k]['modes'][mode]['p50']} / {s[k]['modes'][mode]['p95']}"
                for k in ("baseline_first", "current_first", "baseline", "current")) + " |")
        lines.append("| RSS minus model MiB | " + " | ".join(
            f"{s[k]['rss_mib']['serving_minus_model']}" for k in
            ("baseline_first", "current_first", "baseline", "current")) + " |")
        lines.append("")
    lines += ["## By size (Chroma server)", "",
              "| papers | write rec/s | BM25+catalogue build s | cold open s | bm25 p50/p95 | dense p50/p95 | "
              "hybrid p50/p95 | hybrid+date p50/p95 | hybrid+selective p50/p95 | RSS−model MiB (anon) | "
              "add 1k papers s | disk Chroma / ours MiB |",
              "|---:|---:|---:|---:|---|---|---|---|---|---|---:|---|"]
    for z in r["sizes"]:
        sv = z["serve"]
        def pp(k: str, md: dict = sv["modes"]) -> str:
            return f"{md[k]['p50']} / {md[k]['p95']}"

        lines.append(f"| {z['papers']:,} | {z['write']['records_per_s']} | {z['derived_build_s']} | {sv['open_s']} | "
                     f"{pp('bm25')} | {pp('dense')} | {pp('hybrid')} | {pp('hybrid_date_filter')} | "
                     f"{pp('hybrid_selective_filter')} | {sv['rss_mib']['serving_minus_model']} "
                     f"({sv['rss_mib']['anon_minus_model']}) | {z.get('add_papers', {}).get('s', '–')} | "
                     f"{z['disk_mib']['chroma']} / {z['disk_mib']['bm25_and_catalogue']} |")
    lines += ["", "Raw numbers: the JSON file beside this one.", ""]
    return "\n".join(lines)


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(r.get("earlier_sizes", []) + r["sizes"], key=lambda z: z["papers"])
    ns = [z["papers"] for z in sizes]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for k in ("bm25", "dense", "hybrid", "hybrid_date_filter", "hybrid_selective_filter"):
        ax[0].plot(ns, [z["serve"]["modes"][k]["p50"] for z in sizes], marker="o", label=k)
    ax[0].set(xscale="log", yscale="log", xlabel="papers", ylabel="p50 ms", title="search p50 (Chroma server)")
    ax[0].legend(fontsize=7)
    ax[1].plot(ns, [z["serve"]["rss_mib"]["serving_minus_model"] for z in sizes], marker="o", label="RSS − model")
    ax[1].plot(ns, [z["serve"]["open_s"] * 1000 for z in sizes], marker="o", label="cold open ms")
    ax[1].plot(ns, [z["disk_mib"]["chroma"] for z in sizes], marker="o", label="Chroma disk MiB")
    ax[1].plot(ns, [z["add_papers"]["s"] * 1000 for z in sizes if "add_papers" in z], marker="o",
               label="add 1k papers ms")
    ax[1].set(xscale="log", yscale="log", xlabel="papers", title="memory, open, disk")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--baseline", default="58569b5")
    ap.add_argument("--add", type=int, default=1000)
    ap.add_argument("--no-seeds", action="store_true")
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--tag", default="")
    ap.add_argument("--real-chunks", action="store_true", help="chunk the synthetic papers with the real chunker "
                    "(~1.7 chunks a paper, 5 ms a paper of CPU) instead of one chunk a paper")
    ap.add_argument("--keep", default=None, help="build each size into DIR/<size> and keep it there (Chroma data, "
                    "home, build numbers) so later runs can --reuse it")
    ap.add_argument("--reuse", default=None, help="measure against sizes already built into DIR/<size> by --keep "
                    "(cold open + search, disk, adding papers); writing is not repeated")
    ap.add_argument("--build-only", action="store_true", help="with --keep: build, measure nothing")
    ap.add_argument("--plot-with", default=None, help="a results JSON whose sizes the plot shows beside this "
                    "run's (e.g. 10k and 100k measured earlier, for 10k -> 100k -> 1M)")
    ap.add_argument("--derive-only", default=None, metavar="WRITE_JSON",
                    help="with --reuse: a size whose Chroma write finished but whose process stopped before the "
                    "generation's files: make them (papers again from the fixed seed, a sample checked against "
                    "Chroma) and set the pointer; WRITE_JSON is the write's numbers recorded while it ran")
    ap.add_argument("--idf-table", action="store_true", help="after adding papers, time making the IDF table of a "
                    "generation from before it was saved (one pass over every paper), then opening it")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from bench_index import build_queries

    from eval.machine import git_info, loadavg, machine_info
    from rag.embed.bundled import embedder_from
    from rag.ingest.corpus import bundled_seed_paths, load_corpus
    from rag.settings import load_settings
    from rag.text.analysis import split_sentences

    t0 = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="scale-", dir=args.tmp))
    kept = Path(args.reuse or args.keep) if (args.reuse or args.keep) else None
    r: dict[str, Any] = {"date": date.today().isoformat(), "machine": machine_info(), "git": git_info(),
                         "load_start": loadavg(), "sizes": [], "real_chunks": args.real_chunks,
                         "kept_dir": str(kept) if kept else None, "reused": bool(args.reuse)}
    if args.plot_with:
        earlier = json.loads(Path(args.plot_with).read_text())
        r["earlier_sizes"] = [{**z, "from": Path(args.plot_with).name} for z in earlier["sizes"]]
    seeds = load_corpus(bundled_seed_paths()).papers
    queries = [q["text"] for q in build_queries(seeds, random.Random(RNG_SEED))]
    qfile = base / "queries.json"
    qfile.write_text(json.dumps(queries))
    embedder = embedder_from(load_settings(home=base / "model-home"))
    import re

    pool_file = kept / "pool.npz" if kept else None
    if pool_file and pool_file.exists():  # the vectors the kept index was written with
        z = np.load(pool_file, allow_pickle=False)
        pool, vecs, title_words = [str(x) for x in z["pool"]], z["vecs"], [str(x) for x in z["title_words"]]
    else:
        pool = sorted({s for p in seeds for s in split_sentences(p.abstract) if len(s) >= 20},
                      key=lambda s: (len(s), s))
        title_words = sorted({w.lower() for p in seeds for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-']*", p.title)
                              if w.isalpha() and len(w) >= 4})
        vecs = embedder.embed_documents(pool)
        if pool_file:
            kept.mkdir(parents=True, exist_ok=True)
            np.savez(pool_file, pool=np.array(pool), vecs=vecs, title_words=np.array(title_words))
    for n in [int(x) for x in args.sizes.split(",") if x]:
        d = (kept / str(n)) if kept else (base / str(n))
        if not args.reuse:
            if d.exists():
                raise SystemExit(f"{d} exists: --reuse it, or remove it first")
            d.mkdir(parents=True)
            build_size(n, pool, vecs, title_words, embedder, d, args.real_chunks)
        elif args.derive_only:
            derive_size(n, pool, title_words, embedder, d, json.loads(args.derive_only))
        if args.build_only or args.derive_only:
            continue
        r["sizes"].append(measure_size(d, pool, vecs, title_words, embedder, qfile, args.add, args.idf_table))
        r["load_end"], r["total_s"] = loadavg(), round(time.perf_counter() - t0)
        _write(r, args.tag)
        if not kept:
            shutil.rmtree(d, ignore_errors=True)
    if not args.no_seeds:
        r["seeds"] = seeds_compare(base, args.baseline, qfile)
    r["load_end"], r["total_s"] = loadavg(), round(time.perf_counter() - t0)
    if r["sizes"] or r.get("seeds"):
        _write(r, args.tag)
    shutil.rmtree(base, ignore_errors=True)


def _write(r: dict[str, Any], tag: str) -> None:
    stem = RESULTS / f"scale-{r['date']}{tag}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(r, indent=1))
    stem.with_suffix(".md").write_text(render(r))
    if r["sizes"]:
        plot(r, stem.with_suffix(".png"))


if __name__ == "__main__":
    main()
