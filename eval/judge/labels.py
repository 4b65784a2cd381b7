"""Labelling batches for annotators, and what their labels say together.

    python -m eval.judge.labels batches --corpus PAPERS.jsonl --out /tmp/judge-batches [--per 8]
    python -m eval.judge.labels agreement            # Cohen's kappa on the pairs labelled twice
    python -m eval.judge.labels merge                # one label per (need, paper): eval/judge_data/labels.jsonl

A batch shows each need's two wordings and its candidates (title and abstract, in a seeded
shuffle, without where they came from), so an annotator judges by reading alone. Batches are
written outside the project: they hold the corpus's abstracts, which stay in ``../shared``.
Labels refer to papers by arXiv id (``eval/judge_data/labels/<batch>.<annotator>.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

from eval.judge.pool import HERE, load_questions

LABELS = HERE / "labels"


def _load_pool() -> list[dict]:
    return [json.loads(line) for line in (HERE / "pool.jsonl").open(encoding="utf-8")]


def write_batches(corpus: Path, out: Path, per: int, seed: int) -> list[Path]:
    papers = {}
    for line in corpus.open(encoding="utf-8"):
        rec = json.loads(line)
        papers[rec["arxiv_id"]] = rec
    questions: dict[str, dict[str, str]] = defaultdict(dict)
    for q in load_questions():
        questions[q["need"]][q["wording"]] = q["question"]
    pool = _load_pool()
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for b in range(0, len(pool), per):
        name = f"batch-{b // per + 1:02d}"
        parts = [f"# {name}\n\nLabel every candidate of every need below, following LABEL-GUIDE.md.\n"]
        for item in pool[b : b + per]:
            ids = sorted(item["papers"])
            rng.shuffle(ids)
            q = questions[item["need"]]
            parts.append(f"\n## need {item['need']} (kind: {item['kind']})\n\n- a: {q['a']}\n- b: {q['b']}\n\n"
                         f"{len(ids)} candidates:\n")
            for i, pid in enumerate(ids, start=1):
                p = papers[pid]
                parts.append(f"\n### {item['need']} candidate {i}: paper {pid}\n**{p['title']}**\n\n{p['abstract']}\n")
        path = out / f"{name}.md"
        path.write_text("".join(parts), "utf-8")
        paths.append(path)
    return paths


def load_labels() -> dict[str, dict[tuple[str, str], dict]]:
    """annotator file stem -> {(need, paper): label record}."""
    out: dict[str, dict[tuple[str, str], dict]] = {}
    for f in sorted(LABELS.glob("*.jsonl")):
        got = {}
        for line in f.open(encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                got[(r["need"], str(r["paper"]))] = r
        out[f.stem] = got
    return out


def cohen_kappa(a: list[int], b: list[int]) -> float:
    """Cohen's kappa of two label lists over the same items."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement() -> dict:
    """Kappa over every pair two annotators both labelled: on the three labels, and on
    qualifies-or-borderline vs not (what the judge is trained to tell apart)."""
    files = load_labels()
    by_batch: dict[str, list[str]] = defaultdict(list)
    for stem in files:
        by_batch[stem.split(".")[0]].append(stem)
    a3, b3 = [], []
    for stems in by_batch.values():
        if len(stems) < 2:
            continue
        x, y = files[stems[0]], files[stems[1]]
        for key in sorted(set(x) & set(y)):
            a3.append(int(x[key]["label"]))
            b3.append(int(y[key]["label"]))
    a2 = [int(v >= 1) for v in a3]
    b2 = [int(v >= 1) for v in b3]
    a_strict = [int(v == 2) for v in a3]
    b_strict = [int(v == 2) for v in b3]
    return {"pairs": len(a3), "kappa_3way": cohen_kappa(a3, b3), "kappa_any_vs_none": cohen_kappa(a2, b2),
            "kappa_qualifies_vs_rest": cohen_kappa(a_strict, b_strict),
            "raw_agreement": sum(x == y for x, y in zip(a3, b3, strict=True)) / max(1, len(a3))}


def merge() -> Path:
    """One label per (need, paper): the first annotator's, except where two disagree by two
    steps (2 vs 0), which become borderline (1). Missing pairs are reported."""
    files = load_labels()
    merged: dict[tuple[str, str], dict] = {}
    for stem in sorted(files):
        for key, r in files[stem].items():
            have = merged.get(key)
            if have is None:
                merged[key] = dict(r, annotators=[r.get("annotator", stem)])
            else:
                have["annotators"].append(r.get("annotator", stem))
                if abs(int(have["label"]) - int(r["label"])) == 2:
                    have["label"] = 1
    wanted = {(p["need"], pid) for p in _load_pool() for pid in p["papers"]}
    missing = sorted(wanted - set(merged))
    out = HERE / "labels.jsonl"
    out.write_text("".join(json.dumps(merged[k]) + "\n" for k in sorted(merged) if k in wanted), "utf-8")
    print(f"{len(merged)} labelled pairs, {len(missing)} of {len(wanted)} still unlabelled -> {out}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("batches")
    b.add_argument("--corpus", type=Path, required=True)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--per", type=int, default=8)
    b.add_argument("--seed", type=int, default=20261205)
    sub.add_parser("agreement")
    sub.add_parser("merge")
    a = ap.parse_args()
    if a.cmd == "batches":
        paths = write_batches(a.corpus, a.out, a.per, a.seed)
        print(f"{len(paths)} batches in {a.out}")
    elif a.cmd == "agreement":
        print(json.dumps(agreement(), indent=2))
    else:
        merge()


if __name__ == "__main__":
    main()
