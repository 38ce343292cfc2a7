"""A dbt-duckdb plugin that loads the lake's extensions from their wheels.

dbt-duckdb's own `extensions:` profile key runs `INSTALL` (a download from
extensions.duckdb.org) before `LOAD` (dbt/adapters/duckdb/environments/__init__.py,
`initialize_db`). A plugin's `configure_connection` runs on the new connection before the
profile's `attach:` entries, so the `ducklake` target of dbt_project/profiles.yml names this
module under `plugins:`, and its `ATTACH 'ducklake:postgres:…'` finds both extensions loaded,
with nothing downloaded (docs/ducklake.md).
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from wirehouse.warehouse import load_lake_extensions


class Plugin(BasePlugin):
    """Loads `postgres` and `ducklake` from the wheels into every dbt connection."""

    def configure_connection(self, conn: Any) -> None:
        load_lake_extensions(conn)
