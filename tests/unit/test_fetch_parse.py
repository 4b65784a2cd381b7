"""Fetch's pure parts: arXiv ids as users paste them, Retry-After, API URLs from settings, day ranges
(fetching against the replay server: integration/test_fetch.py)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from rag.errors import ConfigError, FetchError
from rag.fetch import arxiv, hf
from rag.fetch.http import _retry_after
from rag.settings import load_settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [("2401.01234", "2401.01234"), ("2401.01234v2", "2401.01234v2"), ("arXiv:2312.00752", "2312.00752"),
     ("https://arxiv.org/abs/2312.00752v1", "2312.00752v1"), ("http://arxiv.org/pdf/2312.00752.pdf", "2312.00752"),
     ("https://huggingface.co/papers/2405.00101", "2405.00101"), ("hep-th/9901001", "hep-th/9901001"),
     ("math.GT/0309136v2", "math.GT/0309136v2"), (" 0704.0001 ", "0704.0001")],
)
def test_arxiv_ids_as_users_paste_them(given: str, expected: str):
    assert arxiv.normalise_id(given) == expected


@pytest.mark.parametrize("bad", ["", "2401.1234567", "2401.01234; rm -rf", "https://example.com/abs/2401.01234x",
                                 "id_list=1&x=2"])
def test_what_is_not_an_arxiv_id(bad: str):
    with pytest.raises(FetchError, match="is not an arXiv id"):
        arxiv.normalise_id(bad)


def test_retry_after_as_seconds_or_a_date():
    assert _retry_after("12") == 12.0
    assert _retry_after("-5") == 0.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: go now
    assert 100 < _retry_after(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))) <= 121
    assert _retry_after("soon") is None and _retry_after(None) is None


def test_api_urls_are_settings(monkeypatch: pytest.MonkeyPatch):
    s = load_settings()
    assert (s.hf_api_url, s.arxiv_api_url, s.fetch_delay_s) == (
        "https://huggingface.co/api/daily_papers", "http://export.arxiv.org/api/query", 3.0)
    monkeypatch.setenv("PAPERCHAT_HF_API_URL", "http://127.0.0.1:9/api/daily_papers")
    monkeypatch.setenv("PAPERCHAT_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
    s = load_settings()
    assert (s.hf_api_url, s.arxiv_api_url) == ("http://127.0.0.1:9/api/daily_papers", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("PAPERCHAT_ARXIV_API_URL", "file:///etc/passwd")
    with pytest.raises(ConfigError, match="arxiv_api_url: .*must be an http:// or https:// URL"):
        load_settings()


def test_days_are_pure():
    assert hf.days("2024-05-01", "2024-05-03", date(2024, 6, 1)) == [date(2024, 5, d) for d in (1, 2, 3)]
    assert hf.days("2024-05-02", None, date(2024, 5, 1)) == [date(2024, 5, 2)]  # already the 2nd east of UTC
    with pytest.raises(FetchError, match="2024-05-03 is in the future"):
        hf.days("2024-05-03", None, date(2024, 5, 1))
    assert hf.day_url("http://h/api/daily_papers", date(2024, 5, 1)) == "http://h/api/daily_papers?date=2024-05-01"
    assert hf.day_url("http://h/x?token=1", date(2024, 5, 1)) == "http://h/x?token=1&date=2024-05-01"
