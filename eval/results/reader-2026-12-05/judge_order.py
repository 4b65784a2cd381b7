"""Recall of gold papers within the first N candidates a capable model judge would read: hybrid order vs reading-judge order (tune split)."""
import sys
from pathlib import Path
from eval.gold import load_gold
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag import list_judge
from rag.reader import load_reader
from rag.judge_input import judge_passage
s = load_settings(home=Path("/tmp/snap/home"), llm_backend="none")
app = Paperchat(s); ret = app.retriever(); r = load_reader()
items = [i for f in ("gold-holdout", "gold-holdout2", "gold-holdout3", "gold-holdout4") for i in load_gold(Path(f"eval/{f}.jsonl")) if i.answerable]
items += [i for i in load_gold(Path("eval/gold-lists.jsonl")) if i.split == "final" and i.answerable]
caps = (10, 20, 30)
tot = {("hybrid", c): 0.0 for c in caps} | {("reader", c): 0.0 for c in caps} | {("fitted", c): 0.0 for c in caps}
for it in items:
    hits, _ = list_judge.gather(ret, it.question, 100, None, "hybrid")
    p = r.probabilities(it.question, [judge_passage(it.question, h.paper.title, h.paper.abstract) for h in hits])
    by_reader = [hits[i] for i in sorted(range(len(hits)), key=lambda i: (-p[i], i))]
    model = list_judge.shipped_model(None)
    cands = list_judge.pool_candidates(ret, it.question, hits, 40, r)
    pf = [model.probability(c.features) for c in cands]
    by_fit = [hits[i] for i in sorted(range(len(hits)), key=lambda i: (-pf[i], i))]
    gold = set(it.gold_ids)
    for c in caps:
        tot[("hybrid", c)] += len(gold & {h.paper.paper_id for h in hits[:c]}) / len(gold)
        tot[("reader", c)] += len(gold & {h.paper.paper_id for h in by_reader[:c]}) / len(gold)
        tot[("fitted", c)] += len(gold & {h.paper.paper_id for h in by_fit[:c]}) / len(gold)
print(len(items), "list questions")
for k, v in tot.items(): print(k, round(v / len(items), 3))
