"""`files` sources are not capped by `max_urls` unless the source sets it: saved pages ask
nothing of any publisher, so an archive of 250 pages comes in whole on its first night."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirehouse.collect import Collected, collect_source
from wirehouse.discover import discover_source
from wirehouse.fetch import Fetcher
from wirehouse.sources import DEFAULT_MAX_URLS, parse_sources

PAGES = 250  # more than DEFAULT_MAX_URLS


def write_pages(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        words = " ".join(
            f"harbour{i} bridge vote number {i} and its {j} engineers" for j in range(12)
        )
        (folder / f"page-{i:03d}.html").write_text(
            f"<html><head><title>Bridge vote {i}</title></head><body><article>"
            f"<h1>Bridge vote {i}</h1><p>{words}.</p><p>{words} again.</p></article></body></html>"
        )


def collect_files(tmp_path: Path, extra: str = "") -> Collected:
    write_pages(tmp_path / "saved", PAGES)
    [source] = parse_sources(
        "sources:\n  - id: archive\n    name: Archive\n    home_url: https://archive.example/\n"
        f"    files: [saved/*.html]\n{extra}",
        base_dir=tmp_path,
    )
    with Fetcher("t") as fetcher:
        candidates, attempts = discover_source(source, fetcher)
        return collect_source(source, "2026-11-21", candidates, attempts, fetcher)


@pytest.fixture(autouse=True)
def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", "1")


def test_a_files_source_without_max_urls_stores_every_page(tmp_path: Path) -> None:
    assert PAGES > DEFAULT_MAX_URLS
    got = collect_files(tmp_path)
    assert [r["outcome"] for r in got.fetches] == ["ok"] * PAGES
    assert len({a["article_id"] for a in got.articles}) == PAGES


def test_an_explicit_max_urls_caps_files_too(tmp_path: Path) -> None:
    got = collect_files(tmp_path, "    max_urls: 100\n")
    outcomes = [r["outcome"] for r in got.fetches]
    assert outcomes.count("ok") == 100
    assert set(outcomes) == {"ok", "over_limit"}
