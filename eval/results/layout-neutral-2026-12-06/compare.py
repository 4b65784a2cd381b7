import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
keys = ["refused", "route", "backend", "cites", "notes", "excluded", "text"]
same = {k: 0 for k in keys}; diffs = {k: [] for k in keys}
qs = [q for q in a if q in b]
for q in qs:
    for k in keys:
        if a[q].get(k) == b[q].get(k):
            same[k] += 1
        else:
            diffs[k].append(q)
print(len(a), len(b), "common", len(qs))
for k in keys:
    print(f"{k}: {same[k]}/{len(qs)} identical")
for k in keys:
    for q in diffs[k][:3]:
        print("---", k, q); print(" A:", json.dumps(a[q].get(k))[:400]); print(" B:", json.dumps(b[q].get(k))[:400])
