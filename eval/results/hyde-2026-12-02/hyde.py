"""Experiment: HyDE (a hypothetical abstract written by the bundled model) as a list-judge feature.

Run from the repository root with PAPERCHAT_HOME set to a seeds index, after
``python -m eval.fit_list_judge --cache CASES.json`` has written the training cases::

    python eval/results/hyde-2026-12-02/hyde.py CASES.json [OUT.json]
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from eval import fit_list_judge as F
from rag.embed.bundled import embedder_from
from rag.ingest.corpus import bundled_seed_paths, load_corpus
from rag.lists.features import FEATURES
from rag.llm import local_backend
from rag.settings import load_settings

settings = load_settings()
emb = embedder_from(settings)
papers = {p.paper_id: p for p in load_corpus(bundled_seed_paths()).papers}
items = F.training_items(F.ROOT/'gold-lists.jsonl', F.ROOT/'gold.jsonl')
cases = F.load_cases(Path(sys.argv[1]), items, FEATURES)
out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(sys.argv[1]).with_suffix('.hyde.json')
hyde = json.loads(out.read_text()) if out.exists() else {}
llm = local_backend(settings)
times = []
for c in cases:
    q = c.item.question
    if q in hyde:
        continue
    t = time.time()
    txt = llm.complete([{"role": "system", "content": "You write abstracts of machine-learning research papers."},
                        {"role": "user", "content": f"Write a three-sentence abstract of a paper that answers this question: {q}"}],
                       max_tokens=120)
    times.append(time.time() - t)
    hyde[q] = txt
    out.write_text(json.dumps(hyde))
    print(len(hyde), f"{times[-1]:.1f}s", txt[:100].replace('\n', ' '), flush=True)
print('median s per question', np.median(times) if times else None)
pids = sorted(papers)
P = emb.embed_documents([f"{papers[p].title}. {papers[p].abstract}" for p in pids])
row = {p: i for i, p in enumerate(pids)}
H = emb.embed_documents([hyde[c.item.question] for c in cases])
for k, c in enumerate(cases):
    if not len(c.pids):
        continue
    sims = np.array([float(P[row[p]] @ H[k]) for p in c.pids])
    c.x = np.hstack([c.x, np.stack([sims, sims - sims.max()], 1)])
for l2 in (3.0, 10.0):
    base = [F.Case(item=c.item, pids=c.pids, x=c.x[:, :len(FEATURES)], labels=c.labels, rules=c.rules, veto=c.veto) for c in cases]
    pb, _ = F.cross_validate(base, l2)
    pn, _ = F.cross_validate(cases, l2)
    print(f"l2 {l2}: base {F.fmt(F.score(base, pb))}\n   +hyde {F.fmt(F.score(cases, pn))}")
