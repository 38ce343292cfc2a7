"""Static checks of the production shape: docker-compose.yaml, Dockerfile, .dockerignore.

Docker does not run where the tests run, so these tests only parse the files. PyYAML's
loader resolves the ``<<: *airflow-common`` merge keys, so every service below is seen
with the common settings it inherits.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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


# --- compose, kept true: everything it names exists (issue 17) ----------------------------

# Variables read by the official image's entrypoint (docs/docker-stack/entrypoint.rst of
# apache/airflow), not by anything installed here: they cannot be checked without the image.
IMAGE_ENTRYPOINT_VARIABLES = {
    "_AIRFLOW_DB_MIGRATE",
    "_PIP_ADDITIONAL_REQUIREMENTS",
    "CONNECTION_CHECK_MAX_COUNT",
    "DUMB_INIT_SETSID",
}
# Read by the postgres image's entrypoint (https://hub.docker.com/_/postgres).
POSTGRES_IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
SITE_PACKAGES = Path(yaml.__file__).resolve().parents[1]
USAGE_METRICS_OFF = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}


def _all_variables(services: dict) -> set[str]:
    return {key for service in services.values() for key in _environment(service)}


def _header(raw: str) -> str:
    return raw[: raw.index("\n---\n")]


def test_build_contexts_hold_a_dockerfile(services: dict) -> None:
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", service["image"]), (name, service["image"])
            assert not service["image"].endswith(":latest"), f"{name}: pin the image's tag"
            continue
        context = build.get("context") if isinstance(build, dict) else build
        dockerfile = (
            build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        )
        assert (ROOT / context / dockerfile).is_file(), f"{name}: no {context}/{dockerfile}"


def test_bind_mounts_exist(services: dict, compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for spec in _volume_specs(service):
            if spec["type"] == "bind":
                assert (ROOT / spec["source"]).exists(), f"{name} mounts missing {spec['source']}"
            else:
                assert spec["source"] in declared, f"{name}: volume {spec['source']} undeclared"


def test_commands_and_settings_exist_in_airflow(services: dict) -> None:
    """Every Airflow command compose runs (services, healthchecks, airflow-init's script) parses
    with Airflow's own CLI parser, and every AIRFLOW__SECTION__KEY is an option Airflow or an
    installed provider defines (or cosmos reads), checked in one child process (the parser
    includes the celery commands only under the CeleryExecutor)."""
    commands = [f"airflow {_command(services[name])}" for name in AIRFLOW_COMMANDS]
    for service in services.values():
        test = (service.get("healthcheck") or {}).get("test") or []
        commands += [t for t in test[1:] if t.startswith("airflow ")]
    commands += re.findall(r"^\s*/entrypoint (airflow .+)$", _init_script(services), re.MULTILINE)
    commands = [c.replace('"$${HOSTNAME}"', "host") for c in commands]
    options = sorted(k for k in _all_variables(services) if k.startswith("AIRFLOW__"))
    script = """
import json, shlex, sys
from airflow.cli.cli_parser import get_parser
from airflow.configuration import conf
conf.load_providers_configuration()
parser = get_parser()
bad = []
for command in json.loads(sys.argv[1]):
    try:
        parser.parse_args(shlex.split(command)[1:])
    except SystemExit:
        bad.append(command)
for key in json.loads(sys.argv[2]):
    _, section, option = key.split("__", 2)
    known = conf.configuration_description.get(section.lower(), {}).get("options", {})
    if section.lower() != "cosmos" and option.lower() not in known:
        bad.append(key)
print(json.dumps(bad))
"""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")},
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    }
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(commands), json.dumps(options)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [], "unknown to Airflow"
    # cosmos' options are read by cosmos itself, not declared to Airflow's config
    cosmos_settings = (SITE_PACKAGES / "cosmos" / "settings.py").read_text(encoding="utf-8")
    for key in options:
        if key.startswith("AIRFLOW__COSMOS__"):
            option = key.split("__", 2)[2].lower()
            assert f'"cosmos", "{option}"' in cosmos_settings, key


def test_other_commands_exist(services: dict) -> None:
    """The non-Airflow commands: dbt parse in airflow-init, and the worker healthcheck's Celery
    app (the provider's module and attribute)."""
    assert "dbt parse" in _init_script(services)
    assert (Path(sys.executable).parent / "dbt").exists()
    ping = services["airflow-worker"]["healthcheck"]["test"][1]
    apps = re.findall(r"celery --app (\S+)\.app\b", ping)
    assert apps, ping
    for module in apps:
        path = SITE_PACKAGES / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{module} is not installed"
        # a module attribute, or served by the module's __getattr__ (the provider's way)
        source = path.read_text(encoding="utf-8")
        assert re.search(r'^app\b|name == "app"', source, re.MULTILINE), module


def test_other_variables_are_read_somewhere(services: dict) -> None:
    """Each non-Airflow variable is read by the project, dbt, cosmos or a named image."""
    project = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("include/wirehouse", "dags")
        for p in (ROOT / folder).rglob("*.py")
    )
    readers = {
        "DBT_": (SITE_PACKAGES / "dbt" / "cli" / "params.py").read_text(encoding="utf-8"),
        "": (SITE_PACKAGES / "cosmos" / "settings.py").read_text(encoding="utf-8"),
    }
    for key in sorted(_all_variables(services)):
        if (
            key.startswith("AIRFLOW__")
            or key in IMAGE_ENTRYPOINT_VARIABLES | POSTGRES_IMAGE_VARIABLES
        ):
            continue
        if key.startswith("WIREHOUSE_"):
            assert key in project, f"{key} is read by nothing"
            continue
        source = readers["DBT_"] if key.startswith("DBT_") else readers[""]
        assert f'"{key}"' in source, f"{key} is read by nothing installed"


def test_every_interpolated_variable_is_documented() -> None:
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    body = raw[raw.index("\n---\n") :]
    header = _header(raw)
    for name in sorted(set(re.findall(r"(?<!\$)\$\{(\w+)", body))):  # $${x}: the shell's
        assert re.search(rf"^#\s+{name}\s", header, re.MULTILINE), f"${{{name}}} undocumented"


def test_secrets_have_no_public_default(services: dict) -> None:
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    for key, variable in [
        ("AIRFLOW__CORE__FERNET_KEY", "FERNET_KEY"),
        ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API_AUTH__JWT_SECRET"),
    ]:
        assert re.search(rf"^\s+{key}: \$\{{{variable}:\?[^}}]+\}}$", raw, re.MULTILINE), key
    assert "wirehouse_jwt_secret" not in raw


def test_published_ports_are_on_loopback_unless_asked(services: dict) -> None:
    published = [(n, p) for n, s in services.items() for p in s.get("ports", [])]
    assert published
    for name, port in published:
        assert str(port).startswith("${WIREHOUSE_BIND_ADDRESS:-127.0.0.1}:"), (name, port)


def test_header_says_which_auth_manager_beyond_one_machine() -> None:
    header = _header(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert "Beyond one machine" in header
    assert "apache-airflow-providers-fab" in header and "AIRFLOW__CORE__AUTH_MANAGER" in header


def test_two_workers_share_the_warehouse_volume(services: dict) -> None:
    worker = services["airflow-worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert _mounts(worker)["/opt/airflow/data"] == "wirehouse-data"


def test_ducklake_variant_uses_the_compose_postgres(services: dict) -> None:
    env = _environment(services["airflow-worker"])
    assert env["WIREHOUSE_WAREHOUSE"] == "${WIREHOUSE_WAREHOUSE:-}"
    catalog = re.fullmatch(
        r"\$\{WIREHOUSE_DUCKLAKE_CATALOG:-(.+)\}", env["WIREHOUSE_DUCKLAKE_CATALOG"]
    )
    assert catalog, env["WIREHOUSE_DUCKLAKE_CATALOG"]
    fields = dict(item.split("=", 1) for item in catalog.group(1).split())
    postgres = _environment(services["postgres"])
    assert fields["host"] == "postgres" and fields["user"] == postgres["POSTGRES_USER"]
    assert fields["password"] == postgres["POSTGRES_PASSWORD"]
    # the postgres image runs postgres-init/ once: it creates the catalog's database
    init = _mounts(services["postgres"])
    assert init["/docker-entrypoint-initdb.d"] == "./postgres-init"
    sql = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "postgres-init").glob("*.sql"))
    assert re.search(rf"CREATE DATABASE {fields['dbname']}\b", sql)
    data = re.fullmatch(r"\$\{WIREHOUSE_DUCKLAKE_DATA:-(.+)\}", env["WIREHOUSE_DUCKLAKE_DATA"])
    assert data and data.group(1).startswith("/opt/airflow/data/"), "not in the shared volume"


def test_usage_metrics_are_off_in_make_compose_and_the_image(
    services: dict, dockerfile: str
) -> None:
    """cosmos sends telemetry unless one of its three switches says no (cosmos/settings.py,
    cosmos/telemetry.py); dbt sends usage stats unless told not to. All four are set in the
    Makefile, in every Airflow service of the compose file and in the image. Airflow 3.3 itself
    collects nothing: its [usage_data_collection] section of 2.10 is gone."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for key, value in USAGE_METRICS_OFF.items():
        assert re.search(rf"^export {key} := {value}$", makefile, re.MULTILINE | re.IGNORECASE), key
        assert re.search(rf"\b{key}={value}\b", dockerfile, re.IGNORECASE), key
        for name in AIRFLOW_SERVICES:
            assert _environment(services[name])[key].lower() == value, (name, key)
    cosmos = (SITE_PACKAGES / "cosmos" / "settings.py").read_text(encoding="utf-8")
    assert '"cosmos", "enable_telemetry"' in cosmos
    assert '"DO_NOT_TRACK"' in cosmos and '"SCARF_NO_ANALYTICS"' in cosmos
    airflow_config = (SITE_PACKAGES / "airflow" / "config_templates" / "config.yml").read_text(
        encoding="utf-8"
    )
    assert "usage_data_collection" not in airflow_config
