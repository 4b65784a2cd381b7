import json, sys, re
from rag.paperchat import Paperchat
from rag.settings import load_settings
from rag.engine import AnswerEngine
from rag.text.titles import short_title
from rag.text.analysis import names
app = Paperchat(load_settings()); r = app.retriever(); eng = AnswerEngine(r, None)
out = {}
for p in sorted(r.papers.values(), key=lambda p: p.paper_id):
    if ':' not in p.title: continue
    head = short_title(p.title)
    ns = names(head)
    if not ns or ns[0] != head or len(head) > 30: continue
    for q in (f"Which paper introduced {head}?", f"Where was {head} originally proposed?"):
        a = eng.ask(q)
        out[q] = dict(refused=a.refused, cited=p.paper_id in [c.paper_id for c in a.citations], n=len(a.citations))
json.dump(out, open(sys.argv[1], 'w'))
n = len(out); print('questions', n, 'cited the paper', sum(v['cited'] for v in out.values()), 'refused', sum(v['refused'] for v in out.values()), 'mean citations', sum(v['n'] for v in out.values()) / n)
