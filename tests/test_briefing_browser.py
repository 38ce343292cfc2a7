"""The briefing in a real browser: Debian's chromium, headless, opens the written page from
disk (file://), as a reader would, and the DOM after its scripts ran shows every chart and
the map drawn, the map's world outlines included.

Offline: chromium's network log (--log-net-log) records every request, with who made it; the
page may make none (its assets load from its folder as files, which are no network requests).
Chromium's own background calls (network time, sign-in, check-in: initiator "not an origin")
are the browser's, not the page's, so they are not counted; and nothing leaves the machine
during the test at all, as every request goes to a trap proxy on 127.0.0.1 that refuses it.
A control page that loads a script from a CDN shows the log and the trap catch such a load.
A screenshot is written for a person to look at (WIREHOUSE_BRIEFING_SCREENSHOT=path keeps one).

`make test` installs chromium (`apt-get install -y chromium`) when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from briefing_marts import NIGHT, create_marts, fixture_warehouse

from wirehouse import briefing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the flags the brief names: no sandbox (root in CI), no GPU, and none of chromium's own
# background traffic (updates, sync, field trials) that would muddy the trap's record
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
# virtual time lets every timer and promise of the page's scripts settle before the DOM is
# dumped or the screenshot taken, without waiting that long in wall time
VIRTUAL_MS = "10000"
CHARTS = ("briefing-sizes", "briefing-map", "briefing-originality", "briefing-health")


class _Trap(BaseHTTPRequestHandler):
    """A proxy that records every request sent to it and serves none, so nothing the
    browser asks for leaves the machine."""

    seen: list[str]

    def _refuse(self) -> None:
        self.seen.append(self.requestline)
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_CONNECT = do_OPTIONS = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trap() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Trap", (_Trap,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _chromium(url: str, proxy: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (apt-get install -y chromium)")
    return subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            # everything goes through the trap, loopback included ("<-loopback>")
            f"--proxy-server={proxy}",
            "--proxy-bypass-list=<-loopback>",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={VIRTUAL_MS}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def page_requests(net_log: Path) -> list[str]:
    """URLs of the network requests a page made (not the browser's own background calls),
    from chromium's network log."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        params["url"]
        for event in log["events"]
        if event["type"] == start_job
        and "url" in (params := event.get("params") or {})
        and params.get("initiator") != "not an origin"
    ]


def _dom(page: Path, proxy: str, tmp: Path) -> tuple[str, str, list[str]]:
    """The page's DOM after its scripts ran, chromium's log and the page's requests."""
    net_log = tmp / f"{page.stem}-netlog.json"
    run = _chromium(
        page.as_uri(),
        proxy,
        tmp / f"profile-{page.stem}",
        "--dump-dom",
        f"--log-net-log={net_log}",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout, run.stderr, page_requests(net_log)


def _chart(dom: str, div_id: str) -> str:
    """The DOM of one chart: from its div to the next chart's (or the end)."""
    start = dom.index(f'id="{div_id}"')
    ends = [dom.find(f'id="{other}"', start + 1) for other in CHARTS if other != div_id]
    ends = [e for e in ends if e > start]
    return dom[start : min(ends) if ends else len(dom)]


def _console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]


def test_the_trap_catches_a_page_that_loads_from_a_cdn(tmp_path: Path, trap) -> None:
    proxy, seen = trap
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><html><head><script src="https://cdn.plot.ly/plotly-3.0.0.min.js">'
        "</script></head><body>control</body></html>",
        encoding="utf-8",
    )
    dom, _, requests = _dom(page, proxy, tmp_path)
    assert "control" in dom
    assert requests == ["https://cdn.plot.ly/plotly-3.0.0.min.js"]
    assert any("cdn.plot.ly" in line for line in seen), seen


def test_briefing_renders_charts_and_map_offline(tmp_path: Path, trap) -> None:
    proxy, seen = trap
    warehouse = fixture_warehouse(tmp_path / "wirehouse.duckdb")
    out = tmp_path / "briefing"
    briefing.write_briefing(warehouse, out, NIGHT)
    index = out / "index.html"

    dom, stderr, requests = _dom(index, proxy, tmp_path)
    assert requests == [], f"the page made network requests: {requests}"
    assert not [line for line in seen if "plot.ly" in line or "jsdelivr" in line], seen
    assert _console_errors(stderr) == []

    # plotly drew every figure: the div became a plot with its SVG
    for div_id in CHARTS:
        chart = _chart(dom, div_id)
        assert "js-plotly-plot" in chart[:300], div_id
        assert 'class="main-svg"' in chart, div_id

    # the map: world outlines (land, country borders) from the shipped topojson, the two
    # shaded countries and a point per city
    geo = _chart(dom, "briefing-map")
    assert 'class="geolayer"' in geo
    for layer in ("layer land", "layer countries"):
        assert re.search(rf'class="{layer}"><path d="M', geo), layer
    assert geo.count('class="choroplethlocation"') == 2
    scatter = geo[geo.index("trace scattergeo") :]
    assert scatter.count('class="point"') == 2

    # bars: 14 nights x 4 sizes drawn (empty ones too), 3 sources by originality, 4 sources'
    # fetch health
    assert _chart(dom, "briefing-sizes").count('class="point"') == 14 * 4
    assert _chart(dom, "briefing-originality").count('class="point"') == 3
    assert _chart(dom, "briefing-health").count("trace bars") == 4

    # the stories are text, escaped
    assert "Drone base opens in Niger" in dom and "<script>alert(1)</script>" not in dom

    shot = tmp_path / "briefing.png"
    run = _chromium(
        index.as_uri(),
        proxy,
        tmp_path / "profile-shot",
        "--window-size=1280,3400",
        f"--screenshot={shot}",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    if os.environ.get("WIREHOUSE_BRIEFING_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["WIREHOUSE_BRIEFING_SCREENSHOT"])


def test_an_empty_night_renders_a_page_saying_so(tmp_path: Path, trap) -> None:
    proxy, _ = trap
    warehouse = create_marts(tmp_path / "wirehouse.duckdb", {})
    out = tmp_path / "briefing"
    briefing.write_briefing(warehouse, out, NIGHT)
    dom, stderr, requests = _dom(out / "index.html", proxy, tmp_path)
    assert requests == [] and _console_errors(stderr) == []
    assert "No new articles were collected on this night." in dom
    assert "Nothing was fetched on this night." in dom
    assert "js-plotly-plot" not in dom
