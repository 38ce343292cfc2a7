"""The dbt project's operational commands on a real warehouse: `dbt source freshness` and
the docs published beside the briefing (`pipeline.docs_run`).

One night is landed (yesterday, fetched an hour ago) and built; freshness then passes, and
fails once the same night is four days old.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_cli import run_dbt

from wirehouse import pipeline
from wirehouse.config import Settings
from wirehouse.load import ensure_schema

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
FRESHNESS_CHECKED = {"sources", "fetches", "articles", "article_stories", "article_entities"}


_dbt = run_dbt


def _land_night(db: Path, run_date: date, fetched_at: datetime) -> None:
    """One source, one article in a story of its own, analysed: the tables freshness checks."""
    with duckdb.connect(str(db)) as con:
        con.execute("set TimeZone = 'UTC'")
        ensure_schema(con)
        con.execute(
            "insert into landing.sources (run_date, source_id, name, home_url, domain) "
            "values (?, 'alpha', 'Alpha', 'https://alpha.example/', 'alpha.example')",
            [run_date],
        )
        con.execute(
            "insert into landing.fetches (fetch_id, run_date, source_id, url, url_kind, outcome, "
            "attempts, fetched_at) values ('f1', ?, 'alpha', 'https://alpha.example/a', "
            "'article', 'ok', 1, ?)",
            [run_date, fetched_at],
        )
        con.execute(
            "insert into landing.articles (article_id, run_date, source_id, fetch_id, url, "
            "canonical_url, title, published_at, language, body, fetched_at, extraction_path) "
            "values ('a1', ?, 'alpha', 'f1', 'https://alpha.example/a', "
            "'https://alpha.example/a', 'A', ?, 'en', 'body', ?, 'wirehouse')",
            [run_date, fetched_at, fetched_at],
        )
        con.execute(
            "insert into landing.article_stories (run_date, article_id, story_id) "
            "values (?, 'a1', 'st_a1')",
            [run_date],
        )
        con.execute(
            "insert into landing.article_entities (run_date, article_id, ner_status) "
            "values (?, 'a1', 'empty')",
            [run_date],
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("operations")
    now = datetime.now(UTC)
    _land_night(home / "wirehouse.duckdb", now.date() - timedelta(days=1), now - timedelta(hours=1))
    result = _dbt(home, "build")
    assert result.returncode == 0, result.stdout
    return home


def _freshness(home: Path) -> tuple[int, dict[str, str]]:
    result = _dbt(home, "source", "freshness")
    sources = json.loads((home / "dbt_target" / "sources.json").read_text())
    return result.returncode, {
        r["unique_id"].rsplit(".", 1)[1]: r["status"] for r in sources["results"]
    }


def test_source_freshness_passes_after_a_night_and_fails_when_nights_are_missing(
    built: Path, tmp_path: Path
) -> None:
    code, statuses = _freshness(built)
    assert code == 0
    assert statuses == dict.fromkeys(FRESHNESS_CHECKED, "pass")
    # the same warehouse, its one night four days old: over error_after (72 hours)
    stale = tmp_path / "stale"
    stale.mkdir()
    db = stale / "wirehouse.duckdb"
    db.write_bytes((built / "wirehouse.duckdb").read_bytes())
    with duckdb.connect(str(db)) as con:
        for table in FRESHNESS_CHECKED:
            con.execute(f"update landing.{table} set run_date = run_date - 3")
        for table in ("fetches", "articles"):
            con.execute(f"update landing.{table} set fetched_at = fetched_at - interval 4 day")
    code, statuses = _freshness(stale)
    assert code == 1
    assert statuses == dict.fromkeys(FRESHNESS_CHECKED, "error")


def test_docs_are_published_beside_the_briefing(built: Path) -> None:
    settings = Settings(home=built, sources_file=REPO / "include" / "sources.yml")
    own_manifest = DBT_PROJECT / "target" / "manifest.json"
    before = own_manifest.stat().st_mtime_ns if own_manifest.exists() else None
    summary = pipeline.docs_run(settings, DBT_PROJECT)
    docs = built / "published" / "docs"
    assert summary["docs_dir"] == str(docs)
    assert sorted(p.name for p in docs.iterdir()) == ["catalog.json", "index.html", "manifest.json"]
    # the page carries its manifest and catalog: it opens from disk, with no server
    page = (docs / "index.html").read_text()
    assert "fct_articles" in page and "bridge_story_entities" in page
    # and loads nothing from the network (links in the documentation text are fine)
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", page)
    manifest = json.loads((docs / "manifest.json").read_text())
    assert {e["name"] for e in manifest["exposures"].values()} >= {
        "daily_briefing",
        "bi_dashboard",
    }
    catalog = json.loads((docs / "catalog.json").read_text())
    mart = catalog["nodes"]["model.wirehouse.fct_articles"]
    assert "last_run_date" in {c.lower() for c in mart["columns"]}
    # the project's own target/ (cosmos renders the DAG from its manifest) is untouched
    assert (own_manifest.stat().st_mtime_ns if own_manifest.exists() else None) == before
