"""Timestamps from the wild (meta tags, feeds, sitemaps, HTTP) as aware UTC datetimes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

# "2024-02-06 17:55:00 UTC": CMSs spell out the zone where ISO 8601 wants an offset
UTC_SUFFIX_RE = re.compile(r"\s*(?:Z|UTC|GMT)$", re.IGNORECASE)


def parse_timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime (dates at midnight UTC,
    naive times taken as UTC); None when it is not one."""
    if not value:
        return None
    text = UTC_SUFFIX_RE.sub("+00:00", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates (UTC struct_time) as aware datetimes."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
