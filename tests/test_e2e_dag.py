"""End to end: the real `news_daily` DAG through `airflow dags test`, against pages served
by a real HTTP server on 127.0.0.1, into a real DuckDB file, through real dbt.

Slow (two DAG runs, about a minute and a half), and the one test that proves the pieces fit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
BIN = Path(sys.executable).parent
RUN_DATE = "2026-11-22"
pytestmark = pytest.mark.e2e


def rss(items: list[str]) -> str:
    entries = "".join(f"<item><title>t</title><link>{u}</link></item>" for u in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{entries}</channel></rss>'


def sitemap(urls: list[str]) -> str:
    body = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'


@pytest.fixture
def site(httpserver: HTTPServer) -> dict[str, list[str]]:
    """A local news site: feed + sitemap over the bundled English sample pages, and failures."""
    pages = sorted(SAMPLES.glob("harbor_wire/*.html")) + sorted(
        SAMPLES.glob("trendpulse_now/*.html")
    )
    urls = []
    for page in pages:
        path = f"/news/{page.parent.name}/{page.name}"
        httpserver.expect_request(path).respond_with_data(
            page.read_bytes(), content_type="text/html; charset=utf-8"
        )
        urls.append(httpserver.url_for(path))
    httpserver.expect_request("/gone.html").respond_with_data("gone", status=404)
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.4", content_type="application/pdf"
    )
    half = len(urls) // 2
    feed_urls = [*urls[:half], httpserver.url_for("/gone.html"), httpserver.url_for("/report.pdf")]
    # the sitemap repeats one feed URL (with a tracking parameter) to exercise deduplication
    sitemap_urls = [*urls[half:], urls[0] + "?utm_source=sitemap"]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(feed_urls), content_type="application/rss+xml"
    )
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        sitemap(sitemap_urls), content_type="application/xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data(
        "<rss><chan", content_type="text/xml"
    )
    return {"articles": urls}


def write_sources(path: Path, httpserver: HTTPServer) -> None:
    path.write_text(
        f"""
sources:
  - id: local_wire
    name: Local Wire
    home_url: {httpserver.url_for("/")}
    feeds: [{httpserver.url_for("/feed.xml")}, {httpserver.url_for("/broken.xml")}]
    sitemaps: [{httpserver.url_for("/sitemap.xml")}]
    allow_private_hosts: true
    delay_seconds: 0
  - id: saved_pages
    name: Saved pages
    home_url: https://www.lecourrier.example/
    files: ["{SAMPLES}/le_courrier/*.html"]
  - id: not_allowed
    name: Private address without permission
    home_url: https://private.example/
    urls: [{httpserver.url_for("/news/secret.html")}]
""",
        encoding="utf-8",
    )


def run_dag(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "news_daily", RUN_DATE],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def mart_counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
            for t in ("fct_articles", "dim_sources", "dim_stories", "fct_fetches")
        }
    finally:
        con.close()


def test_news_daily_end_to_end(
    tmp_path: Path, httpserver: HTTPServer, site: dict[str, list[str]], dbt_manifest: Path
) -> None:
    sources = tmp_path / "sources.yml"
    write_sources(sources, httpserver)
    home = tmp_path / "data"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "WIREHOUSE_HOME": str(home),
        "WIREHOUSE_SOURCES": str(sources),
    }
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    first = run_dag(env)
    assert first.returncode == 0, (first.stdout + first.stderr)[-6000:]

    warehouse = home / "wirehouse.duckdb"
    counts = mart_counts(warehouse)
    assert all(n > 0 for n in counts.values()), counts

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        outcomes = dict(
            con.execute(
                "select outcome, count(*) from marts.fct_fetches group by outcome"
            ).fetchall()
        )
        local_articles = con.execute(
            "select count(*) from marts.fct_articles where source_id = 'local_wire'"
        ).fetchone()[0]
        sources_rows = dict(
            con.execute("select source_id, article_count from marts.dim_sources").fetchall()
        )
        french = con.execute(
            "select count(*) from marts.fct_articles where source_id = 'saved_pages' and language = 'fr'"
        ).fetchone()[0]
        landing_dates = con.execute(
            "select distinct run_date::varchar from landing.fetches"
        ).fetchall()
    finally:
        con.close()

    # every served article page landed once, the failures are rows with their reasons
    assert local_articles == len(site["articles"])
    assert outcomes["ok"] >= len(site["articles"]) + 2  # + feed and sitemap fetches
    for expected in (
        "http_error",
        "not_html",
        "parse_error",
        "duplicate_url",
        "blocked_private_address",
    ):
        assert outcomes.get(expected, 0) >= 1, (expected, outcomes)
    assert sources_rows == {"local_wire": local_articles, "saved_pages": french, "not_allowed": 0}
    assert french >= 1
    assert landing_dates == [(RUN_DATE,)]
    assert (home / "landing" / "articles" / f"run_date={RUN_DATE}" / "articles.parquet").exists()
    assert mart_counts(home / "published" / "wirehouse.duckdb") == counts

    # re-running the same day changes nothing
    second = run_dag(env)
    assert second.returncode == 0, (second.stdout + second.stderr)[-6000:]
    assert mart_counts(warehouse) == counts
