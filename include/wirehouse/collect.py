"""Collection: fetch (or read) every candidate of one source and extract it.

Each candidate ends as exactly one fetch row, whatever happens to it, and each page that
yields text as one article row. Nothing here raises for a bad page or server: failures are
data. Network work runs on a thread pool; the per-host pacing in the fetcher keeps it polite.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wirehouse.discover import Candidate
from wirehouse.extract import ExtractionEmpty, extract_article
from wirehouse.fetch import Fetcher, FetchResult, decode_html, is_html
from wirehouse.sources import Source
from wirehouse.urls import article_key, stable_hash

MAX_FILE_BYTES = 20 * 1024 * 1024
WORKERS = 8


@dataclass
class Collected:
    """The rows one source produced in one run."""

    fetches: list[dict[str, Any]]
    articles: list[dict[str, Any]]


def fetch_row(
    run_date: str, source_id: str, url_kind: str, result: FetchResult, n: int
) -> dict[str, Any]:
    """A landing.fetches row; `n` numbers repeated attempts at the same URL in one run."""
    return {
        "fetch_id": stable_hash(run_date, source_id, url_kind, result.url, n),
        "run_date": run_date,
        "source_id": source_id,
        "url": result.url,
        "final_url": result.final_url,
        "url_kind": url_kind,
        "outcome": result.outcome,
        "http_status": result.http_status,
        "error": result.error,
        "content_type": result.content_type,
        "bytes": len(result.body) if result.ok else 0,
        "elapsed_ms": result.elapsed_ms,
        "attempts": result.attempts,
        "fetched_at": result.fetched_at,
    }


def read_file(candidate: Candidate) -> FetchResult:
    """A saved page from disk, as if it had been fetched."""
    path = Path(candidate.path or "")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return FetchResult(
                url=candidate.url, outcome="too_large", error=f"file is {size} bytes"
            )
        body = path.read_bytes()
    except OSError as exc:
        return FetchResult(url=candidate.url, outcome="file_error", error=repr(exc))
    return FetchResult(
        url=candidate.url,
        outcome="ok",
        final_url=candidate.url,
        body=body,
        content_type="text/html",
    )


def read_warc_record(candidate: Candidate) -> FetchResult:
    """The HTTP response stored at `candidate.offset` of a WARC file."""
    from warcio.archiveiterator import ArchiveIterator

    try:
        with open(candidate.path or "", "rb") as fh:
            fh.seek(candidate.offset or 0)
            record = next(iter(ArchiveIterator(fh)))
            status = record.http_headers.get_statuscode() if record.http_headers else None
            ctype = record.http_headers.get_header("Content-Type") if record.http_headers else None
            body = record.content_stream().read(MAX_FILE_BYTES + 1)
    except Exception as exc:  # corrupt archives are data, not crashes
        return FetchResult(url=candidate.url, outcome="file_error", error=f"WARC: {exc!r}")
    result = FetchResult(
        url=candidate.url,
        outcome="ok",
        final_url=candidate.url,
        body=body,
        content_type=ctype,
        http_status=int(status) if status and status.isdigit() else None,
    )
    if len(body) > MAX_FILE_BYTES:
        result.outcome, result.error, result.body = "too_large", "WARC record over cap", b""
    elif result.http_status and result.http_status >= 400:
        result.outcome, result.error, result.body = "http_error", f"HTTP {status}", b""
    return result


def process_candidate(
    candidate: Candidate, fetcher: Fetcher
) -> tuple[str, FetchResult, dict | None]:
    """Fetch or read one candidate and extract it; returns (url_kind, result, article)."""
    if candidate.via == "file":
        kind, result = "file", read_file(candidate)
    elif candidate.via == "warc":
        kind, result = "file", read_warc_record(candidate)
    else:
        kind, result = "article", fetcher.fetch(candidate.url)
    if not result.ok:
        result.body = b""
        return kind, result, None
    if not is_html(result.content_type, result.body):
        result.outcome, result.error = "not_html", f"content type {result.content_type!r}"
        result.body = b""
        return kind, result, None
    html = decode_html(result.body, result.encoding)
    page_url = result.final_url or candidate.url
    try:
        record = extract_article(html, page_url, trust_any_site=candidate.via == "file")
    except ExtractionEmpty as exc:
        result.outcome, result.error = "extraction_empty", str(exc)
        return kind, result, None
    except Exception as exc:  # an extractor bug on one page must not stop the source
        result.outcome, result.error = "extraction_error", repr(exc)
        return kind, result, None
    article = {
        "article_id": article_key(record.canonical_url),
        "url": record.canonical_url if candidate.via == "file" else page_url,
        "canonical_url": record.canonical_url,
        "title": record.title,
        "authors": record.authors,
        "description": record.description,
        "site_name": record.site_name,
        "published_at": record.published_at,
        "language": record.language,
        "word_count": record.word_count,
        "body": record.body,
        "content_hash": record.content_hash,
    }
    return kind, result, article


def collect_source(
    source: Source,
    run_date: str,
    candidates: Iterable[Candidate],
    discovery_attempts: Iterable[tuple[str, FetchResult]],
    fetcher: Fetcher,
) -> Collected:
    """All rows of one source for one run: entry-point attempts, then one row per candidate
    (`duplicate_url` and `over_limit` ones included, so no URL disappears silently)."""
    counts: dict[tuple[str, str], int] = {}

    def row(kind: str, result: FetchResult) -> dict[str, Any]:
        key = (kind, result.url)
        counts[key] = counts.get(key, 0) + 1
        return fetch_row(run_date, source.id, kind, result, counts[key])

    fetches = [row(kind, result) for kind, result in discovery_attempts]
    todo: list[Candidate] = []
    seen: set[str] = set()
    for cand in candidates:
        kind = "file" if cand.via in ("file", "warc") else "article"
        if cand.url in seen:
            fetches.append(
                row(
                    kind,
                    FetchResult(
                        url=cand.url, outcome="duplicate_url", error="already collected in this run"
                    ),
                )
            )
        elif len(todo) >= source.max_urls:
            fetches.append(
                row(
                    kind,
                    FetchResult(
                        url=cand.url,
                        outcome="over_limit",
                        error=f"source max_urls={source.max_urls}",
                    ),
                )
            )
        else:
            seen.add(cand.url)
            todo.append(cand)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(lambda c: process_candidate(c, fetcher), todo))

    articles: list[dict[str, Any]] = []
    seen_articles: set[str] = set()
    for kind, result, article in results:
        if article and article["article_id"] in seen_articles:
            result.outcome, result.error = "duplicate_url", "same canonical URL as another page"
            article = None
        frow = row(kind, result)
        fetches.append(frow)
        if article:
            seen_articles.add(article["article_id"])
            articles.append(
                {
                    **article,
                    "run_date": run_date,
                    "source_id": source.id,
                    "fetch_id": frow["fetch_id"],
                    "fetched_at": result.fetched_at,
                }
            )
    return Collected(fetches=fetches, articles=articles)


__all__ = ["Collected", "collect_source", "fetch_row"]
