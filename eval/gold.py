"""The gold set: load and validate ``gold.jsonl``, map gold titles to paper ids.

A line is ``{"id", "question", "kind", "gold_titles", "key_facts", "notes"}`` (see GOLD.md), and
optionally ``acceptable_titles`` (papers that may be cited without counting as wrong, nor as
missed when absent), ``group`` (the information need a question and its paraphrases share) and
``split`` (``tune`` / ``final``: see GOLD-LISTS.md). This is the one gold model: ``check_gold.py``
validates with it too, and adds only the checks against the corpus.
Every problem is reported as ``file:line: what is wrong``, all of them at once, so a hand-edited
gold file is fixed in one pass. Titles become ids with :func:`rag.ingest.fields.paper_id_for`, the same
function the parser uses, so gold ids match indexed ids whenever the titles match.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.errors import PaperchatError
from rag.ingest.fields import paper_id_for

Kind = Literal["lookup", "list", "compare", "numeric", "unanswerable"]
KINDS: tuple[Kind, ...] = ("lookup", "list", "compare", "numeric", "unanswerable")
DEFAULT_GOLD = Path(__file__).resolve().parent / "gold.jsonl"
LISTS_GOLD = Path(__file__).resolve().parent / "gold-lists.jsonl"
SPLITS = ("tune", "final")
FIELDS = frozenset({"id", "question", "kind", "gold_titles", "key_facts", "notes", "acceptable_titles",
                    "group", "split"})
_MAX_REPORTED = 20


class GoldError(PaperchatError):
    """The gold file is missing or malformed, or names papers the index does not hold."""


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    kind: Kind
    gold_titles: tuple[str, ...]
    key_facts: tuple[str, ...]
    notes: str = ""
    line: int = 0
    gold_ids: tuple[str, ...] = ()
    acceptable_titles: tuple[str, ...] = ()
    acceptable_ids: tuple[str, ...] = ()
    group: str = ""  # the id of the information need (a question and its paraphrases share it)
    split: str = ""  # "tune" or "final"; empty for sets without a locked split

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    def to_dict(self) -> dict:
        out = {"id": self.id, "question": self.question, "kind": self.kind,
               "gold_titles": list(self.gold_titles), "gold_ids": list(self.gold_ids),
               "key_facts": list(self.key_facts)}
        if self.acceptable_ids or self.group or self.split:
            out |= {"acceptable_ids": list(self.acceptable_ids), "group": self.group, "split": self.split}
        return out


def _str_list(rec: dict, name: str, problems: list[str], where: str) -> tuple[str, ...]:
    value = rec.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: {name!r} must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def parse_item(rec: object, where: str, problems: list[str], line: int = 0) -> GoldItem | None:
    """One gold record, or None with the reasons appended to ``problems``."""
    if not isinstance(rec, dict):
        problems.append(f"{where}: expected a JSON object, got {type(rec).__name__}")
        return None
    before = len(problems)
    for name in ("id", "question"):
        if not isinstance(rec.get(name), str) or not rec[name].strip():
            problems.append(f"{where}: {name!r} must be a non-empty string")
    kind = rec.get("kind")
    if kind not in KINDS:
        problems.append(f"{where}: kind must be one of {', '.join(KINDS)}; got {kind!r}")
    extra = sorted(set(rec) - FIELDS)
    if extra:
        problems.append(f"{where}: unexpected field(s) {', '.join(map(str, extra))}")
    titles = _str_list(rec, "gold_titles", problems, where)
    facts = _str_list(rec, "key_facts", problems, where)
    acceptable = _str_list(rec, "acceptable_titles", problems, where)
    group, split = rec.get("group", ""), rec.get("split", "")
    if not isinstance(group, str):
        problems.append(f"{where}: 'group' must be a string")
    if split not in ("", *SPLITS):
        problems.append(f"{where}: split must be one of {', '.join(SPLITS)}; got {split!r}")
    notes = rec.get("notes", "")
    if not isinstance(notes, str):
        problems.append(f"{where}: 'notes' must be a string")
    titles_ok = isinstance(rec.get("gold_titles", []), list)
    if kind == "unanswerable" and titles:
        problems.append(f"{where}: an unanswerable item must have no gold_titles")
    elif kind in KINDS and kind != "unanswerable" and titles_ok and not titles:
        problems.append(f"{where}: a {kind} item needs at least one gold title")
    ids: list[str] = []
    for t in titles:
        try:
            ids.append(paper_id_for(t))
        except ValueError:
            problems.append(f"{where}: gold title {t!r} has no letters or digits")
    if len(set(ids)) != len(ids):
        problems.append(f"{where}: a gold title is repeated")
    acceptable_ids = []
    for t in acceptable:
        try:
            acceptable_ids.append(paper_id_for(t))
        except ValueError:
            problems.append(f"{where}: acceptable title {t!r} has no letters or digits")
    if set(acceptable_ids) & set(ids):
        problems.append(f"{where}: a title is both gold and acceptable")
    if len(problems) > before:
        return None
    return GoldItem(id=rec["id"].strip(), question=" ".join(rec["question"].split()), kind=kind,
                    gold_titles=titles, key_facts=facts, notes=notes, line=line, gold_ids=tuple(ids),
                    acceptable_titles=acceptable, acceptable_ids=tuple(acceptable_ids), group=group or "",
                    split=split or "")


def parse_gold(text: str, source: str) -> list[GoldItem]:
    """Parse gold JSONL text; raises GoldError listing every problem as ``source:line: ...``."""
    items: list[GoldItem] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: invalid JSON ({e.msg} at column {e.colno})")
            continue
        item = parse_item(rec, where, problems, lineno)
        if item is None:
            continue
        if item.id in seen:
            problems.append(f"{where}: id {item.id!r} is already used on line {seen[item.id]}")
            continue
        seen[item.id] = lineno
        items.append(item)
    if problems:
        more = len(problems) - _MAX_REPORTED
        shown = problems[:_MAX_REPORTED] + ([f"... and {more} more"] if more > 0 else [])
        raise GoldError(f"{len(problems)} problem(s) in the gold file:\n" + "\n".join(shown))
    if not items:
        raise GoldError(f"{source}: no gold items")
    return items


def load_gold(path: Path | str | None = None) -> list[GoldItem]:
    """Load and validate a gold file (default: the bundled ``eval/gold.jsonl``)."""
    path = Path(path) if path is not None else DEFAULT_GOLD
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GoldError(f"{path}: no such gold file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise GoldError(f"{path}: cannot read ({e})") from None
    return parse_gold(text, str(path))


def missing_papers(items: Iterable[GoldItem], known_ids: Collection[str]) -> list[str]:
    """``"item-id: title"`` for every gold paper the index does not hold."""
    return [f"{it.id}: {t}" for it in items for t, pid in zip(it.gold_titles, it.gold_ids, strict=True)
            if pid not in known_ids]


def require_papers(items: Sequence[GoldItem], known_ids: Collection[str], source: str = "gold set") -> None:
    """Raise GoldError when gold papers are absent from the index: their recall would read as a
    retrieval failure when the real cause is a different corpus (or a parser change)."""
    missing = missing_papers(items, known_ids)
    if missing:
        shown = missing[:10] + ([f"... and {len(missing) - 10} more"] if len(missing) > 10 else [])
        raise GoldError(f"{len(missing)} gold paper(s) of the {source} are not in the index (ingest the "
                        "corpus the gold set was written for):\n" + "\n".join(shown))
