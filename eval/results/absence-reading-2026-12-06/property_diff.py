"""Print each gold list / unanswerable question's property (polarity, topic), one JSON line each:
run at two commits (``PYTHONPATH=<tree>``) from the repository root, and diff the outputs."""

import glob
import json

from rag.question.read import read_text

for path in sorted(glob.glob("eval/gold*.jsonl")):
    for line in open(path, encoding="utf-8"):
        g = json.loads(line)
        if g.get("kind") in ("list", "unanswerable"):
            p = read_text(g["question"], "list").property
            print(json.dumps([path.split("/")[-1], g["id"], p.polarity, p.topic]))
