"""URL canonicalisation and keys."""

from __future__ import annotations

import pytest

from wirehouse.urls import article_key, canonicalize_url, same_site


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/a/b?utm_source=x&id=3#top",
            "https://www.example.com/a/b?id=3",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=1&gclid=2", "http://example.com:8080/x"),
        ("https://example.com/x?b=2&a=1", "https://example.com/x?b=2&a=1"),
    ],
)
def test_canonicalize(raw: str, expected: str) -> None:
    assert canonicalize_url(raw) == expected


def test_relative_links_resolve_against_base() -> None:
    assert (
        canonicalize_url("../b/c.html#x", "https://n.example/a/d/e.html")
        == "https://n.example/a/b/c.html"
    )


def test_same_site_ignores_www_and_subdomains() -> None:
    assert same_site("https://www.n.example/a", "https://n.example/b")
    assert same_site("https://news.n.example/a", "https://n.example/b")
    assert not same_site("https://n.example/a", "https://evil.example/b")


def test_article_key_is_stable_and_distinct() -> None:
    a = article_key("https://n.example/a")
    assert a == article_key("https://n.example/a") and len(a) == 16
    assert a != article_key("https://n.example/b")
