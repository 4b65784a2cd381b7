"""rank.py: fusion and collapsing, against values computed by hand."""

from __future__ import annotations

import pytest

from rag.retrieve.rank import collapse_chunks, minmax, rrf_fuse, score_fuse, top


@pytest.mark.parametrize(
    ("rankings", "k", "weights", "expected"),
    [
        # one list: 1/(k + rank)
        ([["a", "b", "c"]], 60, None, {"a": 1 / 61, "b": 1 / 62, "c": 1 / 63}),
        # a doc in both lists adds up: b = 1/62 + 1/61
        ([["a", "b"], ["b", "c"]], 60, None, {"a": 1 / 61, "b": 1 / 62 + 1 / 61, "c": 1 / 62}),
        # k=1, mirrored lists tie: 1/2 + 1/3 = 5/6 each
        ([["a", "b"], ["b", "a"]], 1, None, {"a": 5 / 6, "b": 5 / 6}),
        # weights scale each list's contribution: a = 2/2 + 0.5/3, b = 2/3 + 0.5/2
        ([["a", "b"], ["b", "a"]], 1, [2.0, 0.5], {"a": 1 + 0.5 / 3, "b": 2 / 3 + 0.25}),
        # an empty list contributes nothing
        ([["x"], []], 10, None, {"x": 1 / 11}),
        ([], 60, None, {}),
    ],
)
def test_rrf_fuse(rankings, k, weights, expected):
    got = rrf_fuse(rankings, k=k, weights=weights)
    assert got.keys() == expected.keys()
    for doc, value in expected.items():
        assert got[doc] == pytest.approx(value)


def test_rrf_fuse_rejects_weights_of_the_wrong_length():
    with pytest.raises(ValueError):
        rrf_fuse([["a"], ["b"]], weights=[1.0])


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({}, {}),
        ({"a": 2.0, "b": 4.0, "c": 3.0}, {"a": 0.0, "b": 1.0, "c": 0.5}),
        ({"a": -1.0, "b": 1.0}, {"a": 0.0, "b": 1.0}),
        ({"a": 0.3, "b": 0.3}, {"a": 1.0, "b": 1.0}),  # constant: every hit equally good
        ({"only": 7.5}, {"only": 1.0}),
        ({"a": 10.0, "b": 12.5, "c": 20.0}, {"a": 0.0, "b": 0.25, "c": 1.0}),
    ],
)
def test_minmax(scores, expected):
    got = minmax(scores)
    assert got.keys() == expected.keys()
    for doc, value in expected.items():
        assert got[doc] == pytest.approx(value)


@pytest.mark.parametrize(
    ("lexical", "dense", "w", "expected"),
    [
        # lexical -> a 1, b .5, c 0; dense -> b 1, d 0; half and half
        ({"a": 10, "b": 5, "c": 0}, {"b": 0.9, "d": 0.5}, 0.5, {"a": 0.5, "b": 0.75, "c": 0.0, "d": 0.0}),
        # dense only counts
        ({"a": 10, "b": 5, "c": 0}, {"b": 0.9, "d": 0.5}, 1.0, {"a": 0.0, "b": 1.0, "c": 0.0, "d": 0.0}),
        # lexical only counts
        ({"a": 10, "b": 5, "c": 0}, {"b": 0.9, "d": 0.5}, 0.0, {"a": 1.0, "b": 0.5, "c": 0.0, "d": 0.0}),
        # 0.25 dense: a = .75*1 + .25*0 = .75; b = .75*0 + .25*1 = .25
        ({"a": 3, "b": 1}, {"a": 0.1, "b": 0.2}, 0.25, {"a": 0.75, "b": 0.25}),
        # one side empty: the other side's normalised scores, times its weight
        ({}, {"x": 0.2, "y": 0.4}, 0.5, {"x": 0.0, "y": 0.5}),
        ({}, {}, 0.5, {}),
    ],
)
def test_score_fuse(lexical, dense, w, expected):
    got = score_fuse(lexical, dense, dense_weight=w)
    assert got.keys() == expected.keys()
    for doc, value in expected.items():
        assert got[doc] == pytest.approx(value)


@pytest.mark.parametrize(
    ("scores", "k", "expected"),
    [
        ({"a": 0.1, "b": 0.3, "c": 0.2}, 2, [("b", 0.3), ("c", 0.2)]),
        ({"a": 0.1, "b": 0.3, "c": 0.2}, 10, [("b", 0.3), ("c", 0.2), ("a", 0.1)]),
        # ties break by id, so the order never depends on dict order
        ({"z": 1.0, "m": 1.0, "a": 1.0, "q": 2.0}, 3, [("q", 2.0), ("a", 1.0), ("m", 1.0)]),
        ({"a": 1.0}, 0, []),
        ({}, 5, []),
    ],
)
def test_top(scores, k, expected):
    assert top(scores, k) == expected


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([], {}),
        (
            [("p1", "c1", 0.2), ("p1", "c2", 0.7), ("p2", "c3", 0.5), ("p1", "c4", 0.1)],
            {"p1": (0.7, "c2"), "p2": (0.5, "c3")},
        ),
        # on a tie the first chunk seen stays (strictly better replaces)
        ([("p", "first", 0.4), ("p", "second", 0.4)], {"p": (0.4, "first")}),
        # negative similarities are still ordered
        ([("p", "a", -0.3), ("p", "b", -0.1)], {"p": (-0.1, "b")}),
    ],
)
def test_collapse_chunks(hits, expected):
    assert collapse_chunks(hits) == expected


def test_collapse_accepts_a_generator():
    gen = ((pid, f"{pid}-{i}", float(i)) for pid in ("x", "y") for i in range(3))
    assert collapse_chunks(gen) == {"x": (2.0, "x-2"), "y": (2.0, "y-2")}
