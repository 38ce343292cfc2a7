"""Runtime settings, read from the environment.

Everything that differs between a laptop, CI and the production compose stack is an
environment variable, so the DAG file and the package stay identical everywhere.
Paths are made absolute here because dbt (through cosmos) runs from a temporary copy
of the project, where a relative path would point somewhere else.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from wirehouse import __version__

# the warehouse backends (wirehouse.warehouse opens them; WIREHOUSE_WAREHOUSE picks one)
FILE = "file"
DUCKLAKE = "ducklake"
BACKENDS = (FILE, DUCKLAKE)


@dataclass(frozen=True)
class Lake:
    """A DuckLake: its catalog database (a libpq string for PostgreSQL) and its data path."""

    catalog: str
    data: str

    def attach_path(self) -> str:
        """The ATTACH path: ``ducklake:postgres:<libpq string>``."""
        return f"ducklake:postgres:{self.catalog}"


PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR.parent
PROJECT_DIR = INCLUDE_DIR.parent
DEFAULT_SOURCES = INCLUDE_DIR / "sources.yml"
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"


def dbt_project_dir() -> Path:
    """The dbt project: `WIREHOUSE_DBT_PROJECT_DIR` (the image puts it elsewhere), else the
    checkout's."""
    return Path(os.environ.get("WIREHOUSE_DBT_PROJECT_DIR") or DBT_PROJECT_DIR)


def dbt_executable() -> list[str]:
    """How to start dbt from this interpreter's environment: its `dbt` script, or the module
    when the environment has no script (an install without console scripts)."""
    script = Path(sys.executable).with_name("dbt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dbt.cli.main"]


DBT_TARGET_DIR = "dbt_target"  # under dbt_paths' output folder
DBT_LOG_DIR = "dbt_logs"


def dbt_paths(project: Path, output: Path) -> list[str]:
    """dbt's flags for `project` (its profiles.yml beside it) with target and logs under
    `output`, so a build or docs run never touches the project's own `target/` (cosmos reads
    its manifest there)."""
    return [
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(output / DBT_TARGET_DIR),
        "--log-path", str(output / DBT_LOG_DIR),
    ]  # fmt: skip


def project_url() -> str | None:
    """The project's home page, from ``[project.urls]`` in pyproject.toml (the one place it
    is written), as the installed package's metadata carries it; None when the package is
    not installed (the code run from a bare checkout)."""
    try:
        entries = metadata.metadata("wirehouse").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    urls = dict(entry.split(", ", 1) for entry in entries if ", " in entry)
    return urls.get("Homepage")


def default_user_agent() -> str:
    """``Wirehouse/<version> (+<project URL>)``: the product token robots.txt groups name
    (``User-agent: Wirehouse``) and where a site owner reads what the crawler is."""
    url = project_url()
    return f"Wirehouse/{__version__} (+{url})" if url else f"Wirehouse/{__version__}"


DEFAULT_USER_AGENT = default_user_agent()


@dataclass(frozen=True)
class Settings:
    """Where the warehouse lives and how the collector identifies itself."""

    home: Path
    sources_file: Path
    user_agent: str = DEFAULT_USER_AGENT
    # folders besides the sources file's own that `files` and `url_lists` may read from
    local_roots: tuple[Path, ...] = ()
    # a JSON file of story-stage setting overrides (wirehouse.stories.StoryConfig); None:
    # the shipped settings. The story benchmark runs held-out sets with settings fitted
    # on the other sets through it.
    story_config: Path | None = None
    # `file` (one DuckDB file under home) or `ducklake` (catalog in PostgreSQL, data as
    # Parquet under ducklake_data; docs/ducklake.md)
    warehouse_backend: str = FILE
    ducklake_catalog: str = ""  # a libpq string: "host=… port=… dbname=… user=…"
    ducklake_data: str = ""  # a folder or bucket URL for the lake's Parquet files

    @property
    def warehouse(self) -> Path:
        """The single DuckDB file of file mode; only the loader and dbt write it."""
        return self.home / "wirehouse.duckdb"

    @property
    def lake(self) -> bool:
        """Whether the warehouse is a DuckLake."""
        return self.warehouse_backend == DUCKLAKE

    @property
    def warehouse_target(self) -> Path | Lake:
        """What the writers and readers connect to (`wirehouse.warehouse.connect`): the file,
        or the lake."""
        if self.lake:
            return Lake(catalog=self.ducklake_catalog, data=self.ducklake_data)
        return self.warehouse

    @property
    def landing_dir(self) -> Path:
        """Parquet partitions, one folder per table and run date."""
        return self.home / "landing"

    @property
    def collector_dir(self) -> Path:
        """The collector's own record, one folder per run date: what each source's discovery
        found (with feed validators) and what each fetch did. `land` consolidates it into the
        landing zone; later nights read it to skip URLs already fetched."""
        return self.home / "collector"

    @property
    def raw_dir(self) -> Path:
        """Every fetched body, compressed and content-addressed (see `wirehouse.raw`)."""
        return self.home / "raw"

    @property
    def published_dir(self) -> Path:
        """Read-only copies for analysts and BI, so readers never lock the nightly writer."""
        return self.home / "published"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from `WIREHOUSE_HOME`, `WIREHOUSE_SOURCES`, `WIREHOUSE_USER_AGENT`,
    `WIREHOUSE_LOCAL_ROOTS`, `WIREHOUSE_STORY_CONFIG` and the warehouse's
    `WIREHOUSE_WAREHOUSE`, `WIREHOUSE_DUCKLAKE_CATALOG`, `WIREHOUSE_DUCKLAKE_DATA`."""
    env = os.environ if environ is None else environ
    home = Path(env.get("WIREHOUSE_HOME") or "data").expanduser().resolve()
    sources = Path(env.get("WIREHOUSE_SOURCES") or DEFAULT_SOURCES).expanduser().resolve()
    user_agent = env.get("WIREHOUSE_USER_AGENT") or DEFAULT_USER_AGENT
    return Settings(
        home=home,
        sources_file=sources,
        user_agent=user_agent,
        local_roots=local_roots(env.get("WIREHOUSE_LOCAL_ROOTS", "")),
        story_config=(
            Path(env["WIREHOUSE_STORY_CONFIG"]).expanduser().resolve()
            if env.get("WIREHOUSE_STORY_CONFIG")
            else None
        ),
        **warehouse_settings(env),
    )


def warehouse_settings(env: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The warehouse backend's settings from the environment; a lake without its catalog or
    data path is an error naming the variable (at the first task, not in the middle of a
    night)."""
    backend = (env.get("WIREHOUSE_WAREHOUSE") or FILE).strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"WIREHOUSE_WAREHOUSE must be one of {BACKENDS}, got {backend!r}")
    catalog = (env.get("WIREHOUSE_DUCKLAKE_CATALOG") or "").strip()
    data = (env.get("WIREHOUSE_DUCKLAKE_DATA") or "").strip()
    if backend == DUCKLAKE:
        for name, value in (
            ("WIREHOUSE_DUCKLAKE_CATALOG", catalog),
            ("WIREHOUSE_DUCKLAKE_DATA", data),
        ):
            if not value:
                raise ValueError(f"WIREHOUSE_WAREHOUSE=ducklake needs {name}")
        # dbt reads the variable as written (profiles.yml), and the lake records the path it
        # was created with: a relative folder would mean another place in dbt's working copy
        if "://" not in data and not Path(data).is_absolute():
            raise ValueError(f"WIREHOUSE_DUCKLAKE_DATA must be an absolute path, got {data!r}")
    return {"warehouse_backend": backend, "ducklake_catalog": catalog, "ducklake_data": data}


def local_roots(value: str) -> tuple[Path, ...]:
    """`WIREHOUSE_LOCAL_ROOTS`: extra folders, separated like PATH (``:`` on Linux), that a
    sources file's local `files` and `url_lists` may read besides its own folder. Empty by
    default, so a sources file can only read what sits beside it."""
    return tuple(Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip())


def _positive(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container's or a cgroup
    cpuset's share), not every core the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def worker_processes() -> int:
    """CPU worker processes for a heavy stage that runs alone on its worker (entities,
    the story stage): `WIREHOUSE_EXTRACT_PROCESSES`, default every usable core."""
    return _positive(os.environ.get("WIREHOUSE_EXTRACT_PROCESSES")) or usable_cores()


def task_slots() -> int:
    """How many tasks one worker machine runs at once: `WIREHOUSE_TASK_SLOTS`, else the
    Celery worker's own `AIRFLOW__CELERY__WORKER_CONCURRENCY` when the environment sets it,
    else 1 (`airflow dags test` and `make run` run one task at a time)."""
    return (
        _positive(os.environ.get("WIREHOUSE_TASK_SLOTS"))
        or _positive(os.environ.get("AIRFLOW__CELERY__WORKER_CONCURRENCY"))
        or 1
    )


def shared_worker_processes() -> int:
    """Worker processes for a stage that runs many tasks at once on one machine (collect,
    mapped over the sources): its share of `worker_processes()` over the worker's task
    slots, at least 1 (extraction then runs in the task's own process). A Celery worker
    running 16 collect tasks on 8 cores starts no pools, instead of 16 pools of 8."""
    return max(1, worker_processes() // task_slots())
