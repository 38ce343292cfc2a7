"""What the briefing says, from rows read off the marts: pure functions, no I/O.

The reader (`wirehouse.briefing.marts`) hands over plain rows; these functions rank, group
and bucket them into what each section of the page shows, so every decision the page makes
(which stories are the biggest, what counts as a failed fetch, where a place goes on the map)
is tested here without a warehouse or a browser.

A night is a run date. An article belongs to the night that first collected it; a story to
the night of its earliest article (see `wirehouse.briefing.marts` for how that is read).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pycountry

from wirehouse.fetch import OUTCOMES

# how many stories the page tells in full: a morning read, not a listing (the full list is a
# query away: docs in README "Briefing")
TOP_STORIES = 10
# copies and rewrites listed under one story before "and N more"
DERIVED_SHOWN = 12
# entities named under one story, by salience
TOP_ENTITIES = 6
# nights in the size chart and the originality ranking, the run date included
WINDOW_NIGHTS = 14

# Story size buckets for the 14-night chart: a story told once, picked up by a few outlets,
# widely covered, and a big story. Presentation choices, not tuned figures.
SIZE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1 article", 1, 1),
    ("2–3 articles", 2, 3),
    ("4–9 articles", 4, 9),
    ("10+ articles", 10, None),
)

# Every fetch outcome (wirehouse.fetch.OUTCOMES) in one health class. "ok" is a delivered
# page or listing; "no article" a response that gave nothing usable; "failed" no usable
# response at all; "skipped" no request made (by rule or because it was not needed).
OUTCOME_CLASSES: dict[str, str] = {
    "ok": "ok",
    "not_modified": "ok",
    "not_html": "no article",
    "parse_error": "no article",
    "extraction_empty": "no article",
    "extraction_error": "no article",
    "http_error": "failed",
    "timeout": "failed",
    "connection_error": "failed",
    "too_large": "failed",
    "blocked_private_address": "failed",
    "invalid_url": "failed",
    "redirect_loop": "failed",
    "file_error": "failed",
    "source_failed": "failed",
    "robots_disallowed": "skipped",
    "duplicate_url": "skipped",
    "already_fetched": "skipped",
    "over_limit": "skipped",
}
HEALTH_CLASSES = ("ok", "no article", "failed", "skipped")
assert set(OUTCOME_CLASSES) == set(OUTCOMES), "every fetch outcome needs a health class"


# --- rows read from the marts ----------------------------------------------------------


@dataclass(frozen=True)
class NightStory:
    """A dim_stories row of a story with articles first collected on the night."""

    story_id: str
    headline: str | None
    article_count: int
    source_count: int
    origin_article_id: str | None
    origin_source_id: str | None
    languages: tuple[str, ...]
    first_published_at: datetime | None
    new_tonight: int


@dataclass(frozen=True)
class StoryArticle:
    """An fct_articles row of one of the night's top stories."""

    article_id: str
    story_id: str
    source_id: str
    title: str | None
    url: str | None
    published_at: datetime | None
    is_story_origin: bool
    duplicate_of_article_id: str | None
    derived_from_article_id: str | None


@dataclass(frozen=True)
class StoryEntity:
    """A bridge_story_entities row with its dim_entities name."""

    story_id: str
    name: str
    entity_type: str
    salience: float


@dataclass(frozen=True)
class StoryStart:
    """A story, the night of its earliest article, and its size now."""

    story_id: str
    first_night: date
    article_count: int


@dataclass(frozen=True)
class PlaceMention:
    """A night's article naming a place (fct_entity_mentions x dim_entities, PLACE)."""

    article_id: str
    entity_id: str
    name: str
    country_code: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class SourceArticles:
    """A source's articles first collected in the window: originals and copies/rewrites."""

    source_id: str
    original: int
    derivative: int


@dataclass(frozen=True)
class OutcomeCount:
    """fct_fetches rows of the night for one source and outcome."""

    source_id: str
    outcome: str
    count: int


@dataclass
class NightData:
    """Everything read from the marts for one night (empty when there is nothing)."""

    run_date: date
    source_names: dict[str, str] = field(default_factory=dict)
    stories: list[NightStory] = field(default_factory=list)
    new_articles: int = 0
    new_article_sources: int = 0
    story_starts: list[StoryStart] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    originality: list[SourceArticles] = field(default_factory=list)
    fetches: list[OutcomeCount] = field(default_factory=list)
    # why there is nothing at all (no published copy, no marts yet); None when read
    missing: str | None = None


# --- what the page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class DerivedCopy:
    """An article of the story that copies or rewrites another one."""

    source: str
    title: str
    url: str | None
    kind: str  # "copy" (verbatim) or "rewrite"
    of_source: str | None  # the outlet it was made from, when that article is in the story


@dataclass(frozen=True)
class StoryCard:
    """One of the night's biggest stories, as the page tells it."""

    story_id: str
    headline: str
    new_tonight: int
    article_count: int
    source_count: int
    languages: tuple[str, ...]
    origin_source: str | None
    origin_title: str | None
    origin_url: str | None
    origin_published_at: datetime | None
    outlets: tuple[tuple[str, int], ...]  # (outlet, articles), most first
    derived: tuple[DerivedCopy, ...]
    derived_total: int
    entities: tuple[tuple[str, str], ...]  # (name, type), most salient first


@dataclass(frozen=True)
class SizeSeries:
    """New stories per night and size bucket, oldest night first."""

    nights: tuple[date, ...]
    counts: dict[str, tuple[int, ...]]  # bucket label -> one count per night

    @property
    def total(self) -> int:
        return sum(sum(c) for c in self.counts.values())


@dataclass(frozen=True)
class PlacePoint:
    """A place with coordinates (a city, a continent) and the night's articles naming it."""

    name: str
    latitude: float
    longitude: float
    articles: int


@dataclass(frozen=True)
class CountryShade:
    """A country and the night's articles naming it or any place in it."""

    iso3: str
    name: str
    articles: int


@dataclass(frozen=True)
class PlaceMap:
    points: tuple[PlacePoint, ...]
    countries: tuple[CountryShade, ...]

    @property
    def empty(self) -> bool:
        return not self.points and not self.countries


@dataclass(frozen=True)
class SourceOriginality:
    source: str
    original: int
    derivative: int

    @property
    def articles(self) -> int:
        return self.original + self.derivative

    @property
    def ratio(self) -> float:
        return self.original / self.articles if self.articles else 0.0


@dataclass(frozen=True)
class SourceHealth:
    source: str
    by_class: dict[str, int]  # health class -> fetch rows
    outcomes: tuple[tuple[str, int], ...]  # (outcome, rows), most first

    @property
    def total(self) -> int:
        return sum(self.by_class.values())

    @property
    def trouble(self) -> float:
        """Share of rows that failed or gave no article: what puts a source on top."""
        bad = self.by_class.get("failed", 0) + self.by_class.get("no article", 0)
        return bad / self.total if self.total else 0.0


@dataclass(frozen=True)
class Summary:
    new_articles: int
    stories: int
    sources_with_articles: int
    fetches: int
    failed_fetches: int


@dataclass(frozen=True)
class Briefing:
    run_date: date
    summary: Summary
    stories: tuple[StoryCard, ...]
    sizes: SizeSeries
    places: PlaceMap
    originality: tuple[SourceOriginality, ...]
    health: tuple[SourceHealth, ...]
    missing: str | None = None


# --- the shaping -----------------------------------------------------------------------


def window(run_date: date, nights: int = WINDOW_NIGHTS) -> tuple[date, date]:
    """First and last night of the `nights` nights ending on the run date."""
    return run_date - timedelta(days=nights - 1), run_date


def rank_stories(stories: Iterable[NightStory], limit: int = TOP_STORIES) -> list[NightStory]:
    """The night's biggest stories: most articles collected tonight, then most outlets, then
    the largest overall; ties by story id so a re-run ranks the same."""
    ranked = sorted(
        stories,
        key=lambda s: (-s.new_tonight, -s.source_count, -s.article_count, s.story_id),
    )
    return ranked[:limit]


def _name(source_names: dict[str, str], source_id: str | None) -> str | None:
    if source_id is None:
        return None
    return source_names.get(source_id) or source_id


def story_card(
    story: NightStory,
    articles: Sequence[StoryArticle],
    entities: Sequence[StoryEntity],
    source_names: dict[str, str],
    *,
    derived_shown: int = DERIVED_SHOWN,
    top_entities: int = TOP_ENTITIES,
) -> StoryCard:
    """One story told in full: its origin, every outlet that carried it, the copies and
    rewrites with the outlet each was made from, and its most salient entities."""
    by_id = {a.article_id: a for a in articles}
    origin = by_id.get(story.origin_article_id or "")
    outlets = Counter(_name(source_names, a.source_id) or "" for a in articles)
    derived: list[DerivedCopy] = []
    for a in sorted(articles, key=lambda a: (a.published_at is None, a.published_at, a.article_id)):
        parent_id = a.duplicate_of_article_id or a.derived_from_article_id
        if parent_id is None:
            continue
        parent = by_id.get(parent_id)
        derived.append(
            DerivedCopy(
                source=_name(source_names, a.source_id) or "",
                title=a.title or "(untitled)",
                url=a.url,
                kind="copy" if a.duplicate_of_article_id else "rewrite",
                of_source=_name(source_names, parent.source_id) if parent else None,
            )
        )
    salient = sorted(entities, key=lambda e: (-e.salience, e.name))[:top_entities]
    return StoryCard(
        story_id=story.story_id,
        headline=story.headline or (origin.title if origin else None) or "(untitled)",
        new_tonight=story.new_tonight,
        article_count=story.article_count,
        source_count=story.source_count,
        languages=story.languages,
        origin_source=_name(source_names, story.origin_source_id),
        origin_title=origin.title if origin else None,
        origin_url=origin.url if origin else None,
        origin_published_at=origin.published_at if origin else None,
        outlets=tuple(sorted(outlets.items(), key=lambda kv: (-kv[1], kv[0]))),
        derived=tuple(derived[:derived_shown]),
        derived_total=len(derived),
        entities=tuple((e.name, e.entity_type) for e in salient),
    )


def size_bucket(article_count: int) -> str:
    for label, low, high in SIZE_BUCKETS:
        if article_count >= low and (high is None or article_count <= high):
            return label
    return SIZE_BUCKETS[0][0]  # a story has at least one article; 0 would be a mart bug


def size_series(
    starts: Iterable[StoryStart], run_date: date, nights: int = WINDOW_NIGHTS
) -> SizeSeries:
    """New stories per night over the window, by size bucket; every night present, zeros
    included, so the chart's axis shows quiet nights as quiet instead of leaving them out."""
    first, last = window(run_date, nights)
    days = tuple(first + timedelta(days=i) for i in range(nights))
    index = {d: i for i, d in enumerate(days)}
    counts = {label: [0] * nights for label, _, _ in SIZE_BUCKETS}
    for s in starts:
        if first <= s.first_night <= last:
            counts[size_bucket(s.article_count)][index[s.first_night]] += 1
    return SizeSeries(nights=days, counts={k: tuple(v) for k, v in counts.items()})


def iso3(country_code: str | None) -> str | None:
    """ISO 3166-1 alpha-3 for an alpha-2 code: the map's country outlines are keyed by it."""
    if not country_code:
        return None
    country = pycountry.countries.get(alpha_2=country_code.upper())
    return country.alpha_3 if country else None


def place_map(mentions: Iterable[PlaceMention]) -> PlaceMap:
    """Points for places with coordinates (cities, continents), sized by the night's articles
    naming them; countries shaded by the night's articles naming the country or any place in
    it (each article once per country), since dim_entities gives countries and states no
    coordinates of their own."""
    point_articles: dict[str, set[str]] = defaultdict(set)
    point_at: dict[str, tuple[str, float, float]] = {}
    country_articles: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.latitude is not None and m.longitude is not None:
            point_articles[m.entity_id].add(m.article_id)
            point_at[m.entity_id] = (m.name, m.latitude, m.longitude)
        code = iso3(m.country_code)
        if code:
            country_articles[code].add(m.article_id)
    points = sorted(
        (
            PlacePoint(
                name=point_at[e][0],
                latitude=point_at[e][1],
                longitude=point_at[e][2],
                articles=len(ids),
            )
            for e, ids in point_articles.items()
        ),
        key=lambda p: (-p.articles, p.name),
    )
    countries = sorted(
        (
            CountryShade(iso3=code, name=_country_name(code), articles=len(ids))
            for code, ids in country_articles.items()
        ),
        key=lambda c: (-c.articles, c.iso3),
    )
    return PlaceMap(points=tuple(points), countries=tuple(countries))


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_3=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def originality_ranking(
    rows: Iterable[SourceArticles], source_names: dict[str, str]
) -> list[SourceOriginality]:
    """Sources by the share of their articles that are neither copies nor rewrites (the
    dim_sources definition, over the window's articles); more articles first on a tie,
    since a ratio over many articles says more."""
    ranked = [
        SourceOriginality(
            source=_name(source_names, r.source_id) or r.source_id,
            original=r.original,
            derivative=r.derivative,
        )
        for r in rows
        if r.original + r.derivative > 0
    ]
    return sorted(ranked, key=lambda s: (-s.ratio, -s.articles, s.source))


def fetch_health(
    counts: Iterable[OutcomeCount], source_names: dict[str, str]
) -> list[SourceHealth]:
    """Each source's fetch rows of the night by health class, the troubled ones first. An
    outcome this code does not know (a newer collector) counts as failed rather than vanish."""
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for c in counts:
        by_source[c.source_id][c.outcome] += c.count
    health = []
    for source_id, outcomes in by_source.items():
        classes = dict.fromkeys(HEALTH_CLASSES, 0)
        for outcome, n in outcomes.items():
            classes[OUTCOME_CLASSES.get(outcome, "failed")] += n
        health.append(
            SourceHealth(
                source=_name(source_names, source_id) or source_id,
                by_class=classes,
                outcomes=tuple(sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    return sorted(health, key=lambda h: (-h.trouble, h.source))


def summary(data: NightData, health: Sequence[SourceHealth]) -> Summary:
    """The night in five numbers, for the page's first line."""
    return Summary(
        new_articles=data.new_articles,
        stories=len(data.stories),
        sources_with_articles=data.new_article_sources,
        fetches=sum(h.total for h in health),
        failed_fetches=sum(h.by_class.get("failed", 0) for h in health),
    )


def briefing(
    data: NightData,
    top: Sequence[NightStory],
    articles: Iterable[StoryArticle],
    entities: Iterable[StoryEntity],
) -> Briefing:
    """The whole page's content: `top` are the ranked stories (rank_stories) and
    `articles`/`entities` the rows of those stories read back from the marts."""
    articles_of: dict[str, list[StoryArticle]] = defaultdict(list)
    for a in articles:
        articles_of[a.story_id].append(a)
    entities_of: dict[str, list[StoryEntity]] = defaultdict(list)
    for e in entities:
        entities_of[e.story_id].append(e)
    health = fetch_health(data.fetches, data.source_names)
    return Briefing(
        run_date=data.run_date,
        summary=summary(data, health),
        stories=tuple(
            story_card(s, articles_of[s.story_id], entities_of[s.story_id], data.source_names)
            for s in top
        ),
        sizes=size_series(data.story_starts, data.run_date),
        places=place_map(data.places),
        originality=tuple(originality_ranking(data.originality, data.source_names)),
        health=tuple(health),
        missing=data.missing,
    )
