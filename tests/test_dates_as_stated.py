"""Dates as stated: the instant in UTC, the offset the page wrote and the day it shows, and
never an update for the publication (made-up pages)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import lxml.html
import pytest

from wirehouse import land, load
from wirehouse.dates import format_utc_offset, parse_stated, parse_stated_leniently
from wirehouse.extract import (
    extract_article,
    extract_record,
    json_ld_article,
    json_ld_objects,
    page_metadata,
)
from wirehouse.pubdate import stated_dates, visible_published

BODY = "<p>" + "The council met on a quiet evening and talked at length about roads. " * 12 + "</p>"
FETCHED = datetime(2024, 6, 1, tzinfo=UTC)


def _page(head: str = "", byline: str = "") -> str:
    return (
        f"<html><head><title>Council talks roads</title>{head}</head><body><article>"
        f"<h1>Council talks roads</h1>{byline}{BODY}</article></body></html>"
    )


def _ld(**fields: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize(
    ("text", "at", "offset", "local"),
    [
        ("2024-03-08T22:00:00-05:00", datetime(2024, 3, 9, 3, tzinfo=UTC), -300, date(2024, 3, 8)),
        (
            "2024-03-08T09:15:00+05:30",
            datetime(2024, 3, 8, 3, 45, tzinfo=UTC),
            330,
            date(2024, 3, 8),
        ),
        ("2024-03-08T22:00:00Z", datetime(2024, 3, 8, 22, tzinfo=UTC), 0, date(2024, 3, 8)),
        (
            "2024-03-08 23:21:43 -0600",
            datetime(2024, 3, 9, 5, 21, 43, tzinfo=UTC),
            -360,
            date(2024, 3, 8),
        ),
        ("2024-03-08T22:00:00", datetime(2024, 3, 8, 22, tzinfo=UTC), None, date(2024, 3, 8)),
        ("2024-03-08", datetime(2024, 3, 8, tzinfo=UTC), None, date(2024, 3, 8)),
    ],
)
def test_a_timestamp_keeps_its_offset_and_its_day(
    text: str, at: datetime, offset: int | None, local: date
) -> None:
    stated = parse_stated(text)
    assert stated is not None
    assert (stated.at, stated.utc_offset, stated.local_date) == (at, offset, local)


def test_offsets_print_as_iso_8601() -> None:
    assert format_utc_offset(330) == "+05:30"
    assert format_utc_offset(-300) == "-05:00"
    assert format_utc_offset(0) == "+00:00"
    assert format_utc_offset(None) is None


def test_a_new_york_evening_story_is_dated_its_new_york_day() -> None:
    # 22:00 in New York on the 21st is 03:00 UTC on the 22nd; the page shows the 21st
    html = _page(_ld(datePublished="2024-03-21T22:00:00-04:00"))
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_at == datetime(2024, 3, 22, 2, tzinfo=UTC)
    assert record.published_utc_offset == -240
    assert record.published_local_date == date(2024, 3, 21)


def test_an_offset_in_a_meta_tag() -> None:
    html = _page('<meta property="article:published_time" content="2024-03-08T01:30:00+05:30">')
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_at == datetime(2024, 3, 7, 20, tzinfo=UTC)
    assert (record.published_utc_offset, record.published_local_date) == (330, date(2024, 3, 8))


def test_an_offset_in_a_time_element() -> None:
    byline = (
        '<p class="meta">By Ann Lee <time datetime="2024-03-08T07:00:00+09:00">8 Mar</time></p>'
    )
    record = extract_article(_page(byline=byline), "https://n.example/a", fetched_at=FETCHED)
    assert record.published_at == datetime(2024, 3, 7, 22, tzinfo=UTC)
    assert (record.published_utc_offset, record.published_local_date) == (540, date(2024, 3, 8))


def test_a_page_with_only_a_date() -> None:
    html = _page('<meta name="pubdate" content="2024-03-08">')
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_at == datetime(2024, 3, 8, tzinfo=UTC)
    assert record.published_utc_offset is None
    assert record.published_local_date == date(2024, 3, 8)


def test_a_utc_stamp_takes_the_zone_of_the_same_instant_stated_locally() -> None:
    html = _page(
        _ld(datePublished="2024-03-22T03:00:00Z")
        + '<meta property="article:published_time" content="2024-03-21T23:00:00-04:00">'
    )
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_at == datetime(2024, 3, 22, 3, tzinfo=UTC)
    assert (record.published_utc_offset, record.published_local_date) == (-240, date(2024, 3, 21))


@pytest.mark.parametrize(
    ("printed", "offset", "local"),
    [
        ("Published 8:00 PM EST, Tue December 19, 2023", -300, date(2023, 12, 19)),
        ("December 20, 2023 - 12:00PM", 660, date(2023, 12, 20)),
        ("<span>Dec. 19, 2023</span> <span>8:00 pm</span>", -300, date(2023, 12, 19)),
        ("19 December 2023 20:00", -300, date(2023, 12, 19)),
    ],
)
def test_a_utc_stamp_takes_the_zone_the_byline_prints_it_in(
    printed: str, offset: int, local: date
) -> None:
    html = _page(
        '<meta property="article:published_time" content="2023-12-20T01:00:21Z">',
        f'<div class="byline">By Ann Lee <div class="date">{printed}</div></div>',
    )
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_at == datetime(2023, 12, 20, 1, 0, 21, tzinfo=UTC)
    assert (record.published_utc_offset, record.published_local_date) == (offset, local)


def test_a_printed_time_that_is_not_the_stamp_changes_nothing() -> None:
    html = _page(
        '<meta property="article:published_time" content="2023-12-20T01:00:21Z">',
        '<div class="byline">December 19, 2023 8:17 PM</div>',  # not the same minute
    )
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert (record.published_utc_offset, record.published_local_date) == (0, date(2023, 12, 20))


# -- an update is never the publication ----------------------------------------------------


def test_json_ld_date_modified_is_not_the_publication() -> None:
    html = _page(
        _ld(datePublished="2022-10-24T19:16:43-04:00", dateModified="2023-12-14T13:36:44-05:00")
        + '<meta property="article:modified_time" content="2023-12-14T18:36:44Z">',
        '<div class="byline">Updated on <time datetime="2023-12-14T13:36:44-05:00">'
        "December 14, 2023</time></div>",
    )
    record = extract_article(html, "https://n.example/gifts", fetched_at=FETCHED)
    assert record.published_local_date == date(2022, 10, 24)
    assert record.published_at == datetime(2022, 10, 24, 23, 16, 43, tzinfo=UTC)
    assert record.modified_at == datetime(2023, 12, 14, 18, 36, 44, tzinfo=UTC)


def test_a_graph_that_dates_only_its_web_page_gives_the_publication() -> None:
    """Yoast's graph on a post not typed as an article states the dates on the WebPage
    node alone; with a visible "Updated:" byline the page's first publication is still
    that node's datePublished, never the update."""
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "WebPage",
                "datePublished": "2023-04-24T10:26:24+00:00",
                "dateModified": "2023-08-08T13:51:41+00:00",
            },
            {"@type": "WebSite", "name": "Northgate Wire"},
        ],
    }
    html = _page(
        f'<script type="application/ld+json">{json.dumps(graph)}</script>'
        '<meta property="article:modified_time" content="2023-08-08T13:51:41+00:00">',
        '<div class="byline">Updated: <time datetime="2023-08-08">August 8, 2023</time></div>',
    )
    record = extract_article(html, "https://n.example/guide", fetched_at=FETCHED)
    assert record.published_at == datetime(2023, 4, 24, 10, 26, 24, tzinfo=UTC)
    assert record.modified_at == datetime(2023, 8, 8, 13, 51, 41, tzinfo=UTC)
    # an article object's own date wins over the page's
    both = _page(
        f'<script type="application/ld+json">{json.dumps(graph)}</script>'
        + _ld(datePublished="2023-04-25T08:00:00+00:00")
    )
    assert extract_article(both, "https://n.example/guide", fetched_at=FETCHED).published_at == (
        datetime(2023, 4, 25, 8, tzinfo=UTC)
    )


def test_a_byline_time_that_is_the_modification_does_not_vote() -> None:
    # the theme prints the last edit in an unmarked <time>; with the URL's day it would
    # outvote the JSON-LD publication two to one
    html = _page(
        _ld(datePublished="2024-03-08T09:00:00Z", dateModified="2024-03-12T10:00:00Z"),
        '<p><time datetime="2024-03-12T10:00:00Z">12 March 2024</time></p>',
    )
    doc = lxml.html.fromstring(html)
    url = "https://n.example/2024/03/12/council-roads"
    sources = [
        s.source
        for s in stated_dates(doc, page_metadata(doc), json_ld_article(json_ld_objects(doc)), url)
    ]
    assert "time" not in sources
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_local_date == date(2024, 3, 8)


@pytest.mark.parametrize(
    "update",
    [
        '<time datetime="2024-03-12T10:00:00Z">Updated Mar. 12, 2024, 10:00 AM UTC</time>',
        '<span class="label">Last updated:</span> <time datetime="2024-03-12T10:00:00Z">'
        "12 March</time>",
        'Modified <time datetime="2024-03-12T10:00:00Z">12 March</time>',
    ],
)
def test_a_time_worded_as_an_update_is_not_the_visible_date(update: str) -> None:
    doc = lxml.html.fromstring(
        f'<html><body><article><div class="byline"><span>{update}</span></div>'
        "<p>Text.</p></article></body></html>"
    )
    assert visible_published(doc) is None


def test_the_publication_next_to_an_update_in_the_byline_is_found() -> None:
    doc = lxml.html.fromstring(
        '<html><body><div class="byline"><p>Updated <time datetime="2024-03-12T10:00:00Z">'
        '12 March</time></p><p>Published <time datetime="2024-03-08T09:00:00Z">8 March</time>'
        "</p></div><p>Text.</p></body></html>"
    )
    assert visible_published(doc) == datetime(2024, 3, 8, 9, tzinfo=UTC)


def test_a_time_far_from_an_update_byline_is_not_taken() -> None:
    doc = lxml.html.fromstring(
        '<html><body><div class="byline"><span>Updated:</span> <time datetime="2024-03-12T'
        '10:00:00Z">12 March</time></div><p>Text.</p><div class="box"><div><div>'
        '<time datetime="2024-03-20T10:00:00Z">20 March</time></div></div></div></body></html>'
    )
    assert visible_published(doc) is None


def test_only_updates_stated_gives_no_publication_from_them() -> None:
    html = _page(
        '<meta property="article:modified_time" content="2024-03-12T10:00:00Z">'
        + _ld(dateModified="2024-03-12T10:00:00Z"),
        '<div class="byline">Updated <time datetime="2024-03-12T10:00:00Z">12 March</time></div>',
    )
    record = extract_article(html, "https://n.example/council-roads", fetched_at=FETCHED)
    assert record.published_local_date != date(2024, 3, 12)
    assert record.published_at is None or record.published_at.date() != date(2024, 3, 12)


# -- JSON Lines and the warehouse -----------------------------------------------------------


def test_a_json_lines_record_keeps_its_offset() -> None:
    line = json.dumps(
        {
            "url": "https://n.example/a",
            "title": "Council talks roads",
            "text": "The council met on a quiet evening and talked at length about roads.",
            "published_at": "2024-03-21T22:00:00-04:00",
        }
    ).encode()
    record = extract_record(line, "https://n.example/a", fetched_at=FETCHED)
    assert record.published_at == datetime(2024, 3, 22, 2, tzinfo=UTC)
    assert (record.published_utc_offset, record.published_local_date) == (-240, date(2024, 3, 21))
    as_json = record.to_json_dict()
    assert as_json["published_local_date"] == "2024-03-21"
    assert as_json["published_utc_offset"] == -240


def test_lenient_dates_have_no_offset_and_their_written_day() -> None:
    stated = parse_stated_leniently("Published on Friday, 27 September 2013", FETCHED)
    assert stated is not None
    assert (stated.utc_offset, stated.local_date) == (None, date(2013, 9, 27))
    assert stated.at == datetime(2013, 9, 27, tzinfo=UTC)


def _article_row(**extra: object) -> dict:
    return {
        "article_id": "a1",
        "run_date": "2024-03-22",
        "source_id": "s1",
        "url": "https://n.example/a",
        "canonical_url": "https://n.example/a",
        "body": "text",
        "fetched_at": FETCHED,
        "published_at": datetime(2024, 3, 22, 2, tzinfo=UTC),
        **extra,
    }


def test_the_columns_land_and_load(tmp_path: Path) -> None:
    row = _article_row(published_utc_offset=-240, published_local_date=date(2024, 3, 21))
    land.write_partition(tmp_path, "articles", "2024-03-22", land.to_table("articles", [row]))
    warehouse = tmp_path / "w.duckdb"
    load.load_run_date(warehouse, tmp_path, "2024-03-22", tables=["articles"])
    with duckdb.connect(str(warehouse)) as con:
        got = con.execute(
            "select published_utc_offset, published_local_date from landing.articles"
        ).fetchall()
    assert got == [(-240, date(2024, 3, 21))]


def test_a_partition_written_before_the_columns_still_loads(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    old_schema = land.SCHEMAS["articles"]
    old_schema = old_schema.remove(old_schema.get_field_index("published_utc_offset"))
    old_schema = old_schema.remove(old_schema.get_field_index("published_local_date"))
    table = land.to_table("articles", [_article_row()]).select(old_schema.names)
    folder = land.partition_dir(tmp_path, "articles", "2024-03-22")
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "articles.parquet")
    warehouse = tmp_path / "w.duckdb"
    load.load_run_date(warehouse, tmp_path, "2024-03-22", tables=["articles"])
    with duckdb.connect(str(warehouse)) as con:
        got = con.execute(
            "select article_id, published_utc_offset, published_local_date from landing.articles"
        ).fetchall()
    assert got == [("a1", None, None)]


# -- titles and authors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "host", "expected"),
    [
        (
            "Northgate - Council talks roads again",
            "www.northgate.example",
            "Council talks roads again",
        ),
        (
            "Council talks roads again - The Lantern",
            "www.thelantern.co.uk",
            "Council talks roads again",
        ),
        ("Council talks roads again | Lantern", "lantern.example", "Council talks roads again"),
        # a short headline is left whole, and so is a site name too short to tell apart
        ("Lantern - Home", "lantern.example", "Lantern - Home"),
        ("Ann - Council talks roads again", "ann.example", "Ann - Council talks roads again"),
    ],
)
def test_a_title_segment_that_spells_the_domain_is_the_site_name(
    title: str, host: str, expected: str
) -> None:
    from wirehouse.extract import clean_title

    assert clean_title(title, None, host) == expected


def test_a_one_word_guess_is_not_a_full_name() -> None:
    from wirehouse.extract import full_names

    assert full_names(["Manga"]) == []
    assert full_names(["Ann Lee", "Bo Chan"]) == ["Ann Lee", "Bo Chan"]
