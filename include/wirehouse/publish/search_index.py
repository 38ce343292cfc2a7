"""The BM25 search index, kept from night to night so that a night indexes only what changed.

DuckDB's fts extension builds its index (`PRAGMA create_fts_index`) from the whole table and
has no incremental update. Rebuilt in every night's published copy, it cost 45.8 s of a
publish at 105,000 articles (`make bench-night`, issue 16), growing with the history, while a
night adds about 5,000 articles. So publish keeps the index in a file of its own,
`published/.search/index.duckdb`, in exactly the layout create_fts_index writes (schema
`fts_marts_fct_articles`: `docs`, `terms`, `dict`, `stats`, `fields`, `stopwords`, and its
`tokenize` and `match_bm25` macros), applies only the articles added, edited or removed since
the last publish, and copies the schema into the new published copy, where the extension's own
`match_bm25` scores it.

Faithful to the extension by construction:

- The schema, stop words, field ids and both macros are made by `create_fts_index` itself,
  over an empty table of the same name, so tokeniser and scoring are the extension's.
- Articles are indexed the way the extension's indexing script indexes rows (tokenise each
  field with its `tokenize` macro, drop empty tokens and stop words, Porter-`stem`; `docs.len`
  is the number of indexed terms, `dict.df` the number of documents holding the term, `stats`
  the document count and mean length). Removing a document undoes exactly what adding it did.
- A test builds an index night by night (additions, edited and removed articles) and checks
  every score against a fresh `create_fts_index` over the same rows.

An index file that is missing, cannot be opened, or was built by another DuckDB or with other
settings is rebuilt from nothing: that night costs what every night cost before.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

ARTICLES = "marts.fct_articles"
FTS_SCHEMA = "fts_marts_fct_articles"  # what create_fts_index names the index of ARTICLES
STATE_SCHEMA = "search_state"  # our bookkeeping; dropped from the published copy
INDEX_FILE = Path(".search") / "index.duckdb"  # under the published folder
ALIAS = "search_index"  # the index file's name while attached to the warehouse connection
FIELDS = ("title", "body")
# create_fts_index's settings; the index is rebuilt whole when these (or DuckDB) change
OPTIONS = "stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1"
STEMMER = "porter"


def settings_key() -> str:
    """What the index file's contents depend on besides the articles: DuckDB's version (its fts
    tokeniser, stop list and scoring) and the index settings. Stored in the file."""
    text = f"duckdb {duckdb.__version__}|{ARTICLES}|{','.join(FIELDS)}|{OPTIONS}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _create_empty(con: duckdb.DuckDBPyConnection) -> None:
    """Make the extension write its schema, stop words, fields and macros over an empty table
    named like the marts' (so the schema and every name in the macros are the ones readers
    use), then drop that table: the index's rows are ours to add."""
    con.execute("CREATE SCHEMA marts")
    columns = ", ".join(f"{f} VARCHAR" for f in FIELDS)
    con.execute(f"CREATE TABLE {ARTICLES} (article_id VARCHAR, {columns})")
    fields = ", ".join(f"'{f}'" for f in FIELDS)
    con.execute(f"PRAGMA create_fts_index('{ARTICLES}', 'article_id', {fields}, {OPTIONS})")
    con.execute(f"DROP TABLE {ARTICLES}")
    con.execute("DROP SCHEMA marts")
    con.execute(f"CREATE SCHEMA {STATE_SCHEMA}")
    # one row per indexed article: the hash of the text indexed, and its document id
    con.execute(
        f"CREATE TABLE {STATE_SCHEMA}.indexed "
        "(article_id VARCHAR PRIMARY KEY, text_hash VARCHAR, docid BIGINT)"
    )
    con.execute(f"CREATE TABLE {STATE_SCHEMA}.meta (settings_key VARCHAR)")
    con.execute(f"INSERT INTO {STATE_SCHEMA}.meta VALUES (?)", [settings_key()])


def _usable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the attached index file was built by this DuckDB with these settings."""
    try:
        row = con.execute(f"SELECT settings_key FROM {ALIAS}.{STATE_SCHEMA}.meta").fetchone()
    except duckdb.Error:
        return False
    return bool(row) and row[0] == settings_key()


def _attach(con: duckdb.DuckDBPyConnection, index_file: Path) -> bool:
    """Attach the index file as ALIAS, replacing it with a new empty index when it is missing,
    unreadable or stale; returns whether it was (re)created."""
    index_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH {_quote(index_file)} AS {ALIAS}")
    except duckdb.Error:  # not a DuckDB file, or a damaged one
        index_file.unlink(missing_ok=True)
        index_file.with_name(index_file.name + ".wal").unlink(missing_ok=True)
        con.execute(f"ATTACH {_quote(index_file)} AS {ALIAS}")
    if _usable(con):
        return False
    con.execute(f"DETACH {ALIAS}")
    index_file.unlink(missing_ok=True)
    index_file.with_name(index_file.name + ".wal").unlink(missing_ok=True)
    con.execute(f"ATTACH {_quote(index_file)} AS {ALIAS}")
    home = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"USE {ALIAS}")
    try:
        _create_empty(con)
    finally:
        con.execute(f'USE "{home}"')
    return True


def _text_hash(alias: str) -> str:
    parts = " || chr(31) || ".join(f"coalesce({alias}.{f}, '')" for f in FIELDS)
    return f"md5({parts})"


def _apply_changes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    """Bring the attached index in line with `source`'s fct_articles: remove the documents of
    articles gone or edited, add those of articles new or edited. One transaction: a publish
    killed half-way leaves the index as the last one that finished."""
    fts, state = f"{ALIAS}.{FTS_SCHEMA}", f"{ALIAS}.{STATE_SCHEMA}"
    con.execute("BEGIN")
    try:
        con.execute(
            "CREATE TEMP TABLE current_texts AS SELECT a.article_id, "
            f'{_text_hash("a")} AS text_hash FROM "{source}".{ARTICLES} AS a'
        )
        con.execute(
            f"CREATE TEMP TABLE gone AS SELECT i.docid FROM {state}.indexed AS i "
            "LEFT JOIN current_texts AS c USING (article_id) "
            "WHERE c.text_hash IS DISTINCT FROM i.text_hash"
        )
        con.execute(
            "CREATE TEMP TABLE fresh AS SELECT c.article_id, c.text_hash, "
            f"(SELECT coalesce(max(docid), -1) FROM {fts}.docs) "
            "+ row_number() OVER (ORDER BY c.article_id) AS docid "
            f"FROM current_texts AS c LEFT JOIN {state}.indexed AS i USING (article_id) "
            "WHERE i.text_hash IS DISTINCT FROM c.text_hash"
        )
        removed = _remove_documents(con, fts, state)
        added = _add_documents(con, fts, state, source)
        con.execute(f"DELETE FROM {fts}.dict WHERE df = 0")  # the extension keeps no such term
        con.execute(f"DELETE FROM {fts}.stats")
        con.execute(
            f"INSERT INTO {fts}.stats SELECT count(docid), sum(len) / count(len) FROM {fts}.docs"
        )
        for table in ("current_texts", "gone", "fresh", "fresh_terms"):
            con.execute(f"DROP TABLE IF EXISTS temp.{table}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"removed": removed, "added": added}


def _remove_documents(con: duckdb.DuckDBPyConnection, fts: str, state: str) -> int:
    """Undo the documents in temp `gone`: their terms' document frequencies, postings, rows."""
    removed = con.execute("SELECT count(*) FROM gone").fetchone()[0]
    if not removed:
        return 0
    con.execute(
        f"UPDATE {fts}.dict AS d SET df = d.df - g.n FROM ("
        f"SELECT t.termid, count(DISTINCT t.docid) AS n FROM {fts}.terms AS t "
        "SEMI JOIN gone USING (docid) GROUP BY t.termid) AS g WHERE d.termid = g.termid"
    )
    for table in (f"{fts}.terms", f"{fts}.docs", f"{state}.indexed"):
        con.execute(f"DELETE FROM {table} WHERE docid IN (SELECT docid FROM gone)")
    return removed


def _add_documents(con: duckdb.DuckDBPyConnection, fts: str, state: str, source: str) -> int:
    """Index the articles in temp `fresh` as the extension's indexing script indexes rows."""
    added = con.execute("SELECT count(*) FROM fresh").fetchone()[0]
    if not added:
        return 0
    tokenized = " UNION ALL ".join(
        f"SELECT unnest({fts}.tokenize(a.{field})) AS w, f.docid, "
        f"(SELECT fieldid FROM {fts}.fields WHERE field = '{field}') AS fieldid "
        f'FROM fresh AS f JOIN "{source}".{ARTICLES} AS a USING (article_id)'
        for field in FIELDS
    )
    con.execute(
        f"CREATE TEMP TABLE fresh_terms AS WITH tokenized AS ({tokenized}) "
        f"SELECT stem(t.w, '{STEMMER}') AS term, t.docid, t.fieldid FROM tokenized AS t "
        "WHERE t.w IS NOT NULL AND len(t.w) > 0 "
        f"AND t.w NOT IN (SELECT sw FROM {fts}.stopwords)"
    )
    con.execute(
        f"INSERT INTO {fts}.dict SELECT "
        f"(SELECT coalesce(max(termid), -1) FROM {fts}.dict) + row_number() OVER (ORDER BY term), "
        "term, 0 FROM (SELECT DISTINCT term FROM fresh_terms) AS n "
        f"ANTI JOIN {fts}.dict AS d USING (term)"
    )
    con.execute(
        f"INSERT INTO {fts}.terms SELECT t.docid, t.fieldid, d.termid "
        f"FROM fresh_terms AS t JOIN {fts}.dict AS d USING (term)"
    )
    con.execute(
        f"UPDATE {fts}.dict AS d SET df = d.df + n.n FROM ("
        "SELECT term, count(DISTINCT docid) AS n FROM fresh_terms GROUP BY term) AS n "
        "WHERE d.term = n.term"
    )
    con.execute(
        f"INSERT INTO {fts}.docs SELECT f.docid, f.article_id, count(t.term) "
        "FROM fresh AS f LEFT JOIN fresh_terms AS t USING (docid) GROUP BY f.docid, f.article_id"
    )
    con.execute(f"INSERT INTO {state}.indexed SELECT article_id, text_hash, docid FROM fresh")
    return added


def update_and_copy(
    con: duckdb.DuckDBPyConnection, source: str, index_file: Path, target: str
) -> dict[str, int]:
    """Bring the index file up to date with `source`'s articles and copy its fts schema into
    the attached database `target` (the published copy being written). `con` has fts loaded.
    Returns how many articles were removed and added, and whether the file was rebuilt."""
    rebuilt = _attach(con, index_file)
    try:
        counts = _apply_changes(con, source)
        con.execute(f"CHECKPOINT {ALIAS}")
        con.execute(f"COPY FROM DATABASE {ALIAS} TO {target}")
        con.execute(f"DROP SCHEMA {target}.{STATE_SCHEMA} CASCADE")
    finally:
        con.execute(f"DETACH {ALIAS}")
    return {**counts, "rebuilt": int(rebuilt)}
