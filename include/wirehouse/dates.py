"""Timestamps from the wild (meta tags, feeds, sitemaps, HTTP) as aware UTC datetimes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from datetime import time as dt_time

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


EARLIEST_LENIENT = datetime(1900, 1, 1)


def parse_date_leniently(value: str | None, not_after: datetime | None = None) -> datetime | None:
    """A date as people write it, for dumps that carry whatever the page showed.

    ISO 8601 is parsed exactly (with its time). Anything else ("Tuesday, August 7, 2012",
    "Published on 27 September 2013") goes to htmldate's date-expression parser, the one
    trafilatura already runs on pages, and is kept to the day (midnight UTC): such strings
    rarely carry a reliable zone. None when no date is found, when it is before 1900 or when
    it is after `not_after` (the fetch time: nothing is published in the future)."""
    if not value or not value.strip():
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        # imported here: htmldate (and dateparser behind it) costs 0.2 s to import, and only
        # non-ISO strings need it
        from htmldate.extractors import try_date_expr

        bound = (not_after or datetime.now(UTC)).astimezone(UTC)
        # the day's end as the bound keeps htmldate's cache useful across one night
        latest = datetime.combine(bound.date(), dt_time.max)
        day = try_date_expr(value.strip(), "%Y-%m-%d", True, EARLIEST_LENIENT, latest)
        parsed = datetime.fromisoformat(day).replace(tzinfo=UTC) if day else None
    if parsed is None or (not_after is not None and parsed > not_after):
        return None
    return parsed
