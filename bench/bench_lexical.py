"""The BM25 index and paper catalogue alone at 1M synthetic papers (no Chroma, no model).

The dense side's cost is Chroma's and is measured by bench_scale.py up to 100k; this script
measures the parts paperchat itself owns at the size the issue asks for: the lexical index's
assembly and update, the catalogue write, cold open (mapping the files) in a fresh process, BM25
search p50/p95 with and without a date filter, the filter mask alone, a paper lookup, the
process's RSS, and the files' size.

Synthetic papers as in bench_index.synthetic_papers (5-8 random seed-abstract sentences, synthetic
titles, dates over 2022-2025 with 20% undated, upvotes 0-300, fixed seed). To build 1M documents in
minutes, each seed sentence and title word is tokenised once by the real analyser
(``rag.text.analysis.index_tokens``) and a paper's tokens are the concatenation (the analyser works word by
word), counted into postings with numpy and assembled by ``LexicalIndex._assemble`` (the part of
``LexicalIndex.build`` after its per-token Python loop; that loop's cost at 100k is in the BM25
build time of bench_scale). The update (1,000 new papers, 1% of the old ones changed or removed)
goes through the real ``LexicalIndex.merged`` with the real tokens.

    python bench/bench_lexical.py --n 1000000 [--tmp DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from procstat import memory_mib  # bench/ is the script's directory

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RNG_SEED = 20261123


def child(path: str, queries_file: str) -> None:
    from rag.retrieve.derived import open_derived
    from rag.types.papers import Filters

    before = memory_mib()
    t = time.perf_counter()
    d = open_derived(Path(path))
    open_s = time.perf_counter() - t
    queries = json.loads(Path(queries_file).read_text())
    flt = Filters(date_from="2024-01-01")
    out: dict = {"open_s": round(open_s, 4), "papers": len(d.catalogue)}
    for name, f in (("bm25", None), ("bm25_date_filter", flt)):
        walls = []
        for q in ["warm up"] + queries:
            t = time.perf_counter()
            mask = d.catalogue.mask(f)[0] if f else None
            rows = d.lexical.search_rows(q, 50, mask)
            d.catalogue.ids_at([r for r, _ in rows])
            walls.append((time.perf_counter() - t) * 1000)
        walls = walls[1:]
        out[name] = {"p50": round(float(np.percentile(walls, 50)), 2),
                     "p95": round(float(np.percentile(walls, 95)), 2)}
    walls = []
    for _ in range(20):
        t = time.perf_counter()
        d.catalogue.mask(flt)
        walls.append((time.perf_counter() - t) * 1000)
    out["mask_ms_p50"] = round(float(np.percentile(walls, 50)), 2)
    rows = list(range(0, len(d.catalogue), max(1, len(d.catalogue) // 50)))[:50]
    t = time.perf_counter()
    for pid in d.catalogue.ids_at(rows):
        d.catalogue.paper(pid)
    out["paper_lookup_ms"] = round((time.perf_counter() - t) * 1000 / len(rows), 3)
    after = memory_mib()
    out["rss_mib"] = {"before_open": before, "after_search": after,
                      "growth": round(after["VmRSS"] - before["VmRSS"], 1),
                      "anon_growth": round(after["RssAnon"] - before["RssAnon"], 1)}
    print("CHILD-RESULT " + json.dumps(out))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--add", type=int, default=1000)
    ap.add_argument("--tmp", default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from bench_index import build_queries, synthetic_papers

    from eval.machine import git_info, loadavg, machine_info
    from rag.ingest.corpus import bundled_seed_paths, load_corpus
    from rag.retrieve.lexical import LexicalIndex
    from rag.storage.catalogue_write import write_catalogue
    from rag.text.analysis import index_tokens, split_sentences

    t0 = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="lex-", dir=args.tmp))
    r: dict = {"date": date.today().isoformat(), "machine": machine_info(), "git": git_info(),
               "load_start": loadavg(), "n": args.n}
    seeds = load_corpus(bundled_seed_paths()).papers
    queries = [q["text"] for q in build_queries(seeds, random.Random(RNG_SEED))]
    (base / "q.json").write_text(json.dumps(queries))
    pool = sorted({s for p in seeds for s in split_sentences(p.abstract) if len(s) >= 20}, key=lambda s: (len(s), s))
    title_words = sorted({w.lower() for p in seeds for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-']*", p.title)
                          if w.isalpha() and len(w) >= 4})
    sent_tokens = [index_tokens(s) for s in pool]
    word_tokens = {w: index_tokens(w.capitalize()) for w in title_words}

    t = time.perf_counter()
    vocab: dict[str, int] = {}

    def ids(toks: list[str]) -> np.ndarray:
        return np.array([vocab.setdefault(x, len(vocab)) for x in toks], dtype=np.int64)

    sent_ids = [ids(x) for x in sent_tokens]
    word_ids = {w: ids(x) for w, x in word_tokens.items()}
    papers, pieces, new_docs = [], [], []
    for i, (paper, idx) in enumerate(synthetic_papers(args.n + args.add, pool, title_words, random.Random(RNG_SEED))):
        head, rest = paper.title.split(": ", 1)
        papers.append(paper)
        if i >= args.n:  # the update's papers go through the real tokens
            new_docs.append(index_tokens(head) + [x for w in rest.split() for x in word_tokens[w.lower()]]
                            + [x for j in idx for x in sent_tokens[j]])
            continue
        pieces.append(np.concatenate([ids(index_tokens(head)), *(word_ids[w.lower()] for w in rest.split()),
                                      *(sent_ids[j] for j in idx)]))
    r["generate_s"] = round(time.perf_counter() - t, 1)
    print(f"[lex] generated {len(papers)} in {r['generate_s']} s", file=sys.stderr, flush=True)

    t = time.perf_counter()
    lengths = np.array([len(x) for x in pieces], dtype=np.int32)
    terms_all = np.concatenate(pieces)
    del pieces
    rows = np.repeat(np.arange(args.n, dtype=np.int64), lengths)
    keys, tf = np.unique(terms_all * args.n + rows, return_counts=True)
    del terms_all, rows
    lex = LexicalIndex._assemble(vocab, keys // args.n, keys % args.n, tf.astype(np.int32), lengths)
    del keys, tf
    r["assemble_s"] = round(time.perf_counter() - t, 1)
    r["postings"] = int(lex.docs.shape[0])
    r["vocab"] = int(lex.vocab.shape[0])
    print(f"[lex] assembled in {r['assemble_s']} s, {r['postings']:,} postings", file=sys.stderr, flush=True)
    path = base / "gen1"
    t = time.perf_counter()
    write_catalogue(path, papers[: args.n], [[f"{p.paper_id}-0"] for p in papers[: args.n]])
    r["catalogue_write_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    lex.save(path / "bm25")
    r["bm25_save_s"] = round(time.perf_counter() - t, 1)
    r["disk_mib"] = round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)
    print(f"[lex] catalogue {r['catalogue_write_s']} s, disk {r['disk_mib']} MiB", file=sys.stderr, flush=True)

    keep = np.ones(args.n, dtype=bool)
    keep[:: 100] = False  # 1% of the papers changed or removed
    t = time.perf_counter()
    merged = lex.merged(keep, new_docs)
    r["update_merge_s"] = round(time.perf_counter() - t, 1)
    r["update_postings"] = int(merged.docs.shape[0])
    print(f"[lex] update merged in {r['update_merge_s']} s", file=sys.stderr, flush=True)
    del merged, lex

    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(path), str(base / "q.json")],
                       capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=1800)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("CHILD-RESULT ")), None)
    if line is None:
        raise RuntimeError(p.stderr[-3000:])
    r["serve"] = json.loads(line[len("CHILD-RESULT "):])
    r["load_end"], r["total_s"] = loadavg(), round(time.perf_counter() - t0)
    stem = RESULTS / f"lexical-{r['date']}-{args.n // 1000}k"
    stem.with_suffix(".json").write_text(json.dumps(r, indent=1))
    print(json.dumps(r["serve"]), file=sys.stderr)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
