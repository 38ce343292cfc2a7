"""Where the warehouse lives: one DuckDB file (`file`, the default) or a DuckLake (`ducklake`).

`WIREHOUSE_WAREHOUSE=ducklake` keeps the warehouse's catalog in PostgreSQL
(`WIREHOUSE_DUCKLAKE_CATALOG`, a libpq string) and its data as Parquet under a path or bucket
(`WIREHOUSE_DUCKLAKE_DATA`), so writers on several machines can commit and readers read
snapshots (docs/ducklake.md). Every connection here names the warehouse's catalog `wirehouse`
in both modes, as the file `wirehouse.duckdb` names it, so the same SQL (and dbt's relations,
`"wirehouse"."marts"."fct_articles"`) runs against either.

The lake's extensions (`ducklake`, and `postgres` for the catalog) are loaded from their
wheels (`wirehouse.extensions`), never downloaded.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# FILE, DUCKLAKE, BACKENDS and Lake live in config (which the DAG file imports and which must
# not load duckdb); re-exported here beside the connections that use them
from wirehouse.config import BACKENDS, DUCKLAKE, FILE, Lake  # noqa: F401
from wirehouse.extensions import NO_DOWNLOAD_CONFIG, load_extension

# the catalog name of the warehouse in every connection: the file's stem, the lake's alias
CATALOG = "wirehouse"
# the nightly tasks share a small machine with Airflow: DuckDB's default (80% of RAM) would
# let one load hold gigabytes of cache
MEMORY_LIMIT = "1GB"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def attach_sql(lake: Lake, alias: str = CATALOG, *, read_only: bool = False) -> str:
    """``ATTACH 'ducklake:postgres:…' AS wirehouse (DATA_PATH '…')``, READ_ONLY for readers.

    The data path is only needed when the catalog is created (the lake records it) but is
    given on every attach so a first writer on any machine creates the same lake."""
    options = [f"DATA_PATH {_quote(lake.data)}"]
    if read_only:
        options.append("READ_ONLY")
    return f"ATTACH {_quote(lake.attach_path())} AS {alias} ({', '.join(options)})"


def load_lake_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load `postgres` (the catalog's client) and `ducklake` from their wheels."""
    load_extension(con, "postgres")
    load_extension(con, "ducklake")


def _session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    return con


def connect_lake(lake: Lake, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `wirehouse` and in use, so unqualified
    names (``landing.articles``) are the lake's, as they are the file's in file mode."""
    con = duckdb.connect(config=dict(NO_DOWNLOAD_CONFIG))
    try:
        load_lake_extensions(con)
        con.execute(attach_sql(lake, read_only=read_only))
        con.execute(f"use {CATALOG}")
        return _session(con)
    except BaseException:
        con.close()
        raise


def connect_file(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The warehouse file, opened the way every task opens it (a plain connect: DuckDB keeps
    one instance per file and process, and a connect with other settings would be refused)."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:  # a damaged file fails every night until it is rebuilt
        raise duckdb.IOException(
            f"{exc}\nThe warehouse is derived from the landing zone: `wirehouse rebuild` "
            "makes a new one from it and swaps it in."
        ) from exc
    return _session(con)


def connect(target: Path | Lake, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse, a file or a lake, its catalog `wirehouse` in use."""
    if isinstance(target, Lake):
        return connect_lake(target, read_only=read_only)
    return connect_file(target, read_only=read_only)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` for another thread (a DuckDB connection is not shared between
    threads), in the catalog `con` uses: a cursor starts in the instance's default catalog,
    which in lake mode is the in-memory one, not the lake attached as `wirehouse`."""
    (catalog,) = con.execute("select current_database()").fetchone()
    other = con.cursor()
    other.execute(f'use "{catalog}"')
    return other


def describe(target: Path | Lake) -> str:
    """Where the warehouse is, for people (a lake's catalog string may carry a password:
    only its data path and the catalog's host and database are shown)."""
    if isinstance(target, Path):
        return str(target)
    keep = ("host", "port", "dbname")
    parts = [p for p in target.catalog.split() if p.split("=", 1)[0] in keep]
    return f"DuckLake (catalog: postgres {' '.join(parts)}; data: {target.data})"
