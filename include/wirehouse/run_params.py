"""What one run works on: its night (`run_date`) and its sources file.

One label per night. The nightly DAG is scheduled `@daily` with data intervals, in UTC:
the run that starts at 00:00 UTC on the 22nd covers the 21st, and its logical date (the
interval's start) is the 21st. `make run` runs `airflow dags test news_daily RUN_DATE` with
RUN_DATE yesterday (UTC), so on the 22nd it too is the 21st: the same night gets the same
label whichever way it runs. A run collects what the sources list when it runs (feeds and
sitemaps list the latest articles, not a given day's); `run_date` labels that collection.

A manual run may name its night and sources file with the DAG params `run_date` and
`sources`; these functions check them (the DAG's JSON schema checks only their shape).
The package never imports Airflow: the DAG hands the values in.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

from wirehouse.config import Settings


def run_date(param: str | None, logical_date: datetime | None, run_after: datetime | None) -> str:
    """The run's night, `YYYY-MM-DD`: the `run_date` param when the run names one; else the
    day of its logical date (a scheduled run's data interval start, `dags test`'s date);
    else, for a run triggered without a logical date, the day before it was to run after
    (the last whole UTC day, as the scheduled run at that midnight would label it). Never
    the wall clock, so a retried task gets the same night."""
    if param not in (None, ""):
        return checked_date(str(param))
    if logical_date is not None:
        return logical_date.date().isoformat()
    if run_after is None:
        raise ValueError("a run without a logical date must have run_after")
    return (run_after - timedelta(days=1)).date().isoformat()


def checked_date(value: str) -> str:
    """`value` when it is a real calendar date written `YYYY-MM-DD`, else a ValueError
    naming the param."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"param run_date: {value!r} is not a date (YYYY-MM-DD)") from exc
    if day.isoformat() != value:
        raise ValueError(f"param run_date: {value!r} is not written YYYY-MM-DD")
    return value


def with_sources(settings: Settings, param: str | None) -> Settings:
    """`settings` with the run's sources file: the `sources` param when the run names one.

    The file must be a `.yml`/`.yaml` file in the configured sources file's folder or in a
    `WIREHOUSE_LOCAL_ROOTS` folder (relative paths resolve from the configured file's
    folder): whoever may trigger a run must not point the collector at any file the worker
    can read, since a sources file's own folder is what its `files` may read."""
    if param in (None, ""):
        return settings
    base = settings.sources_file.parent
    path = Path(str(param)).expanduser()
    path = (path if path.is_absolute() else base / path).resolve()
    if path.suffix not in (".yml", ".yaml"):
        raise ValueError(f"param sources: {param!r} is not a .yml or .yaml file")
    allowed = (base, *settings.local_roots)
    if not any(path.is_relative_to(root) for root in allowed):
        folders = ", ".join(str(r) for r in allowed)
        raise ValueError(f"param sources: {str(path)!r} is outside the allowed folders ({folders})")
    if not path.is_file():
        raise ValueError(f"param sources: {str(path)!r} does not exist")
    return dataclasses.replace(settings, sources_file=path)
