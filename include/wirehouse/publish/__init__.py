"""Publishing: what analysts and BI tools read, one night at a time.

DuckDB allows one writing process per file, so a BI tool holding the warehouse open would
block the nightly load. Readers get a copy instead, after dbt:

- `published/wirehouse.duckdb`: the whole warehouse in an older storage version
  (`database.STORAGE_VERSION`), with a BM25 full-text index and the `search_stories` macro
  (`search`), swapped in by one rename. The index is kept between nights in
  `published/.search/index.duckdb` and updated with what changed (`search_index`). A reader
  holding the old file open keeps reading the old night (its inode) and blocks nothing.
- `published/marts/<mart>.parquet`: one Parquet file per mart, all of one night, swapped at
  once (`snapshot`).

Everything new is written beside the old (`published/.tmp/`, `published/.snapshots/<id>/`) and
fsynced before either rename, so a publish killed at any point before the swap leaves both as
they were; a re-run starts over, clearing what a killed run left.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from wirehouse.publish import database, search_index, snapshot

MART_SCHEMA = "marts"
PUBLISHED_DB = "wirehouse.duckdb"
TMP_DIR = ".tmp"
# Tests SIGKILL a publish at a named point: set this to one of HOLD_POINTS and the process
# writes `<published>/.hold-<point>` and waits there to be killed.
HOLD_ENV = "WIREHOUSE_PUBLISH_HOLD_AT"
HOLD_POINTS = ("copied", "written", "db_swapped")


def mart_counts(warehouse: Path) -> dict[str, int]:
    """Row count of every table in the marts schema (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            n: con.execute(f'select count(*) from {MART_SCHEMA}."{n}"').fetchone()[0]
            for n in database.mart_names(con)
        }
    finally:
        con.close()


def _hold(published_dir: Path, point: str) -> None:
    """The fault-injection point `point` (see HOLD_ENV); a no-op unless the variable names it."""
    if os.environ.get(HOLD_ENV) != point:
        return
    (published_dir / f".hold-{point}").write_text(str(os.getpid()))
    while True:  # pragma: no cover - the test kills the process here
        time.sleep(60)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def publish_cost(started: float, stages: dict[str, float], db: Path, parquet_bytes: int) -> dict:
    """What publishing cost this night: wall seconds in total and per stage, and the bytes
    written (the copy grows with history; `make bench-night` prints this)."""
    db_bytes = db.stat().st_size
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "duckdb_bytes": db_bytes,
        "parquet_bytes": parquet_bytes,
        "bytes": db_bytes + parquet_bytes,
    }


def publish(warehouse: Path, published_dir: Path) -> dict[str, object]:
    """Write tonight's published copy and Parquet snapshot beside last night's, then swap
    both in; returns the paths, each mart's row count, the snapshot id and the cost."""
    started = time.perf_counter()
    stages: dict[str, float] = {}
    published_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir = published_dir / TMP_DIR
    _remove(tmp_dir)  # what a killed publish left
    tmp_dir.mkdir()
    # the same file name as the target, so the copy's catalog (and the dbt views that name
    # it, `wirehouse.landing.…`) is the same before and after the rename
    tmp = tmp_dir / PUBLISHED_DB
    snapshot_id = snapshot.new_snapshot_id()
    mark = time.perf_counter()
    database.copy_database(warehouse, tmp)
    stages["copy"] = time.perf_counter() - mark
    mark = time.perf_counter()
    indexed = database.copy_search_index(warehouse, tmp, published_dir / search_index.INDEX_FILE)
    database.finish_copy(tmp, snapshot_id, datetime.now(UTC), indexed is not None)
    stages["search_index"] = time.perf_counter() - mark
    _hold(published_dir, "copied")

    mark = time.perf_counter()
    marts_dir = snapshot.snapshot_marts_dir(published_dir, snapshot_id)
    marts_dir.mkdir(parents=True)
    counts = database.export_marts(tmp, marts_dir, snapshot_id)
    for f in marts_dir.iterdir():
        snapshot.fsync_path(f)
    snapshot.fsync_path(marts_dir)
    snapshot.fsync_path(tmp)
    snapshot.fsync_path(tmp_dir)
    stages["parquet"] = time.perf_counter() - mark
    _hold(published_dir, "written")

    target = published_dir / PUBLISHED_DB
    os.replace(tmp, target)
    snapshot.fsync_path(published_dir)
    _hold(published_dir, "db_swapped")
    mark = time.perf_counter()
    previous = snapshot.swap_in(published_dir, snapshot_id)
    snapshot.prune(published_dir, {snapshot_id} | ({previous} if previous else set()))
    _remove(tmp_dir)
    stages["swap_and_prune"] = time.perf_counter() - mark
    cost = publish_cost(
        started, stages, target, snapshot.snapshot_bytes(published_dir, snapshot_id)
    )
    return {
        "warehouse": str(target),
        "marts": counts,
        "snapshot_id": snapshot_id,
        "search": indexed is not None,
        "search_index": indexed,
        "cost": cost,
    }
