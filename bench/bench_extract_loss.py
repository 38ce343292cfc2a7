"""Loss benchmark: does wirehouse's cleanup ever throw away a story bare trafilatura finds?

Issue 14 measured 1,000 saved pages of hard-wrapped wire copy of which 40% came out of the
pipeline as ``extraction_empty``. This script rebuilds that kind of input from every
development page in ``../shared/bench/extraction`` (both sets; see bench/README.md) and
compares, page by page, the words of two bodies:

- ``trafilatura``: ``trafilatura.bare_extraction(html, url=url, with_metadata=True).text``,
  default settings (the same call as bench_extract.py);
- ``wirehouse``: ``wirehouse.extract.extract_article(html, url).body`` (``ExtractionEmpty``
  or any exception is an empty body).

Words are ``wirehouse.normalise.word_count`` (``\\w+`` runs) for both. A page is

- ``empty``: wirehouse's body is empty where trafilatura's has at least 5 words;
- ``shortened``: wirehouse's body has under half of trafilatura's words (and is not empty);
- ``lost``: empty or shortened, and holding less of the gold body's words than
  trafilatura's body does (by more than 5 points): the story, not chrome, went missing.

Variants, each built from the gold body (paragraphs hard-wrapped at 70 columns with
``textwrap``) inside a small page shell (a nav bar, an <h1> with the gold title or the
first words, a footer):

- ``original``: the page as saved (no wrapping);
- ``p_lines``: one ``<p>`` per printed line, paragraphs separated by nothing;
- ``br``: one ``<div>`` with a ``<br>`` after each line, a blank line between paragraphs;
- ``pre``: the wrapped text in one ``<pre>`` block;
- ``div_lines``: one ``<div>`` per printed line, no ``<p>`` at all;
- ``wire``: ``p_lines`` as PA-style wire copy: an all-caps slug, ``----`` rules above and
  below, a ``By Jane Smith, PA News`` line, ``ENDS`` at the foot;
- ``wire_caps``: ``wire`` with the whole story in capitals (old teleprinter archives).

Targets (the issue's), over all pages and variants: no page ``empty``, and under 1%
``shortened``; the table gives the counts per variant. The pages that miss are printed with
both word counts, both gold recalls and wirehouse's ``extraction_path``.

    python bench/bench_extract_loss.py [--data DIR] [--set fundus_eval|articles_dev|all]
                                       [--variants a,b,...] [--limit N] [--strict]

Exit status: 0 (a report; also when the data folder is absent), 2 with ``--strict`` when
a target is missed.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import logging
import re
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench" / "extraction"
SETS = ("fundus_eval", "articles_dev")
WRAP_WIDTH = 70  # a printed wire line; the pages wrap at about this width
MIN_WORDS = 5  # wirehouse.extract.MIN_BODY_WORDS: fewer is "empty" for both systems
LOSS_SHARE = 0.5  # the "under half the words"
TARGET_SHORTENED = 0.01  # the "under 1% shortened past half"
RECALL_MARGIN = 0.05  # "lost story": under trafilatura's gold-word recall by more than this
WORD_RE = re.compile(r"\w+")


@dataclass
class Page:
    set_name: str
    key: str
    url: str
    html_path: Path
    paragraphs: list[str]  # the gold body
    title: str


def load_pages(root: Path, set_name: str) -> list[Page]:
    """The set's pages with their gold bodies (the same files bench_extract.py reads)."""
    base = root / set_name
    pages = []
    if set_name == "fundus_eval":
        truth = json.loads((base / "ground_truth.json").read_text(encoding="utf-8"))
        for name in sorted(truth):
            item = truth[name]
            pages.append(Page(set_name, name, item["url"], base / "html" / name, item["body"], ""))
    else:
        for item in json.loads((base / "articles.json").read_text(encoding="utf-8")):
            html_file = item["html_file"]
            if not html_file.endswith(".html.gz"):
                html_file += ".html.gz"
            paragraphs = [p.strip() for p in (item["text"] or "").split("\n") if p.strip()]
            pages.append(
                Page(
                    set_name,
                    str(item["id"]),
                    item["link"],
                    base / "html" / html_file,
                    paragraphs,
                    item.get("title") or "",
                )
            )
    return pages


# -- variants ------------------------------------------------------------------------------


def wrapped(paragraphs: list[str]) -> list[list[str]]:
    """Each paragraph as its printed lines, escaped for HTML."""
    return [[html.escape(line) for line in textwrap.wrap(p, WRAP_WIDTH)] for p in paragraphs]


def shell(title: str, inner: str) -> str:
    """A saved page around the story: a nav bar, the headline, the story, a footer."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} | Wire Archive</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a>"
        " <a href='/archive'>Archive</a></nav>"
        f"<h1>{html.escape(title)}</h1><div id='story'>{inner}</div>"
        "<footer><p>Wire Archive</p><a href='/about'>About</a>"
        " <a href='/contact'>Contact</a></footer></body></html>"
    )


def p_lines(lines: list[list[str]]) -> str:
    return "".join(f"<p>{line}</p>" for para in lines for line in para)


def br_lines(lines: list[list[str]]) -> str:
    return "<div>" + "<br>\n<br>\n".join("<br>\n".join(para) for para in lines) + "</div>"


def pre_block(lines: list[list[str]]) -> str:
    return "<pre>" + "\n\n".join("\n".join(para) for para in lines) + "</pre>"


def div_lines(lines: list[list[str]]) -> str:
    return "".join(f"<div>{line}</div>" for para in lines for line in para)


def wire_copy(lines: list[list[str]], title: str) -> str:
    slug = "-".join(title.upper().split()[:3]) or "STORY"
    return (
        f"<p>{html.escape(slug)}</p><p>----</p><p>By Jane Smith, PA News</p>"
        + p_lines(lines)
        + "<p>ENDS</p><p>----</p>"
    )


def build(variant: str, page: Page, original: str) -> str:
    """The page's HTML for one variant."""
    if variant == "original":
        return original
    title = page.title or " ".join(" ".join(page.paragraphs).split()[:8])
    lines = wrapped(page.paragraphs)
    if variant == "p_lines":
        return shell(title, p_lines(lines))
    if variant == "br":
        return shell(title, br_lines(lines))
    if variant == "pre":
        return shell(title, pre_block(lines))
    if variant == "div_lines":
        return shell(title, div_lines(lines))
    if variant == "wire":
        return shell(title, wire_copy(lines, title))
    if variant == "wire_caps":
        caps = [[line.upper() for line in para] for para in lines]
        return shell(title.upper(), wire_copy(caps, title))
    raise ValueError(f"unknown variant {variant!r}")


VARIANTS = ("original", "p_lines", "br", "pre", "div_lines", "wire", "wire_caps")


# -- systems -------------------------------------------------------------------------------


def bare_text(page_html: str, url: str) -> str:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(page_html, url=url, with_metadata=True)
    except Exception:  # an extractor failure is an empty body
        return ""
    return getattr(doc, "text", None) or ""


def ours(page_html: str, url: str) -> tuple[str, str]:
    """wirehouse's body and extraction_path ('-' when it gave no article)."""
    from wirehouse.extract import ExtractionEmpty, extract_article

    try:
        record = extract_article(page_html, url)
    except ExtractionEmpty:
        return "", "-"
    except Exception as exc:  # counted as empty, named in the listing
        return "", f"error:{type(exc).__name__}"
    return record.body, getattr(record, "extraction_path", "-")


def gold_recall(text: str, gold: Counter[str]) -> float:
    """Share of the gold body's words (a multiset, lowercased) that the text holds: tells a
    body that dropped story from one that dropped the chrome trafilatura kept."""
    if not gold:
        return 0.0
    return sum((Counter(WORD_RE.findall(text.lower())) & gold).values()) / sum(gold.values())


@dataclass
class Outcome:
    variant: str
    page: Page
    bare: int
    ours: int
    path: str
    bare_recall: float = 0.0  # of the gold body's words
    ours_recall: float = 0.0

    @property
    def lost_story(self) -> bool:
        """Shortened or empty, and holding less of the gold story than trafilatura by
        more than RECALL_MARGIN."""
        return (self.empty or self.shortened) and (
            self.ours_recall < self.bare_recall - RECALL_MARGIN
        )

    @property
    def empty(self) -> bool:
        return self.bare >= MIN_WORDS and self.ours < MIN_WORDS

    @property
    def shortened(self) -> bool:
        return not self.empty and self.ours < LOSS_SHARE * self.bare


def run(pages: list[Page], variants: list[str], log: Callable[[str], None]) -> list[Outcome]:
    from wirehouse.fetch import decode_html
    from wirehouse.normalise import word_count

    outcomes = []
    for i, page in enumerate(pages, 1):
        original = decode_html(gzip.decompress(page.html_path.read_bytes()), None)
        gold = Counter(WORD_RE.findall(" ".join(page.paragraphs).lower()))
        for variant in variants:
            if variant != "original" and not page.paragraphs:
                continue  # no gold text to wrap
            page_html = build(variant, page, original)
            body, path = ours(page_html, page.url)
            bare = bare_text(page_html, page.url)
            outcomes.append(
                Outcome(
                    variant,
                    page,
                    word_count(bare),
                    word_count(body),
                    path,
                    gold_recall(bare, gold),
                    gold_recall(body, gold),
                )
            )
        if i % 50 == 0:
            log(f"  {i}/{len(pages)} pages")
    return outcomes


def report(outcomes: list[Outcome], variants: list[str]) -> bool:
    """Print the per-variant table and the failing pages; True when the targets are met."""
    print(
        f"{'variant':<11} {'pages':>5} {'empty':>5} {'short':>5} {'short%':>6} {'lost':>5}  "
        "extraction_path counts"
    )
    rows = [(v, [o for o in outcomes if o.variant == v]) for v in variants]
    rows.append(("all", outcomes))
    for variant, group in rows:
        empty = sum(o.empty for o in group)
        short = sum(o.shortened for o in group)
        share = short / len(group) if group else 0.0
        paths = Counter(o.path for o in group)
        print(
            f"{variant:<11} {len(group):>5} {empty:>5} {short:>5} {share:>6.1%} "
            f"{sum(o.lost_story for o in group):>5}  "
            + ", ".join(f"{p}={n}" for p, n in sorted(paths.items()))
        )
    losers = [o for o in outcomes if o.empty or o.shortened]
    if losers:
        print(
            "\npages where wirehouse keeps under half of trafilatura's words "
            "(recall = share of the gold body's words each holds):"
        )
        for o in losers:
            print(
                f"  {o.variant:<10} {o.page.set_name}/{o.page.key}: trafilatura {o.bare} "
                f"words (recall {o.bare_recall:.2f}), wirehouse {o.ours} "
                f"(recall {o.ours_recall:.2f}, {o.path})" + ("  LOST" if o.lost_story else "")
            )
    empty = sum(o.empty for o in outcomes)
    share = sum(o.shortened for o in outcomes) / len(outcomes) if outcomes else 0.0
    met = empty == 0 and share < TARGET_SHORTENED
    print(
        f"\ntargets: 0 pages empty that trafilatura fills ({empty}), under "
        f"{TARGET_SHORTENED:.0%} shortened past half ({share:.1%}): {'PASS' if met else 'FAIL'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--limit", type=int, default=0, help="first N pages of each set")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    # make bench-extract passes one BENCH_ARGS to both scripts: ignore bench_extract.py's
    args, _ = parser.parse_known_args(argv)
    if not args.data.is_dir():
        print(f"no benchmark data at {args.data}: skipping the loss benchmark")
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {', '.join(VARIANTS)}")
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    sys.path.insert(0, str(REPO_ROOT / "include"))
    pages = []
    for set_name in SETS if args.set == "all" else [args.set]:
        found = load_pages(args.data, set_name)
        pages.extend(found[: args.limit] if args.limit else found)
    print(f"loss benchmark: {len(pages)} pages x {len(variants)} variants", flush=True)
    outcomes = run(pages, variants, lambda m: print(m, file=sys.stderr, flush=True))
    met = report(outcomes, variants)
    return 2 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
