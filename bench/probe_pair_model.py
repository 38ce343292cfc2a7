"""Probe (issue 15): pair scoring learned from labelled pairs, on the TF-IDF baseline of
`make bench-stories`, as the other feature probes were (bench/README.md, "Tried and not
kept"): a feature that does not help the baseline is not ported to the story stage.

Each pair of articles of a set gets the features the issue lists: TF-IDF cosine of the
whole text, of the lead (first 60 words) and of the titles (0 when either has none, with
a flag), cosine of the salient names (``textvec.article_terms``), Jaccard overlap of the
numbers, the length ratio (log), and the time gap in days (capped at 60; 0 with a flag
off when either is undated). For each held-out set a model is trained on the other four
sets' pairs (every same-story pair and 20 other pairs per one, each set weighing the same),
its probability is the similarity for average linkage, and the cut is chosen by the best
mean B-cubed F1 over the other four; the held-out set's F1 at that cut is printed, with its
own best cut's for reference. ``ecbplus_dev (no dates)`` takes ``ecbplus_dev``'s fold.

scikit-learn is not locked by the project (nothing else needs it); to re-run::

    pip install --no-deps --target /tmp/extra scikit-learn joblib threadpoolctl cloudpickle
    PYTHONPATH=/tmp/extra .venv/bin/python bench/probe_pair_model.py
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stories import BASELINE_CUTS, tfidf_matrix
from probe_dense_embeddings import f1_at_cuts
from story_sets import METER, NO_DATES, SETS, default_data, load_set, meter_dated, undated

NIGHT = datetime(2026, 3, 2, tzinfo=UTC)  # what a relative date is read against (story_fast)
LEAD_WORDS = 60
MAX_GAP_DAYS = 60.0
NEGATIVES_PER_POSITIVE = 20
NUMBER_RE = re.compile(r"\b\d[\d,.]*\b")


def cosines(texts: list[str]) -> np.ndarray:
    matrix = tfidf_matrix(texts)
    return matrix @ matrix.T


def pair_features(lines: list[dict[str, Any]]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """One row of features per pair i < j (and the pairs' indices)."""
    from wirehouse import jsonl, textvec
    from wirehouse.dates import parse_date_leniently

    texts = [r.get("text") or "" for r in lines]
    titles = [r.get("title") or "" for r in lines]
    names = []
    for r in lines:
        try:
            body = jsonl.record_text(r)[0]
        except jsonl.BadLine:
            body = ""
        names.append(" ".join(textvec.article_terms(r.get("title") or None, body)[1]))
    numbers = [set(NUMBER_RE.findall(t)) for t in texts]
    words = np.log1p(np.array([len(t.split()) for t in texts], dtype=float))
    times = [
        parse_date_leniently(r["published_at"], NIGHT) if r.get("published_at") else None
        for r in lines
    ]
    dated = np.array([t is not None for t in times], dtype=float)
    days = np.array([t.timestamp() / 86400 if t is not None else 0.0 for t in times])
    titled = np.array([bool(t.strip()) for t in titles], dtype=float)
    pairs = np.triu_indices(len(lines), 1)
    i, j = pairs
    both_titled, both_dated = titled[i] * titled[j], dated[i] * dated[j]
    shared_numbers = np.array(
        [
            len(numbers[a] & numbers[b]) / len(numbers[a] | numbers[b])
            if numbers[a] and numbers[b]
            else 0.0
            for a, b in zip(i.tolist(), j.tolist(), strict=True)
        ]
    )
    features = np.column_stack(
        [
            cosines([f"{t}\n{x}" for t, x in zip(titles, texts, strict=True)])[pairs],
            cosines([" ".join(x.split()[:LEAD_WORDS]) for x in texts])[pairs],
            cosines(titles)[pairs] * both_titled,
            both_titled,
            cosines(names)[pairs],
            shared_numbers,
            -np.abs(words[i] - words[j]),
            np.minimum(np.abs(days[i] - days[j]), MAX_GAP_DAYS) * both_dated,
            both_dated,
        ]
    )
    return features, pairs


def training_rows(
    sets: dict[str, dict[str, Any]], names: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, ws = [], [], []
    for name in names:
        x, y = sets[name]["x"], sets[name]["y"]
        positive, negative = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        keep = min(len(negative), NEGATIVES_PER_POSITIVE * len(positive))
        rows = np.concatenate([positive, rng.choice(negative, keep, replace=False)])
        xs.append(x[rows])
        ys.append(y[rows])
        ws.append(np.full(len(rows), 1.0 / len(rows)))
    weights = np.concatenate(ws)
    return np.vstack(xs), np.concatenate(ys), weights * len(weights)


def similarity_matrix(probability: np.ndarray, pairs: tuple[np.ndarray, ...], n: int) -> np.ndarray:
    sim = np.eye(n)
    sim[pairs] = probability
    sim[pairs[1], pairs[0]] = probability
    return sim


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    sets: dict[str, dict[str, Any]] = {}
    for name in SETS:
        lines = load_set(args.data / f"{name}.jsonl")
        rows = [(name, meter_dated(lines) if name == METER else lines)]
        if name == "ecbplus_dev":
            rows.append((NO_DATES, undated(lines)))
        for row, row_lines in rows:
            x, pairs = pair_features(row_lines)
            gold = np.array([r["story"] for r in row_lines])
            y = (gold[pairs[0]] == gold[pairs[1]]).astype(int)
            texts = [f"{r.get('title') or ''}\n{r.get('text') or ''}" for r in row_lines]
            sets[row] = {
                "x": x,
                "y": y,
                "pairs": pairs,
                "gold": list(gold),
                "fold": name,
                "baseline": f1_at_cuts(cosines(texts), list(gold)),
            }
    print("held-out B3-F1: set, baseline (its cut chosen on the other sets), pair model, own best")
    for held, row in sets.items():
        others = [s for s in SETS if s != row["fold"]]
        x, y, weights = training_rows(sets, others, rng)
        model = LogisticRegression(max_iter=2000).fit(x, y, sample_weight=weights)
        tables = {}
        for name in [*others, held]:
            s = sets[name]
            prob = model.predict_proba(s["x"])[:, 1]
            tables[name] = f1_at_cuts(
                similarity_matrix(prob, s["pairs"], len(s["gold"])), s["gold"]
            )
        cut = max(BASELINE_CUTS, key=lambda c: (np.mean([tables[o][c] for o in others]), -c))
        base_cut = max(
            BASELINE_CUTS, key=lambda c: (np.mean([sets[o]["baseline"][c] for o in others]), -c)
        )
        own_best = max(tables[held].values())
        print(
            f"{held:24s} {row['baseline'][base_cut]:.3f} ({base_cut})  "
            f"{tables[held][cut]:.3f} ({cut})  own best {own_best:.3f}"
        )


if __name__ == "__main__":
    main()
