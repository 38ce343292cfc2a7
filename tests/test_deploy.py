"""The production topology, run for real: docker-compose.yaml's services, natively.

`make test-deploy` (marker `deploy`, deselected from plain `pytest`). There is no Docker engine
where the tests run, so this test starts what the compose file starts, as processes on this
machine: PostgreSQL and Redis from Debian's packages (tests/services.py, loopback only), the
metadata DB migrated and the `duckdb_writer` pool created by airflow-init's own commands, then
the api-server, scheduler, dag-processor, triggerer and two Celery workers (the worker's
`deploy.replicas`), each with the compose file's environment and command. Only what cannot be
the same outside containers is rewritten (`native_environment`): service host names become
127.0.0.1 and a free port, /opt/airflow paths become the repository's folders (bind mounts)
or temporary folders (named volumes), and each process on the one host gets its own log and
health ports. The rewrite then asserts that no compose host name or container path is left,
so a new setting in the compose file either runs here or fails here.

Test-only settings, on top of the compose file's (`TEST_SETTINGS`): the scheduler makes no
scheduled runs (only the two triggered nights run), a task whose worker died is failed
after 40 s without a heartbeat instead of Airflow's 300 s, and a task still queued after
120 s is queued again instead of after Airflow's 600 s: a task the killed worker had taken
from Redis but not started stays unacknowledged there (Celery's late acks, Redis' 24 h
visibility timeout), and only this timeout gives it back. With the compose file's 600 s, a
killed night took 793 s here against 258 s when no such task was caught.

The nights are tests/fixture_nights.py's (saved pages, a JSON Lines dump and a web source on
a local HTTP server; nothing from the internet). Both are triggered through the REST API
(SimpleAuthManager's /auth/token, then /api/v2). In night 2 a worker running a `collect` task is
killed (SIGKILL to its whole process tree, as when a machine dies); the scheduler fails the
task after the heartbeat timeout and its retry runs on the other worker (after the DAG's
`retry_delay`). The marts must then
hold exactly the articles a clean run of the same nights holds (fixture_nights run without
Airflow into another home), each once, and the writer-pool tasks must never have overlapped.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest
import yaml
from fixture_nights import (
    NIGHT_1,
    NIGHT_2,
    run_night_in_child,
    stage_files,
    web_source,
    write_sources,
)
from pytest_httpserver import HTTPServer
from services import free_port, postgres_server, redis_server

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DAG_ID = "news_daily"
WRITER_POOL = "duckdb_writer"
pytestmark = pytest.mark.deploy

# The long-running services, in the order they are started (compose starts the workers after
# the api-server is healthy, as its depends_on says).
SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
# Test-only settings on top of the compose file's (the module docstring says why).
HEARTBEAT_TIMEOUT_S = 40  # a killed worker's task is failed after this; Airflow's default: 300
QUEUED_TIMEOUT_S = 120  # a task the killed worker had claimed is queued again; default: 600
TEST_SETTINGS = {
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(QUEUED_TIMEOUT_S),
}
# The task killed with its worker: a source's collection (fetch, extract, write its files),
# mapped over seven sources that each run ~10 s on a busy 2-core machine, so one is caught
# running. Its retry runs on the other worker and must neither lose nor repeat a page.
KILLED_TASK = "collect"
# Generous for a busy, shared 2-core machine (load ~4): night 1 took 136 s there, the killed
# night 297 s (README, "The deployment test"), the start ~40 s.
START_TIMEOUT_S = 300.0
NIGHT_TIMEOUT_S = 1500.0
POLL_S = 2.0  # how often the REST API is asked (not a measured wait)
KILL_POLL_S = 0.3  # how often, while waiting for the task to kill to start


# --- the compose file, read as docker compose reads it -----------------------------------


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's variable substitution: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error} and $$ (a literal $, left for the container's shell)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        value = variables.get(name)
        if (op in (":-", ":?") and not value) or (op in ("-", "?") and value is None):
            if op.endswith("?"):
                raise KeyError(f"compose needs ${{{name}}}: {arg}")
            return arg
        return value or ""

    return re.sub(
        r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:-|:\?|-|\?)(?P<arg>[^}]*))?\}", one, str(value)
    )


def compose_file() -> dict[str, Any]:
    """The compose file, with YAML's merge keys (<<: *airflow-common) resolved by PyYAML."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def compose_services() -> dict[str, Any]:
    return compose_file()["services"]


def service_environment(service: dict[str, Any], variables: dict[str, str]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(str(value), variables) for key, value in env.items()}


def service_argv(service: dict[str, Any]) -> list[str]:
    """The image's entrypoint runs `airflow <command>`: compose's `command: scheduler`."""
    command = service["command"]
    return ["airflow", *(command if isinstance(command, list) else shlex.split(command))]


def init_commands(services: dict[str, Any]) -> list[list[str]]:
    """airflow-init's Airflow commands (`/entrypoint airflow ...` lines of its script), after
    the `airflow db migrate` its `_AIRFLOW_DB_MIGRATE: 'true'` asks the entrypoint for."""
    init = services["airflow-init"]
    script = init["command"][-1]
    commands = []
    if init["environment"].get("_AIRFLOW_DB_MIGRATE") == "true":
        commands.append(["airflow", "db", "migrate"])
    for line in script.splitlines():
        line = line.strip()
        if line.startswith("/entrypoint airflow "):
            commands.append(shlex.split(line)[1:])
    return commands


@dataclass
class Ports:
    postgres: int
    redis: int
    api: int = field(default_factory=free_port)


def native_environment(
    env: dict[str, str], ports: Ports, mounts: dict[str, Path]
) -> dict[str, str]:
    """`env` with compose's service host names and container paths made native (only those)."""
    hosts = [
        (r"@postgres(:5432)?/", f"@127.0.0.1:{ports.postgres}/"),
        (r"@redis(:6379)?/", f"@127.0.0.1:{ports.redis}/"),
        (r"\bhost=postgres\b", f"host=127.0.0.1 port={ports.postgres}"),
        (r"//airflow-apiserver:8080/", f"//127.0.0.1:{ports.api}/"),
    ]
    native = {}
    for key, value in env.items():
        for pattern, replacement in hosts:
            value = re.sub(pattern, replacement, value)
        for target in sorted(mounts, key=len, reverse=True):
            if value == target or value.startswith(target + "/"):
                value = str(mounts[target]) + value[len(target) :]
                break
        assert not re.search(
            r"(@|//|host=)(postgres|redis|airflow-apiserver)\b|/opt/airflow", value
        ), f"{key}={value}: docker-compose.yaml names a host or path this test cannot map"
        native[key] = value
    return native


def mount_map(service: dict[str, Any], volumes_dir: Path) -> dict[str, Path]:
    """Container path -> native path: bind mounts are the repository's folders, named volumes
    one temporary folder each (shared by every service, as a named volume is)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts[target] = (ROOT / source).resolve()
        else:
            mounts[target] = volumes_dir / source
            mounts[target].mkdir(parents=True, exist_ok=True)
    return mounts


# --- the running topology -----------------------------------------------------------------


@dataclass
class Topology:
    """The running processes, their logs, and a REST API client."""

    env: dict[str, str]
    airflow_home: Path
    home: Path
    logs: Path
    api: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    token: str = ""

    def start(self, name: str, argv: list[str], extra: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [str(BIN / argv[0]), *argv[1:]],
            env={**self.env, **(extra or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.airflow_home,
            start_new_session=True,  # a process group per service: killed whole
        )

    def alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None and not name.endswith("(killed)"):
                raise AssertionError(f"{name} exited with {proc.returncode}")

    def request(self, method: str, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.api + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:2000]!r}") from exc

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.request(
                "GET",
                f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100&offset={len(out)}",
            )
            out += page["task_instances"]
            if not page["task_instances"] or len(out) >= page["total_entries"]:
                return out

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for proc in psutil.process_iter():  # task processes left behind by a killed worker
            try:
                if proc.environ().get("AIRFLOW_HOME") == str(self.airflow_home):
                    proc.kill()
            except (psutil.Error, OSError):
                continue

    def diagnostics(self) -> str:
        """The tail of every service log and of every failed task's log, for a failure."""
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-40:]
            parts.append(f"===== {log.name} (last 40 lines)\n" + "\n".join(tail))
        task_logs = sorted((self.airflow_home / "logs").rglob("*.log"), key=os.path.getmtime)
        for log in task_logs[-6:]:
            text = log.read_text(errors="replace")
            if "error" in text.lower():
                tail = text.splitlines()[-30:]
                parts.append(f"===== task log {log} (last 30 lines)\n" + "\n".join(tail))
        return "\n".join(parts)


def wait_until(
    what: str, check: Any, topology: Topology, timeout: float, poll: float = POLL_S
) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        topology.alive()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def healthcheck_url(service: dict[str, Any], port: int) -> str:
    """The URL of a `curl --fail http://localhost:N/...` healthcheck, on the native port."""
    test = service["healthcheck"]["test"]
    url = next(arg for arg in test if arg.startswith("http://localhost:"))
    return re.sub(r"^http://localhost:\d+", f"http://127.0.0.1:{port}", url)


@pytest.fixture(scope="module")
def web() -> Iterator[HTTPServer]:
    """fixture_nights' web source: a page, a 404 and a URL robots.txt refuses."""
    with web_source() as srv:
        yield srv


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, web: HTTPServer) -> Iterator[dict]:
    """The same two nights run cleanly without Airflow (fixture_nights), in the background
    while the topology starts: the articles the deployment must end up with."""
    home = tmp_path_factory.mktemp("reference_home")
    write_sources(home, web.url_for("/"))
    result: dict[str, Any] = {"home": home}

    def run() -> None:
        for night in (NIGHT_1, NIGHT_2):
            child = run_night_in_child(home, night)
            out, _ = child.communicate(timeout=NIGHT_TIMEOUT_S)
            result.setdefault("log", []).append(f"{night}: exit {child.returncode}\n{out[-4000:]}")
            result["ok"] = result.get("ok", True) and child.returncode == 0
        result["done"] = True

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield result
    thread.join(timeout=NIGHT_TIMEOUT_S)


@pytest.fixture(scope="module")
def topology(
    tmp_path_factory: pytest.TempPathFactory, web: HTTPServer, dbt_manifest: Path
) -> Iterator[Topology]:
    services = compose_services()
    pg_env = services["postgres"]["environment"]
    base = tmp_path_factory.mktemp("deploy")
    with (
        postgres_server(user=pg_env["POSTGRES_USER"]) as pg,
        redis_server() as redis,
    ):
        pg.create_database(pg_env["POSTGRES_DB"])
        ports = Ports(postgres=pg.port, redis=redis.port)
        common = compose_file()["x-airflow-common"]  # every Airflow service's settings
        mounts = mount_map(common, base / "volumes")
        airflow_home = base / "airflow"  # the image's AIRFLOW_HOME, /opt/airflow
        airflow_home.mkdir()
        variables = {  # compose refuses to start without them (no public defaults)
            "FERNET_KEY": urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        }
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "WIREHOUSE_", "DBT_"))
        }
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        env |= {
            # the image's own settings: AIRFLOW_HOME=/opt/airflow, dags under it (mounted)
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(mounts["/opt/airflow/dags"]),
            # loopback only, on free ports (in compose: container ports)
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(ports.api),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        }
        env |= native_environment(service_environment(common, variables), ports, mounts)
        home = Path(env["WIREHOUSE_HOME"])
        # the nights' sources (the one path that is not the compose file's), and the test's
        # own settings: on top of every service's environment
        own = {"WIREHOUSE_SOURCES": str(write_sources(home, web.url_for("/"))), **TEST_SETTINGS}
        env |= own
        logs = base / "service-logs"
        logs.mkdir()
        topology = Topology(
            env=env,
            airflow_home=airflow_home,
            home=home,
            logs=logs,
            api=f"http://127.0.0.1:{ports.api}",
        )
        try:
            for argv in init_commands(services):
                out = subprocess.run(
                    [str(BIN / argv[0]), *argv[1:]],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=START_TIMEOUT_S,
                )
                assert out.returncode == 0, f"airflow-init: {argv}\n{out.stdout}{out.stderr}"
            for name in SERVICES:
                service = services[name]
                replicas = service.get("deploy", {}).get("replicas", 1)
                for i in range(1, replicas + 1):
                    extra = native_environment(
                        service_environment(service, variables), ports, mounts
                    )
                    argv = service_argv(service)
                    if name == "airflow-worker":  # one host: a name and a log port each
                        argv += ["--celery-hostname", f"worker{i}@%h"]
                        extra["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
                    label = name if replicas == 1 else f"{name}-{i}"
                    topology.start(label, argv, {**extra, **own})
                if name == "airflow-apiserver":
                    url = healthcheck_url(service, ports.api)
                    wait_until("the api-server's health", lambda u=url: http_ok(u), topology, 300)
            yield topology
        except BaseException:
            print(topology.diagnostics())
            raise
        finally:
            topology.stop()


def services_healthy(topology: Topology, services: dict[str, Any]) -> None:
    """Compose's healthchecks, natively: the scheduler's HTTP check, the dag-processor's and
    triggerer's `airflow jobs check`, and each worker's 'ready' in its log."""
    port = int(topology.env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"])
    url = healthcheck_url(services["airflow-scheduler"], port)
    wait_until("the scheduler's health check", lambda: http_ok(url), topology, START_TIMEOUT_S)
    for name in ("airflow-dag-processor", "airflow-triggerer"):
        command = services[name]["healthcheck"]["test"][1]
        command = interpolate(command, {}).replace("${HOSTNAME}", socket.gethostname())

        def check(command: str = command) -> bool:
            argv = shlex.split(command)
            out = subprocess.run(
                [str(BIN / argv[0]), *argv[1:]], env=topology.env, capture_output=True
            )
            return out.returncode == 0

        wait_until(f"{name}'s health check", check, topology, START_TIMEOUT_S)
    for log in topology.logs.glob("airflow-worker-*.log"):
        wait_until(
            f"{log.stem} ready",
            lambda log=log: b" ready." in log.read_bytes(),
            topology,
            START_TIMEOUT_S,
        )


def log_in(topology: Topology) -> None:
    """SimpleAuthManager's token for compose's admin user (its password file is generated by
    the api-server under AIRFLOW_HOME)."""
    passwords = topology.airflow_home / "simple_auth_manager_passwords.json.generated"
    wait_until("the generated password file", passwords.exists, topology, 60)
    user, password = next(iter(json.loads(passwords.read_text()).items()))
    topology.token = topology.request(
        "POST", "/auth/token", {"username": user, "password": password}
    )["access_token"]


def trigger(topology: Topology, night: str) -> str:
    run = topology.request(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {"dag_run_id": f"deploy__{night}", "logical_date": f"{night}T00:00:00Z"},
    )
    return run["dag_run_id"]


def run_state(topology: Topology, run_id: str) -> str:
    return topology.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")["state"]


def wait_for_night(topology: Topology, run_id: str) -> float:
    """Wait for the run to finish; it must succeed. Returns its duration in seconds."""
    state = wait_until(
        f"{run_id} to finish",
        lambda: (state := run_state(topology, run_id)) in ("success", "failed") and state,
        topology,
        NIGHT_TIMEOUT_S,
    )
    tis = topology.task_instances(run_id)
    bad = [(t["task_id"], t["map_index"], t["state"]) for t in tis if t["state"] != "success"]
    assert state == "success", f"{run_id} ended {state}; not successful: {bad}"
    run = topology.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
    started = datetime.fromisoformat(run["start_date"])
    return (datetime.fromisoformat(run["end_date"]) - started).total_seconds()


def worker_of(topology: Topology, pid: int) -> str | None:
    """The worker whose process tree holds `pid` (a task runs in a process group of its own,
    a child of the worker's pool process: its ancestors say which worker it is)."""
    workers = {
        proc.pid: name
        for name, proc in topology.processes.items()
        if name.startswith("airflow-worker") and proc.poll() is None
    }
    try:
        ancestors = psutil.Process(pid).parents()
    except psutil.Error:
        return None
    return next((workers[p.pid] for p in ancestors if p.pid in workers), None)


def kill_worker_running(topology: Topology, run_id: str, task_id: str) -> tuple[str, int, int]:
    """Once `task_id` runs, SIGKILL its worker's whole process tree (a lost machine: no
    warm shutdown, no task process left). Returns the worker's name and the killed task
    instance's map index and try number."""

    def running() -> tuple[str, int, int] | None:
        for ti in topology.task_instances(run_id):
            if ti["task_id"] == task_id and ti["state"] == "running" and ti["pid"]:
                worker = worker_of(topology, ti["pid"])
                if worker:
                    return worker, ti["map_index"], ti["try_number"]
        return None

    worker, map_index, try_number = wait_until(
        f"{task_id} running", running, topology, NIGHT_TIMEOUT_S, KILL_POLL_S
    )
    proc = topology.processes[worker]
    tree = [proc.pid, *(p.pid for p in psutil.Process(proc.pid).children(recursive=True))]
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    proc.wait()
    topology.processes[f"{worker} (killed)"] = topology.processes.pop(worker)
    return worker, map_index, try_number


def writer_overlaps(tis: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of writer-pool task instances whose start..end intervals overlap."""
    spans = sorted(
        (datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"]), t)
        for t in tis
        if t["pool"] == WRITER_POOL and t["state"] == "success"
    )
    return [
        (f"{a[2]['run_id']}:{a[2]['task_id']}", f"{b[2]['run_id']}:{b[2]['task_id']}")
        for a, b in itertools.pairwise(spans)
        if b[0] < a[1]
    ]


def articles(warehouse: Path) -> list[tuple[str, Any]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select article_id, last_run_date from marts.fct_articles order by all"
        ).fetchall()
    finally:
        con.close()


def test_two_nights_on_celery_survive_a_killed_worker(
    topology: Topology, reference: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    services = compose_services()
    try:
        services_healthy(topology, services)
        log_in(topology)
        wait_until(
            "the DAG parsed by the dag-processor",
            lambda: _dag_known(topology),
            topology,
            START_TIMEOUT_S,
        )
        topology.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})

        stage_files(topology.home, NIGHT_1)
        run_1 = trigger(topology, NIGHT_1)
        night_1_s = wait_for_night(topology, run_1)

        stage_files(topology.home, NIGHT_2)
        run_2 = trigger(topology, NIGHT_2)
        killed, killed_index, killed_try = kill_worker_running(topology, run_2, KILLED_TASK)
        night_2_s = wait_for_night(topology, run_2)

        retried = [
            t
            for t in topology.task_instances(run_2)
            if t["task_id"] == KILLED_TASK and t["map_index"] == killed_index
        ]
        assert retried[0]["try_number"] > killed_try, retried  # a retry finished the task

        tis = topology.task_instances(run_1) + topology.task_instances(run_2)
        writers = [t for t in tis if t["pool"] == WRITER_POOL]
        assert len(writers) >= 2 * 6, [t["task_id"] for t in writers]
        assert not writer_overlaps(tis), writer_overlaps(tis)
    except BaseException:
        print(topology.diagnostics())
        raise

    # the marts: both nights, exactly the clean run's articles, each once
    got = articles(topology.home / "wirehouse.duckdb")
    ids = [article_id for article_id, _ in got]
    assert len(ids) == len(set(ids)), "an article is in fct_articles twice"
    assert {str(night) for _, night in got} == {NIGHT_1, NIGHT_2}
    wait_until("the clean reference nights", lambda: reference.get("done"), topology, 900)
    assert reference["ok"], f"the clean reference run failed: {reference['log']}"
    expected = articles(reference["home"] / "wirehouse.duckdb")
    assert got == expected, (len(got), len(expected), reference.get("log"))

    with capsys.disabled():
        print(
            f"\n[deploy] night 1 {night_1_s:.0f} s, night 2 (worker {killed} killed in "
            f"{KILLED_TASK}[{killed_index}]) {night_2_s:.0f} s, test body {time.monotonic() - started:.0f} s, "
            f"{len(got)} articles"
        )


def _dag_known(topology: Topology) -> bool:
    try:
        topology.request("GET", f"/api/v2/dags/{DAG_ID}")
    except AssertionError:
        return False
    return True
