"""Compare two snapshots (``snapshot.py``): how many questions keep each field identical, and the
first differences of each field."""

import json
import sys

FIELDS = ["refused", "route", "backend", "cites", "notes", "excluded", "text"]


def main() -> None:
    a = json.load(open(sys.argv[1], encoding="utf-8"))
    b = json.load(open(sys.argv[2], encoding="utf-8"))
    common = [q for q in a if q in b]
    print(len(a), len(b), "common", len(common))
    diffs = {k: [q for q in common if a[q].get(k) != b[q].get(k)] for k in FIELDS}
    for k in FIELDS:
        print(f"{k}: {len(common) - len(diffs[k])}/{len(common)} identical")
    for k in FIELDS:
        for q in diffs[k][:3]:
            print("---", k, q)
            print(" A:", json.dumps(a[q].get(k))[:400])
            print(" B:", json.dumps(b[q].get(k))[:400])


if __name__ == "__main__":
    main()
