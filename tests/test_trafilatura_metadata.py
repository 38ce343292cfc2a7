"""wirehouse.trafilatura_metadata gives trafilatura's own metadata: every field it offers
equals what ``trafilatura.metadata.extract_metadata`` (what ``bare_extraction(...,
with_metadata=True)`` runs) gives, on the bundled pages, on pages built to reach each
fallback, and on the extraction benchmark's pages when the data is there; and htmldate's
date search only runs when the date is read."""

from __future__ import annotations

import gzip
import json
from copy import copy
from pathlib import Path

import lxml.html
import pytest
from trafilatura.metadata import extract_metadata

from wirehouse.extract import (
    HTML_PARSER,
    json_ld_article,
    json_ld_objects,
    page_metadata,
    published_stated,
)
from wirehouse.fetch import decode_html
from wirehouse.pubdate import date_search_bounds
from wirehouse.trafilatura_metadata import TrafilaturaMetadata

TESTS = Path(__file__).parent
ROOT = TESTS.parent
FIELDS = ("title", "author", "sitename", "description", "date")
# ../shared/bench/extraction beside the checkout, or beside its parent (a worktree)
EXTRACTION_BENCH = next(
    (
        base / "shared" / "bench" / "extraction"
        for base in TESTS.parents[1:3]
        if (base / "shared" / "bench" / "extraction").exists()
    ),
    TESTS.parents[1] / "shared" / "bench" / "extraction",
)
BUILT_PAGES = {
    # no meta tags: <h1> title, <title> site name, byline author, date from the text
    "fallbacks": """<html><head><title>Storm hits the coast | coastnews.example</title></head>
        <body><h1>Storm hits the coast</h1><p class="byline">By Jane Doe</p>
        <p>Published on 27 September 2023 at 10:00.</p><p>The storm came in at night.</p>
        </body></html>""",
    # entities, a one-word meta author, a lower-case @site name, a huge description
    "meta": """<html><head><meta property="og:title" content="Tom &amp; Jerry&nbsp;return">
        <meta name="author" content="admin"><meta name="twitter:site" content="@dailyfoo">
        <meta property="og:site_name" content="@dailyfoo">
        <meta name="description" content="{long}">
        <meta property="article:published_time" content="2023-05-04T10:00:00Z"></head>
        <body><p>Text of the story.</p></body></html>""".replace("{long}", "word " * 2500),
    # JSON-LD over meta tags, a relative canonical link, no site name
    "json_ld": """<html><head><link rel="canonical" href="/news/2021/03/story">
        <meta property="og:image" content="https://img.example/a.jpg">
        <script type="application/ld+json">{"@context": "https://schema.org",
        "@type": "NewsArticle", "headline": "Council votes on the budget",
        "author": {"@type": "Person", "name": "Ana María López"},
        "datePublished": "2021-03-02"}</script></head>
        <body><article><p>The council voted.</p></article></body></html>""",
    "empty": "<html><head></head><body><p>x</p></body></html>",
}


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(page, parser=HTML_PARSER)


def trafilatura_fields(doc: lxml.html.HtmlElement, url: str) -> dict[str, object]:
    # bare_extraction hands extract_metadata a copy of a parsed tree
    found = extract_metadata(copy(doc), url, date_search_bounds(url))
    return {name: getattr(found, name) for name in FIELDS}


def ours(doc: lxml.html.HtmlElement, url: str) -> dict[str, object]:
    lazy = TrafilaturaMetadata(doc, url, date_search_bounds(url))
    return {name: getattr(lazy, name) for name in FIELDS}


def bundled_pages() -> list[Path]:
    return sorted((ROOT / "include" / "sample_articles").glob("*/*.html")) + sorted(
        (TESTS / "fixtures" / "pages").glob("*.html")
    )


@pytest.mark.parametrize("path", bundled_pages(), ids=lambda p: p.stem)
def test_bundled_pages(path: Path) -> None:
    doc = parse(decode_html(path.read_bytes(), None))
    url = f"https://news.example/{path.stem}"
    assert ours(doc, url) == trafilatura_fields(doc, url)


@pytest.mark.parametrize("name", sorted(BUILT_PAGES))
def test_built_pages(name: str) -> None:
    doc = parse(BUILT_PAGES[name])
    url = "https://www.coastnews.example/news/storm"
    expected = trafilatura_fields(doc, url)
    assert ours(doc, url) == expected
    if name != "empty":  # the pages do reach the fields they were built for
        assert expected["title"] and expected["date"]


def test_date_search_only_when_read() -> None:
    doc = parse(BUILT_PAGES["fallbacks"])
    lazy = TrafilaturaMetadata(doc, "https://coastnews.example/storm", {})
    assert lazy.title == "Storm hits the coast"
    assert "date" not in vars(lazy)  # not computed yet
    assert lazy.date == "2023-09-27"
    assert "date" in vars(lazy)


def benchmark_pages() -> list[tuple[str, Path]]:
    pages: list[tuple[str, Path]] = []
    truth = EXTRACTION_BENCH / "fundus_eval" / "ground_truth.json"
    if truth.exists():
        for name, item in sorted(json.loads(truth.read_text(encoding="utf-8")).items()):
            pages.append((item["url"], EXTRACTION_BENCH / "fundus_eval" / "html" / name))
    return pages


@pytest.mark.skipif(not EXTRACTION_BENCH.exists(), reason="extraction benchmark data absent")
def test_benchmark_pages() -> None:
    pages = benchmark_pages()
    assert pages
    for url, path in pages:
        doc = parse(decode_html(gzip.decompress(path.read_bytes()), None))
        assert ours(doc, url) == trafilatura_fields(doc, url), path.name


def test_published_stated_asks_htmldate_only_without_agreed_date() -> None:
    """htmldate's day is only worked out when the page's own dates agree on none."""
    asked: list[bool] = []

    def heuristic() -> str | None:
        asked.append(True)
        return "2023-09-27"

    dated = parse(BUILT_PAGES["meta"])
    stated = published_stated(
        dated,
        page_metadata(dated),
        json_ld_article(json_ld_objects(dated)),
        "https://dailyfoo.example/story",
        heuristic=heuristic,
        listed_at=None,
        not_after=None,
    )
    assert stated is not None and stated.local_date.isoformat() == "2023-05-04"
    assert not asked
    undated = parse(BUILT_PAGES["empty"])
    stated = published_stated(
        undated,
        {},
        {},
        "https://dailyfoo.example/story",
        heuristic=heuristic,
        listed_at=None,
        not_after=None,
    )
    assert stated is not None and stated.local_date.isoformat() == "2023-09-27"
    assert asked == [True]
