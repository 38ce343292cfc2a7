"""Fetching over HTTP, politely and without ever raising on a bad server or page.

Every attempt ends as a :class:`FetchResult` whose ``outcome`` comes from a closed set, so
the warehouse can say exactly what happened to each URL. The guard against server-side
request forgery resolves each host (again after every redirect) and refuses private,
loopback, link-local and multicast addresses unless the source explicitly allows them.
"""

from __future__ import annotations

import ipaddress
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

OUTCOMES = (
    "ok",
    "http_error",
    "timeout",
    "connection_error",
    "too_large",
    "not_html",
    "blocked_private_address",
    "invalid_url",
    "redirect_loop",
    "parse_error",
    "extraction_empty",
    "extraction_error",
    "duplicate_url",
    "file_error",
    "over_limit",
)
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


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
    elapsed_ms: int = 0
    attempts: int = 1
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class PrivateAddressError(Exception):
    """The host resolves to an address the source may not reach."""


def check_public_host(url: str) -> None:
    """Raise PrivateAddressError when the URL's host resolves to a non-public address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_multicast
            or addr.is_reserved
            or addr.is_unspecified
        ):
            raise PrivateAddressError(f"{host} resolves to non-public address {addr}")


def is_html(content_type: str | None, body: bytes) -> bool:
    """HTML by header, or by sniffing when the server sent no type."""
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def decode_html(body: bytes, header_encoding: str | None) -> str:
    """Decode a page: BOM, then the HTTP charset, then ``<meta charset>``, then UTF-8,
    falling back to windows-1252 (a superset of latin-1 that browsers use for it)."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    candidates = [header_encoding]
    match = META_CHARSET_RE.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    candidates.append("utf-8")
    for enc in candidates:
        if not enc:
            continue
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("windows-1252", errors="replace")


class HostPacer:
    """Per-host politeness: at most `concurrency` requests at once and `delay` seconds
    between the starts of consecutive requests to the same host."""

    def __init__(self, delay: float, concurrency: int = 2) -> None:
        self.delay = delay
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._sems: dict[str, threading.Semaphore] = {}
        self._next_at: dict[str, float] = {}

    def acquire(self, host: str) -> threading.Semaphore:
        with self._lock:
            sem = self._sems.setdefault(host, threading.Semaphore(self.concurrency))
        sem.acquire()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at.get(host, now))
            self._next_at[host] = start + self.delay
        if start > now:
            time.sleep(start - now)
        return sem


class Fetcher:
    """A reusable HTTP client with the project's safety rules; thread-safe."""

    def __init__(
        self,
        user_agent: str,
        *,
        allow_private_hosts: bool = False,
        delay_seconds: float = 1.0,
        timeout: float = 20.0,
        max_bytes: int = MAX_BYTES,
        retries: int = 2,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.allow_private_hosts = allow_private_hosts
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._pacer = HostPacer(delay_seconds)
        self._client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str) -> FetchResult:
        """Fetch a URL, retrying transient failures; never raises for network problems."""
        started = time.monotonic()
        result = FetchResult(url=url, outcome="invalid_url", error="not an http(s) URL")
        for attempt in range(1, self.retries + 2):
            result = self._fetch_once(url)
            result.attempts = attempt
            transient = result.outcome in ("timeout", "connection_error") or (
                result.outcome == "http_error" and result.http_status in RETRYABLE_STATUS
            )
            if not transient or attempt > self.retries:
                break
            self._sleep(self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2))
        result.elapsed_ms = int((time.monotonic() - started) * 1000)
        result.fetched_at = datetime.now(UTC)
        return result

    def _fetch_once(self, url: str) -> FetchResult:
        seen: set[str] = set()
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return FetchResult(url=url, outcome="invalid_url", error=f"bad URL {current!r}")
            if current in seen:
                return FetchResult(url=url, outcome="redirect_loop", error=f"loop at {current}")
            seen.add(current)
            try:
                if not self.allow_private_hosts:
                    check_public_host(current)
            except PrivateAddressError as exc:
                return FetchResult(url=url, outcome="blocked_private_address", error=str(exc))
            except OSError as exc:
                return FetchResult(url=url, outcome="connection_error", error=f"DNS: {exc}")
            sem = self._pacer.acquire(parts.hostname)
            try:
                step = self._request(url, current)
            finally:
                sem.release()
            if isinstance(step, FetchResult):
                return step
            current = step
        return FetchResult(url=url, outcome="redirect_loop", error="too many redirects")

    def _request(self, url: str, current: str) -> FetchResult | str:
        """One request; returns the next URL on a redirect, else the final result."""
        try:
            with self._client.stream("GET", current) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    return urljoin(current, resp.headers["location"])
                ctype = resp.headers.get("content-type")
                base = FetchResult(
                    url=url,
                    outcome="ok",
                    final_url=current,
                    http_status=resp.status_code,
                    content_type=ctype,
                )
                if resp.status_code >= 400:
                    base.outcome, base.error = "http_error", f"HTTP {resp.status_code}"
                    return base
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    base.outcome, base.error = "too_large", f"content-length {declared}"
                    return base
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        base.outcome = "too_large"
                        base.error = f"body over {self.max_bytes} bytes"
                        return base
                    chunks.append(chunk)
                base.body = b"".join(chunks)
                base.encoding = resp.charset_encoding
                return base
        except httpx.TimeoutException as exc:
            return FetchResult(url=url, outcome="timeout", final_url=current, error=repr(exc))
        except (httpx.TransportError, httpx.DecodingError) as exc:
            return FetchResult(
                url=url, outcome="connection_error", final_url=current, error=repr(exc)
            )
