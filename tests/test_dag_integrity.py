"""DAG integrity: every DAG file imports, is acyclic and follows the house rules."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dagbag(dbt_manifest: Path):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(
        dag_folder=ROOT / "dags", known_pools={"default_pool", "duckdb_writer", "cpu_heavy"}
    )


def test_every_dag_imports(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert "news_daily" in dagbag.dags
    assert len(dagbag.dags) == len(list((ROOT / "dags").glob("*.py")))


def test_house_rules(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag_id}: doc_md"
        assert dag.tags, f"{dag_id}: tags"
        assert dag.catchup is False, f"{dag_id}: catchup"
        assert dag.max_active_runs == 1, f"{dag_id}: max_active_runs"
        for t in dag.tasks:
            assert t.retries >= 2, f"{dag_id}.{t.task_id}: retries={t.retries}"


def test_no_cycles_and_expected_shape(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["news_daily"]
    dag.check_cycle()  # raises on a cycle
    ids = set(dag.task_ids)
    assert {
        "list_sources",
        "discover",
        "collect",
        "land",
        "load",
        "stories",
        "entities",
        "load_entities",
        "publish",
        "docs",
    } <= ids
    dbt_tasks = {t for t in ids if t.startswith("dbt.")}
    for model in (
        "fct_articles",
        "dim_sources",
        "dim_stories",
        "fct_fetches",
        "fct_story_merges",
        "dim_entities",
        "fct_entity_mentions",
        "bridge_story_entities",
    ):
        assert f"dbt.{model}_run" in dbt_tasks, model
    # DuckDB has one writer: the loader, the story stage, every dbt task that can run dbt
    # (the producer, each model's task on a retry, the tests) and publish share a one-slot
    # pool; cosmos' gate after the producer runs nothing
    writers = [
        dag.get_task(t)
        for t in ids
        if (t.startswith("dbt.") and t != "dbt.dbt_producer_watcher_done")
        or t in ("load", "stories", "load_entities", "publish", "docs")
    ]
    assert {w.pool for w in writers} == {"duckdb_writer"}
    # recognition reads only the landing zone: it runs beside the story stage and does not
    # hold the writer's slot for its minutes of CPU; its loader does
    assert dag.get_task("entities").pool != "duckdb_writer"
    assert dag.get_task("entities").upstream_task_ids == {"land"}
    assert dag.get_task("load_entities").upstream_task_ids == {"entities"}
    # the story stage runs after the load, dbt after the story stage and the entities,
    # publish after dbt
    assert dag.get_task("stories").upstream_task_ids == {"load"}
    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert producer.upstream_task_ids == {"stories", "load_entities"}
    assert any(u.startswith("dbt.") for u in dag.get_task("publish").upstream_task_ids)
    # the dbt docs are published after publish (docs that fail never hold the data back),
    # in the writer pool: they read the warehouse's catalog
    assert dag.get_task("docs").upstream_task_ids == {"publish"}
    assert dag.get_task("docs").pool == "duckdb_writer"
    assert "dbt.dbt_project_test" in dag.get_task("publish").upstream_task_ids


def test_dbt_stage_is_one_build_with_a_task_per_model(dagbag) -> None:  # type: ignore[no-untyped-def]
    """The dbt stage starts dbt once (cosmos' watcher producer), yet every model is still
    its own task: it reports its model's result, and its retry runs that model alone. The
    model tasks start after the producer has finished (so under `airflow dags test`, which
    runs one task at a time, none waits for a producer that cannot start), and the tests
    run once, after every model, before publish."""
    from cosmos.operators._watcher.base import BaseConsumerSensor
    from cosmos.operators.local import DbtTestLocalOperator
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    dag = dagbag.dags["news_daily"]
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    producers = [t for t in dbt_tasks if isinstance(t, DbtProducerWatcherOperator)]
    assert [p.task_id for p in producers] == ["dbt.dbt_producer_watcher"]
    # the night goes to dbt as the var run_date (a backfilled night's window starts there)
    dag_module = sys.modules[dag.get_task("load").python_callable.__module__]
    run_date_template = dag_module.RUN_DATE_TEMPLATE
    for task in dbt_tasks:
        if hasattr(task, "vars"):
            assert task.vars == {"run_date": run_date_template}, task.task_id
    # rendered for a run (with the DAG's macros, as Airflow renders it), it is the run's
    # night: its logical date, the run_date param when given, the day before run_after
    # for a run without a logical date, as the Python tasks compute it
    template = dag.get_template_env().from_string(run_date_template)
    nov21 = datetime(2026, 11, 21, tzinfo=UTC)
    no_param = {"run_date": None}
    assert template.render(params=no_param, logical_date=nov21, dag_run=None) == "2026-11-21"
    assert (
        template.render(params={"run_date": "2026-10-02"}, logical_date=nov21, dag_run=None)
        == "2026-10-02"
    )
    triggered = SimpleNamespace(run_after=datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    assert template.render(params=no_param, logical_date=None, dag_run=triggered) == "2026-11-21"
    assert producers[0].base_cmd == ["build"]
    assert not producers[0].select and not producers[0].exclude  # the whole project

    models = [t for t in dbt_tasks if isinstance(t, BaseConsumerSensor)]
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    expected = {n["unique_id"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {m.model_unique_id for m in models} == expected
    gate = dag.get_task("dbt.dbt_producer_watcher_done")
    assert gate.upstream_task_ids == {"dbt.dbt_producer_watcher"}
    for model in models:
        assert model.retries >= 2, model.task_id
        assert model.producer_task_id == "dbt.dbt_producer_watcher", model.task_id
        # after the gate, directly or through the models it depends on
        assert gate.task_id in model.get_flat_relative_ids(upstream=True), model.task_id
        assert "stories" not in model.upstream_task_ids, model.task_id

    (tests,) = [t for t in dbt_tasks if isinstance(t, DbtTestLocalOperator)]
    assert {m.task_id for m in models} <= tests.get_flat_relative_ids(upstream=True)
    assert tests.task_id in dag.get_task("publish").upstream_task_ids


def test_one_failed_source_does_not_stop_the_night(dagbag) -> None:  # type: ignore[no-untyped-def]
    """A failed mapped discover/collect leaves no output: collect and land still run over
    the others (all_done), everything after land keeps the default all_success (land
    itself succeeds), and a last check fails the DagRun so the night is seen as a problem."""
    dag = dagbag.dags["news_daily"]
    assert dag.get_task("collect").trigger_rule == "all_done"
    assert dag.get_task("land").trigger_rule == "all_done"
    assert dag.get_task("land").upstream_task_ids == {"list_sources", "collect"}
    for task_id in ("load", "stories", "entities", "load_entities", "publish"):
        assert dag.get_task(task_id).trigger_rule == "all_success", task_id
    # the briefing reads the published copy, so it follows publish; the check comes last
    assert dag.get_task("briefing").upstream_task_ids == {"publish"}
    assert dag.get_task("briefing").pool != "duckdb_writer"
    check = dag.get_task("check_sources")
    assert check.upstream_task_ids == {"land", "briefing", "docs"}
    assert check.downstream_task_ids == set()
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["check_sources"]


def test_dag_file_does_no_io_at_import(tmp_path: Path, dbt_manifest: Path) -> None:
    """Importing the DAG touches neither the sources file nor the data folder, and does not
    load the heavy extraction/warehouse libraries (the dag-processor parses it often)."""
    import os
    import subprocess
    import sys

    home = tmp_path / "not-created"
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('d', {str(ROOT / 'dags' / 'news_daily.py')!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "heavy = [m for m in ('trafilatura', 'duckdb', 'wirehouse.pipeline', 'langdetect') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = {
        **os.environ,
        "WIREHOUSE_HOME": str(home),
        "WIREHOUSE_SOURCES": str(tmp_path / "missing.yml"),
    }
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout
    assert not home.exists()


def test_every_task_has_a_timeout_and_the_night_a_deadline(dagbag) -> None:  # type: ignore[no-untyped-def]
    """A hung task ends at its execution_timeout (and is retried), a night at its
    dagrun_timeout, so with max_active_runs=1 one hang never stalls the later nights; a
    night running late and a failed night are posted to the alert webhook."""
    import wirehouse_airflow
    from airflow.sdk import AsyncCallback, DeadlineReference

    dag = dagbag.dags["news_daily"]
    module = sys.modules[dag.get_task("load").python_callable.__module__]
    assert dag.dagrun_timeout == module.DAGRUN_TIMEOUT
    for t in dag.tasks:
        assert t.execution_timeout is not None, t.task_id
        # retries included, a task's tries fit in the night's budget
        assert t.execution_timeout * (t.retries + 1) <= dag.dagrun_timeout, t.task_id
    assert dag.get_task("collect").execution_timeout == module.COLLECT_TIMEOUT
    assert dag.get_task("entities").execution_timeout == module.HEAVY_TIMEOUT
    assert dag.get_task("dbt.dbt_producer_watcher").execution_timeout == module.HEAVY_TIMEOUT
    assert dag.get_task("list_sources").execution_timeout == module.DEFAULT_TIMEOUT

    (alert,) = dag.deadline
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == timedelta(minutes=module.NIGHT_DEADLINE_MINUTES_DEFAULT)
    assert isinstance(alert.callback, AsyncCallback)
    assert alert.callback.path == "wirehouse_airflow.notify_late"  # importable by the triggerer
    # moved or switched off by the environment; left out under `airflow dags test`, whose
    # end of run fails on a DAG with a deadline in Airflow 3.3.2 (apache/airflow#73428)
    scheduler = ["airflow", "scheduler"]
    moved = module.night_deadline(scheduler, {"WIREHOUSE_NIGHT_DEADLINE_MINUTES": "45"})
    assert moved.interval == timedelta(minutes=45)
    assert module.night_deadline(scheduler, {"WIREHOUSE_NIGHT_DEADLINE_MINUTES": "0"}) is None
    assert module.night_deadline(["airflow", "dags", "test", "news_daily"], {}) is None
    assert wirehouse_airflow.notify_failure in dag.on_failure_callback
    assert module._release_writer_lease in dag.on_failure_callback


def test_scheduled_night_and_make_run_share_a_label(dagbag) -> None:  # type: ignore[no-untyped-def]
    """The @daily run that starts at 00:00 UTC on the 22nd has the logical date of the 21st,
    the label `make run` gives that night on the 22nd (RUN_DATE = yesterday, passed to
    `airflow dags test` as the logical date)."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    dag = dagbag.dags["news_daily"]
    timetable = coerce_to_core_timetable(dag.timetable)
    previous = DataInterval(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=previous,
        restriction=TimeRestriction(earliest=dag.start_date, latest=None, catchup=True),
    )
    assert info.run_after == datetime(2026, 11, 22, tzinfo=UTC)
    assert info.logical_date == datetime(2026, 11, 21, tzinfo=UTC)
    module = sys.modules[dag.get_task("load").python_callable.__module__]
    assert module.night_of({}, info.logical_date, None) == "2026-11-21"
    makefile = (ROOT / "Makefile").read_text()
    assert "RUN_DATE ?= $(shell date -u -d yesterday +%F)" in makefile
    assert "airflow dags test news_daily $(RUN_DATE)" in makefile


def test_params_for_a_manual_night_are_validated(dagbag) -> None:  # type: ignore[no-untyped-def]
    """A manual run names its night and sources file; the params' schema refuses what is
    not a date or a YAML file before the run starts."""
    import copy

    dag = dagbag.dags["news_daily"]
    good = copy.deepcopy(dag.params)
    good["run_date"] = "2026-10-02"
    good["sources"] = "other-sources.yml"
    assert good.validate()["run_date"] == "2026-10-02"
    for key, bad in (
        ("run_date", "02/10/2026"),
        ("run_date", 20261002),
        ("sources", "/etc/passwd"),
    ):
        params = copy.deepcopy(dag.params)
        with pytest.raises(Exception, match=key):
            params[key] = bad
            params.validate()
    defaults = copy.deepcopy(dag.params).validate()
    assert defaults["run_date"] is None and defaults["sources"] is None


def test_publish_emits_an_asset_per_mart(dagbag, dbt_manifest: Path) -> None:  # type: ignore[no-untyped-def]
    """publish's outlets are one asset per mart of the dbt project, and an example DAG is
    scheduled on them, so other DAGs can run on fresh marts."""
    import wirehouse_airflow

    manifest = json.loads(dbt_manifest.read_text())
    marts = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert set(wirehouse_airflow.MARTS) == marts
    publish = dagbag.dags["news_daily"].get_task("publish")
    assert {a.name for a in publish.outlets} == {f"wirehouse.marts.{m}" for m in marts}
    consumer = dagbag.dags["marts_ready"]
    assert consumer.timetable.asset_condition is not None
    scheduled_on = {a.name for a in consumer.timetable.asset_condition.objects}
    assert scheduled_on and scheduled_on <= {a.name for a in publish.outlets}


def test_cpu_heavy_tasks_have_a_pool(dagbag) -> None:  # type: ignore[no-untyped-def]
    """Entity recognition starts a process per core for minutes: it runs in the cpu_heavy
    pool (the story stage is in the one-slot writer pool already), and the Makefile creates
    the pool beside duckdb_writer."""
    dag = dagbag.dags["news_daily"]
    assert dag.get_task("entities").pool == "cpu_heavy"
    assert dag.get_task("stories").pool == "duckdb_writer"
    makefile = (ROOT / "Makefile").read_text()
    assert "airflow pools set cpu_heavy" in makefile


def test_lake_mode_frees_the_landing_writers_and_targets_the_lake(
    dbt_manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WIREHOUSE_WAREHOUSE=ducklake (docs/ducklake.md): load, stories and load_entities write
    their own lake tables and leave the one-slot pool; dbt, publish and docs keep it, and
    cosmos runs dbt with the profile's `ducklake` target."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("WIREHOUSE_WAREHOUSE", "ducklake")
    bag = DagBag(
        dag_folder=ROOT / "dags", known_pools={"default_pool", "duckdb_writer", "cpu_heavy"}
    )
    assert bag.import_errors == {}
    dag = bag.dags["news_daily"]
    for task_id in ("load", "stories", "load_entities"):
        assert dag.get_task(task_id).pool == "default_pool", task_id
    for task_id in ("dbt.dbt_producer_watcher", "dbt.dbt_project_test", "publish", "docs"):
        assert dag.get_task(task_id).pool == "duckdb_writer", task_id
    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert producer.profile_config.target_name == "ducklake"
