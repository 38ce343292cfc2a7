"""Story benchmark: wirehouse's story stage against a TF-IDF average-linkage baseline,
with settings fitted leave-one-set-out.

Quality. Reads the public development data at ``shared/bench/stories`` (the nearest
ancestor of the repository that has it; see its README.md): five sets, ``ecbplus_dev``,
``newswcl50``, ``basil_dev``, ``multinews_dev`` and ``meter_dev``, plus the row
``ecbplus_dev (no dates)`` (every ``published_at`` removed). Each outlet (``source``) is
its own source; ``meter_dev`` is dated as a feed would bring it (wire copy on the story's
day, newspapers the next morning).

- In process (:mod:`story_fast`): every :data:`GRID` configuration, and each with every
  rule of :data:`ABLATIONS` switched off, is scored on every set by one call of
  ``stories.assign_night``; the baseline's tree is cut at every grid distance.
- Leave one set out: for each set in turn, the configuration and the baseline cut with the
  best mean B-cubed F1 over the OTHER sets are chosen; the held-out set is then run through
  the real nightly pipeline with that configuration (:mod:`story_pipeline`: 5 nightly
  batches, ``discover`` ... ``stories_run``, then ``dbt build``, stories read from
  ``marts.fct_articles``) and the baseline cut at that distance. The no-dates row takes
  its fold's choices (fitted without ``ecbplus_dev``).
- Ablations: the same selection with a rule switched off in every configuration; a rule
  is kept when it raises the held-out score of at least 3 sets and lowers none.
- Origin and derivation, from the same pipeline runs: on ``meter_dev`` the share of stories
  holding wire copy whose origin is the wire, and of their newspaper texts marked derived
  from a wire text; on ``basil_dev`` and ``newswcl50`` the share of articles marked derived.

The baseline sees every line (title + text): lowercase word tokens minus English
stopwords, sublinear tf, smoothed idf, L2 norm, cosine distance, ``scipy`` average linkage.
It compares all pairs; that is fine for a baseline on 1,000 articles, and is exactly what
the story stage must not do.

Metrics: B-cubed precision/recall/F1 averaged over articles, pairwise precision/recall/F1
over all article pairs (from the cluster contingency counts, pairs are never enumerated),
and predicted against gold story counts.

Scale. Synthetic articles (seeded: stories of several kinds that share vocabulary, each with
its own invented names, places and numbers) are written straight into the landing
``articles`` partition (fetching and extraction are not clustering), loaded, and only
``pipeline.stories_run`` is timed, in a child process so its peak RSS is its own: night A
clusters ``--scale`` articles at once, night B adds ``--night`` new ones (some joining
night A's stories, some new stories) against that history.

    python bench/bench_stories.py [--data DIR] [--sets NAME ...] [--nights 5] [--seed 7]
                                  [--scale 100000] [--night 5000] [--skip-quality]
                                  [--skip-scale] [--in-process-only] [--timeout SECONDS]
                                  [--profile] [--strict]

Exit status: 0 (it is a report; also when the data folder is absent), or 2 with ``--strict``
when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import hashlib
import io
import logging
import math
import multiprocessing
import pstats
import queue as queue_module
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import story_fast
import story_loso
from story_pipeline import FIRST_RUN_DATE, PipelineRun, derived_share, origin, run_wirehouse
from story_sets import METER, SETS, BenchSet, build_sets, default_data

from wirehouse.stories import StoryConfig

DEFAULT_DATA = default_data()

# Story-stage settings searched leave-one-set-out: the merge bar over 0.14-0.26 by 0.02 and,
# apart from it, the attach bar over 0.06-0.12 (the bar a lone article must reach on
# average to join a group). Searching the attach bar apart, rather than at half or 0.7 of
# the merge bar, let every fold choose the same merge bar (0.16) and raised newswcl50's
# held-out fold from 0.947 to 1.000, lowering none (2026-11-29, in process; through the
# five-night pipeline that fold is 0.947 again since issue 14's normalisation, see
# bench/README.md, 2026-11-30). The largest
# group that may attach is fixed at one: letting groups of up to three attach (the earlier
# setting) as a GRID option changed no held-out set but basil_dev, which it lowered from
# 0.990 to 0.945, so that option was removed as issue 15 asks. The first of equal means
# wins, so the shipped settings are listed first.
SHIPPED = StoryConfig()
GRID: list[StoryConfig] = [SHIPPED] + [
    config
    for t in (0.14, 0.16, 0.18, 0.20, 0.22, 0.24, 0.26)
    for a in (0.06, 0.07, 0.08, 0.09, 0.1, 0.12)
    if (config := dataclasses.replace(SHIPPED, threshold=t, attach_threshold=a)) != SHIPPED
]

# Each rule of the story stage that the ablation lines measure: name -> the config with
# that rule switched off (see StoryConfig's docstring for what switches each off).
ABLATIONS: dict[str, Callable[[StoryConfig], StoryConfig]] = {
    "no_small_attach": lambda c: dataclasses.replace(c, small_story=0),
    "no_event_window": lambda c: dataclasses.replace(c, window_days=10**5),
}

# the baseline's distance cuts (cosine distance, average linkage)
BASELINE_CUTS = [round(0.30 + 0.01 * i, 2) for i in range(70)]

# the targets
TARGET_B3_F1 = 0.95
TARGET_MARGIN = 0.03  # over the baseline, on the same held-out set
TARGET_WIRE_ORIGIN = 0.95
TARGET_WIRE_DERIVED = 0.60
TARGET_MAX_DERIVED = 0.05
DERIVED_TARGET_SETS = ("basil_dev", "newswcl50")
TARGET_SCALE_SECONDS = 300.0
TARGET_SCALE_MB = 4096.0
TARGET_NIGHT_SECONDS = 60.0
# the data README's baseline (cut 0.2 similarity, tuned on ecbplus_dev), for reference
README_BASELINE_F1 = {
    "ecbplus_dev": 0.866,
    "newswcl50": 0.967,
    "basil_dev": 0.954,
    "multinews_dev": 0.889,
    "meter_dev": 0.902,
}


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


def cut_scores(tree: np.ndarray, gold: Sequence[str]) -> dict[float, Scores]:
    """The baseline's scores at every cut of :data:`BASELINE_CUTS`."""
    return {t: score(baseline_cut(tree, t), gold) for t in BASELINE_CUTS}


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


# -- quality: in process, leave one set out, pipeline -------------------------------------


def in_process_scores(
    sets: Sequence[BenchSet], configs: Sequence[StoryConfig]
) -> dict[str, dict[StoryConfig, Scores]]:
    """Every set clustered in process under every distinct configuration."""
    table: dict[str, dict[StoryConfig, Scores]] = {}
    for bench in sets:
        prepared = story_fast.prepare(bench.lines, bench.source_of)
        gold = bench.gold
        table[bench.name] = {}
        for config in dict.fromkeys(configs):
            table[bench.name][config] = score(story_fast.cluster(prepared, config), gold)
    return table


def f1_table(table: dict[str, dict[Any, Scores]]) -> dict[str, dict[Any, float]]:
    return {name: {k: s.b3_f1 for k, s in row.items()} for name, row in table.items()}


@dataclass
class Row:
    """One set's leave-one-set-out result."""

    bench: BenchSet
    config: StoryConfig  # chosen on the other sets (shipped when there are none)
    cut: float  # the baseline's cut, chosen likewise
    baseline: Scores
    baseline_seconds: float
    fast: Scores  # in process, with `config`
    pipeline: Scores | None = None  # the real pipeline with `config`; None: not run
    run: PipelineRun | None = None

    @property
    def wirehouse(self) -> Scores:
        return self.pipeline if self.pipeline is not None else self.fast


@dataclass
class Ablation:
    name: str
    on: dict[str, float]  # held-out in-process B3-F1 with the rule (the LOSO choice)
    off: dict[str, float]  # ... with the rule off in every configuration, chosen likewise
    verdict: story_loso.Verdict


@dataclass
class Quality:
    folds: list[str]  # the sets present, each a leave-one-set-out fold
    rows: list[Row]  # pipeline rows (each set, the no-dates row)
    extra: list[Row]  # in-process-only rows (meter_dev undated)
    grid: dict[str, dict[StoryConfig, Scores]]  # in-process scores of GRID
    shipped: dict[str, Scores]  # in process, shipped settings (in-sample)
    in_sample_cut: dict[str, tuple[float, Scores]]  # baseline tuned on the set itself
    ablations: list[Ablation]
    fallback: bool  # only one set: nothing to fit on, shipped settings used


def quality(data: Path, names: list[str], nights: int, seed: int, pipeline: bool) -> Quality | None:
    rows_sets, extra_sets = build_sets(data, names)
    if not rows_sets:
        print(f"no story sets in {data}: skipping quality")
        return None
    every = rows_sets + extra_sets
    folds = [b.name for b in rows_sets if b.name == b.fold]

    start = time.perf_counter()
    off_grids = {rule: [off(c) for c in GRID] for rule, off in ABLATIONS.items()}
    configs = [*GRID, SHIPPED, *(c for grid in off_grids.values() for c in grid)]
    table = in_process_scores(every, configs)
    f1 = f1_table(table)
    print(
        f"in process: {len(dict.fromkeys(configs))} configurations x {len(every)} sets "
        f"in {time.perf_counter() - start:.0f}s"
    )

    trees, tree_seconds, cuts = {}, {}, {}
    for bench in every:
        if bench.fold not in trees:  # the variants of a set share its texts
            t0 = time.perf_counter()
            trees[bench.fold] = baseline_linkage(bench.lines)
            tree_seconds[bench.fold] = time.perf_counter() - t0
        cuts[bench.name] = cut_scores(trees[bench.fold], bench.gold)
    cut_f1 = f1_table(cuts)

    def chosen(fold: str, grid: Sequence[StoryConfig]) -> StoryConfig:
        return story_loso.choose(f1, fold, grid, folds) or grid[0]

    fallback = len(folds) < 2
    results: dict[str, Row] = {}
    for bench in every:
        config = SHIPPED if fallback else chosen(bench.fold, GRID)
        cut = story_loso.choose(cut_f1, bench.fold, BASELINE_CUTS, folds)
        if cut is None:  # nothing to fit on: the cut tuned on the set itself
            cut = story_loso.choose(cut_f1, "", BASELINE_CUTS, [bench.name])
        results[bench.name] = Row(
            bench,
            config,
            cut,
            cuts[bench.name][cut],
            tree_seconds[bench.fold],
            table[bench.name][config],
        )

    ablations = []
    for rule, grid in off_grids.items():
        on = {b.name: results[b.name].fast.b3_f1 for b in every}
        off = {b.name: f1[b.name][grid[0] if fallback else chosen(b.fold, grid)] for b in every}
        ablations.append(Ablation(rule, on, off, story_loso.verdict(on, off, folds)))

    if pipeline:
        for bench in rows_sets:
            row = results[bench.name]
            print(f"pipeline: {bench.name} ({len(bench.lines)} lines) ...", flush=True)
            row.run = run_wirehouse(bench, nights, seed, row.config)
            # a line that never became an article is a story of its own
            predicted = [
                row.run.story_of.get(r["id"], f"unimported:{r['id']}") for r in bench.lines
            ]
            row.pipeline = score(predicted, bench.gold)

    return Quality(
        folds,
        [results[b.name] for b in rows_sets],
        [results[b.name] for b in extra_sets],
        {b.name: {c: table[b.name][c] for c in GRID} for b in every},
        {b.name: table[b.name][SHIPPED] for b in every},
        {
            b.name: (t := story_loso.choose(cut_f1, "", BASELINE_CUTS, [b.name]), cuts[b.name][t])
            for b in every
        },
        ablations,
        fallback,
    )


# -- reporting -----------------------------------------------------------------------------

NAME_WIDTH = 22
HEADER = (
    f"{'set':<{NAME_WIDTH}} {'system':<10} {'B3-P':>6} {'B3-R':>6} {'B3-F1':>6} {'pair-P':>6} "
    f"{'pair-R':>6} {'pair-F1':>7} {'stories/gold':>12} {'secs':>6}"
)


def table_row(set_name: str, system: str, s: Scores, seconds: float | None) -> str:
    secs = "-" if seconds is None else f"{seconds:.1f}"
    return (
        f"{set_name:<{NAME_WIDTH}} {system:<10} {s.b3_p:>6.3f} {s.b3_r:>6.3f} {s.b3_f1:>6.3f} "
        f"{s.pair_p:>6.3f} {s.pair_r:>6.3f} {s.pair_f1:>7.3f} "
        f"{f'{s.predicted}/{s.gold}':>12} {secs:>6}"
    )


def column(name: str) -> str:
    """A row's name short enough for a column: ``ecbplus (no dates)`` -> ``ecbplus-nodates``."""
    return (
        name.replace("_dev", "")
        .replace(" (no dates)", "-nodates")
        .replace(" (", "-")[:15]
        .strip(")")
    )


def short(config: StoryConfig) -> str:
    return story_loso.describe(config, SHIPPED)


def passes(row: Row) -> tuple[bool, bool]:
    """(B3-F1 >= 0.95, B3-F1 >= baseline + 0.03) for a held-out row."""
    w = row.wirehouse.b3_f1
    return w >= TARGET_B3_F1, w >= row.baseline.b3_f1 + TARGET_MARGIN


def print_grid(q: Quality) -> None:
    names = list(q.grid)
    print("\n== in process, every configuration of GRID (in-sample B3-F1; one night) ==")
    print(f"{'config':<24} " + " ".join(f"{column(n):>15}" for n in names) + "   mean(folds)")
    for config in GRID:
        cells = " ".join(f"{q.grid[n][config].b3_f1:>15.3f}" for n in names)
        mean = sum(q.grid[n][config].b3_f1 for n in q.folds) / len(q.folds)
        print(f"{short(config):<24} {cells}   {mean:.3f}")
    cells = " ".join(f"{q.in_sample_cut[n][1].b3_f1:>15.3f}" for n in names)
    print(f"{'baseline, own best cut':<24} {cells}")
    print(f"{'  (cut)':<24} " + " ".join(f"{q.in_sample_cut[n][0]:>15.2f}" for n in names))


def print_shipped(q: Quality) -> None:
    print("\n== in-sample: shipped settings, in process (one night, every line at once) ==")
    for name, s in q.shipped.items():
        print(
            f"  {name:<{NAME_WIDTH}} B3 P/R/F1 {s.b3_p:.3f}/{s.b3_r:.3f}/{s.b3_f1:.3f}  "
            f"stories {s.predicted}/{s.gold}"
        )


def print_loso(q: Quality, nights: int) -> None:
    where = f"real pipeline, {nights} nights" if q.rows[0].pipeline else "IN PROCESS ONLY"
    print(
        f"\n== leave one set out: settings and cut chosen on the other sets (best mean "
        f"B3-F1), held-out set reported; wirehouse = {where} =="
    )
    if q.fallback:
        print("  only one set: nothing to fit on; shipped settings, baseline cut in-sample")
    head = (
        f"{'set':<{NAME_WIDTH}} {'chosen config':<24} {'cut':>5} {'base-F1':>7} "
        f"{'B3-P':>6} {'B3-R':>6} {'B3-F1':>6} {'margin':>7}  targets (>=0.95, >=base+0.03)"
    )
    print(head)
    print("-" * len(head))
    for row in [*q.rows, *q.extra]:
        w = row.wirehouse
        f1_ok, margin_ok = passes(row)
        if row in q.extra or row.pipeline is None:
            verdict = "in process" + ("" if row in q.rows else ", not a target")
            targets = f"{'PASS' if f1_ok else 'FAIL'}/{'PASS' if margin_ok else 'FAIL'} ({verdict})"
        else:
            targets = f"{'PASS' if f1_ok else 'FAIL'}/{'PASS' if margin_ok else 'FAIL'}"
        print(
            f"{row.bench.name:<{NAME_WIDTH}} {short(row.config):<24} {row.cut:>5.2f} "
            f"{row.baseline.b3_f1:>7.3f} {w.b3_p:>6.3f} {w.b3_r:>6.3f} {w.b3_f1:>6.3f} "
            f"{w.b3_f1 - row.baseline.b3_f1:>+7.3f}  {targets}"
        )
    if q.rows[0].pipeline is not None:
        fast = ", ".join(f"{r.bench.name} {r.fast.b3_f1:.3f}" for r in q.rows)
        print(f"  same settings in process (one night): {fast}")

    print("\n-- full metrics of the held-out runs --")
    print(HEADER)
    print("-" * len(HEADER))
    for row in q.rows:
        print(table_row(row.bench.name, f"base {row.cut:.2f}", row.baseline, row.baseline_seconds))
        system = "wirehouse" if row.pipeline else "in-proc"
        print(table_row("", system, row.wirehouse, row.run.seconds if row.run else None))
    print(
        "  secs: baseline = TF-IDF + linkage; wirehouse = import + stories over all nights "
        "(dbt build not included)"
    )
    for row in q.rows:
        run = row.run
        if run is None:
            continue
        missing = sum(run.missing.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(run.missing.items())) or "none"
        sources = len(set(row.bench.source_of.values()))
        readme = README_BASELINE_F1.get(row.bench.name)
        print(
            f"  {row.bench.name}: {len(row.bench.lines)} lines from {sources} source(s), "
            f"{len(run.articles)} articles in marts, {missing} not imported ({detail}; "
            f"scored as singletons); dbt build {run.dbt_seconds:.1f}s"
            + (f"; data README's baseline B3-F1 {readme}" if readme else "")
        )
        nights_text = "; ".join(
            f"{n['lines']}/{n['candidates']}/{n['articles']}/{n['assigned']}" for n in run.per_night
        )
        print(f"    nights (lines/candidates/articles/assigned): {nights_text}")
        for note in run.notes:
            print(f"    note: {note}")


def print_ablations(q: Quality) -> None:
    names = [*(r.bench.name for r in q.rows), *(r.bench.name for r in q.extra)]
    print(
        "\n== ablations (in process, leave one set out: each rule switched off in every "
        "configuration, then chosen and held out as above); held-out B3-F1 on/off =="
    )
    print(f"{'rule':<20} " + " ".join(f"{column(n):>15}" for n in names) + "  verdict (folds)")
    for a in q.ablations:
        cells = " ".join(f"{f'{a.on[n]:.3f}/{a.off[n]:.3f}':>15}" for n in names)
        detail = f"better on {len(a.verdict.improved)}, worse on {len(a.verdict.hurt)}"
        print(f"{a.name:<20} {cells}  {a.verdict.text} ({detail})")
    print(
        f"  keep = the rule raises the held-out B3-F1 of >= {story_loso.KEEP_MIN_IMPROVED} "
        f"of the {len(q.folds)} sets and lowers none; the no-dates and undated rows are shown, "
        "not counted"
    )


def print_origin(q: Quality) -> list[tuple[str, bool, str]]:
    rows = [r for r in q.rows if r.run is not None]
    if not rows:
        return []
    print("\n== origin and derivation (the held-out pipeline runs; each outlet its own source) ==")
    checks = []
    for row in rows:
        derived, total = derived_share(row.run)
        share = derived / total if total else 0.0
        print(f"  {row.bench.name}: {derived} of {total} articles marked derived ({share:.1%})")
        if row.bench.name in DERIVED_TARGET_SETS:
            checks.append(
                (
                    f"{row.bench.name}: <= {TARGET_MAX_DERIVED:.0%} of articles marked derived",
                    share <= TARGET_MAX_DERIVED,
                    f"{share:.1%}, {derived} of {total}",
                )
            )
        if row.bench.name == METER:
            o = origin(row.bench, row.run)
            print(
                f"    stories holding wire copy: {o.wire_stories}; origin is wire in "
                f"{o.wire_origin} ({o.origin_share:.1%})"
            )
            print(
                f"    newspaper texts in them: {o.papers}; derived from wire "
                f"{o.papers_from_wire} ({o.derived_share:.1%}), from another paper "
                f"{o.papers_from_paper}"
            )
            checks.append(
                (
                    f"meter_dev: origin of a story holding wire copy is wire >= "
                    f"{TARGET_WIRE_ORIGIN:.0%}",
                    o.origin_share >= TARGET_WIRE_ORIGIN,
                    f"{o.origin_share:.1%}, {o.wire_origin} of {o.wire_stories}",
                )
            )
            checks.append(
                (
                    f"meter_dev: newspaper texts in a wire story marked derived from wire >= "
                    f"{TARGET_WIRE_DERIVED:.0%}",
                    o.derived_share >= TARGET_WIRE_DERIVED,
                    f"{o.derived_share:.1%}, {o.papers_from_wire} of {o.papers}",
                )
            )
    return checks


def quality_checks(q: Quality) -> list[tuple[str, bool, str]]:
    checks = []
    for row in q.rows:
        if row.run is not None:
            failed = row.run.dbt_failed
            detail = "; ".join(failed)[:300] if failed else ""
            checks.append((f"{row.bench.name}: dbt build passes", not failed, detail))
        w, b = row.wirehouse.b3_f1, row.baseline.b3_f1
        where = "" if row.pipeline else " (in process)"
        f1_ok, margin_ok = passes(row)
        name = row.bench.name
        checks.append((f"{name} held-out B3-F1 >= {TARGET_B3_F1}{where}", f1_ok, f"{w:.3f}"))
        checks.append(
            (
                f"{name} held-out B3-F1 >= baseline + {TARGET_MARGIN}{where}",
                margin_ok,
                f"{w:.3f} vs {b:.3f} at cut {row.cut:.2f}",
            )
        )
    return checks


def _night_text(night: dict[str, Any]) -> str:
    if night.get("timed_out"):
        return f"TIMED OUT after {night['seconds']:.0f}s, peak RSS so far {night['rss_mb']:.0f} MB"
    if night.get("failed") is not None:
        return f"CRASHED (exit {night['failed']}) after {night['seconds']:.0f}s"
    return f"{night['seconds']:.1f}s, peak RSS {night['rss_mb']:.0f} MB"


def print_scale(result: ScaleResult) -> list[tuple[str, bool, str]]:
    print(f"\n== story scale: synthetic, {ARTICLES_PER_STORY} articles a story ==")
    print(f"  generated and loaded {result.articles:,} articles in {result.generate_seconds:.0f}s")
    full = result.articles >= 100_000  # a smaller run cannot pass the targets
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
    ap.add_argument(
        "--sets",
        nargs="+",
        default=list(SETS),
        help=f"sets to score (space or comma separated; default: {' '.join(SETS)})",
    )
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument(
        "--in-process-only",
        action="store_true",
        help="no pipeline runs: the leave-one-set-out rows are the in-process figures",
    )
    ap.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = ap.parse_args(argv)
    names = [n for item in args.sets for n in item.split(",") if n]
    unknown = sorted(set(names) - set(SETS))
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")

    logging.disable(logging.WARNING)  # htmldate/trafilatura chatter
    print(f"data {args.data}; {describe_versions()}")
    checks: list[tuple[str, bool, str]] = []
    if not args.skip_quality:
        if not args.data.is_dir():
            print(f"story benchmark data not found at {args.data}: skipping quality")
        else:
            start = time.perf_counter()
            q = quality(args.data, names, args.nights, args.seed, not args.in_process_only)
            if q:
                print_grid(q)
                print_shipped(q)
                print_loso(q, args.nights)
                print_ablations(q)
                checks.extend(quality_checks(q))
                checks.extend(print_origin(q))
                print(f"\nquality part: {time.perf_counter() - start:.0f}s")
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
