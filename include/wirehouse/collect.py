"""Collection: fetch (or read) every candidate of one source and extract it.

Each candidate ends as exactly one fetch row, whatever happens to it, and each page that
yields text as one article row. Nothing here raises for a bad page or server: failures are
data. Network work runs on a thread pool; the per-host pacing in the fetcher keeps it polite.
Every fetched body goes to the raw archive before extraction, so extraction can be re-run
later from the archive (:func:`extract_result` is the one code path for both).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wirehouse import jsonl
from wirehouse.config import shared_worker_processes
from wirehouse.dates import parse_timestamp
from wirehouse.discover import Candidate
from wirehouse.extract import ExtractionEmpty, extract_article, extract_record
from wirehouse.fetch import Fetcher, FetchResult, decode_html, is_html
from wirehouse.progress import Progress
from wirehouse.sources import Source
from wirehouse.urls import article_key, stable_hash
from wirehouse.workers import process_pool

MAX_FILE_BYTES = 20 * 1024 * 1024
WORKERS = 16
# a process's first pool starts the fork server (its imports cost about as much as 50 pages;
# wirehouse.workers); later pools fork from it at little cost
MIN_PAGES_PER_PROCESS = 50
# pages in flight: enough to keep every thread fetching and both cores extracting (a
# 5 MB page cap makes the worst case 64 + 64 pages, 640 MB; typical pages are 30-60 KB)
FETCH_WINDOW = 64
EXTRACT_WINDOW = 64
PAGE_KINDS = ("article", "file")
# the url_kind of a row about a whole source (url = its home_url), not one URL: the night's
# aggregated `over_limit` row and a failed task's `source_failed` row
SOURCE_KIND = "source"

log = logging.getLogger(__name__)


@dataclass
class Collected:
    """The rows one source produced in one run."""

    fetches: list[dict[str, Any]]
    articles: list[dict[str, Any]]


FILE_VIAS = ("file", "warc", "jsonl")


def url_kind_of(candidate: Candidate) -> str:
    return "file" if candidate.via in FILE_VIAS else "article"


def fetch_row(
    run_date: str,
    source_id: str,
    url_kind: str,
    result: FetchResult,
    n: int,
    listed_at: str | None = None,
    listed: Candidate | None = None,
) -> dict[str, Any]:
    """A landing.fetches row; `n` numbers repeated attempts at the same URL in one run.
    `listed` is the candidate, for what its feed or sitemap said (date, title, lastmod)."""
    if listed is not None:
        listed_at = listed.lastmod
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
        "bytes": result.bytes_received or len(result.body),
        "elapsed_ms": result.elapsed_ms,
        "attempts": result.attempts,
        "fetched_at": result.fetched_at,
        "listed_at": parse_timestamp(listed_at),
        "body_sha256": result.body_sha256,
        "listed_title": listed.title if listed else None,
        "listed_modified_at": parse_timestamp(listed.modified) if listed else None,
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
        bytes_received=len(body),
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
        bytes_received=len(body),
        content_type=ctype,
        http_status=int(status) if status and status.isdigit() else None,
    )
    if len(body) > MAX_FILE_BYTES:
        result.outcome, result.error, result.body = "too_large", "WARC record over cap", b""
    elif result.http_status and result.http_status >= 400:
        result.outcome, result.error, result.body = "http_error", f"HTTP {status}", b""
    return result


def read_jsonl_line(candidate: Candidate, lines: jsonl.LineReader) -> FetchResult:
    """One line of a JSON Lines dump, as if it had been fetched: the line is the body (so it
    is archived, skipped on later nights and re-extractable like any page) and its content
    type routes it to :func:`wirehouse.extract.extract_record` instead of the HTML path."""
    try:
        line = lines.take(candidate.path or "", candidate.offset or 0, candidate.url)
    except jsonl.BadLine as exc:
        return FetchResult(url=candidate.url, outcome=exc.outcome, error=str(exc))
    return FetchResult(
        url=candidate.url,
        outcome="ok",
        final_url=jsonl.line_uri(Path(candidate.path or ""), candidate.offset or 0),
        body=line,
        bytes_received=len(line),
        content_type=jsonl.CONTENT_TYPE,
    )


def fetch_candidate(candidate: Candidate, fetcher: Fetcher, lines: jsonl.LineReader) -> FetchResult:
    """Fetch or read one candidate, whatever kind it is (`lines` serves JSON Lines dumps)."""
    if candidate.via == "file":
        return read_file(candidate)
    if candidate.via == "warc":
        return read_warc_record(candidate)
    if candidate.via == "jsonl":
        return read_jsonl_line(candidate, lines)
    return fetcher.fetch(candidate.url)


def is_jsonl_line(result: FetchResult) -> bool:
    """A line of a JSON Lines dump (already extracted), not a page."""
    return (result.content_type or "").split(";", 1)[0].strip().lower() == jsonl.CONTENT_TYPE


def extract_result(
    result: FetchResult, body: bytes, listed_at: datetime | None = None
) -> dict[str, Any] | None:
    """Extract an ok fetch; on failure set its outcome and error and return None.

    Used by the nightly collection and by re-extraction from the raw archive alike. A saved
    file (a ``file:`` URL) has no site of its own, so its canonical link is trusted as is.
    A JSON Lines record is already extracted: its identity (the fetch's URL) is its URL."""
    trust_any_site = result.url.startswith("file:")
    record_line = is_jsonl_line(result)
    if not record_line and not is_html(result.content_type, body):
        result.outcome, result.error = "not_html", f"content type {result.content_type!r}"
        return None
    page_url = result.final_url or result.url
    try:
        if record_line:
            page_url = result.url
            record = extract_record(body, result.url, fetched_at=result.fetched_at)
        else:
            record = extract_article(
                decode_html(body, result.encoding or _charset_of(result.content_type)),
                page_url,
                trust_any_site=trust_any_site,
                fetched_at=result.fetched_at,
                listed_at=listed_at,
            )
    except jsonl.BadLine as exc:
        result.outcome, result.error = exc.outcome, str(exc)
        return None
    except ExtractionEmpty as exc:
        result.outcome, result.error = "extraction_empty", str(exc)
        return None
    except Exception as exc:  # an extractor bug on one page must not stop the source
        result.outcome, result.error = "extraction_error", repr(exc)
        return None
    result.outcome, result.error = "ok", None
    return {
        **record.__dict__,
        "article_id": article_key(record.canonical_url),
        "url": record.canonical_url if trust_any_site and not record_line else page_url,
    }


def _extract_job(
    result: FetchResult, body: bytes, listed_at: datetime | None
) -> tuple[str, str | None, dict[str, Any] | None]:
    """extract_result in a worker process: returns the outcome, error and article."""
    article = extract_result(result, body, listed_at)
    return result.outcome, result.error, article


class _InlineExecutor(Executor):
    """Runs jobs in the calling thread: for a handful of pages a process pool costs more
    (start-up and imports) than it saves."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _extractor(pages: int) -> Executor:
    processes = min(shared_worker_processes(), max(1, pages // MIN_PAGES_PER_PROCESS))
    if processes <= 1:
        return _InlineExecutor()
    # not a plain fork: the fetch threads may hold locks a forked child would inherit (the
    # fork server is a fresh single-threaded interpreter; see wirehouse.workers)
    return process_pool(processes)


def first_of_article(
    result: FetchResult, article: dict[str, Any] | None, key: object, seen: set[object]
) -> dict[str, Any] | None:
    """Keep the first page of an article (by `key`, e.g. its id within a source): a later
    page with the same canonical URL becomes a `duplicate_url` row and yields no article."""
    if article is None:
        return None
    if key in seen:
        result.outcome, result.error = "duplicate_url", "same canonical URL as another page"
        return None
    seen.add(key)
    return article


def _charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip()
    return None


def over_limit_result(source: Source, over: int) -> FetchResult:
    """The night's one `over_limit` row of a source: how many candidates were left out,
    under the source's home page (one row, however many URLs: a row per URL would make
    an unbounded night from a bounded one)."""
    return FetchResult(
        url=source.home_url,
        outcome="over_limit",
        attempts=0,
        error=f"{over} candidates over max_urls={source.url_cap('url')}",
    )


def collect_source(
    source: Source,
    run_date: str,
    candidates: Iterable[Candidate],
    discovery_attempts: Iterable[tuple[str, FetchResult]],
    fetcher: Fetcher,
    *,
    known_urls: frozenset[str] = frozenset(),
    archive: Callable[[FetchResult], None] | None = None,
    extract: bool = True,
    workers: int = WORKERS,
) -> Collected:
    """All rows of one source for one run, as lists (see :func:`iter_collect`, which
    streams them for a source too big to hold)."""
    collected = Collected(fetches=[], articles=[])
    for table, row in iter_collect(
        source,
        run_date,
        candidates,
        discovery_attempts,
        fetcher,
        known_urls=known_urls,
        archive=archive,
        extract=extract,
        workers=workers,
    ):
        (collected.fetches if table == "fetches" else collected.articles).append(row)
    return collected


def iter_collect(
    source: Source,
    run_date: str,
    candidates: Iterable[Candidate],
    discovery_attempts: Iterable[tuple[str, FetchResult]],
    fetcher: Fetcher,
    *,
    known_urls: frozenset[str] = frozenset(),
    archive: Callable[[FetchResult], None] | None = None,
    extract: bool = True,
    workers: int = WORKERS,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """All rows of one source for one run, streamed as ``("fetches", row)`` and
    ``("articles", row)``: entry-point attempts, rows of candidates skipped without a
    request, then each collected candidate's fetch row (and article) in candidate order.

    Candidates already fetched successfully on an earlier night (`known_urls`) are not
    fetched again unless the source sets `refresh`; they and repeated URLs still get a row
    each (`already_fetched`, `duplicate_url`), so no URL disappears silently. Candidates
    beyond the source's cap (`Source.url_cap`: `max_urls` for fetched URLs; saved pages and
    WARC records only when the source sets `max_urls`; JSON Lines lines never, since reading
    them asks nothing of any publisher) are counted into one `over_limit` row. Each body is
    archived, extracted and released as it comes: only the pages in flight are held, never
    the whole source."""
    counts: dict[tuple[str, str], int] = {}

    def row(kind: str, result: FetchResult, listed: Candidate | None = None) -> dict[str, Any]:
        key = (kind, result.url)
        counts[key] = counts.get(key, 0) + 1
        return fetch_row(run_date, source.id, kind, result, counts[key], listed=listed)

    for kind, result in discovery_attempts:
        yield "fetches", row(kind, result)
    todo: list[Candidate] = []
    seen: set[str] = set()
    requests = 0  # candidates that count against max_urls
    over = 0
    for cand in candidates:
        skip = None
        if cand.url in seen:
            skip = FetchResult(
                url=cand.url,
                outcome="duplicate_url",
                attempts=0,
                error="already collected in this run",
            )
        elif cand.url in known_urls and not source.refresh:
            skip = FetchResult(
                url=cand.url,
                outcome="already_fetched",
                attempts=0,
                error="fetched successfully on an earlier night",
            )
        elif (cap := source.url_cap(cand.via)) is not None and requests >= cap:
            over += 1
            continue
        if skip is not None:
            yield "fetches", row(url_kind_of(cand), skip, cand)
            continue
        seen.add(cand.url)
        todo.append(cand)
        requests += source.url_cap(cand.via) is not None
    if over:
        yield "fetches", row(SOURCE_KIND, over_limit_result(source, over))
    del seen

    seen_articles: set[object] = set()
    progress = Progress(log, f"collect {source.id}", total=len(todo), unit="pages")
    articles = 0
    for cand, result, extracted in _fetch_and_extract(
        todo, fetcher, archive=archive, extract=extract, workers=workers, source_id=source.id
    ):
        progress.advance()
        key = extracted["article_id"] if extracted else None
        article = first_of_article(result, extracted, key, seen_articles)
        frow = row(url_kind_of(cand), result, cand)
        yield "fetches", frow
        if article:
            articles += 1
            yield (
                "articles",
                {
                    **article,
                    "run_date": run_date,
                    "source_id": source.id,
                    "fetch_id": frow["fetch_id"],
                    "fetched_at": result.fetched_at,
                    "listed_at": frow["listed_at"],
                },
            )
    progress.finish(f"{articles:,} articles")


def _fetch_and_extract(
    todo: list[Candidate],
    fetcher: Fetcher,
    *,
    archive: Callable[[FetchResult], None] | None,
    extract: bool,
    workers: int,
    source_id: str,
) -> Iterator[tuple[Candidate, FetchResult, dict[str, Any] | None]]:
    """(candidate, result, extracted article or None) for each candidate, in order.

    Network on threads; extraction (CPU-bound) on processes, fed as pages arrive, so both
    cores work. At most `FETCH_WINDOW` fetches and `EXTRACT_WINDOW` extractions are in
    flight: a body is released as soon as its page is extracted, so memory does not grow
    with the source. JSON Lines are read here, on this thread, in candidate order (so
    the dump is read forward once); archiving them is left to the threads."""

    def store(result: FetchResult) -> tuple[FetchResult, bytes]:
        body, result.body = result.body, b""
        if not result.ok:
            return result, b""
        if body and archive is not None:
            result.body = body
            archive(result)
            result.body = b""
        if extract and not body:
            result.outcome, result.error = "extraction_empty", "empty body"
        return result, body

    fetching: deque[tuple[Candidate, Future[tuple[FetchResult, bytes]]]] = deque()
    extracting: deque[tuple[Candidate, FetchResult, Future[Any] | None, bytes, Any]] = deque()
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        _extractor(len(todo)) as extractor,
        jsonl.LineReader(source_id) as lines,
    ):
        fetch_window = max(FETCH_WINDOW, 2 * workers)

        def advance() -> None:
            """Hand the oldest fetch to extraction (waiting for it if need be)."""
            cand, fetched = fetching.popleft()
            result, body = fetched.result()
            if extract and result.ok:
                listed_at = parse_timestamp(cand.lastmod)
                job = extractor.submit(_extract_job, result, body, listed_at)
                extracting.append((cand, result, job, body, listed_at))
            else:
                extracting.append((cand, result, None, b"", None))

        def finish() -> tuple[Candidate, FetchResult, dict[str, Any] | None]:
            cand, result, job, body, listed_at = extracting.popleft()
            if job is None:
                return cand, result, None
            try:
                outcome, error, article = job.result()
                result.outcome, result.error = outcome, error
            except Exception:  # a worker that died (e.g. out of memory) must not lose the page
                article = extract_result(result, body, listed_at)
            return cand, result, article

        for cand in todo:
            if cand.via == "jsonl":
                fetched = pool.submit(store, read_jsonl_line(cand, lines))
            else:
                fetched = pool.submit(lambda c: store(fetch_candidate(c, fetcher, lines)), cand)
            fetching.append((cand, fetched))
            while len(fetching) > fetch_window:
                advance()
                while len(extracting) > EXTRACT_WINDOW:
                    yield finish()
        while fetching:
            advance()
            while len(extracting) > EXTRACT_WINDOW:
                yield finish()
        while extracting:
            yield finish()
