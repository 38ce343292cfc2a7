"""The `wirehouse` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wirehouse import cli, land, load

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
    assert cli.main(["summary"]) == 0
    assert str(tmp_path / "wirehouse.duckdb") in capsys.readouterr().out
    assert cli.main(["query", "select 41 + 1 as answer", "--live"]) == 0
    assert "42" in capsys.readouterr().out
    assert cli.main(["query", "select * from nowhere", "--live"]) == 1
