"""Reading one night off the published marts (read-only): the briefing's only warehouse I/O.

It opens `published/wirehouse.duckdb`, the copy readers get, never the live warehouse, so
the briefing holds no lock the nightly writer waits on.

Which night an article belongs to: the marts keep only an article's latest version, with
`first_seen_at`, the earliest `fetched_at` over its versions. That is the very timestamp of
the fetch row that collected it (collect stamps the article and its fetch row from one
result), and `fct_fetches` carries the run date. So an article's first night is the run
date of the `ok` fetch row with its `first_seen_at`: a re-run or a backfill of a past date
keeps its own articles, which the wall clock would not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from wirehouse.briefing.shape import (
    NightData,
    NightStory,
    OutcomeCount,
    PlaceMention,
    SourceArticles,
    StoryArticle,
    StoryEntity,
    StoryStart,
    window,
)
from wirehouse.extensions import NO_DOWNLOAD_CONFIG
from wirehouse.warehouse import Lake, connect_lake

Row = TypeVar("Row")

MART_SCHEMA = "marts"
NEEDED_MARTS = (
    "fct_articles",
    "fct_fetches",
    "dim_stories",
    "dim_sources",
    "dim_entities",
    "fct_entity_mentions",
    "bridge_story_entities",
)

# article -> the night that first collected it (see the module docstring)
_ARTICLE_NIGHTS = """
create temp table article_nights as
with nights as (
    select fetched_at, min(run_date) as run_date
    from marts.fct_fetches
    where outcome = 'ok'
    group by fetched_at
)
select
    a.article_id,
    a.story_id,
    a.source_id,
    a.duplicate_of_article_id is not null or a.derived_from_article_id is not null
        as is_derivative,
    n.run_date as first_night
from marts.fct_articles as a
inner join nights as n on n.fetched_at = a.first_seen_at
"""


def connect(published: Path | Lake) -> duckdb.DuckDBPyConnection:
    """A read-only connection that never fetches an extension (the lake: attached read-only)."""
    if isinstance(published, Lake):
        return connect_lake(published, read_only=True)
    return duckdb.connect(str(published), read_only=True, config=dict(NO_DOWNLOAD_CONFIG))


def _records(
    con: duckdb.DuckDBPyConnection, make: Callable[..., Row], sql: str, params: list[Any]
) -> list[Row]:
    """One `make(*columns)` per row of the query, in its order."""
    return [make(*r) for r in con.execute(sql, params).fetchall()]


def missing_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    present = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ?",
            [MART_SCHEMA],
        ).fetchall()
    }
    return [m for m in NEEDED_MARTS if m not in present]


def read_night(con: duckdb.DuckDBPyConnection, run_date: date) -> NightData:
    """Everything the page needs about `run_date` except the top stories' own rows
    (read_story_rows, once the stories are ranked)."""
    data = NightData(run_date=run_date)
    missing = missing_marts(con)
    if missing:
        data.missing = "the published warehouse has no marts " + ", ".join(missing)
        return data
    con.execute("drop table if exists article_nights")
    con.execute(_ARTICLE_NIGHTS)
    first, last = window(run_date)
    data.source_names = dict(
        con.execute(
            f"select source_id, coalesce(name, source_id) from {MART_SCHEMA}.dim_sources"
        ).fetchall()
    )
    data.new_articles, data.new_article_sources = con.execute(
        "select count(*), count(distinct source_id) from article_nights where first_night = ?",
        [run_date],
    ).fetchone()
    data.stories = [
        NightStory(
            story_id=r[0],
            headline=r[1],
            article_count=r[2],
            source_count=r[3],
            origin_article_id=r[4],
            origin_source_id=r[5],
            languages=tuple(r[6] or ()),
            first_published_at=r[7],
            new_tonight=r[8],
        )
        for r in con.execute(
            f"""
            with tonight as (
                select story_id, count(*) as new_tonight
                from article_nights where first_night = ? group by story_id
            )
            select s.story_id, s.headline, s.article_count, s.source_count,
                   s.origin_article_id, s.origin_source_id, s.languages,
                   s.first_published_at, t.new_tonight
            from tonight as t
            inner join {MART_SCHEMA}.dim_stories as s on s.story_id = t.story_id
            order by s.story_id
            """,
            [run_date],
        ).fetchall()
    ]
    data.story_starts = _records(
        con,
        StoryStart,
        f"""
            with starts as (
                select story_id, min(first_night) as first_night
                from article_nights group by story_id
            )
            select starts.story_id, starts.first_night, s.article_count
            from starts
            inner join {MART_SCHEMA}.dim_stories as s on s.story_id = starts.story_id
            where starts.first_night between ? and ?
            order by starts.story_id
            """,
        [first, last],
    )
    data.places = _records(
        con,
        PlaceMention,
        f"""
            select m.article_id, e.entity_id, e.name, e.country_code, e.latitude, e.longitude
            from article_nights as n
            inner join {MART_SCHEMA}.fct_entity_mentions as m on m.article_id = n.article_id
            inner join {MART_SCHEMA}.dim_entities as e on e.entity_id = m.entity_id
            where n.first_night = ? and e.entity_type = 'PLACE'
            order by m.article_id, e.entity_id
            """,
        [run_date],
    )
    data.originality = _records(
        con,
        SourceArticles,
        """
            select source_id, count_if(not is_derivative), count_if(is_derivative)
            from article_nights
            where first_night between ? and ?
            group by source_id
            order by source_id
            """,
        [first, last],
    )
    data.fetches = _records(
        con,
        OutcomeCount,
        f"""
            select source_id, outcome, count(*)
            from {MART_SCHEMA}.fct_fetches
            where run_date = ?
            group by source_id, outcome
            order by source_id, outcome
            """,
        [run_date],
    )
    return data


def read_story_rows(
    con: duckdb.DuckDBPyConnection, story_ids: Sequence[str]
) -> tuple[list[StoryArticle], list[StoryEntity]]:
    """Every article and entity of the given stories (all nights: a story is told whole)."""
    if not story_ids:
        return [], []
    ids = list(story_ids)
    articles = _records(
        con,
        StoryArticle,
        f"""
            select article_id, story_id, source_id, title, url, published_at,
                   coalesce(is_story_origin, false), duplicate_of_article_id,
                   derived_from_article_id
            from {MART_SCHEMA}.fct_articles
            where list_contains(?, story_id)
            order by story_id, article_id
            """,
        [ids],
    )
    entities = _records(
        con,
        StoryEntity,
        f"""
            select b.story_id, e.name, e.entity_type, b.salience
            from {MART_SCHEMA}.bridge_story_entities as b
            inner join {MART_SCHEMA}.dim_entities as e on e.entity_id = b.entity_id
            where list_contains(?, b.story_id)
            order by b.story_id, e.entity_id
            """,
        [ids],
    )
    return articles, entities
