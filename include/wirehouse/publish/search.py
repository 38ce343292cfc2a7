"""Full-text search over the published copy: DuckDB's fts extension (BM25) and one SQL macro.

The index lives in the published copy, never in the warehouse: it is derived data a reader
wants, and keeping it out keeps the night's writer lock short and the warehouse free of a
second copy of every text. It is the fts extension's own index (schema `fts_marts_fct_articles`:
dictionary, postings, statistics and the `match_bm25` macro) over each article's title and
body, Porter-stemmed, English stop words, accents and case folded; `search_index` keeps it
from night to night and updates only what changed, then copies it in.

Analysts search stories, not articles: `search_stories(query[, lim := 20])` scores every article
by BM25 and ranks each story by its best-matching article (a story told by one outlet ranks with
a story told by twenty when its best text matches as well; ties go to the story with more
matching articles, then more articles). A story's headline is one of its articles' titles, so
it is searched too.

`match_bm25` stems the query with the fts extension's `stem()`, so a reader must load fts:
`wirehouse search` and `wirehouse query` load it from the `duckdb-extension-fts` wheel; a DuckDB
CLI loads it with `LOAD fts` (which may download it once into ~/.duckdb).
"""

from __future__ import annotations

import duckdb

ARTICLES = "marts.fct_articles"
STORIES = "marts.dim_stories"
FTS_SCHEMA = "fts_marts_fct_articles"  # the schema create_fts_index names after the table
MACRO = "search_stories"
DEFAULT_LIMIT = 20

# What each result row carries, in order (the CLI prints these).
RESULT_COLUMNS = (
    "story_id",
    "headline",
    "score",
    "matching_articles",
    "article_count",
    "source_count",
    "first_published_at",
    "last_published_at",
    "best_article_url",
)

MACRO_SQL = f"""
CREATE OR REPLACE MACRO main.{MACRO}(q, lim := {DEFAULT_LIMIT}) AS TABLE
WITH scored AS (
    SELECT a.story_id, a.url, {FTS_SCHEMA}.match_bm25(a.article_id, q) AS score
    FROM {ARTICLES} AS a
    WHERE a.story_id IS NOT NULL
), per_story AS (
    SELECT story_id,
           max(score) AS score,
           count(*) AS matching_articles,
           arg_max(url, score) AS best_article_url
    FROM scored
    WHERE score IS NOT NULL
    GROUP BY story_id
)
SELECT p.story_id, s.headline, p.score, p.matching_articles, s.article_count, s.source_count,
       s.first_published_at, s.last_published_at, p.best_article_url
FROM per_story AS p
JOIN {STORIES} AS s USING (story_id)
ORDER BY p.score DESC, p.matching_articles DESC, s.article_count DESC, p.story_id
LIMIT lim
"""


def searchable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts search needs exist (a warehouse dbt has not built yet has none)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'marts' AND table_name IN ('fct_articles', 'dim_stories')"
    ).fetchone()
    return bool(found and found[0] == 2)


def create_macro(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `search_stories` macro in `con`'s database, which holds the marts and the
    index (`search_index` copies it in)."""
    con.execute(MACRO_SQL)


def search_stories(
    con: duckdb.DuckDBPyConnection, query: str, limit: int = DEFAULT_LIMIT
) -> list[tuple[object, ...]]:
    """Ranked stories for `query` through the macro (fts loaded in `con`)."""
    return con.execute(f"SELECT * FROM {MACRO}(?, lim := ?)", [query, limit]).fetchall()
