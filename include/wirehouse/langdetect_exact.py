"""langdetect's ``detect_langs``, same answers, about twice as fast.

Language detection was half of a page's extraction time (cProfile over the bench-night
pages): langdetect 1.0.9 walks the text one character at a time through method calls
(``NGram.add_char``, ``NGram.normalize``) and updates 55 language probabilities in a
Python loop per sampled n-gram. This module runs the same algorithm on the same detector
state, with the character walk as one tight loop (each character normalised through a
translate table) and the probability updates on NumPy arrays. Every floating-point
operation is the one langdetect does, in the same order (element-wise products and
quotients; the sum that normalises is a running sum like Python's ``sum`` on 3.11, not
NumPy's pairwise one), and the random draws are the same calls on the same seeded
generator, so the languages and probabilities are identical:
tests/test_langdetect_exact.py compares them on the extraction benchmark's pages and on
texts in many languages and scripts.

langdetect is pinned (1.0.9, unchanged since 2021) as this relies on its internals:
``Detector.append``/``cleaning_text`` (reused as is), its constants and profile map.
"""

from __future__ import annotations

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.language import Language
from langdetect.utils.ngram import NGram


class _Normalised(dict[int, str]):
    """A `str.translate` table: code point -> ``NGram.normalize`` of its character (a pure
    function of one character, always one character), computed once per character met."""

    def __missing__(self, code: int) -> str:
        normalised = self[code] = NGram.normalize(chr(code))
        return normalised


_NORMALISED = _Normalised()
# n-gram -> its 55 language probabilities as an array (built once per n-gram met)
_WORD_PROBS: dict[str, np.ndarray] = {}


def _factory():  # type: ignore[no-untyped-def]
    import langdetect.detector_factory as factory_module

    init_factory()
    return factory_module._factory


def ngrams(text: str, known: dict[str, list[float]]) -> list[str]:
    """``Detector._extract_ngrams`` of `text`: the 1-, 2- and 3-grams with a profile, in
    order, skipping those inside all-capital words (``NGram.add_char``'s state machine)."""
    result: list[str] = []
    append = result.append
    grams = " "
    capital = False
    for ch in text.translate(_NORMALISED):
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
            if ch == " ":
                continue  # add_char returns; the n-grams of " " are never kept
        elif len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        # n = 1, 2, 3 while the buffer is long enough (grams is never empty here)
        if ch != " " and ch in known:
            append(ch)
        size = len(grams)
        if size < 2:
            continue
        w = grams[-2:]
        if w in known:
            append(w)
        if size < 3:
            continue
        if grams in known:  # len(grams) is at most N_GRAM = 3: grams[-3:] is grams
            append(grams)
    return result


def _probs(word: str, known: dict[str, list[float]]) -> np.ndarray:
    probs = _WORD_PROBS.get(word)
    if probs is None:
        probs = _WORD_PROBS[word] = np.array(known[word], dtype=np.float64)
    return probs


def _normalise(prob: np.ndarray) -> float:
    """``Detector._normalize_prob``: divide by the running sum (left to right, as
    Python's ``sum`` of floats on 3.11), return the largest probability."""
    prob /= np.cumsum(prob)[-1]
    return float(prob.max())


def _trials(detector: Detector, found: list[str]) -> np.ndarray:
    """``Detector._detect_block`` after the n-grams: n_trial random walks, averaged."""
    known = detector.word_lang_prob_map
    count = len(detector.langlist)
    langprob = np.zeros(count, dtype=np.float64)
    rng = detector.random
    rng.seed(detector.seed)
    for _ in range(detector.n_trial):
        if detector.prior_map is not None:
            prob = np.array(detector.prior_map, dtype=np.float64)
        else:
            prob = np.full(count, 1.0 / count, dtype=np.float64)
        alpha = detector.alpha + rng.gauss(0.0, 1.0) * detector.ALPHA_WIDTH
        weight = alpha / detector.BASE_FREQ
        i = 0
        while True:
            prob *= weight + _probs(rng.choice(found), known)
            if i % 5 == 0 and (
                _normalise(prob) > detector.CONV_THRESHOLD or i >= detector.ITERATION_LIMIT
            ):
                break
            i += 1
        langprob += prob / detector.n_trial
    return langprob


def detect_langs(text: str) -> list[Language]:
    """``langdetect.detect_langs(text)``: the languages above langdetect's threshold,
    most probable first (raises LangDetectException as it does for text without
    features)."""
    detector = _factory().create()
    detector.append(text)
    detector.cleaning_text()
    found = ngrams(detector.text, detector.word_lang_prob_map)
    if not found:
        raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
    langprob = _trials(detector, found)
    return detector._sort_probability([float(p) for p in langprob])
