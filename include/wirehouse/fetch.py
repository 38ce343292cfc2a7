"""Fetching over HTTP, politely and without ever raising on a bad server or page.

Every attempt ends as a :class:`FetchResult` whose ``outcome`` comes from a closed set, so
the warehouse can say exactly what happened to each URL. Politeness and safety rules:

- robots.txt is read once per host per fetcher (one fetcher per task run) and obeyed for our
  agent token ``Wirehouse`` by protego, an RFC 9309 parser: ``*`` and ``$`` in paths, the
  longest matching rule wins (an ``Allow`` on a tie), fractional ``Crawl-delay`` raises the
  per-host delay (capped at ``MAX_CRAWL_DELAY``). A robots.txt that answers 4xx allows
  everything and one that cannot be reached (5xx, timeout, connection error) disallows
  everything for this run. Its ``Sitemap:`` lines are kept (:meth:`Fetcher.robots_sitemaps`).
- per host, at most ``concurrency`` requests at once and ``delay`` seconds between starts;
- connect and read timeouts plus a hard wall-clock deadline per attempt that covers the DNS
  lookup, connect, TLS, headers and body (every socket operation gets at most the time left,
  so a server trickling its headers byte by byte is cut off too); a streamed size cap (counted
  after decompression, so a gzip bomb stops at the cap); at most ``MAX_REDIRECTS`` redirects
  with loop detection; a redirect to a URL that cannot be parsed is ``invalid_url``;
- retries with exponential backoff and jitter for connection errors, timeouts, 429 and 5xx,
  waiting what ``Retry-After`` asks (up to ``max_retry_after``); never for other 4xx;
- conditional GET (ETag / Last-Modified) when the caller passes validators;
- the guard against server-side request forgery lives in the network backend under httpx:
  each new connection resolves its host once, refuses it unless every address is globally
  routable (IPv4 inside IPv6 addresses included, see :func:`is_public_address`) or the
  source allows that host, and connects to one of the addresses it checked, so DNS
  rebinding has no second lookup to slip into. Redirect targets open connections of their
  own and are checked the same way.
"""

from __future__ import annotations

import contextvars
import ipaddress
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import brotli
import httpcore
import httpx
from protego import Protego

OUTCOMES = (
    "ok",
    "not_modified",
    "http_error",
    "timeout",
    "connection_error",
    "robots_disallowed",
    "too_large",
    "not_html",
    "blocked_private_address",
    "invalid_url",
    "redirect_loop",
    "parse_error",
    "extraction_empty",
    "extraction_error",
    "duplicate_url",
    "already_fetched",
    "file_error",
    "over_limit",
    "source_failed",
)
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROBOTS_BYTES = 512 * 1024
MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 30.0
ROBOTS_AGENT = "Wirehouse"  # the product token robots.txt groups name us by
DECODE_PIECE = 64 * 1024
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# WHATWG: browsers decode these labels as windows-1252, which fills 0x80-0x9F with characters
MIN_DETECTION_BYTES = 1024
LATIN1_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})


@dataclass
class FetchResult:
    """What one URL attempt produced; ``body`` is empty unless the outcome is ``ok``."""

    url: str
    outcome: str
    final_url: str | None = None
    http_status: int | None = None
    error: str | None = None
    content_type: str | None = None
    body: bytes = b""
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    bytes_received: int = 0
    elapsed_ms: int = 0
    attempts: int = 1
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    retry_after: float | None = None
    body_sha256: str | None = None  # set once the body is in the raw archive

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class PrivateAddressError(Exception):
    """The host resolves to an address the source may not reach."""


# 64:ff9b::/96 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are an IPv4
# address the translator connects to. The local-use prefix 64:ff9b:1::/48 (RFC 8215) may
# embed it at any offset, so it is refused whole.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (family, socket type, proto, canonname, sockaddr), as socket.getaddrinfo returns them
AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]
Resolver = Callable[[str, int], list[AddrInfo]]


def is_public_address(addr: Address) -> bool:
    """Whether a connection to `addr` reaches the public internet and nothing else.

    ``is_global`` refuses private, loopback, link-local, carrier-grade NAT (100.64.0.0/10)
    and the other special-purpose blocks of the IANA registries; multicast, reserved and
    site-local addresses are refused as well (the standard library counts some of them
    global). An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:0:0/96``,
    NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo ``2001::/32``) is only as public as
    the IPv4 addresses inside it: ``2002:a9fe:a9fe::`` leads to 169.254.169.254."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return is_public_address(addr.ipv4_mapped)
        if addr in NAT64_WELL_KNOWN:
            return is_public_address(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if addr in NAT64_LOCAL_USE or addr.is_site_local:
            return False
        embedded = [addr.sixtofour] if addr.sixtofour is not None else []
        embedded.extend(addr.teredo or ())
        if not all(is_public_address(inner) for inner in embedded):
            return False
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_private
    )


def _sockaddr_ip(sockaddr: tuple[Any, ...]) -> Address:
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])


def system_resolver(host: str, port: int) -> list[AddrInfo]:
    """Every TCP address of `host`, as the operating system's resolver gives them."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


# -- the per-attempt deadline --------------------------------------------------------------

# The wall-clock deadline (time.monotonic) of the attempt running on this thread; httpx's
# synchronous client does all its socket work on the calling thread.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "wirehouse_fetch_deadline", default=None
)
DEADLINE_PASSED = "total time for the attempt is over"


def _time_left(timeout: float | None, expired: type[Exception]) -> float | None:
    """`timeout` shortened to what is left of this attempt; `expired` when nothing is."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired(DEADLINE_PASSED)
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the attempt's deadline,
    so headers trickled a byte at a time cannot hold an attempt past it (a per-read timeout
    alone restarts at every byte)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # the handshake as a whole is bounded by the socket timeout (CPython's SSL layer
        # keeps its own deadline across the handshake's reads and writes)
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _lookup_until(
    resolver: Resolver, host: str, port: int, timeout: float | None
) -> list[AddrInfo]:
    """`resolver(host, port)`, waited for at most `timeout` seconds.

    getaddrinfo cannot be interrupted, so the lookup runs on a daemon thread of its own
    (a lookup costs far more than starting a thread) that is abandoned at the deadline: it
    ends by itself when the system resolver gives up, and never holds the process open."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["answer"] = resolver(host, port)
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=lookup, name=f"wirehouse-dns-{host}", daemon=True).start()
    if not done.wait(timeout):
        raise httpcore.ConnectTimeout(f"DNS: no answer for {host} in time")
    if "error" in box:
        raise box["error"]
    return box["answer"]


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the SSRF guard and the per-attempt deadline.

    ``connect_tcp`` resolves the host once, refuses it (:class:`PrivateAddressError`) when any
    address is not public and the source does not allow the host, and connects to the
    checked addresses themselves: there is no second lookup for DNS rebinding to answer
    differently. TLS still verifies the certificate against the host name, which httpcore
    passes to ``start_tls``."""

    def __init__(
        self, may_reach_private: Callable[[str], bool], resolver: Resolver = system_resolver
    ) -> None:
        self._may_reach_private = may_reach_private
        self._resolver = resolver
        self._tcp = httpcore.SyncBackend()

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[AddrInfo]:
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:  # a name
            try:
                return _lookup_until(self._resolver, host, port, timeout)
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"DNS: {exc}") from exc
        try:  # an address already: no lookup at all
            return socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        infos = self._resolve(host, port, _time_left(timeout, httpcore.ConnectTimeout))
        if not infos:
            raise httpcore.ConnectError(f"DNS: no address for {host}")
        if not self._may_reach_private(host.lower()):
            for info in infos:
                addr = _sockaddr_ip(info[4])
                if not is_public_address(addr):
                    raise PrivateAddressError(f"{host} resolves to non-public address {addr}")
        error: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for info in infos:
            address = str(info[4][0])  # a literal address: httpcore connects without a lookup
            try:
                stream = self._tcp.connect_tcp(
                    address,
                    port,
                    timeout=_time_left(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the fetcher does not connect to Unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool whose network backend is ours.

    httpx offers no parameter for the backend; ``HTTPTransport`` delegates all its work
    to ``self._pool``, so this sets the pool instead of building httpx's default one (which
    would also load a TLS context per origin)."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self._pool = pool


def http_parts(url: str) -> SplitResult | None:
    """The parts of an http(s) URL with a host and a valid port, else None (never raises:
    ``http://[oops/x`` and ``http://news.example:99999/`` are simply not fetchable)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts


def is_html(content_type: str | None, body: bytes) -> bool:
    """HTML by header (or by sniffing when the server sent no type), and not binary."""
    if looks_binary(body):
        return False
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def looks_binary(body: bytes) -> bool:
    """A body with NUL bytes or mostly control bytes is not text, whatever its header says."""
    head = body[:2048]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls / len(head) > 0.1


def _normalise_label(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    return "windows-1252" if label in LATIN1_LABELS else label


def decode_html(body: bytes, header_encoding: str | None) -> str:
    """Decode a page: a BOM wins, then the HTTP charset, then ``<meta charset>``, then
    strict UTF-8, then statistical detection, finally windows-1252 with replacement.
    A declared charset that cannot decode the bytes is ignored (servers lie)."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    candidates = [_normalise_label(header_encoding)]
    match = META_CHARSET_RE.search(body[:4096])
    if match:
        candidates.append(_normalise_label(match.group(1).decode("ascii", "ignore")))
    candidates.append("utf-8")
    for enc in candidates:
        if not enc:
            continue
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    western = body.decode("windows-1252", errors="replace")
    if len(body) < MIN_DETECTION_BYTES or _mostly_ascii_letters(western):
        # Western European text is mostly ASCII letters with a few accents; statistical
        # detectors misread it (as Baltic or Turkish code pages) more often than not.
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(body[:65536]).best()
    if best is not None and best.encoding:
        try:
            return body.decode(best.encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    return western


def _mostly_ascii_letters(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    return sum(1 for c in letters if c.isascii()) / len(letters) > 0.7


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class HostPacer:
    """Per-host politeness: at most `concurrency` requests at once and a delay between the
    starts of consecutive requests to the same host (raised per host by Crawl-delay)."""

    def __init__(self, delay: float, concurrency: int = 2) -> None:
        self.delay = delay
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._sems: dict[str, threading.Semaphore] = {}
        self._next_at: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def set_delay(self, host: str, delay: float) -> None:
        with self._lock:
            self._delays[host] = max(self.delay, delay)

    def acquire(self, host: str) -> threading.Semaphore:
        with self._lock:
            sem = self._sems.setdefault(host, threading.Semaphore(self.concurrency))
        sem.acquire()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at.get(host, now))
            self._next_at[host] = start + self._delays.get(host, self.delay)
        if start > now:
            time.sleep(start - now)
        return sem


@dataclass
class _Robots:
    parser: Protego | None  # None: everything allowed
    disallow_all_reason: str | None = None
    # a host that cannot be reached at all: its pages get this outcome without a request
    # of their own (the robots.txt attempts were the requests)
    outcome: str = "robots_disallowed"
    attempts: int = 0
    sitemaps: tuple[str, ...] = ()  # its Sitemap: lines, absolute http(s) URLs


def parse_robots(text: str, robots_url: str) -> tuple[Protego, float | None, tuple[str, ...]]:
    """A robots.txt body: the parsed rules, our Crawl-delay (seconds, fractions kept, capped
    at ``MAX_CRAWL_DELAY``) and its ``Sitemap:`` URLs (relative ones resolved, others that
    are not http(s) URLs dropped)."""
    parser = Protego.parse(text)
    delay = parser.crawl_delay(ROBOTS_AGENT)
    sitemaps: list[str] = []
    for line in parser.sitemaps:
        try:
            url = urljoin(robots_url, line.strip())
        except ValueError:
            continue
        if http_parts(url) is not None and url not in sitemaps:
            sitemaps.append(url)
    capped = min(float(delay), MAX_CRAWL_DELAY) if delay else None
    return parser, capped, tuple(sitemaps)


class Fetcher:
    """A reusable HTTP client with the project's politeness and safety rules; thread-safe.

    `allow_private_hosts` is True, False or a predicate on the host name; `resolver`
    answers ``(host, port)`` as ``socket.getaddrinfo`` does (the system's by default; tests
    give hosts addresses without a DNS server)."""

    def __init__(
        self,
        user_agent: str,
        *,
        allow_private_hosts: bool | Callable[[str], bool] = False,
        delay_seconds: float = 1.0,
        concurrency: int = 2,
        timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_bytes: int = MAX_BYTES,
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 120.0,
        respect_robots: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        resolver: Resolver = system_resolver,
    ) -> None:
        if callable(allow_private_hosts):
            may_reach_private = allow_private_hosts
        else:
            allowed = bool(allow_private_hosts)

            def may_reach_private(_host: str) -> bool:
                return allowed

        self.user_agent = user_agent
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.respect_robots = respect_robots
        self._sleep = sleep
        self._pacer = HostPacer(delay_seconds, concurrency)
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate, br"}
        # one small connection pool per origin, all sharing one TLS context and one guarded
        # network backend: a single pool shared by many hosts costs quadratic time in
        # httpcore as it grows (encode/httpcore #1035), and the per-host semaphore already
        # bounds connections per host
        self._pool_size = concurrency + 1
        self._ssl = httpx.create_ssl_context()
        self._backend = GuardedBackend(may_reach_private, resolver)
        self._clients: dict[str, httpx.Client] = {}

    def _client_for(self, parts: SplitResult) -> httpx.Client:
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            client = self._clients.get(origin)
            if client is None:
                pool = httpcore.ConnectionPool(
                    ssl_context=self._ssl,
                    max_connections=self._pool_size,
                    max_keepalive_connections=self._pool_size,
                    network_backend=self._backend,
                )
                client = httpx.Client(
                    headers=self._headers,
                    timeout=self._timeout,
                    follow_redirects=False,
                    transport=_GuardedTransport(pool),
                    # no proxies from the environment: a proxy would connect on our behalf,
                    # past the address check
                    trust_env=False,
                )
                self._clients[origin] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- robots.txt --------------------------------------------------------------------

    def _robots_for(self, parts: SplitResult) -> _Robots:
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt fetch per host, however many threads ask
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin, parts.hostname or "")
            return self._robots[origin]

    def _load_robots(self, origin: str, host: str) -> _Robots:
        robots_url = origin + "/robots.txt"
        result = self._fetch_with_retries(robots_url, None, self.max_bytes)
        if result.outcome == "ok":
            text = decode_html(result.body[:MAX_ROBOTS_BYTES], result.encoding)
            parser, delay, sitemaps = parse_robots(text, result.final_url or robots_url)
            if delay:
                self._pacer.set_delay(host, delay)
            return _Robots(parser, sitemaps=sitemaps)
        status = result.http_status or 0
        if result.outcome == "http_error" and 400 <= status < 500 and status != 429:
            return _Robots(None)  # no robots.txt: everything allowed (429 means "back off")
        if result.outcome in ("blocked_private_address", "invalid_url"):
            return _Robots(None)  # the page fetch itself reports the real problem
        reason = f"robots.txt unreachable ({result.outcome}: {result.error})"
        if result.outcome in ("timeout", "connection_error"):
            return _Robots(None, reason, outcome=result.outcome, attempts=result.attempts)
        return _Robots(None, reason)

    def robots_verdict(self, url: str) -> FetchResult | None:
        """None when robots.txt allows the URL, else the result of not fetching it:
        ``robots_disallowed``, or the host's own failure when robots.txt could not even be
        reached (a host that times out or refuses connections is not a robots question)."""
        if not self.respect_robots:
            return None
        parts = http_parts(url)
        if parts is None:
            return None  # not fetchable at all: the fetch reports invalid_url
        robots = self._robots_for(parts)
        if robots.disallow_all_reason:
            return FetchResult(
                url=url,
                outcome=robots.outcome,
                error=robots.disallow_all_reason,
                attempts=robots.attempts,
            )
        if robots.parser is not None and not robots.parser.can_fetch(url, ROBOTS_AGENT):
            return FetchResult(
                url=url, outcome="robots_disallowed", error="disallowed by robots.txt", attempts=0
            )
        return None

    def robots_sitemaps(self, url: str) -> list[str]:
        """The ``Sitemap:`` URLs of the robots.txt of `url`'s host (read once per host, as
        for the rules, whether or not this fetcher obeys them); empty when there is none or
        it could not be read."""
        parts = http_parts(url)
        if parts is None:
            return []
        return list(self._robots_for(parts).sitemaps)

    # -- fetching ----------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        validators: dict[str, str] | None = None,
        *,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch a URL (robots.txt permitting), retrying transient failures; never raises
        for network or server problems. `validators` ({"etag", "last_modified"}) make it a
        conditional GET, answered by ``not_modified``. `max_bytes` overrides the fetcher's
        body cap for this URL (sitemaps may be 50 MB)."""
        started = time.monotonic()
        if http_parts(url) is None:
            return FetchResult(url=url, outcome="invalid_url", error=f"not an http(s) URL: {url!r}")
        refused = self.robots_verdict(url)
        if refused is not None:
            result = refused
        else:
            cap = self.max_bytes if max_bytes is None else max_bytes
            result = self._fetch_with_retries(url, validators, cap)
        result.elapsed_ms = int((time.monotonic() - started) * 1000)
        result.fetched_at = datetime.now(UTC)
        return result

    def _fetch_with_retries(
        self, url: str, validators: dict[str, str] | None, max_bytes: int
    ) -> FetchResult:
        result = FetchResult(url=url, outcome="invalid_url")
        for attempt in range(1, self.retries + 2):
            result = self._fetch_once(url, validators, max_bytes)
            result.attempts = attempt
            transient = result.outcome in ("timeout", "connection_error") or (
                result.outcome == "http_error" and result.http_status in RETRYABLE_STATUS
            )
            if not transient or attempt > self.retries:
                break
            wait = self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)
            if result.retry_after is not None:
                if result.retry_after > self.max_retry_after:
                    result.error = (
                        f"{result.error}; Retry-After {result.retry_after:.0f}s exceeds "
                        f"the {self.max_retry_after:.0f}s cap"
                    )
                    break
                wait = max(wait, result.retry_after)
            self._sleep(wait)
        return result

    def _fetch_once(
        self, url: str, validators: dict[str, str] | None, max_bytes: int
    ) -> FetchResult:
        seen: set[str] = set()
        current = url
        deadline = time.monotonic() + self.total_timeout
        for _ in range(MAX_REDIRECTS + 1):
            parts = http_parts(current)
            if parts is None:
                where = "URL" if current == url else "redirect target"
                return FetchResult(
                    url=url,
                    outcome="invalid_url",
                    final_url=current,
                    error=f"bad {where} {current!r}",
                )
            if current in seen:
                return FetchResult(url=url, outcome="redirect_loop", error=f"loop at {current}")
            seen.add(current)
            if current != url and not url.endswith("/robots.txt"):
                refused = self.robots_verdict(current)  # a redirect target obeys its robots
                if refused is not None:
                    refused.url, refused.final_url = url, current
                    refused.error = f"redirect target: {refused.error}"
                    return refused
            queued = time.monotonic()
            sem = self._pacer.acquire(parts.hostname or "")
            deadline += time.monotonic() - queued  # waiting our turn is not the server's time
            token = _DEADLINE.set(deadline)
            try:
                step = self._request(url, current, parts, validators, max_bytes, deadline)
            finally:
                _DEADLINE.reset(token)
                sem.release()
            if isinstance(step, FetchResult):
                return step
            current = step
        return FetchResult(url=url, outcome="redirect_loop", error="too many redirects")

    def _request(
        self,
        url: str,
        current: str,
        parts: SplitResult,
        validators: dict[str, str] | None,
        max_bytes: int,
        deadline: float,
    ) -> FetchResult | str:
        """One request; returns the next URL on a redirect, else the final result. Runs
        with the attempt's deadline set for the network backend, which ends any socket
        operation that would outlast it with a timeout."""
        headers = {}
        if validators and validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators and validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        size = 0
        try:
            with self._client_for(parts).stream("GET", current, headers=headers) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    location = resp.headers["location"]
                    try:
                        return urljoin(current, location)
                    except ValueError as exc:
                        return FetchResult(
                            url=url,
                            outcome="invalid_url",
                            final_url=current,
                            http_status=resp.status_code,
                            error=f"bad redirect Location {location!r}: {exc}",
                        )
                res = FetchResult(
                    url=url,
                    outcome="ok",
                    final_url=current,
                    http_status=resp.status_code,
                    content_type=resp.headers.get("content-type"),
                    etag=resp.headers.get("etag"),
                    last_modified=resp.headers.get("last-modified"),
                )
                if resp.status_code == 304:
                    res.outcome = "not_modified"
                    return res
                if resp.status_code >= 400:
                    res.outcome, res.error = "http_error", f"HTTP {resp.status_code}"
                    res.retry_after = retry_after_seconds(
                        resp.headers.get("retry-after"), datetime.now(UTC)
                    )
                    return res
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    res.outcome, res.error = "too_large", f"Content-Length {declared}"
                    return res
                chunks: list[bytes] = []
                encoding = resp.headers.get("content-encoding")
                for chunk in _decoded(resp.iter_raw(), encoding):
                    size += len(chunk)
                    if size > max_bytes:
                        res.outcome, res.error = "too_large", f"body over {max_bytes} bytes"
                        res.bytes_received = size
                        return res
                    if time.monotonic() > deadline:
                        return self._over_deadline(url, current, size)
                    chunks.append(chunk)
                res.body = b"".join(chunks)
                res.bytes_received = size
                res.encoding = resp.charset_encoding
                return res
        except PrivateAddressError as exc:
            return FetchResult(url=url, outcome="blocked_private_address", error=str(exc))
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                return self._over_deadline(url, current, size)
            return FetchResult(url=url, outcome="timeout", final_url=current, error=repr(exc))
        except (httpx.TransportError, httpx.DecodingError) as exc:
            return FetchResult(
                url=url, outcome="connection_error", final_url=current, error=repr(exc)
            )
        except (httpx.InvalidURL, UnicodeError) as exc:  # a URL httpx cannot encode
            return FetchResult(
                url=url, outcome="invalid_url", final_url=current, error=f"bad URL: {exc}"
            )

    def _over_deadline(self, url: str, current: str, size: int) -> FetchResult:
        return FetchResult(
            url=url,
            outcome="timeout",
            final_url=current,
            error=f"total time over {self.total_timeout:g}s",
            bytes_received=size,
        )


def _decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body with its Content-Encoding undone, in pieces of about ``DECODE_PIECE`` bytes.

    httpx inflates each network read in one go, and a few hundred bytes of brotli inflate to
    gigabytes before the size cap gets a look; decoding piece by piece keeps a bomb's cost at
    the cap. Identity and unknown codings pass through, as in httpx."""
    stream: Iterator[bytes] = iter(raw)
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip", "deflate"):
            stream = _inflate(stream, coding)
        elif coding == "br":
            stream = _unbrotli(stream)
    return stream


def _inflate(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(zlib.MAX_WBITS if coding == "deflate" else zlib.MAX_WBITS | 16)
    first = True
    for chunk in chunks:
        data, more = chunk, bool(chunk)
        while more:
            try:
                out = inflater.decompress(data, DECODE_PIECE)
            except zlib.error as exc:
                if first and coding == "deflate":  # raw deflate, without the zlib header
                    inflater, first = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise httpx.DecodingError(f"{coding}: {exc}") from exc
            first = False
            if out:
                yield out
            data = inflater.unconsumed_tail
            # a full piece may leave output buffered even when all the input is consumed
            more = bool(data) or len(out) == DECODE_PIECE


def _unbrotli(chunks: Iterator[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    try:
        for chunk in chunks:
            out = decompressor.process(chunk, output_buffer_limit=DECODE_PIECE)
            while True:
                if out:
                    yield out
                if decompressor.can_accept_more_data():
                    break
                out = decompressor.process(b"", output_buffer_limit=DECODE_PIECE)
    except brotli.error as exc:
        raise httpx.DecodingError(f"br: {exc}") from exc
