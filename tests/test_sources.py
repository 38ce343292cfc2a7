"""Sources-file validation: every error names the file, the source and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirehouse.sources import SourcesError, load_sources, parse_sources

GOOD = """
sources:
  - id: lantern
    name: The Daily Lantern
    home_url: https://www.dailylantern.example/
    feeds: [https://www.dailylantern.example/rss.xml]
    files: [saved/*.html]
"""


def test_valid_file_parses_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(GOOD)
    [src] = load_sources(path)
    assert src.id == "lantern"
    assert src.domain == "dailylantern.example"
    assert src.feeds == ("https://www.dailylantern.example/rss.xml",)
    assert src.allow_private_hosts is False
    assert src.base_dir == str(tmp_path.resolve())
    assert src.from_dict(src.to_dict()) == src


def test_private_host_allow_list() -> None:
    [src] = parse_sources(GOOD + "    allow_private_hosts: [LocalHost]\n    refresh: true\n")
    assert src.allow_private_hosts == ("localhost",)
    assert src.may_reach_private("localhost") and not src.may_reach_private("127.0.0.1")
    assert src.refresh is True
    assert src.from_dict(src.to_dict()) == src


def test_top_level_list_is_accepted() -> None:
    [src] = parse_sources(
        "- {id: a, name: A, home_url: 'https://a.example/', urls: ['https://a.example/x']}"
    )
    assert src.urls == ("https://a.example/x",)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("    feed: [https://x.example/rss]\n", "unknown field 'feed'"),
        (
            "    allow_private_hosts: yes please\n",
            "'allow_private_hosts' must be true, false or a list",
        ),
        ("    refresh: sometimes\n", "'refresh' must be true or false"),
        ("    concurrency: 0\n", "'concurrency' must be a whole number >= 1"),
        ("    timeout_seconds: 0\n", "'timeout_seconds' must be a number > 0"),
        ("    url_lists: ['']\n", "'url_lists[0]' must be an http(s) URL or a file path"),
        ("    sitemaps: [ftp://x.example/sitemap.xml]\n", "'sitemaps[0]' must be an http(s) URL"),
        ("    max_urls: 0\n", "'max_urls' must be a whole number >= 1"),
        ("    delay_seconds: -1\n", "'delay_seconds' must be a number >= 0"),
        ("    files: [3]\n", "'files[0]' must be a path or glob"),
    ],
)
def test_bad_field_is_named(patch: str, message: str) -> None:
    with pytest.raises(SourcesError) as err:
        parse_sources(GOOD + patch)
    text = str(err.value)
    assert message in text
    assert "sources.yml: sources[0] (id 'lantern')" in text


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("sources: []", "'sources' must be a non-empty list"),
        (
            "sources: [{id: Bad Id, name: x, home_url: 'https://x.example/', urls: ['https://x.example/a']}]",
            "'id' must be a lowercase slug",
        ),
        (
            "sources: [{id: a, home_url: 'https://x.example/', urls: ['https://x.example/a']}]",
            "'name' is required",
        ),
        (
            "sources: [{id: a, name: A, home_url: 'x.example', urls: ['https://x.example/a']}]",
            "'home_url' must be an http(s) URL",
        ),
        ("sources: [{id: a, name: A, home_url: 'https://x.example/'}]", "needs at least one of"),
        ("srcs: []", "unknown top-level field 'srcs'"),
        ("sources: [\n  - id: a\n bad", "not valid YAML"),
    ],
)
def test_invalid_documents(doc: str, message: str) -> None:
    with pytest.raises(SourcesError, match=r"sources\.yml") as err:
        parse_sources(doc)
    assert message in str(err.value)


def test_duplicate_ids_are_rejected() -> None:
    one = "  - {id: a, name: A, home_url: 'https://a.example/', urls: ['https://a.example/x']}\n"
    with pytest.raises(SourcesError, match="sources\\[1\\]: duplicate id 'a'"):
        parse_sources("sources:\n" + one + one)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.yml")


def test_bundled_default_sources_file_is_valid() -> None:
    sources = load_sources(Path(__file__).parents[1] / "include" / "sources.yml")
    assert any(s.files for s in sources), "the offline sample must be a files source"
    assert any(s.feeds for s in sources), "the default file lists real public feeds"
