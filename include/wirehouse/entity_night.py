"""The entity stage of one night: the I/O around :mod:`wirehouse.entities`.

It reads tonight's landed articles from the landing zone (not the warehouse, so the
recogniser's minutes of CPU never hold the DuckDB writer's slot), recognises and resolves
their entities on every core, and writes tonight's two partitions: one status row per
article and one row per article x entity. :func:`load_entities` then loads them, in the
writer pool. Tonight's partitions are rewritten whole, so a re-run gives the same rows.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from wirehouse import entities, land, load
from wirehouse.config import Settings, worker_processes
from wirehouse.land import ENTITY_TABLES

# a worker loads spaCy, the model and the gazetteer, about 5 s, before its first article
MIN_ARTICLES_PER_PROCESS = 200
COLUMNS = ["article_id", "title", "body", "dateline", "language", "dateline_agency"]


def _tonight(settings: Settings, run_date: str) -> list[entities.ArticleText]:
    path = land.partition_dir(settings.landing_dir, "articles", run_date) / "articles.parquet"
    if not path.exists():
        return []
    present = set(pq.read_schema(path).names)  # a partition landed before a column existed
    rows = pq.read_table(path, columns=[c for c in COLUMNS if c in present]).to_pylist()
    return [
        entities.ArticleText(
            article_id=row["article_id"],
            title=row["title"],
            body=row["body"],
            dateline=row.get("dateline"),
            language=row["language"],
            agency=row.get("dateline_agency"),
        )
        for row in sorted(rows, key=lambda r: r["article_id"])
    ]


def tables(run_date: str, results: list[entities.ArticleEntities]) -> dict[str, pa.Table]:
    """Tonight's two landing tables from the analysis results."""
    day = date.fromisoformat(run_date)
    status_rows = [
        {
            "run_date": day,
            "article_id": r.article_id,
            "ner_status": r.ner_status,
            "ner_model": r.model,
            "entity_count": len(r.entities),
            "mention_count": sum(e.mention_count for e in r.entities),
            "ner_error": r.error,
        }
        for r in results
    ]
    mention_rows = [
        {
            "run_date": day,
            "article_id": r.article_id,
            "entity_id": e.entity_id,
            "entity_key": e.entity_key,
            "name": e.name,
            "entity_type": e.entity_type,
            "mention_count": e.mention_count,
            "first_char_offset": e.first_char_offset,
            "surface_forms": e.surface_forms,
            "in_title": e.in_title,
            "in_dateline": e.in_dateline,
            "country_code": e.country_code,
            "latitude": e.latitude,
            "longitude": e.longitude,
            "geonameid": e.geonameid,
        }
        for r in results
        for e in r.entities
    ]
    return {
        "article_entities": land.to_table("article_entities", status_rows),
        "entity_mentions": land.to_table("entity_mentions", mention_rows),
    }


def run_entities(settings: Settings, run_date: str) -> dict[str, int]:
    """Recognise and resolve tonight's articles; write tonight's entity partitions."""
    date.fromisoformat(run_date)
    articles = _tonight(settings, run_date)
    processes = min(worker_processes(), max(1, len(articles) // MIN_ARTICLES_PER_PROCESS))
    results = entities.analyse(articles, processes=processes)
    written = tables(run_date, results)
    for table in ENTITY_TABLES:
        land.write_partition(settings.landing_dir, table, run_date, written[table])
    counts = {table: written[table].num_rows for table in ENTITY_TABLES}
    for status in entities.STATUSES:
        counts[f"ner_{status}"] = sum(r.ner_status == status for r in results)
    return counts


def load_entities(settings: Settings, run_date: str) -> dict[str, int]:
    """Replace tonight's rows of the entity tables in the warehouse (writer pool)."""
    return load.load_run_date(
        settings.warehouse_target, settings.landing_dir, run_date, ENTITY_TABLES
    )
