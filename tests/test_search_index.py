"""The kept search index: updated night by night, it scores exactly as a fresh fts index."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from wirehouse.extensions import NO_DOWNLOAD_CONFIG, load_extension
from wirehouse.publish import search_index

WORDS = [
    "harbour",
    "strike",
    "dockworkers",
    "union",
    "pay",
    "talks",
    "minister",
    "port",
    "cranes",
    "ship",
    "cargo",
    "drone",
    "base",
    "niger",
    "agadez",
    "troops",
    "withdrawal",
    "junta",
    "election",
    "ballots",
    "counting",
    "flood",
    "river",
    "rescue",
    "villagers",
    "storm",
    "rainfall",
    "bridge",
    "court",
    "ruling",
    "appeal",
    "judge",
    "Zürich",
    "café",
    "naïve",
    "résumé",
    "the",
    "of",
    "and",
    "it's",
    "don't",
    "2024",
    "e-mail",
    "x-ray",
    "U.S.",
]
QUERIES = (
    "harbour strike",
    "dockworkers pay talks",
    "drone base niger",
    "the of and",  # stop words only: no document matches
    "Zurich cafe",  # accents folded
    "rescued villager floods",  # stemmed
    "e-mail x-ray",
    "zebra crossing",  # only in edited texts
    "unknownword",
)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _warehouse(path: Path, rows: list[tuple[str, str | None, str | None]]) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_articles "
            "(article_id varchar primary key, title varchar, body varchar, story_id varchar)"
        )
        con.executemany(
            "insert into marts.fct_articles values (?, ?, ?, 's')", [list(r) for r in rows]
        )
    finally:
        con.close()


def _update(warehouse: Path, index_file: Path, target: Path) -> dict[str, int]:
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse), config=dict(NO_DOWNLOAD_CONFIG))
    try:
        load_extension(con, "fts")
        con.execute(f"attach '{target}' as published")
        return search_index.update_and_copy(con, warehouse.stem, index_file, "published")
    finally:
        con.close()


def _scores(con: duckdb.DuckDBPyConnection, articles: str) -> dict[str, dict[str, float]]:
    out = {}
    for q in QUERIES:
        rows = con.execute(
            f"select article_id, fts_marts_fct_articles.match_bm25(article_id, ?) as s "
            f"from {articles} where s is not null",
            [q],
        ).fetchall()
        out[q] = {a: round(s, 9) for a, s in rows}
    return out


def _index_content(con: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    """The index with its internal ids replaced by what they stand for."""
    fts = "fts_marts_fct_articles"
    return (
        sorted(con.execute(f"select term, df from {fts}.dict").fetchall()),
        sorted(con.execute(f"select name, len from {fts}.docs").fetchall()),
        con.execute(f"select num_docs, round(avgdl, 9) from {fts}.stats").fetchall(),
        sorted(
            con.execute(
                f"select d.name, f.field, t.term, count(*) from {fts}.terms "
                f"join {fts}.docs d using (docid) join {fts}.dict t using (termid) "
                f"join {fts}.fields f using (fieldid) group by all"
            ).fetchall()
        ),
    )


def _fresh_fts(warehouse: Path) -> tuple[dict[str, dict[str, float]], tuple[object, ...]]:
    """Scores and content of the extension's own index over the same rows."""
    con = duckdb.connect(str(warehouse), config=dict(NO_DOWNLOAD_CONFIG))
    try:
        load_extension(con, "fts")
        con.execute(
            "pragma create_fts_index('marts.fct_articles', 'article_id', 'title', 'body', "
            f"{search_index.OPTIONS}, overwrite = 1)"
        )
        return _scores(con, "marts.fct_articles"), _index_content(con)
    finally:
        con.close()


def _kept(target: Path, warehouse: Path) -> tuple[dict[str, dict[str, float]], tuple[object, ...]]:
    con = duckdb.connect(str(target), config=dict(NO_DOWNLOAD_CONFIG))
    try:
        load_extension(con, "fts")
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert search_index.STATE_SCHEMA not in schemas  # bookkeeping stays out of the copy
        return _scores(con, "wh.marts.fct_articles"), _index_content(con)
    finally:
        con.close()


def _rows(rng: random.Random, first: int, count: int) -> list[tuple[str, str | None, str | None]]:
    return [
        (f"a{i:04d}", _text(rng, 6), _text(rng, rng.randint(0, 80)))
        for i in range(first, first + count)
    ]


def test_nights_of_changes_score_as_a_fresh_index(tmp_path: Path) -> None:
    rng = random.Random(3)
    warehouse, index_file = tmp_path / "wh.duckdb", tmp_path / "published/.search/index.duckdb"
    target = tmp_path / "copy.duckdb"
    night_1 = _rows(rng, 0, 60)
    _warehouse(warehouse, night_1)
    assert _update(warehouse, index_file, target) == {"removed": 0, "added": 60, "rebuilt": 1}
    assert _kept(target, warehouse) == _fresh_fts(warehouse)

    # night 2: new articles, edited texts, removed articles, a title gone, an empty article
    night_2 = (
        [
            (a, None if i % 11 == 0 else t, (b or "") + " zebra crossing" if i % 7 == 0 else b)
            for i, (a, t, b) in enumerate(night_1)
            if i % 13 != 5
        ]
        + _rows(rng, 60, 25)
        + [("a9999", None, None)]
    )
    _warehouse(warehouse, night_2)
    counts = _update(warehouse, index_file, target)
    edited = sum(1 for i in range(60) if i % 13 != 5 and (i % 11 == 0 or i % 7 == 0))
    assert counts == {"removed": 5 + edited, "added": 26 + edited, "rebuilt": 0}
    kept = _kept(target, warehouse)
    assert kept == _fresh_fts(warehouse)
    assert kept[0]["zebra crossing"] and not kept[0]["the of and"]

    # a night with nothing new changes nothing
    assert _update(warehouse, index_file, target) == {"removed": 0, "added": 0, "rebuilt": 0}
    assert _kept(target, warehouse) == kept


@pytest.mark.parametrize("damage", ["garbage", "other_settings"])
def test_a_damaged_or_stale_index_file_is_rebuilt(tmp_path: Path, damage: str) -> None:
    rng = random.Random(5)
    warehouse, index_file = tmp_path / "wh.duckdb", tmp_path / "idx" / "index.duckdb"
    target = tmp_path / "copy.duckdb"
    _warehouse(warehouse, _rows(rng, 0, 30))
    _update(warehouse, index_file, target)
    if damage == "garbage":
        index_file.write_bytes(b"not a duckdb file" * 100)
    else:  # built by another DuckDB or with other settings
        con = duckdb.connect(str(index_file))
        con.execute(f"update {search_index.STATE_SCHEMA}.meta set settings_key = 'older'")
        con.close()
    assert _update(warehouse, index_file, target) == {"removed": 0, "added": 30, "rebuilt": 1}
    assert _kept(target, warehouse) == _fresh_fts(warehouse)
