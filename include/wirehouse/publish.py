"""Publishing: what analysts and BI tools read.

DuckDB allows one writing process per file, so a BI tool holding the warehouse open would
block the nightly load. Readers get a copy instead: `published/wirehouse.duckdb`, swapped
in atomically after dbt, plus one Parquet file per mart for tools that do not speak DuckDB.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

MART_SCHEMA = "marts"


def mart_counts(warehouse: Path) -> dict[str, int]:
    """Row count of every table in the marts schema (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? order by table_name",
                [MART_SCHEMA],
            ).fetchall()
        ]
        return {
            n: con.execute(f'select count(*) from {MART_SCHEMA}."{n}"').fetchone()[0] for n in names
        }
    finally:
        con.close()


def publish(warehouse: Path, published_dir: Path) -> dict[str, object]:
    """Copy the warehouse for readers and export the marts as Parquet."""
    published_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    tmp = published_dir / ".wirehouse.duckdb.tmp"
    shutil.copyfile(warehouse, tmp)
    target = published_dir / "wirehouse.duckdb"
    os.replace(tmp, target)

    parquet_dir = published_dir / "marts"
    parquet_dir.mkdir(exist_ok=True)
    counts = mart_counts(target)
    con = duckdb.connect(str(target), read_only=True)
    try:
        for name in counts:
            out = parquet_dir / f"{name}.parquet"
            tmp_out = parquet_dir / f".{name}.parquet.tmp"
            con.execute(f"copy {MART_SCHEMA}.\"{name}\" to '{tmp_out}' (format parquet)")
            os.replace(tmp_out, out)
    finally:
        con.close()
    return {"warehouse": str(target), "marts": counts}
