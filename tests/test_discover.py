"""Discovery: feeds, sitemaps and saved files to candidates; entry-point failures recorded."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wirehouse import land
from wirehouse.collect import collect_source
from wirehouse.discover import (
    MAX_INDEX_CHILDREN,
    MAX_SITEMAP_URLS,
    SITEMAP_MAX_BYTES,
    Candidate,
    DiscoveryParseError,
    discover_source,
    parse_feed,
    parse_sitemap,
)
from wirehouse.fetch import Fetcher, FetchResult
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
    parsed = parse_sitemap(gzip.compress(URLSET), "https://n.example/sitemap.xml.gz")
    assert [(c.url, c.lastmod) for c in parsed.candidates] == [
        ("https://n.example/s1", "2026-11-21T00:00:00+00:00"),
        ("https://n.example/s2", "2026-11-20T00:00:00+00:00"),
    ]
    assert (parsed.children, parsed.rejected, parsed.ignored) == ([], [], 0)
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://n.example/news.xml</loc></sitemap></sitemapindex>"""
    parsed = parse_sitemap(index, "https://n.example/")
    assert parsed.candidates == []
    assert [c.url for c in parsed.children] == ["https://n.example/news.xml"]
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


# --- a bad URL is a row, never an exception -------------------------------------------

BAD_URLS = ("http://news.example:99999/b", "http://[oops/x")


def invalid_rows(attempts: list[tuple[str, FetchResult]]) -> list[tuple[str, str]]:
    return sorted((kind, r.url) for kind, r in attempts if r.outcome == "invalid_url")


def rss_of(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>t {i}</title><link>{u}</link></item>" for i, u in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def urlset_of(locs: list[str], entry: str = "") -> bytes:
    body = "".join(f"<url><loc>{u}</loc>{entry}</url>" for u in locs)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'.encode()


def local_source(httpserver: HTTPServer, tmp_path: Path, **kw: Any) -> Source:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    return Source(id="n", name="N", home_url=httpserver.url_for("/"), base_dir=str(tmp_path), **kw)


def discover(source: Source) -> tuple[list[Candidate], list[tuple[str, FetchResult]]]:
    with Fetcher("t", allow_private_hosts=True, delay_seconds=0) as fetcher:
        return discover_source(source, fetcher)


def test_bad_urls_in_feeds_sitemaps_lists_and_urls_are_rows(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    good = "https://n.example/good"
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss_of([BAD_URLS[0], good + "-f", BAD_URLS[1]])
    )
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        urlset_of([BAD_URLS[1], good + "-s", BAD_URLS[0]])
    )
    index = f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>{BAD_URLS[0]}</loc></sitemap>
      <sitemap><loc>{httpserver.url_for("/sitemap.xml")}</loc></sitemap></sitemapindex>"""
    httpserver.expect_request("/index.xml").respond_with_data(index)
    httpserver.expect_request("/urls.txt").respond_with_data(f"{BAD_URLS[0]}\n{good}-l\n")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "local.txt").write_text(f"# local\n{BAD_URLS[1]}\n{good}-local\n")
    source = local_source(
        httpserver,
        tmp_path,
        feeds=(httpserver.url_for("/feed.xml"),),
        sitemaps=(httpserver.url_for("/index.xml"),),
        url_lists=(httpserver.url_for("/urls.txt"), "lists/local.txt"),
        urls=(BAD_URLS[0], good + "-u"),  # a Source not from a validated file
    )
    candidates, attempts = discover(source)
    assert [c.url for c in candidates] == [
        good + "-f",
        good + "-s",
        good + "-l",
        good + "-local",
        good + "-u",
    ], "the rest of every listing is still used"
    assert invalid_rows(attempts) == sorted(
        [
            ("article", BAD_URLS[0]),
            ("article", BAD_URLS[1]),  # feed
            ("sitemap", BAD_URLS[0]),  # the index's child
            ("article", BAD_URLS[1]),
            ("article", BAD_URLS[0]),  # sitemap
            ("article", BAD_URLS[0]),  # URL list over HTTP
            ("article", BAD_URLS[1]),  # local URL list
            ("article", BAD_URLS[0]),  # urls
        ]
    )
    reasons = [r.error for _, r in attempts if r.outcome == "invalid_url"]
    assert all(r and r.startswith("not a valid URL") for r in reasons), reasons
    assert any("listed by " + httpserver.url_for("/feed.xml") in r for r in reasons)
    assert all(r.attempts == 0 for _, r in attempts if r.outcome == "invalid_url")
    entry_points = sorted((k, r.outcome) for k, r in attempts if r.outcome != "invalid_url")
    assert entry_points == [
        ("feed", "ok"),
        ("sitemap", "ok"),
        ("sitemap", "ok"),
        ("url_list", "ok"),
    ]

    # the collector turns them into fetch rows beside the good candidates' rows
    with Fetcher("t", allow_private_hosts=True, delay_seconds=0) as fetcher:
        got = collect_source(source, "2026-11-21", [], attempts, fetcher)
    rows = [(r["url_kind"], r["url"], r["outcome"]) for r in got.fetches]
    assert rows.count(("article", BAD_URLS[0], "invalid_url")) == 4
    assert len({r["fetch_id"] for r in got.fetches}) == len(got.fetches)


def test_bad_urls_in_warc_records_and_json_lines_are_rows(tmp_path: Path) -> None:
    with (tmp_path / "crawl.warc.gz").open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        for uri in (BAD_URLS[0], "https://n.example/warc-ok", BAD_URLS[1]):
            writer.write_record(
                writer.create_warc_record(
                    uri, "response", payload=io.BytesIO(b"<html><p>x</p></html>"), http_headers=http
                )
            )
    lines = [
        json.dumps({"url": BAD_URLS[0], "text": "a"}),
        json.dumps({"url": "https://n.example/jsonl-ok", "text": "b"}),
        json.dumps({"url": BAD_URLS[1], "text": "c"}),
    ]
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n")
    source = Source(
        id="n",
        name="N",
        home_url="https://n.example/",
        files=("*.warc.gz", "*.jsonl"),
        base_dir=str(tmp_path),
    )
    with Fetcher("t") as fetcher:
        candidates, attempts = discover_source(source, fetcher)
    assert sorted(c.url for c in candidates) == [
        "https://n.example/jsonl-ok",
        "https://n.example/warc-ok",
    ]
    dump = (tmp_path / "dump.jsonl").as_uri()
    assert invalid_rows(attempts) == sorted(
        [
            ("file", BAD_URLS[0]),
            ("file", BAD_URLS[1]),
            ("file", f"{dump}#line=1"),
            ("file", f"{dump}#line=3"),
        ]
    )


# --- a feed body is never opened as a path ---------------------------------------------


def test_a_feed_body_that_names_a_path_is_parsed_not_opened(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss_of(["https://secret.example/from-disk"]))
    httpserver.expect_request("/path.xml").respond_with_data(str(secret), content_type="text/xml")
    httpserver.expect_request("/zero.xml").respond_with_data("/dev/zero", content_type="text/xml")
    assert parse_feed.__module__ == "wirehouse.discover"
    with pytest.raises(DiscoveryParseError):
        parse_feed(str(secret).encode(), "https://n.example/")  # would list the file's entry
    source = local_source(
        httpserver,
        tmp_path,
        feeds=(httpserver.url_for("/path.xml"), httpserver.url_for("/zero.xml")),
    )
    candidates, attempts = discover(source)
    assert candidates == []
    assert [(k, r.outcome) for k, r in attempts] == [("feed", "parse_error")] * 2


# --- sitemaps in full ---------------------------------------------------------------------

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://n.example/2026/11/21/dam</loc>
    <image:image><image:loc>https://cdn.n.example/dam.jpg</image:loc>
      <image:title>Not the headline</image:title></image:image>
    <lastmod>2026-11-21T12:30:00+01:00</lastmod>
    <news:news>
      <news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-21T08:00:00Z</news:publication_date>
      <news:title>Dam   gives way
        after storm</news:title>
    </news:news>
  </url>
  <url><loc>https://n.example/plain</loc><lastmod>2026-11-19</lastmod></url>
</urlset>"""


def test_news_sitemap_keeps_title_publication_date_and_lastmod() -> None:
    first, second = parse_sitemap(NEWS_SITEMAP, "https://n.example/news.xml").candidates
    assert first == Candidate(
        url="https://n.example/2026/11/21/dam",
        via="sitemap",
        lastmod="2026-11-21T08:00:00+00:00",  # listed_at: the publication date first
        title="Dam gives way after storm",
        modified="2026-11-21T11:30:00+00:00",
    )
    assert (second.lastmod, second.modified, second.title) == (
        "2026-11-19T00:00:00+00:00",
        "2026-11-19T00:00:00+00:00",
        None,
    )


def test_listed_title_and_dates_reach_the_fetch_rows(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/news.xml").respond_with_data(NEWS_SITEMAP)
    source = local_source(httpserver, tmp_path, sitemaps=(httpserver.url_for("/news.xml"),))
    candidates, attempts = discover(source)
    with Fetcher("t", allow_private_hosts=True, delay_seconds=0) as fetcher:
        got = collect_source(
            source,
            "2026-11-21",
            candidates[:1],
            attempts,
            fetcher,
            known_urls=frozenset([candidates[0].url]),
        )
    [row] = [r for r in got.fetches if r["outcome"] == "already_fetched"]
    assert row["listed_title"] == "Dam gives way after storm"
    assert row["listed_at"] == datetime(2026, 11, 21, 8, tzinfo=UTC)
    assert row["listed_modified_at"] == datetime(2026, 11, 21, 11, 30, tzinfo=UTC)
    table = land.to_table("fetches", got.fetches)
    assert table.column("listed_title").to_pylist()[-1] == "Dam gives way after storm"


def test_feed_items_keep_their_titles_and_updated_dates() -> None:
    rss = parse_feed(RSS, "https://n.example/feed.xml")
    assert [(c.title, c.modified) for c in rss] == [("A", None), ("B", None)]
    [atom] = parse_feed(ATOM, "https://n.example/atom.xml")
    assert (atom.title, atom.lastmod, atom.modified) == (
        "C",
        "2026-11-21T09:00:00+00:00",
        "2026-11-21T09:00:00+00:00",
    )


def test_sitemap_entities_are_not_expanded_and_external_ones_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("https://secret.example/leak")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>&xxe;</loc></url>
  <url><loc>https://n.example/fine</loc></url>
</urlset>""".encode()
    parsed = parse_sitemap(xxe, "https://n.example/")
    assert [c.url for c in parsed.candidates] == ["https://n.example/fine"]
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://n.example/&d;</loc></url>
</urlset>"""
    # libxml2 refuses the amplification even unexpanded: the sitemap is a parse_error
    with pytest.raises(DiscoveryParseError, match="amplification"):
        parse_sitemap(laughs, "https://n.example/")


def test_sitemaps_up_to_50_mb_are_fetched_and_bigger_ones_are_too_large(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    # 6 MB: over the 5 MB page cap, within the protocol's 50 MB
    padded = urlset_of(["https://n.example/big-ok"]).replace(
        b"</urlset>", b" " * (6 << 20) + b"</urlset>"
    )
    httpserver.expect_request("/big.xml").respond_with_data(padded)
    bomb = gzip.compress(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + (b"<!--" + b" " * (1 << 20) + b"-->") * 51
    )
    httpserver.expect_request("/bomb.xml.gz").respond_with_data(
        bomb, content_type="application/gzip"
    )
    source = local_source(
        httpserver,
        tmp_path,
        sitemaps=(httpserver.url_for("/big.xml"), httpserver.url_for("/bomb.xml.gz")),
    )
    candidates, attempts = discover(source)
    assert [c.url for c in candidates] == ["https://n.example/big-ok"]
    assert [(r.url.rsplit("/", 1)[1], r.outcome) for _, r in attempts] == [
        ("big.xml", "ok"),
        ("bomb.xml.gz", "too_large"),
    ]
    assert (
        attempts[1][1].error
        == f"sitemap over the protocol's {SITEMAP_MAX_BYTES} bytes uncompressed"
    )


def test_entries_past_50000_per_sitemap_are_counted_in_one_row(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    locs = [f"https://n.example/a/{i}" for i in range(MAX_SITEMAP_URLS + 7)]
    httpserver.expect_request("/all.xml").respond_with_data(gzip.compress(urlset_of(locs)))
    source = local_source(httpserver, tmp_path, sitemaps=(httpserver.url_for("/all.xml"),))
    candidates, attempts = discover(source)
    assert [c.url for c in candidates] == locs[:MAX_SITEMAP_URLS]
    [over] = [(k, r) for k, r in attempts if r.outcome == "over_limit"]
    assert over[0] == "article" and over[1].url == httpserver.url_for("/all.xml")
    assert over[1].error == "7 entries over the sitemap protocol's 50000 per file (not used)"


# --- bounded discovery ---------------------------------------------------------------------


def test_index_children_are_followed_newest_first_up_to_the_cap(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    n = MAX_INDEX_CHILDREN + 5
    children = "".join(
        f"<sitemap><loc>{httpserver.url_for(f'/day/{i}.xml')}</loc>"
        f"<lastmod>2026-{1 + i // 28:02d}-{1 + i % 28:02d}</lastmod></sitemap>"
        for i in range(n)
    )
    index = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'
    httpserver.expect_request("/index.xml").respond_with_data(index)
    for i in range(n):
        httpserver.expect_request(f"/day/{i}.xml").respond_with_data(
            urlset_of([f"https://n.example/{i}"])
        )
    source = local_source(httpserver, tmp_path, sitemaps=(httpserver.url_for("/index.xml"),))
    candidates, attempts = discover(source)
    # the newest MAX_INDEX_CHILDREN days, newest first; the 5 oldest are not fetched
    assert [c.url for c in candidates] == [f"https://n.example/{i}" for i in reversed(range(5, n))]
    fetched = {r.url for _, r in attempts if r.outcome == "ok"}
    assert not any(httpserver.url_for(f"/day/{i}.xml") in fetched for i in range(5))
    [over] = [(k, r) for k, r in attempts if r.outcome == "over_limit"]
    assert (over[0], over[1].url) == ("sitemap", source.home_url)
    assert over[1].error.startswith("5 sitemaps not followed")


def test_candidates_over_max_candidates_are_one_row_and_stop_sitemaps(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss_of([f"https://n.example/f{i}" for i in range(5)])
    )
    httpserver.expect_request("/s.xml").respond_with_data(urlset_of(["https://n.example/s"]))
    (tmp_path / "page.html").write_text("<html><p>saved</p></html>")
    source = local_source(
        httpserver,
        tmp_path,
        feeds=(httpserver.url_for("/feed.xml"),),
        sitemaps=(httpserver.url_for("/s.xml"),),
        urls=("https://n.example/u",),
        files=("page.html",),
        max_candidates=3,
    )
    candidates, attempts = discover(source)
    assert [c.url for c in candidates if c.via != "file"] == [
        f"https://n.example/f{i}" for i in range(3)
    ]
    assert [c.via for c in candidates].count("file") == 1, "local files are not web candidates"
    over = {(k, r.url): r.error for k, r in attempts if r.outcome == "over_limit"}
    assert over == {
        ("article", source.home_url): "3 candidates over max_candidates=3",
        ("sitemap", source.home_url): over[("sitemap", source.home_url)],
    }
    assert over[("sitemap", source.home_url)].startswith("1 sitemaps not followed")
    assert not any(r.url.endswith("/s.xml") for _, r in attempts if r.outcome == "ok")


# --- local paths stay under the sources file's folder ----------------------------------


def test_local_files_and_lists_that_resolve_outside_are_refused_unread(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.html").write_text("<html><p>secret page</p></html>")
    (outside / "secret.txt").write_text("https://secret.example/leak\n")
    home = tmp_path / "home"
    (home / "saved").mkdir(parents=True)
    (home / "saved" / "ok.html").write_text("<html><p>ok</p></html>")
    (home / "saved" / "link.html").symlink_to(outside / "secret.html")
    (home / "list.txt").symlink_to(outside / "secret.txt")
    source = Source(
        id="n",
        name="N",
        home_url="https://n.example/",
        base_dir=str(home),
        files=("saved/*.html",),
        url_lists=("list.txt", str(outside / "secret.txt")),
    )
    with Fetcher("t") as fetcher:
        candidates, attempts = discover_source(source, fetcher)
    assert [Path(c.path or "").name for c in candidates] == ["ok.html"]
    refused = sorted((k, r.url, r.outcome) for k, r in attempts)
    assert refused == sorted(
        [
            ("file", (home / "saved" / "link.html").as_uri(), "file_error"),
            ("url_list", (home / "list.txt").as_uri(), "file_error"),
            ("url_list", (outside / "secret.txt").as_uri(), "file_error"),
        ]
    )
    assert all("WIREHOUSE_LOCAL_ROOTS" in (r.error or "") for _, r in attempts)
    assert not any("secret" in (r.error or "") for _, r in attempts)
    # an extra allowed folder (WIREHOUSE_LOCAL_ROOTS) lets the same source read them
    allowed = dataclasses.replace(source, url_lists=("list.txt",), local_roots=(str(outside),))
    with Fetcher("t") as fetcher:
        candidates, attempts = discover_source(allowed, fetcher)
    assert sorted(c.url for c in candidates if c.via == "url_list") == [
        "https://secret.example/leak"
    ]
    assert sorted(Path(c.path or "").name for c in candidates if c.via == "file") == [
        "ok.html",
        "secret.html",
    ]
    assert attempts == []
