"""The DuckLake backend against the file warehouse: the same three nights, every mart equal.

Night 1 and night 2 are `fixture_nights`' (the sample outlets, a wire dump, a web source on
127.0.0.1); night 3 adds a second dump of new wire copy, so the incremental marts take a third
night on top of two. Each night runs every stage the DAG runs, in its own process, first in
file mode (home A, `wirehouse.duckdb`) and then in lake mode (home B,
`WIREHOUSE_WAREHOUSE=ducklake`: the catalog in a throwaway PostgreSQL from `services`, the data
as Parquet in a folder). B reuses A's collection of the night (the collector's files, copied
before B's night runs, as a re-run reuses a stored collection), so both warehouses are fed the
very same fetches: every later stage (load, stories, entities, load_entities, dbt, publish)
runs on its own in each mode, and every mart and landing table must then be equal row for row,
ids and timestamps included.

Then: the lake's snapshots (a reader pinned to night 1's snapshot sees night 1), lake mode
writes no file warehouse and no published copy, and `wirehouse migrate-to-lake` copies the
three-night file warehouse into a second, empty lake with the same rows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fixture_nights import (
    NIGHT_1,
    NIGHT_2,
    run_night_in_child,
    web_source,
    write_sources,
)
from pytest_httpserver import HTTPServer
from services import Postgres, postgres_server

from wirehouse.warehouse import Lake, connect_lake

NIGHT_3 = "2026-11-24"
NIGHTS = (NIGHT_1, NIGHT_2, NIGHT_3)
LATE_WIRE = [
    {
        "url": "https://wire.example/europe/2026/11/23/harbour-strike-spreads-to-rotterdam",
        "title": "Harbour strike spreads to Rotterdam",
        "published_at": "2026-11-23T07:45:00Z",
        "source": "Wire Example",
        "language": "en",
        "text": [
            "ROTTERDAM, Netherlands (WE) — Dockworkers in Rotterdam joined the strike on "
            "Monday, halting container traffic at Europe's largest port, unions said.",
            "The walkout in Rotterdam follows a strike at Calder Bay that has shut the port "
            "there for three days. Shipping lines said vessels were waiting off the coast.",
            "Union leaders in Rotterdam and Antwerp said they would meet on Wednesday. The "
            "port authority in Rotterdam urged both sides to return to talks.",
        ],
    }
]


def lake_mode(lake: Lake) -> dict[str, str]:
    """The warehouse variables that put a night (or a command) on `lake`."""
    return {
        "WIREHOUSE_WAREHOUSE": "ducklake",
        "WIREHOUSE_DUCKLAKE_CATALOG": lake.catalog,
        "WIREHOUSE_DUCKLAKE_DATA": lake.data,
    }


def night_env(mode: dict[str, str]) -> dict[str, str]:
    """The child's environment: this process's, with the warehouse variables of `mode`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREHOUSE_DUCKLAKE_")}
    env.pop("WIREHOUSE_WAREHOUSE", None)
    return {**env, **mode}


def run(home: Path, night: str, mode: dict[str, str]) -> dict[str, Any]:
    """One night in its own process with the given warehouse variables; publish's summary."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(night_env(mode))
    try:
        proc = run_night_in_child(home, night)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-6000:]
    return json.loads(out.strip().splitlines()[-1])


def stage_late_wire(home: Path) -> None:
    """Night 3's new wire copy, beside the fixture's dump (the source globs dumps/*.jsonl)."""
    (home / "dumps").mkdir(exist_ok=True)
    (home / "dumps" / "late.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in LATE_WIRE), encoding="utf-8"
    )


def copy_collection(src_home: Path, dst_home: Path, night: str) -> None:
    """A's collector folder of `night` into B (times kept, so B's collect reuses it)."""
    name = f"run_date={night}"
    shutil.copytree(src_home / "collector" / name, dst_home / "collector" / name)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """The web source's site: a page, a 404 and a URL robots.txt refuses."""
    with web_source() as srv:
        yield srv


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as pg:
        yield pg


@pytest.fixture(scope="module")
def nights(
    tmp_path_factory: pytest.TempPathFactory, server: HTTPServer, postgres: Postgres
) -> dict[str, Any]:
    """The three nights in file mode (home A) and lake mode (home B); what each published."""
    file_home = tmp_path_factory.mktemp("file_home")
    lake_home = tmp_path_factory.mktemp("lake_home")
    lake = Lake(
        catalog=postgres.create_database("lake"),
        data=str(tmp_path_factory.mktemp("lake_data")),
    )
    lake_env = lake_mode(lake)
    published: dict[str, dict[str, dict[str, Any]]] = {"file": {}, "lake": {}}
    for home in (file_home, lake_home):
        write_sources(home, server.url_for("/"))
    for night in NIGHTS:
        if night == NIGHT_3:
            stage_late_wire(file_home)
            stage_late_wire(lake_home)
        published["file"][night] = run(file_home, night, {"WIREHOUSE_WAREHOUSE": "file"})
        copy_collection(file_home, lake_home, night)
        published["lake"][night] = run(lake_home, night, lake_env)
    for mode in ("file", "lake"):  # the cost figures (docs/ducklake.md): pytest -s shows them
        for night in NIGHTS:
            print(mode, night, json.dumps(published[mode][night]["stage_seconds"]))
    return {
        "file": file_home / "wirehouse.duckdb",
        "lake": lake,
        "lake_home": lake_home,
        "published": published,
    }


def tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? order by table_name",
            [schema],
        ).fetchall()
    ]


def contents(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list, list]:
    """A table's columns (name, type) and all its rows, in one total order."""
    columns = con.execute(f"select column_name, column_type from (describe {relation})").fetchall()
    return columns, con.execute(f"select * from {relation} order by all").fetchall()


@pytest.mark.parametrize("schema", ["marts", "landing"])
def test_lake_mode_equals_file_mode_row_for_row(nights: dict[str, Any], schema: str) -> None:
    file_con = duckdb.connect(str(nights["file"]), read_only=True)
    lake_con = connect_lake(nights["lake"], read_only=True)
    try:
        names = tables(file_con, schema)
        assert tables(lake_con, schema) == names
        if schema == "marts":
            assert "fct_articles" in names and "dim_stories" in names
        for name in names:
            file_cols, file_rows = contents(file_con, f'{schema}."{name}"')
            lake_cols, lake_rows = contents(lake_con, f'{schema}."{name}"')
            assert lake_cols == file_cols, name
            assert len(lake_rows) == len(file_rows), name
            assert lake_rows == file_rows, name
        if schema == "marts":  # the three nights are all there, not three empty marts
            nights_seen = lake_con.execute(
                "select count(distinct run_date) from marts.fct_fetches"
            ).fetchone()[0]
            assert nights_seen == len(NIGHTS)
    finally:
        file_con.close()
        lake_con.close()


def test_publish_in_lake_mode_records_the_snapshot_and_copies_nothing(
    nights: dict[str, Any],
) -> None:
    lake_home: Path = nights["lake_home"]
    assert not (lake_home / "wirehouse.duckdb").exists()
    assert not (lake_home / "published" / "wirehouse.duckdb").exists()
    assert list(Path(nights["lake"].data).rglob("*.parquet"))  # the data is Parquet
    published = nights["published"]
    for night in NIGHTS:  # the same marts and counts as the file's publish said
        assert published["lake"][night]["marts"] == published["file"][night]["marts"]
    versions = [int(published["lake"][n]["snapshot_id"]) for n in NIGHTS]
    assert versions == sorted(set(versions))


def test_a_reader_pinned_to_night_1s_snapshot_sees_night_1(nights: dict[str, Any]) -> None:
    night_1 = nights["published"]["lake"][NIGHT_1]
    con = connect_lake(nights["lake"], read_only=True)
    try:
        for mart, count in night_1["marts"].items():
            at = con.execute(
                f'select count(*) from marts."{mart}" at (version => {int(night_1["snapshot_id"])})'
            ).fetchone()[0]
            assert at == count, mart
        later = con.execute("select count(*) from marts.fct_fetches").fetchone()[0]
        assert later > night_1["marts"]["fct_fetches"]
    finally:
        con.close()


def test_migrate_to_lake_copies_the_file_warehouse(
    nights: dict[str, Any], postgres: Postgres, tmp_path: Path
) -> None:
    lake = Lake(catalog=postgres.create_database("migrated"), data=str(tmp_path / "data"))
    env = {
        **night_env({}),
        "WIREHOUSE_HOME": str(tmp_path),
        "WIREHOUSE_DUCKLAKE_CATALOG": lake.catalog,
        "WIREHOUSE_DUCKLAKE_DATA": lake.data,
    }
    command = [
        sys.executable,
        "-m",
        "wirehouse.cli",
        "migrate-to-lake",
        "--from",
        str(nights["file"]),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "marts.fct_articles" in done.stdout
    file_con = duckdb.connect(str(nights["file"]), read_only=True)
    lake_con = connect_lake(lake, read_only=True)
    try:
        for schema in ("landing", "marts"):
            for name in tables(file_con, schema):
                relation = f'{schema}."{name}"'
                assert contents(lake_con, relation) == contents(file_con, relation), relation
    finally:
        file_con.close()
        lake_con.close()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 1
    assert "already holds" in again.stderr


def test_summary_and_query_read_the_lake_and_nothing_else(
    nights: dict[str, Any], tmp_path: Path
) -> None:
    lake: Lake = nights["lake"]
    env = night_env({"WIREHOUSE_HOME": str(tmp_path), **lake_mode(lake)})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "wirehouse.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    summary = cli("summary")
    assert summary.returncode == 0, summary.stderr
    night_3 = nights["published"]["lake"][NIGHT_3]
    assert f"Latest snapshot: {night_3['snapshot_id']}" in summary.stdout
    assert f"{night_3['marts']['fct_articles']:>8} rows" in summary.stdout
    assert "password" not in summary.stdout
    query = cli("query", "select count(*) as n from marts.fct_articles")
    assert query.returncode == 0, query.stderr
    assert str(night_3["marts"]["fct_articles"]) in query.stdout
    refused = cli("query", "select * from read_csv('/etc/passwd')")
    assert refused.returncode == 1
    assert "refused" in refused.stderr
    written = cli("query", "delete from marts.fct_articles")
    assert written.returncode == 1


def test_lake_settings_name_a_missing_variable() -> None:
    from wirehouse.config import warehouse_settings

    assert warehouse_settings({})["warehouse_backend"] == "file"
    with pytest.raises(ValueError, match="WIREHOUSE_DUCKLAKE_CATALOG"):
        warehouse_settings({"WIREHOUSE_WAREHOUSE": "ducklake"})
    with pytest.raises(ValueError, match="WIREHOUSE_DUCKLAKE_DATA"):
        warehouse_settings({"WIREHOUSE_WAREHOUSE": "ducklake", "WIREHOUSE_DUCKLAKE_CATALOG": "x"})
    with pytest.raises(ValueError, match="absolute"):
        warehouse_settings(
            {
                "WIREHOUSE_WAREHOUSE": "ducklake",
                "WIREHOUSE_DUCKLAKE_CATALOG": "x",
                "WIREHOUSE_DUCKLAKE_DATA": "lake",
            }
        )
    with pytest.raises(ValueError, match="one of"):
        warehouse_settings({"WIREHOUSE_WAREHOUSE": "lakehouse"})


def test_lake_extensions_load_from_the_wheels_without_a_download() -> None:
    from wirehouse.extensions import NO_DOWNLOAD_CONFIG
    from wirehouse.warehouse import load_lake_extensions

    con = duckdb.connect(config=dict(NO_DOWNLOAD_CONFIG))
    try:
        con.execute("SET autoinstall_extension_repository = 'http://127.0.0.1:9/'")
        load_lake_extensions(con)
        loaded = {
            r[0]
            for r in con.execute(
                "select extension_name from duckdb_extensions() where loaded"
            ).fetchall()
        }
    finally:
        con.close()
    assert {"ducklake", "postgres_scanner"} <= loaded


WRITE_TABLES = """
import sys
from pathlib import Path
from wirehouse import load
from wirehouse.warehouse import Lake
lake = Lake(sys.argv[1], sys.argv[2])
print(load.load_run_date(lake, Path(sys.argv[3]), sys.argv[4], sys.argv[5].split(",")))
"""


def test_writers_of_different_tables_commit_side_by_side(nights: dict[str, Any]) -> None:
    """In lake mode `stories`' load and `load_entities` leave the one-slot pool: started at
    once, each re-loading night 3's own tables, both commit (DuckLake retries the commit that
    lost the race, the changes do not conflict) and the lake still equals the file."""
    from wirehouse.land import ENTITY_TABLES, STORY_TABLES

    lake: Lake = nights["lake"]
    landing = nights["lake_home"] / "landing"
    writers = [
        subprocess.Popen(
            [
                *(sys.executable, "-c", WRITE_TABLES),
                *(lake.catalog, lake.data, str(landing), NIGHT_3, ",".join(tables)),
            ],
            env=night_env({}),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for tables in (STORY_TABLES, ENTITY_TABLES)
    ]
    for writer in writers:
        out, _ = writer.communicate(timeout=600)
        assert writer.returncode == 0, out
    file_con = duckdb.connect(str(nights["file"]), read_only=True)
    lake_con = connect_lake(lake, read_only=True)
    try:
        for table in (*STORY_TABLES, *ENTITY_TABLES):
            relation = f"landing.{table}"
            assert contents(lake_con, relation) == contents(file_con, relation), relation
    finally:
        file_con.close()
        lake_con.close()


DOCS = """
import json, sys
from pathlib import Path
from wirehouse import pipeline
from wirehouse.config import load_settings
print(json.dumps(pipeline.docs_run(load_settings())))
"""


def test_dbt_docs_read_the_lakes_catalog(nights: dict[str, Any], tmp_path: Path) -> None:
    """The DAG's `docs` task in lake mode: dbt's `ducklake` target (the profile's default
    when WIREHOUSE_WAREHOUSE=ducklake) documents the marts from the lake's catalog."""
    lake: Lake = nights["lake"]
    env = night_env({"WIREHOUSE_HOME": str(tmp_path), **lake_mode(lake)})
    done = subprocess.run(
        [sys.executable, "-c", DOCS], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    catalog = json.loads((tmp_path / "published" / "docs" / "catalog.json").read_text())
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert {"fct_articles", "dim_stories", "fct_fetches"} <= documented
    assert not (tmp_path / "wirehouse.duckdb").exists()


def test_briefing_reads_the_lake_as_it_reads_the_published_copy(
    nights: dict[str, Any], tmp_path: Path
) -> None:
    """In lake mode the briefing reads the lake (nothing is published as a copy): the night's
    page says what file mode's page, from its published copy, says."""
    from wirehouse import pipeline
    from wirehouse.config import Settings

    lake: Lake = nights["lake"]
    file_settings = Settings(home=nights["file"].parent, sources_file=tmp_path / "unused.yml")
    lake_settings = Settings(
        home=tmp_path,
        sources_file=tmp_path / "unused.yml",
        warehouse_backend="ducklake",
        ducklake_catalog=lake.catalog,
        ducklake_data=lake.data,
    )
    from_file = pipeline.briefing_run(NIGHT_3, file_settings)
    from_lake = pipeline.briefing_run(NIGHT_3, lake_settings)
    assert from_lake["missing"] is None
    assert from_lake["stories"] > 0
    for key in ("stories", "new_articles", "places", "sources", "missing"):
        assert from_lake[key] == from_file[key], key
    page = Path(str(from_lake["page"])).read_text(encoding="utf-8")
    assert page == Path(str(from_file["page"])).read_text(encoding="utf-8")
