"""Landing and loading: partitions are rewritten whole and a re-load changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from wirehouse import land, load
from wirehouse.fetch import OUTCOMES

ROOT = Path(__file__).resolve().parents[1]


def article(aid: str, run_date: str) -> dict:
    return {
        "article_id": aid,
        "run_date": run_date,
        "source_id": "s",
        "fetch_id": f"f{aid}",
        "url": f"https://n.example/{aid}",
        "canonical_url": f"https://n.example/{aid}",
        "title": "T",
        "authors": ["A B"],
        "published_at": datetime(2026, 11, 21, 8, tzinfo=UTC),
        "language": "en",
        "word_count": 3,
        "body": "one two three",
        "content_hash": "h",
        "fetched_at": datetime(2026, 11, 22, 1, tzinfo=UTC),
    }


def test_partition_rewrite_and_idempotent_load(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    land.write_partition(
        landing, "articles", "2026-11-21", land.to_table("articles", [article("a", "2026-11-21")])
    )
    land.write_partition(
        landing,
        "articles",
        "2026-11-22",
        land.to_table("articles", [article("b", "2026-11-22"), article("c", "2026-11-22")]),
    )
    # rewriting a partition replaces it whole
    land.write_partition(
        landing, "articles", "2026-11-22", land.to_table("articles", [article("b", "2026-11-22")])
    )
    assert len(list((landing / "articles").glob("run_date=2026-11-22/*.parquet"))) == 1
    assert not list((landing / "articles").glob(".*")), "no temporary folders are left behind"

    assert load.load_run_date(warehouse, landing, "2026-11-21")["articles"] == 1
    assert load.load_run_date(warehouse, landing, "2026-11-22")["articles"] == 1
    again = load.load_run_date(warehouse, landing, "2026-11-22")
    assert again == {"sources": 0, "fetches": 0, "articles": 1, "source_boilerplate": 0}

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select article_id, run_date::varchar, authors, published_at from landing.articles order by 1"
    ).fetchall()
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'landing' and table_name = 'articles'"
        ).fetchall()
    )
    con.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("a", "2026-11-21", ["A B"]),
        ("b", "2026-11-22", ["A B"]),
    ]
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["authors"] == "VARCHAR[]"


def test_fetch_outcomes_match_the_dbt_accepted_values() -> None:
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert tuple(project["vars"]["fetch_outcomes"]) == OUTCOMES
