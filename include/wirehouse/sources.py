"""The sources file: which outlets to collect and how to discover their articles.

A bad sources file is the most common operator error, so validation is strict and every
error names the file, the source and the field, e.g.
``sources.yml: sources[2] (id 'lantern'): 'feeds[0]' must be an http(s) URL, got 'ftp://x'``.
Unknown fields are errors too: a typo such as ``feed:`` must not silently collect nothing.

Local paths (`files` globs and `url_lists` that are not URLs) may only name files under the
sources file's folder, or under an extra folder the operator allows (`WIREHOUSE_LOCAL_ROOTS`,
see :mod:`wirehouse.config`): a URL list's lines become rows BI users read, so a list that
named ``/proc/self/environ`` would publish secrets. A path that escapes (``../``, an absolute
path elsewhere, a symlink out) is a validation error here, and discovery checks every file
it opens again, with symlinks resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

SOURCE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
GLOB_MAGIC_RE = re.compile(r"[*?[]")
# fetched URLs a night when the source sets no `max_urls`: polite to a publisher's server
DEFAULT_MAX_URLS = 200
# candidates web discovery (feeds, sitemaps, URL lists, urls) may list per source and night:
# two sitemap files' worth at the protocol's 50,000 URLs each. Measured on this 2-core box
# (three 50,000-URL sitemaps from a local server through pipeline.discover): 100,000
# candidates raise the discover task's peak memory by about 110 MB and write 23 MB of
# discovered JSON; what is over the cap is one over_limit row.
DEFAULT_MAX_CANDIDATES = 100_000
LOCAL_VIAS = ("file", "warc")  # saved pages and WARC records, read from local disk
LIST_FIELDS = ("feeds", "sitemaps", "urls", "url_lists", "files")
KNOWN_FIELDS = {
    "id",
    "name",
    "home_url",
    *LIST_FIELDS,
    "allow_private_hosts",
    "delay_seconds",
    "concurrency",
    "timeout_seconds",
    "max_urls",
    "max_candidates",
    "refresh",
    "robots_sitemaps",
}


class SourcesError(ValueError):
    """The sources file is unreadable or invalid; the message names the bad field."""


@dataclass(frozen=True)
class Source:
    """One outlet and the places its articles are discovered from."""

    id: str
    name: str
    home_url: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    url_lists: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    # True: any host may resolve to a private address; a list: only these host names may
    allow_private_hosts: bool | tuple[str, ...] = False
    delay_seconds: float = 1.0
    concurrency: int = 2
    timeout_seconds: float = 10.0
    # None: DEFAULT_MAX_URLS for fetched URLs and no cap for local files (see url_cap)
    max_urls: int | None = None
    max_candidates: int = DEFAULT_MAX_CANDIDATES
    refresh: bool = False
    # True: also read the sitemaps named by `Sitemap:` lines in the home host's robots.txt
    robots_sitemaps: bool = False
    base_dir: str = field(default=".", compare=False)
    # folders besides base_dir that local paths may name (WIREHOUSE_LOCAL_ROOTS)
    local_roots: tuple[str, ...] = field(default=(), compare=False)

    @property
    def domain(self) -> str:
        """Host of the home page, lowercased and without a leading ``www.``."""
        host = (urlsplit(self.home_url).hostname or "").lower()
        return host.removeprefix("www.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, for passing between Airflow tasks as XCom."""
        data = asdict(self)
        for name in LIST_FIELDS:
            data[name] = list(data[name])
        if isinstance(self.allow_private_hosts, tuple):
            data["allow_private_hosts"] = list(self.allow_private_hosts)
        data["local_roots"] = list(self.local_roots)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        for name in LIST_FIELDS:
            values[name] = tuple(values.get(name) or ())
        if isinstance(values.get("allow_private_hosts"), list):
            values["allow_private_hosts"] = tuple(values["allow_private_hosts"])
        values["local_roots"] = tuple(values.get("local_roots") or ())
        return cls(**values)

    def may_reach_private(self, host: str) -> bool:
        """Whether this source may fetch from `host` when it resolves to a private address."""
        if isinstance(self.allow_private_hosts, bool):
            return self.allow_private_hosts
        return host.lower() in self.allow_private_hosts

    def url_cap(self, via: str) -> int | None:
        """How many candidates found `via` one night may take, None for no cap: an explicit
        `max_urls` caps fetched URLs and local files alike; without one, fetched URLs stop at
        DEFAULT_MAX_URLS (politeness) and local files are not capped (they ask nothing of
        anyone). JSON Lines lines are never capped: a dump is meant to come in whole."""
        if via == "jsonl":
            return None
        if via in LOCAL_VIAS:
            return self.max_urls
        return self.max_urls if self.max_urls is not None else DEFAULT_MAX_URLS

    @property
    def allowed_roots(self) -> tuple[Path, ...]:
        """Folders local paths may resolve into: the sources file's and the extra ones."""
        return (Path(self.base_dir).resolve(), *(Path(r).resolve() for r in self.local_roots))

    def local_path(self, ref: str) -> Path:
        """A `files` glob or `url_lists` path as an absolute path (relative ones are resolved
        from the sources file's folder)."""
        path = Path(ref).expanduser()
        return path if path.is_absolute() else Path(self.base_dir) / path


def is_within(path: Path, roots: Iterable[Path]) -> bool:
    """Whether `path`, with symlinks and ``..`` resolved, lies inside one of `roots`."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root) for root in roots)


def glob_prefix(pattern: Path) -> Path:
    """The folder part of a glob before its first wildcard: everything it can match lies
    under it (``/a/b/**/*.html`` -> ``/a/b``)."""
    parts = pattern.parts
    for i, part in enumerate(parts):
        if GLOB_MAGIC_RE.search(part):
            return Path(*parts[:i]) if i else Path(".")
    return pattern


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # e.g. "http://[oops/x": an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_local(
    source_roots: tuple[Path, ...], base_dir: Path, ref: str, where: str, field_name: str
) -> None:
    path = Path(ref).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not is_within(glob_prefix(path), source_roots):
        raise SourcesError(
            f"{where}: {field_name!r} names {ref!r}, outside the sources file's folder "
            f"({base_dir}); allow other folders with WIREHOUSE_LOCAL_ROOTS"
        )


def _validate_one(
    raw: object, where: str, base_dir: Path, local_roots: tuple[Path, ...] = ()
) -> Source:
    if not isinstance(raw, dict):
        raise SourcesError(f"{where}: each source must be a mapping, got {type(raw).__name__}")
    sid = raw.get("id")
    if isinstance(sid, str):
        where = f"{where} (id {sid!r})"
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise SourcesError(
            f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(KNOWN_FIELDS))}"
        )
    if not isinstance(sid, str) or not SOURCE_ID_RE.match(sid):
        raise SourcesError(
            f"{where}: 'id' must be a lowercase slug (letters, digits, '_' or '-'), got {sid!r}"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourcesError(f"{where}: 'name' is required and must be a non-empty string")
    home_url = raw.get("home_url")
    if not _is_http_url(home_url):
        raise SourcesError(f"{where}: 'home_url' must be an http(s) URL, got {home_url!r}")

    roots = (base_dir, *local_roots)
    lists: dict[str, tuple[str, ...]] = {}
    for list_name in LIST_FIELDS:
        value = raw.get(list_name) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise SourcesError(f"{where}: {list_name!r} must be a list")
        for i, item in enumerate(value):
            if list_name == "files":
                if not isinstance(item, str) or not item.strip():
                    raise SourcesError(
                        f"{where}: 'files[{i}]' must be a path or glob, got {item!r}"
                    )
                _check_local(roots, base_dir, item, where, f"files[{i}]")
            elif list_name == "url_lists":
                if not isinstance(item, str) or not item.strip():
                    raise SourcesError(
                        f"{where}: 'url_lists[{i}]' must be an http(s) URL or a file path, "
                        f"got {item!r}"
                    )
                if not item.startswith(("http://", "https://")):
                    _check_local(roots, base_dir, item, where, f"url_lists[{i}]")
                elif not _is_http_url(item):
                    raise SourcesError(
                        f"{where}: 'url_lists[{i}]' must be an http(s) URL or a file path, "
                        f"got {item!r}"
                    )
            elif not _is_http_url(item):
                raise SourcesError(
                    f"{where}: '{list_name}[{i}]' must be an http(s) URL, got {item!r}"
                )
        lists[list_name] = tuple(value)
    robots_sitemaps = raw.get("robots_sitemaps", False)
    if not isinstance(robots_sitemaps, bool):
        raise SourcesError(f"{where}: 'robots_sitemaps' must be true or false")
    if not any(lists.values()) and not robots_sitemaps:
        raise SourcesError(
            f"{where}: needs at least one of {', '.join(LIST_FIELDS)} (or robots_sitemaps: true)"
        )

    allow_private = raw.get("allow_private_hosts", False)
    if isinstance(allow_private, list) and all(
        isinstance(h, str) and h.strip() for h in allow_private
    ):
        allow_private = tuple(h.strip().lower() for h in allow_private)
    elif not isinstance(allow_private, bool):
        raise SourcesError(
            f"{where}: 'allow_private_hosts' must be true, false or a list of host names"
        )
    refresh = raw.get("refresh", False)
    if not isinstance(refresh, bool):
        raise SourcesError(f"{where}: 'refresh' must be true or false")
    concurrency = raw.get("concurrency", 2)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise SourcesError(
            f"{where}: 'concurrency' must be a whole number >= 1, got {concurrency!r}"
        )
    delay = raw.get("delay_seconds", 1.0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise SourcesError(f"{where}: 'delay_seconds' must be a number >= 0, got {delay!r}")
    timeout = raw.get("timeout_seconds", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise SourcesError(f"{where}: 'timeout_seconds' must be a number > 0, got {timeout!r}")
    max_urls = raw.get("max_urls")
    if max_urls is not None and not _whole_at_least_1(max_urls):
        raise SourcesError(f"{where}: 'max_urls' must be a whole number >= 1, got {max_urls!r}")
    max_candidates = raw.get("max_candidates", DEFAULT_MAX_CANDIDATES)
    if not _whole_at_least_1(max_candidates):
        raise SourcesError(
            f"{where}: 'max_candidates' must be a whole number >= 1, got {max_candidates!r}"
        )

    return Source(
        id=sid,
        name=name.strip(),
        home_url=home_url,
        allow_private_hosts=allow_private,
        delay_seconds=float(delay),
        concurrency=concurrency,
        timeout_seconds=float(timeout),
        max_urls=max_urls,
        max_candidates=max_candidates,
        refresh=refresh,
        robots_sitemaps=robots_sitemaps,
        base_dir=str(base_dir),
        local_roots=tuple(str(r) for r in local_roots),
        **lists,
    )


def _whole_at_least_1(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_sources(
    text: str,
    origin: str = "sources.yml",
    base_dir: Path | None = None,
    local_roots: Iterable[Path] = (),
) -> list[Source]:
    """Validate the YAML text of a sources file; relative local paths resolve from base_dir,
    and local paths must lie under base_dir or one of `local_roots`."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourcesError(f"{origin}: not valid YAML: {exc}") from exc
    if isinstance(doc, dict):
        extra = sorted(set(doc) - {"sources"})
        if extra:
            raise SourcesError(
                f"{origin}: unknown top-level field {extra[0]!r}; expected 'sources'"
            )
        doc = doc.get("sources")
    if not isinstance(doc, list) or not doc:
        raise SourcesError(f"{origin}: 'sources' must be a non-empty list of sources")
    base = (base_dir or Path.cwd()).resolve()
    roots = tuple(Path(r).expanduser().resolve() for r in local_roots)
    sources = [
        _validate_one(raw, f"{origin}: sources[{i}]", base, roots) for i, raw in enumerate(doc)
    ]
    seen: set[str] = set()
    for i, src in enumerate(sources):
        if src.id in seen:
            raise SourcesError(f"{origin}: sources[{i}]: duplicate id {src.id!r}")
        seen.add(src.id)
    return sources


def load_sources(path: Path, local_roots: Iterable[Path] = ()) -> list[Source]:
    """Read and validate a sources file from disk; `local_roots` are the extra folders local
    paths may name (`Settings.local_roots`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read sources file: {exc}") from exc
    return parse_sources(
        text,
        origin=Path(path).name,
        base_dir=Path(path).resolve().parent,
        local_roots=local_roots,
    )
