"""The daily briefing: shaping (pure), reading a real DuckDB with the marts' shape, and the
files written. The browser test is tests/test_briefing_browser.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from briefing_marts import NIGHT, create_marts, fixture_warehouse

from wirehouse import briefing, pipeline
from wirehouse.briefing import marts, page, shape
from wirehouse.config import Settings
from wirehouse.fetch import OUTCOMES

# --- shaping ---------------------------------------------------------------------------


def _story(sid: str, new: int, sources: int, articles: int) -> shape.NightStory:
    return shape.NightStory(sid, f"h {sid}", articles, sources, None, None, (), None, new)


def test_every_fetch_outcome_has_a_health_class() -> None:
    assert set(shape.OUTCOME_CLASSES) == set(OUTCOMES)
    assert set(shape.OUTCOME_CLASSES.values()) == set(shape.HEALTH_CLASSES)


def test_biggest_stories_by_articles_tonight_then_outlets_then_size() -> None:
    stories = [
        _story("st_small", 1, 1, 1),
        _story("st_old_big", 1, 1, 40),
        _story("st_wide", 3, 3, 3),
        _story("st_narrow", 3, 1, 9),
        _story("st_tie_b", 2, 2, 2),
        _story("st_tie_a", 2, 2, 2),
    ]
    ranked = [s.story_id for s in shape.rank_stories(stories, limit=5)]
    assert ranked == ["st_wide", "st_narrow", "st_tie_a", "st_tie_b", "st_old_big"]


def test_story_card_names_origin_outlets_copies_and_entities() -> None:
    at = datetime(2026, 11, 22, 8, tzinfo=UTC)
    arts = [
        shape.StoryArticle("o", "st", "wire", "Origin", "https://w/o", at, True, None, None),
        shape.StoryArticle(
            "c", "st", "daily", "Copy", "https://d/c", at + timedelta(hours=1), False, "o", None
        ),
        shape.StoryArticle(
            "r", "st", "echo", "Rewrite", "jsonl:echo/1", at + timedelta(hours=2), False, None, "c"
        ),
        # made from an article outside the story (or not read): no outlet to name
        shape.StoryArticle("x", "st", "wire", None, None, None, False, None, "elsewhere"),
    ]
    ents = [
        shape.StoryEntity("st", "Niger", "PLACE", 0.2),
        shape.StoryEntity("st", "Ann Lee", "PERSON", 0.5),
        shape.StoryEntity("st", "Aardvark", "ORG", 0.2),
    ]
    story = shape.NightStory("st", "Headline", 4, 3, "o", "wire", ("en",), at, 3)
    names = {"wire": "Harbor Wire", "daily": "Daily Lantern"}  # echo has no dim_sources row
    card = shape.story_card(story, arts, ents, names, derived_shown=2, top_entities=2)
    assert card.origin_source == "Harbor Wire" and card.origin_url == "https://w/o"
    assert card.outlets == (("Harbor Wire", 2), ("Daily Lantern", 1), ("echo", 1))
    assert [(d.source, d.kind, d.of_source) for d in card.derived] == [
        ("Daily Lantern", "copy", "Harbor Wire"),
        ("echo", "rewrite", "Daily Lantern"),
    ]
    assert card.derived_total == 3  # the third is counted, not shown
    assert card.entities == (("Ann Lee", "PERSON"), ("Aardvark", "ORG"))


def test_size_series_has_every_night_of_the_window_and_buckets_by_size() -> None:
    run = date(2026, 11, 22)
    starts = [
        shape.StoryStart("a", run, 1),
        shape.StoryStart("b", run, 3),
        shape.StoryStart("c", run - timedelta(days=13), 10),
        shape.StoryStart("d", run - timedelta(days=14), 5),  # before the window
        shape.StoryStart("e", run - timedelta(days=2), 4),
    ]
    series = shape.size_series(starts, run)
    assert len(series.nights) == 14
    assert series.nights[0] == run - timedelta(days=13) and series.nights[-1] == run
    assert series.counts["1 article"][-1] == 1
    assert series.counts["2–3 articles"][-1] == 1
    assert series.counts["10+ articles"][0] == 1
    assert series.counts["4–9 articles"][11] == 1
    assert series.total == 4
    assert [shape.size_bucket(n) for n in (1, 2, 3, 4, 9, 10, 500)] == [
        "1 article",
        "2–3 articles",
        "2–3 articles",
        "4–9 articles",
        "4–9 articles",
        "10+ articles",
        "10+ articles",
    ]


def test_place_map_points_need_coordinates_and_countries_count_each_article_once() -> None:
    mentions = [
        shape.PlaceMention("a1", "en_niamey", "Niamey", "NE", 13.5, 2.1),
        shape.PlaceMention("a1", "en_niger", "Niger", "NE", None, None),  # same article, once
        shape.PlaceMention("a2", "en_niger", "Niger", "NE", None, None),
        shape.PlaceMention("a2", "en_texas", "Texas", "US", None, None),
        shape.PlaceMention("a3", "en_africa", "Africa", None, 7.2, 21.1),  # a continent
        shape.PlaceMention("a3", "en_nowhere", "Atlantis", "ZZ", None, None),  # no such code
    ]
    m = shape.place_map(mentions)
    assert [(p.name, p.articles) for p in m.points] == [("Africa", 1), ("Niamey", 1)]
    assert [(c.iso3, c.name, c.articles) for c in m.countries] == [
        ("NER", "Niger", 2),
        ("USA", "United States", 1),
    ]
    assert shape.place_map([]).empty


def test_originality_ranking_most_original_first_more_articles_on_a_tie() -> None:
    rows = [
        shape.SourceArticles("copier", 1, 3),
        shape.SourceArticles("small", 2, 0),
        shape.SourceArticles("big", 9, 0),
        shape.SourceArticles("silent", 0, 0),
    ]
    ranked = shape.originality_ranking(rows, {"big": "Big Wire"})
    assert [(s.source, s.ratio) for s in ranked] == [
        ("Big Wire", 1.0),
        ("small", 1.0),
        ("copier", 0.25),
    ]


def test_fetch_health_classes_outcomes_and_puts_troubled_sources_first() -> None:
    counts = [
        shape.OutcomeCount("good", "ok", 8),
        shape.OutcomeCount("good", "already_fetched", 2),
        shape.OutcomeCount("bad", "ok", 1),
        shape.OutcomeCount("bad", "timeout", 2),
        shape.OutcomeCount("bad", "http_error", 1),
        shape.OutcomeCount("new", "some_future_outcome", 1),
    ]
    health = shape.fetch_health(counts, {})
    assert [h.source for h in health] == ["new", "bad", "good"]
    good = health[-1]
    assert good.by_class == {"ok": 8, "no article": 0, "failed": 0, "skipped": 2}
    bad = health[1]
    assert bad.by_class["failed"] == 3 and bad.outcomes[0] == ("timeout", 2)
    assert health[0].by_class["failed"] == 1  # unknown outcomes do not vanish


def test_an_empty_night_is_a_briefing_with_nothing_in_it() -> None:
    b = shape.briefing(shape.NightData(run_date=NIGHT), [], [], [])
    assert not b.stories and b.sizes.total == 0 and b.places.empty
    assert not b.originality and not b.health and b.summary.fetches == 0
    html = page.render(b, page.dated_nav())
    assert "No new articles were collected on this night." in html
    assert "Nothing was fetched on this night." in html
    assert "Plotly.newPlot" not in html


# --- reading the marts -----------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_warehouse(tmp_path_factory.mktemp("briefing") / "wirehouse.duckdb")


def test_articles_belong_to_the_night_that_first_collected_them(warehouse: Path) -> None:
    con = marts.connect(warehouse)
    try:
        data = marts.read_night(con, NIGHT)
    finally:
        con.close()
    assert data.missing is None
    assert data.new_articles == 6 and data.new_article_sources == 3
    tonight = {s.story_id: s.new_tonight for s in data.stories}
    # story A's founding article is two nights old: A has 4 articles, 3 of them tonight
    assert tonight == {"st_a": 3, "st_b": 2, "st_c": 1}
    assert {s.story_id: s.article_count for s in data.stories}["st_a"] == 4
    # the 14-night window: A started two nights ago, D five; E (twenty) is outside
    starts = {s.story_id: s.first_night for s in data.story_starts}
    assert starts == {
        "st_a": NIGHT - timedelta(days=2),
        "st_b": NIGHT,
        "st_c": NIGHT,
        "st_d": NIGHT - timedelta(days=5),
    }
    # only tonight's articles' places: a0 (an earlier night) names Niamey too
    assert {(m.article_id, m.name) for m in data.places} == {
        ("a1", "Niamey"),
        ("a2", "Niamey"),
        ("a3", "Niamey"),
        ("a1", "Niger"),
        ("a2", "Niger"),
        ("a3", "Niger"),
        ("b1", "Paris"),
        ("b2", "Paris"),
    }
    assert {r.source_id: (r.original, r.derivative) for r in data.originality} == {
        "wire": (4, 0),
        "daily": (1, 1),
        "echo": (1, 1),
    }
    assert sum(f.count for f in data.fetches if f.outcome == "source_failed") == 1

    # a night before: its own article only
    con = marts.connect(warehouse)
    try:
        earlier = marts.read_night(con, NIGHT - timedelta(days=2))
    finally:
        con.close()
    assert [(s.story_id, s.new_tonight) for s in earlier.stories] == [("st_a", 1)]


def test_build_tells_the_biggest_story_whole(warehouse: Path) -> None:
    b = briefing.build(warehouse, NIGHT)
    assert [c.story_id for c in b.stories] == ["st_a", "st_b", "st_c"]
    a = b.stories[0]
    assert a.origin_source == "Harbor Wire" and a.headline == "Drone base opens in Niger"
    assert [(d.source, d.kind, d.of_source) for d in a.derived] == [
        ("Daily Lantern", "copy", "Harbor Wire"),
        ("Echo Times", "rewrite", "Harbor Wire"),
    ]
    assert a.entities[0] == ("Niamey", "PLACE")
    assert [(c.iso3, c.articles) for c in b.places.countries] == [("NER", 3), ("FRA", 2)]
    assert b.health[0].source == "Flaky Post"
    assert b.summary.failed_fetches == 3


def test_missing_marts_or_warehouse_give_a_page_saying_so(tmp_path: Path) -> None:
    none = briefing.build(tmp_path / "absent.duckdb", NIGHT)
    assert none.missing == "no published warehouse yet"
    import duckdb

    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    b = briefing.build(bare, NIGHT)
    assert b.missing and "fct_articles" in b.missing
    assert "Nothing to brief" in page.render(b, page.dated_nav())


# --- files -----------------------------------------------------------------------------


def _srcs(html: str) -> list[str]:
    return re.findall(r'\b(?:src|href)="([^"]+)"', html)


def test_write_briefing_page_index_and_assets(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "briefing"
    result = briefing.write_briefing(warehouse, out, NIGHT)
    dated = out / "2026-11-22.html"
    assert result["page"] == str(dated) and result["index"] == str(out / "index.html")
    assert result["stories"] == 3 and result["new_articles"] == 6
    assert (out / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    assert "PlotlyGeoAssets" in (out / "assets" / "world_110m.js").read_text()
    html = dated.read_text(encoding="utf-8")
    for div in ("briefing-sizes", "briefing-map", "briefing-originality", "briefing-health"):
        assert f'id="{div}"' in html
    # escaped: a headline cannot inject markup
    assert "<script>alert(1)</script>" not in html
    assert "Paris &lt;script&gt;alert(1)&lt;/script&gt; talks" in html
    # scripts load from the page's folder; the only absolute links are the articles'
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == ["assets/plotly.min.js", "assets/world_110m.js"]
    external = [u for u in _srcs(html) if "://" in u]
    assert external and all(re.match(r"https://(wire|daily|echo)\.example/", u) for u in external)
    assert '"topojsonURL": "assets/"' in html

    # re-running the night writes the same bytes
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    briefing.write_briefing(warehouse, out, NIGHT)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_index_is_the_latest_night_with_links_to_earlier_ones(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "briefing"
    briefing.write_briefing(warehouse, out, NIGHT)
    # a backfill of an earlier night afterwards does not take the index over
    briefing.write_briefing(warehouse, out, NIGHT - timedelta(days=2))
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>Night of 2026-11-22</b>" in index
    assert '<a href="2026-11-22.html">' in index and '<a href="2026-11-20.html">' in index
    assert index.index("2026-11-22.html") < index.index("2026-11-20.html")  # newest first
    dated = (out / "2026-11-22.html").read_text(encoding="utf-8")
    assert '<a href="index.html">All briefings</a>' in dated
    # the index is the dated page with the list put in, nothing else changed
    assert page.with_nav(index, page.dated_nav()) == dated


def test_empty_marts_still_write_a_valid_page(tmp_path: Path) -> None:
    db = create_marts(tmp_path / "empty.duckdb", {})
    settings = Settings(home=tmp_path, sources_file=tmp_path / "sources.yml")
    (tmp_path / "published").mkdir()
    db.rename(tmp_path / "published" / "wirehouse.duckdb")
    result = pipeline.briefing_run(NIGHT.isoformat(), settings)
    html = Path(str(result["page"])).read_text(encoding="utf-8")
    assert result["stories"] == 0 and result["missing"] is None
    assert "No new articles were collected on this night." in html
    assert "No places were named in this night&#x27;s articles." in html
    assert html.count("<section") == 5 and html.rstrip().endswith("</html>")
    assert (tmp_path / "published" / "briefing" / "index.html").exists()
