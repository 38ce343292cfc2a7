"""One bad source never fails the night: a source whose task crashes becomes a
`source_failed` row with its reason, and every other source lands.

The crash is real, not injected: the source's collector output path is taken by a folder (as
a broken work directory would be), so writing its Parquet file raises IsADirectoryError.
Airflow leaves no output for a failed mapped task, so `land_run` gets the other sources only.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from wirehouse import pipeline
from wirehouse.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
NIGHT = "2026-11-21"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", "1")
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "sources:\n"
        + "".join(
            f"  - id: {sid}\n    name: {sid}\n    home_url: https://{sid}.example/\n"
            f'    files: ["{SAMPLES / folder}/*.html"]\n'
            for sid, folder in (
                ("harbor", "harbor_wire"),
                ("lantern", "daily_lantern"),
                ("trend", "trendpulse_now"),
            )
        ),
        encoding="utf-8",
    )
    return Settings(home=tmp_path / "home", sources_file=sources, local_roots=(SAMPLES,))


def block_output(settings: Settings, source_id: str) -> Path:
    """Take the source's fetches file path with a folder: its collect really crashes."""
    blocker = (
        pipeline.run_collector_dir(settings, NIGHT)
        / "collected"
        / f"{source_id}.fetches.parquet"
        / "in-the-way"
    )
    blocker.mkdir(parents=True)
    return blocker.parent


def run_night(settings: Settings) -> list[dict]:
    """The night as Airflow runs it: a failed mapped task leaves no output for land."""
    sources = pipeline.list_sources(settings)
    collected = []
    for source in sources:
        try:
            collected.append(pipeline.collect(pipeline.discover(source, NIGHT, settings), settings))
        except OSError:
            continue
    pipeline.land_run(NIGHT, sources, collected, settings)
    return collected


def landed(settings: Settings, table: str) -> list[dict]:
    path = settings.landing_dir / table / f"run_date={NIGHT}" / f"{table}.parquet"
    return pq.read_table(path).to_pylist()


def test_a_crashed_collect_is_a_row_and_the_other_sources_land(settings: Settings) -> None:
    blocker = block_output(settings, "lantern")
    with pytest.raises(IsADirectoryError):
        source = next(s for s in pipeline.list_sources(settings) if s["id"] == "lantern")
        pipeline.collect(pipeline.discover(source, NIGHT, settings), settings)
    failure = json.loads(pipeline.failure_path(settings, NIGHT, "lantern").read_text())
    assert failure["stage"] == "collect" and "IsADirectoryError" in failure["error"]

    collected = run_night(settings)
    assert sorted(c["source_id"] for c in collected) == ["harbor", "trend"]

    fetches = landed(settings, "fetches")
    failed = [f for f in fetches if f["source_id"] == "lantern"]
    assert len(failed) == 1
    row = failed[0]
    assert (row["outcome"], row["url_kind"], row["url"], row["attempts"]) == (
        "source_failed",
        "source",
        "https://lantern.example/",
        0,
    )
    assert row["error"].startswith("collect failed: IsADirectoryError")
    # every good page of the good sources landed
    articles = landed(settings, "articles")
    by_source = {s: sum(1 for a in articles if a["source_id"] == s) for s in ("harbor", "trend")}
    assert by_source == {
        "harbor": len(list((SAMPLES / "harbor_wire").glob("*.html"))),
        "trend": len(list((SAMPLES / "trendpulse_now").glob("*.html"))),
    }
    assert {s["source_id"] for s in landed(settings, "sources")} == {"harbor", "lantern", "trend"}
    assert pipeline.failed_sources(NIGHT, settings) == [f"lantern: {row['error']}"]

    # re-running land changes nothing (the reason and its time come from the file)
    pipeline.land_run(NIGHT, pipeline.list_sources(settings), collected, settings)
    assert landed(settings, "fetches") == fetches

    # the landed night loads: the new outcome and kind are part of the contract
    pipeline.load_run(NIGHT, settings)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute(
            "select source_id, outcome from landing.fetches where outcome = 'source_failed'"
        ).fetchall() == [("lantern", "source_failed")]
    finally:
        con.close()

    # a successful re-run of the source replaces the failure
    shutil.rmtree(blocker)
    collected = run_night(settings)
    assert len(collected) == 3
    assert not pipeline.failure_path(settings, NIGHT, "lantern").exists()
    assert pipeline.failed_sources(NIGHT, settings) == []
    lantern = [a for a in landed(settings, "articles") if a["source_id"] == "lantern"]
    assert lantern


def test_a_task_that_died_without_a_reason_is_still_a_row(settings: Settings) -> None:
    """A task killed before it could write its reason (say, out of memory) is still
    recorded: no output means failed."""
    sources = pipeline.list_sources(settings)
    collected = [
        pipeline.collect(pipeline.discover(s, NIGHT, settings), settings)
        for s in sources
        if s["id"] != "trend"
    ]
    pipeline.land_run(NIGHT, sources, collected, settings)
    (row,) = [f for f in landed(settings, "fetches") if f["outcome"] == "source_failed"]
    assert row["source_id"] == "trend" and "no output" in row["error"]


def test_a_failed_discover_records_its_reason(settings: Settings) -> None:
    """discover wraps its work the same way; its reason names the stage."""
    source = pipeline.list_sources(settings)[0]
    blocker = pipeline.discovered_path(settings, NIGHT, source["id"])
    (blocker / "in-the-way").mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        pipeline.discover(source, NIGHT, settings)
    failure = json.loads(pipeline.failure_path(settings, NIGHT, source["id"]).read_text())
    assert failure["stage"] == "discover"
    pipeline.land_run(NIGHT, pipeline.list_sources(settings), [], settings)
    assert pipeline.failed_sources(NIGHT, settings)[0].startswith(
        f"{source['id']}: discover failed: IsADirectoryError"
    )


def test_discoveries_stream_as_json_lines_and_old_nights_still_give_validators(
    settings: Settings,
) -> None:
    """A night's discoveries are a header line and one candidate a line (read back
    whole); a night written before, as one JSON document, still gives its validators."""
    source = pipeline.list_sources(settings)[0]
    found = pipeline.discover(source, NIGHT, settings)
    path = Path(found["path"])
    assert path == pipeline.discovered_path(settings, NIGHT, source["id"])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + found["candidates"] and "attempts" in json.loads(lines[0])
    assert [json.loads(line)["via"] for line in lines[1:]] == ["file"] * found["candidates"]

    old = pipeline.run_collector_dir(settings, "2026-11-20") / "discovered" / "harbor.json"
    old.parent.mkdir(parents=True)
    attempt = {"url": "https://harbor.example/feed", "outcome": "ok", "etag": '"v1"'}
    old.write_text(json.dumps({"source": source, "candidates": [], "attempts": [attempt]}))
    assert pipeline.previous_validators(settings, "harbor", NIGHT) == {
        "https://harbor.example/feed": {"etag": '"v1"', "last_modified": ""}
    }
