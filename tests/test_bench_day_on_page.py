"""The extraction benchmark's "gold day appears on the page" rule, on made-up snippets."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from bench_extract import day_on_page

URL = "https://n.example/news/roads"
EPOCH = int(datetime(2023, 12, 5, 15, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "html",
    [
        '<meta content="2023-12-05T22:00:00-05:00">',
        "<p>2023/12/5</p>",
        "<p>2023.12.05</p>",
        '<img src="/img/20231205-roads.jpg">',
        "<p>Posted December 5, 2023</p>",
        "<p>Dec. 5th, 2023</p>",
        "<p>Tuesday, 5 December 2023</p>",
        "<p>5th of Dec 2023</p>",
        "<p>12/05/2023</p>",
        "<p>05.12.2023</p>",
        "<p>12-5-23</p>",
        "<span>Dec 5</span>, <span>2023</span>",
        f'<script>{{"published": {EPOCH}}}</script>',
        f'<script>{{"published": {EPOCH * 1000}}}</script>',
    ],
)
def test_the_day_in_any_common_format(html: str) -> None:
    assert day_on_page("2023-12-05", f"<html><body>{html}</body></html>", URL)


@pytest.mark.parametrize(
    "url",
    [
        "https://n.example/2023/12/05/roads",
        "https://n.example/2023/dec/05/roads",
        "https://n.example/news/2023-12-05/roads",
    ],
)
def test_the_day_in_the_url(url: str) -> None:
    assert day_on_page("2023-12-05", "<html><body><p>Roads.</p></body></html>", url)


@pytest.mark.parametrize(
    "html",
    [
        "<p>December 5, 2022</p>",  # another year
        "<p>December 5</p>",  # no year
        "<p>2023-12-15</p>",
        "<p>12/15/2023</p>",
        "<p>112/05/2023</p>",
        '<script>{"id": 9999999999}</script>',
    ],
)
def test_other_days_do_not_count(html: str) -> None:
    assert not day_on_page("2023-12-05", f"<html><body>{html}</body></html>", URL)
