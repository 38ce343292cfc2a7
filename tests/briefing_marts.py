"""A small published warehouse for the briefing's tests: the marts tables created from the
columns and types `dbt_project/models/marts/_marts__models.yml` declares (the contract dbt
enforces), so the fixture has the real shape and follows the marts when they change.

The night (NIGHT) has three stories with new articles, among them a copy and a rewrite, places
with and without coordinates, and sources whose fetches failed, were skipped or went well;
earlier nights add a story that grew tonight, one inside the 14-night window and one before it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
MARTS_YML = ROOT / "dbt_project" / "models" / "marts" / "_marts__models.yml"
NIGHT = date(2026, 11, 22)


def mart_columns() -> dict[str, list[tuple[str, str]]]:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return {m["name"]: [(c["name"], c["data_type"]) for c in m["columns"]] for m in models}


def create_marts(path: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """A DuckDB file with every mart (empty unless `rows` has some), like the published copy."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        for name, columns in mart_columns().items():
            cols = ", ".join(f'"{c}" {t}' for c, t in columns)
            con.execute(f"create table marts.{name} ({cols})")
            for row in rows.get(name, []):
                unknown = set(row) - {c for c, _ in columns}
                assert not unknown, (name, unknown)
                names = list(row)
                con.execute(
                    f"insert into marts.{name} ({', '.join(names)}) "
                    f"values ({', '.join('?' for _ in names)})",
                    [row[n] for n in names],
                )
    finally:
        con.close()
    return path


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


SOURCES = {
    "wire": "Harbor Wire",
    "daily": "Daily Lantern",
    "echo": "Echo Times",
    "flaky": "Flaky Post",
}


class Night:
    """Builds matching fct_articles and fct_fetches rows: an article's first_seen_at is the
    fetched_at of the ok fetch row that collected it, on its night."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            "dim_sources": [
                {
                    "source_id": s,
                    "name": n,
                    "domain": f"{s}.example",
                    "article_count": 0,
                    "original_article_count": 0,
                    "derivative_article_count": 0,
                    "fetch_count": 0,
                }
                for s, n in SOURCES.items()
            ]
        }
        self.tick = 0

    def add(self, mart: str, **row: Any) -> dict[str, Any]:
        self.rows.setdefault(mart, []).append(row)
        return row

    def fetch(self, night: date, source: str, outcome: str, url: str, kind: str = "article"):
        self.tick += 1
        at = datetime(night.year, night.month, night.day, 5, 0, tzinfo=UTC) + timedelta(
            seconds=self.tick
        )
        return self.add(
            "fct_fetches",
            fetch_id=_h(night, source, kind, url, self.tick),
            url=url,
            url_kind=kind,
            source_id=source,
            run_date=night,
            outcome=outcome,
            fetched_at=at,
            attempts=1,
        )

    def article(self, aid: str, story: str, source: str, night: date, title: str, **kw: Any):
        url = f"https://{source}.example/{aid}"
        at = self.fetch(night, source, "ok", url)["fetched_at"]
        return self.add(
            "fct_articles",
            article_id=aid,
            source_id=source,
            story_id=story,
            is_story_origin=kw.pop("origin", False),
            url=url,
            canonical_url=url,
            title=title,
            published_at=at - timedelta(hours=2),
            language=kw.pop("language", "en"),
            first_seen_at=at,
            last_seen_at=at,
            ner_status="ok",
            **kw,
        )

    def story(self, sid: str, headline: str, origin: str, origin_source: str, articles: list[dict]):
        self.add(
            "dim_stories",
            story_id=sid,
            headline=headline,
            article_count=len(articles),
            source_count=len({a["source_id"] for a in articles}),
            origin_article_id=origin,
            origin_source_id=origin_source,
            languages=sorted({a["language"] for a in articles}),
            first_published_at=min(a["published_at"] for a in articles),
        )

    def entity(self, eid: str, name: str, kind: str, **kw: Any) -> str:
        self.add(
            "dim_entities",
            entity_id=eid,
            name=name,
            entity_type=kind,
            article_count=1,
            story_count=1,
            source_count=1,
            **kw,
        )
        return eid

    def mention(self, aid: str, eid: str, story: str, salience: float = 0.1) -> None:
        self.add(
            "fct_entity_mentions",
            entity_mention_id=f"{aid}:{eid}",
            article_id=aid,
            entity_id=eid,
            mention_count=1,
        )
        key = f"{story}:{eid}"
        if key not in {r["story_entity_id"] for r in self.rows.get("bridge_story_entities", [])}:
            self.add(
                "bridge_story_entities",
                story_entity_id=key,
                story_id=story,
                entity_id=eid,
                article_count=1,
                mention_count=1,
                salience=salience,
            )


def night_rows() -> dict[str, list[dict[str, Any]]]:
    """The fixture's marts rows (see the module docstring)."""
    n = Night()
    d = NIGHT
    # story A: founded by Harbor Wire two nights ago; tonight a follow-up, a verbatim copy by
    # Daily Lantern and a rewrite by Echo Times
    a0 = n.article(
        "a0", "st_a", "wire", d - timedelta(days=2), "Drone base opens in Niger", origin=True
    )
    a1 = n.article("a1", "st_a", "wire", d, "Drone base: troops arrive")
    a2 = n.article(
        "a2",
        "st_a",
        "daily",
        d,
        "Drone base: troops arrive",
        duplicate_of_article_id="a1",
        duplicate_score=0.97,
    )
    a3 = n.article(
        "a3",
        "st_a",
        "echo",
        d,
        "Troops reach the new drone base",
        derived_from_article_id="a1",
        derivation_score=0.6,
    )
    n.story("st_a", "Drone base opens in Niger", "a0", "wire", [a0, a1, a2, a3])
    # story B: two outlets report independently tonight; a headline that must be escaped
    b1 = n.article(
        "b1", "st_b", "echo", d, "Paris <script>alert(1)</script> talks", origin=True, language="fr"
    )
    b2 = n.article("b2", "st_b", "wire", d, "Talks open in Paris")
    n.story("st_b", "Paris <script>alert(1)</script> talks", "b1", "echo", [b1, b2])
    # story C: one article tonight
    c1 = n.article("c1", "st_c", "daily", d, "Harbour fees rise", origin=True)
    n.story("st_c", "Harbour fees rise", "c1", "daily", [c1])
    # story D: five nights ago, in the window; story E: twenty nights ago, outside it
    d1 = n.article("d1", "st_d", "wire", d - timedelta(days=5), "Old news", origin=True)
    n.story("st_d", "Old news", "d1", "wire", [d1])
    e1 = n.article("e1", "st_e", "echo", d - timedelta(days=20), "Older news", origin=True)
    n.story("st_e", "Older news", "e1", "echo", [e1])

    niamey = n.entity(
        "en_niamey",
        "Niamey",
        "PLACE",
        country_code="NE",
        latitude=13.51,
        longitude=2.11,
        geonameid=2440485,
    )
    niger = n.entity("en_niger", "Niger", "PLACE", country_code="NE", geonameid=2440476)
    paris = n.entity(
        "en_paris",
        "Paris",
        "PLACE",
        country_code="FR",
        latitude=48.85,
        longitude=2.35,
        geonameid=2988507,
    )
    person = n.entity("en_ann", "Ann Lee", "PERSON")
    for aid in ("a1", "a2", "a3"):
        n.mention(aid, niamey, "st_a", 0.4)
        n.mention(aid, niger, "st_a", 0.35)
        n.mention(aid, person, "st_a", 0.25)
    n.mention("a0", niamey, "st_a", 0.4)  # an earlier night's article: not on tonight's map
    n.mention("b1", paris, "st_b", 1.0)
    n.mention("b2", paris, "st_b", 1.0)

    # the rest of tonight's fetches: feeds, a failure of each kind and a failed source
    n.fetch(d, "wire", "ok", "https://wire.example/feed.xml", "feed")
    n.fetch(d, "daily", "http_error", "https://daily.example/gone")
    n.fetch(d, "echo", "timeout", "https://echo.example/slow")
    n.fetch(d, "echo", "duplicate_url", "https://echo.example/b1?utm=x")
    n.fetch(d, "echo", "extraction_empty", "https://echo.example/empty")
    n.fetch(d, "flaky", "source_failed", "https://flaky.example/", "source")
    return n.rows


def fixture_warehouse(path: Path) -> Path:
    return create_marts(path, night_rows())
