"""Throwaway PostgreSQL and Redis servers for tests, from Debian's packages, on loopback only.

The production topology (docker-compose.yaml) keeps Airflow's metadata and the DuckLake catalog
in PostgreSQL and Celery's queue in Redis. Tests run the real servers rather than stand-ins:
`make services` installs Debian's `postgresql` and `redis-server` (as `make browser` installs
chromium), and each server here lives in its own temporary folder on a free port, listening on
127.0.0.1 only, and is stopped and removed when the `with` block ends.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then belongs to Debian's
`postgres` system user and its commands run through `runuser`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# How long a server may take to accept connections after it is started (seen: under 2 s for
# PostgreSQL on an idle 2-core machine; generous for a busy CI machine).
START_TIMEOUT_S = 60.0


class ServiceMissing(RuntimeError):
    """The Debian package providing a server is not installed (run `make services`)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = START_TIMEOUT_S) -> None:
    """Return once 127.0.0.1:`port` accepts a TCP connection; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing accepted connections on 127.0.0.1:{port} in {timeout} s")
        time.sleep(0.1)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a server gracefully (SIGTERM), and kill it if it is still there after 30 s."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server's binaries from Debian's packages (/usr/lib/postgresql/N/bin)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise ServiceMissing("PostgreSQL server not installed: run `make services`")
    return candidates[-1].parent


@dataclass(frozen=True)
class Postgres:
    """A running throwaway cluster: `trust` authentication on loopback, superuser `user`."""

    port: int
    user: str
    data_dir: Path
    bin_dir: Path

    def url(self, database: str, driver: str = "postgresql") -> str:
        """A SQLAlchemy/libpq URL for `database` (e.g. driver "postgresql+psycopg2")."""
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def libpq(self, database: str) -> str:
        """A libpq key/value connection string (what DuckDB's postgres and ducklake take)."""
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def create_database(self, name: str) -> str:
        """Create database `name` (owned by the superuser) and return its libpq string."""
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                name,
            ],
            check=True,
            capture_output=True,
        )
        return self.libpq(name)


def _as_postgres_user(argv: list[str]) -> list[str]:
    """`argv` run as Debian's `postgres` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def postgres_server(user: str = "wirehouse") -> Iterator[Postgres]:
    """Start a fresh PostgreSQL cluster in a temporary folder; stop and remove it afterwards."""
    bin_dir = postgres_bin_dir()
    # Not under pytest's tmp_path: that folder is private to root, and the cluster's owner
    # (postgres, when we are root) must be able to enter it.
    data_dir = Path(tempfile.mkdtemp(prefix="wirehouse-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(data_dir, owner.pw_uid, owner.pw_gid)
    port = free_port()
    log = data_dir.parent / f"{data_dir.name}.log"
    try:
        subprocess.run(
            _as_postgres_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir / "cluster"),
                    "-U",
                    user,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            _as_postgres_user(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data_dir / "cluster"),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={data_dir}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        try:
            wait_for_port(port)
            yield Postgres(port=port, user=user, data_dir=data_dir, bin_dir=bin_dir)
        finally:
            stop(server)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        log.unlink(missing_ok=True)


@dataclass(frozen=True)
class Redis:
    """A running throwaway Redis: no persistence, loopback only."""

    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@contextlib.contextmanager
def redis_server() -> Iterator[Redis]:
    """Start a Redis server with nothing saved to disk; stop it afterwards."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise ServiceMissing("redis-server not installed: run `make services`")
    port = free_port()
    work_dir = Path(tempfile.mkdtemp(prefix="wirehouse-redis-"))
    server = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(work_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield Redis(port=port)
    finally:
        stop(server)
        shutil.rmtree(work_dir, ignore_errors=True)
