"""The article id migration: move history to the current canonical URLs, once.

``article_id`` hashes the canonical URL, so a change to :mod:`wirehouse.urls` changes ids.
The warehouse records the canonicalisation version its ids were made with (the row
``canonical_url_version`` of ``landing.meta``); when it is older than
:data:`wirehouse.urls.CANONICAL_VERSION`, :func:`upgrade` rewrites history to the new ids:

- ``landing.articles`` (warehouse table and landing Parquet partitions): ``canonical_url`` and
  ``article_id`` are recomputed from the stored canonical URL (``url`` too where it was the
  canonical URL, as for saved files and JSON Lines records). Two old ids that become one
  keep one row per night: the first in landing order, which is the row ``land`` keeps when
  it re-lands the night from the collector's work files (it re-keys them the same way).
- per-night tables with an ``article_id`` (the entity tables): the row of the article row
  kept that night.
- the story stage's per-article tables (``article_signatures``, ``article_stories``): the
  rows of the old id that reached the story stage first (earliest signature); the others
  are dropped, since the story stage treats one article once.
- ``duplicate_of_article_id`` / ``derived_from_article_id`` re-point to the new ids, and an
  article that became a copy of itself loses the link (and its score).

Tables are found by their columns, not by a fixed column list, so columns added later do not
matter. ``landing.fetches`` keeps the URL each request was made for (it is a log of attempts);
the collector's memory of earlier nights is re-canonicalised when it is read
(:func:`wirehouse.pipeline.previously_fetched`). The stored URL always canonicalises to the
same result (the new rules are idempotent and ``canonicalize_url(legacy_canonical_url(u)) ==
canonicalize_url(u)``, tested), so re-running the migration changes nothing.

The landing Parquet files are rewritten first (each file replaced atomically, only when it
changes), then the warehouse tables and the version row in the caller's transaction, so a
crash in between leaves a state the next run completes. The load task runs it
(:func:`wirehouse.load.load_run_date`), and ``wirehouse migrate-ids`` does the same by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from wirehouse import durable
from wirehouse.urls import CANONICAL_VERSION, InvalidURL, article_key, canonicalize_url

SCHEMA = "landing"
META_TABLE = f"{SCHEMA}.meta"
VERSION_KEY = "canonical_url_version"
LEGACY_VERSION = 1  # a warehouse without the version row was made by the first rules
# the story stage treats each article once, whatever the night: one old id survives
LIFETIME_TABLES = ("article_signatures", "article_stories")
# columns that point at another article, and the score that goes with the link
REF_COLUMNS = {
    "duplicate_of_article_id": "duplicate_score",
    "derived_from_article_id": "derivation_score",
}

# --- version 1, kept so the migration (and its test) knows what history was made with ---
_LEGACY_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref_src"}
)
_LEGACY_PORTS = {"http": 80, "https": 443}


def legacy_canonical_url(url: str, base: str | None = None) -> str:
    """The canonicalisation of version 1 (before w3lib), unchanged: ids in warehouses made
    before the migration are ``article_key(legacy_canonical_url(url))``."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _LEGACY_PORTS:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, _LEGACY_PORTS[scheme]) else f"{host}:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not (k.lower().startswith("utm_") or k.lower() in _LEGACY_TRACKING)
        ]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# --- re-keying ---


def rekey_url(canonical_url: str | None) -> str | None:
    """The current canonical form of a stored canonical URL (itself when it no longer
    parses: a stored row is never lost to the migration)."""
    if canonical_url is None:
        return None
    try:
        return canonicalize_url(canonical_url)
    except InvalidURL:
        return canonical_url


def rekey_articles(table: pa.Table) -> pa.Table:
    """Articles rows with ``canonical_url``, ``article_id`` (and ``url`` where it was the
    canonical URL) made by the current rules; rows already current are left as they are."""
    if table.num_rows == 0:
        return table
    urls = table.column("url").to_pylist()
    canonical = table.column("canonical_url").to_pylist()
    ids = table.column("article_id").to_pylist()
    memo: dict[str, str | None] = {}
    changed = False
    for i, old in enumerate(canonical):
        if old is None:
            continue
        new = memo[old] if old in memo else memo.setdefault(old, rekey_url(old))
        if new != old:
            changed = True
            if urls[i] == old:
                urls[i] = new
            canonical[i], ids[i] = new, article_key(new)
    if not changed:
        return table
    for name, values in (("url", urls), ("canonical_url", canonical), ("article_id", ids)):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pa.array(values, type=pa.string()))
    return table


def _url_map(con: duckdb.DuckDBPyConnection, articles: str) -> int:
    """Fill temp table ``mig_url(old_id, old_canonical, new_canonical, new_id)`` with the
    articles of `articles` (a relation) whose canonical URL changes; returns its size."""
    rows = con.execute(
        f"select distinct article_id, canonical_url from {articles} where canonical_url is not null"
    ).fetchall()
    mapped = []
    for old_id, old in rows:
        new = rekey_url(old)
        if new != old:
            mapped.append((old_id, old, new, article_key(new)))
    names = ("old_id", "old_canonical", "new_canonical", "new_id")
    rows_table = pa.table(
        {n: pa.array([m[i] for m in mapped], type=pa.string()) for i, n in enumerate(names)}
    )
    con.register("mig_url_rows", rows_table)
    try:
        con.execute("create or replace temp table mig_url as select * from mig_url_rows")
    finally:
        con.unregister("mig_url_rows")
    # one new id per old id (an old id is the hash of one old canonical URL)
    con.execute(
        """
        create or replace temp table mig_id as
        select old_id, any_value(new_id) as new_id from mig_url
        where old_id <> new_id group by old_id
        """
    )
    return len(mapped)


def _winners(con: duckdb.DuckDBPyConnection, articles: str, story: list[str]) -> None:
    """Which old id each merged article keeps: per night, the first articles row in landing
    order (``mig_night``); for the story tables (`story`: relations with ``run_date`` and
    ``article_id``, signatures first), the earliest row of the first table that has the
    article, on that night the one of the articles row kept (``mig_story``)."""
    touched = "(select new_id from mig_id)"
    con.execute(
        f"""
        create or replace temp table mig_night as
        with mapped as (
            select a.run_date, a.article_id as old_id,
                   coalesce(m.new_id, a.article_id) as new_id, a._ord
            from {articles} as a left join mig_id as m on a.article_id = m.old_id
        )
        select run_date, new_id, first(old_id order by _ord, old_id) as old_id
        from mapped where new_id in {touched} group by run_date, new_id
        """
    )
    con.execute("create or replace temp table mig_story (new_id varchar, old_id varchar)")
    for source in story:
        con.execute(
            f"""
            insert into mig_story
            with mapped as (
                select s.run_date, s.article_id as old_id,
                       coalesce(m.new_id, s.article_id) as new_id
                from {source} as s left join mig_id as m on s.article_id = m.old_id
            )
            select m.new_id,
                   first(m.old_id order by m.run_date, m.old_id = w.old_id desc nulls last,
                         m.old_id)
            from mapped as m
            left join mig_night as w on w.run_date = m.run_date and w.new_id = m.new_id
            where m.new_id in {touched} and m.new_id not in (select new_id from mig_story)
            group by m.new_id
            """
        )


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [row[0] for row in con.execute(f"describe {relation}").fetchall()]


def _apply(con: duckdb.DuckDBPyConnection, relation: str, table: str) -> int:
    """Re-key one table (a real table, so ``rowid`` is its landing order) with the mig_*
    temp tables; returns the rows changed or dropped."""
    columns = _columns(con, relation)
    if "article_id" not in columns:
        return 0
    touched = "(select new_id from mig_id)"
    before = con.execute(f"select count(*) from {relation}").fetchall()[0][0]
    changed = 0
    if table == "articles":
        changed += con.execute(
            f"""
            update {relation} as t set
                url = case when t.url = t.canonical_url then m.new_canonical else t.url end,
                canonical_url = m.new_canonical, article_id = m.new_id
            from mig_url as m
            where t.article_id = m.old_id and t.canonical_url = m.old_canonical
            """
        ).fetchall()[0][0]
        con.execute(
            f"""
            delete from {relation} where rowid in (
                select rowid from (
                    select rowid, row_number() over (
                        partition by run_date, article_id order by rowid) as n
                    from {relation} where article_id in {touched}
                ) where n > 1)
            """
        )
    else:
        if table in LIFETIME_TABLES:
            winner = "(select w.old_id from mig_story as w where w.new_id = x.new_id)"
            group = "x.new_id = y.new_id"
        else:
            winner = (
                "(select w.old_id from mig_night as w "
                "where w.run_date = x.run_date and w.new_id = x.new_id)"
            )
            group = "x.new_id = y.new_id and x.run_date = y.run_date"
        con.execute(
            f"""
            create or replace temp table mig_rows as
            select t.rowid as r, t.run_date, t.article_id as old_id,
                   coalesce(m.new_id, t.article_id) as new_id
            from {relation} as t left join mig_id as m on t.article_id = m.old_id
            where coalesce(m.new_id, t.article_id) in {touched}
            """
        )
        con.execute(
            f"""
            delete from {relation} where rowid in (
                select x.r from mig_rows as x
                where x.old_id <> coalesce(
                    {winner}, (select min(y.old_id) from mig_rows as y where {group})))
            """
        )
        changed += con.execute(
            f"update {relation} as t set article_id = m.new_id "
            "from mig_id as m where t.article_id = m.old_id"
        ).fetchall()[0][0]
    for ref, score in REF_COLUMNS.items():
        if ref not in columns:
            continue
        changed += con.execute(
            f"update {relation} as t set {ref} = m.new_id from mig_id as m where t.{ref} = m.old_id"
        ).fetchall()[0][0]
        clear = f"{ref} = null" + (f", {score} = null" if score in columns else "")
        changed += con.execute(
            f"update {relation} set {clear} where {ref} = article_id"
        ).fetchall()[0][0]
    after = con.execute(f"select count(*) from {relation}").fetchall()[0][0]
    return changed + before - after


# --- the landing zone ---


def _partition_files(landing_dir: Path, table: str) -> list[Path]:
    return sorted((landing_dir / table).glob(f"run_date=*/{table}.parquet"))


def _landing_tables(landing_dir: Path) -> list[str]:
    if not landing_dir.exists():
        return []
    return sorted(
        d.name
        for d in landing_dir.iterdir()
        if d.is_dir() and _partition_files(landing_dir, d.name)
        if "article_id" in pq.read_schema(_partition_files(landing_dir, d.name)[0]).names
    )


def _files_relation(files: Iterable[Path], columns: str) -> str:
    names = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return (
        f"(select {columns}, file_row_number as _ord "
        f"from read_parquet([{names}], file_row_number = true, union_by_name = true, "
        "hive_partitioning = false))"
    )


def _write_atomically(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f".{path.name}.migrating")
    pq.write_table(table, tmp, compression="zstd")
    durable.replace(tmp, path)


def migrate_landing(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> dict[str, int]:
    """Re-key the landing Parquet partitions; returns rows changed or dropped per table.
    Only the files that change are rewritten (tonight's, already current, is never touched
    while the entity stage may be reading it)."""
    articles = _partition_files(landing_dir, "articles")
    if not articles:
        return {}
    _url_map(con, _files_relation(articles, "article_id, canonical_url"))
    if not con.execute("select count(*) from mig_id").fetchall()[0][0]:
        return {}
    story = [_partition_files(landing_dir, table) for table in LIFETIME_TABLES]
    _winners(
        con,
        _files_relation(articles, "run_date, article_id"),
        [_files_relation(files, "run_date, article_id") for files in story if files],
    )
    counts: dict[str, int] = {}
    for table in _landing_tables(landing_dir):
        total = 0
        for path in _partition_files(landing_dir, table):
            schema = pq.read_schema(path)
            refs = [c for c in ("article_id", *REF_COLUMNS) if c in schema.names]
            # rows of an old id, or of a new id that may now have a twin to drop
            hit = " or ".join(f"{c} in (select old_id from mig_id)" for c in refs)
            hit += " or article_id in (select new_id from mig_id)"
            source = (
                "read_parquet('" + str(path).replace("'", "''") + "', hive_partitioning = false)"
            )
            if not con.execute(f"select count(*) from {source} where {hit}").fetchall()[0][0]:
                continue
            con.execute(f"create or replace temp table mig_part as select * from {source}")
            n = _apply(con, "mig_part", table)
            if n:
                data = con.sql("select * from mig_part order by rowid").to_arrow_table()
                _write_atomically(path, data.cast(schema))
                total += n
        counts[table] = total
    return counts


# --- the warehouse ---


def _warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select distinct table_name from information_schema.columns "
            "where table_schema = ? and column_name = 'article_id' order by table_name",
            [SCHEMA],
        ).fetchall()
    ]


def migrate_warehouse(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Re-key the warehouse's landing tables (in the caller's transaction)."""
    tables = _warehouse_tables(con)
    if "articles" not in tables:
        return {}
    _url_map(con, f"{SCHEMA}.articles")
    if not con.execute("select count(*) from mig_id").fetchall()[0][0]:
        return {}
    _winners(
        con,
        f"(select run_date, article_id, rowid as _ord from {SCHEMA}.articles)",
        [f"{SCHEMA}.{table}" for table in LIFETIME_TABLES if table in tables],
    )
    return {table: _apply(con, f"{SCHEMA}.{table}", table) for table in tables}


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The canonicalisation version the warehouse's ids were made with."""
    con.execute(f"create schema if not exists {SCHEMA}")
    # no primary key: DuckLake has none ("PRIMARY KEY/UNIQUE constraints are not supported");
    # upgrade keeps the key unique by deleting before it inserts
    con.execute(f"create table if not exists {META_TABLE} (key varchar, value varchar)")
    rows = con.execute(f"select value from {META_TABLE} where key = ?", [VERSION_KEY]).fetchall()
    return int(rows[0][0]) if rows else LEGACY_VERSION


def upgrade(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, *, force: bool = False
) -> dict[str, dict[str, int]] | None:
    """Migrate the landing zone and the warehouse to the current ids when the warehouse's
    version is older (or `force`); None when already current. Call inside a transaction:
    the warehouse tables and the version row change together."""
    if not force and stored_version(con) >= CANONICAL_VERSION:
        return None
    stored_version(con)  # creates the meta table when forced on a new warehouse
    result = {"landing": migrate_landing(con, landing_dir), "warehouse": migrate_warehouse(con)}
    con.execute(f"delete from {META_TABLE} where key = ?", [VERSION_KEY])
    con.execute(f"insert into {META_TABLE} values (?, ?)", [VERSION_KEY, str(CANONICAL_VERSION)])
    for name in ("mig_url", "mig_id", "mig_night", "mig_story", "mig_rows", "mig_part"):
        con.execute(f"drop table if exists {name}")
    return result
