"""The shape of the code a question runs through, for the architecture notes (not a timing):

* ``imports``: the graph of ``rag`` modules importing each other at module level (from the
  source, no import executed): modules, edges, the most-imported, and any import cycle;
* ``path``: one question answered on an index (backend none), following the question: every
  call into a ``rag`` function that receives the question (its text as asked or as the follow-up
  rewriting left it, or a read ``Question`` carrying that text) as an argument is traced: the
  modules visited, the stops (each time such a call is in a different module than the previous
  one), the returns to a module already left, and how often a reader parses the text itself
  (terms, names, property, claim, frame).

Usage::

    python bench/question_path.py imports
    python bench/question_path.py path --home ~/.paperchat "Which papers skip warmup?"
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph(package: str = "rag") -> dict[str, set[str]]:
    """Module -> the package modules it imports at module level (not inside functions, not under
    ``if TYPE_CHECKING``)."""
    mods = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text("utf-8"))
        deps: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name and t.startswith(package):
                    deps.add(t)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles (each reported once, from its smallest module name)."""
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for dep in graph.get(node, ()):
            if dep == start:
                i = path.index(min(path))
                found.add(tuple(path[i:] + path[:i]))
            elif dep not in path and dep > start:
                walk(start, dep, path + [dep])

    for m in graph:
        walk(m, m, [m])
    return [list(c) for c in sorted(found)]


# functions that parse a question's text into terms, names, a property, a claim or a frame: after
# the question is read once, each runs once per answer
READERS = frozenset({"query_terms", "names", "parse_property", "property_of", "claim_of", "question_frame",
                     "wants_number", "is_compare", "is_aggregate"})


def _carries(value, wanted: set[str]) -> bool:
    """The question's text, or an object that carries it (a read ``Question``, a list question)."""
    if isinstance(value, str):
        return value in wanted
    for attr in ("text", "asked", "question"):
        inner = getattr(value, attr, None)
        if isinstance(inner, str) and inner in wanted:
            return True
        if inner is not None and not isinstance(inner, str) and isinstance(getattr(inner, "text", None), str):
            return inner.text in wanted
    return False


def question_path(home: Path, question: str) -> dict:
    """Trace one answer: the sequence of rag modules the call stack moves through."""
    from rag.paperchat import Paperchat
    from rag.settings import load_settings

    app = Paperchat(load_settings(home=home, llm_backend="none"))
    engine = app.answer_engine()
    engine.ask(question)  # warm: caches and lazy loads are not the question's path
    stops: list[str] = []

    wanted = {question, " ".join(question.split())}
    reads: Counter[str] = Counter()

    def tracer(frame, event, arg):
        mod = frame.f_globals.get("__name__", "")
        if not mod.startswith("rag"):
            return
        code = frame.f_code
        args = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        values = [frame.f_locals.get(a) for a in args]
        if any(_carries(v, wanted) for v in values):
            if not stops or stops[-1] != mod:
                stops.append(mod)
            if code.co_name in READERS and any(isinstance(v, str) and v in wanted for v in values):
                reads[f"{mod}.{code.co_name}"] += 1

    sys.setprofile(lambda f, e, a: tracer(f, e, a) if e == "call" else None)
    try:
        engine.ask(question)
    finally:
        sys.setprofile(None)
    left: set[str] = set()
    returns = 0
    for prev, cur in zip(stops, stops[1:], strict=False):
        left.add(prev)
        if cur in left:
            returns += 1
    return {"question": question, "modules": sorted(set(stops)), "n_modules": len(set(stops)), "stops": len(stops),
            "returns_to_a_module_left": returns, "reads_of_the_text": dict(reads.most_common()),
            "visits": Counter(stops).most_common()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("imports")
    p = sub.add_parser("path")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("question")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.cmd == "imports":
        g = import_graph()
        indeg = Counter(d for deps in g.values() for d in deps)
        print(json.dumps({"modules": len(g), "edges": sum(len(d) for d in g.values()),
                          "most_imported": indeg.most_common(8), "cycles": cycles(g),
                          "graph": {k: sorted(v) for k, v in sorted(g.items())}}, indent=1))
    else:
        print(json.dumps(question_path(args.home, args.question), indent=1))


if __name__ == "__main__":
    main()
