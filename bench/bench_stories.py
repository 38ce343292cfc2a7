"""Story benchmark: wirehouse's story stage against a TF-IDF average-linkage baseline.

Quality. Reads the public development data at ``../shared/bench/stories`` (relative to the
repo root; see its README.md). Each set goes through the real nightly code path in a
temporary ``WIREHOUSE_HOME``: its lines are shuffled (seeded) into ``--nights`` batches,
night k's batch is written as ``nights/night-k.jsonl`` under a ``files`` source that globs
``nights/*.jsonl`` (earlier nights' lines come back as ``already_fetched``, as a growing dump
folder would), and for each of consecutive run dates the functions the DAG calls run in
order: ``list_sources``, ``discover``, ``collect``, ``land_run``, ``load_run``,
``stories_run``. Then ``dbt build`` builds the marts and ``story_id`` is read back from
``marts.fct_articles``, mapped to the line by its identity (the canonicalised ``url``).
Lines that never became an article (no text: ``extraction_empty``) are counted and scored
as stories of their own.

The baseline sees every line (title + text): lowercase word tokens minus English stopwords,
sublinear tf, smoothed idf, L2 norm, cosine distance, ``scipy`` average linkage, cut at a
distance threshold tuned on ``ecbplus_dev`` (grid, best B-cubed F1) and applied unchanged to
``newswcl50``. It compares all pairs; that is fine for a baseline on 500 articles, and is
exactly what the story stage must not do.

Metrics: B-cubed precision/recall/F1 averaged over articles, pairwise precision/recall/F1
over all article pairs (from the cluster contingency counts, pairs are never enumerated),
and predicted against gold story counts.

Scale. Synthetic articles (seeded: stories of several kinds that share vocabulary, each with
its own invented names, places and numbers) are written straight into the landing
``articles`` partition (fetching and extraction are not clustering), loaded, and only
``pipeline.stories_run`` is timed, in a child process so its peak RSS is its own: night A
clusters ``--scale`` articles at once, night B adds ``--night`` new ones (some joining
night A's stories, some new stories) against that history.

    python bench/bench_stories.py [--data DIR] [--nights 5] [--seed 7] [--scale 100000]
                                  [--night 5000] [--skip-quality] [--skip-scale]
                                  [--timeout SECONDS] [--profile] [--strict]

Exit status: 0 (it is a report; also when the data folder is absent), or 2 with ``--strict``
when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import pstats
import queue as queue_module
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench" / "stories"
DBT_PROJECT = REPO_ROOT / "dbt_project"
SETS = ("ecbplus_dev", "newswcl50")
TUNE_SET = "ecbplus_dev"
SOURCE_ID = "bench_dump"
FIRST_RUN_DATE = date(2026, 3, 2)

# the issue's targets
TARGET_B3_F1 = 0.95
TARGET_B3_P = 0.95
TARGET_SCALE_SECONDS = 300.0
TARGET_SCALE_MB = 4096.0
TARGET_NIGHT_SECONDS = 60.0
# the issue's own measurement of the baseline (threshold tuned on ecbplus_dev)
ISSUE_BASELINE_F1 = {"ecbplus_dev": 0.866, "newswcl50": 0.967}


# -- metrics -------------------------------------------------------------------------------


@dataclass
class Scores:
    b3_p: float
    b3_r: float
    b3_f1: float
    pair_p: float
    pair_r: float
    pair_f1: float
    predicted: int
    gold: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(predicted: Sequence[object], gold: Sequence[object]) -> Scores:
    """B-cubed and pairwise scores of one clustering, from its contingency counts.

    B-cubed: an article's precision is the share of its predicted story that shares its
    gold story, its recall the share of its gold story found in its predicted story; both
    are averaged over articles (sum over cells of n_ij^2 / |cluster|, over N). Pairwise:
    same-story pairs, counted as n(n-1)/2 per cell, cluster and gold story."""
    if len(predicted) != len(gold):
        raise ValueError("predicted and gold differ in length")
    n = len(gold)
    cells = Counter(zip(predicted, gold, strict=True))
    pred_sizes, gold_sizes = Counter(predicted), Counter(gold)
    b3_p = sum(c * c / pred_sizes[p] for (p, _), c in cells.items()) / n if n else 0.0
    b3_r = sum(c * c / gold_sizes[g] for (_, g), c in cells.items()) / n if n else 0.0
    tp = sum(_pairs(c) for c in cells.values())
    pred_pairs = sum(_pairs(c) for c in pred_sizes.values())
    gold_pairs = sum(_pairs(c) for c in gold_sizes.values())
    pair_p = tp / pred_pairs if pred_pairs else 1.0
    pair_r = tp / gold_pairs if gold_pairs else 1.0
    return Scores(
        b3_p,
        b3_r,
        _f1(b3_p, b3_r),
        pair_p,
        pair_r,
        _f1(pair_p, pair_r),
        len(pred_sizes),
        len(gold_sizes),
    )


# -- data ----------------------------------------------------------------------------------


def load_set(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def nightly_batches(lines: list[dict[str, Any]], nights: int, seed: int) -> list[list[dict]]:
    """The lines in `nights` near-equal batches after a seeded shuffle, so stories arrive
    spread over nights and the stage must join later articles to earlier stories."""
    order = list(lines)
    random.Random(seed).shuffle(order)
    return [order[k::nights] for k in range(nights)]


def run_dates(nights: int) -> list[str]:
    return [(FIRST_RUN_DATE + timedelta(days=k)).isoformat() for k in range(nights)]


# -- wirehouse through the pipeline --------------------------------------------------------


@dataclass
class PipelineRun:
    story_of: dict[str, str]  # line id -> story_id from marts.fct_articles
    missing: Counter[str]  # fetch outcome of each line that did not become an article
    seconds: float  # import + stories, all nights (dbt not included)
    dbt_seconds: float
    per_night: list[dict[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_sources(home: Path) -> Path:
    path = home / "sources.yml"
    path.write_text(
        "sources:\n"
        f"  - id: {SOURCE_ID}\n"
        "    name: Benchmark dump\n"
        "    home_url: https://corpus.invalid/\n"
        '    files: ["nights/*.jsonl"]\n',
        encoding="utf-8",
    )
    return path


def run_night(settings: Any, run_date: str) -> dict[str, int]:
    """One night, the DAG's task functions in the DAG's order and with its arguments."""
    from wirehouse import pipeline

    sources = pipeline.list_sources(settings)
    discovered = [pipeline.discover(s, run_date, settings) for s in sources]
    collected = [pipeline.collect(d, settings) for d in discovered]
    pipeline.land_run(run_date, sources, collected, settings)
    loaded = pipeline.load_run(run_date, settings)
    stories = pipeline.stories_run(run_date, settings)
    return {
        "candidates": sum(d["candidates"] for d in discovered),
        "articles": loaded["articles"],
        "assigned": stories["article_stories"],
    }


def run_dbt(home: Path, work: Path) -> list[str]:
    """`dbt build` against `home` in a child process (in-process dbt-duckdb keeps its
    connection open, so the warehouse could not be read afterwards); returns the nodes
    that did not succeed."""
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "WIREHOUSE_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    args = [
        str(dbt),
        "build",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--quiet",
    ]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    results_file = work / "target" / "run_results.json"
    if not results_file.exists():
        raise RuntimeError(f"dbt build failed ({proc.returncode}): {proc.stdout[-2000:]}")
    results = json.loads(results_file.read_text(encoding="utf-8"))["results"]
    return [
        f"{r['unique_id']}: {r['status']} {r.get('message') or ''}".strip()
        for r in results
        if r["status"] not in ("success", "pass")
    ]


def missing_outcomes(home: Path) -> dict[str, str]:
    """Fetch outcome of every identity that has a fetch row but no `ok` article."""
    import duckdb

    con = duckdb.connect(str(home / "wirehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select url, outcome from landing.fetches "
            "where outcome not in ('ok', 'already_fetched')"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def run_wirehouse(lines: list[dict[str, Any]], nights: int, seed: int) -> PipelineRun:
    """Import the set night by night through the pipeline, build the marts, read stories."""
    import duckdb

    from wirehouse.config import Settings
    from wirehouse.jsonl import record_identity

    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, sources_file=write_sources(home))
        night_dir = home / "nights"
        night_dir.mkdir()
        per_night, seconds = [], 0.0
        for k, (run_date, batch) in enumerate(
            zip(run_dates(nights), nightly_batches(lines, nights, seed), strict=True)
        ):
            path = night_dir / f"night-{k + 1}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")
            start = time.perf_counter()
            counts = run_night(settings, run_date)
            seconds += time.perf_counter() - start
            per_night.append({"lines": len(batch), **counts})
        start = time.perf_counter()
        failed = run_dbt(home, home / "dbt")
        dbt_seconds = time.perf_counter() - start
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            marts = con.execute(
                "select url, canonical_url, story_id from marts.fct_articles"
            ).fetchall()
        finally:
            con.close()
        outcomes = missing_outcomes(home)
    by_identity = {}
    for url, canonical, story in marts:
        by_identity[canonical] = story
        by_identity.setdefault(url, story)
    story_of, missing = {}, Counter()
    for line in lines:
        identity = record_identity(line, SOURCE_ID)
        if identity in by_identity:
            story_of[line["id"]] = by_identity[identity]
        else:
            missing[outcomes.get(identity, "not in marts")] += 1
    notes = [f"dbt: {item}" for item in failed]
    if len(marts) != len(story_of):
        notes.append(f"{len(marts)} mart rows for {len(story_of)} matched lines")
    return PipelineRun(story_of, missing, seconds, dbt_seconds, per_night, notes)


# -- baseline: TF-IDF + average linkage ----------------------------------------------------

_BASELINE_STOPWORDS_TEXT = """
    a about above after again against all almost also although always am among an and
    another any anyone anything are around as at be became because become been before
    being below between both but by can cannot could did do does doing done down during
    each either else enough even ever every few for from further get gets got had has have
    having he her here hers herself him himself his how however i if in into is it its
    itself just least less like made many may me might mine more most much must my myself
    neither never no nor not now of off often on once one only or other others otherwise
    our ours ourselves out over own per perhaps rather really said same say says seem
    seemed several shall she should since so some something still such than that the their
    theirs them themselves then there therefore these they this those though through thus
    to together too toward towards under until up upon us very via was we well were what
    whatever when whenever where whether which while who whoever whole whom whose why will
    with within without would yet you your yours yourself yourselves
"""
BASELINE_STOPWORDS = frozenset(_BASELINE_STOPWORDS_TEXT.split())
TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tfidf_matrix(texts: Sequence[str]) -> np.ndarray:
    """Dense L2-normalised TF-IDF rows: sublinear tf (1 + ln tf), smoothed idf
    (ln((1 + n) / (1 + df)) + 1), as scikit-learn's TfidfVectorizer(sublinear_tf=True)."""
    docs = [
        Counter(t for t in TOKEN_RE.findall(text.lower()) if t not in BASELINE_STOPWORDS)
        for text in texts
    ]
    vocab = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    matrix = np.zeros((len(docs), len(vocab)))
    for row, doc in enumerate(docs):
        for term, count in doc.items():
            matrix[row, vocab[term]] = 1.0 + math.log(count)
    df = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(docs)) / (1 + df)) + 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def baseline_linkage(lines: Sequence[dict[str, Any]]) -> np.ndarray:
    """Average-linkage tree over cosine distances (computed here, so an empty text is at
    distance 1 from everything instead of NaN; otherwise what metric='cosine' gives)."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    matrix = tfidf_matrix([f"{r.get('title') or ''}\n{r.get('text') or ''}" for r in lines])
    distance = np.clip(1.0 - matrix @ matrix.T, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    return linkage(squareform(distance, checks=False), method="average")


def baseline_cut(tree: np.ndarray, threshold: float) -> list[int]:
    from scipy.cluster.hierarchy import fcluster

    return [int(c) for c in fcluster(tree, t=threshold, criterion="distance")]


def tune_threshold(tree: np.ndarray, gold: Sequence[str]) -> float:
    """The distance cut with the best B-cubed F1 (ties: the lower cut)."""
    grid = [round(0.30 + 0.01 * i, 2) for i in range(70)]
    return max(grid, key=lambda t: (score(baseline_cut(tree, t), gold).b3_f1, -t))


# -- scale: synthetic stories --------------------------------------------------------------

_SYLLABLES_TEXT = (
    "ka ri to mel va sun dor bel ian os tra qui nel fa gor lin ve zar mo pek al "
    "ru sta bri chen dal e wen kov har pal is ur tem ny ga lo sar vin"
)
SYLLABLES = _SYLLABLES_TEXT.split()
STORY_KINDS = 40
SHARED_VOCAB = 4000
KIND_WORDS = 120
STORY_WORDS = 25
ARTICLES_PER_STORY = 5


def _pseudo_word(rng: random.Random, low: int = 2, high: int = 4) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(low, high)))


@dataclass
class StoryPlan:
    label: int
    kind: list[str]  # the kind's vocabulary (shared with every story of the kind)
    words: list[str]  # this event's own common words
    names: list[str]  # people
    places: list[str]
    numbers: list[str]
    day: datetime


class Synthetic:
    """A seeded generator of news articles grouped in stories.

    Every story has a kind (earthquake, trial...: a vocabulary shared by 1/40 of stories),
    event words drawn from a shared 4,000-word vocabulary, and invented names, places and
    numbers of its own; articles of one story are written independently from that
    material, so they are paraphrases, not copies. Stories of one kind overlap lexically,
    names are what tells them apart, as in real news."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        words = set()
        while len(words) < SHARED_VOCAB:
            words.add(_pseudo_word(self.rng, 2, 3))
        self.vocab = np.array(sorted(words), dtype=object)
        zipf = 1.0 / np.arange(1, SHARED_VOCAB + 1)
        self.vocab_p = zipf / zipf.sum()
        self.kinds = [
            [str(w) for w in self.rng.sample(list(self.vocab), KIND_WORDS)]
            for _ in range(STORY_KINDS)
        ]
        self.sources = [f"synth_{i:02d}" for i in range(12)]
        self.next_label = 0
        self.plans: list[StoryPlan] = []  # every story generated, for later nights

    def story(self, day: datetime) -> StoryPlan:
        rng = self.rng
        label, self.next_label = self.next_label, self.next_label + 1
        plan = StoryPlan(
            label=label,
            kind=self.kinds[rng.randrange(STORY_KINDS)],
            words=[str(w) for w in self.np_rng.choice(self.vocab, STORY_WORDS, p=self.vocab_p)],
            names=[
                f"{_pseudo_word(rng).title()} {_pseudo_word(rng, 2, 3).title()}" for _ in range(3)
            ],
            places=[_pseudo_word(rng).title() for _ in range(2)],
            numbers=[str(rng.randint(2, 9999)) for _ in range(3)],
            day=day,
        )
        self.plans.append(plan)
        return plan

    def _sentence(self, plan: StoryPlan) -> str:
        rng = self.rng
        n = rng.randint(12, 22)
        common = self.np_rng.choice(self.vocab, n, p=self.vocab_p)
        words = [str(w) for w in common]
        for _ in range(rng.randint(2, 4)):
            words[rng.randrange(n)] = rng.choice(plan.kind)
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(n)] = rng.choice(plan.words)
        if rng.random() < 0.6:
            words.insert(rng.randint(1, n), rng.choice(plan.names))
        if rng.random() < 0.35:
            words.insert(rng.randint(1, n), f"in {rng.choice(plan.places)}")
        if rng.random() < 0.25:
            words.insert(rng.randint(1, n), rng.choice(plan.numbers))
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def article(self, plan: StoryPlan, run_date: str, index: int) -> dict[str, Any]:
        """One article of `plan`, as a landing `articles` row (270-400 words)."""
        rng = self.rng
        sentences, words = [], 0
        target = rng.randint(270, 400)
        while words < target:
            sentence = self._sentence(plan)
            sentences.append(sentence)
            words += sentence.count(" ") + 1
        paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
        body = "\n\n".join(paragraphs)
        title = " ".join(
            [
                rng.choice(plan.names),
                rng.choice(plan.kind),
                rng.choice(plan.kind),
                f"in {rng.choice(plan.places)}",
            ]
        ).capitalize()
        url = f"https://synthetic.invalid/{run_date}/{plan.label}/{index}"
        published = plan.day + timedelta(minutes=rng.randint(0, 36 * 60))
        return {
            "article_id": hashlib.sha256(url.encode()).hexdigest()[:16],
            "run_date": run_date,
            "source_id": rng.choice(self.sources),
            "fetch_id": hashlib.sha256(f"fetch:{url}".encode()).hexdigest()[:16],
            "url": url,
            "canonical_url": url,
            "title": title,
            "body": body,
            "published_at": published,
            "language": "en",
            "word_count": len(body.split()),
            "content_hash": hashlib.sha256(" ".join(body.lower().split()).encode()).hexdigest()[
                :16
            ],
            "fetched_at": published + timedelta(hours=6),
            "too_short": False,
            "probably_not_article": False,
            "paywalled": False,
            "_label": plan.label,
        }


def synthetic_night_a(gen: Synthetic, count: int, run_date: str) -> list[dict[str, Any]]:
    """`count` articles in stories of ARTICLES_PER_STORY, published over the 3 days up to
    the run date."""
    night = datetime.fromisoformat(run_date).replace(tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        plan = gen.story(night - timedelta(days=gen.rng.randint(1, 3)))
        for i in range(min(ARTICLES_PER_STORY, count - len(rows))):
            rows.append(gen.article(plan, run_date, i))
    return rows


def synthetic_night_b(gen: Synthetic, count: int, run_date: str) -> list[dict[str, Any]]:
    """`count` new articles: half join night A's stories (later reports), half are new
    stories of ARTICLES_PER_STORY."""
    night = datetime.fromisoformat(run_date).replace(tzinfo=UTC)
    plans = list(gen.plans)  # night A's stories
    rows = []
    for j in range(count // 2):
        plan = gen.rng.choice(plans)
        rows.append(gen.article(plan, run_date, ARTICLES_PER_STORY + j))
    while len(rows) < count:
        plan = gen.story(night - timedelta(days=1))
        for i in range(min(ARTICLES_PER_STORY, count - len(rows))):
            rows.append(gen.article(plan, run_date, i))
    return rows


def land_synthetic(settings: Any, run_date: str, rows: list[dict[str, Any]]) -> None:
    from wirehouse import land, pipeline

    table = land.to_table("articles", rows)
    land.write_partition(settings.landing_dir, "articles", run_date, table)
    pipeline.load_run(run_date, settings)


def _stories_child(home: str, run_date: str, profile: bool, queue: Any) -> None:
    """Child process: time `pipeline.stories_run` alone and report its peak RSS."""
    from wirehouse import pipeline
    from wirehouse.config import Settings

    settings = Settings(home=Path(home), sources_file=Path(home) / "sources.yml")
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    counts = pipeline.stories_run(run_date, settings)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    text = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        out.write("\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        text = out.getvalue()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": seconds, "rss_mb": rss_mb, "counts": counts, "profile": text})


def _peak_rss_mb(pid: int) -> float:
    """A running process's peak RSS so far (VmHWM), 0 when unknown (not Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else 0.0


def timed_stories(home: Path, run_date: str, timeout: float, profile: bool) -> dict[str, Any]:
    """`stories_run` in a fresh process, so its peak RSS is its own. A night that runs past
    `timeout` is killed and reported with its peak RSS so far (``timed_out``); a crash is
    reported with its exit code (``failed``)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_stories_child, args=(str(home), run_date, profile, queue))
    start = time.perf_counter()
    proc.start()
    peak = 0.0
    while True:
        try:
            result = queue.get(timeout=2.0)
            break
        except queue_module.Empty:
            pass
        peak = max(peak, _peak_rss_mb(proc.pid))
        elapsed = time.perf_counter() - start
        if not proc.is_alive():
            return {"failed": proc.exitcode, "seconds": elapsed, "rss_mb": peak}
        if elapsed > timeout:
            proc.kill()
            proc.join()
            return {"timed_out": True, "seconds": elapsed, "rss_mb": peak}
    proc.join()
    return result


def synthetic_scores(home: Path, labels: dict[str, int]) -> Scores:
    """The stage's stories (merges followed) against the generator's labels."""
    import duckdb

    from wirehouse.story_night import resolve_merges

    con = duckdb.connect(str(home / "wirehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select article_id, story_id from landing.article_stories").fetchall()
        merges = resolve_merges(
            con.execute(
                "select merged_story_id, into_story_id from landing.story_merges "
                "order by run_date, merged_story_id"
            ).fetchall()
        )
    finally:
        con.close()
    story = {aid: merges.get(sid, sid) for aid, sid in rows}
    ids = sorted(labels)
    return score([story.get(a, a) for a in ids], [labels[a] for a in ids])


@dataclass
class ScaleResult:
    articles: int
    night: int
    generate_seconds: float
    a: dict[str, Any]
    b: dict[str, Any] | None  # None: night B not run
    quality: Scores | None


def _finished(night: dict[str, Any]) -> bool:
    return not night.get("timed_out") and night.get("failed") is None


def run_scale(count: int, night: int, seed: int, timeout: float, profile: bool) -> ScaleResult:
    from wirehouse.config import Settings

    date_a = (FIRST_RUN_DATE + timedelta(days=30)).isoformat()
    date_b = (FIRST_RUN_DATE + timedelta(days=31)).isoformat()
    with tempfile.TemporaryDirectory(prefix="bench-stories-scale-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, sources_file=home / "sources.yml")
        start = time.perf_counter()
        gen = Synthetic(seed)
        rows_a = synthetic_night_a(gen, count, date_a)
        labels = {r["article_id"]: r["_label"] for r in rows_a}
        land_synthetic(settings, date_a, rows_a)
        del rows_a
        generate_seconds = time.perf_counter() - start
        a = timed_stories(home, date_a, timeout, profile)
        b, quality = None, None
        if _finished(a) and night:
            rows_b = synthetic_night_b(gen, night, date_b)
            labels.update({r["article_id"]: r["_label"] for r in rows_b})
            land_synthetic(settings, date_b, rows_b)
            b = timed_stories(home, date_b, timeout, profile)
        if _finished(a) and (b is None or _finished(b)):
            quality = synthetic_scores(home, labels)
    return ScaleResult(count, night, generate_seconds, a, b, quality)


# -- reporting -----------------------------------------------------------------------------

HEADER = (
    f"{'set':<13} {'system':<10} {'B3-P':>6} {'B3-R':>6} {'B3-F1':>6} {'pair-P':>6} "
    f"{'pair-R':>6} {'pair-F1':>7} {'stories/gold':>12} {'secs':>6}"
)


def table_row(set_name: str, system: str, s: Scores, seconds: float | None) -> str:
    secs = "-" if seconds is None else f"{seconds:.1f}"
    return (
        f"{set_name:<13} {system:<10} {s.b3_p:>6.3f} {s.b3_r:>6.3f} {s.b3_f1:>6.3f} "
        f"{s.pair_p:>6.3f} {s.pair_r:>6.3f} {s.pair_f1:>7.3f} "
        f"{f'{s.predicted}/{s.gold}':>12} {secs:>6}"
    )


@dataclass
class SetResult:
    name: str
    lines: int
    baseline: Scores
    baseline_seconds: float
    wirehouse: Scores
    run: PipelineRun


def quality(data: Path, nights: int, seed: int) -> tuple[list[SetResult], float | None]:
    sets = {n: load_set(data / f"{n}.jsonl") for n in SETS if (data / f"{n}.jsonl").exists()}
    if not sets:
        print(f"no story sets in {data}: skipping quality")
        return [], None
    threshold = None
    trees = {}
    timings = {}
    for name, lines in sets.items():
        start = time.perf_counter()
        trees[name] = baseline_linkage(lines)
        timings[name] = time.perf_counter() - start
    if TUNE_SET in sets:
        threshold = tune_threshold(trees[TUNE_SET], [r["story"] for r in sets[TUNE_SET]])
    else:
        threshold = 0.7
        print(f"{TUNE_SET} missing: baseline threshold fixed at {threshold}")
    results = []
    for name, lines in sets.items():
        gold = [r["story"] for r in lines]
        base = score(baseline_cut(trees[name], threshold), gold)
        run = run_wirehouse(lines, nights, seed)
        # a line that never became an article is a story of its own
        predicted = [run.story_of.get(r["id"], f"unimported:{r['id']}") for r in lines]
        results.append(
            SetResult(name, len(lines), base, timings[name], score(predicted, gold), run)
        )
    return results, threshold


def print_quality(results: list[SetResult], threshold: float | None, nights: int) -> None:
    print(f"\n== story quality: {nights} nightly batches; baseline cut at distance {threshold} ==")
    print(HEADER)
    print("-" * len(HEADER))
    for r in results:
        print(table_row(r.name, "baseline", r.baseline, r.baseline_seconds))
        print(table_row("", "wirehouse", r.wirehouse, r.run.seconds))
    print(
        "  secs: baseline = TF-IDF + linkage; wirehouse = import + stories over all nights "
        "(dbt build not included)"
    )
    for r in results:
        missing = sum(r.run.missing.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(r.run.missing.items())) or "none"
        print(
            f"  {r.name}: {r.lines} lines, {len(r.run.story_of)} articles in marts, "
            f"{missing} not imported ({detail}; scored as singletons); dbt build "
            f"{r.run.dbt_seconds:.1f}s; issue's baseline B3-F1 {ISSUE_BASELINE_F1[r.name]}"
        )
        nights_text = "; ".join(
            f"{n['lines']} lines/{n['candidates']} candidates/{n['articles']} articles/"
            f"{n['assigned']} assigned"
            for n in r.run.per_night
        )
        print(f"    nights: {nights_text}")
        for note in r.run.notes:
            print(f"    note: {note}")


def _night_text(night: dict[str, Any]) -> str:
    if night.get("timed_out"):
        return f"TIMED OUT after {night['seconds']:.0f}s, peak RSS so far {night['rss_mb']:.0f} MB"
    if night.get("failed") is not None:
        return f"CRASHED (exit {night['failed']}) after {night['seconds']:.0f}s"
    return f"{night['seconds']:.1f}s, peak RSS {night['rss_mb']:.0f} MB"


def print_scale(result: ScaleResult) -> list[tuple[str, bool, str]]:
    print(f"\n== story scale: synthetic, {ARTICLES_PER_STORY} articles a story ==")
    print(f"  generated and loaded {result.articles:,} articles in {result.generate_seconds:.0f}s")
    full = result.articles >= 100_000  # a smaller run cannot pass the issue's targets
    a = result.a
    print(f"  night A: {result.articles:,} articles at once: {_night_text(a)}")
    ok_a = _finished(a) and a["seconds"] < TARGET_SCALE_SECONDS and a["rss_mb"] < TARGET_SCALE_MB
    label_a = f"cluster {result.articles:,} articles < 5 min and < 4 GB"
    checks = [(label_a, ok_a and full, "" if full else "target is at 100,000")]
    b = result.b
    if b is not None:
        print(f"  night B: {result.night:,} new against {result.articles:,}: {_night_text(b)}")
        label_b = f"a night of {result.night:,} against {result.articles:,} < 1 min"
        ok_b = _finished(b) and b["seconds"] < TARGET_NIGHT_SECONDS
        big = full and result.night >= 5000
        checks.append((label_b, ok_b and big, "" if big else "target is 5,000 against 100,000"))
    if result.quality:
        q = result.quality
        print(
            f"  synthetic sanity (all nights vs generator labels): B3 P/R/F1 "
            f"{q.b3_p:.3f}/{q.b3_r:.3f}/{q.b3_f1:.3f}, stories {q.predicted}/{q.gold}"
        )
    for label, night in (("night A", a), ("night B", b)):
        if night and night.get("profile"):
            print(f"\n-- cProfile of {label} --\n{night['profile']}")
    return checks


def quality_checks(results: list[SetResult]) -> list[tuple[str, bool, str]]:
    checks = []
    for r in results:
        w = r.wirehouse
        checks.append(
            (f"{r.name} B3-F1 >= {TARGET_B3_F1}", w.b3_f1 >= TARGET_B3_F1, f"{w.b3_f1:.3f}")
        )
        checks.append((f"{r.name} B3-P >= {TARGET_B3_P}", w.b3_p >= TARGET_B3_P, f"{w.b3_p:.3f}"))
    return checks


def describe_versions() -> str:
    try:
        import wirehouse.stories
        import wirehouse.textvec

        parts = [f"wirehouse from {Path(wirehouse.stories.__file__).parent}"]
        for module in (wirehouse.stories, wirehouse.textvec):
            digest = hashlib.sha1(Path(module.__file__).read_bytes()).hexdigest()[:10]
            parts.append(f"{Path(module.__file__).name} sha1 {digest}")
        return ", ".join(parts)
    except Exception as exc:
        return f"wirehouse import failed: {type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the stories data folder")
    ap.add_argument("--nights", type=int, default=5, help="nightly batches per set")
    ap.add_argument("--seed", type=int, default=7, help="shuffle and synthetic-data seed")
    ap.add_argument("--scale", type=int, default=100_000, help="synthetic night A articles")
    ap.add_argument("--night", type=int, default=5_000, help="synthetic night B articles")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per timed night")
    ap.add_argument("--profile", action="store_true", help="cProfile the timed nights")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = ap.parse_args(argv)

    logging.disable(logging.WARNING)  # htmldate/trafilatura chatter
    print(f"data {args.data}; {describe_versions()}")
    checks: list[tuple[str, bool, str]] = []
    if not args.skip_quality:
        if not args.data.is_dir():
            print(f"story benchmark data not found at {args.data}: skipping quality")
        else:
            results, threshold = quality(args.data, args.nights, args.seed)
            if results:
                print_quality(results, threshold, args.nights)
                checks.extend(quality_checks(results))
    if not args.skip_scale:
        result = run_scale(args.scale, args.night, args.seed, args.timeout, args.profile)
        checks.extend(print_scale(result))

    if checks:
        print("\n== targets (wirehouse) ==")
        for label, ok, detail in checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {label}" + (f"  ({detail})" if detail else ""))
    failed = sum(not ok for _, ok, _ in checks)
    if args.strict and failed:
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
