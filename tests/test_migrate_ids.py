"""The article id migration: a warehouse and landing zone made with the version-1 ids move
to the current ids once, merging spellings of one article and re-pointing references."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from wirehouse import cli, land, load, migrate_ids
from wirehouse.config import load_settings
from wirehouse.urls import CANONICAL_VERSION, article_key, canonicalize_url

N1, N2 = "2026-11-01", "2026-11-02"
# raw URLs of the pages, as the collector saw them
A1 = "https://n.example/a?b=2&a=1"  # night 1, landed first
A2 = "https://n.example/a?a=1&b=2"  # night 1, the same page: merged into A1's row
E = "https://n.example/~jo/story"  # night 1
D = "https://n.example/%7Ejo/story"  # night 2, the same page as E
C = "https://bücher.example/x?mkt_tok=abc"  # night 1, alone: only its id changes
U = "https://n.example/unchanged"  # both rules agree
V = "https://n.example/v"  # night 2, a rewrite of D


def old(url: str) -> tuple[str, str]:
    canonical = migrate_ids.legacy_canonical_url(url)
    return article_key(canonical), canonical


def new(url: str) -> str:
    return article_key(canonicalize_url(url))


def article(url: str, run_date: str, hour: int) -> dict:
    aid, canonical = old(url)
    return {
        "article_id": aid,
        "run_date": run_date,
        "source_id": "n",
        "fetch_id": f"f-{aid}-{run_date}",
        # the fetched URL, kept as it is; saved files and JSON Lines records have none but
        # their canonical URL, which moves with it
        "url": f"{url}&utm_source=feed" if url.startswith("https://n.example/a") else canonical,
        "canonical_url": canonical,
        "title": f"title {url}",
        "body": "body",
        "fetched_at": datetime(2026, 11, int(run_date[-2:]), hour, tzinfo=UTC),
    }


def history() -> dict[str, dict[str, list[dict]]]:
    """The landed tables of two nights, with version-1 ids, as the stages wrote them."""
    a1, a2, e, d, c, u, v = (old(x)[0] for x in (A1, A2, E, D, C, U, V))
    return {
        N1: {
            "articles": [
                article(A1, N1, 2),
                article(E, N1, 3),
                article(A2, N1, 1),  # fetched earlier, but landed after A1: A1's row wins
                article(C, N1, 4),
                article(U, N1, 5),
            ],
            # the story stage of night 1 saw A1 and A2 (A2 a copy of A1), E, C and U
            "article_signatures": [
                {"run_date": N1, "article_id": x, "source_id": "n"} for x in (a1, a2, e, c, u)
            ],
            "article_stories": [
                {"run_date": N1, "article_id": a1, "story_id": "st_a"},
                {
                    "run_date": N1,
                    "article_id": a2,
                    "story_id": "st_a",
                    "duplicate_of_article_id": a1,
                    "duplicate_score": 1.0,
                },
                {"run_date": N1, "article_id": e, "story_id": "st_e"},
                {"run_date": N1, "article_id": c, "story_id": "st_c"},
                {"run_date": N1, "article_id": u, "story_id": "st_u"},
            ],
            "article_entities": [
                {"run_date": N1, "article_id": x, "ner_status": "ok", "entity_count": i}
                for i, x in enumerate((a1, a2, e, c, u))
            ],
            "entity_mentions": [
                {"run_date": N1, "article_id": a1, "entity_id": "en_1", "mention_count": 1},
                {"run_date": N1, "article_id": a2, "entity_id": "en_1", "mention_count": 2},
                {"run_date": N1, "article_id": a2, "entity_id": "en_2", "mention_count": 2},
                {"run_date": N1, "article_id": e, "entity_id": "en_1", "mention_count": 3},
            ],
        },
        N2: {
            "articles": [article(D, N2, 1), article(V, N2, 2), article(U, N2, 3)],
            "article_signatures": [
                {"run_date": N2, "article_id": x, "source_id": "n"} for x in (d, v)
            ],
            "article_stories": [
                {
                    "run_date": N2,
                    "article_id": d,
                    "story_id": "st_e",
                    "duplicate_of_article_id": e,
                    "duplicate_score": 0.99,
                },
                {
                    "run_date": N2,
                    "article_id": v,
                    "story_id": "st_e",
                    "derived_from_article_id": d,
                    "derivation_score": 0.7,
                },
            ],
            "article_entities": [
                {"run_date": N2, "article_id": x, "ner_status": "ok"} for x in (d, v, u)
            ],
            "entity_mentions": [
                {"run_date": N2, "article_id": d, "entity_id": "en_1", "mention_count": 3},
            ],
        },
    }


@pytest.fixture
def legacy_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A landing zone and a warehouse made with version-1 ids (loaded as the old loader did,
    without a version row)."""
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    settings = load_settings()
    con = load.connect(settings.warehouse)
    load.ensure_schema(con)
    for run_date, tables in history().items():
        for table, rows in tables.items():
            path = land.write_partition(
                settings.landing_dir, table, run_date, land.to_table(table, rows)
            )
            con.execute(
                f"insert into landing.{table} by name select * from read_parquet(?)", [str(path)]
            )
    con.close()
    return tmp_path


def snapshot(home: Path) -> dict[str, list[tuple]]:
    """Every id-bearing table, in the warehouse and in the landing files."""
    settings = load_settings()
    tables = ("articles", "article_signatures", "article_stories", "article_entities")
    out: dict[str, list[tuple]] = {}
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    for table in (*tables, "entity_mentions"):
        out[f"warehouse.{table}"] = con.execute(
            f"select * exclude (fetched_at) from landing.{table} order by all"
            if table == "articles"
            else f"select * from landing.{table} order by all"
        ).fetchall()
    con.close()
    for table in (*tables, "entity_mentions"):
        rows = []
        for run_date in (N1, N2):
            path = land.partition_dir(settings.landing_dir, table, run_date) / f"{table}.parquet"
            rows.extend(tuple(r.values()) for r in pq.read_table(path).to_pylist())
        out[f"landing.{table}"] = sorted(rows, key=repr)
    return out


def warehouse_rows(sql: str) -> list[tuple]:
    con = duckdb.connect(str(load_settings().warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_migration_merges_ids_and_repoints_references(
    legacy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a1, a2, e, d = (old(x)[0] for x in (A1, A2, E, D))
    x_a, x_e, x_c, x_u, x_v = (new(x) for x in (A1, E, C, U, V))
    # the history really has old ids: A1 and D had others; A2 and E had the current ones
    assert x_a == new(A2) == a2 != a1 and x_e == new(D) == e != d

    assert cli.main(["migrate-ids"]) == 0
    report = capsys.readouterr().out
    assert f"version 1 -> {CANONICAL_VERSION}" in report and "articles" in report

    # one row per article and night; A1's row (landed first) stands for the merged pair
    assert warehouse_rows(
        "select run_date::varchar, article_id, canonical_url, url, title "
        "from landing.articles order by all"
    ) == sorted(
        [
            (N1, x_a, canonicalize_url(A1), f"{A1}&utm_source=feed", f"title {A1}"),
            (N1, x_c, canonicalize_url(C), canonicalize_url(C), f"title {C}"),
            (N1, x_u, canonicalize_url(U), canonicalize_url(U), f"title {U}"),
            (N1, x_e, canonicalize_url(E), canonicalize_url(E), f"title {E}"),
            (N2, x_u, canonicalize_url(U), canonicalize_url(U), f"title {U}"),
            (N2, x_v, canonicalize_url(V), canonicalize_url(V), f"title {V}"),
            (N2, x_e, canonicalize_url(D), canonicalize_url(D), f"title {D}"),
        ]
    )
    assert canonicalize_url(C) == "https://xn--bcher-kva.example/x"
    # the story stage's state: each article once, from its first signature; the merged
    # copies' rows are gone, and a link to a merged id points at the kept one
    assert sorted(warehouse_rows("select article_id from landing.article_signatures")) == sorted(
        [(x_a,), (x_e,), (x_c,), (x_u,), (x_v,)]
    )
    assert warehouse_rows(
        "select run_date::varchar, article_id, story_id, duplicate_of_article_id, "
        "duplicate_score, derived_from_article_id, derivation_score "
        "from landing.article_stories order by run_date, story_id"
    ) == [
        (N1, x_a, "st_a", None, None, None, None),
        (N1, x_c, "st_c", None, None, None, None),
        (N1, x_e, "st_e", None, None, None, None),
        (N1, x_u, "st_u", None, None, None, None),
        (N2, x_v, "st_e", None, None, x_e, 0.7),
    ]
    # per night, the entity rows of the article row kept that night
    assert sorted(
        warehouse_rows(
            "select run_date::varchar, article_id, entity_id, mention_count "
            "from landing.entity_mentions"
        )
    ) == sorted([(N1, x_a, "en_1", 1), (N1, x_e, "en_1", 3), (N2, x_e, "en_1", 3)])
    assert sorted(
        warehouse_rows(
            "select run_date::varchar, article_id, entity_count from landing.article_entities"
        ),
        key=repr,
    ) == sorted(
        [
            (N1, x_a, 0),
            (N1, x_e, 2),
            (N1, x_c, 3),
            (N1, x_u, 4),
            (N2, x_e, None),
            (N2, x_v, None),
            (N2, x_u, None),
        ],
        key=repr,
    )
    # no old id is left anywhere, and the landing files hold what the warehouse holds
    before = snapshot(legacy_home)
    gone = {a1, d}
    assert not any(gone & set(map(str, row)) for rows in before.values() for row in rows)
    for table in ("articles", "article_signatures", "article_stories", "article_entities"):
        assert len(before[f"warehouse.{table}"]) == len(before[f"landing.{table}"]), table
    assert warehouse_rows("select value from landing.meta where key = 'canonical_url_version'") == [
        (str(CANONICAL_VERSION),)
    ]

    # run again: nothing to do; forced: nothing changes
    assert cli.main(["migrate-ids"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert cli.main(["migrate-ids", "--force"]) == 0
    assert "rows re-keyed or merged: nothing" in capsys.readouterr().out
    assert snapshot(legacy_home) == before


def test_the_load_task_migrates_once_then_loads(legacy_home: Path) -> None:
    settings = load_settings()
    counts = load.load_run_date(settings.warehouse, settings.landing_dir, N2)
    assert counts["articles"] == 3
    ids = {r[0] for r in warehouse_rows("select article_id from landing.articles")}
    assert new(A1) in ids and new(E) in ids and old(A1)[0] not in ids
    after = snapshot(legacy_home)
    load.load_run_date(settings.warehouse, settings.landing_dir, N1)  # re-loading: no change
    assert snapshot(legacy_home) == after


def test_rekey_articles_gives_work_files_the_current_ids() -> None:
    rows = [article(A1, N1, 2), article(A2, N1, 1), article(U, N1, 3)]
    table = migrate_ids.rekey_articles(land.to_table("articles", rows))
    assert table.column("article_id").to_pylist() == [new(A1), new(A2), new(U)]
    assert table.column("canonical_url").to_pylist()[0] == canonicalize_url(A1)
    current = land.to_table("articles", [article(U, N1, 3)])
    assert migrate_ids.rekey_articles(current) is current  # nothing to do, nothing copied
