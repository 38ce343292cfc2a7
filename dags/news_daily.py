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

**Which night.** The schedule is `@daily` with data intervals, in UTC: the run starting at
00:00 UTC on the 22nd is the night of the 21st (its logical date), as `make run` on the 22nd
is (`RUN_DATE` = yesterday). A manual run may name its night (`run_date`) and a sources
file (`sources`, in the default sources file's folder or a `WIREHOUSE_LOCAL_ROOTS` one).

**Production.** Every task has an `execution_timeout` and the DagRun a `dagrun_timeout`
(set from the measured stage times, below), so a hung task cannot stall later nights. A
failed night and a night still running 2 h after it was queued are posted
as JSON to the webhook in the Variable `wirehouse_alert_webhook` (unset: nothing is sent).
`publish` emits one asset per mart (`wirehouse_airflow.MART_ASSETS`): schedule a DAG on
them to run on fresh marts. `entities` runs in the pool `cpu_heavy`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import (
    AsyncCallback,
    CronDataIntervalTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    TaskGroup,
    TriggerRule,
    dag,
    get_current_context,
    task,
)
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
)
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from wirehouse_airflow import MART_ASSETS, notify_failure, notify_late

DBT_PROJECT_DIR = Path(
    os.environ.get("WIREHOUSE_DBT_PROJECT_DIR")
    or Path(__file__).resolve().parents[1] / "dbt_project"
)
WRITER_POOL = "duckdb_writer"
# entity recognition starts a worker process per core for minutes: one such task at a time
# per pool slot (created beside duckdb_writer: Makefile, compose's airflow-init)
CPU_POOL = "cpu_heavy"


def night_of(params: dict[str, Any], logical_date: Any, dag_run: Any) -> str:
    """The run's night (`wirehouse.run_params.run_date`): the `run_date` param, else the
    logical date's day, else the day before run_after. A DAG macro, so the templated
    fields (dbt's var) and the Python tasks compute it the same way."""
    from wirehouse.run_params import run_date

    run_after = getattr(dag_run, "run_after", None)
    return run_date((params or {}).get("run_date"), logical_date, run_after)


# WIREHOUSE_WAREHOUSE=ducklake (docs/ducklake.md): the warehouse is a DuckLake, where writers of
# different tables commit side by side. load, stories and load_entities each write their own
# landing tables (and a night's order is kept by the dependencies, other nights by the writer
# lease), so they leave the one-slot pool; dbt, publish and docs keep it (two dbt builds would
# write the same marts). The dbt target follows the backend (profiles.yml).
LAKE = os.environ.get("WIREHOUSE_WAREHOUSE", "file").strip().lower() == "ducklake"
LANDING_WRITER_POOL = "default_pool" if LAKE else WRITER_POOL
DBT_TARGET = "ducklake" if LAKE else "dev"
# the run's night for templated fields, as _run_date() computes it for the Python tasks
RUN_DATE_TEMPLATE = "{{ wirehouse_night(params, logical_date, dag_run) }}"


def _run_date() -> str:
    """The partition this run works on (never the wall clock: a retry gets the same)."""
    context = get_current_context()
    return night_of(context["params"], context.get("logical_date"), context["dag_run"])


def _settings():
    from wirehouse.config import load_settings

    return load_settings()


def _run_settings():
    """The settings with the run's `sources` param applied (checked: see
    `wirehouse.run_params.with_sources`)."""
    from wirehouse.run_params import with_sources

    return with_sources(_settings(), get_current_context()["params"].get("sources"))


def _force_collect() -> bool:
    from wirehouse import pipeline

    return pipeline.force_collect(get_current_context()["params"].get("force_collect"))


# Timeouts, from `make bench-night` (bench/README.md, "Last measured: bench-night after the
# issue 16 cost work": 5,000 pages on 100,000 articles of history, 2 cores, each stage's
# span in seconds). Each is a generous multiple, so only a hung task reaches it: a night ten
# times that size on the same cores still fits twice over. A timed-out task is retried.
# list_sources 4.2 s, land + load + load_entities 1.5 s, briefing 1.0 s, docs 2.6 s: 30 min
DEFAULT_TIMEOUT = timedelta(minutes=30)
# discover 2.0 s (saved files); over the network an entry point may take 3 attempts of a
# 30 s deadline (3 x timeout_seconds) plus backoff, and an index lists many sitemaps
DISCOVER_TIMEOUT = timedelta(hours=1)
# collect 60.6 s for 5,000 pages (extraction bound). Over the network it is politeness
# bound: 200 pages (max_urls) a second apart is 200 s per host, and at robots.txt's
# Crawl-delay cap of 30 s it is 6,000 s, which 3 h covers with retries' waits
COLLECT_TIMEOUT = timedelta(hours=3)
# entities 143.8 s (2.8 M words at about 19,500 words/s on 2 cores): ten times it twice over
# is 48 min; stories 38.7 s, load (a first load after a change of the URL rules migrates
# every night's ids), dbt (producer 22.7 s, tests 5.1 s) and publish 23.0 s (a copy of the
# 1 GB warehouse in 15.2 s, and a lost search index rebuilt whole: 45.8 s at 105,000
# articles) grow with the history as well: 1 h each
HEAVY_TIMEOUT = timedelta(hours=1)
# the longest chain of those timeouts without a retry is about 10 h (discover 1, collect 3,
# land 0.5, load 1, stories 1, dbt's producer and tests 2, publish 1, docs and the check
# 0.5 each): a night still running after 12 h is failed (and alerted), so it never holds
# the next midnight's run back
DAGRUN_TIMEOUT = timedelta(hours=12)
# a night still running this long after it was queued is posted as late (the deadline
# alert): the measured nights take 5.3 min (bench-night, 5,000 pages) and 5 min 26 s (the
# default sources under `airflow standalone`, issue 17); WIREHOUSE_NIGHT_DEADLINE_MINUTES
# in the scheduler's and dag-processor's environment moves it (0: no deadline alert)
NIGHT_DEADLINE_MINUTES_DEFAULT = 120


def night_deadline(argv: list[str], environ: Mapping[str, str]) -> DeadlineAlert | None:
    """The DAG's deadline alert, or None when `WIREHOUSE_NIGHT_DEADLINE_MINUTES` is 0 or the
    DAG is parsed by `airflow dags test` (`make run`, the benchmarks, the end-to-end tests).
    Airflow 3.3.2's `dag.test()` fails at the end of a successful run of a DAG with a
    deadline (apache/airflow#73428: its in-memory DAG holds the encoded alerts where the
    run's update looks for their ids), and without a scheduler no deadline is checked
    there anyway."""
    value = (environ.get("WIREHOUSE_NIGHT_DEADLINE_MINUTES") or "").strip()
    minutes = int(value) if value.isdigit() else NIGHT_DEADLINE_MINUTES_DEFAULT
    if minutes == 0 or argv[1:3] == ["dags", "test"]:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback(notify_late),
        name="night running late",
    )


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
    # data intervals, not the cron trigger Airflow 3 makes of "@daily" by default: the run
    # at 00:00 UTC on the 22nd has the logical date of the 21st, the night it labels (and
    # the result no longer hangs on [scheduler] create_cron_data_intervals)
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args={
        "owner": "wirehouse",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": DEFAULT_TIMEOUT,
    },
    params={
        "force_collect": Param(
            False,
            type="boolean",
            description="Fetch the date again although its collection is stored "
            "(default: a re-run or backfill reuses it; env WIREHOUSE_FORCE_COLLECT=1 too)",
        ),
        "run_date": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="The night to run, YYYY-MM-DD (default: the run's logical date; "
            "a scheduled run at 00:00 UTC is the night of the day before)",
        ),
        "sources": Param(
            None,
            type=["null", "string"],
            pattern=r"\.ya?ml$",
            description="A sources file for this run (default: WIREHOUSE_SOURCES); in the "
            "default file's folder or a WIREHOUSE_LOCAL_ROOTS folder",
        ),
    },
    user_defined_macros={"wirehouse_night": night_of},
    on_failure_callback=[_release_writer_lease, notify_failure],
    deadline=night_deadline(sys.argv, os.environ),
    tags=["wirehouse", "news", "nightly"],
    doc_md=__doc__,
)
def news_daily() -> None:
    @task
    def list_sources() -> list[dict[str, Any]]:
        """Validate the sources file and hand each source to the mapped tasks."""
        from wirehouse import pipeline

        return pipeline.list_sources(_run_settings())

    @task(map_index_template="{{ source_id }}", execution_timeout=DISCOVER_TIMEOUT)
    def discover(source: dict[str, Any]) -> dict[str, Any]:
        """Find candidate article URLs of one source."""
        from wirehouse import pipeline

        get_current_context()["source_id"] = source["id"]  # type: ignore[typeddict-unknown-key]
        return pipeline.discover(source, _run_date(), _run_settings(), force=_force_collect())

    # all_done: a failed discover leaves no output, so collect expands over the others
    @task(
        map_index_template="{{ source_id }}",
        trigger_rule=TriggerRule.ALL_DONE,
        execution_timeout=COLLECT_TIMEOUT,
    )
    def collect(discovery: dict[str, Any]) -> dict[str, Any]:
        """Fetch, extract and normalise one source's candidates."""
        from wirehouse import pipeline

        get_current_context()["source_id"] = discovery["source_id"]  # type: ignore[typeddict-unknown-key]
        return pipeline.collect(discovery, _run_settings(), force=_force_collect())

    # all_done: a failed source must not hold back the others; its missing output is a row
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def land(sources: list[dict[str, Any]], collected: list[dict[str, Any]]) -> dict[str, str]:
        """Rewrite the run date's landing partitions from every source that collected, and
        one `source_failed` row for each source that did not."""
        from wirehouse import pipeline

        return pipeline.land_run(_run_date(), sources, list(collected), _run_settings())

    @task(pool=LANDING_WRITER_POOL, execution_timeout=HEAVY_TIMEOUT)
    def load(landed: dict[str, str]) -> dict[str, int]:
        """Replace the run date in the warehouse's landing schema."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.load_run(_run_date(), _run_settings())

    @task(pool=LANDING_WRITER_POOL, execution_timeout=HEAVY_TIMEOUT)
    def stories(loaded: dict[str, int]) -> dict[str, int]:
        """Deduplicate and cluster the night's new articles into stories."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.stories_run(_run_date(), _run_settings())

    @task(pool=CPU_POOL, execution_timeout=HEAVY_TIMEOUT)
    def entities(landed: dict[str, str]) -> dict[str, int]:
        """Recognise and resolve the night's entities (CPU only: no warehouse access)."""
        from wirehouse import pipeline

        return pipeline.entities_run(_run_date(), _run_settings())

    @task(pool=LANDING_WRITER_POOL)
    def load_entities(recognised: dict[str, int]) -> dict[str, int]:
        """Replace the run date's entity rows in the warehouse."""
        from wirehouse import pipeline

        _hold_writer_lease(get_current_context()["run_id"])
        return pipeline.load_entities_run(_run_date(), _run_settings())

    @task(pool=WRITER_POOL, execution_timeout=HEAVY_TIMEOUT, outlets=list(MART_ASSETS.values()))
    def publish() -> dict[str, object]:
        """Refresh the read-only copy and Parquet export for analysts and BI, and emit one
        asset event per mart (its extra: the snapshot id, the night and the row count)."""
        from wirehouse import pipeline

        context = get_current_context()
        _hold_writer_lease(context["run_id"])
        published = pipeline.publish_run(_run_settings())
        night = _run_date()
        for mart, asset in MART_ASSETS.items():
            context["outlet_events"][asset].extra = {
                "snapshot_id": published["snapshot_id"],
                "run_date": night,
                "rows": published["marts"].get(mart),
            }
        return published

    @task
    def briefing() -> dict[str, object]:
        """Write the night's briefing page from the published marts (read-only)."""
        from wirehouse import pipeline

        return pipeline.briefing_run(_run_date(), _run_settings())

    @task(pool=WRITER_POOL)
    def docs() -> dict[str, object]:
        """Publish the dbt docs beside the briefing. It reads the warehouse's catalog, so it
        is the night's last writer-pool task and releases the writer lease."""
        from wirehouse import lease, pipeline

        run_id = get_current_context()["run_id"]
        _hold_writer_lease(run_id)
        documented = pipeline.docs_run(_run_settings(), DBT_PROJECT_DIR)
        lease.release(_run_settings().home, run_id)  # the night's writing is done
        return documented

    @task
    def check_sources(landed: dict[str, str]) -> None:
        """Fail the night (visibly, after everything good is published) when a source failed."""
        from airflow.sdk.exceptions import AirflowFailException

        from wirehouse import pipeline

        failed = pipeline.failed_sources(_run_date(), _run_settings())
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
            "execution_timeout": HEAVY_TIMEOUT,
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
