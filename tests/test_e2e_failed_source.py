"""End to end: one bad source never fails the night.

The real `news_daily` DAG through `airflow dags test`, with good sources beside
- `blocked`, whose collect task really crashes (its collector output path is taken by a
  folder, as a broken work directory would be: writing its Parquet file raises), and
- `bad_urls`, carrying the malformed URLs of issue 14 (a feed link with port 99999,
  ``http://[oops/x``, a redirect whose Location is such a URL, a JSON Lines record with one).
  Each must become an `invalid_url` row; until every URL entry point catches them, the
  source's task crashes and the source is a `source_failed` row instead.

Every good source's articles must land, load, reach the marts and be published; the failed
source is a row with its reason; the DagRun ends failed (check_sources) so the night is seen.
Slow: the crashing task is retried twice, 2 minutes apart, as in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import rss
from pytest_httpserver import HTTPServer
from werkzeug import Response

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
BIN = Path(sys.executable).parent
NIGHT = "2026-11-22"
BAD_PORT = "http://news.example:99999/b"
BAD_HOST = "http://[oops/x"
pytestmark = pytest.mark.e2e


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def serve_pages(server: HTTPServer, folder: str) -> list[str]:
    urls = []
    for page in sorted((SAMPLES / folder).glob("*.html")):
        path = f"/{folder}/{page.name}"
        server.expect_request(path).respond_with_data(
            page.read_bytes(), content_type="text/html; charset=utf-8"
        )
        urls.append(server.url_for(path))
    return urls


def test_a_failed_source_is_a_row_and_every_good_source_lands(
    tmp_path: Path, server: HTTPServer, dbt_manifest: Path
) -> None:
    u = server.url_for
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    good = serve_pages(server, "harbor_wire")
    bad_source_good = serve_pages(server, "trendpulse_now")
    server.expect_request("/feed.xml").respond_with_data(
        rss(good), content_type="application/rss+xml"
    )
    server.expect_request("/bad-redirect").respond_with_response(
        Response(status=302, headers={"Location": BAD_PORT})
    )
    server.expect_request("/bad-feed.xml").respond_with_data(
        rss([*bad_source_good, BAD_PORT, BAD_HOST, u("/bad-redirect")]),
        content_type="application/rss+xml",
    )
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        json.dumps({"url": BAD_PORT, "title": "Bad", "text": "A record with a bad port."})
        + "\n"
        + json.dumps({"url": BAD_HOST, "title": "Bad", "text": "A record with a bad host."})
        + "\n",
        encoding="utf-8",
    )
    sources = tmp_path / "sources.yml"
    sources.write_text(
        f"""
sources:
  - id: good_feed
    name: Good feed
    home_url: {u("/")}
    feeds: [{u("/feed.xml")}]
    allow_private_hosts: [127.0.0.1]
    delay_seconds: 0
  - id: saved_pages
    name: Saved pages
    home_url: https://www.lecourrier.example/
    files: ["{SAMPLES}/le_courrier/*.html"]
  - id: bad_urls
    name: Bad URLs
    home_url: https://bad.example/
    feeds: [{u("/bad-feed.xml")}]
    files: ["{dump}"]
    allow_private_hosts: [127.0.0.1]
    delay_seconds: 0
  - id: blocked
    name: Blocked work folder
    home_url: https://blocked.example/
    files: ["{SAMPLES}/daily_lantern/*.html"]
""",
        encoding="utf-8",
    )
    home = tmp_path / "data"
    blocker = home / "collector" / f"run_date={NIGHT}" / "collected" / "blocked.fetches.parquet"
    (blocker / "in-the-way").mkdir(parents=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "WIREHOUSE_HOME": str(home),
        "WIREHOUSE_SOURCES": str(sources),
        "WIREHOUSE_LOCAL_ROOTS": str(SAMPLES),  # the bundled samples, outside tmp_path
    }
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    out = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "news_daily", NIGHT],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    log = out.stdout + out.stderr
    # the night is visible as a problem: check_sources failed the DagRun, naming the source
    assert out.returncode != 0 and "DagRun failed" in log, log[-6000:]
    assert "source(s) failed tonight" in log and "blocked: collect failed" in log, log[-6000:]

    # ... yet everything after land ran: the published copy has every good source
    for db in (home / "wirehouse.duckdb", home / "published" / "wirehouse.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        try:
            articles = con.execute(
                "select source_id, url from marts.fct_articles order by 1, 2"
            ).fetchall()
            fetches = con.execute(
                "select source_id, url, url_kind, outcome, error from marts.fct_fetches"
            ).fetchall()
            sources_seen = {
                r[0] for r in con.execute("select source_id from marts.dim_sources").fetchall()
            }
        finally:
            con.close()
        by_source: dict[str, set[str]] = {}
        for sid, url in articles:
            by_source.setdefault(sid, set()).add(url)
        assert by_source["good_feed"] == set(good), db
        assert len(by_source["saved_pages"]) == 2, db
        assert sources_seen == {"good_feed", "saved_pages", "bad_urls", "blocked"}

        failed = {r[0]: r for r in fetches if r[3] == "source_failed"}
        blocked = failed["blocked"]
        assert blocked[1:3] == ("https://blocked.example/", "source")
        assert "IsADirectoryError" in blocked[4]
        assert "blocked" not in by_source

        # the bad URLs: each an invalid_url row beside the source's good articles; no
        # entry point lets one raise, so the source did not fail
        assert "bad_urls" not in failed, failed
        bad_rows = [r for r in fetches if r[0] == "bad_urls"]
        invalid = [r for r in bad_rows if r[3] == "invalid_url"]
        assert len(invalid) >= 4, bad_rows  # feed port, feed host, redirect, dump lines
        assert by_source["bad_urls"] == set(bad_source_good), db
