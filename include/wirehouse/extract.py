"""Extraction: from an HTML page to an article record.

trafilatura finds the main text. Metadata comes from what the publisher states about the
page, most precise first: JSON-LD (schema.org NewsArticle and friends), then Open Graph and
article meta tags, then trafilatura's heuristics (htmldate), then the date the feed or
sitemap gave the URL; for the publication date, the stated dates (JSON-LD, meta tags, the
byline's <time>, the URL's day) vote and the day most agree on wins (:mod:`wirehouse.pubdate`).
A date in the future of the fetch is discarded (clock-skewed CMSs and
"scheduled" stamps). The canonical link is only trusted when it stays on the page's own
site, so a hostile page cannot claim another outlet's article id.

Normalisation and text rules live in :mod:`wirehouse.normalise`; this module is the glue.

Quality flags (documented thresholds):
- ``too_short``: fewer than ``TOO_SHORT_WORDS`` (150) words of body: a brief, a caption page
  or a teaser; kept, but not something to cluster stories on alone.
- ``probably_not_article``: the page says it is something else (``og:type`` such as
  ``website`` and no JSON-LD article), or it does not say it is an article and gives no
  publication date, or it reads like a listing: over 60% of 5+ paragraphs are short
  headline-like lines.
- ``paywalled``: JSON-LD ``isAccessibleForFree: false``, or the body ends in a subscription
  prompt.

No loss: cleanup may shorten a body but never throw the story away. When the full cleanup
leaves under half of the extractor's words (or nothing), the extractor's text is kept with
only lossless cleaning instead, and ``extraction_path`` records which path made the body
(``EXTRACTION_PATHS``).
"""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import trafilatura

from wirehouse.dates import (
    StatedTime,
    as_stated,
    parse_stated,
    parse_stated_leniently,
    parse_timestamp,
)
from wirehouse.jsonl import parse_record, record_text, stated_language
from wirehouse.normalise import (
    PAYWALL_ASK,
    clean_paragraph,
    content_hash,
    detect_language,
    drop_closing_furniture,
    light_body,
    normalise_body,
    split_credits,
    split_dateline_parts,
    word_count,
)
from wirehouse.pubdate import (
    agreed_statement,
    as_printed,
    date_search_bounds,
    stated_dates,
    update_days,
)
from wirehouse.trafilatura_metadata import TrafilaturaMetadata
from wirehouse.urls import InvalidURL, canonicalize_url, same_site

MIN_BODY_WORDS = 5  # below this the "text" is a menu item or a caption, not an article
# The body's path, a closed set (the accepted values of fct_articles.extraction_path):
# - wirehouse: trafilatura's main text (precision mode, tables and comments left out)
#   through the full cleanup (normalise_body, JSON-LD articleBody, dateline and credits);
# - wirehouse_recall: as wirehouse, from trafilatura's recall-side run, the precision run
#   having kept under half of the page's paragraph words (main_text);
# - trafilatura_fallback: the full cleanup left under LOSS_SHARE of trafilatura's words, so
#   its text went through light_body (lossless cleaning) instead;
# - trafilatura_default: the precision (and recall) runs found no text; a run with
#   trafilatura's defaults (its readability/jusText fallback on, tables in) gave it, through
#   the full cleanup (a loss there is recorded as trafilatura_fallback);
# - jsonl: a JSON Lines record's text through the full cleanup;
# - jsonl_fallback: a record's text through light_body, the full cleanup having lost it.
EXTRACTION_PATHS = (
    "wirehouse",
    "wirehouse_recall",
    "trafilatura_fallback",
    "trafilatura_default",
    "jsonl",
    "jsonl_fallback",
)
# Under this share of the extractor's words the cleanup has thrown the story away (the
# issue's "under half"); measured by bench/bench_extract_loss.py, where every development
# page and its wire-copy variants keep at least this share.
LOSS_SHARE = 0.5
TOO_SHORT_WORDS = 150
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "blogposting",
        "liveblogposting",
        "report",
        "scholarlyarticle",
        "socialmediaposting",
    }
)
PAYWALL_RE = re.compile(
    r"(subscribe|subscription|sign in|log in|become a member)\b.{0,60}\b" + PAYWALL_ASK,
    re.IGNORECASE,
)
PAYWALL_WORDS = 250
HTML_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ")
TITLE_SPLIT_RE = re.compile("|".join(re.escape(sep) for sep in TITLE_SEPARATORS))


@dataclass
class ArticleRecord:
    """The extracted, normalised article: every field is a column of marts.fct_articles."""

    canonical_url: str
    title: str | None
    body: str
    authors: list[str] = field(default_factory=list)
    description: str | None = None
    site_name: str | None = None
    published_at: datetime | None = None
    # the zone the publication date was stated in: minutes east of UTC (+05:30 is 330);
    # None when the page stated no zone (a date alone, a time without an offset)
    published_utc_offset: int | None = None
    # the calendar day the page shows for its publication (the date as written)
    published_local_date: date | None = None
    modified_at: datetime | None = None
    dateline: str | None = None
    dateline_agency: str | None = None  # '(AP)' in 'DAKAR, Senegal (AP) —'
    credits: str | None = None
    language: str = "und"
    language_confidence: float = 0.0
    word_count: int = 0
    content_hash: str = ""
    too_short: bool = False
    probably_not_article: bool = False
    paywalled: bool = False
    extraction_path: str = "wirehouse"  # one of EXTRACTION_PATHS

    def to_json_dict(self) -> dict[str, object]:
        """The record as JSON-safe values (timestamps as ISO 8601 strings)."""
        data = dict(self.__dict__)
        for key in ("published_at", "modified_at", "published_local_date"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        data["language_confidence"] = round(self.language_confidence, 3)
        return data


def rebody(article: dict[str, Any], body: str) -> dict[str, Any]:
    """An article row with a new body (after learned boilerplate is stripped) and the
    fields derived from the body recomputed."""
    words = word_count(body)
    return {
        **article,
        "body": body,
        "word_count": words,
        "content_hash": content_hash(body),
        "too_short": words < TOO_SHORT_WORDS,
    }


class ExtractionEmpty(ValueError):
    """The page yielded no article text."""


def page_metadata(doc: lxml.html.HtmlElement) -> dict[str, str]:
    """Canonical link and the meta tags we trust, keyed by property/name (lowercased)."""
    meta: dict[str, str] = {}
    for node in doc.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").lower()
        content = node.get("content")
        if key and content and key not in meta:
            meta[key] = content.strip()
    for node in doc.iter("link"):
        if (node.get("rel") or "").lower() == "canonical" and node.get("href"):
            meta.setdefault("canonical", node.get("href").strip())
    return meta


def _ld_objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [o for v in value for o in _ld_objects(v)]
    if isinstance(value, dict):
        return [value, *_ld_objects(value.get("@graph", []))]
    return []


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def json_ld_objects(doc: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """Every schema.org object of the page's JSON-LD scripts, @graph members included."""
    objects: list[dict[str, Any]] = []
    for node in doc.iter("script"):
        if (node.get("type") or "").lower() != "application/ld+json" or not node.text:
            continue
        try:
            data = json.loads(node.text)
        except (ValueError, RecursionError):
            continue
        objects.extend(_ld_objects(data))
    return objects


def json_ld_article(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The page's schema.org article: the first article object, with fields it lacks
    (articleBody, liveBlogUpdate, dates, authors) filled from later article objects, since
    pages often carry a NewsArticle and a LiveBlogPosting for the same story; or {}."""
    merged: dict[str, Any] = {}
    for obj in objects:
        if _types(obj) & ARTICLE_TYPES:
            for key, value in obj.items():
                merged.setdefault(key, value)
    return merged


def with_page_dates(ld: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The article's JSON-LD for reading dates: when it states no `datePublished`, the
    dates of the page's WebPage object. Yoast's graph, on posts not typed as articles,
    states them only there, and without it the page's stated first publication was lost
    (two articles_dev pages dated None)."""
    if "datePublished" in ld:
        return ld
    for obj in objects:
        if "webpage" in _types(obj) and isinstance(obj.get("datePublished"), str):
            dated = {**ld, "datePublished": obj["datePublished"]}
            if "dateModified" not in ld and isinstance(obj.get("dateModified"), str):
                dated["dateModified"] = obj["dateModified"]
            return dated
    return ld


def _ld_names(value: Any) -> list[str]:
    """Names from a JSON-LD author/publisher value (string, object or list of either)."""
    if isinstance(value, str):
        return split_authors(value)
    if isinstance(value, dict):
        name = value.get("name")
        return split_authors(name) if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for v in value for n in _ld_names(v)]
    return []


def choose_canonical(url: str, meta: dict[str, str], trust_any_site: bool = False) -> str:
    """The page's canonical URL when it is on the same site (or the page is a saved file
    with no site of its own), else the fetched URL. A malformed canonical link is ignored
    (the page is still the page we fetched)."""
    for key in ("canonical", "og:url"):
        candidate = meta.get(key)
        if not candidate:
            continue
        try:
            resolved = canonicalize_url(candidate, url)
        except InvalidURL:
            continue
        if resolved.startswith(("http://", "https://")) and (
            trust_any_site or same_site(resolved, url)
        ):
            return resolved
    return canonicalize_url(url)


AUTHOR_NOISE_RE = re.compile(r"^(by|von|par|por|view all posts by|posted by|written by)\s+", re.I)
AUTHOR_TAIL_RE = re.compile(r"\s+(link copied|follow|email|twitter)$", re.IGNORECASE)
# a byline naming an organisation or a desk rather than a person
ORG_WORDS = frozenset(
    [
        "staff",
        "team",
        "desk",
        "editors",
        "editorial",
        "correspondent",
        "correspondents",
        "newsroom",
        "redazione",
        "news",
        "times",
        "post",
        "press",
        "journal",
        "daily",
        "media",
        "magazine",
        "tribune",
        "herald",
        "gazette",
        "telegraph",
        "wire",
        "agency",
        "reuters",
        "bloomberg",
        "afp",
        "ap",
        "associated",
        "report",
        "bureau",
        "online",
        "digital",
        "tv",
        "telegram",
        # job titles and institutions: what follows a name in a byline, never a name
        "writer",
        "reporter",
        "editor",
        "columnist",
        "contributor",
        "contributing",
        "analyst",
        "publisher",
        "producer",
        "photographer",
        "journalist",
        "institute",
        "university",
        "school",
        "college",
        "department",
        "foundation",
        "association",
        "society",
        "council",
        "ministry",
    ]
)


NAME_PARTICLES = frozenset(
    [
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "bin",
        "ibn",
        "al",
        "el",
        "la",
        "le",
        "y",
    ]
)
PROFILE_URL_RE = re.compile(r"\s*(https?:|www\.)", re.IGNORECASE)
HANDLE_RE = re.compile(r"^[a-z]+(\.[a-z]+)+\.\d+$")
WEBBY_RE = re.compile(r"(^https?:|^www\.|^@|\.(com|org|net|co|uk|io|tv)\b)", re.IGNORECASE)


def _is_person(name: str) -> bool:
    if WEBBY_RE.search(name) or (" " not in name and name.islower()):
        return False  # a URL, a domain or a social handle
    words = name.lower().replace(".", " ").split()
    if not words or len(words) > 6 or any(w in ORG_WORDS for w in words):
        return False
    if not all(w[0].isupper() or w.lower() in NAME_PARTICLES or w in "-–—" for w in name.split()):
        return False  # "+55 more", "and friends": not a name ("Nick - Jane Doe" is one)
    return not (name.isupper() and len(name.replace(" ", "")) <= 5)  # ANI, WBEZ


def split_authors(value: str | None) -> list[str]:
    """Person names from a byline: 'By A, B and C' -> [A, B, C]; HTML entities decoded,
    profile-link text ('View all posts by', 'Link Copied') dropped, organisations and desks
    ('TMZ Staff', 'The Associated Press') left out: authors are people."""
    if not value or PROFILE_URL_RE.match(value):
        return []  # article:author is often the writer's (or the outlet's) profile URL
    value = AUTHOR_NOISE_RE.sub("", clean_paragraph(html.unescape(value)))
    parts = re.split(r"\s*(?:;|,|\band\b|&|\||/|•|·)\s*", value)
    names = []
    for part in parts:
        part = AUTHOR_TAIL_RE.sub("", AUTHOR_NOISE_RE.sub("", part)).strip(" -–—:")
        if HANDLE_RE.match(part):  # a user handle such as jane.doe.1232
            part = " ".join(w for w in part.split(".") if w.isalpha()).title()
        if part and len(part) <= 60 and _is_person(part):
            names.append(part)
    return list(dict.fromkeys(names))


def clean_title(title: str | None, site_name: str | None, host: str | None = None) -> str | None:
    """A headline without the ' | Site Name' decoration pages add to <title>/og:title,
    nor a trailing ' | Section' label ("… | Opinion", "… | Editorial"): a pipe is not
    headline punctuation, and one or two words after it name a section or an outlet.

    `host` (the page's URL host) names the site too when the page states no site name,
    or another form of it: "PolitiFact - …" on politifact.com, "… - The Verge" on
    theverge.com."""
    if not title:
        return None
    title = clean_paragraph(html.unescape(title))
    if site_name or host:
        title = _strip_site_name(title, (site_name or "").strip().lower(), site_keys(host))
    head, _, tail = title.rpartition(" | ")
    if len(head.split()) >= 3 and len(tail.split()) <= 2:
        title = head.strip()
    return title or None


def _strip_site_name(title: str, site: str, host_keys: frozenset[str] = frozenset()) -> str:
    """The title without the site's name as its last or first separated segment: the
    stated site name, or a segment that spells the URL's domain name ("PolitiFact",
    "The Verge" on theverge.com) once case, spaces and punctuation are ignored."""

    def spells_host(segment: str, rest: str) -> bool:
        # a headline of three words or more is left: "Verge - Home" is no story's title
        return _site_key(segment) in host_keys and len(rest.split()) >= 3

    for sep in TITLE_SEPARATORS:
        head, _, tail = title.rpartition(sep)
        if head and (
            (site and tail.strip().lower() in (site, site.removeprefix("the ")))
            or spells_host(tail, head)
        ):
            return head.strip()
        tail, _, rest = title.partition(sep)
        if rest and ((site and tail.strip().lower() == site) or spells_host(tail, rest)):
            return rest.strip()
    return title


# second-level labels under which the registrable name is one further left (bbc.co.uk)
SECOND_LEVEL = frozenset(["co", "com", "org", "net", "ac", "gov", "edu", "news"])


def _site_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def site_keys(host: str | None) -> frozenset[str]:
    """How a page's site name may be spelled, from its URL host: www.theverge.com ->
    {"theverge", "verge"}, www.thesun.co.uk -> {"thesun", "sun"}."""
    if not host:
        return frozenset()
    labels = host.lower().rstrip(".").split(".")
    if len(labels) < 2:
        return frozenset()
    name = labels[-3] if len(labels) >= 3 and labels[-2] in SECOND_LEVEL else labels[-2]
    key = _site_key(name)
    if len(key) < 4:  # "ap", "cnn": too short to tell a site from a word
        return frozenset()
    return frozenset({key, key.removeprefix("the")})


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return clean_paragraph(html.unescape(value))


def visible_headline(doc: lxml.html.HtmlElement) -> str | None:
    """The headline readers see: the page's <h1> (inside <article>/<main> when there are
    several). Titles in <title>, og:title and JSON-LD are often SEO or social variants."""
    for path in ("//article//h1", "//main//h1", "//h1"):
        found = [_headline_text(h) for h in doc.xpath(path)]
        found = [h for h in found if 3 <= len(h) <= 300]
        if found and (path != "//h1" or len(found) == 1):
            return found[0]
    return None


def _headline_text(h1: lxml.html.HtmlElement) -> str:
    """An <h1>'s headline: when it holds several lines (a section label, a logo's alt text
    and the headline), the longest line."""
    lines = [clean_paragraph(line) for line in h1.text_content().splitlines()]
    lines = [line.strip(" |") for line in lines if line.strip(" |")]
    return max(lines, key=len) if lines else ""


def _title_key(text: str) -> str:
    """A title compared loosely: case and spacing do not tell two headlines apart."""
    return " ".join(text.split()).casefold()


def _title_parts(title: str) -> set[str]:
    """What a stated title is made of: the whole, each segment between separators and
    each leading run of segments ("Headline | Section | Site" -> "Headline", ...)."""
    parts = {_title_key(title)}
    for match in TITLE_SPLIT_RE.finditer(title):
        parts.add(_title_key(title[: match.start()]))
    parts.update(_title_key(segment) for segment in TITLE_SPLIT_RE.split(title))
    return parts


def agreed_headline(
    doc: lxml.html.HtmlElement, stated: list[str | None], site_name: str | None
) -> str | None:
    """The first <h1> that a stated title is made of. On pages with several <h1> (logo,
    menus, sidebars) agreement with og:title/JSON-LD picks the story's, and the <h1> is
    free of the section and site name the stated title adds. Short <h1> (a site name or
    a section word) never count as agreeing."""
    parts = set().union(*(_title_parts(t) for t in stated if t))
    site = _title_key(site_name or "")
    for h1 in doc.iter("h1"):
        text = _headline_text(h1)
        key = _title_key(text)
        if len(text.split()) >= 3 and key in parts and key != site:
            return text
    return None


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.casefold()) if len(w) > 3}


def _masthead(visible: str, options: list[str | None], site_name: str | None) -> bool:
    """Whether an <h1> is the site's logo or name rather than the story's headline: it
    names the site (or a logo) and shares no word with any stated title. An <h1> that
    merely differs from og:title is kept: it is what readers see."""
    words = _content_words(visible)
    stated = [o for o in options if o]
    if not stated or any(words & _content_words(o) for o in stated):
        return False
    site = _content_words(site_name or "")
    return "logo" in words or bool(site and site <= words)


def choose_title(
    visible: str | None,
    stated: list[str | None],
    site_name: str | None,
    host: str | None = None,
) -> str | None:
    """The visible headline, unless it is a stated title (JSON-LD, og:title) with a short
    label glued in front ("Opinion", "Exclusive"): then the stated one; or unless it is
    the site's masthead: then the first stated title."""
    options = [clean_title(t, site_name, host) for t in stated if t]
    visible = clean_title(visible, site_name, host)
    if visible and _masthead(visible, options, site_name):
        visible = None
    if visible:
        for option in options:
            if option and visible.endswith(option) and 0 < len(visible) - len(option) <= 25:
                return option
        return visible
    return next((o for o in options if o), None)


BYLINE_PATHS = (
    "//*[@itemprop='author']//*[@itemprop='name']",
    "//a[@rel='author']",
    "//*[contains(@class, 'author-name') or contains(@class, 'author__name')"
    " or contains(@class, 'byline__name') or contains(@class, 'author_name')]",
    "//*[contains(@class, 'byline')]//a",
    "//*[contains(@class, 'byline')]",
)


def visible_byline(doc: lxml.html.HtmlElement) -> list[str]:
    """Authors from the byline readers see, when the page states none in its metadata."""
    for path in BYLINE_PATHS:
        names: list[str] = []
        for node in doc.xpath(path)[:6]:
            text = clean_paragraph(node.text_content())
            if 0 < len(text) <= 120:
                names.extend(split_authors(text))
        if names:
            return list(dict.fromkeys(names))
    return []


def choose_authors(
    stated: Iterable[Callable[[], list[str]]],
    seen: Iterable[Callable[[], list[str]]],
    fuller: list[list[str]],
    site_name: str | None,
) -> list[str]:
    """The people the first source names, most precise first and each read only when
    needed: what the page states (JSON-LD, meta tags, trafilatura), then what readers see
    (the byline). A stated source that credits only the outlet ("USA TODAY", or "South
    Florida Sun Sentinel" for the Sun Sentinel) ends the stated ones: only the visible
    byline can name a person then. A fuller byline (the meta tag, the "By A and B" line)
    naming all the chosen people and more wins: JSON-LD often lists only the first of
    two bylined writers."""
    site = re.compile(rf"\b{re.escape(site_name.casefold())}\b") if site_name else None

    def people(names: list[str]) -> list[str]:
        return [a for a in names if not (site and site.search(a.casefold()))]

    first = next((people(names) for names in (get() for get in stated) if names), [])
    first = first or next((names for names in (people(get()) for get in seen) if names), [])
    have = {a.casefold() for a in first}
    for names in fuller:
        if have and have < {a.casefold() for a in names} and len(names) <= len(first) + 3:
            return names
    return first


# a cheap XPath prefilter, then the regular expression: "By …" text nodes
BY_TEXT_XPATH = lxml.etree.XPath("//body//text()[contains(., 'By') or contains(., 'by')]")
BY_TEXT_RE = re.compile(r"\s*by(\s|$)", re.IGNORECASE)
BY_LINE_NOT_IN = frozenset(["script", "style", "title", "option", "a", "h1", "h2", "h3", "h4"])


def by_line(doc: lxml.html.HtmlElement) -> list[str]:
    """Names from the first short "By A and B" line on the page, found by its wording
    when no class or microdata marks it: "By <a>A</a>, Staff Writer", "… by A"."""
    for node in [n for n in BY_TEXT_XPATH(doc) if BY_TEXT_RE.match(n)][:20]:
        element = node.getparent()
        if element.tag in BY_LINE_NOT_IN:
            continue  # code, or a headline or link text that starts with "By"
        text = str(node) if node.is_tail else " ".join(element.itertext())
        text = clean_paragraph(text)
        if len(text) <= 120 and (names := byline_names(text)):
            return names
    return []


def full_names(names: list[str]) -> list[str]:
    """The names of two words or more. trafilatura's author is a guess from the page's
    text and classes; a single word it offers ("Manga", a section link next to the
    headline) is more often a label than a person, so it waits until the visible byline
    has been read."""
    return names if all(" " in name for name in names) else []


def byline_names(text: str) -> list[str]:
    """The people a "By …" line names, read left to right up to the first part that is
    not a person (a job title, an affiliation, a date). A line whose first part is no
    full name is a sentence ("By contrast, …") or a headline, not a byline."""
    text = re.split(r"\s+(?:on|at|in|for|updated|published)\s+|[•·|]", text, maxsplit=1)[0]
    parts = re.split(r"\s*(?:;|,|\band\b|&)\s*", AUTHOR_NOISE_RE.sub("", text))
    names = []
    for part in (p.strip(" -–—:") for p in parts):
        if not (part and len(part) <= 60 and _is_person(part)):
            break
        names.append(part)
    return names if names and len(names[0].split()) >= 2 else []


CREDIT_ROLE_RE = re.compile(
    r"(photo(graph)?s?|photography|images?|illustrations?|graphics?|videos?|contributions?"
    r"|additional reporting|edited|editing|produced)\s+(by|from)\s*:?\s*$",
    re.IGNORECASE,
)


def drop_other_roles(doc: lxml.html.HtmlElement, names: list[str]) -> list[str]:
    """Without the people the page credits for something else than the writing
    ("Photography by X", "Contributions from Y"): article metadata often lists
    photographers and contributors as authors. The first name always stays."""
    if len(names) < 2:
        return names
    return names[:1] + [n for n in names[1:] if not _credited_otherwise(doc, n)]


def _credited_otherwise(doc: lxml.html.HtmlElement, name: str) -> bool:
    """Whether the visible text right before a mention of `name` names another role."""
    for node in doc.xpath("//body//text()[contains(., $name)]", name=name)[:5]:
        element = node.getparent()
        if node.is_tail:
            element = element.getparent()
        for _ in range(6):  # the name is often a link deep inside the credit line
            if element is None or element.tag in ("script", "style"):
                break
            text = clean_paragraph(element.text_content())
            before = text[: text.find(name)] if name in text else ""
            if before.strip() or len(text) > 300:
                if CREDIT_ROLE_RE.search(before[-60:]):
                    return True
                break
            element = element.getparent()
    return False


def _shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1))}


def prefer_structured_body(body: str, ld: dict[str, Any], title: str | None) -> str:
    """Use what the publisher states as the article's text when the extractor clearly
    missed it: JSON-LD `articleBody` that is substantial and mostly absent from the
    extracted body replaces it; live-blog posts (`liveBlogUpdate`) missing from the body
    are appended."""
    article_body = ld.get("articleBody")
    if isinstance(article_body, str) and word_count(article_body) >= 150:
        theirs = _shingles(clean_paragraph(html.unescape(article_body)))
        if theirs and len(theirs & _shingles(body)) / len(theirs) < 0.3:
            return normalise_body(html.unescape(article_body), headline=title)
    updates = ld.get("liveBlogUpdate")
    if isinstance(updates, list) and updates:
        have = _shingles(body)
        extra = []
        for update in updates:
            post = _text(update.get("articleBody")) if isinstance(update, dict) else None
            if post and len(_shingles(post) - have) > len(_shingles(post)) / 2:
                extra.append(post)
        if extra:
            return "\n\n".join(p for p in [body, *extra] if p)
    return body


def first_date(*candidates: datetime | None, not_after: datetime | None) -> datetime | None:
    """The first candidate that is not in the future of the fetch."""
    for value in candidates:
        if value is not None and (not_after is None or value <= not_after):
            return value
    return None


def first_stated(
    *candidates: Callable[[], StatedTime | None], not_after: datetime | None
) -> StatedTime | None:
    """The first stated time that is not in the future of the fetch. Each candidate is
    worked out only when those before it gave none (htmldate's date search is costly)."""
    for candidate in candidates:
        value = candidate()
        if value is not None and (not_after is None or value.at <= not_after):
            return value
    return None


def published_stated(
    doc: lxml.html.HtmlElement,
    meta: dict[str, str],
    ld: dict[str, Any],
    url: str,
    *,
    heuristic: Callable[[], str | None],
    listed_at: datetime | None,
    not_after: datetime | None,
) -> StatedTime | None:
    """The page's first publication as stated: the statement the page's own dates agree
    on (:mod:`wirehouse.pubdate`), read in the zone its byline prints it in; else
    htmldate's day (`heuristic()`, the original date, never an update; only called when
    needed, as htmldate's search is costly), else the date the feed or sitemap gave the URL."""
    agreed = agreed_statement(stated_dates(doc, meta, ld, url), not_after=not_after)
    agreed_time = None
    if agreed is not None:
        agreed = as_printed(doc, agreed)
        agreed_time = StatedTime(agreed.value, agreed.utc_offset, agreed.day)

    def searched() -> StatedTime | None:
        found = parse_stated(heuristic())
        if found is not None and found.local_date in update_days(doc):
            return None  # htmldate read the stamp the page prints as an update
        return found

    return first_stated(
        lambda: agreed_time, searched, lambda: as_stated(listed_at), not_after=not_after
    )


def looks_like_listing(body: str) -> bool:
    """Most paragraphs short, headline-like lines: a section front, not a story."""
    paragraphs = body.split("\n\n")
    if len(paragraphs) < 5:
        return False
    short = sum(1 for p in paragraphs if word_count(p) <= 14 and not p.endswith((".", '"', "”")))
    return short / len(paragraphs) > 0.6


@dataclass(frozen=True)
class ArticleFacts:
    """What the publisher (or the dump an article came in) states about an article besides
    its text. Both routes to an article, an HTML page and a JSON Lines record, fill this in
    their own way and then share :func:`finish_article`, so every body in the warehouse is
    normalised and flagged by the same rules."""

    canonical_url: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    description: str | None = None
    site_name: str | None = None
    published_at: datetime | None = None
    published_utc_offset: int | None = None
    published_local_date: date | None = None
    modified_at: datetime | None = None
    # typed as an article (JSON-LD article, og:type=article, or a record of an article dump)
    says_article: bool = False
    # typed as something else (og:type=website without a JSON-LD article)
    says_other: bool = False
    # marked not free to read (JSON-LD isAccessibleForFree: false)
    says_not_free: bool = False
    # a language the source states (ISO 639-1); None: detect it from the body
    language: str | None = None


def lost_story(body: str, text: str) -> bool:
    """Whether the cleanup threw the story away: under LOSS_SHARE of the extractor's words
    are left (nothing at all included). A cleanup that leaves a body too short because the
    text was short ("Share" and four words) lost no story. Word counts only, so the check
    costs nothing next to the extraction it guards."""
    return word_count(body) < LOSS_SHARE * word_count(text)


def finish_article(
    text: str,
    facts: ArticleFacts,
    *,
    headline: str | None = None,
    structured: dict[str, Any] | None = None,
    path: str = "wirehouse",
    fallback_path: str = "trafilatura_fallback",
) -> ArticleRecord:
    """Extracted text (one paragraph per line) to the normalised record: the one code path
    after extraction, shared by HTML pages and JSON Lines records. Raises ExtractionEmpty
    when fewer than MIN_BODY_WORDS words are left.

    `headline` is the title the body's repeated headline is compared with (defaults to
    the title); `structured` is the page's JSON-LD article, whose `articleBody` and live-blog
    posts may replace or extend what the extractor found. When the full cleanup loses the
    story (:func:`lost_story`), the body is the text through :func:`light_body` and the
    record's `extraction_path` is `fallback_path` instead of `path`."""
    headline = facts.title if headline is None else headline
    body = normalise_body(text, headline=headline)
    if lost_story(body, text):
        body, path = light_body(text, headline=headline), fallback_path
    if structured:
        body = prefer_structured_body(body, structured, headline)
    dateline, dateline_agency, body = split_dateline_parts(body)
    body, credits = split_credits(drop_closing_furniture(body, facts.authors))
    words = word_count(body)
    if words < MIN_BODY_WORDS:
        raise ExtractionEmpty(f"no article text found (fewer than {MIN_BODY_WORDS} words)")
    if facts.language:
        language, confidence = facts.language, 1.0
    else:
        language, confidence = detect_language(body)
    return ArticleRecord(
        canonical_url=facts.canonical_url,
        title=facts.title,
        body=body,
        authors=facts.authors,
        description=facts.description,
        site_name=facts.site_name,
        published_at=facts.published_at,
        published_utc_offset=facts.published_utc_offset,
        published_local_date=facts.published_local_date,
        modified_at=facts.modified_at,
        dateline=dateline,
        dateline_agency=dateline_agency,
        credits=credits,
        language=language,
        language_confidence=confidence,
        word_count=words,
        content_hash=content_hash(body),
        too_short=words < TOO_SHORT_WORDS,
        probably_not_article=facts.says_other
        or (not facts.says_article and facts.published_at is None)
        or looks_like_listing(body),
        # only when the text looks cut: many sites mark free-to-read stories
        # isAccessibleForFree=false and still serve them whole
        paywalled=(facts.says_not_free and words < PAYWALL_WORDS)
        or bool(PAYWALL_RE.search(body[-600:])),
        extraction_path=path,
    )


# trafilatura's modes, measured on both development sets (bench/README.md, "Body
# quality"): precision mode without the readability/jusText fallback keeps less chrome
# (body precision 0.968 vs 0.955 on fundus_eval, 0.821 vs 0.809 on articles_dev) at half
# the CPU time of the default; where it drops story, the recall side (no precision
# filters) brings it back, chosen per page by RECALL_RERUN_SHARE below.
PRECISION_MODE = {"fast": True, "favor_precision": True}
RECALL_MODE = {"fast": True}
# Rerun in RECALL_MODE when the precision text holds under this share of the words in the
# page's <p> elements (outside nav, header, footer, aside): fitted on fundus_eval (0.3-0.7
# equal), checked on articles_dev (0.5 best of 0.3-0.9); about 4% of pages rerun.
RECALL_RERUN_SHARE = 0.5


def fast_run(doc: lxml.html.HtmlElement, url: str, mode: dict[str, bool]) -> Any:
    """trafilatura's fast run (no fallback extractors) in `mode` (PRECISION_MODE or
    RECALL_MODE), comments and tables left out: its document, or None when it found no
    text."""
    return trafilatura.bare_extraction(
        doc, url=url, include_comments=False, include_tables=False, **mode
    )


def text_of(extracted: Any) -> str:
    """The main text of a trafilatura result ("" for none)."""
    return getattr(extracted, "text", None) or ""


PARAGRAPH_XPATH = lxml.etree.XPath(
    "//body//p[not(ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside"
    " or ancestor::script or ancestor::style)]"
)


def paragraph_words(doc: lxml.html.HtmlElement) -> int:
    """Words in the page's <p> elements outside navigation and page furniture: a cheap
    upper bound of the story's length, to tell when an extraction dropped most of it."""
    return sum(word_count(p.text_content()) for p in PARAGRAPH_XPATH(doc))


@dataclass(frozen=True)
class BlockKind:
    """A kind of page furniture found by the names in its class or id: `name_re` is
    searched in the element's class and id attributes joined by a space. Neither the
    page's frame (not among FURNITURE_TAGS) nor a block holding the <h1> is ever one."""

    name: str
    name_re: re.Pattern[str]


def _names(words: str) -> re.Pattern[str]:
    """A class or id token holding one of `words` between separators (or at its ends)."""
    return re.compile(rf"(?:^|[-_\s])(?:{words})(?:[-_\s]|$)", re.IGNORECASE)


# Reader comments named so anywhere in a class or id token ("xenforo-comment-widget",
# "ff-comment-item", "post_comments"): trafilatura's own rules want the name to start with
# "comment", so forum-style threads under the story came through as body text (on
# articles_dev: 2 pages of 205 changed, 2 sites, about 1,000 shingles of chrome gone, no
# body shingle lost on either development set; a third page's thread outweighs its story,
# so the loss check keeps it). "commentary" (an opinion section) is not a comment name.
READER_COMMENTS = BlockKind("comments", _names(r"comments?"))
# Links to other stories and sign-up boxes set inside the article's container ("related-
# links", "recommended-stories", "promo-box", "inline-recirc", "newsletter-signup"). Measured
# on both development sets (bench/README.md, "Last measured (issue 14: comment threads …)").
# "teaser" is not one of them: a teaser-content block is the lead paragraph on some sites.
OTHER_STORIES = BlockKind(
    "other stories", _names(r"related|recommend\w*|promo\w*|recirc\w*|newsletter\w*")
)
PAGE_FURNITURE = (READER_COMMENTS, OTHER_STORIES)
# the elements furniture is built of; inline ones (links, icons, buttons) are not walked,
# which keeps the scan to about 1 ms a page (an XPath of substring tests took 3), and
# neither is the page's frame (html, body, main, article: "comments-open" is a WordPress
# <body> class)
FURNITURE_TAGS = (
    "div", "section", "aside", "ul", "ol", "li", "p", "span", "form", "fieldset",
    "footer", "nav", "header", "figure", "blockquote", "table", "dl",
)  # fmt: skip


def named_blocks(
    doc: lxml.html.HtmlElement, kinds: Sequence[BlockKind] = PAGE_FURNITURE
) -> dict[BlockKind, list[lxml.html.HtmlElement]]:
    """The page's blocks of each kind, in document order (outer before inner), found in
    one walk over the page."""
    found: dict[BlockKind, list[lxml.html.HtmlElement]] = {kind: [] for kind in kinds}
    for node in doc.iter(*FURNITURE_TAGS):
        classes, ident = node.get("class"), node.get("id")
        if not (classes or ident):
            continue
        names = f"{classes or ''} {ident or ''}"
        for kind in kinds:
            if kind.name_re.search(names) and node.find(".//h1") is None:
                found[kind].append(node)
    return found


SHOWN_MIN_CHARS = 40  # a sentence's worth: short labels ("Reply", "8 Comments") are everywhere


def shows_in(node: lxml.html.HtmlElement, text: str) -> bool:
    """Whether the whole text of the node or of an element inside it (a comment's
    paragraph, SHOWN_MIN_CHARS or more) is in the extracted text: only then is a block
    worth a second extraction without it (most pages' comment counters, empty comment
    frames and link boxes never reach the text)."""
    for element in node.iter():
        if isinstance(element.tag, str):
            piece = " ".join(element.text_content().split())
            if len(piece) >= SHOWN_MIN_CHARS and piece in text:
                return True
    return False


def without_blocks(
    doc: lxml.html.HtmlElement,
    url: str,
    text: str,
    path: str,
    kind: BlockKind,
    blocks: list[lxml.html.HtmlElement] | None = None,
) -> tuple[lxml.html.HtmlElement, str, str]:
    """The page without its blocks of `kind` (`blocks`, when already found in `doc`), and
    its main text and path (:func:`main_text`) from that page, when a block's text reached
    `text`; else `doc`, `text` and `path` as given. If the text without them holds under
    LOSS_SHARE of `text`'s words, a block was the story itself (a page framed as a comment)
    and all stay as given: cleanup never throws the story away. `doc` itself is not
    changed (the metadata is read from it)."""
    if blocks is None:
        blocks = named_blocks(doc, [kind])[kind]
    shown = [node for node in blocks if shows_in(node, text)]
    if not shown:
        return doc, text, path
    pruned = copy.deepcopy(doc)
    tree, pruned_tree = doc.getroottree(), pruned.getroottree()
    # each block's copy, found by its path before any is dropped (dropping shifts paths)
    copies = [found for node in shown for found in pruned_tree.xpath(tree.getpath(node))[:1]]
    for node in copies:
        if node.getparent() is not None:
            node.drop_tree()
    pruned_text, pruned_path = main_text(
        pruned, url, text_of(fast_run(pruned, url, PRECISION_MODE))
    )
    if word_count(pruned_text) < LOSS_SHARE * word_count(text):
        return doc, text, path
    return pruned, pruned_text, pruned_path


def main_text(doc: lxml.html.HtmlElement, url: str, text: str) -> tuple[str, str]:
    """The page's main text and its extraction path, from trafilatura's precision-mode
    `text`: when that holds under RECALL_RERUN_SHARE of the page's paragraph words, a
    recall-side run replaces it if longer (`wirehouse_recall`); when it is still empty, a run
    with trafilatura's defaults (fallback extractors, tables) is tried (`trafilatura_default`)."""
    words = word_count(text)
    if words < RECALL_RERUN_SHARE * paragraph_words(doc):
        recall_text = text_of(fast_run(doc, url, RECALL_MODE))
        if word_count(recall_text) > words:
            text, words = recall_text, word_count(recall_text)
            if words >= MIN_BODY_WORDS:
                return text, "wirehouse_recall"
    if words < MIN_BODY_WORDS:
        # a page with no <p> (text in <div>s or between <br>s) or laid out in a table gives
        # the fast runs nothing; trafilatura's fallback extractors and tables find it
        default_text = text_of(trafilatura.bare_extraction(doc, url=url, include_comments=False))
        if word_count(default_text) >= MIN_BODY_WORDS:
            return default_text, "trafilatura_default"
    return text, "wirehouse"


def extract_article(
    page: str,
    url: str,
    *,
    trust_any_site: bool = False,
    fetched_at: datetime | None = None,
    listed_at: datetime | None = None,
) -> ArticleRecord:
    """Extract one page; raises ExtractionEmpty when there is no article text.

    `fetched_at` bounds the dates (nothing after the fetch), `listed_at` (the feed or
    sitemap date) is the last-resort publication date."""
    try:
        # comments and processing instructions out, as trafilatura parses: a comment node
        # inside a paragraph (drop-cap shortcodes) makes the extractor drop the paragraph
        doc = lxml.html.fromstring(page, parser=HTML_PARSER)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise ExtractionEmpty(f"unparseable HTML: {exc}") from exc
    meta = page_metadata(doc)
    ld_objects = json_ld_objects(doc)
    ld = json_ld_article(ld_objects)
    dated_ld = with_page_dates(ld, ld_objects)
    canonical = choose_canonical(url, meta, trust_any_site=trust_any_site)
    extracted = fast_run(doc, canonical, PRECISION_MODE)
    # trafilatura's metadata, each field computed when read (with_metadata=True would
    # compute all of it, htmldate's date search included); none when it found no text
    found = (
        TrafilaturaMetadata(doc, canonical, date_search_bounds(canonical))
        if extracted is not None
        else None
    )
    text, path = main_text(doc, canonical, text_of(extracted))
    text_doc, furniture = doc, named_blocks(doc)
    for kind in PAGE_FURNITURE:  # comments first: a long thread must not hide a link box
        blocks = furniture[kind] if text_doc is doc else None
        text_doc, text, path = without_blocks(text_doc, canonical, text, path, kind, blocks)
    stated = [
        _text(ld.get("headline")),
        _text(meta.get("og:title")),
        getattr(found, "title", None),
    ]
    title = choose_title(
        agreed_headline(doc, stated, meta.get("og:site_name")) or visible_headline(doc),
        stated,
        meta.get("og:site_name"),
        urlsplit(canonical).hostname,
    )
    site_name = (
        meta.get("og:site_name")
        or next(iter(_ld_names(ld.get("publisher"))), None)
        or getattr(found, "sitename", None)
        or None
    )
    published = published_stated(
        doc,
        meta,
        dated_ld,
        canonical,
        heuristic=lambda: getattr(found, "date", None),
        listed_at=listed_at,
        not_after=fetched_at,
    )
    modified = first_date(
        parse_timestamp(
            dated_ld.get("dateModified") if isinstance(dated_ld.get("dateModified"), str) else None
        ),
        parse_timestamp(meta.get("article:modified_time") or meta.get("og:updated_time")),
        not_after=fetched_at,
    )
    stated_byline = split_authors(meta.get("author") or meta.get("article:author"))
    written_byline = by_line(doc)
    authors = choose_authors(
        [
            lambda: _ld_names(ld.get("author")) or _ld_names(ld.get("creator")),
            lambda: stated_byline,
            lambda: full_names(split_authors(getattr(found, "author", None))),
        ],
        [
            lambda: visible_byline(doc),
            lambda: written_byline,
            lambda: split_authors(getattr(found, "author", None)),
        ],
        [stated_byline, written_byline],
        site_name,
    )
    authors = drop_other_roles(doc, authors)
    og_type = meta.get("og:type", "").lower()
    free = ld.get("isAccessibleForFree")
    facts = ArticleFacts(
        canonical_url=canonical,
        title=clean_title(title, site_name, urlsplit(canonical).hostname),
        authors=authors,
        description=(
            meta.get("description")
            or meta.get("og:description")
            or getattr(found, "description", None)
            or None
        ),
        site_name=site_name,
        published_at=published.at if published else None,
        published_utc_offset=published.utc_offset if published else None,
        published_local_date=published.local_date if published else None,
        modified_at=modified,
        says_article=bool(ld) or og_type == "article",
        says_other=not ld and og_type not in ("", "article"),
        says_not_free=free is False or str(free).lower() == "false",
    )
    return finish_article(
        text,
        facts,
        headline=title,
        structured=ld,
        path=path,
        fallback_path="trafilatura_fallback",
    )


def _record_authors(value: object) -> list[str]:
    """Authors of a JSON Lines record: a list of names or one byline string, each through
    the same person-name rules as page bylines."""
    if isinstance(value, str):
        return split_authors(value)
    if isinstance(value, list):
        names = [n for v in value if isinstance(v, str) for n in split_authors(v)]
        return list(dict.fromkeys(names))
    return []


def extract_record(
    line: bytes, canonical_url: str, *, fetched_at: datetime | None = None
) -> ArticleRecord:
    """One JSON Lines record (an article another tool already extracted) as an article
    record, through the same normalisation, splitting and flags as a page
    (:func:`finish_article`). `canonical_url` is the record's identity, worked out at
    discovery (see :mod:`wirehouse.jsonl`). Raises jsonl.BadLine for a line that is not a
    JSON object or has no text, ExtractionEmpty when normalisation leaves too few words.

    The record is an article by the dump's word, so only its body can make it
    `probably_not_article`; dates after `fetched_at` are dropped, as on pages."""
    record = parse_record(line)
    text, text_field = record_text(record)
    site_name = _text(record.get("site_name")) or _text(record.get("source"))
    title = record.get("title")
    authors = _record_authors(record.get("authors") or record.get("author"))
    published_value = record.get("published_at")
    published = parse_stated_leniently(
        published_value if isinstance(published_value, str) else None, not_after=fetched_at
    )
    facts = ArticleFacts(
        canonical_url=canonical_url,
        title=clean_title(title if isinstance(title, str) else None, site_name),
        authors=[a for a in authors if a.lower() != (site_name or "").lower()],
        description=_text(record.get("description")),
        site_name=site_name,
        published_at=published.at if published else None,
        published_utc_offset=published.utc_offset if published else None,
        published_local_date=published.local_date if published else None,
        says_article=True,
        language=stated_language(record.get("language")),
    )
    # a body that is the headline itself must not lose it as a repeated headline
    return finish_article(
        text,
        facts,
        headline="" if text_field == "title" else None,
        path="jsonl",
        fallback_path="jsonl_fallback",
    )
