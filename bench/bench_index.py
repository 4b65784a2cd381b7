"""Index benchmark: how fast the foundation ingests and searches, at seed size and at 100k papers.

Everything runs on the real components: the bundled embedder (int8 all-MiniLM-L6-v2 through
onnxruntime, ``settings.threads`` threads), an embedded Chroma ``PersistentClient`` in a temporary
PAPERCHAT_HOME, and the BM25 index ``HybridRetriever`` builds. Phases, in one process:

1. **Cold ingest** of the bundled seeds: ``Paperchat(load_settings(home=tmp)).ingest()`` on an
   empty home, model load included (and reported on its own). The embedder and store are thin
   timing wrappers around the real ones, so the report splits the time into model calls, token
   counting, Chroma writes and the rest.
2. **Unchanged re-ingest**: a new ``Paperchat`` on the same home (what a second
   ``paperchat ingest`` does in-process: model load, parse, compare, nothing to write), plus the
   real CLI (``paperchat --home H ingest``) in a child process for the wall time a user sees.
3. **Search latency at seed size**: ~50 varied queries (key phrases of titles, phrases of
   abstracts, hand-written questions) per mode ``bm25`` / ``dense`` / ``hybrid`` through
   ``HybridRetriever.search``, warm (one warm-up query per mode first); p50/p95 and the
   retriever's own split (bm25 / query embedding / Chroma query / the rest). Also ``Paperchat.search``
   (the user path, which re-reads the active pointer on every call) and hybrid with a date filter.
4. **Search latency at 100k** synthetic abstracts (``--quick``: 10k) made by recombining seed
   sentences (5-8 random sentences each, synthetic title, fixed RNG seed). Each unique seed
   sentence is embedded once with the real model; a synthetic chunk's vector is the
   L2-normalised mean of its sentences' vectors (dense latency depends on the number and size
   of vectors, not on their text). Written through ``ChromaStore.add`` into a generation with the
   metadata layout ingest writes (``rag/storage/chroma_layout.py``), made active, then
   ``HybridRetriever.open`` builds BM25 over all papers (timed, with its parts) and is reopened
   from its cache (timed).

Recorded: machine (CPU, cores, RAM, Python, OS), date, git commit, load averages sampled during
the run (this machine may be shared: compare ``cpu_s`` with wall ``s`` to see contention), peak
RSS per phase and overall, and PASS/MISS against the targets.

    python bench/bench_index.py                 # full run, 100k; writes bench/results/index-<date>.{json,md}
    python bench/bench_index.py --quick         # 10k synthetic papers; writes index-<date>-quick.*
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from eval.machine import LoadSampler, busy_processes, git_info, loadavg, machine_info

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RNG_SEED = 20261123
SYNTH_BATCH = 2000  # records per ChromaStore.add call when writing the synthetic corpus
FILTER_FROM = "2024-01-01"  # date filter used for the "hybrid + filter" line

# (key, label, limit, unit) -- a measure passes when its value is <= limit
TARGETS = [
    ("cold_ingest_s", "cold ingest of the bundled seeds (model load included)", 60.0, "s"),
    ("reingest_s", "unchanged re-ingest, new Paperchat (model load included)", 3.0, "s"),
    ("seed_hybrid_p50_ms", "hybrid search p50, seed size", 50.0, "ms"),
    ("synth_hybrid_p50_ms", "hybrid search p50, 100k papers", 150.0, "ms"),
]

# Hand-written questions, in the forms users type them.
QUESTIONS = [
    "which papers skip warmup?",
    "Which papers train without a learning rate warm-up?",
    "how do transformers handle very long context windows?",
    "what reduces hallucination in large language models?",
    "retrieval augmented generation for question answering",
    "which papers speed up inference with speculative decoding?",
    "low-rank adaptation for parameter-efficient fine-tuning",
    "mixture of experts routing and load balancing",
    "reinforcement learning from human feedback with a reward model",
    "quantizing LLM weights to 4 bits",
    "which papers report results on ImageNet?",
    "diffusion models for text-to-image generation",
    "contrastive pretraining of image and text encoders",
    "which papers evaluate code generation?",
    "pruning neural networks at initialization",
]
N_TITLE_PHRASES = 18
N_ABSTRACT_PHRASES = 17
WARMUP_QUERY = "efficient attention for language models"
_WORDS = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-']*")


# --- versions ---------------------------------------------------------------------------------

def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("chromadb", "bm25s", "onnxruntime", "tokenizers", "numpy", "PyStemmer", "llama-index-core"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    return out


# --- memory and clocks ------------------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux >= 4.0) so the next phase's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def mib(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


PHASE_PEAKS_MIB: list[float] = []  # every phase's peak; the run's peak is their max (getrusage
# reads the same high-water mark that clear_refs resets, so it cannot be trusted on its own)


class Phase:
    """Wall and CPU seconds, peak RSS and load for one phase: ``with Phase(...) as ph: ...``."""

    def __init__(self, name: str, sampler: LoadSampler) -> None:
        self.name, self.sampler = name, sampler
        self.out: dict[str, Any] = {}

    def __enter__(self) -> Phase:
        self.sampler.phase = self.name
        reset_peak_rss()
        self._t, self._c = time.perf_counter(), time.process_time()
        print(f"[bench] {self.name} ...", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        wall, cpu = time.perf_counter() - self._t, time.process_time() - self._c
        self.out.update(phase_s=round(wall, 3), phase_cpu_s=round(cpu, 3),
                        peak_rss_mib=mib(_status_kb("VmHWM")), rss_end_mib=mib(_status_kb("VmRSS")),
                        load=self.sampler.summary(self.name))
        if self.out["peak_rss_mib"] is not None:
            PHASE_PEAKS_MIB.append(self.out["peak_rss_mib"])
        print(f"[bench] {self.name}: {wall:.1f}s wall, {cpu:.1f}s cpu", file=sys.stderr, flush=True)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(t: tuple[float, float]) -> dict[str, float]:
    return {"s": round(time.perf_counter() - t[0], 3), "cpu_s": round(time.process_time() - t[1], 3)}


def dir_mib(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


# --- timing wrappers around the real components -------------------------------------------------

class TimedEmbedder:
    """Delegates to the real embedder and adds up the seconds spent in it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.seconds = {"embed_documents": 0.0, "embed_query": 0.0, "count_tokens": 0.0}
        self.calls = {"embed_documents": 0, "embed_query": 0, "count_tokens": 0}
        self.texts = 0

    def _timed(self, key: str, fn: Callable, *a: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*a)
        finally:
            self.seconds[key] += time.perf_counter() - t
            self.calls[key] += 1

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return self._timed("embed_documents", self.inner.embed_documents, texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._timed("embed_query", self.inner.embed_query, text)

    def count_tokens(self, text: str) -> int:
        return self._timed("count_tokens", self.inner.count_tokens, text)


def timed_store(settings: Any) -> Any:
    """A real ChromaStore whose record methods add up their seconds."""
    from rag.storage.chroma import ChromaStore

    class TimedStore(ChromaStore):
        seconds: dict[str, float]

        def _wrap(self, key: str, fn: Callable, *a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t

        def add(self, *a: Any, **kw: Any) -> None:
            return self._wrap("add", super().add, *a, **kw)

        def get(self, *a: Any, **kw: Any) -> dict:
            return self._wrap("get", super().get, *a, **kw)

        def ids(self, *a: Any, **kw: Any) -> set[str]:
            return self._wrap("ids", super().ids, *a, **kw)

        def count(self, *a: Any, **kw: Any) -> int:
            return self._wrap("count", super().count, *a, **kw)

    store = TimedStore(settings)
    store.seconds = {}
    return store


# --- queries -----------------------------------------------------------------------------------

def _phrase(words: list[str], lo: int, hi: int, rng: random.Random) -> str:
    n = min(len(words), rng.randint(lo, hi))
    start = rng.randrange(0, len(words) - n + 1)
    return " ".join(words[start:start + n])


def build_queries(papers: list[Any], rng: random.Random) -> list[dict[str, str]]:
    """~50 varied queries: title key phrases, abstract phrases, hand-written questions."""
    from rag.text.analysis import split_sentences

    qs: list[dict[str, str]] = []
    for p in rng.sample(papers, N_TITLE_PHRASES):
        title = p.title
        if ":" in title:  # "Name: what it does" -> the descriptive half when it has substance
            head, tail = title.split(":", 1)
            title = tail if len(tail.split()) >= 3 else head
        words = _WORDS.findall(title)
        qs.append({"kind": "title phrase", "text": " ".join(words[:8]).lower()})
    for p in rng.sample(papers, N_ABSTRACT_PHRASES):
        sentence = rng.choice(split_sentences(p.abstract) or [p.abstract])
        qs.append({"kind": "abstract phrase", "text": _phrase(_WORDS.findall(sentence), 4, 7, rng).lower()})
    qs += [{"kind": "question", "text": q} for q in QUESTIONS]
    return qs


# --- latency -----------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float | None:
    """Linear-interpolated percentile (numpy's default)."""
    return float(np.percentile(values, p)) if values else None


def _dist(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(pct(values, 50), 2), "p95": round(pct(values, 95), 2),
            "mean": round(statistics.fmean(values), 2), "max": round(max(values), 2)}


def measure(search: Callable[[str], Any], queries: list[dict[str, str]]) -> dict[str, Any]:
    """Warm-up once, then every query once; wall ms per query plus the retriever's own split."""
    search(WARMUP_QUERY)
    walls: list[float] = []
    parts: dict[str, list[float]] = {"bm25_ms": [], "embed_ms": [], "dense_ms": [], "rest_ms": []}
    hits: list[int] = []
    c = time.process_time()
    for q in queries:
        t = time.perf_counter()
        res = search(q["text"])
        ms = (time.perf_counter() - t) * 1000
        walls.append(ms)
        hits.append(len(res.hits))
        for key in ("bm25_ms", "embed_ms", "dense_ms"):
            if key in res.timings:
                parts[key].append(res.timings[key])
        parts["rest_ms"].append(ms - sum(res.timings.get(k, 0.0) for k in ("bm25_ms", "embed_ms", "dense_ms")))
    cpu_ms = (time.process_time() - c) * 1000 / len(queries)
    return {**_dist(walls), "cpu_ms_mean": round(cpu_ms, 2),
            "split_p50_ms": {k: round(pct(v, 50), 2) for k, v in parts.items() if v},
            "empty_results": sum(1 for h in hits if h == 0),
            "per_query_ms": [round(w, 2) for w in walls]}


def measure_modes(retriever: Any, queries: list[dict[str, str]]) -> dict[str, Any]:
    from rag.types.papers import Filters

    out = {}
    for mode in ("bm25", "dense", "hybrid"):
        out[mode] = measure(lambda q, m=mode: retriever.search(q, mode=m), queries)
        print(f"[bench]   {mode}: p50 {out[mode]['p50']} ms, p95 {out[mode]['p95']} ms", file=sys.stderr)
    flt = Filters(date_from=FILTER_FROM)
    out["hybrid_filtered"] = measure(lambda q: retriever.search(q, mode="hybrid", filters=flt), queries)
    out["hybrid_filtered"]["filter"] = f"date_from={FILTER_FROM}"
    return out


def _median_ms(fn: Callable[[], Any], reps: int) -> float:
    fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(out), 2)


def probe_components(retriever: Any, queries: list[dict[str, str]], reps: int = 7) -> dict[str, float]:
    """Median ms of the store and retriever calls one search makes, alone and in cheaper variants,
    so a slow line in the search table can be traced to a call (and a fix's gain estimated)."""
    from rag.storage.chroma_layout import where_clause
    from rag.types.papers import Filters

    store, name = retriever.store, retriever.active.collection
    depth = max(retriever.settings.candidate_k, retriever.settings.top_k)
    col = store.collection(name)
    qv = retriever.embedder.embed_query(queries[0]["text"])
    top = col.query(query_embeddings=[qv], n_results=retriever.settings.top_k, include=["metadatas"])
    chunk_ids = top["ids"][0]
    pids = list(dict.fromkeys(m["paper_id"] for m in top["metadatas"][0]))
    flt = Filters(date_from=FILTER_FROM)
    where = where_clause(flt)
    papers = list(retriever.papers.values())

    def q(n: int, include: list[str], where: dict | None = None) -> Callable[[], Any]:
        return lambda: col.query(query_embeddings=[qv], n_results=n, where=where, include=include)

    return {
        "ChromaStore.active() (pointer read, per Paperchat.search)": _median_ms(store.active, reps),
        "ChromaStore.collection() (get_collection)": _median_ms(lambda: store.collection(name), reps),
        "collection.count() (ChromaStore.query calls it per search)": _median_ms(col.count, reps),
        f"ChromaStore.query n={2 * depth} (documents+metadatas+distances)":
            _median_ms(lambda: store.query(name, qv, 2 * depth), reps),
        f"collection.query n={2 * depth}, distances only": _median_ms(q(2 * depth, ["distances"]), reps),
        f"collection.query n={2 * depth}, metadatas+distances": _median_ms(q(2 * depth, ["metadatas", "distances"]), reps),
        f"collection.query n={8 * depth}, distances only": _median_ms(q(8 * depth, ["distances"]), reps),
        f"collection.query n={2 * depth}, distances only, where {where}":
            _median_ms(q(2 * depth, ["distances"], where), max(2, reps // 3)),
        f"ChromaStore.iter_all where paper_id $in {len(pids)} ids (best-chunk lookup)":
            _median_ms(lambda: list(store.iter_all(name, where={"paper_id": {"$in": pids}})), reps),
        f"collection.get {len(chunk_ids)} ids, documents": _median_ms(
            lambda: col.get(ids=chunk_ids, include=["documents"]), reps),
        "Filters.matches over all papers (the filter mask)": _median_ms(
            lambda: [flt.matches(p) for p in papers], max(2, reps // 3)),
        f"LexicalIndex.search depth {depth}": _median_ms(
            lambda: retriever.lexical.search_rows(queries[-1]["text"], depth), reps),
        "embed_query": _median_ms(lambda: retriever.embedder.embed_query(queries[-1]["text"]), reps),
    }


# --- phase 1-3: seeds --------------------------------------------------------------------------

def seed_phases(home: Path, sampler: LoadSampler, queries_rng: random.Random
                ) -> tuple[dict[str, Any], list[dict[str, str]], Any, list[Any]]:
    from rag.embed.bundled import embedder_from
    from rag.ingest.corpus import bundled_seed_paths, load_corpus
    from rag.paperchat import Paperchat
    from rag.retrieve.hybrid import HybridRetriever
    from rag.settings import load_settings

    res: dict[str, Any] = {}
    settings = load_settings(home=home)
    res["settings"] = {k: getattr(settings, k) for k in
                       ("embed_model", "threads", "embed_batch_size", "chunk_size", "chunk_overlap",
                        "candidate_k", "top_k", "fusion")}

    # 1. cold ingest, through timing wrappers around the real embedder and store
    with Phase("cold ingest (seeds)", sampler) as ph:
        t = clock()
        embedder = TimedEmbedder(embedder_from(settings))
        load = since(t)
        store = timed_store(settings)
        app = Paperchat(settings, embedder=embedder, store=store)
        marks: dict[str, float] = {}

        def progress(done: int, total: int) -> None:
            marks.setdefault("embed_start", time.perf_counter())
            if done >= total:
                marks["embed_end"] = time.perf_counter()

        t = clock()
        corpus, report = app.ingest(progress=progress)
        ingest_t = since(t)
        t_end = time.perf_counter()
    t0 = t_end - ingest_t["s"]
    total = load["s"] + ingest_t["s"]
    seed_papers = corpus.papers
    res["cold_ingest"] = {
        "s": round(total, 3), "cpu_s": round(load["cpu_s"] + ingest_t["cpu_s"], 3),
        "model_load_s": load["s"], "ingest_call_s": ingest_t["s"],
        "papers": report.papers_total, "chunks": report.chunks_total, "chunks_embedded": report.chunks_embedded,
        "papers_per_s": round(report.papers_total / total, 2), "chunks_per_s": round(report.chunks_total / total, 2),
        "tokens_embedded": None,
        "split_s": {
            "parse_chunk_setup": round(marks.get("embed_start", t_end) - t0, 3),
            "embed_and_write_loop": round(marks.get("embed_end", t_end) - marks.get("embed_start", t_end), 3),
            "finish (metadata check, pointer)": round(t_end - marks.get("embed_end", t_end), 3),
            "model: embed_documents": round(embedder.seconds["embed_documents"], 3),
            "tokenizer: count_tokens (chunking)": round(embedder.seconds["count_tokens"], 3),
            "chroma: add": round(store.seconds.get("add", 0.0), 3),
            "chroma: get/ids/count": round(sum(v for k, v in store.seconds.items() if k != "add"), 3),
        },
        "embed_calls": embedder.calls["embed_documents"], "count_tokens_calls": embedder.calls["count_tokens"],
        **ph.out,
    }
    # tokens the model saw, to relate seconds to work (counted after the timed run)
    from rag.ingest.chunk import Chunker

    ch = Chunker(embedder.inner.count_tokens, embedder.name, settings.chunk_size, settings.chunk_overlap)
    texts = [c.embed_text for p in seed_papers for c in ch.chunks(p)]
    ntok = [embedder.inner.count_tokens(x) + 2 for x in texts]
    res["cold_ingest"]["tokens_embedded"] = sum(ntok)
    res["cold_ingest"]["abstract_tokens"] = sum(embedder.inner.count_tokens(p.abstract) for p in seed_papers)
    res["cold_ingest"]["tokens_per_model_s"] = round(sum(ntok) / max(embedder.seconds["embed_documents"], 1e-9))
    res["corpus"] = {"files": len(corpus.files), "records": corpus.records, "papers": len(seed_papers),
                     "duplicates": corpus.duplicates, "warnings": len(corpus.warnings)}
    res["seed_disk_mib"] = {"chroma": dir_mib(settings.chroma_path)}

    # 2. unchanged re-ingest: a new Paperchat on the same home, as a second `paperchat ingest`
    with Phase("unchanged re-ingest (seeds)", sampler) as ph:
        app2 = Paperchat(load_settings(home=home))
        t = clock()
        _ = app2.embedder
        load2 = since(t)
        t_parse = time.perf_counter()
        load_corpus(bundled_seed_paths())  # parse cost on its own (ingest parses again below)
        parse_s = time.perf_counter() - t_parse
        t = clock()
        _, report2 = app2.ingest()
        ing2 = since(t)
    res["reingest"] = {
        "s": round(load2["s"] + ing2["s"], 3), "cpu_s": round(load2["cpu_s"] + ing2["cpu_s"], 3),
        "model_load_s": load2["s"], "ingest_call_s": ing2["s"], "up_to_date": report2.up_to_date,
        "split_s": {"model load": load2["s"], "parse seeds (load_corpus)": round(parse_s, 3),
                    "compare with index (report.seconds)": round(report2.seconds, 3)},
        **ph.out,
    }
    with Phase("CLI re-ingest (child process)", sampler) as ph:
        exe = Path(sys.executable).with_name("paperchat")
        cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "cli"]),
               "--home", str(home), "ingest", "--json"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
        cli_s = time.perf_counter() - t
        cmd_s = [*cmd[:-2], "search", "which papers skip warmup?", "--json"]
        t = time.perf_counter()
        proc_s = subprocess.run(cmd_s, capture_output=True, text=True, cwd=ROOT, timeout=600)
        cli_search_s = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import rag.paperchat, cli.main"], cwd=ROOT, timeout=120)
        import_s = time.perf_counter() - t
    res["cli"] = {"reingest_s": round(cli_s, 3), "reingest_rc": proc.returncode,
                  "search_s": round(cli_search_s, 3), "search_rc": proc_s.returncode,
                  "python_import_rag_s": round(import_s, 3), **ph.out}
    if proc.returncode:
        res["cli"]["reingest_stderr"] = proc.stderr[-500:]

    # 3. search at seed size
    queries = build_queries(seed_papers, queries_rng)
    with Phase("search (seeds)", sampler) as ph:
        app3 = Paperchat(load_settings(home=home), embedder=embedder.inner)
        shutil.rmtree(settings.cache_dir, ignore_errors=True)  # CLI search above built it; time a build
        t = clock()
        retriever = app3.retriever()
        open_build = since(t)
        t = clock()
        HybridRetriever.open(app3.store, retriever.active, embedder.inner, app3.settings)
        open_cached = since(t)
        modes = measure_modes(retriever, queries)
        modes["paperchat_search_hybrid"] = measure(lambda q: app3.search(q, mode="hybrid"), queries)
        probe = probe_components(retriever, queries)
    res["seed_search"] = {"papers": len(retriever.papers), "open_build": open_build,
                          "open_cached": open_cached, "modes": modes, "components_ms": probe, **ph.out}
    return res, queries, embedder.inner, seed_papers


# --- phase 4: synthetic corpus -----------------------------------------------------------------

def synthetic_papers(n: int, pool: list[str], title_words: list[str], rng: random.Random
                     ) -> Iterator[tuple[Any, list[int]]]:
    """``n`` synthetic papers (5-8 pool sentences each) with the sentence indices they use."""
    from rag.ingest.fields import paper_id_for
    from rag.types.papers import Paper

    day0, days = date(2022, 1, 1), (date(2025, 12, 31) - date(2022, 1, 1)).days
    for i in range(n):
        idx = rng.sample(range(len(pool)), rng.randint(5, 8))
        title = f"Synthetic {i:06d}: " + " ".join(w.capitalize() for w in rng.sample(title_words, rng.randint(3, 6)))
        d = day0 + timedelta(days=rng.randrange(days + 1))
        dated = rng.random() < 0.8  # some papers have no full date, as in the seeds
        paper = Paper(
            paper_id=paper_id_for(title), title=title, abstract=" ".join(pool[j] for j in idx),
            source="synthetic.jsonl", line=i + 1, authors=rng.randint(1, 30),
            date=d.isoformat() if dated else None,
            date_text=(f"{d:%b} {d.day}, {d.year}" if dated else f"{d:%b} {d.day}"),
            upvotes=rng.randint(0, 300),
        )
        yield paper, idx


def synth_phase(n: int, seed_papers: list[Any], embedder: Any, queries: list[dict[str, str]],
                sampler: LoadSampler, base: Path, breakdown: bool) -> dict[str, Any]:
    from tqdm import tqdm

    from rag.ingest.chunk import chunk_id, embed_text
    from rag.retrieve.hybrid import HybridRetriever
    from rag.retrieve.lexical import LexicalIndex, paper_tokens
    from rag.settings import load_settings
    from rag.storage.chroma import Active
    from rag.storage.chroma_layout import chunk_metadata
    from rag.text.analysis import split_sentences
    from rag.types.papers import Chunk

    res: dict[str, Any] = {"papers": n}
    home = Path(tempfile.mkdtemp(prefix=f"synth{n // 1000}k-", dir=base))
    settings = load_settings(home=home)
    store = timed_store(settings)
    rng = random.Random(RNG_SEED)

    with Phase(f"synthetic {n}: embed seed sentences", sampler) as ph:
        # sorted by length, as ingest sorts chunks, so a batch pads little
        pool = sorted({s for p in seed_papers for s in split_sentences(p.abstract) if len(s) >= 20},
                      key=lambda s: (len(s), s))
        title_words = sorted({w.lower() for p in seed_papers for w in _WORDS.findall(p.title)
                              if w.isalpha() and len(w) >= 4})
        t = clock()
        vecs = embedder.embed_documents(pool)
        res["sentence_embed"] = {"sentences": len(pool), **since(t)}
        res["sentence_embed"]["sentences_per_s"] = round(len(pool) / res["sentence_embed"]["s"], 1)
    res["sentence_embed"].update(ph.out)

    with Phase(f"synthetic {n}: write to Chroma", sampler) as ph:
        name = store.generation_name(1)
        store.collection(name, create=True, embedder=embedder.name)
        gen_s = 0.0
        batch: list[tuple[Any, Chunk, np.ndarray]] = []
        bar = tqdm(total=n, unit="paper", desc="writing", file=sys.stderr, mininterval=5)
        papers = synthetic_papers(n, pool, title_words, rng)
        t = clock()
        while True:
            g = time.perf_counter()
            for paper, idx in papers:
                v = vecs[idx].mean(axis=0)
                v = (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
                et = embed_text(paper.title, paper.abstract)
                c = Chunk(chunk_id=chunk_id(embedder.name, et), paper_id=paper.paper_id, index=0,
                          text=paper.abstract, embed_text=et)
                batch.append((paper, c, v))
                if len(batch) >= SYNTH_BATCH:
                    break
            gen_s += time.perf_counter() - g
            if not batch:
                break
            store.add(name, ids=[c.chunk_id for _, c, _ in batch], embeddings=np.stack([v for *_, v in batch]),
                      documents=[c.text for _, c, _ in batch],
                      metadatas=[chunk_metadata(p, c, 1) for p, c, _ in batch])
            bar.update(len(batch))
            batch = []
        bar.close()
        active = Active(collection=name, generation=1, embedder=embedder.name)
        store.set_active(active)
        write = since(t)
        count = store.count(name)
    res["write"] = {**write, "records": count, "batch": SYNTH_BATCH, "generate_s": round(gen_s, 3),
                    "chroma_add_s": round(store.seconds.get("add", 0.0), 3),
                    "records_per_s": round(count / max(store.seconds.get("add", 1e-9), 1e-9), 1), **ph.out}
    if count != n:
        raise RuntimeError(f"synthetic collection has {count} records, expected {n}")

    with Phase(f"synthetic {n}: open retriever (build BM25)", sampler) as ph:
        t = clock()
        retriever = HybridRetriever.open(store, active, embedder, settings)
        build = since(t)
    res["open_build"] = {**build, **ph.out}
    del retriever
    if breakdown:  # the parts of the build, run again on their own
        with Phase(f"synthetic {n}: build breakdown", sampler) as ph:
            t = clock()
            papers = store.load_papers(active)
            lp = since(t)
            t = clock()
            LexicalIndex.build(paper_tokens(p.title, p.abstract) for p in papers)
            lx = since(t)
            del papers
        res["open_build"]["split_s"] = {"load_papers (Chroma, where chunk_index=0)": lp["s"],
                                        "LexicalIndex build (tokenize+stem+index)": lx["s"],
                                        "rest (cache write, misc)": round(build["s"] - lp["s"] - lx["s"], 3)}
        res["open_build"]["breakdown_phase"] = ph.out

    with Phase(f"synthetic {n}: reopen from cache", sampler) as ph:
        t = clock()
        retriever = HybridRetriever.open(store, active, embedder, settings)
        cached = since(t)
    res["open_cached"] = {**cached, **ph.out}

    with Phase(f"synthetic {n}: search", sampler) as ph:
        res["modes"] = measure_modes(retriever, queries)
        res["components_ms"] = probe_components(retriever, queries)
    res["search_phase"] = ph.out
    res["disk_mib"] = {"chroma": dir_mib(settings.chroma_path), "cache": dir_mib(settings.cache_dir)}
    res["home"] = str(home)
    return res


# --- verdicts and report -----------------------------------------------------------------------

def verdicts(r: dict[str, Any]) -> list[dict[str, Any]]:
    values = {
        "cold_ingest_s": r["seeds"]["cold_ingest"]["s"],
        "reingest_s": r["seeds"]["reingest"]["s"],
        "seed_hybrid_p50_ms": r["seeds"]["seed_search"]["modes"]["hybrid"]["p50"],
        "synth_hybrid_p50_ms": r["synthetic"]["modes"]["hybrid"]["p50"] if r.get("synthetic") else None,
    }
    out = []
    for key, label, limit, unit in TARGETS:
        v = values[key]
        if key == "synth_hybrid_p50_ms" and r.get("synthetic"):
            label = label.replace("100k", f"{r['synthetic']['papers'] // 1000}k")
        out.append({"key": key, "label": label, "value": v, "limit": limit, "unit": unit,
                    "verdict": "n/a" if v is None else ("PASS" if v <= limit else "MISS")})
    return out


def _f(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:,.{nd}f}" if isinstance(x, float) else str(x)


def render_md(r: dict[str, Any]) -> str:
    m, g, s, y = r["machine"], r["git"], r["seeds"], r.get("synthetic")
    ci, ri = s["cold_ingest"], s["reingest"]
    lines = [
        f"# Index benchmark, {r['date']}",
        "",
        f"Machine: {m['cpu_model']}, {m['usable_cpus']} usable CPUs, {m['ram_gib']} GiB RAM, "
        f"{m['virtualization'] or 'bare metal'}; Python {m['python']}; {m['os']}.  ",
        f"Commit `{g['commit'][:12]}` ({g['subject']}), {g['dirty_files']} uncommitted files.  ",
        f"Settings: {', '.join(f'{k}={v}' for k, v in s['settings'].items())}.  ",
        f"Versions: {', '.join(f'{k} {v}' for k, v in r['versions'].items())}.  ",
        f"Load average (1 min) at start {r['load_start']}, end {r['load_end']}; "
        f"peak RSS of the whole run {r['peak_rss_mib']} MiB; total {r['total_s']:.0f} s.",
        "",
        "## Targets",
        "",
        "| Target | Value | Limit | Verdict |",
        "|---|---:|---:|---|",
    ]
    for v in r["verdicts"]:
        lines.append(f"| {v['label']} | {_f(v['value'], 2)} {v['unit']} | {v['limit']:g} {v['unit']} | "
                     f"**{v['verdict']}** |")
    lines += [
        "",
        "## Ingest (bundled seeds)",
        "",
        "| Measure | Wall s | CPU s | Notes |",
        "|---|---:|---:|---|",
        f"| cold ingest, total | {_f(ci['s'], 2)} | {_f(ci['cpu_s'], 2)} | {ci['papers']} papers, {ci['chunks']} chunks: "
        f"{ci['papers_per_s']} papers/s, {ci['chunks_per_s']} chunks/s; load avg {ci['load'].get('mean', '–')} |",
        f"| … model load | {_f(ci['model_load_s'], 2)} | | |",
        f"| … `ingest()` | {_f(ci['ingest_call_s'], 2)} | | |",
    ]
    for k, v in ci["split_s"].items():
        lines.append(f"| … … {k} | {_f(v, 2)} | | |")
    lines += [
        f"| tokens embedded | {ci['tokens_embedded']:,} | | abstracts alone: {ci['abstract_tokens']:,} tokens; "
        f"model throughput {ci['tokens_per_model_s']:,} tokens/s |",
        f"| unchanged re-ingest, total | {_f(ri['s'], 2)} | {_f(ri['cpu_s'], 2)} | up to date: {ri['up_to_date']} |",
    ]
    for k, v in ri["split_s"].items():
        lines.append(f"| … {k} | {_f(v, 2)} | | |")
    cli = s["cli"]
    lines += [
        f"| CLI `paperchat ingest` again (child process) | {_f(cli['reingest_s'], 2)} | | exit {cli['reingest_rc']}; "
        f"`import rag.paperchat, cli.main` alone {_f(cli['python_import_rag_s'], 2)} s |",
        f"| CLI `paperchat search` (child process, cold) | {_f(cli['search_s'], 2)} | | exit {cli['search_rc']} |",
        "",
    ]
    lines += _search_table(f"Search at seed size ({s['seed_search']['papers']} papers)", s["seed_search"])
    if y:
        lines += [
            "",
            f"## {y['papers']:,} synthetic papers",
            "",
            "| Step | Wall s | CPU s | Peak RSS MiB | Notes |",
            "|---|---:|---:|---:|---|",
            f"| embed unique seed sentences | {_f(y['sentence_embed']['s'], 1)} | {_f(y['sentence_embed']['cpu_s'], 1)} | "
            f"{_f(y['sentence_embed']['peak_rss_mib'])} | {y['sentence_embed']['sentences']:,} sentences, "
            f"{y['sentence_embed']['sentences_per_s']}/s |",
            f"| generate + write through `ChromaStore.add` | {_f(y['write']['s'], 1)} | {_f(y['write']['cpu_s'], 1)} | "
            f"{_f(y['write']['peak_rss_mib'])} | Chroma add {_f(y['write']['chroma_add_s'])} s "
            f"({y['write']['records_per_s']:,} records/s, batches of {y['write']['batch']}); "
            f"generation {_f(y['write']['generate_s'])} s |",
            f"| `HybridRetriever.open`, first (build BM25 + cache) | {_f(y['open_build']['s'], 1)} | "
            f"{_f(y['open_build']['cpu_s'], 1)} | {_f(y['open_build']['peak_rss_mib'])} | |",
        ]
        for k, v in y["open_build"].get("split_s", {}).items():
            lines.append(f"| … {k} | {_f(v, 1)} | | | measured separately |")
        lines += [
            f"| `HybridRetriever.open`, cached | {_f(y['open_cached']['s'], 2)} | {_f(y['open_cached']['cpu_s'], 2)} | "
            f"{_f(y['open_cached']['peak_rss_mib'])} | |",
            f"| disk | | | | Chroma {y['disk_mib']['chroma']} MiB, BM25 cache {y['disk_mib']['cache']} MiB |",
            "",
        ]
        lines += _search_table(f"Search at {y['papers']:,} papers", {**y, "phase": y["search_phase"]})
    lines += ["", "Load average (1-min) sampled per phase (the machine may be shared; CPU s ≪ wall s means "
              "other processes held the cores):", ""]
    for name, samp in r["load_by_phase"].items():
        lines.append(f"- {name}: {samp}")
    lines += ["", "Busiest processes at start: " + "; ".join(r["busy_start"][:4]), ""]
    return "\n".join(lines) + "\n"


def _search_table(title: str, sec: dict[str, Any]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| Mode | p50 ms | p95 ms | mean ms | max ms | CPU ms/query | p50 split (bm25 / embed / chroma / rest) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode, d in sec["modes"].items():
        sp = d["split_p50_ms"]
        split = " / ".join(_f(sp.get(k), 1) for k in ("bm25_ms", "embed_ms", "dense_ms", "rest_ms"))
        label = {"hybrid_filtered": f"hybrid + filter ({d.get('filter', '')})",
                 "paperchat_search_hybrid": "hybrid via `Paperchat.search`"}.get(mode, mode)
        lines.append(f"| {label} | {_f(d['p50'])} | {_f(d['p95'])} | {_f(d['mean'])} | {_f(d['max'])} | "
                     f"{_f(d['cpu_ms_mean'])} | {split} |")
    if "open_build" in sec and "papers" in sec and "phase" not in sec:
        lines += ["", f"Retriever open: first (BM25 build + cache write) {_f(sec['open_build']['s'], 2)} s, "
                  f"cached {_f(sec['open_cached']['s'], 2)} s."]
    if sec.get("components_ms"):
        lines += ["", "Calls one search makes, timed alone (median ms):", "", "| Call | ms |", "|---|---:|"]
        lines += [f"| {k} | {_f(v, 2)} |" for k, v in sec["components_ms"].items()]
    return lines


# --- main --------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC)
    n = args.n or (10_000 if args.quick else 100_000)
    base = Path(tempfile.mkdtemp(prefix="paperchat-bench-index-", dir=args.tmp))
    r: dict[str, Any] = {
        "benchmark": "index: ingest and search",
        "date": started.date().isoformat(),
        "started_utc": started.isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": machine_info(),
        "git": git_info(),
        "versions": versions(),
        "load_start": loadavg(),
        "busy_start": busy_processes(),
        "rng_seed": RNG_SEED,
    }
    t0 = time.perf_counter()
    try:
        with LoadSampler() as sampler:
            seeds, queries, embedder, seed_papers = seed_phases(base / "seeds", sampler, random.Random(RNG_SEED))
            r["seeds"] = seeds
            r["queries"] = queries
            r["synthetic"] = None
            if n > 0:
                r["synthetic"] = synth_phase(n, seed_papers, embedder, queries, sampler, base,
                                             breakdown=not args.no_breakdown)
            r["load_by_phase"] = {k: sampler.summary(k) for k in sampler.samples}
    finally:
        if args.keep:
            print(f"[bench] kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    r["total_s"] = round(time.perf_counter() - t0, 1)
    r["peak_rss_mib"] = max([round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                             *PHASE_PEAKS_MIB])
    r["load_end"] = loadavg()
    r["busy_end"] = busy_processes()
    r["verdicts"] = verdicts(r)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k synthetic papers instead of 100k")
    ap.add_argument("--n", type=int, default=None, help="synthetic papers (overrides --quick; 0 skips phase 4)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON result path (default bench/results/index-<date>[-quick].json); .md written beside it")
    ap.add_argument("--no-write", action="store_true", help="print the table, write nothing")
    ap.add_argument("--no-breakdown", action="store_true", help="skip re-running the BM25 build parts separately")
    ap.add_argument("--keep", action="store_true", help="keep the temporary homes")
    ap.add_argument("--tmp", default=None, help="directory for the temporary homes (default: system temp)")
    ap.add_argument("--render", type=Path, default=None, help="only re-render the .md of an existing result JSON")
    args = ap.parse_args()

    if args.render:
        r = json.loads(args.render.read_text("utf-8"))
        args.render.with_suffix(".md").write_text(render_md(r), "utf-8")
        print(f"wrote {args.render.with_suffix('.md')}", file=sys.stderr)
        return
    r = run(args)
    md = render_md(r)
    print(md)
    for v in r["verdicts"]:
        print(f"{v['verdict']:4}  {v['label']}: {_f(v['value'], 2)} {v['unit']} (target <= {v['limit']:g} {v['unit']})")
    if not args.no_write:
        suffix = "-quick" if (args.quick and not args.n) else ""
        out = args.out or RESULTS / f"index-{r['date']}{suffix}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(r, indent=2, default=str) + "\n", "utf-8")
        out.with_suffix(".md").write_text(md, "utf-8")
        print(f"wrote {out} and {out.with_suffix('.md')}", file=sys.stderr)


if __name__ == "__main__":
    main()
