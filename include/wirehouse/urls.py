"""URL canonicalisation and stable keys.

The same article reaches us as many URLs (tracking parameters, fragments, parameter order,
``%7E`` or ``~``, ``./..`` segments, ``bücher.example`` or ``xn--bcher-kva.example``, a
trailing dot on the host, default ports). Canonicalising before fetching avoids fetching it
twice, and hashing the canonical URL gives an article key that is the same every night.

The rules are w3lib's (Scrapy's request fingerprinting: sorted query, percent-encoding
normalised, dot segments resolved, IDNA host, no fragment) and courlan's list of tracking
parameters (the one trafilatura uses, kept from AdGuard's, ClearURLs' and Firefox's lists).
Our own rules, each pinned by a test in tests/test_urls.py:

- default ports, the host's trailing dot and user info are dropped (w3lib keeps them);
- a host is validated (IDNA 2008 with UTS 46 for non-ASCII and ``xn--`` labels), so an
  unparsable URL raises :class:`InvalidURL` instead of becoming a key;
- courlan's broad tracker words (``ga``, ``gl``, ``ref``, ``aff``, …) count only as a whole
  word of the parameter name, so ``?gallery=2``, ``?game=5`` or ``?reference=x`` (they pick
  the page) are kept; ``cid``, ``eid`` and ``uid`` are kept too (content ids in many news
  CMSs): dropping a parameter that picks the page would merge two articles and lose one,
  while keeping a tracker only costs a duplicate that the story stage catches;
- a few trackers courlan misses (HubSpot ``_hsenc``, Microsoft ``ocid``, ``cmpid``,
  Alibaba ``spm``, comScore ``ns_*``, …);
- ``www.`` is kept (``www.n.example`` and ``n.example`` are different hosts; the page's
  ``<link rel=canonical>`` merges them when the site says so), and the path's case and
  trailing slash are kept (servers may tell them apart).

Bump :data:`CANONICAL_VERSION` whenever a rule changes: the warehouse records the version
its ids were made with and :mod:`wirehouse.migrate_ids` rewrites older ones.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import idna
import w3lib.url
from courlan.clean import TRACKERS_RE

# 1: scheme/host lowercased, fragment, default port and a short tracker list dropped.
# 2: w3lib's rules, IDNA hosts, trailing dot, courlan's trackers (this module).
CANONICAL_VERSION = 2

DEFAULT_PORTS = {"http": 80, "https": 443}
# trackers courlan's list misses, seen on news links (HubSpot, Marketo, Microsoft Start,
# Adobe campaign, Alibaba, comScore/BBC, Google Analytics' cross-domain `_ga`)
TRACKING_PARAMS = frozenset(
    {"_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking", "ocid", "cmpid", "spm"}
    | {"_ga", "_gl", "ref_src", "ref_url", "yclid", "dclid", "msclkid", "mc_cid", "mc_eid"}
)
TRACKING_PREFIXES = ("utm_", "ns_", "mkt_", "mc_", "pk_", "hsa_")
# courlan's broad words that are content ids in news CMSs (see the module docstring)
CONTENT_PARAMS = frozenset({"cid", "eid", "uid"})
# characters that can never be part of a host name (urlsplit lets them through)
_BAD_HOST_CHARS = re.compile(r"[\s%/\\@#?<>\"'`{}|^]")


class InvalidURL(ValueError):
    """A URL that cannot be parsed or canonicalised (bad port, broken IPv6 literal,
    invalid IDNA, no host). A ValueError, so callers that catch ValueError record it as an
    ``invalid_url`` row."""


def is_tracking_param(name: str) -> bool:
    """True for a query parameter that only tracks the click (see the module docstring)."""
    lowered = name.lower()
    if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES):
        return True
    if lowered in CONTENT_PARAMS:
        return False
    match = TRACKERS_RE.search(lowered)
    if match is None:
        return False
    # courlan's prefix families end with "_" (utm_, mc_) or are whole names (fbclid);
    # its broad words (ga, ref, source, ...) must end where the name or one of its words ends
    end = match.end()
    return match.group().endswith("_") or end == len(lowered) or lowered[end] in "_-."


def _drop_tracking(query: str) -> str:
    kept = [
        part
        for part in query.split("&")
        if part and not is_tracking_param(unquote_plus(part.partition("=")[0]))
    ]
    return "&".join(kept)


def _ascii_label(label: str) -> str:
    """One host label in its ASCII (punycode) form; raises InvalidURL when IDNA refuses it.
    Plain ASCII labels are kept as they are (real hosts have `_` that IDNA 2008 forbids)."""
    if label.isascii() and not label.startswith("xn--"):
        return label
    try:
        if label.startswith("xn--"):
            idna.decode(label)  # a broken A-label (xn--zz) is invalid
            return label
        return idna.encode(label, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidURL(f"invalid IDNA host label {label!r}: {exc}") from exc


def canonical_host(hostname: str) -> str:
    """Lowercase, without the trailing dot, IDNA in ASCII, IPv6 compressed and bracketed;
    raises InvalidURL for an empty or malformed host."""
    host = hostname.lower().rstrip(".")
    if not host:
        raise InvalidURL("URL has no host")
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host.split('%', 1)[0]).compressed}]"
        except ValueError as exc:
            raise InvalidURL(f"invalid IPv6 host {hostname!r}") from exc
    if _BAD_HOST_CHARS.search(host):
        raise InvalidURL(f"invalid character in host {hostname!r}")
    labels = host.split(".")
    if any(not label for label in labels):
        raise InvalidURL(f"empty label in host {hostname!r}")
    return ".".join(_ascii_label(label) for label in labels)


def canonicalize_url(url: str, base: str | None = None) -> str:
    """Normalise a URL (see the module docstring): resolve against base, then one spelling
    per page. Non-http(s) URLs (``file:``, ``jsonl:`` identities) are returned resolved, with
    the scheme lowercased and the fragment dropped. Raises :class:`InvalidURL` for an
    http(s) URL that cannot be parsed (port out of range, ``http://[oops/x``, bad IDNA, no
    host)."""
    url = url.strip()
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
        port = parts.port  # ValueError when out of range or not a number
        hostname = parts.hostname or ""
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {url!r}: {exc}") from exc
    host = canonical_host(hostname)
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    rebuilt = urlunsplit((scheme, netloc, parts.path, _drop_tracking(parts.query), ""))
    try:
        return w3lib.url.canonicalize_url(rebuilt, keep_blank_values=True)
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {url!r}: {exc}") from exc


def site_of(url: str) -> str:
    """The registrable-ish site of a URL: its canonical host without a leading ``www.``
    (empty when the URL has no usable host). Never raises."""
    try:
        hostname = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    try:
        host = canonical_host(hostname)
    except InvalidURL:
        host = hostname.lower().rstrip(".")
    return host.removeprefix("www.")


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on the same host, ignoring ``www.`` (or one is a subdomain)."""
    sa, sb = site_of(a), site_of(b)
    return bool(sa) and (sa == sb or sa.endswith("." + sb) or sb.endswith("." + sa))


def stable_hash(*parts: object, length: int = 16) -> str:
    """A short hex digest of the parts, stable across processes and Python versions."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:length]


def article_key(canonical_url: str) -> str:
    """The article id: a hash of the canonical URL, identical on every night."""
    return stable_hash(canonical_url)
