"""Derivation benchmark: is a rewrite marked derived, and an independent report not?

Reads the public development data at ``../shared/bench/stories`` (see its README.md). Every
line becomes a body exactly as the pipeline makes one (:func:`wirehouse.extract.
extract_record`: the JSON Lines importer's normalisation, unwrapping and wire-furniture
removal) and an ``article_id`` as the importer gives it. The gold ``story`` labels stand in
for the story stage, so the figures do not depend on clustering; then the real
:func:`wirehouse.stories.find_derivations` runs with every article a candidate, each
compared only with earlier articles of its story from other sources, as at night.

Per set, times and sources are those a user would load (``published_at`` when stated,
else one observation night; ties are broken by article id, as in the pipeline):

- ``meter_dev``: each outlet its own source; Press Association copy (``is_wire``) dated
  on its story's day, newspapers the next morning. Scored: the share of newspaper texts
  in a story holding wire copy that are derived *from a wire text* (target >= 0.60; METER's
  annotators judged about three in four derived wholly or partly).
- ``basil_dev`` (NYT / Fox / HuffPost, dated) and ``newswcl50`` (five outlets, undated):
  independent reports of one event, each outlet its own source. Scored: share of
  articles marked derived (target <= 0.05).
- ``ecbplus_dev`` (one corpus as source) and ``multinews_dev`` (``source`` is a passage
  number): every article its own source, so every pair of one gold story is compared.
  Mostly independent reports, but both hold genuine copies (wire stories reprinted by
  several sites), so their share is reported, not targeted.

The baseline is the rule before issue 15 (sentence matching at 0.45, one article against
one article, the old sentence splitter), copied below so both run on the same bodies.

    python bench/bench_derive.py [--data DIR] [--sweep 0.05,0.06,...] [--studies] [--strict]

:func:`derivation_rates` is the entry point for other benchmarks (bench_stories.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from story_sets import default_data, outlet_source, story_day

DEFAULT_DATA = default_data()
SETS = ("meter_dev", "basil_dev", "newswcl50", "ecbplus_dev", "multinews_dev")
SOURCE_ID = "bench_dump"
# one observation night for undated articles (any fixed instant: only the order matters)
NIGHT = datetime(2026, 3, 2, tzinfo=UTC)
WIRE_HOUR = 12  # wire copy: noon of its story's day
PAPER_HOUR = 6  # newspapers: 06:00 the next morning
# the targets
TARGET_METER_FROM_WIRE = 0.60
TARGET_INDEPENDENT = 0.05
TARGETS = {
    "meter_dev": (">=", TARGET_METER_FROM_WIRE),
    "basil_dev": ("<=", TARGET_INDEPENDENT),
    "newswcl50": ("<=", TARGET_INDEPENDENT),
}
TIMING_RUNS = 3
BOOTSTRAP_ROUNDS = 500
BOOTSTRAP_SEED = 7
# PHRASE_SHARE is chosen on meter_dev alone: the highest swept value (the most precise rule)
# whose from-wire share still clears its target by SELECTION_SE story-bootstrap standard
# errors; basil_dev and newswcl50 are held out as the precision check
SELECTION_SE = 2.0
NOISE_UNRELATED = 25  # MAX_DERIVATION_SOURCES: the most one source can bring
NOISE_SAMPLE = 60  # articles per set
NGRAM_GRIDS = {
    2: (0.16, 0.18, 0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.32),
    3: (0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.14),
    4: (0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09),
}
DEFAULT_SWEEP = (0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.14, 0.16, 0.20, 1e9)


@dataclass
class Article:
    article_id: str
    story: str
    source: str
    time: datetime
    body: str
    is_wire: bool


# -- data ----------------------------------------------------------------------------------


def _meter_time(story: str, is_wire: bool) -> datetime:
    """METER's story label holds its folder day (:func:`story_sets.story_day`): wire copy
    on that day, papers the next morning."""
    folder_day = story_day(story)
    assert folder_day is not None, story
    day = datetime(folder_day.year, folder_day.month, folder_day.day, tzinfo=UTC)
    if is_wire:
        return day + timedelta(hours=WIRE_HOUR)
    return day + timedelta(days=1, hours=PAPER_HOUR)


def load_set(path: Path) -> list[Article]:
    """The set's lines as the pipeline's bodies, ids, times and sources (see module doc)."""
    from wirehouse import jsonl, urls
    from wirehouse.extract import ExtractionEmpty, extract_record

    name = path.stem
    articles = []
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            identity = jsonl.record_identity(record, SOURCE_ID)
            try:
                extracted = extract_record(line, identity)
            except (jsonl.BadLine, ExtractionEmpty):
                continue  # no text, no body to compare (the pipeline records the outcome)
            article_id = urls.article_key(identity)
            is_wire = bool(record.get("is_wire"))
            if name.startswith("meter"):
                when = _meter_time(record["story"], is_wire)
            else:
                when = extracted.published_at or NIGHT
            if name.startswith(("meter", "basil", "newswcl")):
                source = outlet_source(record.get("source"))
            else:
                source = article_id
            articles.append(
                Article(article_id, str(record["story"]), source, when, extracted.body, is_wire)
            )
    return articles


def load_sets(data_dir: Path) -> dict[str, list[Article]]:
    return {
        name: load_set(data_dir / f"{name}.jsonl")
        for name in SETS
        if (data_dir / f"{name}.jsonl").exists()
    }


# -- the rule before issue 15 (baseline) ---------------------------------------------------

_OLD_SENTENCE_RE = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")


def _old_sentences(body: str) -> list[frozenset[str]]:
    from wirehouse import derive

    parts = (p.strip() for p in _OLD_SENTENCE_RE.split(body))
    sets = (derive.content_words(p) for p in parts if p)
    return [s for s in sets if len(s) >= 4]


def _old_score(derived: Sequence[frozenset[str]], source: Sequence[frozenset[str]]) -> float:
    """The old in-order sentence score: derive.sentence_score (unchanged by issue 15 but
    for its splitter, which the caller replaces), rounded as it was."""
    from wirehouse import derive

    return round(derive.sentence_score(derived, source), 4)


def baseline_find_derivations(
    stories_of: Mapping[str, str],
    times: Mapping[str, datetime],
    sources: Mapping[str, str],
    bodies: Mapping[str, str],
    candidates: Sequence[str],
) -> dict[str, tuple[str, float]]:
    """find_derivations as it was before issue 15: each earlier article of another source
    on its own, the old sentence splitter, derived at 0.45."""
    members: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in stories_of.items():
        members[story_id].append(article_id)
    cache: dict[str, list[frozenset[str]]] = {}

    def sents(a: str) -> list[frozenset[str]]:
        if a not in cache:
            cache[a] = _old_sentences(bodies[a])
        return cache[a]

    result: dict[str, tuple[str, float]] = {}
    for article_id in sorted(candidates):
        key = (times[article_id], article_id)
        earlier = sorted(
            (m for m in members[stories_of[article_id]] if (times[m], m) < key),
            key=lambda m: (times[m], m),
        )[:25]
        best: tuple[str, float] | None = None
        for other in earlier:
            if sources[other] == sources[article_id]:
                continue
            score = _old_score(sents(article_id), sents(other))
            if score >= 0.45 and (best is None or score > best[1]):
                best = (other, score)
        if best is not None:
            result[article_id] = best
    return result


# -- running and scoring -------------------------------------------------------------------


def _current_find_derivations(
    stories_of: Mapping[str, str],
    times: Mapping[str, datetime],
    sources: Mapping[str, str],
    bodies: Mapping[str, str],
    candidates: Sequence[str],
) -> dict[str, tuple[str, float]]:
    from wirehouse import stories

    found = stories.find_derivations(stories_of, times, sources, bodies, candidates)
    return {a: (d.derived_from, d.score) for a, d in found.items()}


Finder = Callable[..., dict[str, tuple[str, float]]]


def run_set(
    articles: Sequence[Article], finder: Finder, repeat: int = 1
) -> tuple[dict[str, float], float]:
    """Derivations over one set with gold stories; its figures and the finder's seconds."""
    from wirehouse import stories  # noqa: F401 - imported before the clock starts

    by_id = {a.article_id: a for a in articles}
    stories_of = {a.article_id: a.story for a in articles}
    times = {a.article_id: a.time for a in articles}
    sources = {a.article_id: a.source for a in articles}
    bodies = {a.article_id: a.body for a in articles}
    seconds = float("inf")
    for _ in range(repeat):  # the fastest of `repeat` runs: the machine is shared
        started = time.perf_counter()
        found = finder(stories_of, times, sources, bodies, sorted(by_id))
        seconds = min(seconds, time.perf_counter() - started)
    members: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        members[a.story].append(a)
    comparable = sum(
        1
        for a in articles
        if any(
            (m.time, m.article_id) < (a.time, a.article_id) and m.source != a.source
            for m in members[a.story]
        )
    )
    figures = {
        "articles": float(len(articles)),
        "candidates": float(comparable),
        "derived": len(found) / len(articles) if articles else 0.0,
    }
    wire_stories = {a.story for a in articles if a.is_wire}
    if wire_stories:
        papers = [a for a in articles if not a.is_wire and a.story in wire_stories]
        from_wire = [
            a for a in papers if a.article_id in found and by_id[found[a.article_id][0]].is_wire
        ]
        from_paper = [
            a for a in papers if a.article_id in found and not by_id[found[a.article_id][0]].is_wire
        ]
        figures["papers_in_wire_stories"] = float(len(papers))
        figures["papers_from_wire"] = len(from_wire) / len(papers)
        figures["papers_from_paper"] = len(from_paper) / len(papers)
        hits = {a.article_id for a in from_wire}
        figures["papers_from_wire_se"] = story_bootstrap_se(
            [(a.story, a.article_id in hits) for a in papers]
        )
    return figures, seconds


def story_bootstrap_se(
    outcomes: Sequence[tuple[str, bool]], rounds: int = BOOTSTRAP_ROUNDS
) -> float:
    """Standard error of a share of texts, resampling whole stories (seeded): texts of one
    story are not independent (one wire copy, many papers), so this is what an unseen half
    of other stories may differ by."""
    per_story: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for story, hit in outcomes:
        per_story[story][0] += int(hit)
        per_story[story][1] += 1
    counts = list(per_story.values())
    if not counts:
        return 0.0
    rng = random.Random(BOOTSTRAP_SEED)
    shares = []
    for _ in range(rounds):
        sample = [counts[rng.randrange(len(counts))] for _ in counts]
        shares.append(sum(h for h, _ in sample) / sum(n for _, n in sample))
    mean = sum(shares) / rounds
    return (sum((x - mean) ** 2 for x in shares) / (rounds - 1)) ** 0.5


def headline(name: str, figures: Mapping[str, float]) -> float:
    """The set's scored figure: from-wire share on METER, derived share elsewhere."""
    return figures["papers_from_wire"] if "papers_from_wire" in figures else figures["derived"]


def derivation_rates(
    data_dir: Path = DEFAULT_DATA, sets: Mapping[str, list[Article]] | None = None
) -> dict[str, dict[str, float]]:
    """Per set (those present in `data_dir`): articles, candidates (articles with an
    earlier article of another source in their story), the share marked derived and, on
    a set with wire copy, ``papers_from_wire`` (newspaper texts of wire stories derived
    from a wire text) and ``papers_from_paper``; plus ``seconds`` of find_derivations."""
    sets = load_sets(data_dir) if sets is None else sets
    out = {}
    for name, articles in sets.items():
        figures, seconds = run_set(articles, _current_find_derivations)
        out[name] = {**figures, "seconds": seconds}
    return out


@contextlib.contextmanager
def derive_setting(name: str, value: float) -> Iterator[None]:
    """A constant of wirehouse.derive set to `value` for a sweep or a study
    (`PHRASE_SHARE` 1e9 turns the phrase rule off; `PHRASE_WORDS` the n-gram study)."""
    from wirehouse import derive

    saved = getattr(derive, name)
    setattr(derive, name, value)
    try:
        yield
    finally:
        setattr(derive, name, saved)


def noise_floor(
    sets: Mapping[str, list[Article]], unrelated: int = NOISE_UNRELATED, sample: int = NOISE_SAMPLE
) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum phrase share of an article found in `unrelated`
    articles of other stories and other sources of its set taken together (seeded): what
    a source with many texts offers by chance, the floor PHRASE_SHARE must stay above."""
    from wirehouse import derive

    rng = random.Random(BOOTSTRAP_SEED)
    shares = []
    for articles in sets.values():
        profiles = {a.article_id: derive.profile(a.body) for a in articles}
        for a in rng.sample(list(articles), min(sample, len(articles))):
            pool = [m for m in articles if m.story != a.story and m.source != a.source]
            chosen = rng.sample(pool, min(unrelated, len(pool)))
            shares.append(
                derive.phrase_share(
                    profiles[a.article_id].phrases, [profiles[m.article_id].phrases for m in chosen]
                )
            )
    shares.sort()
    return shares[len(shares) // 2], shares[int(len(shares) * 0.95)], shares[-1]


@contextlib.contextmanager
def patched(name: str, value: object) -> Iterator[None]:
    """An attribute of wirehouse.derive replaced for an ablation."""
    from wirehouse import derive

    saved = getattr(derive, name)
    setattr(derive, name, value)
    try:
        yield
    finally:
        setattr(derive, name, saved)


def _one_source_per_text(sets: Mapping[str, list[Article]]) -> dict[str, list[Article]]:
    """Every text its own source: each earlier text scored alone (no takes pooled)."""
    return {
        name: [
            Article(a.article_id, a.story, a.article_id, a.time, a.body, a.is_wire)
            for a in articles
        ]
        for name, articles in sets.items()
    }


def print_ablations(sets: Mapping[str, list[Article]]) -> None:
    """Each part of the rule taken out in turn, PHRASE_SHARE re-chosen by the same
    meter-only rule over the 3-gram grid, so each line is that variant at its best."""
    names = list(sets)
    print("\nablations (PHRASE_SHARE re-chosen on meter_dev for each)")
    print(f"{'variant':34} {'chosen':>7} " + " ".join(f"{n:>13}" for n in names))
    variants: list[tuple[str, contextlib.AbstractContextManager, Mapping]] = [
        ("full rule", contextlib.nullcontext(), sets),
        ("quotations counted", patched("unquoted", lambda p: [p]), sets),
        ("names and numbers counted", patched("ordinary_word", lambda w: True), sets),
        ("each earlier text alone", contextlib.nullcontext(), _one_source_per_text(sets)),
    ]
    for label, context, variant_sets in variants:
        with context:
            rows = sweep(variant_sets, NGRAM_GRIDS[3])
        chosen = select_phrase_share(rows)
        # no value clears meter_dev's target by 2 SE: show the variant at the lowest value
        shown = chosen if chosen is not None else min(r["value"] for r in rows)
        row = next(r for r in rows if r["value"] == shown)
        cells = " ".join(f"{headline(n, row[n]):13.3f}" for n in names)
        label = label if chosen is not None else f"{label} (none; at {shown})"
        print(f"{label:34} {chosen if chosen is not None else '-':>7} {cells}")


def print_ngram_study(sets: Mapping[str, list[Article]]) -> None:
    """PHRASE_WORDS = 2, 3, 4, each with its PHRASE_SHARE chosen by the same meter-only
    rule: what each reaches on the held-out sets, and its noise floor."""
    names = list(sets)
    print(
        f"\nn-gram size study (PHRASE_SHARE chosen per size on meter_dev; noise floor = phrase"
        f" share in {NOISE_UNRELATED} unrelated articles: median / p95 / max)"
    )
    print(f"{'n':>2} {'chosen':>7} " + " ".join(f"{n:>13}" for n in names) + "   noise floor")
    for n, grid in NGRAM_GRIDS.items():
        with derive_setting("PHRASE_WORDS", n):
            rows = sweep(sets, grid)
            chosen = select_phrase_share(rows)
            floor = noise_floor(sets)
        row = next((r for r in rows if r["value"] == chosen), None)
        cells = (
            " ".join(f"{headline(name, row[name]):13.3f}" for name in names)
            if row
            else " ".join(f"{'-':>13}" for _ in names)
        )
        print(
            f"{n:>2} {chosen if chosen is not None else '-':>7} {cells}   "
            + " / ".join(f"{v:.3f}" for v in floor)
        )


# -- report --------------------------------------------------------------------------------


def _verdict(name: str, value: float) -> tuple[str, str]:
    if name not in TARGETS:
        return "(report)", ""
    op, target = TARGETS[name]
    ok = value >= target if op == ">=" else value <= target
    return f"{op} {target:.2f}", "PASS" if ok else "FAIL"


def print_table(sets: Mapping[str, list[Article]]) -> list[tuple[str, bool]]:
    from wirehouse import derive

    print(
        f"{'set':14} {'system':9} {'articles':>8} {'cand.':>6} {'derived':>8} "
        f"{'scored':>7} {'target':>8} {'':5} {'seconds':>8}"
    )
    checks = []
    for name, articles in sets.items():
        for system, finder in (
            ("baseline", baseline_find_derivations),
            ("wirehouse", _current_find_derivations),
        ):
            figures, seconds = run_set(articles, finder, repeat=TIMING_RUNS)
            value = headline(name, figures)
            target, verdict = _verdict(name, value)
            print(
                f"{name:14} {system:9} {int(figures['articles']):8d} "
                f"{int(figures['candidates']):6d} {figures['derived']:8.3f} {value:7.3f} "
                f"{target:>8} {verdict:5} {seconds:8.2f}"
            )
            if system == "wirehouse" and verdict:
                checks.append((name, verdict == "PASS"))
    if "meter_dev" in sets:
        figures, _ = run_set(sets["meter_dev"], _current_find_derivations)
        print(
            f"meter_dev: {int(figures['papers_in_wire_stories'])} newspaper texts in wire "
            f"stories; derived from wire {figures['papers_from_wire']:.3f}, from another "
            f"paper {figures['papers_from_paper']:.3f}"
        )
    print(
        f"(derive.PHRASE_SHARE = {derive.PHRASE_SHARE}, DERIVED_SCORE = "
        f"{derive.DERIVED_SCORE}; 'scored' = from-wire share on meter_dev, derived share "
        "elsewhere)"
    )
    return checks


def sweep(sets: Mapping[str, list[Article]], values: Sequence[float]) -> list[dict]:
    """Each set's figures at each PHRASE_SHARE value (1e9 = the phrase rule off)."""
    rows = []
    for value in values:
        with derive_setting("PHRASE_SHARE", value):
            rows.append(
                {
                    "value": value,
                    **{n: run_set(sets[n], _current_find_derivations)[0] for n in sets},
                }
            )
    return rows


def select_phrase_share(rows: Sequence[dict]) -> float | None:
    """The highest swept value whose meter_dev from-wire share minus SELECTION_SE standard
    errors reaches the target (see SELECTION_SE); None without meter_dev or when none does."""
    ok = [
        r["value"]
        for r in rows
        if "meter_dev" in r
        and r["value"] < 1e6
        and r["meter_dev"]["papers_from_wire"]
        - SELECTION_SE * r["meter_dev"]["papers_from_wire_se"]
        >= TARGET_METER_FROM_WIRE
    ]
    return max(ok) if ok else None


def print_sweep(sets: Mapping[str, list[Article]], values: Sequence[float]) -> None:
    names = list(sets)
    rows = sweep(sets, values)
    print("\nsweep of derive.PHRASE_SHARE (scored figure per set; off = phrase rule off)")
    print(f"{'PHRASE_SHARE':>12} {'meter SE':>8} " + " ".join(f"{n:>13}" for n in names))
    for row in rows:
        label = "off" if row["value"] >= 1e6 else f"{row['value']:.3f}"
        se = row["meter_dev"]["papers_from_wire_se"] if "meter_dev" in row else 0.0
        print(f"{label:>12} {se:8.3f} " + " ".join(f"{headline(n, row[n]):13.3f}" for n in names))
    chosen = select_phrase_share(rows)
    print(
        f"selected on meter_dev (highest value with from-wire share - {SELECTION_SE:g} SE >= "
        f"{TARGET_METER_FROM_WIRE}): {chosen}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--sweep",
        default=",".join(str(v) for v in DEFAULT_SWEEP),
        help="PHRASE_SHARE values to sweep ('' for none)",
    )
    parser.add_argument(
        "--studies",
        action="store_true",
        help="also compare 2-, 3- and 4-gram phrases and run the ablations (a few minutes)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no benchmark data at {args.data}; nothing to do")
        return 0
    started = time.perf_counter()
    sets = load_sets(args.data)
    print(
        f"loaded {sum(len(v) for v in sets.values())} articles from {len(sets)} sets "
        f"in {time.perf_counter() - started:.1f} s\n"
    )
    checks = print_table(sets)
    if args.sweep:
        print_sweep(sets, [float(v) for v in args.sweep.split(",")])
    if args.studies:
        print_ngram_study(sets)
        print_ablations(sets)
    return 2 if args.strict and not all(ok for _, ok in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
