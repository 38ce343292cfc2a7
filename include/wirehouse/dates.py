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
    trafilatura already runs on pages, then, when that finds nothing (a whole dateline
    with an updated time, tokenised text), to :func:`stated_day`; either is kept to the
    day (midnight UTC): such strings rarely carry a reliable zone. None when no date is
    found, when it is before 1900 or when it is after `not_after` (the fetch time:
    nothing is published in the future)."""
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
        parsed = datetime.fromisoformat(day).replace(tzinfo=UTC) if day else stated_day(value)
    if parsed is None or (not_after is not None and parsed > not_after):
        return None
    return parsed


_MONTH_NAMES = (
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
)
_MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)} | {
    name[:3]: i + 1 for i, name in enumerate(_MONTH_NAMES)
}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "2 : 29 PM", "05 / 03 / 2013", "2013 - 09 - 26": separators spaced out by a tokeniser
_SPACED_RE = re.compile(r"\s*([:/-])\s*")
_DAY_RE = re.compile(
    rf"\b(?:(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})"
    rf"|(?P<mm>{_MONTH})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}})"
    rf"|(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<dm>{_MONTH})\.?,?\s+(?P<dy>\d{{4}})"
    rf"|(?P<n1>\d{{1,2}})/(?P<n2>\d{{1,2}})/(?P<ny>\d{{4}}|\d{{2}}))\b",
    re.IGNORECASE,
)
_PUBLISHED_RE = re.compile(r"\b(?:published|posted|released)\b", re.IGNORECASE)


def stated_day(value: str) -> datetime | None:
    """The publication day stated somewhere in a dateline string: "PUBLISHED : WEDNESDAY,
    MARCH 13, 2013, 2 : 29 PM UPDATED : ...", "Last updated 13 : 26 14 / 09 / 2013".

    Full dates only (day, month and year). The first one after "published", "posted" or
    "released" wins, else the first one: a dateline states publication before updates.
    An all-numeric date is read month first, as in the US, unless a part over 12 says
    otherwise; a two-digit year is 19xx from 50 on, else 20xx."""
    text = _SPACED_RE.sub(r"\1", value)
    marker = _PUBLISHED_RE.search(text)
    matches = list(_DAY_RE.finditer(text))
    if marker:
        matches.sort(key=lambda m: m.start() < marker.start())
    for match in matches:
        day = _as_day(match)
        if day is not None:
            return day
    return None


def _as_day(match: re.Match[str]) -> datetime | None:
    g = match.groupdict()
    if g["iy"]:
        year, month, day = int(g["iy"]), int(g["im"]), int(g["id"])
    elif g["mm"]:
        year, month, day = int(g["my"]), _MONTHS[g["mm"].lower()], int(g["md"])
    elif g["dm"]:
        year, month, day = int(g["dy"]), _MONTHS[g["dm"].lower()], int(g["dd"])
    else:
        first, second, year = int(g["n1"]), int(g["n2"]), int(g["ny"])
        if year < 100:
            year += 1900 if year >= 50 else 2000
        month, day = (second, first) if first > 12 else (first, second)
    try:
        parsed = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    return parsed if parsed.year >= EARLIEST_LENIENT.year else None
