"""Extraction benchmark: wirehouse's extractor against bare trafilatura on real news pages.

Reads the public development data at ``../shared/bench/extraction`` (relative to the repo
root; see its README.md) and scores two systems on the same decoded HTML:

- ``trafilatura``: ``trafilatura.bare_extraction(html, url=url, with_metadata=True)``,
  default settings;
- ``wirehouse``: ``wirehouse.extract.extract_article(html, url)``
  (``ExtractionEmpty`` scores as an empty output).

Scoring follows the data's README: body precision/recall/F1 over word 4-gram shingles of the
lowercased, whitespace-normalised text, micro-averaged over pages (multiset overlap summed
over pages, over summed predicted / gold shingles); titles by exact match after whitespace
normalisation; dates by same day (wirehouse: ``published_local_date``, the day the page
shows, since the gold is the publisher's local day), over all pages with a gold date and
over those whose gold day is written on the page (:func:`day_on_page`); authors by
set F1 over lowercased names, micro-averaged over the pages that name authors. Pages/s is
single-process, sequential throughput, timing only the extraction call.

    python bench/bench_extract.py [--data DIR] [--set fundus_eval|articles_dev|all]
                                  [--limit N] [--dump DIR] [--per-page] [--strict]
                                  [--cpu ROUNDS]

``--cpu ROUNDS`` measures speed only, as CPU time (``time.process_time``: steadier than the
wall clock on a shared machine): each page goes through both systems in turn (which one
first alternates page by page, so neither gains from caches the other warmed; dateparser's
one-time locale loading is done before timing, see :func:`warm_up_dateparser`), ROUNDS
times, each round in a fresh process; per set it prints each round's pages/s of both
systems and their ratio, then the minimum and median over the rounds.

Exit status: 0 (it is a report; also when the data folder is absent), or 2 with ``--strict``
when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench" / "extraction"
SETS = ("fundus_eval", "articles_dev")
SYSTEMS = ("trafilatura", "wirehouse")
SHINGLE = 4

# issue 14's targets: body F1 at least 0.970 on fundus_eval and trafilatura + 0.03 on
# articles_dev (both with precision at least trafilatura's)
TARGET_BODY_F1 = {"fundus_eval": 0.970}
TARGET_BODY_F1_GAIN = {"articles_dev": 0.03}
TARGET_DATE_ACC = 0.95
TARGET_TITLE_ACC = 0.95
TARGET_AUTHOR_F1 = 0.92
TARGET_SPEED_RATIO = 0.8

AUTHOR_SPLIT_RE = re.compile(r"[;,]")


# -- data ----------------------------------------------------------------------------------


@dataclass
class Page:
    key: str
    url: str
    html_path: Path
    body: str  # gold; paragraphs separated by blank lines
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD
    authors: list[str] | None = None  # None: the data set does not annotate authors
    site: str = ""
    date_on_page: bool | None = None  # the gold day is written on the page (day_on_page)


def load_fundus(root: Path) -> list[Page]:
    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
    pages = []
    for name in sorted(truth):
        item = truth[name]
        pages.append(
            Page(
                key=name.removesuffix(".html.gz"),
                url=item["url"],
                html_path=root / "html" / name,
                body="\n\n".join(item["body"]),
                site=name.rsplit("_", 1)[0],
            )
        )
    return pages


def load_articles(root: Path) -> list[Page]:
    items = json.loads((root / "articles.json").read_text(encoding="utf-8"))
    pages = []
    for item in items:
        html_file = item["html_file"]
        if not html_file.endswith(".html.gz"):  # stored as <md5>, on disk as <md5>.html.gz
            html_file += ".html.gz"
        raw_authors = item.get("authors") or ""
        pages.append(
            Page(
                key=str(item["id"]),
                url=item["link"],
                html_path=root / "html" / html_file,
                body=item["text"] or "",
                title=item.get("title") or None,
                date=(item.get("date") or "")[:10] or None,
                authors=[a for a in (x.strip() for x in raw_authors.split(",")) if a],
                site=item.get("site") or "",
            )
        )
    return pages


LOADERS: dict[str, Callable[[Path], list[Page]]] = {
    "fundus_eval": load_fundus,
    "articles_dev": load_articles,
}


# -- systems -------------------------------------------------------------------------------


@dataclass
class Prediction:
    body: str = ""
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD
    authors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # for the dump only
    error: str | None = None


def _split_author_string(value: str | None) -> list[str]:
    if not value:
        return []
    return [a for a in (x.strip() for x in AUTHOR_SPLIT_RE.split(value)) if a]


def run_trafilatura(html: str, url: str) -> Prediction:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return Prediction()
    get = doc.get if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    raw_date = get("date")
    return Prediction(
        body=get("text") or "",
        title=get("title") or None,
        date=str(raw_date)[:10] if raw_date else None,
        authors=_split_author_string(get("author")),
    )


def _utc_day(value: Any) -> tuple[str | None, str | None]:
    """(UTC date, local date as stated) of a datetime, as YYYY-MM-DD strings."""
    if isinstance(value, datetime):
        local = value.date().isoformat()
        utc = value.astimezone(UTC).date().isoformat() if value.tzinfo else local
        return utc, local
    if isinstance(value, date):
        return value.isoformat(), value.isoformat()
    if isinstance(value, str) and value:
        return value[:10], value[:10]
    return None, None


def run_wirehouse(html: str, url: str) -> Prediction:
    from wirehouse.extract import ExtractionEmpty, extract_article

    try:
        record = extract_article(html, url)
    except ExtractionEmpty as exc:
        return Prediction(extra={"empty": str(exc)})
    utc_day, _ = _utc_day(getattr(record, "published_at", None))
    local_day = getattr(record, "published_local_date", None)
    authors = getattr(record, "authors", None) or []
    if isinstance(authors, str):
        authors = _split_author_string(authors)
    extra = {
        "published_utc_date": utc_day,
        "published_utc_offset": getattr(record, "published_utc_offset", None),
    }
    for name in ("dateline", "credits", "too_short", "probably_not_article", "paywalled"):
        if hasattr(record, name):
            extra[name] = getattr(record, name)
    return Prediction(
        body=getattr(record, "body", None) or "",
        title=getattr(record, "title", None) or None,
        date=local_day.isoformat() if local_day else None,
        authors=[str(a) for a in authors],
        extra=extra,
    )


# -- is the gold day on the page? -----------------------------------------------------------

MONTH_NAMES = (
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
)
TAG_RE = re.compile(r"<[^>]*>")
EPOCH_RE = re.compile(r"(?<![\d.])(\d{13}|\d{10})(?![\d.])")
# a UTC instant is some day between UTC-12 and UTC+14 somewhere: how far an epoch stamp
# may sit from the gold day's UTC midnight and still be that day in the publisher's zone
EARLIEST_ZONE_HOURS, LATEST_ZONE_HOURS = 12, 14


def day_patterns(day: date) -> re.Pattern[str]:
    """One expression for every common way of writing `day` with its year: ISO and its
    relatives (2023-12-05, 2023/12/5, 2023.12.05, 20231205, URL paths /2023/dec/05/),
    month names in both orders (December 5, 2023; Dec. 5th 2023; 5 December 2023;
    Tuesday, 5th Dec, 2023) and numbers in both orders (12/05/2023, 05.12.2023,
    12-5-23). Separators may be spaced out or sit across tags (matched on the text too)."""
    y, m, d = str(day.year), day.month, day.day
    yy = y[2:]
    mon = MONTH_NAMES[m - 1]
    months = f"(?:{mon}|{mon[:3]}{'|sept' if m == 9 else ''})"
    mm, dd = f"0?{m}", f"0?{d}"
    nth = f"{dd}(?:st|nd|rd|th)?"
    sep = r"\s*[-/.]\s*"
    named = r"[\s,.]*"
    alternatives = [
        rf"{y}{sep}{mm}{sep}{dd}(?!\d)",  # ISO, slashes, dots
        rf"{y}{m:02d}{d:02d}(?!\d)",  # compact
        rf"{y}{sep}{months}{sep}{dd}(?!\d)",  # /2023/dec/05/
        rf"{months}\.?{named}{nth}{named}{y}",  # December 5, 2023
        rf"{nth}{named}(?:of\s+)?{months}\.?{named}{y}",  # 5 December 2023
        rf"{mm}{sep}{dd}{sep}(?:{y}|{yy})(?!\d)",  # 12/05/2023, 12-5-23
        rf"{dd}{sep}{mm}{sep}(?:{y}|{yy})(?!\d)",  # 05/12/2023, 05.12.23
    ]
    return re.compile(rf"(?<!\d)(?:{'|'.join(alternatives)})", re.IGNORECASE)


def epoch_on_day(html: str, day: date) -> bool:
    """A Unix time (seconds or milliseconds) in the page that falls on `day` in some zone."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    low = start - LATEST_ZONE_HOURS * 3600
    high = start + (24 + EARLIEST_ZONE_HOURS) * 3600
    for match in EPOCH_RE.finditer(html):
        value = int(match.group(1))
        seconds = value / 1000 if len(match.group(1)) == 13 else value
        if low <= seconds < high:
            return True
    return False


def day_on_page(day: str | date, html: str, url: str) -> bool:
    """Whether the page (its markup, its text or its URL) writes `day` anywhere, in any
    common format: a date extractor cannot find a day the page never states, so date
    accuracy is also reported over the pages where it is written."""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    pattern = day_patterns(day)
    text = " ".join(TAG_RE.sub(" ", html).split())
    return bool(
        pattern.search(url)
        or pattern.search(html)
        or pattern.search(text)
        or epoch_on_day(html, day)
    )


RUNNERS: dict[str, Callable[[str, str], Prediction]] = {
    "trafilatura": run_trafilatura,
    "wirehouse": run_wirehouse,
}


# -- scoring -------------------------------------------------------------------------------


def normalise_ws(text: str | None) -> str:
    return " ".join((text or "").split())


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Word n-gram multiset of the lowercased, whitespace-normalised text. A text shorter
    than n words is one (short) shingle; an empty text has none."""
    tokens = text.lower().split()
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def author_names(names: list[str]) -> set[str]:
    return {normalise_ws(n).lower() for n in names if normalise_ws(n)}


def _paragraph_diff(ref: str, other: str, limit: int = 30) -> list[str]:
    """Paragraphs of `ref` mostly absent from the `other` text: under half their shingles
    found there, or (a paragraph shorter than a shingle) not found as a word sequence."""
    other_shingles = shingles(other)
    other_words = f" {' '.join(other.lower().split())} "
    out = []
    for para in (p.strip() for p in re.split(r"\n\s*\n|\n", ref)):
        words = para.lower().split()
        if not words:
            continue
        if len(words) < SHINGLE:
            absent = f" {' '.join(words)} " not in other_words
        else:
            sh = shingles(para)
            absent = sum((sh & other_shingles).values()) < 0.5 * sum(sh.values())
        if absent:
            out.append(para if len(para) <= 300 else para[:297] + "...")
            if len(out) >= limit:
                break
    return out


@dataclass
class Score:
    pages: int = 0
    seconds: float = 0.0
    errors: int = 0
    empty: int = 0
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0
    title_n: int = 0
    title_ok: int = 0
    date_n: int = 0
    date_ok: int = 0
    date_on_page_n: int = 0  # pages whose gold day is written on the page
    date_on_page_ok: int = 0
    author_pages: int = 0
    author_tp: int = 0
    author_fp: int = 0
    author_fn: int = 0
    spurious_author_pages: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def body(self) -> tuple[float, float, float]:
        return prf(self.tp, self.n_pred, self.n_gold)

    @property
    def title_acc(self) -> float | None:
        return self.title_ok / self.title_n if self.title_n else None

    @property
    def date_acc(self) -> float | None:
        return self.date_ok / self.date_n if self.date_n else None

    @property
    def date_on_page_acc(self) -> float | None:
        """Date accuracy over the pages whose gold day is on the page: no extractor can
        find a day the page never writes, so the target is set on this figure."""
        return self.date_on_page_ok / self.date_on_page_n if self.date_on_page_n else None

    @property
    def author_f1(self) -> float | None:
        if not self.author_pages:
            return None
        return prf(
            self.author_tp,
            self.author_tp + self.author_fp,
            self.author_tp + self.author_fn,
        )[2]

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def score_page(score: Score, page: Page, pred: Prediction, seconds: float) -> None:
    score.pages += 1
    score.seconds += seconds
    score.errors += pred.error is not None
    score.empty += not pred.body.strip()
    gold_sh, pred_sh = shingles(page.body), shingles(pred.body)
    tp = sum((gold_sh & pred_sh).values())
    n_pred, n_gold = sum(pred_sh.values()), sum(gold_sh.values())
    score.tp += tp
    score.n_pred += n_pred
    score.n_gold += n_gold
    p, r, f = prf(tp, n_pred, n_gold)
    row: dict[str, Any] = {
        "key": page.key,
        "site": page.site,
        "url": page.url,
        "body_p": round(p, 4),
        "body_r": round(r, 4),
        "body_f1": round(f, 4),
        "pred_shingles": n_pred,
        "gold_shingles": n_gold,
        "seconds": round(seconds, 4),
    }
    if pred.error:
        row["error"] = pred.error
    row.update(pred_title=pred.title, pred_date=pred.date, pred_authors=pred.authors)
    if page.title:
        score.title_n += 1
        ok = normalise_ws(pred.title) == normalise_ws(page.title)
        score.title_ok += ok
        row.update(title_ok=ok, gold_title=page.title)
    if page.date:
        score.date_n += 1
        ok = pred.date == page.date
        score.date_ok += ok
        if page.date_on_page:
            score.date_on_page_n += 1
            score.date_on_page_ok += ok
        row.update(date_ok=ok, gold_date=page.date, gold_date_on_page=page.date_on_page)
    if page.authors is not None:
        gold_a, pred_a = author_names(page.authors), author_names(pred.authors)
        if gold_a:
            score.author_pages += 1
            score.author_tp += len(gold_a & pred_a)
            score.author_fp += len(pred_a - gold_a)
            score.author_fn += len(gold_a - pred_a)
            row["author_f1"] = round(
                prf(len(gold_a & pred_a), len(pred_a), len(gold_a))[2],
                4,
            )
        elif pred_a:
            score.spurious_author_pages += 1
            row["spurious_authors"] = True
        row.update(gold_authors=sorted(gold_a))
    if pred.extra:
        row["extra"] = pred.extra
    row["missing_paragraphs"] = _paragraph_diff(page.body, pred.body)
    row["extra_paragraphs"] = _paragraph_diff(pred.body, page.body)
    row["pred_body"] = pred.body
    row["gold_body"] = page.body
    score.rows.append(row)


# -- running -------------------------------------------------------------------------------


def load_html(pages: list[Page]) -> list[str]:
    from wirehouse.fetch import decode_html

    return [decode_html(gzip.decompress(p.html_path.read_bytes()), None) for p in pages]


def warm_up_dateparser() -> None:
    """Load dateparser's locale data, as its first parse does: about 1.5 s of CPU, once per
    process (measured on this machine: first ``get_date_data`` 1.51 s, the next ones
    0.01 s), paid by whichever system first sends htmldate a date only dateparser reads.
    A night's worker pays it once for thousands of pages, so neither system is timed
    paying it."""
    from htmldate.extractors import get_external_parser

    get_external_parser().get_date_data("Published on 27 September 2013 at 10:00")


def run_system(name: str, pages: list[Page], htmls: list[str]) -> Score:
    runner = RUNNERS[name]
    score = Score()
    warm_up_dateparser()
    if pages:  # warm-up (lazy imports, caches), not timed nor scored
        with contextlib.suppress(Exception):
            runner(htmls[0], pages[0].url)
    for page, html in zip(pages, htmls, strict=True):
        start = time.perf_counter()
        try:
            pred = runner(html, page.url)
        except Exception as exc:  # a crash scores as empty output, and is counted
            pred = Prediction(error=f"{type(exc).__name__}: {exc}")
        elapsed = time.perf_counter() - start
        score_page(score, page, pred, elapsed)
    return score


def cpu_round(pages: list[Page], htmls: list[str]) -> dict[str, float]:
    """CPU seconds per system over all pages, each page through both systems in turn."""
    seconds = dict.fromkeys(SYSTEMS, 0.0)
    for i, (page, html) in enumerate(zip(pages, htmls, strict=True)):
        for name in SYSTEMS if i % 2 == 0 else SYSTEMS[::-1]:
            start = time.process_time()
            with contextlib.suppress(Exception):  # a crash costs what it cost
                RUNNERS[name](html, page.url)
            seconds[name] += time.process_time() - start
    return seconds


def cpu_report(set_name: str, data: Path, limit: int | None, rounds: int) -> None:
    """Print CPU pages/s of both systems and wirehouse/trafilatura per round, then the
    minimum and median over the rounds. Each round runs in a fresh process: htmldate keeps
    parsed date strings in a cache, so a second pass over the same pages in one process
    would time cache hits that a night of new pages never gets."""
    import statistics
    import subprocess

    print(f"\n== {set_name}: CPU time, {rounds} rounds, each in a fresh process ==")
    rates: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    ratios = []
    command = [sys.executable, __file__, "--data", str(data), "--set", set_name]
    command += ["--cpu-round"] + (["--limit", str(limit)] if limit else [])
    for n in range(rounds):
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        pages, seconds = json.loads(out.splitlines()[-1])
        for name in SYSTEMS:
            rates[name].append(pages / seconds[name])
        ratios.append(rates["wirehouse"][-1] / rates["trafilatura"][-1])
        cells = "  ".join(f"{name} {rates[name][-1]:5.1f}" for name in SYSTEMS)
        print(f"  round {n + 1}: {cells} pages/s  ratio {ratios[-1]:.2f}", flush=True)
    for label, agg in (("min", min), ("median", statistics.median)):
        cells = "  ".join(f"{name} {agg(rates[name]):5.1f}" for name in SYSTEMS)
        print(f"  {label:<7} {cells} pages/s  ratio {agg(ratios):.2f}")


def cpu_once(pages: list[Page], htmls: list[str]) -> None:
    """One round of ``--cpu``: a warm-up page (lazy imports) and dateparser's locale data,
    then every page timed; prints [pages, {system: CPU seconds}] as JSON."""
    warm_up_dateparser()
    for name in SYSTEMS:
        with contextlib.suppress(Exception):
            RUNNERS[name](htmls[0], pages[0].url)
    print(json.dumps([len(pages), cpu_round(pages, htmls)]))


# -- reporting -----------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _delta(a: float | None, b: float | None, digits: int = 3) -> str:
    return "-" if a is None or b is None else f"{a - b:+.{digits}f}"


def print_table(set_name: str, scores: dict[str, Score]) -> None:
    any_score = next(iter(scores.values()))
    print(f"\n== {set_name}: {any_score.pages} pages ==")
    header = (
        f"{'system':<12} {'body P':>7} {'body R':>7} {'body F1':>7} {'title':>6} "
        f"{'date':>6} {'auth F1':>7} {'pages/s':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, s in scores.items():
        p, r, f = s.body
        print(
            f"{name:<12} {p:>7.3f} {r:>7.3f} {f:>7.3f} {_fmt(s.title_acc):>6} "
            f"{_fmt(s.date_acc):>6} {_fmt(s.author_f1):>7} {s.pages_per_second:>8.1f}"
        )
    if set(SYSTEMS) <= scores.keys():
        w, t = scores["wirehouse"], scores["trafilatura"]
        cells = [_delta(a, b) for a, b in zip(w.body, t.body, strict=True)]
        print(
            f"{'delta w-t':<12} {cells[0]:>7} {cells[1]:>7} {cells[2]:>7} "
            f"{_delta(w.title_acc, t.title_acc):>6} {_delta(w.date_acc, t.date_acc):>6} "
            f"{_delta(w.author_f1, t.author_f1):>7} "
            f"{_delta(w.pages_per_second, t.pages_per_second, 1):>8}"
        )
    for name, s in scores.items():
        notes = [f"empty bodies {s.empty}", f"errors {s.errors}"]
        if s.title_n:
            notes.append(f"title pages {s.title_n}")
        if s.date_n:
            notes.append(f"date pages {s.date_n}")
            notes.append(
                f"date on the {s.date_on_page_n} pages that write the gold day "
                f"{_fmt(s.date_on_page_acc)}"
            )
        if s.author_pages or s.spurious_author_pages:
            notes.append(f"author pages {s.author_pages}")
            notes.append(f"spurious author pages {s.spurious_author_pages}")
        print(f"  {name}: " + ", ".join(notes))


def print_worst(set_name: str, scores: dict[str, Score], count: int = 15) -> None:
    for name, s in scores.items():
        print(f"\n-- {set_name} / {name}: {count} worst pages by body F1 --")
        for row in sorted(s.rows, key=lambda r: r["body_f1"])[:count]:
            print(
                f"  {row['body_f1']:.3f}  P {row['body_p']:.2f} R {row['body_r']:.2f}  "
                f"{row['key']:<34.34} {row['url'][:70]}"
            )


def check_targets(set_name: str, scores: dict[str, Score]) -> list[tuple[str, bool, str]]:
    if not set(SYSTEMS) <= scores.keys():
        return []
    w, t = scores["wirehouse"], scores["trafilatura"]
    (wp, _, wf), (tp, _, tf) = w.body, t.body
    checks = []
    if set_name in TARGET_BODY_F1:
        floor = TARGET_BODY_F1[set_name]
        checks.append((f"{set_name}: body F1 >= {floor}", wf >= floor, f"{wf:.4f}"))
    if set_name in TARGET_BODY_F1_GAIN:
        gain = TARGET_BODY_F1_GAIN[set_name]
        checks.append(
            (
                f"{set_name}: body F1 >= trafilatura + {gain}",
                wf >= tf + gain,
                f"{wf:.3f} vs {tf + gain:.3f}",
            )
        )
    checks += [
        (
            f"{set_name}: body precision >= trafilatura's",
            wp >= tp,
            f"{wp:.3f} vs {tp:.3f}",
        ),
        (
            f"{set_name}: pages/s >= {TARGET_SPEED_RATIO} x trafilatura's",
            w.pages_per_second >= TARGET_SPEED_RATIO * t.pages_per_second,
            f"{w.pages_per_second:.1f} vs {TARGET_SPEED_RATIO * t.pages_per_second:.1f}",
        ),
    ]
    if set_name == "articles_dev":
        for label, value, target in (
            ("date acc (gold day on the page)", w.date_on_page_acc, TARGET_DATE_ACC),
            ("title acc", w.title_acc, TARGET_TITLE_ACC),
            ("author F1", w.author_f1, TARGET_AUTHOR_F1),
        ):
            checks.append(
                (
                    f"{set_name}: {label} >= {target}",
                    value is not None and value >= target,
                    f"{_fmt(value)}",
                )
            )
    return checks


def dump(directory: Path, set_name: str, scores: dict[str, Score]) -> None:
    out = directory / set_name
    out.mkdir(parents=True, exist_ok=True)
    for name, s in scores.items():
        rows = sorted(s.rows, key=lambda r: (r["body_f1"], r["key"]))
        (out / f"{name}.json").write_text(
            json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8"
        )
    print(f"  per-page predictions written to {out}/<system>.json (worst body F1 first)")


def describe_versions() -> str:
    """Which code was measured: the extractor changes often, so name its state."""
    import hashlib

    import trafilatura

    parts = [f"trafilatura {getattr(trafilatura, '__version__', '?')}"]
    try:
        import wirehouse.extract
        import wirehouse.normalise

        for module in (wirehouse.extract, wirehouse.normalise):
            digest = hashlib.sha1(Path(module.__file__).read_bytes()).hexdigest()[:10]
            parts.append(f"{Path(module.__file__).name} sha1 {digest}")
    except Exception as exc:  # reported, and every wirehouse page will count as an error
        parts.append(f"wirehouse import failed: {type(exc).__name__}: {exc}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the extraction data folder")
    ap.add_argument("--set", choices=(*SETS, "all"), default="all", dest="which")
    ap.add_argument("--limit", type=int, default=None, help="first N pages of each set")
    ap.add_argument("--dump", type=Path, default=None, help="write per-page JSON here")
    ap.add_argument("--per-page", action="store_true", help="print the 15 worst pages")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    ap.add_argument("--cpu", type=int, default=0, metavar="ROUNDS", help="CPU speed only")
    ap.add_argument("--cpu-round", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    data: Path = args.data
    if not data.is_dir():
        print(f"extraction benchmark data not found at {data}: skipping")
        return 0
    logging.disable(logging.WARNING)  # trafilatura/htmldate chatter
    if not args.cpu_round:
        print(f"data {data}; {describe_versions()}")

    checks: list[tuple[str, bool, str]] = []
    for set_name in SETS if args.which == "all" else (args.which,):
        root = data / set_name
        if not root.is_dir():
            print(f"\n{set_name}: not found at {root}: skipping")
            continue
        if args.cpu:
            cpu_report(set_name, data, args.limit, args.cpu)
            continue
        pages = LOADERS[set_name](root)[: args.limit]
        htmls = load_html(pages)
        if args.cpu_round:
            cpu_once(pages, htmls)
            continue
        for page, html in zip(pages, htmls, strict=True):
            if page.date:
                page.date_on_page = day_on_page(page.date, html, page.url)
        scores = {name: run_system(name, pages, htmls) for name in SYSTEMS}
        print_table(set_name, scores)
        if args.per_page:
            print_worst(set_name, scores)
        if args.dump:
            dump(args.dump, set_name, scores)
        checks.extend(check_targets(set_name, scores))

    if checks:
        print("\n== targets (wirehouse) ==")
        for label, ok, detail in checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {label}  ({detail})")
    failed = sum(not ok for _, ok, _ in checks)
    if args.strict and failed:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
