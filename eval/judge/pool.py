"""Gather the candidates each judge-training need is labelled over: paperchat's own hybrid
retrieval over the training corpus (top ``k`` for each wording), the writer's known and near
papers, and a few random papers (seeded), so the judge sees easy negatives too.

    python -m eval.judge.pool --home /tmp/pc-train --corpus ../shared/corpora/arxiv-2025-train/papers.jsonl

``pool.jsonl`` was made with the defaults (``-k 20``). The corpus is ingested into ``--home`` first (``paperchat --home DIR ingest papers.jsonl``); the
pool refers to papers by arXiv id, as the labels do.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.ingest.fields import paper_id_for

HERE = Path(__file__).resolve().parent.parent / "judge_data"


def load_questions(folder: Path = HERE / "questions") -> list[dict]:
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.open(encoding="utf-8")
            if line.strip()]


def corpus_ids(corpus: Path) -> dict[str, str]:
    """paperchat paper id -> arXiv id."""
    out = {}
    for line in corpus.open(encoding="utf-8"):
        rec = json.loads(line)
        out[paper_id_for(rec["title"])] = rec["arxiv_id"]
    return out


def gather(home: Path, corpus: Path, k: int, randoms: int, seed: int) -> list[dict]:
    from rag.paperchat import Paperchat
    from rag.settings import load_settings

    app = Paperchat(load_settings(home=home))
    to_arxiv = corpus_ids(corpus)
    every = sorted(set(to_arxiv.values()))
    rng = random.Random(seed)
    needs: dict[str, list[dict]] = {}
    for q in load_questions():
        needs.setdefault(q["need"], []).append(q)
    pool = []
    for need, qs in sorted(needs.items()):
        found: dict[str, str] = {}
        for q in sorted(qs, key=lambda q: q["wording"]):
            for h in app.search(q["question"], k=k).hits:
                found.setdefault(to_arxiv[h.paper.paper_id], f"retrieved-{q['wording']}")
        for a in qs[0]["known"]:
            found.setdefault(a, "known")
        for a in qs[0]["near"]:
            found.setdefault(a, "near")
        for a in rng.sample(every, randoms * 3):
            if sum(v == "random" for v in found.values()) >= randoms:
                break
            found.setdefault(a, "random")
        pool.append({"need": need, "kind": qs[0]["kind"], "papers": found})
    return pool


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("-k", type=int, default=20)
    ap.add_argument("--randoms", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--out", type=Path, default=HERE / "pool.jsonl")
    a = ap.parse_args()
    pool = gather(a.home, a.corpus, a.k, a.randoms, a.seed)
    a.out.write_text("".join(json.dumps(p) + "\n" for p in pool), "utf-8")
    print(f"{len(pool)} needs, {sum(len(p['papers']) for p in pool)} (need, paper) pairs -> {a.out}")


if __name__ == "__main__":
    main()
