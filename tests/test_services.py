"""The throwaway servers the deployment and lake tests rely on start, answer and go away."""

from __future__ import annotations

import socket
import subprocess

from services import postgres_server, redis_server


def test_postgres_serves_a_new_database_on_loopback():
    with postgres_server() as pg:
        dsn = pg.create_database("probe")
        answer = subprocess.run(
            [str(pg.bin_dir / "psql"), dsn, "-At", "-c", "select current_database()"],
            check=True,
            capture_output=True,
            text=True,
        )
        assert answer.stdout.strip() == "probe"
        data_dir = pg.data_dir
    assert not data_dir.exists()


def test_redis_answers_ping():
    with redis_server() as redis:
        with socket.create_connection(("127.0.0.1", redis.port), 5) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(16) == b"+PONG\r\n"
        port = redis.port
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
