"""Retrieval's pure parts: the lexical text, filter validation and description (retrieval itself over the
seed index: integration/test_retrieve.py)."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.storage.chroma_layout import where_clause
from rag.text.analysis import expand_hyphens
from rag.types.papers import Filters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("warm-up", "warm up warmup"),
        ("a pre-trained model", "a pre trained pretrained model"),
        ("GPT-4 and x-ray", "GPT-4 and x ray xray"),  # digits are not joined
        ("no hyphen", "no hyphen"),
    ],
)
def test_lexical_text(text: str, expected: str):
    assert expand_hyphens(text) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date_from": "2024-13-01"}, "date-from must be a date like 2024-05-31, got '2024-13-01'"),
        ({"date_to": "2024-02-30"}, "date-to must be a date like"),
        ({"date_from": "yesterday"}, "date-from must be a date like"),
        ({"date_to": "31/12/2024"}, "date-to must be a date like"),
        ({"date_from": "2024-06-01", "date_to": "2024-05-01"}, "date range is empty: 2024-06-01 is after 2024-05-01"),
        ({"min_upvotes": -1}, "min-upvotes must be >= 0, got -1"),
    ],
)
def test_invalid_filters_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError) as info:
        Filters(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("value", ["20240101", "2024-W01-1"])
def test_other_iso_date_forms_are_rejected_or_normalised(value: str):
    try:
        f = Filters(date_from=value, date_to=value)
    except ConfigError:
        return
    assert (f.date_from, f.date_to) == ("2024-01-01", "2024-01-01")
    assert where_clause(f) == {"$and": [{"date_ord": {"$gte": 20240101}}, {"date_ord": {"$lte": 20240101}}]}


def test_filters_describe_and_where():
    assert not Filters().active and where_clause(Filters()) is None and Filters().describe() == "none"
    f = Filters(date_from="2024-01-01", min_upvotes=3)
    assert f.active
    assert f.describe() == "date 2024-01-01 to …, upvotes >= 3"
    assert where_clause(f) == {"$and": [{"date_ord": {"$gte": 20240101}}, {"upvotes": {"$gte": 3}}]}
    assert where_clause(Filters(min_upvotes=0)) == {"upvotes": {"$gte": 0}}
