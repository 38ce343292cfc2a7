"""Discovery: feeds, sitemaps and saved files to candidates; entry-point failures recorded."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wirehouse.discover import (
    DiscoveryParseError,
    discover_source,
    parse_feed,
    parse_sitemap,
)
from wirehouse.fetch import Fetcher
from wirehouse.sources import Source

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>A</title><link>https://n.example/a?utm_source=rss</link>
<pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>B</title><link>/b</link></item></channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>T</title><entry><title>C</title><link href="https://n.example/c"/>
<updated>2026-11-21T09:00:00Z</updated></entry></feed>"""
URLSET = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://n.example/s1</loc><news:news><news:publication_date>2026-11-21</news:publication_date></news:news></url>
<url><loc>https://n.example/s2</loc><lastmod>2026-11-20</lastmod></url></urlset>"""


def test_rss_and_atom() -> None:
    rss = parse_feed(RSS, "https://n.example/feed.xml")
    assert [c.url for c in rss] == ["https://n.example/a", "https://n.example/b"]
    assert rss[0].lastmod == "2026-11-21T08:00:00+00:00"
    assert rss[1].lastmod is None
    [atom] = parse_feed(ATOM, "https://n.example/atom.xml")
    assert atom.url == "https://n.example/c" and atom.via == "feed"


def test_malformed_feed_raises_parse_error() -> None:
    with pytest.raises(DiscoveryParseError):
        parse_feed(b"<html><body>not a feed", "https://n.example/feed")


def test_sitemap_urlset_gzipped_and_index() -> None:
    urls, children = parse_sitemap(gzip.compress(URLSET), "https://n.example/sitemap.xml.gz")
    assert [(c.url, c.lastmod) for c in urls] == [
        ("https://n.example/s1", "2026-11-21T00:00:00+00:00"),
        ("https://n.example/s2", "2026-11-20T00:00:00+00:00"),
    ]
    assert children == []
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://n.example/news.xml</loc></sitemap></sitemapindex>"""
    assert parse_sitemap(index, "https://n.example/") == ([], ["https://n.example/news.xml"])
    with pytest.raises(DiscoveryParseError):
        parse_sitemap(b"<urlset><url><loc>x</url>", "https://n.example/")
    with pytest.raises(DiscoveryParseError):
        parse_sitemap(b"<html/>", "https://n.example/")


def write_warc(path: Path) -> None:
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record("x.warc.gz", {"software": "test"}))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                "https://n.example/warc-a",
                "response",
                payload=io.BytesIO(b"<html><body><p>A</p></body></html>"),
                http_headers=http,
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://n.example/warc-a", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://n.example/meta", "metadata", payload=io.BytesIO(b"k: v")
            )
        )


def test_discover_source_end_to_end(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data("<oops", content_type="text/xml")
    httpserver.expect_request("/gone.xml").respond_with_data("", status=410)
    index = f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>{httpserver.url_for("/news.xml.gz")}</loc></sitemap></sitemapindex>"""
    httpserver.expect_request("/index.xml").respond_with_data(index, content_type="text/xml")
    httpserver.expect_request("/news.xml.gz").respond_with_data(
        gzip.compress(URLSET), content_type="application/gzip"
    )
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "one.html").write_text("<html><body><p>x</p></body></html>")
    write_warc(tmp_path / "saved" / "crawl.warc.gz")
    source = Source(
        id="n",
        name="N",
        home_url="https://n.example/",
        feeds=(
            httpserver.url_for("/feed.xml"),
            httpserver.url_for("/broken.xml"),
            httpserver.url_for("/gone.xml"),
        ),
        sitemaps=(httpserver.url_for("/index.xml"),),
        urls=("https://n.example/listed",),
        files=("saved/*.html", "saved/*.warc.gz", "nothing/*.html"),
        base_dir=str(tmp_path),
    )
    with Fetcher("t", allow_private_hosts=True, delay_seconds=0) as fetcher:
        candidates, attempts = discover_source(source, fetcher)
    by_via = {}
    for c in candidates:
        by_via.setdefault(c.via, []).append(c.url)
    assert by_via["feed"] == ["https://n.example/a", httpserver.url_for("/b")]
    assert by_via["sitemap"] == ["https://n.example/s1", "https://n.example/s2"]
    assert by_via["url"] == ["https://n.example/listed"]
    assert len(by_via["file"]) == 1 and by_via["file"][0].endswith("/saved/one.html")
    assert by_via["warc"] == ["https://n.example/warc-a"], "only response records are articles"
    outcomes = sorted((kind, r.outcome) for kind, r in attempts)
    assert outcomes == [
        ("feed", "http_error"),
        ("feed", "ok"),
        ("feed", "parse_error"),
        ("file", "file_error"),
        ("sitemap", "ok"),
        ("sitemap", "ok"),
    ]
