"""Term vectors of articles: what story clustering compares.

An article is reduced to its most telling terms: lowercased words minus stopwords, with
names counted more (a capitalised word inside a sentence is usually a name, and names are
what tell two earthquakes or two trials apart), the headline and the lead counted more
(the event is stated there; the end of an article drifts into background), and numbers
kept (scores, magnitudes, death tolls). Weights are sublinear term frequency times inverse
document frequency over the whole warehouse, L2-normalised and cut to the top
:data:`VECTOR_TERMS` terms so the vectors stay small enough to keep for every article.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

VECTOR_TERMS = 80
NAME_BOOST = 2.0
TITLE_BOOST = 2.0
LEAD_WORDS = 120
LEAD_BOOST = 1.5
SALIENT_NAMES = 15

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can could did didn do does doing don down during
    each few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would
    you your yours yourself yourselves said says say told according mr mrs ms dr one two
    three new would could may might must shall also however including including since yet
    last first year years week weeks day days time times people percent per cent like well
    back still even many much made make get got go going went come came take took see seen
    around told tell reported report reports news monday tuesday wednesday thursday friday
    saturday sunday today yesterday tomorrow am pm et gmt utc just way part another us via
"""
# the commonest function words of other Latin-script languages wirehouse sees, so a French
# or Spanish article is not similar to another merely by sharing "les" and "des"
_OTHER_STOPWORDS_TEXT = """
    le la les un une des du de et en au aux ce ces cette est sont pour par sur dans avec qui
    que quoi ne pas plus ou il elle ils elles nous vous leur leurs son sa ses été être avait
    el los las del al y o un una unos unas es son por para con sin sobre entre como pero más
    su sus lo se ha han fue der die das und ist im ein eine einer eines dem den zu mit von
    auf für nicht sich auch als bei nach aus wie wird werden il lo gli della delle dei di da
    che non per con una sono nel nella os as um uma dos das no na em com não mais foi
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split()) | frozenset(_OTHER_STOPWORDS_TEXT.split())

_TOKEN_RE = re.compile(r"[^\W_]+(?:[.'’&-][^\W_]+)*", re.UNICODE)
_SENTENCE_END_RE = re.compile(r"[.!?:;\"“”]\s*$")


def _stem(token: str) -> str:
    """A very light stemmer: possessives and plain plurals fold onto the singular, so
    'Saints'/'Saint' and 'quakes'/'quake' count as one term; anything cleverer costs more
    than it buys on news text."""
    for suffix in ("'s", "’s"):
        if token.endswith(suffix):
            token = token[: -len(suffix)]
    if len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    return token.replace("’", "'")


def article_terms(title: str | None, body: str) -> tuple[Counter[str], list[str]]:
    """Term counts (headline, lead and name boosts applied) and salient names of an
    article, from one pass over its tokens (tokenising is most of the cost)."""
    counts: Counter[str] = Counter()
    names: Counter[str] = Counter()
    if title:
        for token, _ in _tokens(title):
            counts[token] += TITLE_BOOST
    for index, (token, is_name) in enumerate(_tokens(body)):
        weight = LEAD_BOOST if index < LEAD_WORDS else 1.0
        if is_name:
            names[token] += weight
            weight *= NAME_BOOST
        counts[token] += weight
    for match in _TOKEN_RE.finditer(title or ""):
        raw = match.group()
        lower = raw.lower()
        if raw[0].isupper() and lower not in STOPWORDS and not lower.isdigit():
            names[_stem(lower)] += TITLE_BOOST
    return counts, _top(names, SALIENT_NAMES)


def weighted_terms(title: str | None, body: str) -> Counter[str]:
    """Term counts of an article, with headline, lead and name boosts applied."""
    return article_terms(title, body)[0]


def salient_names(title: str | None, body: str) -> list[str]:
    """The names an article is about: name terms ranked by mentions, the headline's and
    the lead's counting more. Two reports of one event share their main names; two events
    of the same kind (two arrests, two earthquakes) usually do not."""
    return article_terms(title, body)[1]


def _top(weights: Mapping[str, float], limit: int) -> list[str]:
    return [t for t, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _tokens(text: str) -> Iterable[tuple[str, bool]]:
    """(term, looks like a name) for each kept token, in order."""
    previous_end = 0
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        before = text[previous_end : match.start()]
        previous_end = match.end()
        lower = raw.lower()
        if lower in STOPWORDS or (len(lower) < 2 and not lower.isdigit()):
            continue
        if lower.isdigit() and len(lower) < 2:
            continue
        sentence_start = (
            match.start() == 0 or "\n" in before or bool(_SENTENCE_END_RE.search(before))
        )
        is_name = raw[0].isupper() and not sentence_start and (not raw.isupper() or len(raw) <= 5)
        term = _stem(lower)
        if term and term not in STOPWORDS:
            yield term, is_name


def idf(document_frequency: int, documents: int) -> float:
    """Smoothed inverse document frequency; never below 1 so no term weighs nothing."""
    return math.log((documents + 1) / (document_frequency + 1)) + 1.0


def tfidf_vector(
    counts: Mapping[str, float],
    document_frequency: Mapping[str, int],
    documents: int,
    terms: int = VECTOR_TERMS,
) -> dict[str, float]:
    """The article's unit-length vector over its top `terms` terms."""
    return tfidf_vectors([counts], document_frequency, documents, terms)[0]


def tfidf_vectors(
    counts: Sequence[Mapping[str, float]],
    document_frequency: Mapping[str, int],
    documents: int,
    terms: int = VECTOR_TERMS,
) -> list[dict[str, float]]:
    """Unit-length vectors over each article's top `terms` terms (weight: sublinear term
    frequency times :func:`idf`; ties by term), computed for all articles at once in
    numpy: a night weighs tens of thousands of articles, and term by term in Python that
    was a fifth of the story stage."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    for row, article in enumerate(counts):
        for term, count in article.items():
            if count > 0:
                rows.append(row)
                columns.append(vocabulary.setdefault(term, len(vocabulary)))
                values.append(count)
    words = list(vocabulary)
    if not rows:
        return [{} for _ in counts]
    # ties are broken by the term itself, so the cut at `terms` does not depend on order
    alphabetical = np.empty(len(words), dtype=np.int64)
    alphabetical[np.argsort(np.asarray(words, dtype=object), kind="stable")] = np.arange(len(words))
    idfs = np.asarray(
        [idf(document_frequency.get(w, 0), documents) for w in words], dtype=np.float64
    )
    row = np.asarray(rows, dtype=np.int64)
    col = np.asarray(columns, dtype=np.int64)
    weight = (1.0 + np.log(np.asarray(values, dtype=np.float64))) * idfs[col]
    order = np.lexsort((alphabetical[col], -weight, row))
    row, col, weight = row[order], col[order], weight[order]
    starts = np.searchsorted(row, np.arange(len(counts)))
    keep = np.arange(row.size) - starts[row] < terms
    row, col, weight = row[keep], col[keep], weight[keep]
    norms = np.sqrt(np.bincount(row, weights=weight * weight, minlength=len(counts)))
    norms[norms == 0] = 1.0
    weight = weight / norms[row]
    bounds = np.searchsorted(row, np.arange(len(counts) + 1))
    names = [words[c] for c in col.tolist()]
    scaled = weight.tolist()
    return [
        dict(zip(names[lo:hi], scaled[lo:hi], strict=True))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Sparse dot product, iterating the smaller vector."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())
