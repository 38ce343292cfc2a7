"""Publication date of a page: which of the dates a page states to believe.

Pages state their publication date in several places at once: JSON-LD, meta tags, a
``<time>`` element in the byline, the URL path. Most of the time these agree. When they do
not, it is usually one of them that is wrong (a CMS plugin that writes the UTC clock time
with the local offset, a theme that stamps the last edit as the visible date), so the day
most of them name wins, and the publisher's most precise statement breaks ties.

Dates in the body text, related-article lists and "last modified" headers are left to
htmldate (via trafilatura), bounded by the year and month the URL gives when it gives one.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import lxml.html

from wirehouse.dates import parse_timestamp

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


@dataclass(frozen=True)
class Stated:
    """One date the page states for itself, and where."""

    source: str
    value: datetime


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
    """The machine-readable date next to the byline: an element marked
    itemprop=datePublished, else the first <time datetime> that is not another story's
    (related lists, teasers) and not marked as an update."""
    for node in doc.xpath("//*[@itemprop='datePublished'][not(self::meta)]"):
        value = parse_timestamp(node.get("datetime") or node.get("content"))
        if value is not None and not _is_elsewhere(node):
            return value
    for node in doc.iter("time"):
        marks = f"{node.get('class') or ''} {node.get('itemprop') or ''}"
        if MODIFIED_RE.search(marks) and "publish" not in marks.lower():
            continue
        value = parse_timestamp(node.get("datetime"))
        if value is not None and not _is_elsewhere(node):
            return value
    return None


def stated_dates(
    doc: lxml.html.HtmlElement, meta: dict[str, str], ld: dict[str, Any], url: str
) -> list[Stated]:
    """Every publication date the page states for itself, most trusted source first."""
    found: list[Stated] = []
    published = ld.get("datePublished")
    if isinstance(published, str) and (value := parse_timestamp(published)):
        found.append(Stated("json-ld", value))
    for key in PUBLISHED_META:
        if value := parse_timestamp(meta.get(key)):
            found.append(Stated(key, value))
    if value := visible_published(doc):
        found.append(Stated("time", value))
    if day := url_date(url):
        found.append(Stated("url", datetime(day.year, day.month, day.day, tzinfo=UTC)))
    return found


def agreed_date(stated: list[Stated], not_after: datetime | None) -> datetime | None:
    """The most trusted stated date on the (UTC) day most sources name, ignoring dates in
    the future of the fetch. Two sources that agree outvote a third that does not: a single
    wrong stamp is the common failure, several wrong in the same way is not."""
    usable = [s for s in stated if not_after is None or s.value <= not_after]
    if not usable:
        return None
    votes = Counter(s.value.date() for s in usable)
    best = max(votes.values())
    return next(s.value for s in usable if votes[s.value.date()] == best)


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
