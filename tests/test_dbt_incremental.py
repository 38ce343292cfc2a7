"""Nightly incremental builds of the marts give the same rows as a full refresh.

Real dbt on a real DuckDB file: seven nights are loaded one at a time (each replacing its
run date's rows, as `wirehouse.load` does) and `dbt build` runs after each, so the
incremental marts grow night by night. The nights include what incremental models get
wrong: a story merge that re-assigns articles landed long before the lookback window, an
article moved to another story, a late article published days before it was landed (it
becomes the origin of an old story), a re-analysis that drops an entity, an abbreviation
whose resolution a new article changes, and a night re-run with fewer fetches. Then the
warehouse is copied, the copy rebuilt with `--full-refresh`, and every mart compared row
for row.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_cli import run_dbt

from wirehouse.land import SCHEMAS
from wirehouse.load import ensure_schema

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
INCREMENTAL = {
    "fct_fetches",
    "fct_articles",
    "fct_entity_mentions",
    "dim_stories",
    "bridge_story_entities",
    "int_entity_mentions_resolved",
}
N = [str(date(2026, 5, 1) + timedelta(days=i)) for i in range(8)]  # N[1]..N[7] are nights


_dbt = run_dbt


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"dbt failed:\n{result.stdout}\n{result.stderr}"


def _id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _url(name: str) -> str:
    return f"https://{name[0]}.example/{name}"


class Night:
    """One run date's landing rows, by table, written the way the loader writes them."""

    def __init__(self, run_date: str) -> None:
        self.run_date = run_date
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in SCHEMAS}
        for source in "abcd":
            self.rows["sources"].append(
                {
                    "run_date": run_date,
                    "source_id": source,
                    "name": f"Outlet {source}",
                    "home_url": f"https://{source}.example/",
                    "domain": f"{source}.example",
                }
            )

    def fetch(self, source: str, url: str, outcome: str = "ok", attempts: int = 1) -> str:
        fetch_id = hashlib.sha256(f"{self.run_date}|{source}|{url}".encode()).hexdigest()[:16]
        self.rows["fetches"].append(
            {
                "fetch_id": fetch_id,
                "run_date": self.run_date,
                "source_id": source,
                "url": url,
                "url_kind": "article",
                "outcome": outcome,
                "http_status": 200 if outcome == "ok" else None,
                "attempts": attempts,
                "fetched_at": f"{self.run_date} 23:30:00+00",
            }
        )
        return fetch_id

    def article(
        self, name: str, story: str, published: str, *, title: str | None = None, **links: Any
    ) -> None:
        """Land article `name` (its source is the name's first letter) and assign it."""
        source, url = name[0], _url(name)
        self.rows["articles"].append(
            {
                "article_id": _id(url),
                "run_date": self.run_date,
                "source_id": source,
                "fetch_id": self.fetch(source, url),
                "url": url,
                "canonical_url": url,
                "title": title or f"{name} headline",
                "published_at": f"{published} 08:00:00+00",
                "language": "en",
                "word_count": 300,
                "body": f"body of {name}",
                "content_hash": _id(f"body {name}"),
                "fetched_at": f"{self.run_date} 23:30:00+00",
                "extraction_path": "wirehouse",
            }
        )
        self.assign(name, story, **links)

    def assign(self, name: str, story: str, derived_from: str | None = None) -> None:
        self.rows["article_stories"].append(
            {
                "run_date": self.run_date,
                "article_id": _id(_url(name)),
                "story_id": story,
                "derived_from_article_id": _id(_url(derived_from)) if derived_from else None,
                "derivation_score": 0.9 if derived_from else None,
                "story_similarity": 0.5,
            }
        )

    def merge(self, merged: str, into: str) -> None:
        self.rows["story_merges"].append(
            {
                "run_date": self.run_date,
                "merged_story_id": merged,
                "into_story_id": into,
                "similarity": 0.3,
            }
        )

    def entities(self, name: str, *mentions: tuple[str, str, list[str]]) -> None:
        """The entity stage's rows for article `name`: (entity name, type, spellings)."""
        article_id = _id(_url(name))
        self.rows["article_entities"].append(
            {
                "run_date": self.run_date,
                "article_id": article_id,
                "ner_status": "ok",
                "entity_count": len(mentions),
                "mention_count": len(mentions),
            }
        )
        for offset, (entity, kind, forms) in enumerate(mentions):
            key = "name:" + entity.lower()
            self.rows["entity_mentions"].append(
                {
                    "run_date": self.run_date,
                    "article_id": article_id,
                    "entity_id": "en_" + hashlib.sha256(key.encode()).hexdigest()[:16],
                    "entity_key": key,
                    "name": entity,
                    "entity_type": kind,
                    "mention_count": len(forms),
                    "first_char_offset": offset * 10,
                    "surface_forms": forms,
                    "in_title": False,
                    "in_dateline": False,
                }
            )

    def load(self, db: Path) -> None:
        with duckdb.connect(str(db)) as con:
            con.execute("set TimeZone = 'UTC'")
            ensure_schema(con)
            con.execute("begin transaction")
            for table, rows in self.rows.items():
                con.execute(f"delete from landing.{table} where run_date = ?", [self.run_date])
                for row in rows:
                    cols = ", ".join(row)
                    marks = ", ".join("?" * len(row))
                    con.execute(
                        f"insert into landing.{table} ({cols}) values ({marks})", list(row.values())
                    )
            con.execute("commit")


def _nights() -> list[Night]:
    """Seven nights; the comments say what each one does to the marts."""
    nights = [Night(d) for d in N[1:]]
    n1, n2, n3, n4, n5, n6, n7 = nights
    # N1: two stories; b1 rewrites a1; b1 ties the abbreviation "OD" to Orlen Dynamics
    n1.article("a1", "st_1", N[1])
    n1.article("b1", "st_1", N[1], derived_from="a1")
    n1.article("c1", "st_2", N[1])
    n1.entities(
        "a1", ("Orlen Dynamics", "ORG", ["Orlen Dynamics"]), ("Kessling", "PERSON", ["Kessling"])
    )
    n1.entities(
        "b1",
        ("Orlen Dynamics", "ORG", ["Orlen Dynamics", "OD"]),
        ("Garba Saidou", "PERSON", ["Garba Saidou"]),
    )
    n1.entities("c1", ("Niger", "PLACE", ["Niger"]))
    # d1 names the bare "OD": Orlen Dynamics while b1's is the only tie; nothing else
    # ever changes d1 or its story, so only the abbreviation scope can re-resolve it
    n1.article("d1", "st_5", N[1])
    n1.entities("d1", ("OD", "ORG", ["OD"]))
    # st_6: d6's bare "Palmer" is c6's "Xavi Palmer"; d6 also names the bare "PX"
    n1.article("c6", "st_6", N[1])
    n1.entities("c6", ("Xavi Palmer", "PERSON", ["Xavi Palmer"]))
    n1.article("d6", "st_6", N[1])
    n1.entities("d6", ("Palmer", "PERSON", ["Palmer"]), ("PX", "ORG", ["PX"]))
    # N2: a new story naming the full name "Insa Garba Saidou"; a failed fetch
    n2.article("a2", "st_3", N[2])
    n2.entities("a2", ("Insa Garba Saidou", "PERSON", ["Insa Garba Saidou"]))
    n2.fetch("c", "https://c.example/gone", outcome="http_error")
    # N3: a1 re-landed with a new title and re-analysed without Kessling
    n3.article("a1", "st_1", N[1], title="a1 corrected")
    n3.entities("a1", ("Orlen Dynamics", "ORG", ["Orlen Dynamics"]))
    n3.article("c3", "st_4", N[3])
    n3.entities(
        "c3", ("Ostrava Dynamics", "ORG", ["Ostrava Dynamics", "OD"])
    )  # "OD" is now ambiguous
    # N4: nothing but fetches that failed
    n4.fetch("a", "https://a.example/down", outcome="timeout")
    # N5: a late article, published on N1's day, joins st_1 and becomes its origin
    n5.article("b5", "st_1", N[0])
    n5.entities("b5", ("Orlen Dynamics", "ORG", ["Orlen Dynamics"]))
    # N6: st_2 (landed N1, far outside the window) merges into st_3; a2 moves to st_4
    n6.article("a6", "st_3", N[6])
    n6.entities("a6", ("Garba Saidou", "PERSON", ["Garba Saidou"]))
    n6.merge("st_2", "st_3")
    n6.assign("a2", "st_4")
    n6.fetch("b", "https://b.example/extra")
    # a8 ties "PX" to Palmer Exports: d6 (N1, its story untouched) is re-resolved, and its
    # "Palmer" must still resolve against c6, which no night in the window changed
    n6.article("a8", "st_7", N[6])
    n6.entities("a8", ("Palmer Exports", "ORG", ["Palmer Exports", "PX"]))
    # N7: st_3 merges on into st_4 (a chain), one more article
    n7.article("b7", "st_4", N[7])
    n7.merge("st_3", "st_4")
    n7.fetch("a", "https://a.example/once")
    return nights


def _rerun_n7(n7: Night) -> Night:
    """N7 re-run: one article fewer (b7 was not fetched again) and a different fetch set."""
    again = Night(n7.run_date)
    again.merge("st_3", "st_4")
    again.fetch("b", "https://b.example/b7", outcome="timeout")
    return again


def _mart_rows(con: duckdb.DuckDBPyConnection, db: str, mart: str) -> list[tuple[Any, ...]]:
    """Every row of a table (`schema.name`), in an order fixed by all its columns."""
    columns = [r[0] for r in con.execute(f"describe {db}.{mart}").fetchall()]
    order = ", ".join(str(i + 1) for i in range(len(columns)))
    return con.execute(f"select * from {db}.{mart} order by {order}").fetchall()


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse after seven nights built incrementally, N7 built twice (re-run)."""
    home = tmp_path_factory.mktemp("incremental")
    db = home / "wirehouse.duckdb"
    nights = _nights()
    for night in nights:
        night.load(db)
        _ok(_dbt(home, "run"))  # the models only: the data tests run once, below
    _rerun_n7(nights[-1]).load(db)
    _ok(_dbt(home, "build"))
    return home


def test_nightly_builds_were_incremental(nightly: Path) -> None:
    # the last build rebuilt a scope, not the table: its compiled SQL reads the scope CTEs
    run = nightly / "dbt_target" / "compiled" / "wirehouse" / "models" / "marts"
    assert "scope_story_articles" in (run / "fct_articles.sql").read_text()
    assert "scope_mention_stories" in (run / "bridge_story_entities.sql").read_text()
    manifest = json.loads((nightly / "dbt_target" / "manifest.json").read_text())
    materialized = {
        node["name"]: node["config"]["materialized"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] in INCREMENTAL
    }
    assert materialized == dict.fromkeys(INCREMENTAL, "incremental")


def test_full_refresh_gives_the_same_rows(nightly: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(nightly / "wirehouse.duckdb", fresh / "wirehouse.duckdb")
    _ok(_dbt(fresh, "build", "--full-refresh"))
    _all_marts_equal(nightly / "wirehouse.duckdb", fresh / "wirehouse.duckdb")


def test_the_nights_reached_old_rows(nightly: Path) -> None:
    """The cases the comparison covers really happened (so equal means something)."""
    with duckdb.connect(str(nightly / "wirehouse.duckdb"), read_only=True) as con:
        stories = dict(
            con.execute("select article_id, story_id from marts.fct_articles").fetchall()
        )
        # c1 (landed N1) followed st_2 -> st_3 -> st_4; a2 moved to st_4; b7 is gone
        assert stories[_id(_url("c1"))] == "st_4"
        assert stories[_id(_url("a2"))] == "st_4"
        assert _id(_url("b7")) not in stories
        # merged-away stories have no row; the late b5 is st_1's origin, c1 (N1) st_4's
        assert con.execute(
            "select story_id, origin_article_id, article_count from marts.dim_stories "
            "where story_id in ('st_1', 'st_2', 'st_3', 'st_4', 'st_5') order by 1"
        ).fetchall() == [
            ("st_1", _id(_url("b5")), 3),
            ("st_4", _id(_url("c1")), 4),
            ("st_5", _id(_url("d1")), 1),
        ]
        # N7's re-run replaced its fetches: b7's ok fetch is now a timeout, the other gone
        outcomes = con.execute(
            "select url, outcome from marts.fct_fetches where run_date = ? order by 1", [N[7]]
        ).fetchall()
        assert outcomes == [("https://b.example/b7", "timeout")]
        names = dict(con.execute("select entity_id, name from marts.dim_entities").fetchall())

        def mentioned(article: str) -> list[str]:
            rows = con.execute(
                "select entity_id from marts.fct_entity_mentions where article_id = ? order by 1",
                [_id(_url(article))],
            ).fetchall()
            return sorted(names[r[0]] for r in rows)

        assert mentioned("a1") == ["Orlen Dynamics"]  # the re-analysis dropped Kessling
        assert mentioned("d1") == ["OD"]  # two entities tie "OD" since N3: left alone
        assert mentioned("a6") == ["Insa Garba Saidou"]  # resolved in st_4 after the merges
        # re-resolved by a8's tie (N6), with the partial name resolved in its whole story
        assert mentioned("d6") == ["Palmer Exports", "Xavi Palmer"]


def test_marts_built_before_their_watermark_columns_upgrade_in_place(
    nightly: Path, tmp_path: Path
) -> None:
    """A warehouse whose marts were tables without the watermark columns (before the marts
    were incremental) rebuilds them whole on its next night, and gets the same rows."""
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(nightly / "wirehouse.duckdb", old / "wirehouse.duckdb")
    watermarks = {
        "fct_articles": "last_run_date",
        "fct_entity_mentions": "run_date",
        "dim_stories": "last_run_date",
        "bridge_story_entities": "last_run_date",
    }
    with duckdb.connect(str(old / "wirehouse.duckdb")) as con:
        for mart, column in watermarks.items():
            con.execute(f"alter table marts.{mart} drop column {column}")
            con.execute(f"delete from marts.{mart} where rowid % 2 = 0")  # and stale rows
    _ok(_dbt(old, "run"))
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{nightly / 'wirehouse.duckdb'}' as nightly (read_only)")
        con.execute(f"attach '{old / 'wirehouse.duckdb'}' as upgraded (read_only)")
        for mart in watermarks:
            assert _mart_rows(con, "nightly", f"marts.{mart}") == _mart_rows(
                con, "upgraded", f"marts.{mart}"
            ), mart


def _all_marts_equal(left: Path, right: Path) -> None:
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        # the marts, and the intermediate tables (the incremental entity resolution)
        tables = [
            (schema, name)
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = 'r' and table_type = 'BASE TABLE' "
                "and table_schema in ('marts', 'intermediate') order by 1, 2"
            ).fetchall()
        ]
        assert {name for _, name in tables} >= INCREMENTAL
        for schema, name in tables:
            mart = f"{schema}.{name}"
            assert _mart_rows(con, "l", mart) == _mart_rows(con, "r", mart), mart


def test_a_backfilled_night_older_than_the_window_reaches_the_marts(
    nightly: Path, tmp_path: Path
) -> None:
    """A backfill of a night long before the newest one: built with the night's `run_date`
    (as the DAG passes it), the marts equal a full refresh; the window alone would miss it."""
    old_night = Night(str(date.fromisoformat(N[0]) - timedelta(days=20)))
    old_night.article("a0", "st_0", old_night.run_date)
    old_night.article("c0", "st_1", old_night.run_date)  # an early article of a later story
    old_night.fetch("d", "https://d.example/old-gone", outcome="http_error")
    results = {}
    for how, extra in (("window only", False), ("with run_date", True)):
        home = tmp_path / how.replace(" ", "_")
        home.mkdir()
        shutil.copy(nightly / "wirehouse.duckdb", home / "wirehouse.duckdb")
        old_night.load(home / "wirehouse.duckdb")
        args = ["--vars", json.dumps({"run_date": old_night.run_date})] if extra else []
        _ok(_dbt(home, "run", *args))
        fresh = tmp_path / f"{how.replace(' ', '_')}_fresh"
        fresh.mkdir()
        shutil.copy(home / "wirehouse.duckdb", fresh / "wirehouse.duckdb")
        _ok(_dbt(fresh, "run", "--full-refresh"))
        try:
            _all_marts_equal(home / "wirehouse.duckdb", fresh / "wirehouse.duckdb")
            results[how] = "equal"
        except AssertionError as exc:
            results[how] = f"differs: {exc}"
    assert results["with run_date"] == "equal", results
    # the case this guards: the newest-night window alone does not reach the old night
    assert results["window only"].startswith("differs"), results
