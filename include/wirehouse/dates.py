"""Timestamps from the wild (meta tags, feeds, sitemaps, HTTP) as aware UTC datetimes."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

# "2024-02-06 17:55:00 UTC": CMSs spell out the zone where ISO 8601 wants an offset
UTC_SUFFIX_RE = re.compile(r"\s*(?:Z|UTC|GMT)$", re.IGNORECASE)


@dataclass(frozen=True)
class StatedTime:
    """A time as a page or a dump states it: the instant, and what the statement says
    about the writer's clock. A story stamped 22:00 in New York is the 22nd at 03:00 in
    UTC but the 21st on the page, and readers (and analysts) go by the 21st.

    - ``at``: the instant, aware UTC. A date alone is midnight UTC and a time with no
      zone is taken as UTC, as before: the instant is then a best guess.
    - ``utc_offset``: minutes east of UTC the statement gives (``+05:30`` is 330,
      ``-05:00`` is -300, ``Z``/``UTC``/``GMT`` is 0); None when it gives no zone (a
      date alone, a naive time, a date read from words).
    - ``local_date``: the calendar day the statement names, in its own zone: the date
      as written whenever a date is written."""

    at: datetime
    utc_offset: int | None
    local_date: date


def parse_stated(value: str | None) -> StatedTime | None:
    """An ISO 8601 date or timestamp with the zone it states; None when it is not one."""
    if not value:
        return None
    text = UTC_SUFFIX_RE.sub("+00:00", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    offset = parsed.utcoffset()
    if offset is None:
        return StatedTime(parsed.replace(tzinfo=UTC), None, parsed.date())
    return StatedTime(parsed.astimezone(UTC), offset_minutes(offset), parsed.date())


def offset_minutes(offset: timedelta) -> int:
    """A UTC offset as whole minutes east of UTC (seconds in an offset are historical
    curiosities, rounded away)."""
    return round(offset.total_seconds() / 60)


def as_stated(value: datetime | None) -> StatedTime | None:
    """A datetime we hold (a feed's or sitemap's date, already UTC) as a statement with no
    zone of its own: its local day is its UTC day."""
    if value is None:
        return None
    if value.tzinfo is None:
        return StatedTime(value.replace(tzinfo=UTC), None, value.date())
    return StatedTime(value.astimezone(UTC), None, value.astimezone(UTC).date())


def format_utc_offset(minutes: int | None) -> str | None:
    """Minutes east of UTC as ISO 8601 writes them: 330 -> '+05:30', -300 -> '-05:00'."""
    if minutes is None:
        return None
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def parse_timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime (dates at midnight UTC,
    naive times taken as UTC); None when it is not one."""
    stated = parse_stated(value)
    return stated.at if stated else None


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
    """The instant of :func:`parse_stated_leniently`'s statement."""
    stated = parse_stated_leniently(value, not_after)
    return stated.at if stated else None


def parse_stated_leniently(
    value: str | None, not_after: datetime | None = None
) -> StatedTime | None:
    """A date as people write it, for dumps that carry whatever the page showed.

    ISO 8601 is parsed exactly (with its time and the zone it states). Anything else
    ("Tuesday, August 7, 2012", "Published on 27 September 2013") goes to htmldate's
    date-expression parser, the one trafilatura already runs on pages, then, when that
    finds nothing (a whole dateline with an updated time, tokenised text), to
    :func:`stated_day`; either is kept to the day (midnight UTC, no offset, that day as
    the local date): such strings rarely carry a reliable zone. None when no date is
    found, when it is before 1900 or when it is after `not_after` (the fetch time:
    nothing is published in the future)."""
    if not value or not value.strip():
        return None
    stated = parse_stated(value)
    if stated is None:
        # imported here: htmldate (and dateparser behind it) costs 0.2 s to import, and only
        # non-ISO strings need it
        from htmldate.extractors import try_date_expr

        bound = (not_after or datetime.now(UTC)).astimezone(UTC)
        # the day's end as the bound keeps htmldate's cache useful across one night
        latest = datetime.combine(bound.date(), dt_time.max)
        day = try_date_expr(value.strip(), "%Y-%m-%d", True, EARLIEST_LENIENT, latest)
        parsed = datetime.fromisoformat(day).replace(tzinfo=UTC) if day else stated_day(value)
        stated = as_stated(parsed)
    if stated is None or (not_after is not None and stated.at > not_after):
        return None
    return stated


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
