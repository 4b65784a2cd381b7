"""Every gold question answered twice on the same index, backend none: by the engine
(``Paperchat.ask``, what "ours" runs) and through the LlamaIndex door (``ours-llamaindex``:
``rag.llamaindex.router_query_engine``); the answers must be identical, and the door's cost per
question is the difference in time. Usage: python compare.py HOME OUT.json"""

import json
import statistics
import sys
from pathlib import Path

from eval.systems import PaperchatAnswers
from rag.paperchat import Paperchat
from rag.settings import load_settings

home, out = Path(sys.argv[1]), Path(sys.argv[2])
app = Paperchat(load_settings(home=home, llm_backend="none"))
ours, door = PaperchatAnswers(app, "ours"), PaperchatAnswers(app, "ours-llamaindex")
questions = list(dict.fromkeys(json.loads(line)["question"] for f in sorted(Path("eval").glob("gold*.jsonl"))
                               for line in f.open() if line.strip()))
ours.answer(questions[0]), door.answer(questions[0])  # warm both
rows, same = [], 0
for q in questions:
    a, b = ours.answer(q), door.answer(q)  # alternate, so load affects both alike
    key = lambda o: (o.text, o.refused, o.route, o.backend, [(c.n, c.paper_id, c.supported) for c in o.citations])  # noqa: E731
    identical = key(a) == key(b)
    same += identical
    rows.append({"question": q, "identical": identical, "ours_s": round(a.latency_s, 4), "door_s": round(b.latency_s, 4)})
extra = [r["door_s"] - r["ours_s"] for r in rows]
summary = {"questions": len(rows), "identical": same,
           "ours_median_s": statistics.median(r["ours_s"] for r in rows),
           "door_median_s": statistics.median(r["door_s"] for r in rows),
           "door_extra_median_s": statistics.median(extra), "door_extra_mean_s": statistics.fmean(extra)}
out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
print(json.dumps(summary, indent=1))
