"""Snapshot every gold question's answer (backend none) for a behaviour-neutral check: run it with
``PYTHONPATH`` set to each tree, on one index, then ``compare.py`` the two files.

    PYTHONPATH=<tree> python snapshot.py <paperchat home> <out.json>
"""

import json
import sys
import time
from pathlib import Path

from rag.paperchat import Paperchat
from rag.settings import load_settings


def main() -> None:
    home, out = Path(sys.argv[1]), Path(sys.argv[2])
    app = Paperchat(load_settings(home=home, llm_backend="none"))
    qs = []
    for f in sorted(p for p in Path("eval").glob("gold*.jsonl") if "holdout5" not in p.name):
        qs += [json.loads(line)["question"] for line in f.open(encoding="utf-8") if line.strip()]
    qs = list(dict.fromkeys(qs))
    res = {}
    t0 = time.time()
    for q in qs:
        t = time.perf_counter()
        a = app.ask(q)
        res[q] = {"text": a.text, "refused": a.refused, "route": a.route, "backend": a.backend,
                  "cites": [(c.n, c.paper_id, c.quote) for c in a.citations], "notes": a.notes,
                  "excluded": [(e.paper_id, e.quote) for e in a.excluded], "lat": round(time.perf_counter() - t, 3)}
    out.write_text(json.dumps(res, indent=1), "utf-8")
    print(len(qs), "questions", round(time.time() - t0), "s")


if __name__ == "__main__":
    main()
