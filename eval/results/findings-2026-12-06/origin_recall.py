"""Recall check of the origin veto: "Which paper introduced X?" and "Where was X originally
proposed?" for every indexed paper whose title gives a name X ("FlashAttention-2: ..."). Writes
each answer's verdict to the JSON file named on the command line and prints the counts: the paper
itself cited, cited alone, answers citing only other papers. Run at two commits and compare."""

import json
import sys

from rag.engine import AnswerEngine
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.text.analysis import names
from rag.text.titles import short_title


def main(path: str) -> None:
    retriever = Paperchat(load_settings()).retriever()
    engine = AnswerEngine(retriever, None)
    out = {}
    for p in sorted(retriever.papers.values(), key=lambda p: p.paper_id):
        head = short_title(p.title)
        found = names(head)
        if ":" not in p.title or not found or found[0] != head or len(head) > 30:
            continue
        for q in (f"Which paper introduced {head}?", f"Where was {head} originally proposed?"):
            a = engine.ask(q)
            cited = [c.paper_id for c in a.citations]
            out[q] = {"refused": a.refused, "cited": p.paper_id in cited, "n": len(cited)}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    v = list(out.values())
    print(f"questions {len(v)}; the paper cited {sum(x['cited'] for x in v)}, "
          f"alone {sum(x['cited'] and x['n'] == 1 for x in v)}; refused {sum(x['refused'] for x in v)}; "
          f"answered without it {sum(not x['refused'] and not x['cited'] for x in v)}")


if __name__ == "__main__":
    main(sys.argv[1])
