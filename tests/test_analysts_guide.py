"""The analysts' guide and a BI reader, against a published copy built from two real nights.

Night 1 and night 2 of `fixture_nights` run every stage the DAG runs (collect, land, load,
stories, entities, `dbt build`, publish), each night in its own process as Airflow runs
tasks. Between them a reader opens the published copy the way Superset does (SQLAlchemy,
duckdb-engine, ``duckdb:////…/wirehouse.duckdb?access_mode=read_only``) and keeps querying
it while night 2 runs and publishes: the night must complete, and the reader's queries must
keep working and see night 1 whole, never a mix.

Then every ```sql block of docs/analysts.md runs, as written, on the two-night copy through
the same kind of connection, and must return rows with the columns listed here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fixture_nights import NIGHT_1, NIGHT_2, run_night_in_child, web_source, write_sources
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "analysts.md"
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.S | re.M)
NAME_LINE = re.compile(r"^-- name: (\w+)\n")

# what each query of the guide must return (names in order)
EXPECTED_COLUMNS = {
    "biggest_stories_last_night": [
        "story_id",
        "headline",
        "new_articles",
        "article_count",
        "source_count",
        "outlets",
        "origin_source_id",
        "first_published_at",
    ],
    "stories_by_day": ["day", "story_id", "headline", "article_count", "source_count"],
    "story_timeline": [
        "happened_at",
        "source_id",
        "outlet",
        "title",
        "role",
        "derived_from_article_id",
        "url",
    ],
    "who_copies_whom": [
        "copier_source_id",
        "original_source_id",
        "articles",
        "verbatim_copies",
        "rewrites",
        "mean_derivation_score",
    ],
    "sources_by_originality": [
        "source_id",
        "name",
        "article_count",
        "original_article_count",
        "derivative_article_count",
        "originality_ratio",
        "taken_by_others",
    ],
    "entity_cooccurrence": [
        "entity",
        "entity_type",
        "co_entity",
        "co_entity_type",
        "articles",
        "stories",
    ],
    "story_top_entities": [
        "story_id",
        "headline",
        "name",
        "entity_type",
        "article_count",
        "mention_count",
        "salience",
    ],
    "places_on_a_map": [
        "entity_id",
        "name",
        "country_code",
        "latitude",
        "longitude",
        "article_count",
        "story_count",
        "source_count",
        "last_seen_at",
    ],
    "countries_in_the_news": ["country_code", "articles", "stories", "places"],
    "language_mix": ["source_id", "language", "articles", "share_of_source_pct"],
    "fetch_health_last_night": [
        "source_id",
        "attempts",
        "delivered",
        "ok",
        "failed",
        "mean_elapsed_ms",
    ],
    "fetch_failures_last_night": [
        "source_id",
        "outcome",
        "http_status",
        "urls",
        "example_error",
        "example_url",
    ],
    "fetch_success_by_night": [
        "run_date",
        "source_id",
        "attempts",
        "success_rate",
        "skipped_already_fetched",
    ],
}

# what a dashboard reads, one statement each: a mix of two nights shows as a mismatch
READER_QUERIES = {
    "last_run_date": "select cast(max(run_date) as varchar) from marts.fct_fetches",
    "articles": "select count(*) from marts.fct_articles",
    "source_articles": "select sum(article_count) from marts.dim_sources",
    "story_articles": "select sum(article_count) from marts.dim_stories",
    "stories": "select count(*) from marts.dim_stories",
    "article_stories": "select count(distinct story_id) from marts.fct_articles",
    "fetches": "select count(*) from marts.fct_fetches",
}


def guide_queries() -> dict[str, str]:
    """Every ```sql block of the guide, by the name on its first line."""
    queries = {}
    for block in SQL_BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        match = NAME_LINE.match(block)
        assert match, f"a sql block of {GUIDE.name} has no '-- name:' first line:\n{block}"
        assert match.group(1) not in queries, f"two queries named {match.group(1)}"
        queries[match.group(1)] = block
    return queries


def superset_url(copy: Path) -> str:
    """The SQLAlchemy URI the guide gives Superset."""
    return f"duckdb:///{copy}?access_mode=read_only"


def read_night(conn: sa.Connection) -> dict[str, Any]:
    return {name: conn.exec_driver_sql(sql).scalar() for name, sql in READER_QUERIES.items()}


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """The web source's site: a page, a 404 and a URL robots.txt refuses."""
    with web_source() as srv:
        yield srv


def finish(proc: Any) -> str:
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, server: HTTPServer) -> dict[str, Any]:
    """Night 1; a Superset-style reader opened on its copy; night 2 run and published while
    the reader keeps querying. Returns what the reader saw and the two-night copy."""
    home = tmp_path_factory.mktemp("analysts_home")
    write_sources(home, server.url_for("/"))
    finish(run_night_in_child(home, NIGHT_1))
    copy = home / "published" / "wirehouse.duckdb"

    engine = sa.create_engine(superset_url(copy))
    errors: list[str] = []
    during: list[dict[str, Any]] = []
    with engine.connect() as reader:
        before = read_night(reader)
        night_2 = run_night_in_child(home, NIGHT_2)
        while night_2.poll() is None:
            try:
                during.append(read_night(reader))
            except Exception as exc:  # recorded: the test says which query broke
                errors.append(repr(exc))
            time.sleep(0.5)  # a dashboard's refresh, not a measured wait
        finish(night_2)
        held_after = read_night(reader)
    engine.dispose()

    engine = sa.create_engine(superset_url(copy))
    with engine.connect() as fresh:
        after = read_night(fresh)
    engine.dispose()
    return {
        "copy": copy,
        "before": before,
        "during": during,
        "held_after": held_after,
        "after": after,
        "errors": errors,
    }


def test_reader_holds_the_copy_open_across_a_night(nights: dict[str, Any]) -> None:
    before = nights["before"]
    assert nights["errors"] == []
    # night 1, whole: every mart agrees on the article count
    assert before["last_run_date"] == NIGHT_1
    assert before["articles"] == before["source_articles"] == before["story_articles"] > 0
    assert before["stories"] == before["article_stories"]
    # the reader kept working while night 2 ran, and saw night 1 every time, never a mix
    assert nights["during"], "no query ran while the night ran"
    assert all(reading == before for reading in nights["during"])
    assert nights["held_after"] == before
    # night 2 completed and published: a new connection sees it, whole
    after = nights["after"]
    assert after["last_run_date"] == NIGHT_2
    assert after["articles"] == after["source_articles"] == after["story_articles"]
    assert after["articles"] > before["articles"]
    assert after["fetches"] > before["fetches"]


def test_superset_url_is_read_only(nights: dict[str, Any]) -> None:
    engine = sa.create_engine(superset_url(nights["copy"]))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("select current_setting('access_mode')").scalar() == (
                "read_only"
            )
            for statement in (
                "create table marts.scratch (i integer)",
                "delete from marts.dim_stories",
            ):
                with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                    conn.exec_driver_sql(statement)
                conn.rollback()
    finally:
        engine.dispose()
    # read-only guards the copy, not the disk: the guide's extra option closes that too
    out = nights["copy"].parent / "leak.parquet"
    engine = sa.create_engine(superset_url(nights["copy"]) + "&enable_external_access=false")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("select count(*) from marts.dim_stories").scalar() > 0
            with pytest.raises(sa.exc.DBAPIError, match="file system operations"):
                conn.exec_driver_sql(f"copy marts.dim_stories to '{out}'")
    finally:
        engine.dispose()
    assert not out.exists()


def test_guide_has_the_required_queries() -> None:
    queries = guide_queries()
    assert len(queries) >= 10
    assert set(queries) == set(EXPECTED_COLUMNS), "a query of the guide has no expected columns"
    guide = GUIDE.read_text(encoding="utf-8")
    assert "```mermaid\nerDiagram" in guide
    for mart in ("fct_articles", "dim_stories", "dim_sources", "fct_fetches", "dim_entities"):
        assert f"| `{mart}` |" in guide, f"{mart} has no grain row"


@pytest.fixture(scope="module")
def guide_results(nights: dict[str, Any]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every query of the guide, as written, on the two-night copy (Superset's way in)."""
    engine = sa.create_engine(superset_url(nights["copy"]))
    results = {}
    try:
        with engine.connect() as conn:
            for name, sql in guide_queries().items():
                result = conn.exec_driver_sql(sql)
                results[name] = (list(result.keys()), [tuple(r) for r in result.all()])
    finally:
        engine.dispose()
    return results


@pytest.mark.parametrize("name", sorted(EXPECTED_COLUMNS))
def test_guide_query_runs_as_written(
    guide_results: dict[str, tuple[list[str], list[tuple]]], name: str
) -> None:
    columns, rows = guide_results[name]
    assert columns == EXPECTED_COLUMNS[name]
    assert rows, f"{name} returned no rows on the fixture nights"


def test_guide_queries_say_what_the_nights_hold(
    guide_results: dict[str, tuple[list[str], list[tuple]]],
) -> None:
    def rows(name: str) -> list[dict[str, Any]]:
        columns, values = guide_results[name]
        return [dict(zip(columns, row, strict=True)) for row in values]

    # night 2 brought the Lantern's copy and TrendPulse's rewrite of Harbor Wire stories
    biggest = rows("biggest_stories_last_night")
    assert biggest[0]["source_count"] == 2
    assert {"harbor_wire, trendpulse_now", "daily_lantern, harbor_wire"} <= {
        ", ".join(sorted(r["outlets"].split(", "))) for r in biggest
    }
    copies = {(r["copier_source_id"], r["original_source_id"]): r for r in rows("who_copies_whom")}
    assert copies[("trendpulse_now", "harbor_wire")]["rewrites"] == 1
    assert copies[("daily_lantern", "harbor_wire")]["verbatim_copies"] == 1
    timeline = rows("story_timeline")
    assert len({r["source_id"] for r in timeline}) >= 2 and timeline[0]["role"] == "origin"
    places = {r["name"]: r for r in rows("places_on_a_map")}
    assert places["Dakar"]["country_code"] == "SN"
    assert places["Dakar"]["latitude"] == pytest.approx(14.69, abs=0.01)
    assert {"NG", "SN"} <= {r["country_code"] for r in rows("countries_in_the_news")}
    assert {"en", "fr"} <= {r["language"] for r in rows("language_mix")}
    failures = {(r["outcome"], r["http_status"]) for r in rows("fetch_failures_last_night")}
    assert {("http_error", 404), ("robots_disallowed", None)} <= failures
    health = {r["source_id"]: r for r in rows("fetch_health_last_night")}
    assert health["local_web"]["failed"] == 1 and health["daily_lantern"]["failed"] == 0
    assert {NIGHT_1, NIGHT_2} == {str(r["run_date"]) for r in rows("fetch_success_by_night")}
