"""The `wirehouse` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from marts_fixture import write_warehouse

from wirehouse import cli, land, load
from wirehouse.publish import publish

ROOT = Path(__file__).resolve().parents[1]


def test_sources_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sources", "validate", str(ROOT / "include" / "sources.yml")]) == 0
    assert "sources OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text("sources: [{id: a, name: A, home_url: nope, urls: []}]")
    assert cli.main(["sources", "validate", str(bad)]) == 2
    assert "'home_url' must be an http(s) URL" in capsys.readouterr().err


def test_extract_prints_one_record_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = sorted((ROOT / "include" / "sample_articles" / "le_courrier").glob("*.html"))
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>")
    assert cli.main(["extract", *map(str, pages), str(empty)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["language"] for r in lines[:-1]] == ["fr"] * len(pages)
    assert lines[-1]["error"].startswith("no article text found")


def test_summary_and_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    assert cli.main(["summary"]) == 1
    load.load_run_date(tmp_path / "wirehouse.duckdb", tmp_path / "landing", "2026-11-22")
    land.write_partition(
        tmp_path / "landing", "sources", "2026-11-22", land.to_table("sources", [])
    )
    # the summary reads the published copy only: none yet, so nothing to summarise
    assert cli.main(["summary"]) == 1
    assert "no published copy" in capsys.readouterr().err
    publish(tmp_path / "wirehouse.duckdb", tmp_path / "published")
    assert cli.main(["summary"]) == 0
    assert str(tmp_path / "published" / "wirehouse.duckdb") in capsys.readouterr().out
    assert cli.main(["query", "select 41 + 1 as answer", "--live"]) == 0
    assert "42" in capsys.readouterr().out
    assert cli.main(["query", "select * from nowhere", "--live"]) == 1


HOLD_WRITER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # read-write: holds the file's lock, as a night's task does
con.execute("create table if not exists marts.busy (x int)")
print("holding", flush=True)
sys.stdin.readline()
"""


def _published_home(home: Path, night: int = 1) -> None:
    write_warehouse(home / "wirehouse.duckdb", night=night)
    publish(home / "wirehouse.duckdb", home / "published")


def test_summary_reads_the_published_copy_while_the_night_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    _published_home(tmp_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(tmp_path / "wirehouse.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "holding"
        # the live warehouse is locked by another process: the summary does not touch it
        assert cli.main(["summary"]) == 0
        out = capsys.readouterr().out
        assert "marts.fct_articles" in out and "4 rows" in out
        assert "snapshot" in out
        # the writer was never disturbed: it still holds and commits
    finally:
        writer.stdin.close()
        assert writer.wait(timeout=120) == 0


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "copy (select 1 as x) to '{out}'",
        "copy marts.fct_articles to '{out}' (format parquet)",
        "attach '{db}' as other",
        "set enable_external_access = true",
        "load httpfs",
    ],
)
@pytest.mark.parametrize("live", [False, True])
def test_query_has_no_external_access(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sql: str,
    live: bool,
) -> None:
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    _published_home(tmp_path)
    out = tmp_path / "leak.csv"
    duckdb.connect(str(tmp_path / "other.duckdb")).close()
    statement = sql.format(out=out, db=tmp_path / "other.duckdb")
    assert cli.main(["query", statement, *(["--live"] if live else [])]) == 1
    err = capsys.readouterr().err
    assert "query refused" in err or "configuration has been locked" in err, err
    assert not out.exists()
    # reading the warehouse itself still works, and --live stays read-only
    args = ["--live"] if live else []
    assert cli.main(["query", "select count(*) from marts.fct_articles", *args]) == 0
    assert cli.main(["query", "delete from marts.fct_articles", *args]) == 1
    assert "read-only" in capsys.readouterr().err


def test_search_prints_ranked_stories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    assert cli.main(["search", "niger drone base"]) == 1
    assert "no published copy" in capsys.readouterr().err
    _published_home(tmp_path, night=2)
    assert cli.main(["search", "niger drone base"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["#", "score"]
    assert len(lines) == 2 and "Niger orders closure of foreign drone base" in lines[1]
    assert lines[1].rstrip().endswith("[s_niger]") and " 2/2 " in lines[1]
    # "talks" is in the harbor story, "floods" in the flood story: two stories, --limit caps them
    assert cli.main(["search", "talks floods", "--limit", "5"]) == 0
    ranked = [
        line.rsplit("[", 1)[1].rstrip("]") for line in capsys.readouterr().out.splitlines()[1:]
    ]
    assert sorted(ranked) == ["s_flood", "s_harbor"]
    assert cli.main(["search", "talks floods", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert cli.main(["search", "volcano"]) == 0
    assert "no story matches 'volcano'" in capsys.readouterr().out
    assert cli.main(["search", "x", "--limit", "0"]) == 2


def test_the_summarys_search_example_finds_the_biggest_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The search command the summary suggests is made from this warehouse's biggest story,
    so a new user's first search finds something."""
    monkeypatch.setenv("WIREHOUSE_HOME", str(tmp_path))
    _published_home(tmp_path, night=2)
    assert cli.main(["summary"]) == 0
    (suggested,) = [
        line for line in capsys.readouterr().out.splitlines() if "wirehouse search" in line
    ]
    words = suggested.split('"')[1]
    assert words and words != "election results"
    assert cli.main(["search", words, "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2  # the header and one story
    assert cli.search_example(None) == "election results"
    assert (
        cli.search_example("Niger orders closure of foreign drone base") == "closure foreign orders"
    )
