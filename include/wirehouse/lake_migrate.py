"""`wirehouse migrate-to-lake`: copy an existing file warehouse into an empty DuckLake.

Every table of `wirehouse.duckdb` (the landing schema the loaders wrote, the intermediate
tables and the marts dbt built) is copied as it is, in one lake transaction: the lake gets all
of it as one snapshot or nothing. Views (staging, most intermediate models), column comments
and the meta table's old primary key are not copied: dbt recreates the views and comments on
the first lake-mode night, and DuckLake has no primary keys. The file is only read (attached
READ_ONLY), so it stays as it was and can be switched back to.

The lake must be empty of the copied tables: a lake that already holds a table of the same
name is refused, naming it, rather than mixed with the file's rows.
"""

from __future__ import annotations

from pathlib import Path

from wirehouse.load import transaction
from wirehouse.warehouse import CATALOG, Lake, connect_lake

SOURCE = "file_warehouse"


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class LakeNotEmpty(RuntimeError):
    """The lake already holds a table the migration would write."""


def migrate_to_lake(warehouse: Path, lake: Lake) -> dict[str, int]:
    """Copy every table of the file `warehouse` into `lake`; returns rows per
    ``schema.table``."""
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse file at {warehouse}")
    con = connect_lake(lake)
    try:
        con.execute(f"ATTACH {_quote_path(warehouse)} AS {SOURCE} (READ_ONLY)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = ? and not temporary order by schema_name, table_name",
            [SOURCE],
        ).fetchall()
        present = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = ?",
                [CATALOG],
            ).fetchall()
        }
        clash = sorted(f"{s}.{t}" for s, t in tables if f"{s}.{t}" in present)
        if clash:
            raise LakeNotEmpty(
                f"the lake already holds {', '.join(clash)}: migrate into an empty lake"
            )
        counts: dict[str, int] = {}
        with transaction(con):
            for schema in sorted({s for s, _ in tables}):
                con.execute(f'create schema if not exists {CATALOG}."{schema}"')
            for schema, table in tables:
                con.execute(
                    f'create table {CATALOG}."{schema}"."{table}" as '
                    f'select * from {SOURCE}."{schema}"."{table}"'
                )
                counts[f"{schema}.{table}"] = con.execute(
                    f'select count(*) from {CATALOG}."{schema}"."{table}"'
                ).fetchone()[0]
        return counts
    finally:
        con.close()
