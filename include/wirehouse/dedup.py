"""Near-duplicate detection: MinHash signatures over word shingles, banded for LSH.

Verbatim copies (syndicated wire copy under another headline, a trimmed ending, a changed
first line) share most of their word 5-shingles. A MinHash signature estimates the
Jaccard similarity of two shingle sets from 128 numbers per article, and locality-sensitive
hashing over bands of the signature finds the candidate pairs without comparing every
article with every other one.

Why these numbers (tested in tests/test_dedup.py):

- 5-word shingles: long enough that two independent reports of one event share almost
  none (people say the same names, not the same five words in a row), short enough that
  an edit changes only the shingles around it.
- 128 permutations in 32 bands of 4 rows: a pair becomes a candidate with probability
  ``1 - (1 - J**4)**32``: 0.99 at J = 0.6 (a copy cut to 60% of its length), 0.87 at
  J = 0.5 (cut to half), 0.05 at J = 0.2 and 0.003 at J = 0.1, so unrelated articles
  are almost never compared.
- A candidate is a duplicate when the estimated *containment* of the shorter article in
  the longer one is at least :data:`DUPLICATE_CONTAINMENT` (0.8): a copy trimmed to half
  its length is still a copy, which Jaccard alone would miss. Containment is derived from
  the Jaccard estimate and the two shingle counts, so no shingle sets are stored.
- Articles shorter than :data:`MIN_SHINGLES` shingles are too short to call copies from
  their text (two one-line briefs can share a sentence by chance); only an equal
  content hash makes them duplicates.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

import numpy as np

SHINGLE_WORDS = 5
PERMUTATIONS = 128
BANDS = 32
ROWS = PERMUTATIONS // BANDS
DUPLICATE_CONTAINMENT = 0.8
MIN_SHINGLES = 20

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
_rng = np.random.RandomState(20261123)  # fixed: signatures must be stable across runs
_A = _rng.randint(1, 1 << 31, size=PERMUTATIONS, dtype=np.int64).astype(np.uint64)
_B = _rng.randint(0, 1 << 31, size=PERMUTATIONS, dtype=np.int64).astype(np.uint64)
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def shingle_hashes(text: str, k: int = SHINGLE_WORDS) -> np.ndarray:
    """32-bit hashes of the text's distinct lowercased word k-shingles.

    Stable across processes (blake2b, not Python's salted ``hash``), so a signature
    computed tonight compares with one stored a month ago."""
    words = _WORD_RE.findall(text.lower())
    if len(words) < k:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i : i + k]) for i in range(len(words) - k + 1)]
    unique = set(grams)
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little")
            for g in unique
        ),
        dtype=np.uint64,
        count=len(unique),
    )


def minhash(hashes: np.ndarray) -> np.ndarray:
    """The 128-value MinHash signature of a set of shingle hashes (uint32 values).

    Universal hashing ``(a*x + b) mod p`` with a Mersenne prime; an empty set gets the
    all-max signature, which never collides with a real one."""
    if hashes.size == 0:
        return np.full(PERMUTATIONS, _MAX_HASH, dtype=np.uint32)
    # x < 2**32 and a < 2**31: the product fits in 63 bits, so uint64 never wraps
    values = (np.outer(hashes, _A) + _B) % _MERSENNE & _MAX_HASH
    return values.min(axis=0).astype(np.uint32)


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 64-bit key per band and signature (rows: signatures of shape (n, PERMUTATIONS)
    or one signature): articles sharing any key are candidate duplicates. Each band's
    rows are folded through the splitmix64 finaliser, with the band number as the seed,
    for all signatures at once (a night compares its articles with a history of 100,000)."""
    rows = np.atleast_2d(signatures).reshape(-1, BANDS, ROWS).astype(np.uint64)
    key = np.broadcast_to(np.arange(BANDS, dtype=np.uint64), rows.shape[:2]).copy()
    for r in range(ROWS):
        key = _splitmix64(key ^ rows[:, :, r])
    return key.view(np.int64)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a cheap 64-bit mix (uint64 arithmetic wraps)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of permutations with the same minimum."""
    return float(np.count_nonzero(sig_a == sig_b)) / PERMUTATIONS


def containment(j: float, size_a: int, size_b: int) -> float:
    """Estimated share of the smaller shingle set found in the larger one.

    From ``|A & B| = J (|A| + |B|) / (1 + J)``; capped at 1 because J is an estimate."""
    smaller = min(size_a, size_b)
    if smaller == 0:
        return 0.0
    return min(1.0, j * (size_a + size_b) / (1.0 + j) / smaller)


def candidate_pairs(
    keys: np.ndarray, first_new: int = 0, eligible: np.ndarray | None = None
) -> set[tuple[int, int]]:
    """Index pairs (i < j, j >= first_new) sharing at least one band key (`keys`: one row
    of :func:`band_keys` per article; rows where `eligible` is False take no part).

    Articles before `first_new` were compared with each other on their own night, so only
    pairs with a new member are made, and only the earlier articles' keys that some new
    article shares are bucketed (a big history is looked up, never enumerated)."""
    keys = np.asarray(keys, dtype=np.int64).reshape(-1, BANDS)
    if eligible is None:
        eligible = np.ones(len(keys), dtype=bool)
    rows = np.arange(len(keys))
    new_keys = keys[first_new:][eligible[first_new:]].ravel()
    old = keys[:first_new]
    hit = np.isin(old, new_keys) & eligible[:first_new, None]
    old_rows, old_bands = np.nonzero(hit)
    new_rows = np.repeat(rows[first_new:][eligible[first_new:]], BANDS)
    buckets: dict[int, list[int]] = defaultdict(list)
    # earlier articles first, each list in row order
    for i, key in zip(old_rows.tolist(), old[old_rows, old_bands].tolist(), strict=True):
        buckets[key].append(i)
    for i, key in zip(new_rows.tolist(), new_keys.tolist(), strict=True):
        buckets[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        if len(members) > 1 and members[-1] >= first_new:
            for y in range(len(members) - 1, 0, -1):
                if members[y] < first_new:
                    break
                for x in range(y):
                    pairs.add((members[x], members[y]))
    return pairs


def is_duplicate(
    sig_a: np.ndarray, size_a: int, sig_b: np.ndarray, size_b: int
) -> tuple[bool, float]:
    """Whether two articles are copies of one text, and the estimated containment."""
    if min(size_a, size_b) < MIN_SHINGLES:
        return False, 0.0
    c = containment(jaccard(sig_a, sig_b), size_a, size_b)
    return c >= DUPLICATE_CONTAINMENT, c
