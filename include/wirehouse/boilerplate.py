"""Per-source boilerplate learned from the data, applied after the extractor.

The extractor and `normalise` drop generic chrome ("Share", "All rights reserved"), but
every site has its own: a newsletter pitch, a "Photo: Agency" credit line, a standing
correction notice, "Updated 3 hours ago". Nobody can list those by hand for every source,
so we learn them: a short paragraph that recurs across many different pages of the same
source is that source's chrome, not its journalism.

How it runs, incrementally and without a wall clock:

1. Each night, `night_stats` counts, per paragraph key, how many distinct pages of the
   source contain it, plus the night's page count. The collector stores these rows.
2. `learn` takes the stored rows of earlier nights plus tonight's, keeps the nights in a
   window ending at the run date, and returns the paragraphs that pass the thresholds.
   That set is what analysts see in the warehouse (with an example and its share).
3. `strip` removes the learned paragraphs from tonight's bodies.

`night_stats` must be fed the bodies *before* `strip`: if it counted stripped bodies, a
learned footer would vanish from the counts, be forgotten after the window, come back,
be learned again, and so on. Counting raw bodies keeps the learned set stable for as long
as the site really carries the chrome.

Why these thresholds (all are parameters of `learn`, the defaults are what we run):

- ``min_pages = 3``: a story republished under a second URL, or one wire story run twice,
  puts *every* paragraph on two pages. Requiring three pages means one republished pair
  can never teach us anything; it takes a paragraph on three different pages.
- ``min_share = 0.3`` (of the source's pages in the window): a big site publishes hundreds
  of pages a night, and an ordinary phrase (a much-quoted line, "The Associated Press
  contributed to this report.") can appear on a handful of them. Chrome appears on a
  large part of a site's pages, so a share threshold keeps common-but-real content; 30%
  still catches chrome that only one section of a site carries.
- ``window_nights = 30``: sites redesign. Counting only the last 30 nights (up to and
  including the run date) means an old footer stops being stripped about a month after it
  disappears from the site, and a short-lived burst of reruns is diluted by the month's
  pages instead of dominating them.
- ``MAX_PARAGRAPH_CHARS = 400``: chrome is short. Long paragraphs are content, and a
  source that reruns or syndicates the same story several times must not learn that
  story's text as boilerplate, so long paragraphs are never counted, learned or stripped.

Paragraphs are matched by `paragraph_key`, which ignores case, whitespace, digits and
punctuation, so "© 2025 Example News" and "© 2026 Example News", or "Updated 3 hours ago"
and "Updated 5 hours ago", are the same paragraph. Bodies that are the same content (the
same paragraph keys in the same order, e.g. one story under two URLs) count as one page.

Pure and deterministic: no I/O, no clock, stdlib only; outputs are sorted.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "BIG_NIGHT_PAGES",
    "DEFAULT_MIN_PAGES",
    "DEFAULT_MIN_SHARE",
    "DEFAULT_WINDOW_NIGHTS",
    "MAX_PARAGRAPH_CHARS",
    "MAX_STRIP_SHARE",
    "LearnedBoilerplate",
    "ParagraphStat",
    "learn",
    "night_stats",
    "paragraph_key",
    "strip",
]

MAX_PARAGRAPH_CHARS = 400
# strip never removes this share of a body's words or more: chrome is a small part of a
# page, so a body mostly made of "learned" paragraphs is hard-wrapped copy (one short
# paragraph per printed line) or a republished text, and stripping it would throw the
# story away (issue 14's no-loss rule, the same half as extract.LOSS_SHARE)
MAX_STRIP_SHARE = 0.5
DEFAULT_WINDOW_NIGHTS = 30
DEFAULT_MIN_PAGES = 3
DEFAULT_MIN_SHARE = 0.3
# from this many pages on, a night keeps no paragraph seen on only one of its pages, and
# stops storing wordings of paragraphs on their first page. Such a paragraph is on under
# 0.1% of the night's pages; it can pass (3 pages and 30% of the window) only if other
# nights carry it, and dropping its single page lowers its window count by 1 per big
# night (its share by at most 1/BIG_NIGHT_PAGES per big night). That is the documented
# error bound; it buys bounded state: bench_memory's 1,000,000-line dump with a distinct
# paragraph per line kept 1M rows with examples (276 MB of peak RSS, issue 14). A source
# with 1,000 pages in one night is big; small sources, whose footer is seen once a
# night and only the window adds up, stay exact.
BIG_NIGHT_PAGES = 1000

_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t\r\f\v]*\n")
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)  # a big night has one per distinct short paragraph
class ParagraphStat:
    """One night's count of a source's pages containing a paragraph (each page once)."""

    source_id: str
    paragraph_key: str
    example: str
    page_count: int
    run_date: str


@dataclass(frozen=True)
class LearnedBoilerplate:
    """A paragraph learned as boilerplate for a source, with the evidence for it.

    ``page_count`` and ``share`` are over the window ending at the ``as_of`` night;
    ``first_seen_run_date`` and ``last_seen_run_date`` are the first and last nights in
    that window on which the paragraph was seen, and ``example`` is its wording on the
    last of them, so analysts see what the site shows now.
    """

    source_id: str
    paragraph_key: str
    example: str
    page_count: int
    share: float
    first_seen_run_date: str
    last_seen_run_date: str


class _LettersOnly(dict[int, str]):
    """A `str.translate` table: a letter or combining mark maps to itself, any other
    character to a space. Filled as characters are met (a page uses a few dozen), so the
    Unicode category is looked up once per character, not once per occurrence: the fold
    took most of a collect task's own time (cProfile, bench-night pages)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        kept = ch if unicodedata.category(ch)[0] in "LM" else " "
        self[code] = kept
        return kept


_LETTERS_ONLY = _LettersOnly()


def _fold(paragraph: str) -> str:
    """Letters (and their combining marks) only, casefolded, single-spaced.

    Digits, punctuation, symbols and whitespace all become word breaks, so years, counts
    and timestamps inside chrome do not make it look new every night.
    """
    text = unicodedata.normalize("NFKC", paragraph).casefold()
    return " ".join(text.translate(_LETTERS_ONLY).split())


def _key_of_fold(folded: str) -> str:
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]


def paragraph_key(paragraph: str) -> str:
    """16 hex characters of sha256 of the paragraph folded for matching.

    The fold ignores case, whitespace, digits and punctuation (and symbols such as ©), so
    the same chrome matches across nights even when its year, count or timestamp changes.
    """
    return _key_of_fold(_fold(paragraph))


def _paragraphs(body: str) -> list[str]:
    """The body's non-empty paragraphs, stripped (bodies separate them by a blank line)."""
    return [p.strip() for p in _PARAGRAPH_BREAK_RE.split(body) if p.strip()]


def _is_candidate(paragraph: str, folded: str) -> bool:
    """Whether a paragraph may ever be boilerplate: short, and with some letters.

    Long paragraphs are content (see the module docstring). A paragraph with no letters at
    all ("2025", "***") folds to nothing and would match every other such paragraph, so it
    is left alone rather than risk stripping a number or score that is the content.
    `folded` is the paragraph's :func:`_fold`, passed in as folding is the costly part.
    """
    return len(paragraph) <= MAX_PARAGRAPH_CHARS and bool(folded)


def _check_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a YYYY-MM-DD date, got {value!r}") from exc


def night_stats(
    source_id: str, run_date: str, bodies: Iterable[str]
) -> tuple[list[ParagraphStat], int]:
    """One source's night: per paragraph key, the number of distinct pages containing it,
    and the number of distinct pages.

    Feed the bodies *before* `strip` (see the module docstring). Bodies with the same
    content (same paragraph keys in the same order: one story republished under another
    URL, or with only its timestamp changed) count as one page, in the page count too, so
    a duplicate can inflate neither the numerator nor the denominator of the share. Empty
    bodies are not pages of evidence and are not counted. Each page counts a paragraph
    once however often it repeats it. Paragraphs seen on a single page are kept: a small
    source publishing one story a night shows its footer once a night, and only the
    window adds that up. A night of BIG_NIGHT_PAGES pages or more keeps only paragraphs
    on at least two of its pages (bounded state; the error bound is at BIG_NIGHT_PAGES).

    ``example`` is the lexicographically smallest wording of the paragraph that night
    (for one first seen past page BIG_NIGHT_PAGES, from its second page on), so the output
    of an ordinary night does not depend on the order the pages arrived in. Rows are sorted by
    page count (descending), then key.
    """
    _check_date(run_date, "run_date")
    # a digest of each page's paragraph keys, not the keys: a big night has a million pages
    seen_bodies: set[bytes] = set()
    # keyed by the 8 bytes of `paragraph_key`, not its 16-character text (half the memory)
    counts: dict[bytes, int] = {}
    examples: dict[bytes, str] = {}
    pages = 0
    for body in bodies:
        paragraphs = _paragraphs(body)
        if not paragraphs:
            continue
        folds = [_fold(p) for p in paragraphs]  # each paragraph folded once
        keys = [_key_of_fold(f) for f in folds]
        identity = hashlib.sha256(" ".join(keys).encode("ascii")).digest()[:16]
        if identity in seen_bodies:
            continue
        seen_bodies.add(identity)
        pages += 1
        big = pages > BIG_NIGHT_PAGES
        on_page: set[bytes] = set()
        for paragraph, folded, hex_key in zip(paragraphs, folds, keys, strict=True):
            if not _is_candidate(paragraph, folded):
                continue
            key = bytes.fromhex(hex_key)
            if key in examples:
                if paragraph < examples[key]:
                    examples[key] = paragraph
            elif not big or key in counts:
                # on a big night a first sighting keeps no wording: most never recur
                examples[key] = paragraph
            on_page.add(key)
        for key in on_page:
            counts[key] = counts.get(key, 0) + 1
    keep = 2 if pages >= BIG_NIGHT_PAGES else 1
    stats = [
        ParagraphStat(
            source_id=source_id,
            paragraph_key=key.hex(),
            example=examples[key],
            page_count=count,
            run_date=run_date,
        )
        for key, count in counts.items()
        if count >= keep
    ]
    stats.sort(key=lambda s: (-s.page_count, s.paragraph_key))
    return stats, pages


def learn(
    history: list[ParagraphStat],
    page_totals: dict[str, int],
    as_of: str,
    window_nights: int = DEFAULT_WINDOW_NIGHTS,
    min_pages: int = DEFAULT_MIN_PAGES,
    min_share: float = DEFAULT_MIN_SHARE,
) -> list[LearnedBoilerplate]:
    """The boilerplate of one source as of a night, from its stored nightly counts.

    Only nights ``as_of - window_nights < run_date <= as_of`` count (the run date and the
    ``window_nights - 1`` nights before it): later nights are ignored so a re-run of an old
    night gives what it gave then, and earlier ones are forgotten so changed chrome is.
    A paragraph is learned when it is on at least ``min_pages`` pages in the window and on
    at least ``min_share`` of the source's pages in the window (the sum of
    ``page_totals`` over the window's nights, including nights it was absent, so chrome a
    site has dropped loses share). Thresholds are justified in the module docstring.

    ``history`` holds the rows `night_stats` made for this source, over any span of nights;
    ``page_totals`` maps run date to that night's page count. A night stored twice (a
    re-run appended rather than replaced) is collapsed, not added up. Raises ValueError for
    rows of several sources, or a row whose night has no page total or counts more pages
    than that night had. Sorted by page count (descending), then key.
    """
    end = _check_date(as_of, "as_of")
    if window_nights < 1:
        raise ValueError(f"window_nights must be at least 1, got {window_nights}")
    start = end - timedelta(days=window_nights)

    def in_window(run_date: str) -> bool:
        return start < _check_date(run_date, "run_date") <= end

    sources = {s.source_id for s in history}
    if len(sources) > 1:
        raise ValueError(f"learn() takes one source's history, got {sorted(sources)}")
    if not sources:
        return []
    (source_id,) = sources

    total_pages = sum(n for night, n in page_totals.items() if in_window(night))
    # (key, night) -> row; a repeated night keeps its largest count (idempotent).
    # an upper bound of each key's page count (repeated nights not yet collapsed): only keys
    # that could pass are kept below, so a big night's million one-page paragraphs cost
    # one counter each here, not a row in every table of this function
    bound: dict[str, int] = {}
    for stat in history:
        if not in_window(stat.run_date):
            continue
        if stat.run_date not in page_totals:
            raise ValueError(f"no page total for night {stat.run_date} of {source_id}")
        if stat.page_count > page_totals[stat.run_date]:
            raise ValueError(
                f"{source_id} {stat.run_date}: paragraph {stat.paragraph_key} on "
                f"{stat.page_count} pages of {page_totals[stat.run_date]}"
            )
        bound[stat.paragraph_key] = bound.get(stat.paragraph_key, 0) + stat.page_count
    need = max(min_pages, min_share * total_pages * (1 - 1e-9))  # never stricter than _judge
    possible = {key for key, count in bound.items() if count >= need}
    del bound
    per_night: dict[tuple[str, str], ParagraphStat] = {}
    for stat in history:
        if stat.paragraph_key not in possible or not in_window(stat.run_date):
            continue
        slot = (stat.paragraph_key, stat.run_date)
        current = per_night.get(slot)
        if current is None or (stat.page_count, stat.example) > (
            current.page_count,
            current.example,
        ):
            per_night[slot] = stat
    if total_pages <= 0:
        return []

    by_key: dict[str, list[ParagraphStat]] = {}
    for (key, _night), stat in per_night.items():
        by_key.setdefault(key, []).append(stat)

    learned = [
        item
        for key, stats in by_key.items()
        if (item := _judge(source_id, key, stats, total_pages, min_pages, min_share))
    ]
    learned.sort(key=lambda b: (-b.page_count, b.paragraph_key))
    return learned


def _judge(
    source_id: str,
    key: str,
    stats: Iterable[ParagraphStat],
    total_pages: int,
    min_pages: int,
    min_share: float,
) -> LearnedBoilerplate | None:
    seen = sorted((s for s in stats if s.page_count > 0), key=lambda s: (s.run_date, s.example))
    if not seen:
        return None
    page_count = sum(s.page_count for s in seen)
    share = page_count / total_pages
    if page_count < min_pages or share < min_share:
        return None
    last_night = seen[-1].run_date
    example = min(s.example for s in seen if s.run_date == last_night)
    return LearnedBoilerplate(
        source_id=source_id,
        paragraph_key=key,
        example=example,
        page_count=page_count,
        share=share,
        first_seen_run_date=seen[0].run_date,
        last_seen_run_date=last_night,
    )


def strip(body: str, learned_keys: set[str]) -> tuple[str, list[str]]:
    """The body without its learned boilerplate paragraphs, and the paragraphs removed.

    Only paragraphs that could have been learned (short, with letters) are removed, so a
    long paragraph is never stripped even if its key somehow were in the set. When
    nothing is removed the body comes back exactly as given. When *every* paragraph would
    go, the body is returned unchanged with nothing removed: a page that is all chrome is
    an extraction or discovery problem to notice downstream, not something to blank. The
    same holds when the learned paragraphs hold MAX_STRIP_SHARE of the body's words or
    more: cleanup may shorten a body, never throw its story away.
    """
    paragraphs = _paragraphs(body)
    kept: list[str] = []
    removed: list[str] = []
    for paragraph in paragraphs:
        folded = _fold(paragraph)
        if _is_candidate(paragraph, folded) and _key_of_fold(folded) in learned_keys:
            removed.append(paragraph)
        else:
            kept.append(paragraph)
    if not removed or not kept:
        return body, []
    removed_words = sum(len(_WORD_RE.findall(p)) for p in removed)
    if removed_words >= MAX_STRIP_SHARE * len(_WORD_RE.findall(body)):
        return body, []
    return "\n\n".join(kept), removed
