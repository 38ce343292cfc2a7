"""How alike the story tests' hand-written hard negatives are in a realistic warehouse.

tests/test_stories.py runs the story stage on a warehouse of a few documents, where
document frequencies say little: a word two of eight documents share weighs almost as
much as a word one of them has. The story stage weighs terms by the whole warehouse, so a
pair's cosine there is not the one it would have in production. This prints, for each
pair of fixture stories, the cosine of their term vectors (``wirehouse.textvec``, as the
story stage builds them) with only the pair as the warehouse, and with the benchmark's
story sets (about 1,900 articles, ``shared/bench/stories``) beside them, against the
shipped merge bar. Used to decide the shipped bar (bench/README.md, "Shipped settings").

    .venv/bin/python bench/fixture_similarity.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from story_sets import SETS, default_data, load_set

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "stories"
SAMPLES = ROOT / "include" / "sample_articles"
# (left, right): a fixture text's stem, or "source/page" of a sample page
PAIRS = [
    ("orrin_dam_night1", "brackwater_dam"),
    ("orrin_dam_night2", "brackwater_dam"),
    ("orrin_dam_night3", "brackwater_dam"),
    ("orrin_dam_night1", "orrin_dam_night2"),
    (
        "harbor_wire/magnitude-6-2-earthquake-strikes-karsel-province",
        "daily_lantern/magnitude-4-1-earthquake-rattles-marrow-valley",
    ),
]


def document(name: str) -> tuple[str | None, str]:
    """(title, body) of a fixture text or, for "source/page", a sample page extracted."""
    if "/" in name:
        from wirehouse.extract import extract_article

        source, page = name.split("/")
        html = (SAMPLES / source / f"{page}.html").read_text(encoding="utf-8")
        record = extract_article(html, f"https://{source}.example/{page}")
        return record.title, record.body
    title, body = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").split("\n", 1)
    return title.removeprefix("# "), body.strip()


def cosine(pair: list[tuple[str | None, str]], background: list[tuple[str | None, str]]) -> float:
    """The first two documents' cosine, every document counting in the frequencies."""
    from wirehouse import textvec

    vocabulary, rows = textvec.Vocabulary(), []
    for title, body in [*pair, *background]:
        counts, _ = textvec.article_terms(title, body)
        rows.append((vocabulary.ids(counts.keys()), np.fromiter(counts.values(), float)))
    counts = textvec.count_matrix(rows, len(vocabulary))
    frequency = np.asarray((counts > 0).sum(axis=0)).ravel()
    vectors = textvec.tfidf_matrix(counts, frequency, len(rows), vocabulary.rank())
    return float((vectors[0] @ vectors[1].T).toarray()[0, 0])


def main() -> None:
    from wirehouse import jsonl, stories

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data())
    args = parser.parse_args()
    background = []
    for name in SETS:
        for line in load_set(args.data / f"{name}.jsonl"):
            try:
                background.append((line.get("title") or None, jsonl.record_text(line)[0]))
            except jsonl.BadLine:
                continue
    print(f"merge bar {stories.STORY_THRESHOLD}; background: {len(background)} articles")
    for left, right in PAIRS:
        pair = [document(left), document(right)]
        alone, beside = cosine(pair, []), cosine(pair, background)
        print(f"{left} ~ {right}: alone {alone:.3f}, beside the sets {beside:.3f}")


if __name__ == "__main__":
    main()
