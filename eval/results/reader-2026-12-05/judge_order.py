"""Share of gold papers within the first N candidates a capable model judge would read, in three
orders: retrieval (hybrid), the reading judge's probability, the fitted judge's probability.
Over the list questions of the four held-out sets and the final split of gold-lists.jsonl.

    PAPERCHAT_HOME=<seeds ingested with defaults> python eval/results/reader-2026-12-05/judge_order.py
"""

from pathlib import Path

from eval.gold import load_gold
from rag.judge.reader import load_reader
from rag.lists import fitted as list_judge
from rag.paperchat import Paperchat
from rag.question.read import read_text
from rag.settings import load_settings

CAPS = (10, 20, 30)


def main() -> None:
    app = Paperchat(load_settings(llm_backend="none"))
    ret, reader = app.retriever(), load_reader()
    model = list_judge.shipped_model(None)
    items = [i for f in ("gold-holdout", "gold-holdout2", "gold-holdout3", "gold-holdout4")
             for i in load_gold(Path(f"eval/{f}.jsonl")) if i.answerable]
    items += [i for i in load_gold(Path("eval/gold-lists.jsonl")) if i.split == "final" and i.answerable]
    total = {(order, c): 0.0 for order in ("retrieval", "reader", "fitted") for c in CAPS}
    for it in items:
        q = read_text(it.question, "list")
        hits, _ = list_judge.gather(ret, q, 100, None, "hybrid")
        p_read = reader.paper_probabilities(q.text, q.terms, [h.paper for h in hits])
        cands = list_judge.pool_candidates(ret, q, hits, 40, reader)
        p_fit = [model.probability(c.features) for c in cands]
        orders = {"retrieval": hits,
                  "reader": [hits[i] for i in sorted(range(len(hits)), key=lambda i: (-p_read[i], i))],
                  "fitted": [hits[i] for i in sorted(range(len(hits)), key=lambda i: (-p_fit[i], i))]}
        gold = set(it.gold_ids)
        for name, ordered in orders.items():
            for c in CAPS:
                total[(name, c)] += len(gold & {h.paper.paper_id for h in ordered[:c]}) / len(gold)
    print(f"{len(items)} list questions")
    for (name, c), v in total.items():
        print(f"{name:>9} first {c}: {v / len(items):.3f}")


if __name__ == "__main__":
    main()
