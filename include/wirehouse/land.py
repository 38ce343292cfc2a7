"""The landing zone: Parquet files, one folder per table and run date.

Landing is the contract between the Python stages and the warehouse (see
docs/landing_contract.md). A run date's partition is always rewritten whole (written to a
temporary folder, fsynced, then swapped in with one atomic exchange of names), so a re-run
leaves exactly one copy of the day, a crash never leaves a half-written partition behind, and
a reader never finds the partition missing.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from wirehouse import durable

TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "sources": pa.schema(
        [
            ("run_date", pa.date32()),
            ("source_id", pa.string()),
            ("name", pa.string()),
            ("home_url", pa.string()),
            ("domain", pa.string()),
            ("feed_count", pa.int32()),
            ("sitemap_count", pa.int32()),
            ("url_count", pa.int32()),
            ("file_pattern_count", pa.int32()),
        ]
    ),
    "fetches": pa.schema(
        [
            ("fetch_id", pa.string()),
            ("run_date", pa.date32()),
            ("source_id", pa.string()),
            ("url", pa.string()),
            ("final_url", pa.string()),
            ("url_kind", pa.string()),
            ("outcome", pa.string()),
            ("http_status", pa.int32()),
            ("error", pa.string()),
            ("content_type", pa.string()),
            ("bytes", pa.int64()),
            ("elapsed_ms", pa.int32()),
            ("attempts", pa.int32()),
            ("fetched_at", TS),
            ("listed_at", TS),
            ("body_sha256", pa.string()),
            ("listed_title", pa.string()),
            ("listed_modified_at", TS),
        ]
    ),
    "articles": pa.schema(
        [
            ("article_id", pa.string()),
            ("run_date", pa.date32()),
            ("source_id", pa.string()),
            ("fetch_id", pa.string()),
            ("url", pa.string()),
            ("canonical_url", pa.string()),
            ("title", pa.string()),
            ("authors", pa.list_(pa.string())),
            ("description", pa.string()),
            ("site_name", pa.string()),
            ("published_at", TS),
            ("language", pa.string()),
            ("word_count", pa.int32()),
            ("body", pa.string()),
            ("content_hash", pa.string()),
            ("fetched_at", TS),
            ("listed_at", TS),
            ("modified_at", TS),
            ("dateline", pa.string()),
            ("credits", pa.string()),
            ("language_confidence", pa.float64()),
            ("too_short", pa.bool_()),
            ("probably_not_article", pa.bool_()),
            ("paywalled", pa.bool_()),
            ("dateline_agency", pa.string()),
            # the zone published_at was stated in, minutes east of UTC (NULL: none stated)
            ("published_utc_offset", pa.int32()),
            # the publication day the page shows (its local day; the date as written)
            ("published_local_date", pa.date32()),
            ("extraction_path", pa.string()),  # extract.EXTRACTION_PATHS
        ]
    ),
    "source_boilerplate": pa.schema(
        [
            ("run_date", pa.date32()),
            ("source_id", pa.string()),
            ("paragraph_key", pa.string()),
            ("example", pa.string()),
            ("page_count", pa.int32()),
            ("share", pa.float64()),
            ("first_seen_run_date", pa.date32()),
            ("last_seen_run_date", pa.date32()),
        ]
    ),
    # the story stage's state and results (wirehouse.story_night), one row per new article
    "article_signatures": pa.schema(
        [
            ("run_date", pa.date32()),
            ("article_id", pa.string()),
            ("source_id", pa.string()),
            ("story_time", TS),
            ("published_at", TS),
            ("terms", pa.list_(pa.string())),
            ("term_counts", pa.list_(pa.float64())),
            ("names", pa.list_(pa.string())),
            ("minhash", pa.list_(pa.int64())),
            ("shingle_count", pa.int32()),
            ("content_hash", pa.string()),
            ("language", pa.string()),
        ]
    ),
    "article_stories": pa.schema(
        [
            ("run_date", pa.date32()),
            ("article_id", pa.string()),
            ("story_id", pa.string()),
            ("duplicate_of_article_id", pa.string()),
            ("duplicate_score", pa.float64()),
            ("derived_from_article_id", pa.string()),
            ("derivation_score", pa.float64()),
            ("story_similarity", pa.float64()),
        ]
    ),
    "story_merges": pa.schema(
        [
            ("run_date", pa.date32()),
            ("merged_story_id", pa.string()),
            ("into_story_id", pa.string()),
            ("similarity", pa.float64()),
        ]
    ),
    "term_frequencies": pa.schema(
        [
            ("run_date", pa.date32()),
            ("term", pa.string()),
            ("document_count", pa.int64()),
        ]
    ),
    # the entity stage's results (wirehouse.entity_night): one row per article it read,
    # and one per article x entity
    "article_entities": pa.schema(
        [
            ("run_date", pa.date32()),
            ("article_id", pa.string()),
            ("ner_status", pa.string()),
            ("ner_model", pa.string()),
            ("entity_count", pa.int32()),
            ("mention_count", pa.int32()),
            ("ner_error", pa.string()),
        ]
    ),
    "entity_mentions": pa.schema(
        [
            ("run_date", pa.date32()),
            ("article_id", pa.string()),
            ("entity_id", pa.string()),
            ("entity_key", pa.string()),
            ("name", pa.string()),
            ("entity_type", pa.string()),
            ("mention_count", pa.int32()),
            ("first_char_offset", pa.int32()),
            ("surface_forms", pa.list_(pa.string())),
            ("in_title", pa.bool_()),
            ("in_dateline", pa.bool_()),
            ("country_code", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("geonameid", pa.int64()),
        ]
    ),
}
TABLES = tuple(SCHEMAS)
COLLECTOR_TABLES = ("sources", "fetches", "articles", "source_boilerplate")
STORY_TABLES = ("article_signatures", "article_stories", "story_merges", "term_frequencies")
ENTITY_TABLES = ("article_entities", "entity_mentions")


# the tables a collect task writes for its source (work files that `land` consolidates)
COLLECTED_TABLES = ("fetches", "articles", "source_boilerplate")


def to_table(name: str, rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Rows to an Arrow table with the landing schema (missing keys become nulls)."""
    schema = SCHEMAS[name]
    rows = list(rows)
    columns = {}
    for fld in schema:
        values = [r.get(fld.name) for r in rows]
        if pa.types.is_date32(fld.type):
            values = [date.fromisoformat(v) if isinstance(v, str) else v for v in values]
        columns[fld.name] = pa.array(values, type=fld.type)
    return pa.table(columns, schema=schema)


def partition_dir(landing_dir: Path, table: str, run_date: str) -> Path:
    return landing_dir / table / f"run_date={run_date}"


def write_partition(landing_dir: Path, table: str, run_date: str, data: pa.Table) -> Path:
    """Replace the whole partition of `table` for `run_date` atomically; returns the file.

    The new folder is written and fsynced beside the old one, then the two trade names in
    one step (:func:`wirehouse.durable.swap_dir`), so a reader (load, stories, entities)
    finds either the old partition or the new one, never none."""
    final = partition_dir(landing_dir, table, run_date)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{run_date}-{uuid.uuid4().hex}"
    tmp.mkdir()
    pq.write_table(data.cast(SCHEMAS[table]), tmp / f"{table}.parquet", compression="zstd")
    durable.fsync_file(tmp / f"{table}.parquet")
    old = final.parent / f".old-{run_date}-{uuid.uuid4().hex}"
    durable.swap_dir(tmp, final, old)
    shutil.rmtree(old, ignore_errors=True)
    return final / f"{table}.parquet"


def read_tables(paths: Iterable[Path], table: str) -> pa.Table:
    """Concatenate work files of one table (written by per-source tasks)."""
    parts = [pq.read_table(p).cast(SCHEMAS[table]) for p in paths]
    if not parts:
        return SCHEMAS[table].empty_table()
    return pa.concat_tables(parts)
