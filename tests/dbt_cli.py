"""dbt for the tests: the real dbt CLI of this environment in its own process, on the
project, against the warehouse in a given home, with its target and logs in that home (so
parallel tests and the project's own target/manifest.json never meet)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from wirehouse.config import dbt_executable, dbt_paths

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def run_dbt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` with WIREHOUSE_HOME=home; the caller checks the return code."""
    env = {**os.environ, "WIREHOUSE_HOME": str(home)}
    cmd = [*dbt_executable(), *args, *dbt_paths(DBT_PROJECT, home)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
