"""Shared test set-up: a private Airflow home, and the dbt manifest cosmos renders from."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from wirehouse.sources import Source

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DBT_PROJECT = ROOT / "dbt_project"

# Airflow reads its home at import time: point it somewhere private before any test imports it.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="wirehouse-airflow-"))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("WIREHOUSE_HOME", tempfile.mkdtemp(prefix="wirehouse-data-"))
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """cosmos renders the dbt task group from target/manifest.json; `make` builds it, and this
    builds it too when pytest runs on its own and the manifest is missing or older than a
    model (a stale one would order the DAG's dbt tasks by yesterday's project)."""
    manifest = DBT_PROJECT / "target" / "manifest.json"
    sources = [
        p
        for folder in ("models", "macros")
        for p in (DBT_PROJECT / folder).rglob("*")
        if p.is_file()
    ] + [DBT_PROJECT / "dbt_project.yml"]
    newest = max(p.stat().st_mtime for p in sources)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        subprocess.run(
            [
                str(BIN / "dbt"),
                "parse",
                "--project-dir",
                str(DBT_PROJECT),
                "--profiles-dir",
                str(DBT_PROJECT),
                "--quiet",
            ],
            check=True,
        )
    return manifest


def rss(items: list[str]) -> str:
    """An RSS 2.0 feed of the given article links, dated the day before the e2e nights."""
    entries = "".join(
        f"<item><title>t</title><link>{u}</link><pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate></item>"
        for u in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{entries}</channel></rss>'


def lantern_source(httpserver: Any, urls: list[str], **kw: Any) -> Source:
    """A `urls` source on the test's local server (private hosts allowed, no delay)."""
    return Source(
        id="lantern",
        name="The Lantern",
        home_url=httpserver.url_for("/"),
        urls=tuple(urls),
        allow_private_hosts=True,
        delay_seconds=0,
        **kw,
    )
