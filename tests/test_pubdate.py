"""Publication date rules: which stated date to believe (made-up pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import lxml.html
import pytest

from wirehouse.extract import extract_article, json_ld_article, json_ld_objects, page_metadata
from wirehouse.pubdate import (
    Stated,
    agreed_date,
    date_search_bounds,
    stated_dates,
    url_date,
    url_month,
    visible_published,
)

BODY = "<p>" + "The council met on a quiet evening and talked at length about roads. " * 12 + "</p>"


def _doc(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://n.example/2023/12/20/slug", date(2023, 12, 20)),
        ("https://n.example/news/2020/3/9/123/slug", date(2020, 3, 9)),
        ("https://n.example/checks/2023/dec/21/slug/", date(2023, 12, 21)),
        ("https://n.example/news/2023-12-20/slug", date(2023, 12, 20)),
        ("https://n.example/archive/20231220/slug", date(2023, 12, 20)),
        ("https://n.example/2023/12/slug", None),  # a month, not a day
        ("https://n.example/2023/13/45/slug", None),
        ("https://n.example/article/231047/best-things.html", None),
        ("https://n.example/story-rcna20231220", None),
    ],
)
def test_url_date(url: str, expected: date | None) -> None:
    assert url_date(url) == expected


def test_url_month_bounds_the_heuristic_search() -> None:
    assert url_month("https://n.example/releases/2023/12/231213112457.htm") == (
        date(2023, 12, 1),
        date(2023, 12, 31),
    )
    assert url_month("https://n.example/2024/feb/slug") == (date(2024, 2, 1), date(2024, 2, 29))
    params = date_search_bounds("https://n.example/2023/12/slug")
    assert params["min_date"] == "2023-12-01" and params["max_date"] == "2023-12-31"
    assert "min_date" not in date_search_bounds("https://n.example/slug")


def test_two_agreeing_sources_outvote_a_wrong_json_ld_offset() -> None:
    # the JSON-LD writes the UTC clock time with the local offset: 5 hours late
    html = (
        '<html><head><meta property="article:published_time" content="2024-03-08T22:10:00+00:00">'
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "2024-03-08T22:10:00-05:00"}</script></head><body><article>'
        '<span class="posted-on"><time class="entry-date published"'
        ' datetime="2024-03-08T17:10:00-05:00">March 8, 2024</time></span>'
        f"{BODY}</article></body></html>"
    )
    record = extract_article(html, "https://n.example/2024/03/08/council-roads")
    assert record.published_at == datetime(2024, 3, 8, 22, 10, tzinfo=UTC)


def test_json_ld_wins_a_tie() -> None:
    stated = [
        Stated("json-ld", datetime(2024, 3, 8, 9, tzinfo=UTC)),
        Stated("time", datetime(2024, 3, 10, 9, tzinfo=UTC)),
    ]
    assert agreed_date(stated, not_after=None) == datetime(2024, 3, 8, 9, tzinfo=UTC)


def test_the_most_trusted_stamp_of_the_agreed_day_is_kept() -> None:
    stated = [
        Stated("json-ld", datetime(2024, 3, 8, 9, 30, tzinfo=UTC)),
        Stated("article:published_time", datetime(2024, 3, 8, 9, tzinfo=UTC)),
        Stated("url", datetime(2024, 3, 8, tzinfo=UTC)),
    ]
    assert agreed_date(stated, not_after=None) == datetime(2024, 3, 8, 9, 30, tzinfo=UTC)


def test_dates_after_the_fetch_do_not_vote() -> None:
    stated = [
        Stated("json-ld", datetime(2024, 3, 9, 9, tzinfo=UTC)),
        Stated("article:published_time", datetime(2024, 3, 9, 9, tzinfo=UTC)),
        Stated("url", datetime(2024, 3, 7, tzinfo=UTC)),
    ]
    fetched = datetime(2024, 3, 8, 12, tzinfo=UTC)
    assert agreed_date(stated, not_after=fetched) == datetime(2024, 3, 7, tzinfo=UTC)
    assert agreed_date(stated[:2], not_after=fetched) is None


def test_url_date_beats_a_date_quoted_in_the_text() -> None:
    html = (
        "<html><body><article><h1>Claim about roads is false</h1>"
        "<p>The post, stated on February 2, 2024, says the council closed every road.</p>"
        f"{BODY}</article></body></html>"
    )
    record = extract_article(html, "https://n.example/factchecks/2024/feb/09/roads/")
    assert record.published_at == datetime(2024, 2, 9, tzinfo=UTC)


def test_byline_time_beats_the_url_day() -> None:
    html = (
        '<html><body><article><p class="meta"><time datetime="2024-02-10 05:00:00">'
        f"02/10/2024 05:00 AM</time></p>{BODY}</article></body></html>"
    )
    record = extract_article(html, "https://n.example/news/2024/02/09/roads-00123")
    assert record.published_at == datetime(2024, 2, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "elsewhere",
    [
        '<ul class="list"><li><time datetime="2024-01-02T10:00:00Z">Jan 2</time></li></ul>',
        '<aside><time datetime="2024-01-02T10:00:00Z">Jan 2</time></aside>',
        '<div class="related-stories"><time datetime="2024-01-02T10:00:00Z">x</time></div>',
        '<a href="/other"><time datetime="2024-01-02T10:00:00Z">Jan 2</time></a>',
        '<div itemscope itemtype="https://schema.org/Event">'
        '<time datetime="2024-01-02T10:00:00Z">Jan 2</time></div>',
        '<time class="updated" datetime="2024-01-02T10:00:00Z">Updated Jan 2</time>',
        '<header><nav>Home</nav><time datetime="2024-01-02T10:00:00Z">Today</time></header>',
        '<div id="masthead"><time datetime="2024-01-02T10:00:00Z">Jan 2</time></div>',
    ],
)
def test_other_stories_and_updates_are_not_the_visible_date(elsewhere: str) -> None:
    own = '<p><time datetime="2024-01-05T08:00:00Z">Jan 5</time></p>'
    doc = _doc(f"<html><body>{elsewhere}<article>{own}</article></body></html>")
    assert visible_published(doc) == datetime(2024, 1, 5, 8, tzinfo=UTC)


def test_itemprop_date_published_is_the_visible_date() -> None:
    doc = _doc(
        '<html><body><time datetime="2024-01-02T10:00:00Z">Jan 2</time>'
        '<span itemprop="datePublished" content="2024-01-05">Jan 5</span></body></html>'
    )
    assert visible_published(doc) == datetime(2024, 1, 5, tzinfo=UTC)


def test_stated_dates_are_listed_most_trusted_first() -> None:
    doc = _doc(
        '<html><head><meta name="parsely-pub-date" content="2024-01-05T08:00:00Z">'
        '<meta property="article:published_time" content="2024-01-05T08:00:00Z">'
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "2024-01-05T08:00:00Z"}</script></head>'
        '<body><time datetime="2024-01-05T08:00:00Z">Jan 5</time></body></html>'
    )
    sources = [
        s.source
        for s in stated_dates(
            doc,
            page_metadata(doc),
            json_ld_article(json_ld_objects(doc)),
            "https://n.example/2024/01/05/a",
        )
    ]
    assert sources == ["json-ld", "article:published_time", "parsely-pub-date", "time", "url"]


def test_timestamps_that_spell_out_utc() -> None:
    from wirehouse.dates import parse_timestamp

    assert parse_timestamp("2024-02-06 17:55:00 UTC") == datetime(2024, 2, 6, 17, 55, tzinfo=UTC)
    assert parse_timestamp("2024-02-06T17:55:00.120Z") == datetime(
        2024, 2, 6, 17, 55, 0, 120000, tzinfo=UTC
    )
    assert parse_timestamp("2024-02-06T23:30:00 GMT").day == 6


def test_the_articles_own_header_holds_its_date() -> None:
    doc = _doc(
        '<html><body><header><h1>Roads</h1><p>By Ann Lee <time datetime="2024-01-05T08:00:00Z">'
        "Jan 5</time></p></header><p>Text.</p></body></html>"
    )
    assert visible_published(doc) == datetime(2024, 1, 5, 8, tzinfo=UTC)
