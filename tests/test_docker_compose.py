"""Static checks of the production shape: docker-compose.yaml, Dockerfile, .dockerignore.

Docker does not run where the tests run, so these tests only parse the files. PyYAML's
loader resolves the ``<<: *airflow-common`` merge keys, so every service below is seen
with the common settings it inherits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_SERVICES = [*AIRFLOW_COMMANDS, "airflow-init"]
BI_SERVICE = "metabase"
BI_DOCKERFILE = ROOT / "bi" / "metabase" / "Dockerfile"
REQUIRED_MOUNTS = {
    "/opt/airflow/dags": "./dags",
    "/opt/airflow/include": "./include",
    "/opt/airflow/dbt_project": "./dbt_project",
    "/opt/airflow/data": "wirehouse-data",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _mounts(service: dict) -> dict[str, str]:
    """Container path -> source (host path or volume name), short syntax or long."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = volume.split(":")[:2]
            mounts[target] = source
    return mounts


def _volume_specs(service: dict) -> list[dict]:
    """Every mount as the long syntax: type, source, target, read_only, subpath."""
    specs = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            specs.append(
                {
                    "type": volume.get("type", "volume"),
                    "source": volume.get("source"),
                    "target": volume["target"],
                    "read_only": bool(volume.get("read_only", False)),
                    "subpath": (volume.get("volume") or {}).get("subpath"),
                }
            )
        else:
            source, target, *mode = volume.split(":")
            specs.append(
                {
                    "type": "bind" if source.startswith((".", "/")) else "volume",
                    "source": source,
                    "target": target,
                    "read_only": "ro" in (mode[0].split(",") if mode else []),
                    "subpath": None,
                }
            )
    return specs


def _init_script(services: dict) -> str:
    """The shell script airflow-init runs (``bash -c <script>``)."""
    return _command(services["airflow-init"])


def test_required_services_exist(services: dict) -> None:
    for name in ["postgres", "redis", *AIRFLOW_SERVICES]:
        assert name in services, f"service {name} missing from docker-compose.yaml"


@pytest.mark.parametrize(("name", "command"), sorted(AIRFLOW_COMMANDS.items()))
def test_airflow_service_commands(services: dict, name: str, command: str) -> None:
    assert _command(services[name]) == command


def test_common_anchor_is_shared(compose: dict) -> None:
    assert "x-airflow-common" in compose
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "&airflow-common" in raw
    for name in AIRFLOW_SERVICES:
        block = re.search(rf"^  {re.escape(name)}:\n((?:    .*\n|\s*\n)+)", raw, re.MULTILINE)
        assert block, f"{name} not found as a top-level service block"
        assert "<<: *airflow-common" in block.group(1), f"{name} does not use the anchor"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_use_image_built_from_repo(services: dict, name: str) -> None:
    build = services[name].get("build")
    context = build.get("context") if isinstance(build, dict) else build
    assert context in (".", "./"), f"{name} is not built from the repo's Dockerfile"
    if isinstance(build, dict):
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile"


def test_backing_services_use_stock_images(services: dict) -> None:
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_executor_and_metadata_db(services: dict, name: str) -> None:
    env = _environment(services[name])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert conn.startswith("postgresql"), conn
    assert "@postgres/" in conn, "the metadata DB must be the postgres service"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_mounts(services: dict, name: str) -> None:
    mounts = _mounts(services[name])
    for target, source in REQUIRED_MOUNTS.items():
        assert mounts.get(target) == source, f"{name}: {source}:{target} not mounted"


def test_data_volume_is_declared(compose: dict) -> None:
    assert "wirehouse-data" in (compose.get("volumes") or {})


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_wirehouse_home_is_in_data_volume(services: dict, name: str) -> None:
    env = _environment(services[name])
    mounts = _mounts(services[name])
    home = env["WIREHOUSE_HOME"]
    volume_targets = [t for t, s in mounts.items() if s == "wirehouse-data"]
    assert any(home == t or home.startswith(t.rstrip("/") + "/") for t in volume_targets), home
    assert env["WIREHOUSE_SOURCES"] == "/opt/airflow/include/sources.yml"


def test_init_creates_duckdb_writer_pool(services: dict) -> None:
    script = _init_script(services)
    match = re.search(r"airflow pools set\s+duckdb_writer\s+(\d+)", script)
    assert match, "airflow-init does not create the duckdb_writer pool"
    assert match.group(1) == "1", "duckdb_writer must have exactly one slot"


def test_init_migrates_db_and_parses_dbt(services: dict) -> None:
    env = _environment(services["airflow-init"])
    assert env.get("_AIRFLOW_DB_MIGRATE") == "true"
    assert "dbt parse" in _init_script(services)


def test_dependants_wait_for_init_and_backing_services(services: dict) -> None:
    for name in AIRFLOW_COMMANDS:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", ["postgres", "redis", *AIRFLOW_COMMANDS, BI_SERVICE])
def test_long_running_services_have_healthchecks(services: dict, name: str) -> None:
    test = services[name]["healthcheck"]["test"]
    assert test and test[0] in ("CMD", "CMD-SHELL")


def test_dockerfile_extends_airflow_3_3(dockerfile: str) -> None:
    froms = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert froms, "Dockerfile has no FROM"
    assert all(f.startswith("apache/airflow:3.3") for f in froms), froms
    # The image's Python must be one the project supports (requires-python >=3.11,<3.13).
    assert re.search(r"-python3\.1[12]$", froms[-1]), froms[-1]


def test_dockerfile_installs_from_uv_lock(dockerfile: str) -> None:
    assert re.search(r"^COPY\b.*\buv\.lock\b", dockerfile, re.MULTILINE)
    assert re.search(r"^COPY\b.*\bpyproject\.toml\b", dockerfile, re.MULTILINE)
    assert re.search(r"^COPY\b.*\binclude/", dockerfile, re.MULTILINE)
    assert "uv export --frozen" in dockerfile
    assert "--no-dev" in dockerfile
    assert re.search(r"pip install\b[^\n]*-r\s+\S*requirements\.txt", dockerfile)
    # The documented guard against pip replacing the image's Airflow.
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in dockerfile
    assert re.search(r"pip install\b[^\n]*--no-deps", dockerfile)


def test_dockerfile_bakes_dbt_manifest(dockerfile: str) -> None:
    assert "dbt parse" in dockerfile
    assert "dbt_project/target/manifest.json" in dockerfile


def test_dockerignore_keeps_local_state_out() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in [".venv", "data", ".airflow", "dbt_project/target", ".git"]:
        assert entry in entries, f".dockerignore misses {entry}"


def test_bi_service_mounts_only_the_published_folder_read_only(services: dict) -> None:
    """Metabase sees published/ (the copy and the marts' Parquet) and nothing else of the
    data volume: a reader of the live warehouse would lock out the night's writer."""
    specs = _volume_specs(services[BI_SERVICE])
    data = [m for m in specs if m["source"] == "wirehouse-data"]
    assert len(data) == 1, data
    assert data[0]["type"] == "volume"
    assert data[0]["read_only"] is True
    assert data[0]["subpath"] == "published"
    # the folder, not the file: publish renames a new copy over the old one
    assert not data[0]["target"].endswith(".duckdb")
    others = {m["source"] for m in specs} - {"wirehouse-data"}
    assert not others & {"./dags", "./include", "./dbt_project", "airflow-logs"}, others
    assert not others & {"postgres-db-volume", "/var/run/docker.sock"}, others


def test_bi_service_is_no_airflow_service(services: dict) -> None:
    bi = services[BI_SERVICE]
    env = _environment(bi)
    assert not any(key.startswith(("AIRFLOW__", "WIREHOUSE_")) for key in env), env
    assert bi.get("build") != "." and bi.get("user") in (None, ""), "not the Airflow image"
    assert bi["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_init_creates_the_published_folder(services: dict) -> None:
    """A volume subpath must exist before the BI service starts, first night or not."""
    script = _init_script(services)
    assert re.search(r"mkdir [^\n]*\bdata/published\b", script), "init does not create it"


def test_bi_image_bundles_the_duckdb_driver_on_glibc(services: dict) -> None:
    build = services[BI_SERVICE]["build"]
    context = build.get("context") if isinstance(build, dict) else build
    assert (ROOT / context).resolve() == BI_DOCKERFILE.parent
    dockerfile = BI_DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert froms and not any("alpine" in f for f in froms), froms  # the driver needs glibc
    assert "duckdb.metabase-driver.jar" in dockerfile and "MB_PLUGINS_DIR" in dockerfile
    # Metabase and the driver are pinned, not "latest"
    assert re.search(r"^ARG METABASE_VERSION=\d+\.\d+\.\d+$", dockerfile, re.MULTILINE)
    assert re.search(r"^ARG DUCKDB_DRIVER_VERSION=\d+\.\d+\.\d+\.\d+$", dockerfile, re.MULTILINE)
    assert "latest" not in dockerfile.lower()


def test_bi_volume_is_declared(compose: dict) -> None:
    assert "metabase-app" in (compose.get("volumes") or {})
