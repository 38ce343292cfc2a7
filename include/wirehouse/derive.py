"""Derivation: was this article rewritten from that earlier one?

A content-farm rewrite follows its source sentence by sentence: it swaps verbs and
adjectives but keeps the names, numbers and most content words of each sentence, in the
same order. An independent report of the same event shares the names too, but its
sentences are its own: different facts in a different order.

The derivation score of article A from an earlier article B is the share of A's sentences
whose content words are mostly (:data:`SENTENCE_OVERLAP`) found in one sentence of B, with
the matched sentences of B advancing in order (a longest increasing run, so a rewrite that
reorders a few sentences still scores high while a shuffle of shared facts does not).
A is derived from B when the score is at least :data:`DERIVED_SCORE`. Tested on a
paraphrased rewrite and on independent reports of one event in tests/test_derive.py.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from wirehouse.textvec import STOPWORDS

SENTENCE_OVERLAP = 0.4
DERIVED_SCORE = 0.45
MIN_CONTENT_WORDS = 4

_SENTENCE_RE = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def content_words(sentence: str) -> frozenset[str]:
    """Lowercased words minus stopwords, with plurals folded; short words carry little."""
    words = set()
    for w in _WORD_RE.findall(sentence.lower()):
        if w in STOPWORDS or (len(w) < 3 and not w.isdigit()):
            continue
        if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        words.add(w)
    return frozenset(words)


def sentences(body: str) -> list[frozenset[str]]:
    """Content-word sets of the body's sentences that have enough content to compare."""
    parts = (p.strip() for p in _SENTENCE_RE.split(body))
    sets = (content_words(p) for p in parts if p)
    return [s for s in sets if len(s) >= MIN_CONTENT_WORDS]


def _best_match(words: frozenset[str], source: Sequence[frozenset[str]]) -> int | None:
    """Index of the source sentence covering most of `words`, if it covers enough."""
    best, best_score = None, 0.0
    for index, candidate in enumerate(source):
        score = len(words & candidate) / len(words)
        if score > best_score:
            best, best_score = index, score
    return best if best_score >= SENTENCE_OVERLAP else None


def _longest_increasing(values: Sequence[int]) -> int:
    tails: list[int] = []
    for v in values:
        i = bisect.bisect_left(tails, v)
        if i == len(tails):
            tails.append(v)
        else:
            tails[i] = v
    return len(tails)


def derivation_score(derived: Sequence[frozenset[str]], source: Sequence[frozenset[str]]) -> float:
    """Share of `derived`'s sentences matched, in order, by sentences of `source`."""
    if not derived or not source:
        return 0.0
    matches = [m for m in (_best_match(s, source) for s in derived) if m is not None]
    return round(_longest_increasing(matches) / len(derived), 4)
