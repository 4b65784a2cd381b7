"""Validate the hand-written evaluation gold set (eval/gold.jsonl) against the paper corpus.

Usage (from the repository root, with the venv active)::

    python eval/check_gold.py                      # bundled seeds, eval/gold.jsonl
    python eval/check_gold.py --gold other.jsonl --corpus data/seeds

Importable: ``check_gold(gold_path, papers) -> list[str]`` returns one human-readable problem per
violation (an empty list means the gold set is consistent with the corpus). ``papers`` is any
iterable of objects with ``.title`` and ``.abstract`` (e.g. ``rag.corpus.load_corpus(...).papers``)
or of dicts with ``"title"``/``"abstract"`` keys.

Checks:
  * every line is a JSON object with the fields id, question, kind, gold_titles, key_facts, notes
    of the right types; ids are unique; questions are non-empty and not duplicated;
  * kind is one of lookup | list | compare | numeric | unanswerable;
  * every gold title exists in the corpus, matched by normalised title (NFKC, lowercase,
    non-alphanumerics removed); no gold title is repeated within an item;
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

KINDS = ("lookup", "list", "compare", "numeric", "unanswerable")
MIN_COUNTS = {"lookup": 20, "list": 15, "compare": 8, "numeric": 10, "unanswerable": 10}
MIN_TOTAL = 70
REQUIRED_QUESTIONS = {"Which papers skip warmup?": "list"}
FIELDS = {
    "id": str,
    "question": str,
    "kind": str,
    "gold_titles": list,
    "key_facts": list,
    "notes": str,
}

DEFAULT_GOLD = Path(__file__).resolve().parent / "gold.jsonl"


def norm_title(title: str) -> str:
    """NFKC, lowercase, drop everything that is not a letter or digit."""
    text = unicodedata.normalize("NFKC", title).lower()
    return "".join(ch for ch in text if ch.isalnum())


def norm_text(text: str) -> str:
    """NFKC, casefolded, runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _field(paper, name: str) -> str:
    value = paper.get(name) if isinstance(paper, dict) else getattr(paper, name, None)
    return value if isinstance(value, str) else ""


def _index(papers: Iterable) -> dict[str, list[str]]:
    """normalised title -> searchable texts (title and abstract of every paper with that title)."""
    index: dict[str, list[str]] = {}
    for paper in papers:
        title, abstract = _field(paper, "title"), _field(paper, "abstract")
        key = norm_title(title)
        if key:
            index.setdefault(key, []).extend([norm_text(title), norm_text(abstract)])
    return index


def check_gold(gold_path: str | Path, papers: Iterable) -> list[str]:
    """Return a list of problems found in the gold file (empty when everything checks out)."""
    gold_path = Path(gold_path)
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
            item = json.loads(raw)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: invalid JSON ({e.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a JSON object")
            continue

        bad_type = False
        for name, typ in FIELDS.items():
            if name not in item:
                problems.append(f"{where}: missing field {name!r}")
                bad_type = True
            elif not isinstance(item[name], typ):
                problems.append(f"{where}: field {name!r} must be {typ.__name__}")
                bad_type = True
        extra = sorted(set(item) - set(FIELDS))
        if extra:
            problems.append(f"{where}: unexpected field(s) {', '.join(extra)}")
        if bad_type:
            continue

        item_id, kind, question = item["id"].strip(), item["kind"], item["question"].strip()
        where = f"{where} ({item_id or '<no id>'})"
        if not item_id:
            problems.append(f"{where}: empty id")
        elif item_id in seen_ids:
            problems.append(f"{where}: duplicate id (first on line {seen_ids[item_id]})")
        else:
            seen_ids[item_id] = lineno
        if not question:
            problems.append(f"{where}: empty question")
        else:
            qkey = norm_text(question)
            if qkey in seen_questions:
                problems.append(f"{where}: same question as {seen_questions[qkey]}")
            else:
                seen_questions[qkey] = item_id
            questions_by_text[question] = kind
        if kind not in KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
            continue
        kinds[kind] += 1

        titles, facts = item["gold_titles"], item["key_facts"]
        if not all(isinstance(t, str) and t.strip() for t in titles):
            problems.append(f"{where}: gold_titles must be non-empty strings")
            continue
        if not all(isinstance(f, str) and f.strip() for f in facts):
            problems.append(f"{where}: key_facts must be non-empty strings")
            continue

        n = len(titles)
        if kind == "unanswerable":
            if n:
                problems.append(f"{where}: unanswerable item has {n} gold title(s)")
            if facts:
                problems.append(f"{where}: unanswerable item has {len(facts)} key fact(s)")
            continue
        if kind == "lookup" and n != 1:
            problems.append(f"{where}: lookup needs exactly 1 gold title, has {n}")
        elif kind == "compare" and n != 2:
            problems.append(f"{where}: compare needs exactly 2 gold titles, has {n}")
        elif kind == "list" and n < 2:
            problems.append(f"{where}: list needs at least 2 gold titles, has {n}")
        elif kind == "numeric" and n < 1:
            problems.append(f"{where}: numeric needs at least 1 gold title")
        if not facts:
            problems.append(f"{where}: {kind} item has no key facts")

        texts: list[str] = []
        seen_keys: set[str] = set()
        for title in titles:
            key = norm_title(title)
            if key in seen_keys:
                problems.append(f"{where}: gold title listed twice: {title!r}")
                continue
            seen_keys.add(key)
            if key not in index:
                problems.append(f"{where}: gold title not in corpus: {title!r}")
                continue
            texts.extend(index[key])
        for fact in facts:
            needle = norm_text(fact)
            if texts and not any(needle in t for t in texts):
                problems.append(f"{where}: key fact {fact!r} not found in any gold paper's title or abstract")

    total = sum(kinds.values())
    for kind, minimum in MIN_COUNTS.items():
        if kinds[kind] < minimum:
            problems.append(f"{gold_path.name}: only {kinds[kind]} {kind} item(s), need at least {minimum}")
    if total < MIN_TOTAL:
        problems.append(f"{gold_path.name}: only {total} items, need at least {MIN_TOTAL}")
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
    try:
        from rag.corpus import bundled_seed_paths, load_corpus
    except ImportError:  # running as `python eval/check_gold.py` without the package installed
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from rag.corpus import bundled_seed_paths, load_corpus
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
