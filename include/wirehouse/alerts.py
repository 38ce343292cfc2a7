"""Alerts: a failed or late night posted as JSON to a webhook.

The DAG's failure callback and its deadline alert (in `wirehouse_airflow`, which reads the
webhook's URL from the Airflow Variable `wirehouse_alert_webhook`) build the message here
and post it with httpx. The body is one JSON object whose `text` is a readable sentence,
so a Slack, Mattermost or Teams incoming webhook shows it as it is, and whose other keys
(`event`, `dag_id`, `run_id`, `run_date`, `reason`, ...) are there for a program.

Posting never raises: an alert that cannot be delivered is logged (the callback's log)
and must not turn into a second failure. No URL, no request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

# a webhook that does not answer in 10 s will not answer: the callback must not hang the
# dag-processor or the triggerer that runs it
POST_TIMEOUT_SECONDS = 10.0


def message(event: str, dag_id: str, run_id: str, run_date: str | None, **detail: Any) -> dict:
    """The JSON body of an alert. `event` is `failed` (the night's DagRun failed) or `late`
    (it is still running past its deadline); `detail` adds keys such as `reason`."""
    what = {"failed": "failed", "late": "is running late"}.get(event, event)
    night = f" (night {run_date})" if run_date else ""
    text = f"Wirehouse: {dag_id} run {run_id}{night} {what}"
    reason = detail.get("reason")
    if reason:
        text += f": {reason}"
    return {
        "text": text,
        "event": event,
        "dag_id": dag_id,
        "run_id": run_id,
        "run_date": run_date,
        **detail,
    }


def webhook_url(value: str | None) -> str | None:
    """The webhook's URL from the setting's value: None when unset or blank; a value that
    is not an http(s) URL is logged and ignored (no request to a `file:` or typo URL)."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # not the value itself: a webhook URL carries its secret token
        log.warning("alert webhook ignored: the setting is not an http(s) URL")
        return None
    return value


def post(url: str | None, body: Mapping[str, Any], timeout: float = POST_TIMEOUT_SECONDS) -> bool:
    """POST `body` as JSON to `url`; True when the webhook answered 2xx. No URL: nothing
    is sent (False). Errors are logged, never raised."""
    url = webhook_url(url)
    if url is None:
        return False
    try:
        response = httpx.post(url, json=dict(body), timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        log.warning("alert not delivered to the webhook: %s", type(exc).__name__)
        return False
    if not response.is_success:
        log.warning("alert not delivered: the webhook answered HTTP %s", response.status_code)
        return False
    log.info("alert %r delivered to the webhook", body.get("event"))
    return True
