"""Publishing in lake mode: nothing is copied.

In file mode readers get a copy because DuckDB allows one writing process per file. A
DuckLake has no such lock: readers attach it read-only and read a committed snapshot
(docs/ducklake.md), and its data is Parquet already. So publish, in lake mode, only records
which lake snapshot holds the night's marts (the snapshot a reader pins with
``AT (VERSION => n)``) and the marts' row counts; the DuckDB copy, its search index and the
marts' Parquet export are file mode's.
"""

from __future__ import annotations

import time

from wirehouse.publish.database import mart_names
from wirehouse.warehouse import CATALOG, Lake, connect_lake, describe


def publish_lake(lake: Lake) -> dict[str, object]:
    """The night's lake snapshot and each mart's row count at it (read-only); the same keys
    as `publish.publish` returns, so the DAG and the briefing treat both alike."""
    started = time.perf_counter()
    con = connect_lake(lake, read_only=True)
    try:
        version = con.execute(
            f"select max(snapshot_id) from ducklake_snapshots('{CATALOG}')"
        ).fetchone()[0]
        counts = {
            name: con.execute(
                f'select count(*) from marts."{name}" at (version => {int(version)})'
            ).fetchone()[0]
            for name in mart_names(con)
        }
    finally:
        con.close()
    return {
        "warehouse": describe(lake),
        "marts": counts,
        "snapshot_id": str(version),
        "search": False,
        "search_index": None,
        "cost": {"seconds": round(time.perf_counter() - started, 3), "stages": {}, "bytes": 0},
    }
