"""Faults across whole nights, run for real: the pipeline's entry points (the functions the
DAG's tasks call) against a real HTTP server on 127.0.0.1, real DuckDB files and real dbt.

- A backfill of three past dates gives the marts their nights gave, without a request to
  today's web (the dates' stored collections are reused); forced, it fetches again.
- `load` killed with SIGKILL in the middle of its transaction, and `dbt build` killed with
  SIGKILL in the middle of the build: the published copy and marts are as before the night,
  the warehouse opens, and re-running the night gives the marts of an unbroken night.
- A corrupt warehouse file is rebuilt from landing (`wirehouse rebuild`) to the same marts.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import rss
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from wirehouse import cli, pipeline, rebuild
from wirehouse.config import Settings, dbt_project_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
PAGES = sorted(
    p for folder in ("daily_lantern", "harbor_wire", "trendpulse_now") for p in (SAMPLES / folder).glob("*.html")
)  # fmt: skip
NIGHTS = ("2026-11-21", "2026-11-22", "2026-11-23")
TODAY = "2026-11-24"
# the pages each night's feed lists (today's web lists others, and one old page changed)
LISTED = {NIGHTS[0]: PAGES[0:3], NIGHTS[1]: PAGES[3:6], NIGHTS[2]: PAGES[6:9], TODAY: PAGES[9:12]}


class Site:
    """What the local web serves today, and every request it was sent."""

    def __init__(self) -> None:
        self.night = NIGHTS[0]
        self.requests: list[str] = []
        self.base = ""

    def handle(self, request: Request) -> Response:
        self.requests.append(request.path)
        if request.path == "/rss.xml":
            urls = [f"{self.base}/news/{p.name}" for p in LISTED[self.night]]
            return Response(rss(urls), content_type="application/rss+xml")
        name = request.path.removeprefix("/news/")
        page = next((p for p in PAGES if p.name == name), None)
        if page is None:
            return Response("not found", status=404)
        body = page.read_bytes()
        if self.night == TODAY:  # today's web rewrote every page it still serves
            body = body.replace(b"</p>", b" Updated today.</p>", 1)
        return Response(body, content_type="text/html; charset=utf-8")


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    state = Site()
    state.base = server.url_for("").rstrip("/")
    server.expect_request(re.compile(".*")).respond_with_handler(state.handle)
    yield state
    server.clear()
    server.stop()


def settings_for(home: Path, site: Site) -> Settings:
    sources = home / "sources.yml"
    if not sources.exists():
        home.mkdir(parents=True, exist_ok=True)
        sources.write_text(
            "sources:\n  - id: wire\n    name: Local Wire\n"
            f"    home_url: {site.base}/\n    feeds: [{site.base}/rss.xml]\n"
            "    allow_private_hosts: true\n    delay_seconds: 0\n",
            encoding="utf-8",
        )
    return Settings(home=home, sources_file=sources)


def collect_and_land(settings: Settings, night: str, *, force: bool = False) -> None:
    sources = pipeline.list_sources(settings)
    collected = [
        pipeline.collect(pipeline.discover(s, night, settings, force=force), settings, force=force)
        for s in sources
    ]
    pipeline.land_run(night, sources, collected, settings)


def write_night(settings: Settings, night: str, *, marts: bool = True) -> None:
    """The writer half of a night: load, stories, entities, then dbt and publish (which
    the nights before the last of a fixture skip: the cores are shared)."""
    pipeline.load_run(night, settings)
    pipeline.stories_run(night, settings)
    pipeline.entities_run(night, settings)
    pipeline.load_entities_run(night, settings)
    if marts:
        rebuild.dbt_build(settings.home)
        pipeline.publish_run(settings)


def run_night(settings: Settings, night: str, *, marts: bool = True) -> None:
    collect_and_land(settings, night)
    write_night(settings, night, marts=marts)


def marts(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart's rows, in a fixed order."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: con.execute(f'select * from marts."{n}" order by all').fetchall() for n in names}


def published_state(settings: Settings) -> dict[str, str]:
    """A hash of every file under published/: the readers' view of the warehouse."""
    root = settings.published_dir
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def copy_home(src: Path, dest: Path) -> Path:
    shutil.copytree(
        src, dest, symlinks=True, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs")
    )
    return dest


@pytest.fixture(scope="module", autouse=True)
def one_process() -> Iterator[None]:
    saved = os.environ.get("WIREHOUSE_EXTRACT_PROCESSES")
    os.environ["WIREHOUSE_EXTRACT_PROCESSES"] = "1"  # the tests share two cores
    yield
    if saved is None:
        os.environ.pop("WIREHOUSE_EXTRACT_PROCESSES", None)
    else:
        os.environ["WIREHOUSE_EXTRACT_PROCESSES"] = saved


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Path:
    """Three nights run on their nights, each seeing that night's web. Tests copy it."""
    home = tmp_path_factory.mktemp("nightly") / "home"
    settings = settings_for(home, site)
    for night in NIGHTS:
        site.night = night
        run_night(settings, night, marts=night == NIGHTS[-1])
    return home


@pytest.fixture(scope="module")
def tonight_landed(tmp_path_factory: pytest.TempPathFactory, site: Site, nightly: Path) -> Path:
    """The fourth night collected and landed, its writers not yet run. Tests copy it."""
    home = copy_home(nightly, tmp_path_factory.mktemp("tonight") / "home")
    site.night = TODAY
    collect_and_land(settings_for(home, site), TODAY)
    return home


@pytest.fixture(scope="module")
def tonight_marts(tmp_path_factory: pytest.TempPathFactory, site: Site, tonight_landed: Path):
    """The fourth night's marts when nothing breaks."""
    home = copy_home(tonight_landed, tmp_path_factory.mktemp("unbroken") / "home")
    write_night(settings_for(home, site), TODAY)
    return marts(home / "wirehouse.duckdb")


def test_backfill_reuses_each_dates_collection_and_gives_the_same_marts(
    tmp_path: Path, site: Site, nightly: Path
) -> None:
    expected = marts(nightly / "wirehouse.duckdb")
    settings = settings_for(copy_home(nightly, tmp_path / "home"), site)
    site.night = TODAY  # the web has moved on: other pages listed, old pages rewritten
    before = len(site.requests)
    for night in NIGHTS:  # the backfill: three past dates in a row, oldest first
        run_night(settings, night)
    assert site.requests[before:] == [], "a backfilled date fetched today's web"
    assert marts(settings.warehouse) == expected

    # forced, the date is fetched again (and so gets today's pages)
    pipeline.discover(pipeline.list_sources(settings)[0], NIGHTS[2], settings, force=True)
    assert "/rss.xml" in site.requests[before:]
    before = len(site.requests)
    os.environ[pipeline.FORCE_COLLECT_ENV] = "1"
    try:
        assert pipeline.force_collect(None)
        collect_and_land(settings, NIGHTS[2], force=pipeline.force_collect(None))
    finally:
        os.environ.pop(pipeline.FORCE_COLLECT_ENV)
    fetched = {p for p in site.requests[before:] if p.startswith("/news/")}
    assert fetched == {f"/news/{p.name}" for p in LISTED[TODAY]}


def kill_load_mid_transaction(settings: Settings, night: str) -> subprocess.CompletedProcess:
    """`pipeline.load_run` in its own process, SIGKILLed by itself right after it inserted
    the night's articles: the night's deletes and inserts of sources, fetches and articles
    are done, the transaction is not committed."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from wirehouse import load, pipeline
        from wirehouse.config import Settings

        real_connect = load.connect

        class KilledMidLoad:
            def __init__(self, con):
                self._con = con
            def execute(self, sql, *args):
                result = self._con.execute(sql, *args)
                if sql.startswith("insert into landing.articles"):
                    os.kill(os.getpid(), signal.SIGKILL)
                return result
            def __getattr__(self, name):
                return getattr(self._con, name)

        load.connect = lambda warehouse: KilledMidLoad(real_connect(warehouse))
        home, sources, night = sys.argv[1:]
        pipeline.load_run(night, Settings(home=Path(home), sources_file=Path(sources)))
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script, str(settings.home), str(settings.sources_file), night],
        capture_output=True,
        text=True,
        timeout=300,
    )


def landing_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            t: con.execute(f"select count(*) from landing.{t}").fetchone()[0]
            for t in ("sources", "fetches", "articles", "article_stories", "entity_mentions")
        }


def assert_no_duplicate_rows(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        for table, key in (
            ("landing.sources", "run_date, source_id"),
            ("landing.fetches", "fetch_id"),
            ("landing.articles", "run_date, article_id"),
            ("landing.article_stories", "run_date, article_id"),
            ("landing.article_entities", "run_date, article_id"),
            ("marts.fct_articles", "article_id"),
        ):
            dupes = con.execute(
                f"select count(*) from (select {key} from {table} group by all having count(*) > 1)"
            ).fetchone()[0]
            assert dupes == 0, table


def test_sigkill_mid_load_leaves_the_night_before_and_a_rerun_completes(
    tmp_path: Path, site: Site, tonight_landed: Path, tonight_marts: dict
) -> None:
    settings = settings_for(copy_home(tonight_landed, tmp_path / "home"), site)
    published, before = published_state(settings), marts(settings.warehouse)
    counts = landing_counts(settings.warehouse)

    killed = kill_load_mid_transaction(settings, TODAY)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    assert published_state(settings) == published  # publish has not run
    assert landing_counts(settings.warehouse) == counts  # the load's transaction is gone
    assert marts(settings.warehouse) == before  # and the warehouse opens
    assert marts(settings.published_dir / "wirehouse.duckdb") == before

    write_night(settings, TODAY)  # the night re-run
    assert marts(settings.warehouse) == tonight_marts
    assert_no_duplicate_rows(settings.warehouse)


def kill_dbt_mid_build(home: Path, after_models: int) -> subprocess.CompletedProcess:
    """`dbt build` in its own process (dbt's Python runner), SIGKILLed by itself when the
    model after the first `after_models` finished models starts: some marts are rebuilt,
    the rest are not."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from dbt.cli.main import dbtRunner

        project, target, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
        done = []

        def kill_mid_build(event):
            name = event.info.name
            if name == "LogModelResult":
                done.append(event.data.node_info.node_name)
            elif name == "NodeStart" and len(done) >= limit:
                node = event.data.node_info
                if node.resource_type == "model":
                    os.kill(os.getpid(), signal.SIGKILL)

        dbtRunner(callbacks=[kill_mid_build]).invoke([
            "build", "--project-dir", project, "--profiles-dir", project,
            "--target-path", target, "--log-path", target,
        ])
        """
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(dbt_project_dir()),
            str(home / "dbt_target"),
            str(after_models),
        ],
        env={**os.environ, "WIREHOUSE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_sigkill_mid_dbt_build_leaves_the_published_marts_and_a_rerun_completes(
    tmp_path: Path, site: Site, tonight_landed: Path, tonight_marts: dict
) -> None:
    settings = settings_for(copy_home(tonight_landed, tmp_path / "home"), site)
    published = published_state(settings)
    published_marts = marts(settings.published_dir / "wirehouse.duckdb")
    for step in ("load_run", "stories_run", "entities_run", "load_entities_run"):
        getattr(pipeline, step)(TODAY, settings)

    killed = kill_dbt_mid_build(settings.home, after_models=12)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:] + killed.stderr[-3000:]
    results = (settings.home / "dbt_target" / "run_results.json").exists()
    assert not results, "dbt finished before it was killed: kill it earlier"

    assert published_state(settings) == published  # publish has not run
    assert marts(settings.published_dir / "wirehouse.duckdb") == published_marts
    marts(settings.warehouse)  # the warehouse opens and reads

    rebuild.dbt_build(settings.home)  # the night re-run from the dbt stage
    pipeline.publish_run(settings)
    assert marts(settings.warehouse) == tonight_marts
    assert marts(settings.published_dir / "wirehouse.duckdb") == tonight_marts
    assert_no_duplicate_rows(settings.warehouse)


def test_a_corrupt_warehouse_is_rebuilt_from_landing_to_the_same_marts(
    tmp_path: Path, site: Site, nightly: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    expected = marts(nightly / "wirehouse.duckdb")
    settings = settings_for(copy_home(nightly, tmp_path / "home"), site)
    with settings.warehouse.open("r+b") as fh:  # garbage over the file's headers
        fh.write(b"\xde\xad\xbe\xef" * 4096)
    with pytest.raises(duckdb.IOException, match="wirehouse rebuild"):
        pipeline.load_run(NIGHTS[2], settings)  # every night would fail here

    monkeypatch.setenv("WIREHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("WIREHOUSE_SOURCES", str(settings.sources_file))
    assert cli.main(["rebuild"]) == 0
    out = capsys.readouterr().out
    assert f"from 3 landed dates ({NIGHTS[0]}..{NIGHTS[2]})" in out
    assert marts(settings.warehouse) == expected
    kept = list(settings.home.glob("wirehouse.duckdb.replaced-*"))
    assert len(kept) == 1 and str(kept[0]) in out  # the broken file is kept for a person
    assert not list(settings.home.glob(".rebuild-*")), "the work folder is removed"
    # the rebuilt warehouse takes the next night as any other
    pipeline.load_run(NIGHTS[2], settings)
    assert_no_duplicate_rows(settings.warehouse)
