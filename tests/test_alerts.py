"""Alerts: a failed or late night is posted as JSON to the webhook named by the Airflow
Variable `wirehouse_alert_webhook`, to a real HTTP server on 127.0.0.1; unset, nothing is
sent; an unreachable or failing webhook is logged, never raised."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import wirehouse_airflow
from pytest_httpserver import HTTPServer

from wirehouse import alerts

VARIABLE_ENV = "AIRFLOW_VAR_WIREHOUSE_ALERT_WEBHOOK"  # Airflow reads Variables from the env


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def failed_context() -> dict:
    """What a DAG failure callback gets: the DagRun (an object) and the reason."""
    dag_run = SimpleNamespace(
        dag_id="news_daily",
        run_id="scheduled__2026-11-21T00:00:00+00:00",
        logical_date=datetime(2026, 11, 21, tzinfo=UTC),
        run_after=datetime(2026, 11, 22, tzinfo=UTC),
        conf={},
    )
    return {"dag_run": dag_run, "reason": "task_failure"}


def test_a_failed_night_is_posted_to_the_webhook(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv(VARIABLE_ENV, server.url_for("/hook"))

    wirehouse_airflow.notify_failure(failed_context())

    server.check_assertions()
    (request, _), *_ = server.log
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.get_data())
    assert body["event"] == "failed"
    assert body["dag_id"] == "news_daily"
    assert body["run_date"] == "2026-11-21"
    assert body["reason"] == "task_failure"
    assert "news_daily" in body["text"] and "2026-11-21" in body["text"]


def test_a_late_night_is_posted_by_the_deadline_callback(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline callback runs in the triggerer with the DagRun as JSON; a manual run
    of a named night is labelled with that night."""
    server.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv(VARIABLE_ENV, server.url_for("/hook"))
    context = {
        "dag_run": {
            "dag_id": "news_daily",
            "run_id": "manual__2026-11-29T10:00:00+00:00",
            "logical_date": "2026-11-29T10:00:00Z",
            "run_after": "2026-11-29T10:00:00Z",
            "state": "running",
            "conf": {"run_date": "2026-11-15"},
        },
        "deadline": {"id": "d1", "deadline_time": "2026-11-29T12:00:00+00:00"},
    }

    asyncio.run(wirehouse_airflow.notify_late(context))

    server.check_assertions()
    body = json.loads(server.log[0][0].get_data())
    assert body["event"] == "late"
    assert body["run_date"] == "2026-11-15"
    assert body["deadline"] == "2026-11-29T12:00:00+00:00"
    assert "running late" in body["text"]


def test_a_night_over_before_its_deadline_is_not_late(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow 3.3.2 fires a failed run's deadline all the same: nothing more is posted."""
    monkeypatch.setenv(VARIABLE_ENV, server.url_for("/hook"))
    for state in ("failed", "success"):
        context = {
            "dag_run": {"dag_id": "news_daily", "run_id": "r", "state": state, "conf": {}},
            "deadline": {"id": "d1", "deadline_time": "2026-11-29T12:00:00+00:00"},
        }
        asyncio.run(wirehouse_airflow.notify_late(context))
    assert server.log == []


def test_no_webhook_no_request(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE_ENV, raising=False)
    assert wirehouse_airflow.alert_webhook() is None
    wirehouse_airflow.notify_failure(failed_context())
    monkeypatch.setenv(VARIABLE_ENV, "  ")
    wirehouse_airflow.notify_failure(failed_context())
    assert server.log == []


def test_a_webhook_that_fails_is_logged_not_raised(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.expect_request("/hook").respond_with_data("down", status=503)
    body = alerts.message("failed", "news_daily", "r1", "2026-11-21")
    with caplog.at_level(logging.WARNING, logger="wirehouse.alerts"):
        assert alerts.post(server.url_for("/hook"), body) is False
        # nothing listens on port 9 of loopback (discard): a connection error
        assert alerts.post("http://127.0.0.1:9/hook", body, timeout=2) is False
        assert alerts.post("file:///etc/passwd", body) is False
    text = caplog.text
    assert "HTTP 503" in text and "ConnectError" in text and "not an http(s) URL" in text
    assert "/etc/passwd" not in text  # a webhook URL may carry a secret: never logged
    assert len(server.log) == 1
