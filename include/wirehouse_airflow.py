"""The Airflow side of Wirehouse that must be importable by a dotted path: the failure and
deadline callbacks, and the assets `publish` emits.

The `wirehouse` package never imports Airflow; this module does, and is kept apart from
it. It sits beside the package in `include/` (on the project environment's path through
the editable install, in the checkout as in the image), because a deadline alert's
callback is imported by the triggerer by name, and a DAG file is not importable by name.
Another DAG schedules on fresh marts with `schedule=[MART_ASSETS["fct_articles"]]` (see
`dags/marts_ready.py`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from airflow.sdk import Asset

from wirehouse import alerts
from wirehouse.run_params import run_date

log = logging.getLogger(__name__)

# the Airflow Variable holding the webhook's URL (unset or empty: no alerts are posted);
# from the environment: AIRFLOW_VAR_WIREHOUSE_ALERT_WEBHOOK
ALERT_WEBHOOK_VARIABLE = "wirehouse_alert_webhook"

# the tables `publish` writes (every table of the warehouse's `marts` schema; a test keeps
# this list equal to the dbt project's marts)
MARTS = (
    "bridge_story_entities",
    "dim_entities",
    "dim_source_boilerplate",
    "dim_sources",
    "dim_stories",
    "fct_articles",
    "fct_entity_mentions",
    "fct_fetches",
    "fct_story_merges",
)
# one asset per published mart: an event means `published/marts/<mart>.parquet` and the
# published copy's `marts.<mart>` hold a new night (the event's extra says which snapshot
# and night). `x-` marks a scheme of our own (Airflow leaves such URIs as they are).
MART_ASSETS = {
    mart: Asset(name=f"wirehouse.marts.{mart}", uri=f"x-wirehouse://published/marts/{mart}")
    for mart in MARTS
}


def alert_webhook() -> str | None:
    """The webhook's URL from the Variable, or None (unset, empty, or not http(s))."""
    from airflow.sdk import Variable

    return alerts.webhook_url(Variable.get(ALERT_WEBHOOK_VARIABLE, default=None))


def _field(obj: Any, name: str) -> Any:
    """A field of a DagRun, whether an object (a DAG callback's context) or the JSON dict
    a deadline callback receives."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _night(dag_run: Any) -> str | None:
    """The run's night as the tasks compute it (its `run_date` param, else its dates)."""
    conf = _field(dag_run, "conf") or {}
    try:
        return run_date(
            conf.get("run_date"),
            _as_datetime(_field(dag_run, "logical_date")),
            _as_datetime(_field(dag_run, "run_after")),
        )
    except (ValueError, TypeError):
        return None


def failure_message(context: dict[str, Any]) -> dict[str, Any]:
    """The alert for a failed DagRun, from a DAG failure callback's context."""
    dag_run = context["dag_run"]
    return alerts.message(
        "failed",
        _field(dag_run, "dag_id"),
        _field(dag_run, "run_id"),
        _night(dag_run),
        reason=str(context.get("reason") or "a task failed"),
    )


def notify_failure(context: dict[str, Any]) -> None:
    """DAG `on_failure_callback`: post the failed night to the webhook, if one is set."""
    alerts.post(alert_webhook(), failure_message(context))


def late_message(context: dict[str, Any]) -> dict[str, Any]:
    """The alert for a night past its deadline, from a deadline callback's context (the
    DagRun as JSON and the deadline)."""
    dag_run = context["dag_run"]
    deadline = context.get("deadline") or {}
    return alerts.message(
        "late",
        _field(dag_run, "dag_id"),
        _field(dag_run, "run_id"),
        _night(dag_run),
        reason=f"not finished by its deadline {deadline.get('deadline_time')}",
        deadline=str(deadline.get("deadline_time")),
    )


# DagRun states of a night that is over: its deadline is no news (Airflow 3.3.2 prunes a
# run's deadlines only when it succeeds, so a failed night's still fires: apache/airflow#60927;
# the failure was posted by notify_failure)
FINISHED_STATES = ("failed", "success")


async def notify_late(context: dict[str, Any], **kwargs: Any) -> None:
    """Deadline alert callback (runs in the triggerer): post the late night to the webhook,
    unless the run had already finished when the deadline passed. The Variable lookup and
    the POST are blocking calls, so they run on a thread."""
    state = _field(context["dag_run"], "state")
    if state in FINISHED_STATES:
        log.info("deadline passed after the run ended (%s): no late alert", state)
        return

    def send() -> None:
        alerts.post(alert_webhook(), late_message(context))

    await asyncio.to_thread(send)
