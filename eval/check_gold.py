"""Validate the hand-written evaluation gold set (eval/gold.jsonl) against the paper corpus.

Usage (from the repository root, with the venv active)::

    python eval/check_gold.py                      # bundled seeds, eval/gold.jsonl
    python eval/check_gold.py --gold other.jsonl --corpus data/seeds
    python eval/check_gold.py --gold eval/gold-lists.jsonl   # the list set (no per-kind minimums)

Importable: ``check_gold(gold_path, papers) -> list[str]`` returns one human-readable problem per
violation (an empty list means the gold set is consistent with the corpus). ``papers`` is any
iterable of objects with ``.title`` and ``.abstract`` (e.g. ``rag.ingest.corpus.load_corpus(...).papers``)
or of dicts with ``"title"``/``"abstract"`` keys.

Checks:
  * every line is a JSON object with the fields id, question, kind, gold_titles, key_facts, notes
    of the right types; ids are unique; questions are non-empty and not duplicated;
  * kind is one of lookup | list | compare | numeric | unanswerable;
  * every gold (and acceptable) title exists in the corpus, matched by the parser's own paper id
    (``rag.ingest.fields.paper_id_for``: the one title normalisation); no gold title is repeated;
  * shape per kind: lookup = exactly 1 gold title, compare = exactly 2, list >= 2, numeric >= 1,
    unanswerable = no gold titles and no key facts; answerable kinds have >= 1 key fact;
  * every key fact occurs (case-insensitive, whitespace-normalised) in the title or abstract of at
    least one of that item's gold papers;
  * the set still has the minimum number of items per kind it was specified with, and the
    required "Which papers skip warmup?" list question.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from eval.gold import DEFAULT_GOLD, KINDS, parse_item
from rag.ingest.fields import paper_id_for

MIN_COUNTS = {"lookup": 20, "list": 15, "compare": 8, "numeric": 10, "unanswerable": 10}
MIN_TOTAL = 70
REQUIRED_QUESTIONS = {"Which papers skip warmup?": "list"}
SHAPES = {"lookup": (1, 1), "compare": (2, 2), "list": (2, None), "numeric": (1, None)}


def norm_text(text: str) -> str:
    """NFKC, casefolded, runs of whitespace collapsed to one space (key facts against abstracts)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _field(paper, name: str) -> str:
    value = paper.get(name) if isinstance(paper, dict) else getattr(paper, name, None)
    return value if isinstance(value, str) else ""


def _index(papers: Iterable) -> dict[str, list[str]]:
    """paper id (the parser's own normalised title) -> searchable texts of the papers with it."""
    index: dict[str, list[str]] = {}
    for paper in papers:
        title, abstract = _field(paper, "title"), _field(paper, "abstract")
        try:
            key = paper_id_for(title)
        except ValueError:
            continue
        index.setdefault(key, []).extend([norm_text(title), norm_text(abstract)])
    return index


def check_gold(gold_path: str | Path, papers: Iterable, *, minimums: bool | None = None) -> list[str]:
    """Return a list of problems found in the gold file (empty when everything checks out).

    Records are read by :func:`eval.gold.parse_item` (the one gold model); this adds what needs
    the corpus and the set as a whole. ``minimums`` (default: only for ``gold.jsonl``) checks the
    per-kind counts and the required warmup question."""
    gold_path = Path(gold_path)
    minimums = gold_path.name == DEFAULT_GOLD.name if minimums is None else minimums
    problems: list[str] = []
    index = _index(papers)
    if not index:
        return ["corpus is empty: no papers with a title to check against"]
    try:
        lines = gold_path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        return [f"{gold_path}: cannot read ({e.strerror or e})"]
    seen_ids: dict[str, int] = {}
    seen_questions: dict[str, str] = {}
    kinds: Counter[str] = Counter()
    questions_by_text: dict[str, str] = {}
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{gold_path.name}:{lineno}"
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: invalid JSON ({e.msg})")
            continue
        item = parse_item(rec, where, problems, lineno)
        if item is None:
            continue
        where = f"{where} ({item.id})"
        if item.id in seen_ids:
            problems.append(f"{where}: duplicate id (first on line {seen_ids[item.id]})")
        seen_ids.setdefault(item.id, lineno)
        qkey = norm_text(item.question)
        if qkey in seen_questions:
            problems.append(f"{where}: same question as {seen_questions[qkey]}")
        seen_questions.setdefault(qkey, item.id)
        questions_by_text[item.question] = item.kind
        kinds[item.kind] += 1
        n = len(item.gold_titles)
        if item.kind == "unanswerable":
            if item.key_facts:
                problems.append(f"{where}: unanswerable item has {len(item.key_facts)} key fact(s)")
            continue
        low, high = SHAPES[item.kind]
        if n < low or (high is not None and n > high):
            want = f"exactly {low}" if low == high else f"at least {low}"
            problems.append(f"{where}: {item.kind} needs {want} gold title(s), has {n}")
        if not item.key_facts:
            problems.append(f"{where}: {item.kind} item has no key facts")
        texts: list[str] = []
        for title, pid in zip(item.gold_titles, item.gold_ids, strict=True):
            if pid not in index:
                problems.append(f"{where}: gold title not in corpus: {title!r}")
            texts.extend(index.get(pid, []))
        for title, pid in zip(item.acceptable_titles, item.acceptable_ids, strict=True):
            if pid not in index:
                problems.append(f"{where}: acceptable title not in corpus: {title!r}")
        for fact in item.key_facts:
            if texts and not any(norm_text(fact) in t for t in texts):
                problems.append(f"{where}: key fact {fact!r} not found in any gold paper's title or abstract")
    if minimums:
        for kind, minimum in MIN_COUNTS.items():
            if kinds[kind] < minimum:
                problems.append(f"{gold_path.name}: only {kinds[kind]} {kind} item(s), need at least {minimum}")
        if sum(kinds.values()) < MIN_TOTAL:
            problems.append(f"{gold_path.name}: only {sum(kinds.values())} items, need at least {MIN_TOTAL}")
        for question, kind in REQUIRED_QUESTIONS.items():
            if questions_by_text.get(question) != kind:
                problems.append(f"{gold_path.name}: required {kind} question {question!r} is missing")
    return problems


def summary(gold_path: str | Path) -> Counter[str]:
    """Items per kind (for reporting); unreadable lines are skipped."""
    counts: Counter[str] = Counter()
    for raw in Path(gold_path).read_text(encoding="utf-8").splitlines():
        try:
            counts[json.loads(raw).get("kind", "?")] += 1
        except (json.JSONDecodeError, AttributeError):
            continue
    return counts


def _load_papers(corpus: list[str] | None):
    from rag.ingest.corpus import bundled_seed_paths, load_corpus

    paths = [Path(p) for p in corpus] if corpus else bundled_seed_paths()
    return load_corpus(paths).papers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gold", default=str(DEFAULT_GOLD), help="gold JSONL file (default: eval/gold.jsonl)"
    )
    parser.add_argument(
        "--corpus", nargs="*", help="corpus files or directories (default: the bundled seeds in data/seeds)"
    )
    args = parser.parse_args(argv)

    papers = _load_papers(args.corpus)
    problems = check_gold(args.gold, papers)
    counts = summary(args.gold)
    print(
        f"{sum(counts.values())} gold items against {len(papers)} papers: "
        + ", ".join(f"{k}={counts.get(k, 0)}" for k in KINDS)
    )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
