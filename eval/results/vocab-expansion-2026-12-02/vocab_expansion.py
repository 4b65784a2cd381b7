"""Experiment: corpus-vocabulary neighbours as soft matches in the list judge's lexical features.

Run from the repository root with PAPERCHAT_HOME set to a seeds index, after
``python -m eval.fit_list_judge --cache CASES.json`` has written the training cases::

    python eval/results/vocab-expansion-2026-12-02/vocab_expansion.py CASES.json [TAU]
"""
import sys
import time
from pathlib import Path

import numpy as np

from eval import fit_list_judge as F
from rag.embed.bundled import embedder_from
from rag.ingest.corpus import bundled_seed_paths, load_corpus
from rag.lists.features import FEATURES
from rag.question.property import ABSENCE_CUES
from rag.settings import load_settings
from rag.text.analysis import STOPWORDS, Idf, query_terms, split_sentences, stem, terms, words

settings = load_settings()
emb = embedder_from(settings)
papers = {p.paper_id: p for p in load_corpus(bundled_seed_paths()).papers}
idf = Idf(f"{p.title} {p.abstract}" for p in papers.values())
vocab = sorted({w for p in papers.values() for w in words(f"{p.title} {p.abstract}") if w.isalpha() and len(w) >= 3 and w not in STOPWORDS})
print('vocab', len(vocab))
cache = Path(sys.argv[1]).with_suffix('.vocab.npy')
if cache.exists():
    V = np.load(cache)
else:
    t = time.time()
    V = emb.embed_documents(vocab)
    np.save(cache, V)
    print('embedded vocab in', time.time() - t)
vstem = [stem(w) for w in vocab]
items = F.training_items(F.ROOT/'gold-lists.jsonl', F.ROOT/'gold.jsonl')
cases = F.load_cases(Path(sys.argv[1]), items, FEATURES)
TAU = float(sys.argv[2]) if len(sys.argv) > 2 else 0.8
def neighbours(q):
    """stemmed topic term -> set of stems (itself and vocab neighbours)."""
    out = {}
    qws = [w for w in words(q) if w.isalpha() and len(w) >= 3 and w not in STOPWORDS]
    if not qws:
        return out
    Q = emb.embed_documents(qws)
    sims = Q @ V.T
    for i, w in enumerate(qws):
        s = stem(w)
        near = {vstem[j] for j in np.nonzero(sims[i] >= TAU)[0]}
        out.setdefault(s, {s}).update(near)
    return out
def syn_cov(topic, have, nb):
    total = sum(idf(t) for t in topic)
    if not total:
        return 0.0
    return sum(idf(t) for t in topic if t in have or (nb.get(t, set()) & have)) / total
newx = []
for c in cases:
    q = c.item.question
    topic = [t for t in query_terms(q) if t not in ABSENCE_CUES] or query_terms(q)
    nb = neighbours(q)
    rows = []
    for pid in c.pids:
        p = papers[pid]
        title = set(terms(p.title))
        allt = title | set(terms(p.abstract))
        best = max((syn_cov(topic, set(terms(s)) | title, nb) for s in split_sentences(p.abstract)), default=0.0)
        rows.append([syn_cov(topic, allt, nb), best])
    c.x = np.hstack([c.x, np.array(rows).reshape(len(c.pids), 2)]) if len(c.pids) else c.x
for l2 in (3.0, 10.0):
    base = [F.Case(item=c.item, pids=c.pids, x=c.x[:, :-2], labels=c.labels, rules=c.rules, veto=c.veto) for c in cases]
    pb, _ = F.cross_validate(base, l2)
    pn, _ = F.cross_validate(cases, l2)
    print(f"tau {TAU} l2 {l2}: base {F.fmt(F.score(base, pb))}\n   +syn {F.fmt(F.score(cases, pn))}")
