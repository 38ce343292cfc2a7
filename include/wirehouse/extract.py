"""Extraction: from an HTML page to an article record.

trafilatura finds the main text; the page's own metadata (canonical link, Open Graph and
article meta tags) is read directly because it is more precise than the extractor's
heuristics (a full publication timestamp rather than a day). The canonical link is only
trusted when it stays on the page's own site, so a hostile page cannot claim another
outlet's article id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html
import trafilatura

from wirehouse.dates import parse_timestamp
from wirehouse.normalise import content_hash, detect_language, normalise_body, word_count
from wirehouse.urls import canonicalize_url, same_site


@dataclass
class ArticleRecord:
    """The extracted, normalised article."""

    canonical_url: str
    title: str | None
    body: str
    authors: list[str] = field(default_factory=list)
    description: str | None = None
    site_name: str | None = None
    published_at: datetime | None = None
    language: str = "und"
    word_count: int = 0
    content_hash: str = ""

    def to_json_dict(self) -> dict[str, object]:
        """The record as JSON-safe values (timestamps as ISO 8601 strings)."""
        data = dict(self.__dict__)
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        return data


MIN_BODY_WORDS = 5  # below this the "text" is a menu item or a caption, not an article


class ExtractionEmpty(ValueError):
    """The page yielded no article text."""


def page_metadata(html: str) -> dict[str, str]:
    """Canonical link and the meta tags we trust, keyed by property/name (lowercased)."""
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return {}
    meta: dict[str, str] = {}
    for node in doc.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").lower()
        content = node.get("content")
        if key and content and key not in meta:
            meta[key] = content.strip()
    for node in doc.iter("link"):
        if (node.get("rel") or "").lower() == "canonical" and node.get("href"):
            meta.setdefault("canonical", node.get("href").strip())
    return meta


def choose_canonical(url: str, meta: dict[str, str], trust_any_site: bool = False) -> str:
    """The page's canonical URL when it is on the same site (or the page is a saved file
    with no site of its own), else the fetched URL."""
    for key in ("canonical", "og:url"):
        candidate = meta.get(key)
        if not candidate:
            continue
        resolved = canonicalize_url(candidate, url)
        if resolved.startswith(("http://", "https://")) and (
            trust_any_site or same_site(resolved, url)
        ):
            return resolved
    return canonicalize_url(url)


def split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    parts = [p.strip() for chunk in value.split(";") for p in chunk.split(",")]
    return [p for p in parts if p]


def extract_article(html: str, url: str, *, trust_any_site: bool = False) -> ArticleRecord:
    """Extract one page; raises ExtractionEmpty when there is no article text."""
    meta = page_metadata(html)
    canonical = choose_canonical(url, meta, trust_any_site=trust_any_site)
    raw = trafilatura.extract(
        html,
        url=canonical,
        output_format="json",
        with_metadata=True,
        include_comments=False,
        include_tables=False,
    )
    data = json.loads(raw) if raw else {}
    body = normalise_body(data.get("text") or "")
    if word_count(body) < MIN_BODY_WORDS:
        raise ExtractionEmpty(f"no article text found (fewer than {MIN_BODY_WORDS} words)")
    published = parse_timestamp(meta.get("article:published_time")) or parse_timestamp(
        data.get("date")
    )
    language, _confidence = detect_language(body)
    return ArticleRecord(
        canonical_url=canonical,
        title=(meta.get("og:title") or data.get("title") or None),
        body=body,
        authors=split_authors(data.get("author") or meta.get("author")),
        description=data.get("description") or meta.get("og:description") or None,
        site_name=meta.get("og:site_name") or data.get("sitename") or None,
        published_at=published,
        language=language,
        word_count=word_count(body),
        content_hash=content_hash(body),
    )
