"""
### news_daily — the nightly Wirehouse run

Collects yesterday's news from every source in `$WIREHOUSE_SOURCES` and refreshes the
warehouse `$WIREHOUSE_HOME/wirehouse.duckdb`:

1. **list_sources** validates the sources file (a bad file fails here, naming the field).
2. **discover** (mapped, one per source) reads feeds, sitemaps, URL lists and saved files.
3. **collect** (mapped, one per source) fetches politely, extracts and normalises each page;
   every URL becomes a fetch row with its outcome, failures included.
4. **land** rewrites the run date's Parquet partitions under `landing/`. It runs whatever
   the mapped tasks did (trigger rule `all_done`): a source whose discover or collect task
   failed (after its retries) becomes one `source_failed` fetch row with the reason, and
   every other source lands. `collect` is `all_done` too, so one failed discover does not
   stop the other sources' collection.
5. **load** replaces the run date in the DuckDB `landing` schema (pool `duckdb_writer`).
6. **stories** finds copies, clusters the night's new articles into stories with the
   recent ones, names rewrites' sources and records story merges (same pool).
7. **entities** (from the landed articles, in parallel with the story stage) recognises
   people, organisations and places with spaCy on every core and resolves them to one
   entity each; **load_entities** loads them (same pool).
8. **dbt** builds staging → intermediate → marts through cosmos' watcher mode: one
   producer task runs a single `dbt build` of every model (one dbt start-up, not one per
   model), one task per model then reports that model's result (and, retried, re-runs that
   model alone), and one task runs the project's tests after them all (same pool: DuckDB
   has a single writer).
9. **publish** refreshes `published/wirehouse.duckdb` (with its search index) and the marts'
   Parquet for readers, as one snapshot swapped in whole.
10. **briefing** writes `published/briefing/<run_date>.html` and `index.html` from the
   published marts: the night's biggest stories, charts and a map, readable offline.
11. **docs** publishes the dbt docs (static, offline) to `published/docs/`, beside the
   briefing; it holds the night's writer lease (it reads the warehouse) and releases it.
12. **check_sources** fails (without retries) when a source failed tonight, naming each with
   its reason: the warehouse is already refreshed with every good source, and the DagRun
   ends `failed` so the night is visible as a problem, beside the failed source's task.

Every task works on the run's logical date only (`run_date`), so any task, or the whole
day, can be re-run and gives the same rows. A date's collection is written once: a re-run or
a backfill reuses the stored discovery and collection (nothing is fetched) unless the run's
param `force_collect` is true. One night at a time writes the warehouse: every writer task
(load, stories, load_entities, publish) first holds the run's writer lease (`wirehouse.lease`),
claimed by the first of them and given up at the end of publish (or when the run fails); a
writer task of another run finds it taken and is rescheduled, holding no pool slot, so a
backfill beside the nightly run never interleaves their writers.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Param, TaskGroup, TriggerRule, dag, get_current_context, task
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
)
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

DBT_PROJECT_DIR = Path(
    os.environ.get("WIREHOUSE_DBT_PROJECT_DIR")
    or Path(__file__).resolve().parents[1] / "dbt_project"
)
WRITER_POOL = "duckdb_writer"
# WIREHOUSE_WAREHOUSE=ducklake (docs/ducklake.md): the warehouse is a DuckLake, where writers of
# different tables commit side by side. load, stories and load_entities each write their own
# landing tables (and a night's order is kept by the dependencies, other nights by the writer
# lease), so they leave the one-slot pool; dbt, publish and docs keep it (two dbt builds would
# write the same marts). The dbt target follows the backend (profiles.yml).
LAKE = os.environ.get("WIREHOUSE_WAREHOUSE", "file").strip().lower() == "ducklake"
LANDING_WRITER_POOL = "default_pool" if LAKE else WRITER_POOL
DBT_TARGET = "ducklake" if LAKE else "dev"
# the run's night for templated fields, as _run_date() computes it for the Python tasks
RUN_DATE_TEMPLATE = "{{ (logical_date or dag_run.run_after).date().isoformat() }}"


def _run_date() -> str:
    """The partition this run works on: its logical date, or for a run triggered without
    one, the day it was scheduled to run after (never the wall clock)."""
    context = get_current_context()
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date().isoformat()
    return context["dag_run"].run_after.date().isoformat()


def _settings():
    from wirehouse.config import load_settings

    return load_settings()


def _force_collect() -> bool:
    from wirehouse import pipeline

    return pipeline.force_collect(get_current_context()["params"].get("force_collect"))


# a writer task waiting for another night's lease tries again a minute later (Airflow's
# advice for rescheduling sensors); a night's writers take minutes
LEASE_POKE_SECONDS = 60


def _hold_writer_lease(run_id: str) -> None:
    """Renew this run's writer lease (or claim it when free). When another run's night is
    between its load and its publish, the task is rescheduled (state up_for_reschedule: no
    pool slot held, no retry spent) and tries again a minute later."""
    from airflow.sdk.exceptions import AirflowRescheduleException

    from wirehouse import lease

    try:
        lease.hold(_settings().home, run_id)
    except lease.LeaseHeld as held:
        print(f"waiting for the writer lease: {held}")
        raise AirflowRescheduleException(
            datetime.now(UTC) + timedelta(seconds=LEASE_POKE_SECONDS)
        ) from held


def _release_writer_lease(context: Any) -> None:
    """DAG failure callback: a failed night gives the writer lease up at once (a cleared
    task of it claims the lease again when it runs)."""
    from wirehouse import lease

    lease.release(_settings().home, context["run_id"])


def _models_after_producer(group: TaskGroup) -> None:
    """Start the model tasks only once the producer has finished (through cosmos' gate,
    which succeeds when the producer succeeded or skipped its retry).

    Cosmos starts a task group's first model tasks beside the producer, to watch it live.
    Here they would wait for the writer pool's one slot anyway, and under `airflow dags
    test` (one task at a time) a model task that ran before the producer would wait for
    it forever. After the producer, a model task finds its result at once; a failed model
    fails its task, whose retry runs that model alone."""
    producer = group.children[f"{group.group_id}.dbt_producer_watcher"]
    gate = group.children[f"{group.group_id}.dbt_producer_watcher_done"]
    for root in group.get_roots():
        if root is not producer:
            gate >> root


@dag(
    dag_id="news_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "wirehouse", "retries": 2, "retry_delay": timedelta(minutes=2)},
    params={
        "force_collect": Param(
            False,
            type="boolean",
            description="Fetch the date again although its collection is stored "
            "(default: a re-run or backfill reuses it; env WIREHOUSE_FORCE_COLLECT=1 too)",
        )
    },
    on_failure_callback=_release_writer_lease,
    tags=["wirehouse", "news", "nightly"],
    doc_md=__doc__,
)
def news_daily() -> None:
    @task
    def list_sources() -> list[dict[str, Any]]:
        """Validate the sources file and hand each source to the mapped tasks."""
        from wirehouse import pipeline

        return pipeline.list_sources(_settings())

    @task(map_index_template="{{ source_id }}")
    def discover(source: dict[str, Any]) -> dict[str, Any]:
        """Find candidate article URLs of one source."""
        from wirehouse import pipeline

        get_current_context()["source_id"] = source["id"]  # type: ignore[typeddict-unknown-key]
        return pipeline.discover(source, _run_date(), _settings(), force=_force_collect())

    # all_done: a failed discover leaves no output, so collect expands over the others
    @task(map_index_template="{{ source_id }}", trigger_rule=TriggerRule.ALL_DONE)
    def collect(discovery: dict[str, Any]) -> dict[str, Any]:
        """Fetch, extract and normalise one source's candidates."""
        from wirehouse import pipeline

        get_current_context()["source_id"] = discovery["source_id"]  # type: ignore[typeddict-unknown-key]
        return pipeline.collect(discovery, _settings(), force=_force_collect())

    # all_done: a failed source must not hold back the others; its missing output is a row
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def land(sources: list[dict[str, Any]], collected: list[dict[str, Any]]) -> dict[str, str]:
        """Rewrite the run date's landing partitions from every source that collected, and
        one `source_failed` row for each source that did not."""
        from wirehouse import pipeline

        return pipeline.land_run(_run_date(), sources, list(collected), _settings())

    @task(pool=LANDING_WRITER_POOL)
    def load(landed: dict[str, str]) -> dict[str, int]:
        """Replace the run date in the warehouse's landing schema."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.load_run(_run_date(), _settings())

    @task(pool=LANDING_WRITER_POOL)
    def stories(loaded: dict[str, int]) -> dict[str, int]:
        """Deduplicate and cluster the night's new articles into stories."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.stories_run(_run_date(), _settings())

    @task
    def entities(landed: dict[str, str]) -> dict[str, int]:
        """Recognise and resolve the night's entities (CPU only: no warehouse access)."""
        from wirehouse import pipeline

        return pipeline.entities_run(_run_date(), _settings())

    @task(pool=LANDING_WRITER_POOL)
    def load_entities(recognised: dict[str, int]) -> dict[str, int]:
        """Replace the run date's entity rows in the warehouse."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.load_entities_run(_run_date(), _settings())

    @task(pool=WRITER_POOL)
    def publish() -> dict[str, object]:
        """Refresh the read-only copy and Parquet export for analysts and BI."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.publish_run(_settings())

    @task
    def briefing() -> dict[str, object]:
        """Write the night's briefing page from the published marts (read-only)."""
        from wirehouse import pipeline

        return pipeline.briefing_run(_run_date(), _settings())

    @task(pool=WRITER_POOL)
    def docs() -> dict[str, object]:
        """Publish the dbt docs beside the briefing. It reads the warehouse's catalog, so it
        is the night's last writer-pool task and releases the writer lease."""
        from wirehouse import lease, pipeline

        run_id = get_current_context()["run_id"]
        _hold_writer_lease(run_id)
        documented = pipeline.docs_run(_settings(), DBT_PROJECT_DIR)
        lease.release(_settings().home, run_id)  # the night's writing is done
        return documented

    @task
    def check_sources(landed: dict[str, str]) -> None:
        """Fail the night (visibly, after everything good is published) when a source failed."""
        from airflow.sdk.exceptions import AirflowFailException

        from wirehouse import pipeline

        failed = pipeline.failed_sources(_run_date(), _settings())
        if failed:
            # a source's own retries already ran: retrying this check would change nothing
            raise AirflowFailException(
                f"{len(failed)} source(s) failed tonight: " + "; ".join(failed)
            )

    # Watcher mode: the producer runs one `dbt build` of the models (measured on the bundled
    # sample night, `airflow dags test`, 2 shared cores: the dbt stage took 63 and 83 s as
    # 33 cosmos tasks each starting dbt, 38 and 30 s this way; bench/README.md, "dbt stage").
    # Each model keeps its task, which reads the model's result from the producer and, on a
    # retry, runs `dbt run` for that model alone. Tests run once after every model
    # (AFTER_ALL): in the producer's build each test's result is an XCom write, which cost
    # more than the tests (60 s for the stage with AFTER_EACH).
    dbt_models = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="wirehouse",
            target_name=DBT_TARGET,
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_ALL,
            # nothing is scheduled on the marts' assets: no asset event per model and night
            emit_datasets=False,
        ),
        # every task that can run dbt (producer, a model's retry, the tests) is a writer;
        # `run_date` tells the incremental marts which night this is, so a backfilled night
        # older than their lookback window still reaches them (macros/incremental_scope.sql)
        operator_args={
            "pool": WRITER_POOL,
            "install_deps": False,
            "vars": {"run_date": RUN_DATE_TEMPLATE},
        },
    )
    _models_after_producer(dbt_models)

    sources = list_sources()
    discovered = discover.expand(source=sources)
    collected = collect.expand(discovery=discovered)
    landed = land(sources, collected)
    clustered = stories(load(landed))
    recognised = load_entities(entities(landed))
    checked = check_sources(landed)
    published = [clustered, recognised] >> dbt_models >> publish()
    published >> briefing() >> checked
    published >> docs() >> checked  # after publish: docs that fail never hold the data back


news_daily()
