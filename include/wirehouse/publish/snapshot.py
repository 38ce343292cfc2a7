"""The marts' Parquet files as one snapshot, swapped at once.

Replacing `published/marts/<mart>.parquet` one file at a time let a BI tool read tonight's
`fct_articles` beside last night's `dim_stories`. Now each night writes a new folder
`published/.snapshots/<id>/marts/`, and `published/marts` is a symlink to it, replaced by one
rename (atomic on POSIX): a reader that resolves `published/marts` sees one night's files, all
of them. Each file also carries its snapshot id in its Parquet key-value metadata
(`snapshot_id`), so a reader can check that files it opened separately belong together.

The previous snapshot is kept (a reader that resolved the link before the swap keeps reading
it); older ones, and any a killed publish left half written, are removed after the swap.
A real `published/marts` folder (from before snapshots) is moved into `.snapshots/` on the
first run; only then is the path briefly missing, once.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

SNAPSHOTS_DIR = ".snapshots"
MARTS_LINK = "marts"
LINK_TMP = ".marts.link.tmp"
LEGACY_PREFIX = "legacy-"
KEEP = 2  # the new snapshot and the one before it (a reader may still be inside it)


def new_snapshot_id() -> str:
    """A sortable, unique id: UTC time to the microsecond plus the process id."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000_000))
    return f"{stamp}.{now // 1000 % 1_000_000:06d}Z-{os.getpid()}"


def snapshots_root(published_dir: Path) -> Path:
    return published_dir / SNAPSHOTS_DIR


def snapshot_marts_dir(published_dir: Path, snapshot_id: str) -> Path:
    """Where a snapshot's Parquet files are written."""
    return snapshots_root(published_dir) / snapshot_id / "marts"


def fsync_path(path: Path) -> None:
    """Flush a file's or a directory's entries to disk (a rename is durable only once the
    directory holding it is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_snapshot(published_dir: Path) -> str | None:
    """The id `published/marts` points at; None when it is missing or a real folder."""
    link = published_dir / MARTS_LINK
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).parent.name


def migrate_legacy_dir(published_dir: Path) -> str | None:
    """Move a real `published/marts` folder (written before snapshots) into `.snapshots/`, so
    the symlink can take its place; returns the id it got, None when there was none."""
    link = published_dir / MARTS_LINK
    if link.is_symlink() or not link.is_dir():
        return None
    legacy_id = f"{LEGACY_PREFIX}{new_snapshot_id()}"
    target = snapshot_marts_dir(published_dir, legacy_id)
    target.parent.mkdir(parents=True)
    os.rename(link, target)
    fsync_path(published_dir)
    return legacy_id


def swap_in(published_dir: Path, snapshot_id: str) -> str | None:
    """Point `published/marts` at the snapshot with one rename; returns the previous id."""
    previous = migrate_legacy_dir(published_dir) or current_snapshot(published_dir)
    tmp_link = published_dir / LINK_TMP
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    # relative, so the link holds wherever the folder is mounted (a container's volume)
    os.symlink(Path(SNAPSHOTS_DIR) / snapshot_id / "marts", tmp_link)
    os.replace(tmp_link, published_dir / MARTS_LINK)
    fsync_path(published_dir)
    return previous


def prune(published_dir: Path, keep: set[str]) -> list[str]:
    """Remove every snapshot but `keep` (older nights, and folders a killed publish left)."""
    root = snapshots_root(published_dir)
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def snapshot_bytes(published_dir: Path, snapshot_id: str) -> int:
    """Size of one snapshot's Parquet files."""
    folder = snapshot_marts_dir(published_dir, snapshot_id)
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
