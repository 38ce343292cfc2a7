"""
### marts_ready — an example of a DAG scheduled on fresh marts

Runs whenever `news_daily`'s **publish** has emitted new events for the assets of the marts
it reads (`wirehouse.marts.fct_articles` and `wirehouse.marts.dim_stories`; every mart has
one, `wirehouse_airflow.MART_ASSETS`), that is once per published night, never on a clock.
It only logs what arrived: the snapshot, the night and the row counts the events carry.
Copy it for a downstream job (an export, a newsletter, a BI cache refresh) and read the
published copy `$WIREHOUSE_HOME/published/` read-only, as every reader does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, get_current_context, task
from wirehouse_airflow import MART_ASSETS

log = logging.getLogger(__name__)


@dag(
    dag_id="marts_ready",
    schedule=[MART_ASSETS["fct_articles"], MART_ASSETS["dim_stories"]],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "wirehouse",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(minutes=10),
    },
    tags=["wirehouse", "example", "assets"],
    doc_md=__doc__,
)
def marts_ready() -> None:
    @task
    def report_fresh_marts() -> list[dict[str, Any]]:
        """Log and return each triggering event's mart, snapshot, night and rows."""
        events = get_current_context()["triggering_asset_events"]
        seen = []
        for asset, asset_events in events.items():
            for event in asset_events:
                extra = dict(event.extra or {})
                log.info("fresh mart %s: %s", asset.name, extra)
                seen.append({"asset": asset.name, **extra})
        return seen

    report_fresh_marts()


marts_ready()
