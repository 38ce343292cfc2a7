"""End to end: the real `news_daily` DAG through `airflow dags test`, against a real HTTP
server on 127.0.0.1 that serves good pages and every kind of trouble at once, into a real
DuckDB file, through real dbt.

Slow (three DAG runs, a few minutes), and the one test that proves the pieces fit: every URL
gets its row, the good pages land in `fct_articles`, re-running a night changes nothing, and
the next night skips what is already stored and asks the feed conditionally.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import rss
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from werkzeug import Request, Response
from wirehouse_airflow import MARTS

from wirehouse import cli
from wirehouse.extensions import NO_DOWNLOAD_CONFIG, load_extension
from wirehouse.publish import search

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
BIN = Path(sys.executable).parent
NIGHT_1, NIGHT_2 = "2026-11-22", "2026-11-23"
FEED_ETAG = '"feed-v1"'
pytestmark = pytest.mark.e2e


def sitemap(urls: list[str]) -> bytes:
    body = "".join(f"<url><loc>{u}</loc><lastmod>2026-11-21</lastmod></url>" for u in urls)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'.encode()


def latin1_page() -> bytes:
    para = (
        "<p>Le préfet de la région a confirmé jeudi que la crue de la rivière avait atteint "
        "un niveau exceptionnel, obligeant les élèves de trois écoles à être évacués vers le "
        "gymnase municipal où des bénévoles leur ont servi un repas chaud.</p>"
    )
    html = (
        f"<html><head><title>Crue</title></head><body><article>{para * 6}</article></body></html>"
    )
    return html.encode("latin-1")


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def site(server: HTTPServer) -> dict[str, object]:
    """A local news site serving good pages and every failure the collector must survive."""
    u = server.url_for
    pages = sorted(SAMPLES.glob("harbor_wire/*.html")) + sorted(
        SAMPLES.glob("trendpulse_now/*.html")
    )
    good = []
    for page in pages:
        path = f"/news/{page.parent.name}/{page.name}"
        server.expect_request(path).respond_with_data(
            page.read_bytes(), content_type="text/html; charset=utf-8"
        )
        good.append(u(path))
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    server.expect_request("/news/latin1.html").respond_with_data(
        latin1_page(), content_type="text/html; charset=iso-8859-1"
    )
    good.append(u("/news/latin1.html"))

    flaky = {"n": 0}

    def flaky_handler(_req: Request) -> Response:
        flaky["n"] += 1
        if flaky["n"] == 1:
            return Response("busy", status=503, headers={"Retry-After": "1"})
        return Response(
            pages[0].read_bytes().replace(b"Calder", b"Calder (updated)"), content_type="text/html"
        )

    def slow_handler(_req: Request) -> Response:
        time.sleep(1.5)
        return Response("<html><body>late</body></html>", content_type="text/html")

    redirects = {
        "/r1": u("/r2"),
        "/r2": u("/news/latin1.html?via=redirect"),
        "/loop-a": u("/loop-b"),
        "/loop-b": u("/loop-a"),
        "/to-private": f"http://localhost:{server.port}/news/x.html",
    }
    for path, target in redirects.items():
        server.expect_request(path).respond_with_response(
            Response(status=302, headers={"Location": target})
        )
    server.expect_request("/news/latin1.html", query_string="via=redirect").respond_with_data(
        latin1_page(), content_type="text/html; charset=iso-8859-1"
    )
    server.expect_request("/flaky.html").respond_with_handler(flaky_handler)
    server.expect_request("/slow.html").respond_with_handler(slow_handler)
    server.expect_request("/gone.html").respond_with_data("gone", status=404)
    server.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.4 ...", content_type="application/pdf"
    )
    server.expect_request("/binary.html").respond_with_data(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 50, content_type="text/html"
    )
    server.expect_request("/huge.html").respond_with_data(
        b"<html>" + b"x" * (6 * 1024 * 1024), content_type="text/html"
    )
    server.expect_request("/bomb.html").respond_with_data(
        gzip.compress(b"<html>" + b" " * (60 * 1024 * 1024)),
        content_type="text/html",
        headers={"Content-Encoding": "gzip"},
    )
    server.expect_request("/empty.html").respond_with_data(
        "<html><body><nav>Home</nav></body></html>", content_type="text/html"
    )

    def feed_handler(req: Request) -> Response:
        if req.headers.get("If-None-Match") == FEED_ETAG:
            return Response(status=304, headers={"ETag": FEED_ETAG})
        items = [
            *good[:4],
            u("/gone.html"),
            u("/report.pdf"),
            u("/binary.html"),
            u("/private/secret.html"),
            u("/r1"),
            u("/loop-a"),
            u("/to-private"),
            u("/flaky.html"),
            u("/slow.html"),
            u("/huge.html"),
            u("/bomb.html"),
            u("/empty.html"),
        ]
        return Response(rss(items), content_type="application/rss+xml", headers={"ETag": FEED_ETAG})

    server.expect_request("/feed.xml").respond_with_handler(feed_handler)
    index = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{u("/news.xml.gz")}</loc></sitemap></sitemapindex>'
    server.expect_request("/sitemap.xml").respond_with_data(index, content_type="application/xml")
    # the sitemap repeats a feed URL with a tracking parameter: one fetch, one duplicate row
    server.expect_request("/news.xml.gz").respond_with_data(
        gzip.compress(sitemap([*good[4:], good[0] + "?utm_source=sitemap"])),
        content_type="application/gzip",
    )
    server.expect_request("/broken-feed.xml").respond_with_data(
        "<rss><chan", content_type="text/xml"
    )
    server.expect_request("/broken-sitemap.xml").respond_with_data(
        "<urlset><url>", content_type="text/xml"
    )
    server.expect_request("/urls.txt").respond_with_data(
        f"# extra\n{u('/news/latin1.html')}\n", content_type="text/plain"
    )
    return {"good": good}


def write_warc(path: Path) -> None:
    page = (SAMPLES / "harbor_wire").glob("*.html").__next__().read_bytes()
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        http = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                "https://archive.example/2026/11/20/story",
                "response",
                payload=io.BytesIO(page),
                http_headers=http,
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://archive.example/2026/11/20/story",
                "request",
                payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://archive.example/meta", "metadata", payload=io.BytesIO(b"via: test")
            )
        )


def write_sources(path: Path, server: HTTPServer, warc: Path) -> None:
    u = server.url_for
    path.write_text(
        f"""
sources:
  - id: local_wire
    name: Local Wire
    home_url: {u("/")}
    feeds: [{u("/feed.xml")}, {u("/broken-feed.xml")}]
    sitemaps: [{u("/sitemap.xml")}, {u("/broken-sitemap.xml")}]
    url_lists: [{u("/urls.txt")}]
    allow_private_hosts: [127.0.0.1]
    delay_seconds: 0
    concurrency: 4
    timeout_seconds: 1
  - id: saved_pages
    name: Saved pages
    home_url: https://www.lecourrier.example/
    files: ["{SAMPLES}/le_courrier/*.html", "{warc}"]
  - id: not_allowed
    name: Private address without permission
    home_url: https://private.example/
    urls: [{u("/news/secret.html")}]
""",
        encoding="utf-8",
    )


def run_dag(env: dict[str, str], run_date: str, conf: dict | None = None) -> str:
    """Run the night through `airflow dags test` (with the run's conf, if given) and return
    its output (the task logs)."""
    extra = ["--conf", json.dumps(conf)] if conf else []
    out = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "news_daily", run_date, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]
    return out.stdout + out.stderr


def mart_asset_events(airflow_home: Path) -> list[tuple[str, dict]]:
    """(asset name, extra) of every asset event the metadata DB recorded, oldest first."""
    con = sqlite3.connect(airflow_home / "airflow.db")
    try:
        rows = con.execute(
            "select a.name, e.extra from asset_event e join asset a on a.id = e.asset_id "
            "where e.source_task_id = 'publish' order by e.id"
        ).fetchall()
    finally:
        con.close()
    return [(name, json.loads(extra) if isinstance(extra, str) else extra) for name, extra in rows]


def assert_published_searchable(published: Path) -> None:
    """The published copy finds the biggest story by its own headline (BM25 in the copy), and
    the Parquet marts are one snapshot, the copy's."""
    con = duckdb.connect(
        str(published / "wirehouse.duckdb"), read_only=True, config=dict(NO_DOWNLOAD_CONFIG)
    )
    try:
        load_extension(con, "fts")
        story_id, headline = con.execute(
            "select story_id, headline from marts.dim_stories "
            "order by article_count desc, story_id limit 1"
        ).fetchone()
        hits = search.search_stories(con, headline, limit=5)
        assert hits and hits[0][0] == story_id, (headline, hits)
        snapshot_id = con.execute("select snapshot_id from main.publish_info").fetchone()[0]
    finally:
        con.close()
    assert (published / "marts").is_symlink()
    for f in (published / "marts").glob("*.parquet"):
        assert pq.read_metadata(f).metadata[b"snapshot_id"].decode() == snapshot_id


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def mart_counts(warehouse: Path) -> dict[str, int]:
    marts = (
        "fct_articles",
        "dim_sources",
        "dim_stories",
        "fct_fetches",
        "dim_entities",
        "fct_entity_mentions",
        "bridge_story_entities",
    )
    return {t: query(warehouse, f"select count(*) from marts.{t}")[0][0] for t in marts}


def test_news_daily_end_to_end(
    tmp_path: Path,
    server: HTTPServer,
    site: dict,
    dbt_manifest: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    sources = tmp_path / "sources.yml"
    write_sources(sources, server, warc)
    home = tmp_path / "data"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "WIREHOUSE_HOME": str(home),
        "WIREHOUSE_SOURCES": str(sources),
        # the saved-pages source reads the bundled samples, outside the sources file's folder
        "WIREHOUSE_LOCAL_ROOTS": str(SAMPLES),
    }
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    # --- night 1: everything at once ---------------------------------------------------
    log_1 = run_dag(env, NIGHT_1)
    # the long stages say how far they are in the task log
    for line in ("collect local_wire: started", "entities: started", "stories: features"):
        assert line in log_1, line
    # publish emitted one asset event per mart, labelled with the night and snapshot
    events = mart_asset_events(tmp_path / "airflow")
    assert {name for name, _ in events} == {f"wirehouse.marts.{m}" for m in MARTS}
    assert len(events) == len(MARTS)
    assert {extra["run_date"] for _, extra in events} == {NIGHT_1}
    articles_event = dict(events)["wirehouse.marts.fct_articles"]
    warehouse = home / "wirehouse.duckdb"
    counts = mart_counts(warehouse)
    assert all(n > 0 for n in counts.values()), counts
    assert articles_event["rows"] == counts["fct_articles"]

    outcome_of = dict(
        query(
            warehouse,
            f"""
        select regexp_replace(url, '^http://127.0.0.1:[0-9]+', ''), outcome
        from marts.fct_fetches where run_date = '{NIGHT_1}' and source_id = 'local_wire'
          and url_kind in ('article', 'feed', 'sitemap', 'url_list')
          and outcome != 'duplicate_url'""",
        )
    )
    expected = {
        "/feed.xml": "ok",
        "/broken-feed.xml": "parse_error",
        "/sitemap.xml": "ok",
        "/news.xml.gz": "ok",
        "/broken-sitemap.xml": "parse_error",
        "/urls.txt": "ok",
        "/gone.html": "http_error",
        "/report.pdf": "not_html",
        "/binary.html": "not_html",
        "/private/secret.html": "robots_disallowed",
        "/r1": "ok",
        "/loop-a": "redirect_loop",
        "/to-private": "blocked_private_address",
        "/flaky.html": "ok",
        "/slow.html": "timeout",
        "/huge.html": "too_large",
        "/bomb.html": "too_large",
        "/empty.html": "extraction_empty",
        "/news/latin1.html": "ok",
    }
    for path, outcome in expected.items():
        assert outcome_of.get(path) == outcome, (path, outcome_of.get(path))
    flaky_attempts = query(
        warehouse, "select attempts from marts.fct_fetches where url like '%/flaky.html'"
    )
    assert flaky_attempts == [(2,)]

    dup = query(
        warehouse, "select count(*) from marts.fct_fetches where outcome = 'duplicate_url'"
    )[0][0]
    assert dup >= 2  # the sitemap's tracking-parameter copy and the URL list's repeat

    # every served good page is an article; the latin-1 page decoded correctly
    local = dict(
        query(warehouse, "select url, body from marts.fct_articles where source_id = 'local_wire'")
    )
    assert set(site["good"]) <= set(local) | {site["good"][0]}
    latin = local[server.url_for("/news/latin1.html")]
    assert "préfet" in latin and "évacués" in latin
    assert query(
        warehouse,
        "select outcome from marts.fct_fetches where url like 'http://localhost%' or url like '%/news/secret.html'",
    ) == [("blocked_private_address",)]

    # the WARC response record is an article; request and metadata records are not
    saved = dict(
        query(
            warehouse,
            "select url, language from marts.fct_articles where source_id = 'saved_pages'",
        )
    )
    assert saved["https://archive.example/2026/11/20/story"] == "en"
    assert sum(1 for lang in saved.values() if lang == "fr") == 2

    health = dict(query(warehouse, "select source_id, fetch_success_rate from marts.dim_sources"))
    assert (
        health["not_allowed"] == 0.0
        and 0 < health["local_wire"] < 1
        and health["saved_pages"] == 1.0
    )
    assert mart_counts(home / "published" / "wirehouse.duckdb") == counts
    assert_published_searchable(home / "published")
    raw_files = list((home / "raw").glob("*/*.gz"))
    assert len(raw_files) >= len(site["good"])

    # entities: the union leader named in the wire story and in its rewrite is one person;
    # French pages are marked, not silently empty; the entity stage saw every article
    statuses = dict(
        query(warehouse, "select ner_status, count(*) from marts.fct_articles group by 1")
    )
    assert statuses.get("unsupported_language", 0) >= 2 and statuses.get("ok", 0) >= 8, statuses
    assert "not_analysed" not in statuses
    leader = query(
        warehouse,
        "select entity_type, article_count, source_count from marts.dim_entities "
        "where name = 'Delia Marchetti'",
    )
    assert leader and leader[0][0] == "PERSON" and leader[0][1] >= 2, leader
    salience = query(
        warehouse,
        "select max(abs(total - 1)) from (select sum(salience) as total "
        "from marts.bridge_story_entities group by story_id)",
    )[0][0]
    assert salience < 1e-9
    entity_ids = query(warehouse, "select entity_id, name from marts.dim_entities order by 1")

    # the briefing: the night's page and the index, its stories found through the night's
    # fetch rows (every article of night 1 is new), charts and map drawn from the marts
    pages = home / "published" / "briefing"
    page_1 = (pages / f"{NIGHT_1}.html").read_text(encoding="utf-8")
    assert (pages / "index.html").exists() and (pages / "assets" / "plotly.min.js").exists()
    assert f"{counts['fct_articles']:,} new articles in" in page_1
    assert 'class="story"' in page_1 and 'id="briefing-map"' in page_1

    # --- night 1 again: nothing changes ------------------------------------------------
    run_dag(env, NIGHT_1)
    assert mart_counts(warehouse) == counts
    assert (pages / f"{NIGHT_1}.html").read_text(encoding="utf-8") == page_1
    assert query(warehouse, "select entity_id, name from marts.dim_entities order by 1") == (
        entity_ids
    )

    # --- night 2: stored pages are not fetched again, the feed answers 304 ---------------
    # run as a manual run of another logical date that names its night and sources file
    # through the DAG's params: the night is labelled NIGHT_2 all the same
    before = len(server.log)
    run_dag(env, "2026-11-28", conf={"run_date": NIGHT_2, "sources": sources.name})
    night_2_events = mart_asset_events(tmp_path / "airflow")[-len(MARTS) :]
    assert {extra["run_date"] for _, extra in night_2_events} == {NIGHT_2}
    assert query(
        warehouse, "select count(*) from marts.fct_fetches where run_date = '2026-11-28'"
    ) == [(0,)]
    night2 = dict(
        query(
            warehouse,
            f"select outcome, count(*) from marts.fct_fetches where run_date = '{NIGHT_2}' group by 1",
        )
    )
    assert night2.get("not_modified", 0) == 1, night2  # the feed
    assert night2.get("already_fetched", 0) >= len(site["good"]) - 4, (
        night2
    )  # sitemap + list + files
    fetched_again = [
        r for r, _ in server.log[before:] if r.path.startswith("/news/") and "sample" not in r.path
    ]
    assert fetched_again == [], [r.path for r in fetched_again]
    assert mart_counts(warehouse)["fct_articles"] == counts["fct_articles"]
    # night 2 collected nothing new: its page says so, and the index is night 2's
    page_2 = (pages / f"{NIGHT_2}.html").read_text(encoding="utf-8")
    assert "No new articles were collected on this night." in page_2
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert f"<b>Night of {NIGHT_2}</b>" in index and f'href="{NIGHT_1}.html"' in index

    # --- re-extraction from the raw archive, without fetching -----------------------------
    monkeypatch.setenv("WIREHOUSE_HOME", str(home))
    before = len(server.log)
    assert cli.main(["reextract", "--since", NIGHT_1, "--until", NIGHT_1]) == 0
    assert len(server.log) == before
    assert (
        query(warehouse, f"select count(*) from landing.articles where run_date = '{NIGHT_1}'")[0][
            0
        ]
        == counts["fct_articles"]
    )
