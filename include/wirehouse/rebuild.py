"""`wirehouse rebuild`: a new warehouse from the landing zone, swapped in at once.

The landing zone holds every night's partitions of every table (the collector's, the story
stage's and the entity stage's), so the warehouse is derived data: when its file is corrupt
(every night's load then fails on it) or lost, it can be made again. The new file is built
in a work folder under `$WIREHOUSE_HOME` (each landed date loaded in date order, as the
nights loaded them; then `dbt build` with `WIREHOUSE_HOME` pointing at the work folder), and
only a complete, checkpointed file replaces the old one, with one rename. The old file is
kept beside it (``wirehouse.duckdb.replaced-<time>``) for a person to look at or delete.

The rebuild holds the writer lease (`wirehouse.lease`), so it never runs beside a night.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from wirehouse import durable, land, lease, load
from wirehouse.config import Settings, dbt_executable, dbt_paths, dbt_project_dir

HOLDER = "wirehouse rebuild"


def landed_dates(landing_dir: Path) -> list[str]:
    """Every run date with a partition in any landing table, oldest first."""
    if not landing_dir.exists():
        return []
    return sorted(
        {
            part.name.removeprefix("run_date=")
            for table in land.TABLES
            for part in (landing_dir / table).glob("run_date=*")
            if part.is_dir()
        }
    )


def dbt_build(home: Path) -> None:
    """`dbt build` (models and their tests) against `<home>/wirehouse.duckdb`; raises with
    dbt's output when it fails. Target and logs stay in `home`, so the project's own
    `target/manifest.json` (cosmos reads it) is not touched."""
    command = [*dbt_executable(), "build", *dbt_paths(dbt_project_dir(), home)]
    env = {**os.environ, "WIREHOUSE_HOME": str(home)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")


def _swap_in(new: Path, warehouse: Path) -> Path | None:
    """Replace the warehouse file by `new` in one rename; the old file (and its WAL, which
    must not be replayed onto the new file) are kept under a `replaced-<time>` name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = warehouse.with_name(f"{warehouse.name}.replaced-{stamp}")
    wal = warehouse.with_name(f"{warehouse.name}.wal")
    if wal.exists():
        wal.rename(kept.with_name(f"{kept.name}.wal"))
    if warehouse.exists():
        os.link(warehouse, kept)  # the old bytes stay reachable; the name moves below
    durable.fsync_file(new)
    os.replace(new, warehouse)
    durable.fsync_dir(warehouse.parent)
    return kept if kept.exists() else None


def rebuild(settings: Settings, *, build_marts: bool = True) -> dict[str, object]:
    """Rebuild the warehouse from every landed date, then (unless told not to) its marts;
    returns the dates loaded, the rows per landing table and where the old file went."""
    dates = landed_dates(settings.landing_dir)
    if not dates:
        raise RuntimeError(f"nothing landed under {settings.landing_dir}: nothing to rebuild from")
    lease.hold(settings.home, HOLDER)
    work = settings.home / f".rebuild-{uuid.uuid4().hex}"
    try:
        work.mkdir(parents=True)
        new = work / settings.warehouse.name
        rows: dict[str, int] = dict.fromkeys(land.TABLES, 0)
        for run_date in dates:
            for table, count in load.load_run_date(
                new, settings.landing_dir, run_date, land.TABLES
            ).items():
                rows[table] += count
        if build_marts:
            dbt_build(work)
        con = duckdb.connect(str(new))
        try:
            con.execute("checkpoint")  # everything in the file itself: no WAL to carry over
        finally:
            con.close()
        kept = _swap_in(new, settings.warehouse)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lease.release(settings.home, HOLDER)
    return {"dates": dates, "rows": rows, "replaced": str(kept) if kept else None}
