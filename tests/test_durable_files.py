"""Files survive crashes: the landing swap leaves no moment without the partition, write
paths fsync, and a truncated raw `.gz` is a recorded reason, never an abort."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wirehouse import cli, durable, land, pipeline, raw
from wirehouse.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "include" / "sample_articles"
NIGHT = "2026-11-21"


def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a")
    (b / "which").write_text("b")
    assert durable.exchange(a, b), "renameat2(RENAME_EXCHANGE) is available on this machine"
    assert (a / "which").read_text() == "b" and (b / "which").read_text() == "a"


def test_a_reader_never_finds_the_landing_partition_missing(tmp_path: Path) -> None:
    rows = [{"run_date": NIGHT, "source_id": f"s{i}", "name": "n"} for i in range(3)]
    data = land.to_table("sources", rows)
    path = land.write_partition(tmp_path, "sources", NIGHT, data)
    missing: list[str] = []
    done = threading.Event()

    def read_all_the_time() -> None:
        while not done.is_set():
            try:
                if pq.read_table(path).num_rows != 3:
                    missing.append("wrong rows")
            except Exception as exc:  # pyarrow raises its own not-found errors too
                missing.append(f"{type(exc).__name__}: {exc}")

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        for _ in range(300):  # the old swap (two renames) lost the partition within a few
            land.write_partition(tmp_path, "sources", NIGHT, data)
    finally:
        done.set()
        reader.join()
    assert missing == []
    assert [p.name for p in (tmp_path / "sources").iterdir()] == [f"run_date={NIGHT}"]


def test_write_paths_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    land.write_partition(tmp_path, "sources", NIGHT, land.to_table("sources", []))
    final = tmp_path / "sources" / f"run_date={NIGHT}"
    assert any(s.endswith("sources.parquet") for s in synced), synced  # the file
    assert str(final.parent) in synced  # the folder holding the swapped names
    synced.clear()
    durable.write_text(tmp_path / "x.json", "{}")
    assert str(tmp_path) in synced and any(".x.json" in s for s in synced)


def test_a_truncated_raw_entry_is_detected_and_rewritten(tmp_path: Path) -> None:
    body = b"<html><body><p>" + b"word " * 2000 + b"</p></body></html>"
    sha = raw.archive(tmp_path, body)
    path = raw.body_path(tmp_path, sha)
    path.write_bytes(path.read_bytes()[:50])  # a crash cut it short
    with pytest.raises(raw.CorruptBody, match="corrupt"):
        raw.read(tmp_path, sha)
    path.write_bytes(gzip.compress(b"another body"))  # whole, but not the body it names
    with pytest.raises(raw.CorruptBody, match="hash"):
        raw.read(tmp_path, sha)
    assert raw.archive(tmp_path, body) == sha  # the next fetch of the body repairs it
    assert raw.read(tmp_path, sha) == body
    assert hashlib.sha256(raw.read(tmp_path, sha)).hexdigest() == sha


@pytest.fixture
def landed_night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", "1")
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "sources:\n  - id: lantern\n    name: Lantern\n    home_url: https://lantern.example/\n"
        f'    files: ["{SAMPLES / "daily_lantern"}/*.html"]\n',
        encoding="utf-8",
    )
    settings = Settings(home=tmp_path / "home", sources_file=sources, local_roots=(SAMPLES,))
    srcs = pipeline.list_sources(settings)
    collected = [pipeline.collect(pipeline.discover(s, NIGHT, settings), settings) for s in srcs]
    pipeline.land_run(NIGHT, srcs, collected, settings)
    pipeline.load_run(NIGHT, settings)
    monkeypatch.setenv("WIREHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("WIREHOUSE_SOURCES", str(sources))
    return settings


def articles(settings: Settings) -> list[dict]:
    path = land.partition_dir(settings.landing_dir, "articles", NIGHT) / "articles.parquet"
    return sorted(pq.read_table(path).to_pylist(), key=lambda a: a["article_id"])


def test_reextract_keeps_a_page_whose_raw_body_is_truncated(landed_night: Settings, capsys) -> None:
    before = articles(landed_night)
    fetch = pq.read_table(
        land.partition_dir(landed_night.landing_dir, "fetches", NIGHT) / "fetches.parquet"
    ).to_pylist()
    victim = next(f for f in fetch if f["fetch_id"] == before[0]["fetch_id"])
    path = raw.body_path(landed_night.raw_dir, victim["body_sha256"])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    assert cli.main(["reextract", "--since", NIGHT]) == 0  # no abort
    out = capsys.readouterr().out
    assert f"kept as landed, not re-extracted: {victim['url']}" in out and "corrupt" in out
    summary = pipeline.reextract(landed_night, NIGHT, load_warehouse=False)[NIGHT]
    assert summary["unreadable"] == 1
    assert summary["unreadable_reasons"][0]["fetch_id"] == victim["fetch_id"]
    assert articles(landed_night) == before  # the page keeps its landed article


def test_a_rerun_after_reextract_lands_the_reextracted_rows(landed_night: Settings) -> None:
    """The stored collection a re-run reuses is given the re-extracted rows too."""
    settings = landed_night
    work = pipeline.collected_paths(settings, NIGHT, "lantern")["articles"]
    stale = pq.read_table(work)
    titles = stale.column("title").to_pylist()
    pq.write_table(stale.set_column(stale.schema.get_field_index("title"), "title",
                                    pa.array(["as an older extractor saw it"] * len(titles))), work)  # fmt: skip
    pipeline.reextract(settings, NIGHT, load_warehouse=False)
    reextracted = articles(settings)
    srcs = pipeline.list_sources(settings)
    collected = [pipeline.collect(pipeline.discover(s, NIGHT, settings), settings) for s in srcs]
    assert all(c["reused"] for c in collected)
    pipeline.land_run(NIGHT, srcs, collected, settings)
    assert articles(settings) == reextracted
    assert "as an older extractor saw it" not in {a["title"] for a in reextracted}


def test_a_dates_collection_is_written_once(landed_night: Settings) -> None:
    """Files change on disk, the date is re-run: its stored collection is reused."""
    settings = landed_night
    source = pipeline.list_sources(settings)[0]
    discovery = pipeline.discover(source, NIGHT, settings)
    again = pipeline.collect(discovery, settings)
    assert discovery["reused"] and again["reused"]
    assert again["articles"] == len(articles(settings))
    forced = pipeline.collect(pipeline.discover(source, NIGHT, settings, force=True), settings)
    assert "reused" not in forced  # a newer discovery makes the collection stale
