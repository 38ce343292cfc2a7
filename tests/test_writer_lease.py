"""The writer lease keeps two nights' writers apart (a backfill beside the nightly run).

Tested without Airflow's scheduler: real processes claim the real lease file; then the DAG
is checked to hold it in every writer task, to release it after the docs task (the last writer) and when a run
fails, and to reschedule (not fail, not hold the pool) a writer task that finds it taken.
"""

from __future__ import annotations

import inspect
import multiprocessing
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wirehouse import lease

WRITERS = ("load", "stories", "load_entities", "publish", "docs")


def _claim(home: str, holder: str, start, results) -> None:  # type: ignore[no-untyped-def]
    start.wait()
    results.put((holder, lease.try_claim(Path(home), holder)))


def test_only_one_of_many_processes_claims_the_lease(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    holders = [f"night-{i}" for i in range(6)]
    procs = [ctx.Process(target=_claim, args=(str(tmp_path), h, start, results)) for h in holders]
    for p in procs:
        p.start()
    start.set()  # all at once
    outcome = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    winners = [h for h, won in outcome.items() if won]
    assert len(winners) == 1
    held = lease.current(tmp_path)
    assert held is not None and held.holder == winners[0]


def _hold_then_release(home: str, claimed, go_release) -> None:  # type: ignore[no-untyped-def]
    assert lease.try_claim(Path(home), "night-A")
    claimed.set()
    go_release.wait()
    assert lease.release(Path(home), "night-A")


def test_a_second_night_waits_until_the_first_releases(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    claimed, go_release = ctx.Event(), ctx.Event()
    night_a = ctx.Process(target=_hold_then_release, args=(str(tmp_path), claimed, go_release))
    night_a.start()
    assert claimed.wait(60)
    # night B, in this process: its writers may not run between A's load and A's publish
    assert not lease.try_claim(tmp_path, "night-B")
    with pytest.raises(lease.LeaseHeld, match="night-A"):
        lease.hold(tmp_path, "night-B")
    assert not lease.release(tmp_path, "night-B"), "B cannot release A's lease"
    assert lease.try_claim(tmp_path, "night-A"), "A's own tasks renew it"
    go_release.set()
    night_a.join(timeout=60)
    assert night_a.exitcode == 0
    assert lease.try_claim(tmp_path, "night-B")
    lease.hold(tmp_path, "night-B")
    assert lease.current(tmp_path).holder == "night-B"


def test_a_dead_runs_lease_expires(tmp_path: Path) -> None:
    then = datetime(2026, 11, 22, 1, tzinfo=UTC)
    assert lease.try_claim(tmp_path, "dead-night", ttl=3600, now=then)
    assert not lease.try_claim(tmp_path, "next-night", now=then + timedelta(minutes=59))
    # never renewed, never released: an hour on, it no longer blocks
    assert lease.try_claim(tmp_path, "next-night", now=then + timedelta(minutes=61))
    assert lease.current(tmp_path, then + timedelta(minutes=62)).holder == "next-night"


def test_renewing_moves_the_expiry(tmp_path: Path) -> None:
    then = datetime(2026, 11, 22, 1, tzinfo=UTC)
    assert lease.try_claim(tmp_path, "night-A", ttl=3600, now=then)
    assert lease.try_claim(tmp_path, "night-A", ttl=3600, now=then + timedelta(minutes=50))
    assert not lease.try_claim(tmp_path, "night-B", now=then + timedelta(minutes=80))


def test_a_damaged_lease_file_is_no_lease(tmp_path: Path) -> None:
    lease.lease_path(tmp_path).write_text("{not json", encoding="utf-8")
    assert lease.current(tmp_path) is None
    assert lease.try_claim(tmp_path, "night-A")


def test_the_dag_holds_the_lease_in_every_writer_task(dagbag, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk.exceptions import AirflowRescheduleException

    dag = dagbag.dags["news_daily"]
    for task_id in WRITERS:
        source = inspect.getsource(dag.get_task(task_id).python_callable)
        assert "_hold_writer_lease(" in source, task_id
        assert dag.get_task(task_id).pool == "duckdb_writer", task_id
    assert "lease.release(" in inspect.getsource(dag.get_task("docs").python_callable)
    assert dag.on_failure_callback, "a failed night releases the lease"
    assert dag.params["force_collect"] is False

    module = sys.modules[dag.get_task("load").python_callable.__module__]
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    assert lease.try_claim(tmp_path, "backfill__2026-11-20")
    # another run's night is being written: this run's writer task is rescheduled
    with pytest.raises(AirflowRescheduleException):
        module._hold_writer_lease("scheduled__2026-11-23")
    # the failure callback of the holder's run frees it
    callbacks = dag.on_failure_callback if isinstance(dag.on_failure_callback, list) else [dag.on_failure_callback]  # fmt: skip
    assert module._release_writer_lease in callbacks  # beside the alert's notify_failure
    module._release_writer_lease({"run_id": "backfill__2026-11-20"})
    module._hold_writer_lease("scheduled__2026-11-23")
    assert lease.current(tmp_path).holder == "scheduled__2026-11-23"


@pytest.fixture(scope="module")
def dagbag(dbt_manifest: Path):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    root = Path(__file__).resolve().parents[1]
    bag = DagBag(
        dag_folder=root / "dags", known_pools={"default_pool", "duckdb_writer", "cpu_heavy"}
    )
    assert not bag.import_errors, bag.import_errors
    return bag
