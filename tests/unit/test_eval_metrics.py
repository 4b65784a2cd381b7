"""Evaluation metrics against hand-computed values, edge cases included."""

from __future__ import annotations

import json
import math

import pytest

from eval import metrics as M
from eval.gold import GoldError, parse_gold
from eval.systems import AnswerOutcome, CitedPaper, looks_like_refusal
from rag.ingest.fields import paper_id_for

L2 = 1 / math.log2(3)  # discount at rank 2
L3 = 1 / math.log2(4)  # discount at rank 3 (= 0.5)


@pytest.mark.parametrize(("ranked", "gold", "k", "expected"), [
    (["a", "b", "c"], {"a"}, 1, 1.0),
    (["a", "b", "c"], {"c"}, 2, 0.0),
    (["a", "b", "c"], {"b", "c", "d"}, 3, 2 / 3),
    (["x", "a", "a", "b"], {"a", "b"}, 2, 0.5),  # duplicate "a" counts once: top 2 = x, a
    (["x", "a", "a", "b"], {"a", "b"}, 3, 1.0),
    (["a"], {"a", "b"}, 10, 0.5),  # k larger than the list
    ([], {"a"}, 5, 0.0),  # no hits
    (["a", "b"], set(), 5, None),  # empty gold: undefined
])
def test_recall_at_k(ranked, gold, k, expected):
    assert M.recall_at_k(ranked, gold, k) == pytest.approx(expected) if expected is not None \
        else M.recall_at_k(ranked, gold, k) is None


@pytest.mark.parametrize(("ranked", "gold", "k", "expected"), [
    (["a", "b", "c", "d"], {"a", "c"}, 4, 0.5),
    (["a", "b"], {"a", "b"}, 1, 1.0),
    (["a"], {"a"}, 5, 0.2),  # divides by k, not by the number returned
    ([], {"a"}, 3, 0.0),
    (["a"], [], 3, None),
])
def test_precision_at_k(ranked, gold, k, expected):
    got = M.precision_at_k(ranked, gold, k)
    assert got is None if expected is None else got == pytest.approx(expected)


@pytest.mark.parametrize(("ranked", "gold", "k", "expected"), [
    (["a", "b"], {"a"}, None, 1.0),
    (["x", "y", "a"], {"a", "b"}, None, 1 / 3),
    (["x", "y", "a"], {"a"}, 2, 0.0),  # gold below the cutoff
    (["x", "x", "a"], {"a"}, None, 0.5),  # duplicates collapse before ranking
    ([], {"a"}, None, 0.0),
    (["a"], set(), None, None),
])
def test_mrr(ranked, gold, k, expected):
    got = M.mrr(ranked, gold, k)
    assert got is None if expected is None else got == pytest.approx(expected)


@pytest.mark.parametrize(("ranked", "gold", "k", "expected"), [
    (["a", "b", "c"], {"a"}, 3, 1.0),
    (["b", "a", "c"], {"a"}, 3, L2),
    (["x", "a", "y", "b"], {"a", "b"}, 4, (L2 + 1 / math.log2(5)) / (1 + L2)),
    (["x", "y", "a"], {"a", "b"}, 3, L3 / (1 + L2)),
    (["a", "x"], {"a", "b", "c"}, 2, 1 / (1 + L2)),  # ideal DCG uses min(k, |gold|) positions
    (["a"], {"a", "b"}, 10, 1 / (1 + L2)),  # k larger than the list
    ([], {"a"}, 5, 0.0),
    (["a"], set(), 5, None),
])
def test_ndcg_at_k(ranked, gold, k, expected):
    got = M.ndcg_at_k(ranked, gold, k)
    assert got is None if expected is None else got == pytest.approx(expected)


def test_bad_k_is_an_error():
    with pytest.raises(ValueError, match="k must be >= 1"):
        M.recall_at_k(["a"], {"a"}, 0)


@pytest.mark.parametrize(("pred", "gold", "expected"), [
    ({"a", "b"}, {"a", "b"}, (1.0, 1.0, 1.0)),
    ({"a", "b", "c", "d"}, {"a", "b"}, (0.5, 1.0, 2 / 3)),
    ({"a"}, {"a", "b", "c", "d"}, (1.0, 0.25, 0.4)),
    ({"x"}, {"a"}, (0.0, 0.0, 0.0)),
    (set(), set(), (1.0, 1.0, 1.0)),  # nothing to find, nothing claimed
    (set(), {"a"}, (0.0, 0.0, 0.0)),  # refused where papers qualify
    ({"a"}, set(), (0.0, 0.0, 0.0)),  # claimed papers where none qualify
    (["a", "a", "b"], ["a"], (0.5, 1.0, 2 / 3)),  # duplicates collapse
])
def test_set_prf(pred, gold, expected):
    assert M.set_prf(pred, gold) == pytest.approx(expected)


@pytest.mark.parametrize(("cited", "gold", "precision", "recall"), [
    (["a", "b"], ["a"], 0.5, 1.0),
    (["a", "a"], ["a", "b"], 1.0, 0.5),
    ([], ["a"], None, 0.0),  # cites nothing: precision undefined, recall 0
    (["a"], [], 0.0, None),  # cites where there is no gold
    ([], [], None, None),
])
def test_citation_precision_recall(cited, gold, precision, recall):
    p, r = M.citation_precision(cited, gold), M.citation_recall(cited, gold)
    assert p is None if precision is None else p == pytest.approx(precision)
    assert r is None if recall is None else r == pytest.approx(recall)


@pytest.mark.parametrize(("text", "facts", "expected"), [
    ("Uses  Replaced\nToken Detection.", ["replaced token detection"], 1.0),
    ("speeds up GROKKING", ["grokking", "slow-varying"], 0.5),
    ("3.4times faster", ["3.4times"], 1.0),
    ("3.4 times faster", ["3.4times"], 0.0),  # whitespace is collapsed, not removed
    ("anything", [], None),
    ("", ["x"], 0.0),
])
def test_key_fact_hit_rate(text, facts, expected):
    got = M.key_fact_hit_rate(text, facts)
    assert got is None if expected is None else got == pytest.approx(expected)


@pytest.mark.parametrize(("flags", "expected"), [
    ([True, True, False, True], 0.75),
    ([False], 0.0),
    ([True, None, False], 0.5),  # None (not applicable) is skipped
    ([], None),
])
def test_rates_and_refusals(flags, expected):
    for fn in (M.rate, M.refusal_accuracy, M.false_refusal_rate):
        got = fn(flags)
        assert got is None if expected is None else got == pytest.approx(expected)


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([1, 2, 3, 4], 50, 2.5),
    ([1, 2, 3, 4, 5], 50, 3.0),
    ([0, 10], 95, 9.5),
    (list(range(1, 101)), 95, 95.05),
    ([7.0], 95, 7.0),
    ([None, 2.0, None], 50, 2.0),
    ([], 50, None),
])
def test_percentile(values, q, expected):
    got = M.percentile(values, q)
    assert got is None if expected is None else got == pytest.approx(expected)


def test_mean_skips_undefined():
    assert M.mean([1.0, None, 0.0]) == 0.5
    assert M.mean([None]) is None


def test_bootstrap_ci_known_cases():
    assert M.bootstrap_ci([]) == (None, None, None)
    assert M.bootstrap_ci([0.4]) == (0.4, 0.4, 0.4)
    assert M.bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0, 1.0)
    assert M.bootstrap_ci([None, 0.5, None]) == (0.5, 0.5, 0.5)


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible():
    values = [1.0] * 30 + [0.0] * 10
    mean, lo, hi = M.bootstrap_ci(values, n=2000, seed=7)
    assert mean == 0.75
    assert lo < mean < hi
    # binomial standard error sqrt(.75*.25/40) = 0.068: a 95% interval is about +-0.13
    assert 0.08 < hi - mean < 0.2 and 0.08 < mean - lo < 0.2
    assert M.bootstrap_ci(values, n=2000, seed=7) == (mean, lo, hi)
    assert 0 <= lo and hi <= 1


def test_bootstrap_ci_narrows_with_lower_confidence():
    values = [0.0, 1.0] * 20
    _, lo95, hi95 = M.bootstrap_ci(values, alpha=0.05, seed=1)
    _, lo50, hi50 = M.bootstrap_ci(values, alpha=0.5, seed=1)
    assert lo95 < lo50 < hi50 < hi95


# --- answer outcomes and refusal detection -------------------------------------------------------


def test_cited_ids_keep_order_and_count_dangling_markers():
    a = AnswerOutcome(text="", citations=[CitedPaper(2, "b", True), CitedPaper(1, "a", True),
                                          CitedPaper(2, "b", False), CitedPaper(7, None, False)])
    assert a.cited_ids == ["b", "a", "invalid:[7]"]
    assert M.citation_precision(a.cited_ids, ["a", "b"]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(("text", "refused"), [
    ("The provided sources do not mention the Sophia optimizer.", True),
    ("None of the sources discuss Kolmogorov-Arnold networks.", True),
    ("I cannot answer this question based on the provided sources.", True),
    ("There is no information about BERT warmup steps.", True),
    ("", True),
    ("ELECTRA trains a discriminator to detect replaced tokens [1].", False),
    ("The model does not use warmup and still converges [2].", False),
])
def test_looks_like_refusal(text, refused):
    assert looks_like_refusal(text) is refused


# --- gold parsing ----------------------------------------------------------------------------------

GOOD = {"id": "q1", "question": "Which paper?", "kind": "lookup", "gold_titles": ["ELECTRA: Pre-training"],
        "key_facts": ["replaced token"], "notes": ""}


def _jsonl(*records) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def test_parse_gold_maps_titles_to_ids():
    items = parse_gold(_jsonl(GOOD, {**GOOD, "id": "u1", "kind": "unanswerable", "gold_titles": [],
                                     "key_facts": []}), "g.jsonl")
    assert [it.id for it in items] == ["q1", "u1"]
    assert items[0].gold_ids == (paper_id_for("ELECTRA: Pre-training"),)
    assert items[0].answerable and not items[1].answerable


@pytest.mark.parametrize(("bad_line", "message"), [
    ("{not json", "g.jsonl:2: invalid JSON"),
    (json.dumps([1, 2]), "g.jsonl:2: expected a JSON object"),
    (json.dumps({**GOOD, "id": "q2", "kind": "trivia"}), "g.jsonl:2: kind must be one of"),
    (json.dumps({**GOOD, "id": "q2", "gold_titles": []}), "g.jsonl:2: a lookup item needs at least one gold title"),
    (json.dumps({**GOOD, "id": "q2", "kind": "unanswerable"}), "g.jsonl:2: an unanswerable item must have no"),
    (json.dumps({**GOOD, "id": "q2", "gold_titles": "ELECTRA"}), "g.jsonl:2: 'gold_titles' must be a list"),
    (json.dumps({**GOOD, "id": "q2", "question": " "}), "g.jsonl:2: 'question' must be a non-empty string"),
    (json.dumps(GOOD), "g.jsonl:2: id 'q1' is already used on line 1"),
    (json.dumps({**GOOD, "id": "q2", "gold_titles": ["A b", "a-B"]}), "g.jsonl:2: a gold title is repeated"),
])
def test_parse_gold_names_file_and_line(bad_line, message):
    with pytest.raises(GoldError, match=message.replace("[", r"\[")):
        parse_gold(_jsonl(GOOD, bad_line), "g.jsonl")


def test_parse_gold_reports_every_bad_line():
    with pytest.raises(GoldError) as e:
        parse_gold(_jsonl("{", GOOD, "[]"), "g.jsonl")
    assert "2 problem(s)" in str(e.value)
    assert "g.jsonl:1:" in str(e.value) and "g.jsonl:3:" in str(e.value)


@pytest.mark.parametrize(("pred", "gold", "ok", "expected"), [
    (["a", "x"], ["a", "b"], ["x"], (1.0, 0.5, 2 / 3)),  # x is acceptable: not an error
    (["a", "x"], ["a", "b"], [], (0.5, 0.5, 0.5)),
    (["x"], ["a"], ["x"], (0.0, 0.0, 0.0)),  # only acceptable cited: nothing found
    (["a"], ["a"], ["a"], (1.0, 1.0, 1.0)),  # a gold paper is gold even when also listed acceptable
])
def test_set_prf_with_acceptable_papers(pred, gold, ok, expected):
    assert M.set_prf(pred, gold, ok) == pytest.approx(expected)


@pytest.mark.parametrize(("cited", "gold", "ok", "expected"), [
    (["a", "x"], ["a"], ["x"], 1.0),
    (["x"], ["a"], ["x"], 1.0),
    (["a", "y"], ["a"], ["x"], 0.5),
    ([], ["a"], ["x"], None),
])
def test_citation_precision_with_acceptable_papers(cited, gold, ok, expected):
    assert M.citation_precision(cited, gold, ok) == (pytest.approx(expected) if expected is not None else None)


def test_summarise_counts_an_answer_that_failed_with_an_error_as_a_failure():
    """A question that crashed the engine answered nothing: no key fact, a false refusal, and an
    unanswerable one is not counted as refused."""
    from eval.summarise import summarise

    ok = {"refused": False, "key_fact_rate": 1.0, "citation_precision": 1.0, "latency_s": 0.1, "error": None}
    rows = summarise([({"id": "l1", "kind": "lookup"}, ok), ({"id": "l2", "kind": "lookup"}, {"error": "IndexError"}),
                      ({"id": "u1-a", "kind": "unanswerable"}, {"error": "IndexError"})])
    assert rows["errors"] == 2 and rows["lookup_key_facts"] == 0.5 and rows["lookup_false_refusals"] == 0.5
    assert rows["refusal_accuracy"] == 0.0 and rows["latency_p50_s"] == 0.1
