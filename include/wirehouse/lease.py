"""The writer lease: one night at a time writes the warehouse, from load to publish.

The one-slot `duckdb_writer` pool keeps two writer *tasks* apart, but not two *nights*: a
backfill runs beside the nightly run (Airflow gives backfills their own `max_active_runs`),
and load(night B) could take the slot between load(A) and stories(A), so A's stories would
see B's articles as history. A night therefore claims the lease before its first writer
task (load) and releases it after publish; a writer task of any other run waits until the
lease is free (the DAG's `claim_writer` sensor reschedules, holding no pool slot).

The lease is a small JSON file, ``$WIREHOUSE_HOME/writer.lease``, read and replaced under
an exclusive ``flock`` of ``writer.lease.lock`` (so two processes never both claim it; the
lock is held for microseconds, never across a task). A lease expires `ttl` seconds after it
was claimed or last renewed (every writer task of the holder renews it), so the lease of a
run that died without releasing it (a killed scheduler, a deleted DagRun) blocks others for
at most the ttl; a failed run releases it at once (the DAG's release task runs whatever
happened, and so does its failure callback).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wirehouse import durable

LEASE_FILE = "writer.lease"
# A night's writers, load to publish, are part of the 131 s issue 16 measured for a whole
# night of 1,000 pages (about 60 s of it dbt), and the whole night's target for 5,000 pages
# is under 6 minutes (`make bench-night`); each writer task renews the lease. Two hours
# without a renewal is a run that is gone, not a slow one, 20x the target. Override with
# WIREHOUSE_WRITER_LEASE_TTL (seconds).
DEFAULT_TTL_SECONDS = 2 * 60 * 60
TTL_ENV = "WIREHOUSE_WRITER_LEASE_TTL"


class LeaseHeld(RuntimeError):
    """Another run holds the writer lease: this run's writer task must wait."""


@dataclass(frozen=True)
class Lease:
    holder: str  # who writes: the DagRun's run_id (or a command's name)
    claimed_at: str
    expires_at: str
    pid: int
    host: str

    def expired(self, now: datetime) -> bool:
        return datetime.fromisoformat(self.expires_at) <= now


def ttl_seconds() -> float:
    value = os.environ.get(TTL_ENV, "")
    try:
        return float(value) if float(value) > 0 else DEFAULT_TTL_SECONDS
    except ValueError:
        return DEFAULT_TTL_SECONDS


def lease_path(home: Path) -> Path:
    return home / LEASE_FILE


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / f"{LEASE_FILE}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the flock


def _read(home: Path) -> Lease | None:
    try:
        data = json.loads(lease_path(home).read_text(encoding="utf-8"))
        return Lease(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):  # a damaged lease file is no lease (it is replaced)
        return None


def current(home: Path, now: datetime | None = None) -> Lease | None:
    """The live lease, or None when the lease is free or expired."""
    now = now or datetime.now(UTC)
    with _locked(home):
        lease = _read(home)
    return lease if lease is not None and not lease.expired(now) else None


def try_claim(
    home: Path, holder: str, *, ttl: float | None = None, now: datetime | None = None
) -> bool:
    """Claim (or renew) the lease for `holder`; False when another holder's live lease has
    it. An expired lease, whoever held it, is taken over."""
    now = now or datetime.now(UTC)
    ttl = ttl_seconds() if ttl is None else ttl
    with _locked(home):
        lease = _read(home)
        if lease is not None and lease.holder != holder and not lease.expired(now):
            return False
        claimed_at = lease.claimed_at if lease is not None and lease.holder == holder else None
        new = Lease(
            holder=holder,
            claimed_at=claimed_at or now.isoformat(),
            expires_at=(now + timedelta(seconds=ttl)).isoformat(),
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        durable.write_text(lease_path(home), json.dumps(asdict(new)))
    return True


def hold(home: Path, holder: str, *, ttl: float | None = None, now: datetime | None = None) -> None:
    """For a writer task: renew the lease (or claim it when free), else raise LeaseHeld
    naming the holder, so the task fails and retries instead of interleaving two nights."""
    if not try_claim(home, holder, ttl=ttl, now=now):
        lease = current(home, now)
        who = f"{lease.holder} (until {lease.expires_at})" if lease else "another run"
        raise LeaseHeld(f"the warehouse writer lease is held by {who}")


def release(home: Path, holder: str) -> bool:
    """Give the lease up when `holder` has it; True when it was released."""
    if not lease_path(home).exists():
        return False  # nothing to give up (and no folder made where there is no warehouse)
    with _locked(home):
        lease = _read(home)
        if lease is None or lease.holder != holder:
            return False
        lease_path(home).unlink(missing_ok=True)
        durable.fsync_dir(home)
    return True
