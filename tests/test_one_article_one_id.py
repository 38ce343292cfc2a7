"""Two spellings of one URL give one article, through discovery and the collector, and a
page fetched on a night made with the old canonical URLs is not fetched again."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from conftest import lantern_source
from pytest_httpserver import HTTPServer

from wirehouse import land, pipeline
from wirehouse.collect import Collected, collect_source
from wirehouse.config import Settings
from wirehouse.discover import discover_source
from wirehouse.fetch import Fetcher
from wirehouse.migrate_ids import legacy_canonical_url
from wirehouse.sources import Source

RUN_DATE = "2026-11-21"
STORY = (
    "The island ferry resumed its full timetable on Monday after three weeks of reduced "
    "sailings caused by a fault in the main engine. The operator said the replacement part "
    "had been shipped from the manufacturer in Finland and fitted over the weekend.",
    "Islanders had complained that the single daily crossing left them unable to reach "
    "hospital appointments on the mainland. The operator apologised and said it would "
    "refund season ticket holders for the lost sailings.",
)
PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Ferry back</title>"
    "</head><body><article><h1>Ferry back</h1>"
    + "".join(f"<p>{p}</p>" for p in STORY)
    + "</article></body></html>"
).encode()


def collect(src: Source, known: frozenset[str] = frozenset()) -> Collected:
    with Fetcher(
        "Wirehouse-test/1", allow_private_hosts=True, delay_seconds=0, sleep=lambda _s: None
    ) as fetcher:
        candidates, attempts = discover_source(src, fetcher)
        return collect_source(src, RUN_DATE, candidates, attempts, fetcher, known_urls=known)


def serve(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/news/ferry").respond_with_data(PAGE, content_type="text/html")


def test_spellings_of_one_url_become_one_article(httpserver: HTTPServer) -> None:
    serve(httpserver)
    base = httpserver.url_for("/")
    spellings = [
        f"{base}news/ferry?b=2&a=1&utm_source=rss",
        f"{base}news/./ferry?a=1&b=2#comments",
        f"{base}news/%66erry?a=1&mkt_tok=xyz&b=2",
        f"{base}sport/../news/ferry?_hsenc=p2A&a=1&b=2&fbclid=1",
    ]
    collected = collect(lantern_source(httpserver, spellings))
    assert len(collected.articles) == 1
    assert collected.articles[0]["url"] == f"{base}news/ferry?a=1&b=2"
    pages = [r["outcome"] for r in collected.fetches if r["url_kind"] == "article"]
    assert sorted(pages) == ["duplicate_url", "duplicate_url", "duplicate_url", "ok"]
    assert [r.path for r, _ in httpserver.log].count("/news/ferry") == 1  # fetched once


def test_a_page_fetched_under_an_old_spelling_is_already_fetched(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver)
    base = httpserver.url_for("/")
    # an earlier night, collected with the version-1 canonical URL (parameters unsorted)
    settings = Settings(home=tmp_path, sources_file=tmp_path / "sources.yml")
    stored = legacy_canonical_url(f"{base}news/ferry?b=2&a=1&mkt_tok=1")
    assert stored.endswith("?b=2&a=1&mkt_tok=1")
    earlier = pipeline.run_collector_dir(settings, "2026-11-20") / "collected"
    earlier.mkdir(parents=True)
    rows = [{"url": stored, "url_kind": "article", "outcome": "ok", "body_sha256": "ab" * 32}]
    pq.write_table(land.to_table("fetches", rows), earlier / "lantern.fetches.parquet")

    known = pipeline.previously_fetched(settings, "lantern", RUN_DATE)
    collected = collect(lantern_source(httpserver, [f"{base}news/ferry?a=1&b=2"]), known)
    assert [r["outcome"] for r in collected.fetches] == ["already_fetched"]
    assert collected.articles == [] and "/news/ferry" not in [r.path for r, _ in httpserver.log]


def test_only_nights_made_by_older_rules_are_respelled(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, sources_file=tmp_path / "sources.yml")
    rows = [{"url": "https://n.example/a?b=2&a=1", "url_kind": "article", "body_sha256": "ab" * 32}]
    for night, table in (
        ("2026-11-19", land.to_table("fetches", rows)),  # before the upgrade: unmarked
        ("2026-11-20", pipeline._with_url_version(land.to_table("fetches", rows))),
    ):
        folder = pipeline.run_collector_dir(settings, night) / "collected"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "lantern.fetches.parquet")
    assert pipeline.previously_fetched(settings, "lantern", "2026-11-20") == {
        "https://n.example/a?b=2&a=1",
        "https://n.example/a?a=1&b=2",
    }
    # the marked night is taken as it is (its URLs were canonical when collected)
    marked = pipeline.run_collector_dir(settings, "2026-11-20") / "collected"
    assert pipeline._url_version(marked / "lantern.fetches.parquet") == pipeline.CANONICAL_VERSION
    (
        pipeline.run_collector_dir(settings, "2026-11-19") / "collected" / "lantern.fetches.parquet"
    ).unlink()
    assert pipeline.previously_fetched(settings, "lantern", "2026-11-21") == {
        "https://n.example/a?b=2&a=1"
    }
