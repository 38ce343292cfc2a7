"""Two real nights for the analysts' guide and the BI tests: the nightly task functions in
the DAG's order (collect, land, load, stories, entities, dbt, publish), without Airflow.

The data is the bundled offline sample (four fictional outlets, English and French, a wire
original with a rewrite and a verbatim copy), a JSON Lines dump of wire copy naming real
cities (the sample's places are invented, so only these get coordinates), and a web
source on the test's HTTP server on 127.0.0.1 serving a page, a 404 and a robots-refused
URL (fetch health has failures to show). Night 1 lands Harbor Wire, Le Courrier, the dump
and the web source; night 2 adds The Daily Lantern and TrendPulse Now, the outlets that
copy and rewrite Harbor Wire, so stories span outlets and nights.

Run as a script (``python tests/fixture_nights.py HOME RUN_DATE``) a night runs in its own
process, as Airflow runs each task: a reader in the test process then shares no DuckDB
instance with the writer (DuckDB caches one instance per file and process).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
DBT_PROJECT = ROOT / "dbt_project"
NIGHT_1, NIGHT_2 = "2026-11-22", "2026-11-23"

# outlet folder -> the night its saved pages arrive
OUTLET_NIGHTS = {
    "harbor_wire": NIGHT_1,
    "le_courrier": NIGHT_1,
    "daily_lantern": NIGHT_2,
    "trendpulse_now": NIGHT_2,
}

WIRE_DUMP = [
    {
        "url": "https://wire.example/world/2026/11/21/sahel-ministers-meet-in-dakar",
        "title": "Sahel ministers meet in Dakar over drone base",
        "published_at": "2026-11-21T09:00:00Z",
        "source": "Wire Example",
        "language": "en",
        "text": [
            "DAKAR, Senegal (WE) — Defence ministers from Niger, Mali and Senegal met in "
            "Dakar on Friday to discuss the future of a drone base near Niamey, officials said.",
            "The talks in Dakar followed months of tension between Niamey and its neighbours "
            "over the base, which was built with French help and later handed to the "
            "government of Niger. Ministers from Mali said they wanted the base shared.",
            "A spokesman for the government in Dakar said the ministers agreed to meet again "
            "in Bamako next month. Diplomats in Lagos and Abuja said Nigeria would send an "
            "observer to the next round of talks in Bamako.",
            "Residents of Niamey told reporters that flights from the base had stopped two "
            "weeks ago. The ministers did not say when the flights would resume, and Senegal "
            "declined to comment on the talks beyond a short statement issued in Dakar.",
        ],
    },
    {
        "url": "https://wire.example/africa/2026/11/21/floods-in-lagos",
        "title": "Floods close roads in Lagos",
        "published_at": "2026-11-21T15:30:00Z",
        "source": "Wire Example",
        "language": "en",
        "text": [
            "LAGOS, Nigeria (WE) — Heavy rain flooded roads across Lagos on Saturday, closing "
            "the main bridge to the island and stranding thousands of commuters.",
            "Emergency services in Lagos said no one had died. Forecasters in Abuja said more "
            "rain was expected across Nigeria over the weekend, and the authorities in Lagos "
            "urged residents to stay at home.",
            "Traders at the markets of Lagos said the water had reached their stalls within "
            "an hour. Officials in Abuja promised help for the families whose homes were hit.",
        ],
    },
]


@contextlib.contextmanager
def web_source() -> Iterator[HTTPServer]:
    """The nights' web source on 127.0.0.1: a page, a 404 and a URL robots.txt refuses."""
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    srv.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    page = SAMPLES / "harbor_wire" / "greywater-island-ferry-service-resumes-after-fog.html"
    srv.expect_request("/news/ferry.html").respond_with_data(
        page.read_bytes(), content_type="text/html; charset=utf-8"
    )
    srv.expect_request("/gone.html").respond_with_data("gone", status=404)
    try:
        yield srv
    finally:
        srv.clear()
        srv.stop()


def write_sources(home: Path, server_url: str) -> Path:
    """The sources file: one `files` source per outlet folder (its pages are copied in on
    their night), the dump, and the web source at `server_url` (``http://127.0.0.1:N/``)."""
    outlets = "".join(
        f"""  - id: {outlet}
    name: {outlet.replace("_", " ").title()}
    home_url: https://www.{outlet.replace("_", "")}.example/
    files: ["pages/{outlet}/*.html"]
"""
        for outlet in OUTLET_NIGHTS
    )
    path = home / "sources.yml"
    path.write_text(
        f"""sources:
{outlets}  - id: wire_example
    name: Wire Example
    home_url: https://wire.example/
    files: ["dumps/*.jsonl"]
  - id: local_web
    name: Local Web
    home_url: {server_url}
    urls: [{server_url}news/ferry.html, {server_url}gone.html, {server_url}private/x.html]
    allow_private_hosts: [127.0.0.1]
    delay_seconds: 0
""",
        encoding="utf-8",
    )
    return path


def stage_files(home: Path, run_date: str) -> None:
    """Put the night's saved pages and dump where the sources file's globs find them."""
    for outlet, night in OUTLET_NIGHTS.items():
        folder = home / "pages" / outlet
        folder.mkdir(parents=True, exist_ok=True)
        if night <= run_date:
            for page in (SAMPLES / outlet).glob("*.html"):
                shutil.copyfile(page, folder / page.name)
    dumps = home / "dumps"
    dumps.mkdir(exist_ok=True)
    (dumps / "wire.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in WIRE_DUMP), encoding="utf-8"
    )


def run_dbt(home: Path) -> None:
    """`dbt build` into `home`'s warehouse, in a child process as the DAG runs it."""
    from wirehouse.config import dbt_executable, dbt_paths  # this file also runs as a script

    env = {**os.environ, "WIREHOUSE_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    out = subprocess.run(
        [*dbt_executable(), "build", *dbt_paths(DBT_PROJECT, home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{out.stdout[-4000:]}\n{out.stderr[-2000:]}")


def run_night(home: Path, run_date: str) -> dict[str, object]:
    """One night, every stage the DAG runs, in the DAG's order; returns publish's summary
    and the wall seconds of each stage (`stage_seconds`)."""
    from wirehouse import pipeline
    from wirehouse.config import Settings, warehouse_settings

    stage_files(home, run_date)
    # the warehouse backend from the environment (WIREHOUSE_WAREHOUSE=ducklake and its
    # catalog and data path), as the DAG's tasks and dbt read it
    settings = Settings(
        home=home, sources_file=home / "sources.yml", **warehouse_settings(os.environ)
    )
    seconds: dict[str, float] = {}

    def timed(stage: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = step()
        seconds[stage] = round(time.perf_counter() - started, 3)
        return result

    sources = pipeline.list_sources(settings)
    collected = timed(
        "collect",
        lambda: [
            pipeline.collect(pipeline.discover(s, run_date, settings), settings) for s in sources
        ],
    )
    timed("land", lambda: pipeline.land_run(run_date, sources, collected, settings))
    timed("load", lambda: pipeline.load_run(run_date, settings))
    timed("stories", lambda: pipeline.stories_run(run_date, settings))
    timed("entities", lambda: pipeline.entities_run(run_date, settings))
    timed("load_entities", lambda: pipeline.load_entities_run(run_date, settings))
    timed("dbt", lambda: run_dbt(home))
    published = timed("publish", lambda: pipeline.publish_run(settings))
    # wall seconds per stage (the DuckLake comparison reports them: docs/ducklake.md)
    return {**published, "stage_seconds": seconds}


def run_night_in_child(home: Path, run_date: str) -> subprocess.Popen[str]:
    """Start `run_night` in its own process (see the module docstring); the caller waits."""
    env = {**os.environ, "WIREHOUSE_EXTRACT_PROCESSES": "1"}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(home), run_date],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "include"))
    print(json.dumps(run_night(Path(sys.argv[1]), sys.argv[2]), default=str))
