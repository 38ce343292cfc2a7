"""Discovery: turn a source's feeds, sitemaps, URL lists and saved files into candidate
article URLs.

Parsing is pure (bytes in, candidates out) so it is tested without a network; the I/O of
fetching feeds and reading files happens in :func:`discover_source` at the edge. A feed
that cannot be fetched or parsed is recorded as a fetch row with its reason and discovery
carries on with the source's other entry points. Feeds, sitemaps and URL lists are fetched
with conditional GET when the previous night left validators (ETag / Last-Modified); the
date a feed or sitemap gives an entry travels with its URL as ``lastmod`` (ISO 8601, UTC).
"""

from __future__ import annotations

import glob
import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import feedparser
from lxml import etree

from wirehouse import jsonl
from wirehouse.dates import from_struct_time, parse_timestamp
from wirehouse.fetch import Fetcher, FetchResult, decode_html
from wirehouse.sources import Source
from wirehouse.urls import canonicalize_url

MAX_SITEMAP_DEPTH = 3
MAX_DECOMPRESSED = 50 * 1024 * 1024
HTML_SUFFIXES = (".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz")


@dataclass(frozen=True, slots=True)  # a big dump or sitemap has hundreds of thousands
class Candidate:
    """A URL (or saved page) to collect, with how it was found."""

    url: str
    via: str  # feed | sitemap | url | url_list | file | warc | jsonl
    lastmod: str | None = None  # ISO 8601 UTC, as the feed/sitemap/archive dated the entry
    path: str | None = None
    offset: int | None = None  # WARC: the record's byte offset; JSON Lines: the line number

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class DiscoveryParseError(ValueError):
    """A feed or sitemap body could not be understood."""


def parse_feed(body: bytes, base_url: str) -> list[Candidate]:
    """Article links of an RSS/Atom feed, in feed order, with their dates."""
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        raise DiscoveryParseError(f"not a feed: {parsed.get('bozo_exception')!r}")
    out = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        date = from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed"))
        out.append(
            Candidate(
                url=canonicalize_url(link, base_url),
                via="feed",
                lastmod=date.isoformat() if date else None,
            )
        )
    return out


def _maybe_gunzip(body: bytes) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
        data = fh.read(MAX_DECOMPRESSED + 1)
    if len(data) > MAX_DECOMPRESSED:
        raise DiscoveryParseError("gzipped sitemap decompresses beyond the size cap")
    return data


def parse_sitemap(body: bytes, base_url: str) -> tuple[list[Candidate], list[str]]:
    """URLs and nested sitemap URLs of a sitemap or sitemap index (gzipped or not)."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
        root = etree.fromstring(_maybe_gunzip(body), parser=parser)
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise DiscoveryParseError(f"not a sitemap: {exc}") from exc
    tag = etree.QName(root).localname
    if tag not in ("urlset", "sitemapindex"):
        raise DiscoveryParseError(f"not a sitemap: root element <{tag}>")
    urls: list[Candidate] = []
    children: list[str] = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        loc = lastmod = None
        for child in node.iter():
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name in ("lastmod", "publication_date") and child.text and not lastmod:
                lastmod = child.text.strip()
        if not loc:
            continue
        if tag == "sitemapindex":
            children.append(canonicalize_url(loc, base_url))
        else:
            date = parse_timestamp(lastmod)
            urls.append(
                Candidate(
                    url=canonicalize_url(loc, base_url),
                    via="sitemap",
                    lastmod=date.isoformat() if date else None,
                )
            )
    return urls, children


def expand_file_patterns(patterns: tuple[str, ...], base_dir: str) -> list[Path]:
    """Files matched by the source's globs, relative globs resolved from the sources file."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(Path(base_dir) / pattern)
        for name in sorted(glob.glob(full, recursive=True)):
            path = Path(name)
            if path.is_file():
                found.setdefault(str(path.resolve()), path.resolve())
    return list(found.values())


def iter_warc_responses(path: Path) -> Iterator[Candidate]:
    """Response records of a WARC file, each a candidate keyed by its target URI."""
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type != "response":
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if not uri:
                continue
            date = parse_timestamp(record.rec_headers.get_header("WARC-Date"))
            yield Candidate(
                url=canonicalize_url(uri),
                via="warc",
                lastmod=date.isoformat() if date else None,
                path=str(path),
                offset=records.get_record_offset(),
            )


def discover_jsonl(path: Path, source_id: str) -> tuple[list[Candidate], list[FetchResult]]:
    """One candidate per article line of a JSON Lines dump, keyed by the record's identity
    (see :mod:`wirehouse.jsonl`). A line that is not a JSON object, has no identity or is
    too long is a failure row of its own (`parse_error`, `invalid_url`, `too_large`) under
    ``<file URI>#line=N``; a file that breaks off keeps the lines before the break and adds a
    `file_error` row. Text is checked at collection, where a line without it becomes an
    `extraction_empty` row like an empty page."""
    candidates: list[Candidate] = []
    failures: list[FetchResult] = []

    def bad(number: int, outcome: str, error: str, size: int = 0) -> None:
        failures.append(
            FetchResult(
                url=jsonl.line_uri(path, number),
                outcome=outcome,
                error=f"line {number}: {error}",
                bytes_received=size,
                content_type=jsonl.CONTENT_TYPE,
            )
        )

    last = 0
    where = str(path)  # one string for every line's candidate
    try:
        for last, line in jsonl.iter_lines(path):
            if line is None:
                bad(last, "too_large", f"line over {jsonl.MAX_LINE_BYTES} bytes")
                continue
            try:
                identity = jsonl.record_identity(jsonl.parse_record(line), source_id)
            except jsonl.BadLine as exc:
                bad(last, exc.outcome, str(exc), len(line))
                continue
            candidates.append(Candidate(url=identity, via="jsonl", path=where, offset=last))
    except (OSError, EOFError) as exc:  # e.g. a truncated gzip: keep what came before
        failures.append(
            FetchResult(
                url=path.as_uri(),
                outcome="file_error",
                error=f"JSON Lines: unreadable after line {last}: {exc!r}",
            )
        )
    return candidates, failures


def discover_files(source: Source) -> tuple[list[Candidate], list[FetchResult]]:
    """Saved HTML pages, WARC response records and JSON Lines article dumps named by the
    source's `files` globs."""
    candidates: list[Candidate] = []
    failures: list[FetchResult] = []
    for path in expand_file_patterns(source.files, source.base_dir):
        name = path.name.lower()
        if name.endswith(HTML_SUFFIXES):
            candidates.append(Candidate(url=path.as_uri(), via="file", path=str(path)))
        elif jsonl.is_jsonl(name):
            found, bad_lines = discover_jsonl(path, source.id)
            candidates.extend(found)
            failures.extend(bad_lines)
        elif name.endswith(WARC_SUFFIXES):
            try:
                candidates.extend(iter_warc_responses(path))
            except Exception as exc:  # a corrupt archive must not stop the source
                failures.append(
                    FetchResult(url=path.as_uri(), outcome="file_error", error=f"WARC: {exc!r}")
                )
    for pattern in source.files:
        if not expand_file_patterns((pattern,), source.base_dir):
            failures.append(
                FetchResult(url=pattern, outcome="file_error", error="pattern matched no files")
            )
    return candidates, failures


def parse_url_list(text: str, base_url: str | None = None) -> list[Candidate]:
    """One URL per line; blank lines and ``#`` comments are skipped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(Candidate(url=canonicalize_url(line, base_url), via="url_list"))
    return out


Archiver = Callable[[FetchResult], None]


def _fetch_entry_point(
    fetcher: Fetcher, url: str, validators: dict[str, dict[str, str]], archive: Archiver | None
) -> FetchResult:
    result = fetcher.fetch(url, validators=validators.get(url))
    if result.ok and archive is not None:
        archive(result)
    return result


def discover_source(
    source: Source,
    fetcher: Fetcher,
    validators: dict[str, dict[str, str]] | None = None,
    archive: Archiver | None = None,
) -> tuple[list[Candidate], list[tuple[str, FetchResult]]]:
    """All candidates of a source, in discovery order, plus one (url_kind, FetchResult) per
    feed, sitemap, URL list or file pattern attempted (bodies dropped after parsing, once
    `archive` has kept them). `validators` maps an entry-point URL to the ETag and
    Last-Modified of its previous fetch. Deduplication and the `max_urls` cap are the
    collector's job, so that every skipped URL still gets its row."""
    validators = validators or {}
    candidates: list[Candidate] = []
    attempts: list[tuple[str, FetchResult]] = []

    def parse_into(kind: str, result: FetchResult, parse: Callable[[FetchResult], None]) -> None:
        if result.ok:
            try:
                parse(result)
            except DiscoveryParseError as exc:
                result.outcome, result.error = "parse_error", str(exc)
        result.body = b""
        attempts.append((kind, result))

    for feed_url in source.feeds:
        result = _fetch_entry_point(fetcher, feed_url, validators, archive)
        parse_into(
            "feed",
            result,
            lambda r, u=feed_url: candidates.extend(parse_feed(r.body, r.final_url or u)),
        )

    queue = [(url, 0) for url in source.sitemaps]
    visited: set[str] = set()
    while queue:
        sitemap_url, depth = queue.pop(0)
        if sitemap_url in visited:
            continue
        visited.add(sitemap_url)

        def parse_sitemap_into(r: FetchResult, u: str = sitemap_url, d: int = depth) -> None:
            urls, children = parse_sitemap(r.body, r.final_url or u)
            candidates.extend(urls)
            if d < MAX_SITEMAP_DEPTH:
                queue.extend((child, d + 1) for child in children)

        parse_into(
            "sitemap",
            _fetch_entry_point(fetcher, sitemap_url, validators, archive),
            parse_sitemap_into,
        )

    for list_ref in source.url_lists:
        if list_ref.startswith(("http://", "https://")):
            result = _fetch_entry_point(fetcher, list_ref, validators, archive)
            parse_into(
                "url_list",
                result,
                lambda r, u=list_ref: candidates.extend(
                    parse_url_list(decode_html(r.body, r.encoding), r.final_url or u)
                ),
            )
            continue
        path = Path(list_ref) if Path(list_ref).is_absolute() else Path(source.base_dir) / list_ref
        try:
            candidates.extend(parse_url_list(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            attempts.append(
                ("url_list", FetchResult(url=path.as_uri(), outcome="file_error", error=repr(exc)))
            )

    candidates.extend(Candidate(url=canonicalize_url(u), via="url") for u in source.urls)

    file_candidates, file_failures = discover_files(source)
    candidates.extend(file_candidates)
    attempts.extend(("file", failure) for failure in file_failures)
    return candidates, attempts
