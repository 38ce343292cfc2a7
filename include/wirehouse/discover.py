"""Discovery: turn a source's feeds, sitemaps, URL lists and saved files into candidate
article URLs.

Parsing is pure (bytes in, candidates out) so it is tested without a network; the I/O of
fetching feeds and reading files happens in :func:`discover_source` at the edge. A feed
that cannot be fetched or parsed is recorded as a fetch row with its reason and discovery
carries on with the source's other entry points. Feeds, sitemaps and URL lists are fetched
with conditional GET when the previous night left validators (ETag / Last-Modified).

What a listing says about an entry travels with its URL: the date (``lastmod``, which
becomes ``listed_at``: a news sitemap's ``news:publication_date`` before its ``<lastmod>``,
a feed item's published date before its updated one), the ``<lastmod>`` / updated date
itself (``modified``) and the title (``news:title``, a feed item's title).

Nothing here raises for bad input, and nothing is unbounded:

- an entry whose URL cannot be parsed (``http://n.example:99999/b``, ``http://[oops/x``)
  becomes an ``invalid_url`` row and the rest of its listing is still used;
- a feed body is handed to feedparser as a stream, never as a string or bytes, which
  feedparser would try to open as a path or URL;
- sitemaps are parsed incrementally (lxml iterparse, no entity expansion, no network), up to
  the protocol's 50 MB and 50,000 entries per file; an index's children are followed newest
  first, up to MAX_INDEX_CHILDREN per index and MAX_SITEMAPS per source and night;
- web discovery lists at most the source's ``max_candidates`` a night.

Whatever a cap leaves out is counted in one ``over_limit`` row, never dropped silently.

ultimate-sitemap-parser (usp) was considered and not used: it fetches an index's children
itself, through its own web client, from inside the parse, so our fetcher's conditional GET,
raw archive and one row per attempt would need a side channel; its local entry point takes
the whole document as a str (a 50 MB sitemap decoded whole); and it has no per-file entry
cap, newest-first choice of children or caps on them. The parser below is one lxml
iterparse loop over the sitemap protocol's few elements.
"""

from __future__ import annotations

import glob
import gzip
import io
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import feedparser
from lxml import etree

from wirehouse import jsonl
from wirehouse.dates import from_struct_time, parse_timestamp
from wirehouse.fetch import Fetcher, FetchResult, decode_html
from wirehouse.sources import Source, is_within
from wirehouse.urls import canonicalize_url

MAX_SITEMAP_DEPTH = 3
# the sitemap protocol (sitemaps.org): at most 50 MB uncompressed and 50,000 URLs per file
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
MAX_SITEMAP_URLS = 50_000
# sitemaps followed from one index (its newest by <lastmod>) and fetched per source and
# night: a news site's index lists its whole archive (monthly or daily files going back
# years), and the newest few carry tonight's news; at the protocol's size each file is up to
# 50 MB, so these bound a night's discovery traffic to one site
MAX_INDEX_CHILDREN = 50
MAX_SITEMAPS = 100
MAX_LISTED_TITLE = 500  # characters of a listed title kept; a title is never longer
MAX_ROW_URL = 2000  # characters of an unparseable URL kept in its row
HTML_SUFFIXES = (".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz")
NEWS_NS_MARK = "/sitemap-news/"  # http://www.google.com/schemas/sitemap-news/0.9
XML_READ_PIECE = 64 * 1024


@dataclass(frozen=True, slots=True)  # a big dump or sitemap has hundreds of thousands
class Candidate:
    """A URL (or saved page) to collect, with how it was found."""

    url: str
    via: str  # feed | sitemap | url | url_list | file | warc | jsonl
    # ISO 8601 UTC: the date the listing gave the entry (news:publication_date, else
    # <lastmod>; a feed item's published, else updated date; WARC-Date); `listed_at`
    lastmod: str | None = None
    path: str | None = None
    offset: int | None = None  # WARC: the record's byte offset; JSON Lines: the line number
    title: str | None = None  # news:title, or the feed item's title; `listed_title`
    modified: str | None = None  # ISO 8601 UTC: sitemap <lastmod> / feed updated date

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Rejected:
    """A listed URL that cannot be parsed: an ``invalid_url`` row, not an exception."""

    url: str
    reason: str
    url_kind: str = "article"  # article, or sitemap for a child of a sitemap index

    def to_result(self) -> FetchResult:
        return FetchResult(
            url=self.url[:MAX_ROW_URL], outcome="invalid_url", error=self.reason, attempts=0
        )


@dataclass
class SitemapParse:
    """What one sitemap file lists."""

    candidates: list[Candidate] = field(default_factory=list)
    # children of a sitemap index, as candidates (url and the index's <lastmod>)
    children: list[Candidate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ignored: int = 0  # entries beyond the protocol's MAX_SITEMAP_URLS, counted not kept


class DiscoveryParseError(ValueError):
    """A feed or sitemap body could not be understood; `outcome` is its row's outcome."""

    def __init__(self, message: str, outcome: str = "parse_error") -> None:
        super().__init__(message)
        self.outcome = outcome


def listed_url(
    raw: str,
    base_url: str | None,
    via: str,
    *,
    url_kind: str = "article",
    lastmod: str | None = None,
    title: str | None = None,
    modified: str | None = None,
    path: str | None = None,
    offset: int | None = None,
) -> Candidate | Rejected:
    """A listed URL as a candidate, canonicalised and resolved against its listing, or as a
    Rejected entry (`url_kind` for its row) when it cannot be parsed: urllib and
    wirehouse.urls raise ValueError for a port out of range or an unclosed IPv6 bracket."""
    try:
        url = canonicalize_url(raw, base_url)
    except ValueError as exc:
        where = f" (listed by {base_url})" if base_url else ""
        return Rejected(url=raw.strip(), reason=f"not a valid URL{where}: {exc}", url_kind=url_kind)
    return Candidate(
        url=url,
        via=via,
        lastmod=lastmod,
        path=path,
        offset=offset,
        title=title,
        modified=modified,
    )


def _iso(value: str | None) -> str | None:
    date = parse_timestamp(value)
    return date.isoformat() if date else None


def _title(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:MAX_LISTED_TITLE] or None


def parse_feed(body: bytes, base_url: str) -> list[Candidate | Rejected]:
    """Article links of an RSS/Atom feed, in feed order, with their dates and titles.

    feedparser.parse opens a str or bytes argument as a file path or URL when it names one
    (a server answering ``/dev/zero`` would make us read it), so the body goes in as a
    stream: feedparser then only calls its ``read()``."""
    parsed = feedparser.parse(io.BytesIO(body))
    if parsed.bozo and not parsed.entries:
        raise DiscoveryParseError(f"not a feed: {parsed.get('bozo_exception')!r}")
    out: list[Candidate | Rejected] = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        published = from_struct_time(entry.get("published_parsed"))
        # `in`, not .get(): feedparser's get("updated_parsed") falls back to the published date
        updated = from_struct_time(entry["updated_parsed"]) if "updated_parsed" in entry else None
        date = published or updated
        out.append(
            listed_url(
                link,
                base_url,
                "feed",
                lastmod=date.isoformat() if date else None,
                title=_title(entry.get("title")),
                modified=updated.isoformat() if updated else None,
            )
        )
    return out


class _CappedReader:
    """A file-like view of a stream that raises DiscoveryParseError (too_large) past `cap`
    bytes: a gzipped sitemap is inflated as it is parsed, never whole, and stops at the
    protocol's size."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self._stream = stream
        self._cap = cap
        self._seen = 0

    def read(self, size: int = XML_READ_PIECE) -> bytes:
        data = self._stream.read(min(size, XML_READ_PIECE) if size > 0 else XML_READ_PIECE)
        self._seen += len(data)
        if self._seen > self._cap:
            raise DiscoveryParseError(
                f"sitemap over the protocol's {self._cap} bytes uncompressed", "too_large"
            )
        return data


def _sitemap_stream(body: bytes) -> _CappedReader:
    raw = io.BytesIO(body)
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if body.startswith(b"\x1f\x8b") else raw
    return _CappedReader(stream, SITEMAP_MAX_BYTES)


def _entry_fields(entry: etree._Element) -> dict[str, str | None]:
    """loc, lastmod, news:title and news:publication_date of a <url> or <sitemap> entry.
    loc and lastmod are the entry's own children (an <image:loc> deeper down is not the
    page's URL); the news fields are the news namespace's, wherever they sit in it."""
    fields: dict[str, str | None] = {}
    for child in entry:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.localname in ("loc", "lastmod") and qname.localname not in fields:
            fields[qname.localname] = (child.text or "").strip() or None
        elif NEWS_NS_MARK in (qname.namespace or ""):
            for node in child.iter():
                if not isinstance(node.tag, str):
                    continue
                name = etree.QName(node).localname
                if name in ("title", "publication_date") and name not in fields:
                    fields[name] = node.text
    return fields


def parse_sitemap(body: bytes, base_url: str, max_urls: int = MAX_SITEMAP_URLS) -> SitemapParse:
    """URLs (with news:title, news:publication_date and lastmod) and child sitemaps of a
    sitemap or sitemap index, gzipped or not, parsed incrementally: each entry is read and
    dropped, so memory holds the entries kept, never the tree. Entries past `max_urls`
    (the protocol's 50,000) are counted in `ignored`. Raises DiscoveryParseError for
    anything that is not a well-formed sitemap (outcome too_large past 50 MB inflated)."""
    out = SitemapParse()
    kind = None
    depth = 0
    kept = 0
    try:
        events = etree.iterparse(
            _sitemap_stream(body),
            events=("start", "end"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        for event, elem in events:
            if event == "start":
                depth += 1
                if kind is None:
                    kind = etree.QName(elem).localname
                    if kind not in ("urlset", "sitemapindex"):
                        raise DiscoveryParseError(f"not a sitemap: root element <{kind}>")
                continue
            depth -= 1
            if depth != 1:
                continue
            fields = _entry_fields(elem)
            parent = elem.getparent()
            elem.clear(keep_tail=False)
            if parent is not None:
                parent.remove(elem)  # the tree never holds more than the entry being read
            loc = fields.get("loc")
            if not loc:
                continue
            if kept >= max_urls:
                out.ignored += 1
                continue
            kept += 1
            modified = _iso(fields.get("lastmod"))
            if kind == "sitemapindex":
                found = listed_url(loc, base_url, "sitemap", url_kind="sitemap", lastmod=modified)
                if isinstance(found, Candidate):
                    out.children.append(found)
                    continue
            else:
                found = listed_url(
                    loc,
                    base_url,
                    "sitemap",
                    lastmod=_iso(fields.get("publication_date")) or modified,
                    title=_title(fields.get("title")),
                    modified=modified,
                )
                if isinstance(found, Candidate):
                    out.candidates.append(found)
                    continue
            out.rejected.append(found)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryParseError(f"not a sitemap: {exc}") from exc
    except (OSError, EOFError, zlib.error) as exc:  # a corrupt or truncated gzip
        raise DiscoveryParseError(f"not a sitemap: {exc!r}") from exc
    if kind is None:
        raise DiscoveryParseError("not a sitemap: empty body")
    return out


def newest_first(children: list[Candidate]) -> list[Candidate]:
    """Sitemap index children by their <lastmod>, newest first; undated ones after them, in
    the index's order (the sort is stable)."""

    def key(child: Candidate) -> tuple[int, float]:
        date = parse_timestamp(child.lastmod)
        return (0, -date.timestamp()) if date else (1, 0.0)

    return sorted(children, key=key)


def expand_file_patterns(patterns: tuple[str, ...], base_dir: str) -> list[Path]:
    """Files matched by the source's globs, relative globs resolved from the sources file."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(Path(base_dir) / pattern)
        for name in sorted(glob.glob(full, recursive=True)):
            path = Path(name)
            if path.is_file():
                found.setdefault(str(path.resolve()), path)
    return list(found.values())


def iter_warc_responses(path: Path) -> Iterator[Candidate | Rejected]:
    """Response records of a WARC file, each a candidate keyed by its target URI (a record
    whose URI cannot be parsed is a Rejected entry; the archive's other records still count)."""
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
            yield listed_url(
                uri,
                None,
                "warc",
                lastmod=date.isoformat() if date else None,
                path=str(path),
                offset=records.get_record_offset(),
            )


def discover_jsonl(path: Path, source_id: str) -> tuple[list[Candidate], list[FetchResult]]:
    """One candidate per article line of a JSON Lines dump, keyed by the record's identity
    (see :mod:`wirehouse.jsonl`). A line that is not a JSON object, has no identity (or a
    URL that cannot be parsed) or is too long is a failure row of its own (`parse_error`,
    `invalid_url`, `too_large`) under ``<file URI>#line=N``; a file that breaks off keeps
    the lines before the break and adds a `file_error` row. Text is checked at collection,
    where a line without it becomes an `extraction_empty` row like an empty page."""
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
            except ValueError as exc:  # a URL urllib or wirehouse.urls cannot parse
                bad(last, "invalid_url", f"'url' is not a valid URL: {exc}", len(line))
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


def outside_error(path: Path) -> FetchResult:
    """The row of a local file that resolves outside the allowed folders: it is not read."""
    return FetchResult(
        url=path.as_uri(),
        outcome="file_error",
        error="outside the sources file's folder and WIREHOUSE_LOCAL_ROOTS (not read)",
        attempts=0,
    )


def discover_files(source: Source) -> tuple[list[Candidate], list[FetchResult]]:
    """Saved HTML pages, WARC response records and JSON Lines article dumps named by the
    source's `files` globs. A match that resolves outside the allowed folders (a symlink
    out of them) is a `file_error` row and is not read."""
    candidates: list[Candidate] = []
    failures: list[FetchResult] = []
    roots = source.allowed_roots
    for path in expand_file_patterns(source.files, source.base_dir):
        name = path.name.lower()
        if not name.endswith((*HTML_SUFFIXES, *WARC_SUFFIXES)) and not jsonl.is_jsonl(name):
            continue
        if not is_within(path, roots):
            failures.append(outside_error(path))
            continue
        path = path.resolve()
        if name.endswith(HTML_SUFFIXES):
            candidates.append(Candidate(url=path.as_uri(), via="file", path=str(path)))
        elif jsonl.is_jsonl(name):
            found, bad_lines = discover_jsonl(path, source.id)
            candidates.extend(found)
            failures.extend(bad_lines)
        else:
            try:
                for item in iter_warc_responses(path):
                    if isinstance(item, Rejected):
                        failures.append(item.to_result())
                    else:
                        candidates.append(item)
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


def parse_url_list(
    lines: Iterable[str] | str, base_url: str | None = None
) -> Iterator[Candidate | Rejected]:
    """One URL per line, lazily; blank lines and ``#`` comments are skipped."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            yield listed_url(line, base_url, "url_list")


Archiver = Callable[[FetchResult], None]


def _fetch_entry_point(
    fetcher: Fetcher,
    url: str,
    validators: dict[str, dict[str, str]],
    archive: Archiver | None,
    max_bytes: int | None = None,
) -> FetchResult:
    try:
        result = fetcher.fetch(url, validators=validators.get(url), max_bytes=max_bytes)
    except ValueError as exc:  # a URL the fetcher cannot parse: a row, not a failed night
        return FetchResult(url=url, outcome="invalid_url", error=f"not a valid URL: {exc}")
    if result.ok and archive is not None:
        archive(result)
    return result


class _Night:
    """What discovery found for one source tonight: candidates in discovery order, rows,
    and the web candidates over the source's `max_candidates` (counted, not kept)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.candidates: list[Candidate] = []
        self.attempts: list[tuple[str, FetchResult]] = []
        self.web = 0
        self.over = 0

    @property
    def full(self) -> bool:
        return self.web >= self.source.max_candidates

    def take(self, items: Iterable[Candidate | Rejected]) -> None:
        """Keep candidates (web ones while under max_candidates) and row rejected URLs."""
        for item in items:
            if isinstance(item, Rejected):
                self.attempts.append((item.url_kind, item.to_result()))
            elif self.full:
                self.over += 1
            else:
                self.web += 1
                self.candidates.append(item)

    def over_limit(self, url_kind: str, url: str, error: str) -> None:
        self.attempts.append(
            (url_kind, FetchResult(url=url, outcome="over_limit", error=error, attempts=0))
        )


def _discover_sitemaps(
    night: _Night,
    fetcher: Fetcher,
    validators: dict[str, dict[str, str]],
    archive: Archiver | None,
) -> None:
    """Sitemaps breadth first from the source's own, children of an index newest first;
    the ones not followed (caps, depth, a full candidate budget) are counted in one row."""
    source = night.source
    sitemaps = list(source.sitemaps)
    if source.robots_sitemaps:  # the Sitemap: lines of the home host's robots.txt
        sitemaps.extend(fetcher.robots_sitemaps(source.home_url))
    queue = deque((url, 0) for url in sitemaps)
    visited: set[str] = set()
    not_followed: set[str] = set()
    while queue:
        sitemap_url, depth = queue.popleft()
        if sitemap_url in visited:
            continue
        if len(visited) >= MAX_SITEMAPS or night.full:
            not_followed.add(sitemap_url)
            continue
        visited.add(sitemap_url)
        result = _fetch_entry_point(fetcher, sitemap_url, validators, archive, SITEMAP_MAX_BYTES)
        if result.ok:
            try:
                parsed = parse_sitemap(result.body, result.final_url or sitemap_url)
            except DiscoveryParseError as exc:
                result.outcome, result.error = exc.outcome, str(exc)
            else:
                night.take([*parsed.candidates, *parsed.rejected])
                if parsed.ignored:
                    night.over_limit(
                        "article",
                        sitemap_url,
                        f"{parsed.ignored} entries over the sitemap protocol's "
                        f"{MAX_SITEMAP_URLS} per file (not used)",
                    )
                children = [c.url for c in newest_first(parsed.children)]
                follow = children[:MAX_INDEX_CHILDREN] if depth < MAX_SITEMAP_DEPTH else []
                not_followed.update(u for u in children[len(follow) :] if u not in visited)
                queue.extend((child, depth + 1) for child in follow)
        result.body = b""
        night.attempts.append(("sitemap", result))
    not_followed -= visited
    if not_followed:
        night.over_limit(
            "sitemap",
            source.home_url,
            f"{len(not_followed)} sitemaps not followed (at most {MAX_INDEX_CHILDREN} per "
            f"index, newest first, {MAX_SITEMAPS} per source and night, {MAX_SITEMAP_DEPTH} "
            f"levels deep, until max_candidates={source.max_candidates})",
        )


def _read_local_list(night: _Night, list_ref: str) -> None:
    """A URL list on local disk, streamed line by line; never read when it resolves outside
    the allowed folders (its lines would become rows that anyone can read)."""
    source = night.source
    path = source.local_path(list_ref)
    if not is_within(path, source.allowed_roots):
        night.attempts.append(("url_list", outside_error(path)))
        return
    try:
        with path.open(encoding="utf-8") as fh:
            night.take(parse_url_list(fh))
    except (OSError, UnicodeDecodeError) as exc:
        night.attempts.append(
            ("url_list", FetchResult(url=path.as_uri(), outcome="file_error", error=repr(exc)))
        )


def discover_source(
    source: Source,
    fetcher: Fetcher,
    validators: dict[str, dict[str, str]] | None = None,
    archive: Archiver | None = None,
) -> tuple[list[Candidate], list[tuple[str, FetchResult]]]:
    """All candidates of a source, in discovery order, plus one (url_kind, FetchResult) per
    feed, sitemap, URL list or file pattern attempted (bodies dropped after parsing, once
    `archive` has kept them), per listed URL that cannot be parsed (`invalid_url`) and per
    cap that left something out (`over_limit`, with the count). `validators` maps an
    entry-point URL to the ETag and Last-Modified of its previous fetch. Deduplication and
    the `max_urls` cap are the collector's job, so that every skipped URL still gets its
    row. Web candidates (feeds first, then sitemaps, URL lists and urls) stop at the
    source's `max_candidates`; local files are not counted against it."""
    validators = validators or {}
    night = _Night(source)

    def parse_into(kind: str, result: FetchResult, parse: Callable[[FetchResult], None]) -> None:
        if result.ok:
            try:
                parse(result)
            except DiscoveryParseError as exc:
                result.outcome, result.error = exc.outcome, str(exc)
        result.body = b""
        night.attempts.append((kind, result))

    for feed_url in source.feeds:
        parse_into(
            "feed",
            _fetch_entry_point(fetcher, feed_url, validators, archive),
            lambda r, u=feed_url: night.take(parse_feed(r.body, r.final_url or u)),
        )

    _discover_sitemaps(night, fetcher, validators, archive)

    for list_ref in source.url_lists:
        if not list_ref.startswith(("http://", "https://")):
            _read_local_list(night, list_ref)
            continue
        parse_into(
            "url_list",
            _fetch_entry_point(fetcher, list_ref, validators, archive),
            lambda r, u=list_ref: night.take(
                parse_url_list(decode_html(r.body, r.encoding), r.final_url or u)
            ),
        )

    night.take(listed_url(u, None, "url") for u in source.urls)
    if night.over:
        night.over_limit(
            "article",
            source.home_url,
            f"{night.over} candidates over max_candidates={source.max_candidates}",
        )

    file_candidates, file_failures = discover_files(source)
    night.candidates.extend(file_candidates)
    night.attempts.extend(("file", failure) for failure in file_failures)
    return night.candidates, night.attempts
