"""A small warehouse in the shape dbt leaves it: landing tables, a staging view over them and
the marts publishing and search read (the columns they use, with the marts' names and types),
for one or two nights of news. Publishing runs on it for real."""

from __future__ import annotations

from pathlib import Path

import duckdb

# (article_id, source_id, story_id, url, title, body, published_at, night)
ARTICLES = [
    (
        "a1", "wire", "s_niger", "https://wire.example/niger-drone-base",
        "Niger orders closure of foreign drone base",
        "NIAMEY, Niger (AP) — Niger's military government ordered the closure of the foreign "
        "drone base near Agadez, the air base from which surveillance drones flew over the Sahel.",
        "2026-11-20 08:00:00+00", 1,
    ),
    (
        "a2", "lantern", "s_niger", "https://lantern.example/sahel-drones",
        "Sahel drone base to shut, Niamey says",
        "The drone base in Agadez will shut within months, officials in Niamey said. "
        "Drones based there patrolled the region.",
        "2026-11-20 11:00:00+00", 1,
    ),
    (
        "a3", "wire", "s_harbor", "https://wire.example/harbor-strike",
        "Harbor strike enters third day",
        "Dockworkers at the northern harbor stayed off work for a third day as talks on pay "
        "stalled; container ships waited offshore.",
        "2026-11-20 09:00:00+00", 1,
    ),
    (
        "a4", "courrier", "s_vote", "https://courrier.example/vote",
        "Election results delayed in coastal province",
        "Electoral officials delayed the results of the provincial vote after a dispute over "
        "ballots in two districts.",
        "2026-11-20 10:00:00+00", 1,
    ),
    (
        "a5", "lantern", "s_harbor", "https://lantern.example/harbor-talks",
        "Harbor talks resume as strike goes on",
        "Union leaders and the port authority resumed talks on the dockworkers' pay.",
        "2026-11-21 07:00:00+00", 2,
    ),
    (
        "a6", "courrier", "s_flood", "https://courrier.example/floods",
        "Floods cut river towns off",
        "Floodwater cut off three river towns; rescue boats reached stranded families.",
        "2026-11-21 08:00:00+00", 2,
    ),
]  # fmt: skip


def write_warehouse(path: Path, night: int = 1) -> None:
    """(Re)write `path` with the marts as of `night` (1 or 2; 2 adds an article to a story
    and a new story), as dbt would after that night."""
    rows = [a for a in ARTICLES if a[-1] <= night]
    con = duckdb.connect(str(path))
    try:
        for schema in ("landing", "staging", "marts"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(
            "create or replace table landing.articles (article_id varchar, title varchar, "
            "body varchar, run_date date)"
        )
        con.executemany(
            "insert into landing.articles values (?, ?, ?, ?)",
            [(a[0], a[4], a[5], f"2026-11-2{a[-1] - 1}") for a in rows],
        )
        name = path.stem
        con.execute(
            f'create or replace view "{name}"."staging"."stg_landing__articles" as '
            f'(select * from "{name}"."landing"."articles")'
        )
        con.execute(
            "create or replace table marts.fct_articles (article_id varchar primary key, "
            "source_id varchar, story_id varchar, url varchar, title varchar, body varchar, "
            "published_at timestamptz)"
        )
        con.executemany(
            "insert into marts.fct_articles values (?, ?, ?, ?, ?, ?, ?)", [a[:-1] for a in rows]
        )
        con.execute(
            """
            create or replace table marts.dim_stories as
            select story_id,
                   arg_min(title, published_at) as headline,
                   min(published_at) as first_published_at,
                   max(published_at) as last_published_at,
                   count(*) as article_count,
                   count(distinct source_id) as source_count,
                   arg_min(article_id, published_at) as origin_article_id,
                   arg_min(source_id, published_at) as origin_source_id
            from marts.fct_articles group by story_id
            """
        )
        con.execute(
            "create or replace table marts.dim_sources as "
            "select source_id, count(*) as article_count from marts.fct_articles group by 1"
        )
    finally:
        con.close()
