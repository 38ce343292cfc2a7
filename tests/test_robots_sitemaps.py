"""`robots_sitemaps: true`: discovery also reads the sitemaps named by `Sitemap:` lines in the
robots.txt of the source's home host, against a real local server."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from wirehouse.discover import discover_source
from wirehouse.fetch import Fetcher
from wirehouse.sources import Source, SourcesError, parse_sources

URLSET = """<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{}</loc><lastmod>2026-11-20</lastmod></url></urlset>"""
ROBOTS = (
    "User-agent: *\nDisallow: /private/\n\n"
    "Sitemap: /news-sitemap.xml\n"  # relative: resolved against robots.txt
    "Sitemap: {configured}\n"  # also configured: read once
)


def serve(httpserver: HTTPServer) -> None:
    configured = httpserver.url_for("/configured.xml")
    httpserver.expect_request("/robots.txt").respond_with_data(
        ROBOTS.format(configured=configured), content_type="text/plain"
    )
    httpserver.expect_request("/news-sitemap.xml").respond_with_data(
        URLSET.format("https://n.example/from-robots"), content_type="application/xml"
    )
    httpserver.expect_request("/configured.xml").respond_with_data(
        URLSET.format("https://n.example/configured"), content_type="application/xml"
    )


def source(httpserver: HTTPServer, robots_sitemaps: bool) -> Source:
    return Source(
        id="n",
        name="N",
        home_url=httpserver.url_for("/"),
        sitemaps=(httpserver.url_for("/configured.xml"),),
        robots_sitemaps=robots_sitemaps,
    )


def test_robots_sitemaps_are_discovered_when_asked(httpserver: HTTPServer) -> None:
    serve(httpserver)
    with Fetcher("t", allow_private_hosts=True, delay_seconds=0) as fetcher:
        candidates, attempts = discover_source(source(httpserver, True), fetcher)
    assert [(c.url, c.via) for c in candidates] == [
        ("https://n.example/configured", "sitemap"),
        ("https://n.example/from-robots", "sitemap"),
    ]
    assert [(kind, r.url, r.outcome) for kind, r in attempts] == [
        ("sitemap", httpserver.url_for("/configured.xml"), "ok"),
        ("sitemap", httpserver.url_for("/news-sitemap.xml"), "ok"),
    ]
    paths = [request.path for request, _ in httpserver.log]
    assert paths.count("/robots.txt") == 1  # the rules and the sitemaps share one read
    assert paths.count("/configured.xml") == 1


def test_robots_sitemaps_are_ignored_by_default(httpserver: HTTPServer) -> None:
    serve(httpserver)
    with Fetcher("t", allow_private_hosts=True, delay_seconds=0) as fetcher:
        candidates, _ = discover_source(source(httpserver, False), fetcher)
    assert [c.url for c in candidates] == ["https://n.example/configured"]
    assert "/news-sitemap.xml" not in [request.path for request, _ in httpserver.log]


GOOD = """
sources:
  - id: lantern
    name: The Daily Lantern
    home_url: https://www.dailylantern.example/
"""


def test_robots_sitemaps_field_is_validated() -> None:
    [src] = parse_sources(GOOD + "    robots_sitemaps: true\n")  # enough on its own
    assert src.robots_sitemaps is True
    assert src.from_dict(src.to_dict()) == src
    [plain] = parse_sources(GOOD + "    urls: [https://www.dailylantern.example/a]\n")
    assert plain.robots_sitemaps is False
    with pytest.raises(SourcesError) as err:
        parse_sources(GOOD + "    robots_sitemaps: sometimes\n")
    assert "sources.yml: sources[0] (id 'lantern'): 'robots_sitemaps' must be true or false" in (
        str(err.value)
    )
    with pytest.raises(SourcesError, match="needs at least one of"):
        parse_sources(GOOD + "    robots_sitemaps: false\n")
