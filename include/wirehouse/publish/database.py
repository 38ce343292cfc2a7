"""The published DuckDB copy, written in a storage version older readers open.

A byte copy of the warehouse would carry whatever storage version the warehouse file has.
Instead the copy is a new file attached with an explicit `STORAGE_VERSION` and filled with
`COPY FROM DATABASE` (tables, views, macros and data), so what BI drivers read does not depend
on which DuckDB last created the warehouse, and the copy comes out compacted.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from wirehouse.extensions import NO_DOWNLOAD_CONFIG, load_extension
from wirehouse.publish import search, search_index

# The storage format of the published copy. 'v1.0.0' is the format DuckDB 0.10.2 introduced
# and every release since reads (DuckDB tags such a file 'v1.0.0+'; it is also what a new file
# gets by default from DuckDB 1.5.5, whose `storage_compatibility_version` is v0.10.2, checked
# with `select tags from duckdb_databases()` on 1.5.5). BI drivers lag DuckDB: Metabase's DuckDB
# driver bundled DuckDB 1.1.3 up to its 0.2.x releases and Metabase's own Dockerfile still pins
# driver 1.4.3.1 (DuckDB 1.4.3), and duckdb-engine uses whatever duckdb the BI host installed;
# 'v1.2.0' and later would lock out everything before 1.2 for only smaller files (newer
# compression), so the copy stays at the oldest format 1.x readers share.
STORAGE_VERSION = "v1.0.0"

TARGET = "published"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def copy_database(warehouse: Path, tmp: Path) -> None:
    """Write the whole warehouse to the new file `tmp` in STORAGE_VERSION."""
    # The warehouse is opened the way every task opens it, a plain connect: DuckDB keeps one
    # instance per file and process, and a task runner that runs dbt in-process (`airflow dags
    # test`) may still hold it, so attaching it anew would be refused ("Unique file handle
    # conflict"), as would a connect with other settings.
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("SET enable_progress_bar = false")  # it would fill the task's log
        source = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"ATTACH {_quote(tmp)} AS {TARGET} (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute(f'COPY FROM DATABASE "{source}" TO {TARGET}')
        con.execute(f"DETACH {TARGET}")
    finally:
        con.close()


def copy_search_index(warehouse: Path, tmp: Path, index_file: Path) -> dict[str, int] | None:
    """Bring the kept search index (`search_index`) up to date with the warehouse's articles and
    copy it into the new file `tmp`; None when dbt has built no marts yet (nothing to search)."""
    con = duckdb.connect(str(warehouse))  # as in copy_database: the way every task opens it
    try:
        con.execute("SET enable_progress_bar = false")
        if not search.searchable(con):
            return None
        load_extension(con, "fts")
        source = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"ATTACH {_quote(tmp)} AS {TARGET}")
        try:
            return search_index.update_and_copy(con, source, index_file, TARGET)
        finally:
            con.execute(f"DETACH {TARGET}")
    finally:
        con.close()


def finish_copy(tmp: Path, snapshot_id: str, published_at: datetime, searchable: bool) -> None:
    """Add the `search_stories` macro (when the index was copied in) and a one-row
    `main.publish_info` to the copy (the file keeps the storage version it was created with)."""
    con = duckdb.connect(str(tmp), config=dict(NO_DOWNLOAD_CONFIG))
    try:
        con.execute("SET enable_progress_bar = false")
        if searchable:
            load_extension(con, "fts")  # the macro binds match_bm25, which calls stem()
            search.create_macro(con)
        con.execute(
            "CREATE OR REPLACE TABLE main.publish_info AS SELECT ? AS snapshot_id, "
            "?::TIMESTAMPTZ AS published_at, ? AS storage_version, ? AS written_by",
            [snapshot_id, published_at, STORAGE_VERSION, f"duckdb {duckdb.__version__}"],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def mart_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the `marts` schema of the connection's database, by name."""
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
            "AND database_name = current_database() ORDER BY table_name"
        ).fetchall()
    ]


def export_marts(published: Path, out_dir: Path, snapshot_id: str) -> dict[str, int]:
    """Write every table of the `marts` schema of the (not yet swapped-in) copy to
    `out_dir/<mart>.parquet`, each tagged with the snapshot id; returns the row counts."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        counts = {}
        for name in mart_names(con):
            target = _quote(out_dir / f"{name}.parquet")
            con.execute(
                f'COPY marts."{name}" TO {target} '
                f"(FORMAT parquet, KV_METADATA {{snapshot_id: '{snapshot_id}'}})"
            )
            counts[name] = con.execute(f'SELECT count(*) FROM marts."{name}"').fetchone()[0]
        return counts
    finally:
        con.close()
