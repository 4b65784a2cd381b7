"""The gold sets are consistent with the seeds, and the one gold model reports what is wrong."""

from __future__ import annotations

import json

import pytest

from eval.check_gold import check_gold
from eval.gold import DEFAULT_GOLD, LISTS_GOLD, load_gold


@pytest.mark.parametrize("path", [DEFAULT_GOLD, LISTS_GOLD])
def test_the_committed_gold_sets_check_out_against_the_seeds(path, seed_corpus):
    assert check_gold(path, seed_corpus.papers) == []


def test_the_list_set_has_a_locked_split_by_need():
    items = load_gold(LISTS_GOLD)
    assert {it.split for it in items} == {"tune", "final"}
    by_group: dict[str, set[str]] = {}
    for it in items:
        by_group.setdefault(it.group, set()).add(it.split)
    assert all(len(splits) == 1 for splits in by_group.values())  # paraphrases never straddle the split
    lists = [it for it in items if it.kind == "list"]
    assert len({it.group for it in lists}) >= 40 and len({it.group for it in items if it.kind == "unanswerable"}) >= 20


def test_planted_problems_are_each_reported(tmp_path, seed_corpus):
    title = seed_corpus.papers[0].title
    records = [
        {"id": "a", "question": "Q one?", "kind": "lookup", "gold_titles": [title], "key_facts": ["not in it"]},
        {"id": "a", "question": "Q two?", "kind": "lookup", "gold_titles": ["No Such Paper"], "key_facts": ["x"]},
        {"id": "c", "question": "Q three?", "kind": "list", "gold_titles": [title], "key_facts": ["x"],
         "split": "later", "colour": "red"},
    ]
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    problems = "\n".join(check_gold(path, seed_corpus.papers))
    assert "key fact 'not in it' not found" in problems
    assert "duplicate id" in problems and "gold title not in corpus: 'No Such Paper'" in problems
    assert "unexpected field(s) colour" in problems and "split must be one of tune, final" in problems
