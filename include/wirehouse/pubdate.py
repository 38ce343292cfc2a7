"""Publication date of a page: which of the dates a page states to believe.

Pages state their publication date in several places at once: JSON-LD, meta tags, a
``<time>`` element in the byline, the URL path. Most of the time these agree. When they do
not, it is usually one of them that is wrong (a CMS plugin that writes the UTC clock time
with the local offset, a theme that stamps the last edit as the visible date), so the day
most of them name wins, and the publisher's most precise statement breaks ties.

Dates are kept as stated (:class:`wirehouse.dates.StatedTime`): the instant in UTC, the
offset the page wrote and the calendar day it shows, since the day readers see is the
publisher's local day (a story stamped 22:00 in New York is the 21st there, the 22nd in
UTC). The vote is on that local day. A stamp written in UTC (``Z``) borrows the zone of
another stamp of the same instant, or of the byline's printed time ("8:00 PM EST, Tue
December 19, 2023"), to find the day the page shows.

An update is never the publication: ``dateModified``/``article:modified_time`` are not
candidates, and a byline ``<time>`` that is marked or worded as an update ("Updated Dec.
23"), or that is the stated modification instant while the metadata states another
publication, does not vote.

Dates in the body text, related-article lists and "last modified" headers are left to
htmldate (via trafilatura), bounded by the year and month the URL gives when it gives one.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import lxml.etree
import lxml.html

from wirehouse.dates import StatedTime, parse_stated, parse_timestamp, stated_day

# meta names/properties (lowercased) that state the first publication, most trusted first
PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "parsely-pub-date",
    "dc.date.issued",
    "dcterms.issued",
)
MONTH_ABBR = {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
_MONTH = r"(0?[1-9]|1[0-2]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
# /2023/12/20/, /2023-12-20/, /2020/3/19/, /2023/dec/21/ and, with no day, /2023/12/
URL_DATE_RE = re.compile(
    rf"/((?:19|20)\d\d)[/-]{_MONTH}(?:[/-](0?[1-9]|[12]\d|3[01]))?(?=[/-])", re.IGNORECASE
)
# a path segment (or the start of a file name) that is a whole date: /20231220/, -20231220.
URL_COMPACT_RE = re.compile(r"[/_-]((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=[/._-])")
# ancestors whose dates belong to other stories (teasers, related lists, sidebars)
ELSEWHERE_TAGS = frozenset({"li", "nav", "aside", "footer", "a"})
ELSEWHERE_CLASS_RE = re.compile(
    r"related|recommend|popular|trending|sidebar|teaser|promo|widget|more-|-more|"
    r"read-next|up-next|carousel|rail",
    re.IGNORECASE,
)
# the site's own header, whose <time> is today's date (the masthead clock), not the story's
SITE_HEADER_RE = re.compile(r"masthead|site-header|site_header|topbar|top-bar", re.IGNORECASE)
# microdata scopes a page's own dates live in; a <time> in any other (an Event's start, an
# Offer's validity) dates that thing, not the page
PAGE_ITEMTYPE_RE = re.compile(r"article|posting|webpage|report", re.IGNORECASE)
MODIFIED_RE = re.compile(r"modif|updat", re.IGNORECASE)
# meta names/properties (lowercased) that state the last modification, never a publication
MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")
# a byline <time> worded as an update: "Updated Dec. 23, 2023", "Last modified: ..."
UPDATE_WORDING_RE = re.compile(r"\b(updated|modified|edited|revised)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Stated:
    """One date the page states for itself, and where.

    `value` is the instant (UTC); `utc_offset` the minutes east of UTC the statement
    wrote (None: no zone); `local_date` the day it names in its own zone (None: the UTC
    day of `value`); `day_only` marks a date without a time (the URL's day)."""

    source: str
    value: datetime
    utc_offset: int | None = None
    local_date: date | None = None
    day_only: bool = False

    @property
    def day(self) -> date:
        """The calendar day the page shows for this statement."""
        return self.local_date or self.value.date()

    @classmethod
    def of(cls, source: str, stated: StatedTime) -> Stated:
        day_only = stated.utc_offset is None and stated.at.time() == datetime.min.time()
        return cls(source, stated.at, stated.utc_offset, stated.local_date, day_only)


def url_date(url: str) -> date | None:
    """The day a URL path names (/2023/12/20/, /2023/dec/20/, /20231220/), if any: news
    CMSs put the publication day in the path and it survives template changes."""
    match = URL_DATE_RE.search(url)
    if match and match.group(3):
        return _safe_date(match.group(1), match.group(2), match.group(3))
    compact = URL_COMPACT_RE.search(url)
    return _safe_date(*compact.groups()) if compact else None


def url_month(url: str) -> tuple[date, date] | None:
    """First and last day of the year/month a URL path names (/2023/12/slug): no date of
    the page's own publication falls outside it, so it bounds the heuristic search."""
    match = URL_DATE_RE.search(url)
    if not match:
        return None
    first = _safe_date(match.group(1), match.group(2), "1")
    if first is None:
        return None
    last_day = calendar.monthrange(first.year, first.month)[1]
    return first, first.replace(day=last_day)


def _safe_date(year: str, month: str, day: str) -> date | None:
    number = int(month) if month.isdigit() else MONTH_ABBR.get(month[:3].lower())
    try:
        return date(int(year), number or 0, int(day))
    except ValueError:
        return None


def _is_elsewhere(node: lxml.html.HtmlElement) -> bool:
    """The element sits in a list, link, sidebar or teaser, in the site's masthead, or in
    the microdata of something other than the page (an event): its date is not the page's."""
    for ancestor in node.iterancestors():
        if ancestor.tag in ("body", "html"):
            break  # their classes describe the page's layout ("sidebar-mode-1"), not a teaser
        if ancestor.tag in ELSEWHERE_TAGS or _is_site_header(ancestor):
            return True
        itemtype = ancestor.get("itemtype")
        if itemtype and not PAGE_ITEMTYPE_RE.search(itemtype):
            return True
        marks = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
        if ELSEWHERE_CLASS_RE.search(marks):
            return True
    return False


def _is_site_header(node: lxml.html.HtmlElement) -> bool:
    """The page's masthead: marked as such, or a <header> that holds the site navigation
    (an article's own <header> holds a headline and a byline, not a <nav>)."""
    marks = f"{node.get('class') or ''} {node.get('id') or ''}"
    if SITE_HEADER_RE.search(marks):
        return True
    return node.tag == "header" and next(node.iter("nav"), None) is not None


def visible_published(doc: lxml.html.HtmlElement) -> datetime | None:
    """The instant of :func:`visible_published_stated`."""
    stated = visible_published_stated(doc)
    return stated.at if stated else None


def visible_published_stated(doc: lxml.html.HtmlElement) -> StatedTime | None:
    """The machine-readable date next to the byline, as stated: an element marked
    itemprop=datePublished, else the first <time datetime> that is not another story's
    (related lists, teasers) and not marked or worded as an update. After a byline
    <time> worded as an update ("Updated: <time>"), only a <time> of the same byline
    block may follow it ("… Published: <time>"): a later one elsewhere on the page dates
    something else, and the byline gave no publication date."""
    for node in doc.xpath("//*[@itemprop='datePublished'][not(self::meta)]"):
        value = parse_stated(node.get("datetime") or node.get("content"))
        if value is not None and not _is_elsewhere(node):
            return value
    seen_update, byline = False, None
    for node in doc.iter("time"):
        marks = f"{node.get('class') or ''} {node.get('itemprop') or ''}"
        if MODIFIED_RE.search(marks) and "publish" not in marks.lower():
            continue
        value = parse_stated(node.get("datetime"))
        if value is None or _is_elsewhere(node):
            continue
        if seen_update and (byline is None or byline not in node.iterancestors()):
            return None
        if not _worded_as_update(node):
            return value
        if not seen_update:
            seen_update, byline = True, _block_of(node)
    return None


def update_days(doc: lxml.html.HtmlElement) -> set[date]:
    """The days the page prints as updates: <time> elements marked or worded as one."""
    days = set()
    for node in doc.iter("time"):
        marks = f"{node.get('class') or ''} {node.get('itemprop') or ''}"
        marked = MODIFIED_RE.search(marks) and "publish" not in marks.lower()
        if (marked or _worded_as_update(node)) and (value := parse_stated(node.get("datetime"))):
            days.add(value.local_date)
    return days


def _block_of(node: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The byline block around a <time>: its parent when that also holds the label
    ("<div><span>Updated:</span> <time>…</time></div>"), else its grandparent ("<div><p>
    Updated <time>…</time></p><p>Published <time>…</time></p></div>"); None when that is
    the whole page."""
    parent = node.getparent()
    block = parent if len(parent) > 1 else parent.getparent()
    return None if block is None or block.tag in ("body", "html") else block


def _worded_as_update(node: lxml.html.HtmlElement) -> bool:
    """A <time> whose text, or the words just before it, call it an update ("Updated Dec.
    23, 2023", "<span>Last updated</span> <time>…"): that is not when the story came out."""
    before = node.getprevious()
    lead = before.tail if before is not None else node.getparent().text
    label = before.text_content() if isinstance(before, lxml.html.HtmlElement) else ""
    words = " ".join(node.text_content().split())[:40]
    return bool(UPDATE_WORDING_RE.search(f"{label[-40:]} {(lead or '')[-40:]} {words}"))


def stated_dates(
    doc: lxml.html.HtmlElement, meta: dict[str, str], ld: dict[str, Any], url: str
) -> list[Stated]:
    """Every publication date the page states for itself, most trusted source first. The
    byline's <time> is left out when it is the stated modification instant and the
    metadata states a different publication: themes often print the last edit there."""
    found: list[Stated] = []
    published = ld.get("datePublished")
    if isinstance(published, str) and (value := parse_stated(published)):
        found.append(Stated.of("json-ld", value))
    for key in PUBLISHED_META:
        if value := parse_stated(meta.get(key)):
            found.append(Stated.of(key, value))
    if (value := visible_published_stated(doc)) and not _is_modification(value, found, meta, ld):
        found.append(Stated.of("time", value))
    if day := url_date(url):
        found.append(
            Stated("url", datetime(day.year, day.month, day.day, tzinfo=UTC), None, day, True)
        )
    return found


def modified_instants(meta: dict[str, str], ld: dict[str, Any]) -> set[datetime]:
    """The instants (to the minute) the page states as its last modification."""
    values = [ld.get("dateModified"), *(meta.get(key) for key in MODIFIED_META)]
    found = (parse_timestamp(v) for v in values if isinstance(v, str))
    return {_minute(v) for v in found if v is not None}


def _is_modification(
    value: StatedTime, published: list[Stated], meta: dict[str, str], ld: dict[str, Any]
) -> bool:
    instant = _minute(value.at)
    return instant in modified_instants(meta, ld) and all(
        _minute(s.value) != instant for s in published
    )


def _minute(value: datetime) -> datetime:
    """An instant to the minute: one CMS writes the seconds or milliseconds, another not."""
    return value.replace(second=0, microsecond=0)


def with_borrowed_zones(stated: list[Stated]) -> list[Stated]:
    """Statements written in UTC (offset 0), given the zone of another statement of the
    same instant written with a local offset: JSON-LD often states 03:00Z what the meta
    tag states 22:00-05:00, and the page shows the day before."""
    zoned = {
        _minute(s.value): s.utc_offset
        for s in reversed(stated)
        if s.utc_offset not in (None, 0) and not s.day_only
    }
    out = []
    for s in stated:
        offset = zoned.get(_minute(s.value)) if s.utc_offset == 0 else None
        out.append(in_zone(s, offset) if offset is not None else s)
    return out


def in_zone(stated: Stated, offset: int) -> Stated:
    """The statement read in the zone `offset` minutes east of UTC."""
    local = (stated.value + timedelta(minutes=offset)).date()
    return replace(stated, utc_offset=offset, local_date=local)


def agreed_statement(stated: list[Stated], not_after: datetime | None) -> Stated | None:
    """The statement to believe, ignoring dates in the future of the fetch.

    The day most statements name (in their own zones) wins; two sources that agree
    outvote a third that does not: a single wrong stamp is the common failure, several
    wrong in the same way is not. On that day the instant most timed statements give
    wins (a CMS that writes the UTC clock time with the local offset is outvoted there
    too), and the most trusted source breaks ties."""
    usable = with_borrowed_zones([s for s in stated if not_after is None or s.value <= not_after])
    if not usable:
        return None
    votes = Counter(s.day for s in usable)
    best = max(votes.values())
    day = next(s.day for s in usable if votes[s.day] == best)
    on_day = [s for s in usable if s.day == day]
    timed = [s for s in on_day if not s.day_only]
    if not timed:
        return on_day[0]
    instants = Counter(_minute(s.value) for s in timed)
    top = max(instants.values())
    return next(s for s in timed if instants[_minute(s.value)] == top)


def agreed_date(stated: list[Stated], not_after: datetime | None) -> datetime | None:
    """The instant of :func:`agreed_statement`."""
    chosen = agreed_statement(stated, not_after)
    return chosen.value if chosen else None


# a printed clock time: "9:03AM", "11:00 pm", "23:30", "8:00 P.M."
CLOCK_RE = re.compile(
    r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?!\d)\s*(?:([ap])\.?\s?m\b\.?)?",
    re.IGNORECASE,
)
BODY_CLOCK_XPATH = lxml.etree.XPath("//body//text()[contains(., ':')]")
# offsets in use run from UTC-12 to UTC+14, in quarter hours (+05:45 Nepal)
EARLIEST_OFFSET, LATEST_OFFSET, OFFSET_STEP = -12 * 60, 14 * 60, 15
PRINTED_TEXT_CHARS = 160  # a byline's date line, not a paragraph that quotes a time
PRINTED_CANDIDATES = 40  # clock times looked at, in page order


def printed_offset(doc: lxml.html.HtmlElement, instant: datetime) -> int | None:
    """The zone the page prints `instant` in: the first date and clock time printed
    together ("December 26, 2023 - 9:03AM", "8:00 PM EST, Tue December 19, 2023") that
    are that instant to the minute at a real UTC offset. Metadata often states UTC while
    the byline prints the publisher's clock; their difference is the offset, and the
    printed day is the day readers see."""
    target = _minute(instant).replace(tzinfo=None)
    seen = 0
    for node in BODY_CLOCK_XPATH(doc):
        element = node.getparent()
        if element.tag in ("script", "style") or not CLOCK_RE.search(node):
            continue
        seen += 1
        if seen > PRINTED_CANDIDATES:
            break
        for _ in range(3):  # the date and the time are often sibling spans
            text = " ".join(element.text_content().split())
            if len(text) > PRINTED_TEXT_CHARS:
                break
            day = stated_day(text)
            if day is not None:
                # no _is_elsewhere here: the instant to the minute at a real offset is
                # this story's stamp wherever it is printed (a rail listing it included)
                offset = _offset_between(day.date(), text, target)
                if offset is not None:
                    return offset
                break
            element = element.getparent()
            if element is None:
                break
    return None


def _offset_between(day: date, text: str, target: datetime) -> int | None:
    """Minutes from `target` (naive UTC) to a clock time printed on `day` in `text`, when
    that is a real UTC offset."""
    for clock in CLOCK_RE.finditer(text):
        hour, minute, half = int(clock.group(1)), int(clock.group(2)), clock.group(3)
        if half:
            if hour > 12:
                continue
            hour = hour % 12 + (12 if half.lower() == "p" else 0)
        printed = datetime(day.year, day.month, day.day, hour, minute)
        offset = round((printed - target).total_seconds() / 60)
        if EARLIEST_OFFSET <= offset <= LATEST_OFFSET and offset % OFFSET_STEP == 0:
            return offset
    return None


def as_printed(doc: lxml.html.HtmlElement, chosen: Stated) -> Stated:
    """A statement written in UTC, read in the zone the byline prints it in (if it does)."""
    if chosen.utc_offset != 0 or chosen.day_only:
        return chosen
    offset = printed_offset(doc, chosen.value)
    return in_zone(chosen, offset) if offset else chosen


def date_search_bounds(url: str) -> dict[str, Any]:
    """htmldate settings for the heuristic fallback: original (not updated) dates, the
    extensive search, and within the month the URL names when it names one. The fetch time
    is not passed as the upper bound: htmldate then falls back to a year-month match on the
    rejected date (the 1st of its month); a date after the fetch is dropped later instead."""
    params: dict[str, Any] = {"original_date": True, "extensive_search": True}
    today = datetime.now(UTC).date()
    month = url_month(url)
    if month and month[0] <= today:
        params["min_date"] = month[0].isoformat()
        params["max_date"] = min(today, month[1]).isoformat()
    return params
