"""Snapshot every gold question's answer (backend none) for a behaviour-neutral check."""
import json, sys, time
from pathlib import Path
from rag.paperchat import Paperchat
from rag.settings import load_settings

home, out = Path(sys.argv[1]), Path(sys.argv[2])
variant = sys.argv[3] if len(sys.argv) > 3 else None
s = load_settings(home=home, llm_backend="none")
if variant:
    section, field, value = variant.split(":")
    s = s.model_copy(update={section: getattr(s, section).model_copy(update={field: value})})
app = Paperchat(s)
pass

qs = []
for f in sorted(p for p in Path("eval").glob("gold*.jsonl") if "holdout5" not in p.name):
    for line in f.open():
        if line.strip():
            qs.append(json.loads(line)["question"])
qs = list(dict.fromkeys(qs))
res = {}
t0 = time.time()
for q in qs:
    t = time.perf_counter()
    a = app.ask(q)
    res[q] = {"text": a.text, "refused": a.refused, "route": a.route, "backend": a.backend,
              "cites": [(c.n, c.paper_id, c.quote) for c in a.citations], "notes": a.notes, "excluded": [(e.paper_id, e.quote) for e in a.excluded],
              "lat": round(time.perf_counter() - t, 3)}
out.write_text(json.dumps(res, indent=1))
print(len(qs), "questions", round(time.time() - t0), "s")
