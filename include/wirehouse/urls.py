"""URL canonicalisation and stable keys.

The same article reaches us as many URLs (tracking parameters, fragments, `www.` or not,
default ports). Canonicalising before fetching avoids fetching it twice, and hashing the
canonical URL gives an article key that is the same every night.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref_src"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def canonicalize_url(url: str, base: str | None = None) -> str:
    """Normalise a URL: resolve against base, lowercase scheme and host, drop the fragment,
    default port and tracking parameters. Non-http(s) URLs are returned resolved but unchanged
    otherwise."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def site_of(url: str) -> str:
    """The registrable-ish site of a URL: its host without a leading ``www.``."""
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


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
