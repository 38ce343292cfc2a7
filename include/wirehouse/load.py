"""Loading: the landing partitions of one run date into the warehouse (a DuckDB file, or a
DuckLake: `wirehouse.warehouse`).

This is the warehouse's only Python writer (dbt is the other, and the DAG runs both in the
one-slot ``duckdb_writer`` pool; in lake mode see docs/ducklake.md). A run date is loaded
in one transaction that first deletes that date's rows, so re-loading a day is idempotent
and readers never see half a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from wirehouse import migrate_ids
from wirehouse.land import COLLECTOR_TABLES, SCHEMAS, partition_dir
from wirehouse.warehouse import Lake
from wirehouse.warehouse import connect as connect_warehouse

SCHEMA = "landing"
ARROW_TO_DUCKDB = {
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamptz",
    pa.list_(pa.string()): "varchar[]",
    pa.list_(pa.float64()): "double[]",
    pa.list_(pa.int64()): "bigint[]",
    pa.float64(): "double",
    pa.bool_(): "boolean",
}


def ddl(table: str) -> str:
    """CREATE TABLE statement for a landing table, derived from its Arrow schema."""
    cols = ", ".join(f"{f.name} {ARROW_TO_DUCKDB[f.type]}" for f in SCHEMAS[table])
    return f"create table if not exists {SCHEMA}.{table} ({cols})"


def connect(warehouse: Path | Lake) -> duckdb.DuckDBPyConnection:
    """A writer's connection to the warehouse, the file or the lake (`wirehouse.warehouse`)."""
    return connect_warehouse(warehouse)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the landing tables, and add columns a newer contract introduced, so a
    warehouse written by an older version keeps loading."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for table, schema in SCHEMAS.items():
        con.execute(ddl(table))
        for f in schema:
            con.execute(
                f"alter table {SCHEMA}.{table} add column if not exists "
                f"{f.name} {ARROW_TO_DUCKDB[f.type]}"
            )


def _select_list(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> list[str]:
    """The table's columns as read from a partition file; a column the file predates (a
    partition written before the contract added it) is read as NULL, so an old night
    can still be reloaded."""
    present = {
        row[0]
        for row in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    }
    return [
        f.name if f.name in present else f"cast(null as {ARROW_TO_DUCKDB[f.type]})"
        for f in SCHEMAS[table]
    ]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises, so a
    failed load or migration leaves the warehouse as it was."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def load_run_date(
    warehouse: Path | Lake,
    landing_dir: Path,
    run_date: str,
    tables: Iterable[str] = COLLECTOR_TABLES,
) -> dict[str, int]:
    """Replace the run date's rows in the given landing tables; returns rows per table.

    The collector's tables and the story stage's are loaded by their own tasks.

    A table whose partition is missing is loaded as empty for that date (its old rows for
    the date are still removed), so the warehouse always mirrors the landing zone.

    A warehouse whose article ids were made by older canonicalisation rules is migrated
    first, in the same transaction (see :mod:`wirehouse.migrate_ids`; once, then a no-op)."""
    counts: dict[str, int] = {}
    con = connect(warehouse)
    try:
        ensure_schema(con)
        with transaction(con):
            migrate_ids.upgrade(con, landing_dir)
            for table in tables:
                con.execute(f"delete from {SCHEMA}.{table} where run_date = ?", [run_date])
                path = partition_dir(landing_dir, table, run_date) / f"{table}.parquet"
                if path.exists():
                    cols = ", ".join(f.name for f in SCHEMAS[table])
                    picks = ", ".join(_select_list(con, table, path))
                    con.execute(
                        f"insert into {SCHEMA}.{table} ({cols}) "
                        f"select {picks} from read_parquet(?)",
                        [str(path)],
                    )
                counts[table] = con.execute(
                    f"select count(*) from {SCHEMA}.{table} where run_date = ?", [run_date]
                ).fetchone()[0]
    finally:
        con.close()
    return counts
