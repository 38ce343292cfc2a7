"""Sources-file validation: every error names the file, the source and the field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wirehouse.config import load_settings
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


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ("    urls: ['http://news.example:99999/b']\n", "'urls[0]' must be an http(s) URL"),
        ("    feeds: ['http://[oops/x']\n", "'feeds[0]' must be an http(s) URL"),
        (
            "    url_lists: ['http://news.example:99999/l.txt']\n",
            "'url_lists[0]' must be an http(s) URL",
        ),
        ("    max_candidates: 0\n", "'max_candidates' must be a whole number >= 1"),
    ],
)
def test_unparseable_urls_are_named_not_raised(patch: str, field: str) -> None:
    with pytest.raises(SourcesError, match=r"sources\.yml: sources\[0\] \(id 'lantern'\)") as err:
        parse_sources(GOOD + patch)
    assert field in str(err.value)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ("    url_lists: [../../etc/passwd]\n", "'url_lists[0]' names '../../etc/passwd'"),
        ("    url_lists: [/proc/self/environ]\n", "'url_lists[0]' names '/proc/self/environ'"),
        ("    files: [saved/*.html, '../*.html']\n", "'files[1]' names '../*.html'"),
        ("    files: [saved/*.html, '/etc/**/*.html']\n", "'files[1]' names '/etc/**/*.html'"),
        ("    files: [saved/../../x/*.html]\n", "'files[0]' names 'saved/../../x/*.html'"),
        ("    files: [escape/*.html]\n", "'files[0]' names 'escape/*.html'"),  # a symlink out
    ],
)
def test_local_paths_outside_the_sources_folder_are_refused(
    tmp_path: Path, patch: str, field: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "escape").symlink_to(tmp_path)
    doc = GOOD.replace("    files: [saved/*.html]\n", "") if "files:" in patch else GOOD
    (home / "sources.yml").write_text(doc + patch)
    with pytest.raises(SourcesError) as err:
        load_sources(home / "sources.yml")
    assert "sources.yml: sources[0] (id 'lantern')" in str(err.value)
    assert field in str(err.value)
    assert "WIREHOUSE_LOCAL_ROOTS" in str(err.value)


def test_local_roots_setting_allows_more_folders(tmp_path: Path) -> None:
    home, extra = tmp_path / "home", tmp_path / "archive"
    home.mkdir()
    extra.mkdir()
    (home / "sources.yml").write_text(
        GOOD.replace("    files: [saved/*.html]\n", "")
        + f"    files: [saved/*.html, '{extra}/*.warc.gz']\n    url_lists: [../archive/urls.txt]\n"
    )
    with pytest.raises(SourcesError, match=r"'url_lists\[0\]' names '\.\./archive/urls\.txt'"):
        load_sources(home / "sources.yml")
    settings = load_settings({"WIREHOUSE_LOCAL_ROOTS": f"{extra}{os.pathsep}{tmp_path / 'more'}"})
    assert settings.local_roots == (extra.resolve(), (tmp_path / "more").resolve())
    [src] = load_sources(home / "sources.yml", settings.local_roots)
    assert src.local_roots == (str(extra.resolve()), str((tmp_path / "more").resolve()))
    assert src.from_dict(src.to_dict()).local_roots == src.local_roots
    assert load_settings({}).local_roots == ()


def test_max_urls_default_caps_fetched_urls_not_local_files() -> None:
    [src] = parse_sources(GOOD)
    assert src.max_urls is None
    assert (src.url_cap("feed"), src.url_cap("url"), src.url_cap("sitemap")) == (200,) * 3
    assert (src.url_cap("file"), src.url_cap("warc"), src.url_cap("jsonl")) == (None,) * 3
    [capped] = parse_sources(GOOD + "    max_urls: 50\n")
    assert (capped.url_cap("feed"), capped.url_cap("file"), capped.url_cap("warc")) == (50,) * 3
    assert capped.url_cap("jsonl") is None, "a dump comes in whole"
    assert src.max_candidates == 100_000
