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

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

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
    article, from one pass over its tokens (tokenising is most of the cost). The names
    are ranked by mentions, the headline's and the lead's counting more: two reports of
    one event share their main names; two events of one kind usually do not."""
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


def idf(document_frequency: np.ndarray, documents: int) -> np.ndarray:
    """Smoothed inverse document frequency; never below 1 so no term weighs nothing."""
    return np.log((documents + 1) / (document_frequency + 1.0)) + 1.0


class Vocabulary:
    """Term <-> column id for one night's matrices: every article's terms are kept as ids
    into one vocabulary (an int32 and a float per term), not as a dict of strings each,
    which at 100,000 articles was gigabytes."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.words: list[str] = []
        self._rank: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, terms: Iterable[str]) -> np.ndarray:
        """The column ids of `terms`, adding the ones not seen yet."""
        index, words = self.index, self.words
        out = []
        for term in terms:
            column = index.get(term)
            if column is None:
                column = index[term] = len(words)
                words.append(term)
                self._rank = None
            out.append(column)
        return np.asarray(out, dtype=np.int32)

    def rank(self) -> np.ndarray:
        """Each column's place in alphabetical order: ties between equal weights are
        broken by the term itself, so results do not depend on the order terms came in."""
        if self._rank is None or self._rank.size != len(self.words):
            rank = np.empty(len(self.words), dtype=np.int64)
            order = np.argsort(np.asarray(self.words, dtype=object), kind="stable")
            rank[order] = np.arange(len(self.words))
            self._rank = rank
        return self._rank


def count_matrix(rows: Sequence[tuple[np.ndarray, np.ndarray]], width: int) -> sparse.csr_matrix:
    """Per-article (column ids, counts) as the rows of one sparse matrix."""
    lengths = np.fromiter((ids.size for ids, _ in rows), dtype=np.int64, count=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    if rows and indptr[-1]:
        columns = np.concatenate([ids for ids, _ in rows]).astype(np.int32, copy=False)
        values = np.concatenate([c for _, c in rows]).astype(np.float64, copy=False)
    else:
        columns, values = np.empty(0, np.int32), np.empty(0, np.float64)
    return sparse.csr_matrix((values, columns, indptr), shape=(len(rows), max(1, width)))


def widen(matrix: sparse.csr_matrix, width: int) -> sparse.csr_matrix:
    """The same rows over a vocabulary that has grown to `width` columns."""
    if matrix.shape[1] >= width:
        return matrix
    return sparse.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width)
    )


def tfidf_matrix(
    counts: sparse.csr_matrix,
    document_frequency: np.ndarray,
    documents: int,
    rank: np.ndarray,
    terms: int = VECTOR_TERMS,
) -> sparse.csr_matrix:
    """Unit-length vectors over each row's top `terms` terms (weight: sublinear term
    frequency times :func:`idf`; ties by term, via `rank`), all rows at once in numpy: a
    night weighs tens of thousands of articles, and term by term in Python that was a
    fifth of the story stage. `document_frequency` is per column."""
    counts = counts.tocsr()
    n = counts.shape[0]
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(counts.indptr))
    positive = counts.data > 0
    row, col, value = (
        row[positive],
        counts.indices[positive].astype(np.int64),
        counts.data[positive],
    )
    if not row.size:
        return sparse.csr_matrix((n, counts.shape[1]))
    weight = (1.0 + np.log(value)) * idf(document_frequency[col], documents)
    indptr = np.searchsorted(row, np.arange(n + 1))
    chosen, _ = top_per_row(indptr, weight, rank[col], terms)
    row, col, weight = row[chosen], col[chosen], weight[chosen]
    norms = np.sqrt(np.bincount(row, weights=weight * weight, minlength=n))
    norms[norms == 0] = 1.0
    weight = weight / norms[row]
    indptr = np.searchsorted(row, np.arange(n + 1))
    return sparse.csr_matrix((weight, col.astype(np.int32), indptr), shape=counts.shape)


def top_per_row(
    indptr: np.ndarray, weight: np.ndarray, tie: np.ndarray, limit: int, block: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """For entries laid out by row (CSR `indptr`), the positions of each row's `limit`
    heaviest entries (ties: smaller `tie` first), rows in order and each row's heaviest
    first, with each one's place in its row. Rows are sorted side by side in padded
    blocks: sorting each short row on its own is several times faster than one sort of
    every entry by (row, weight, tie)."""
    n = indptr.size - 1
    positions: list[np.ndarray] = []
    places: list[np.ndarray] = []
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        lo, hi = int(indptr[r0]), int(indptr[r1])
        lengths = np.diff(indptr[r0 : r1 + 1])
        if hi == lo:
            continue
        width = int(lengths.max())
        local = np.repeat(np.arange(r1 - r0), lengths)
        place = np.arange(hi - lo) - np.repeat(indptr[r0:r1] - lo, lengths)
        heavy = np.full((r1 - r0, width), np.inf)
        ties = np.zeros((r1 - r0, width), dtype=np.int64)
        where = np.full((r1 - r0, width), -1, dtype=np.int64)
        heavy[local, place] = -weight[lo:hi]
        ties[local, place] = tie[lo:hi]
        where[local, place] = np.arange(lo, hi)
        order = np.lexsort((ties, heavy), axis=-1)[:, :limit]
        chosen = np.take_along_axis(where, order, axis=1)
        valid = chosen >= 0
        positions.append(chosen[valid])
        places.append(np.nonzero(valid)[1])
    if not positions:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(positions), np.concatenate(places)


@dataclass
class VectorSet:
    """Unit-length term vectors of some articles: one row each of a sparse matrix whose
    columns are a shared :class:`Vocabulary`'s terms."""

    ids: list[str]
    matrix: sparse.csr_matrix
    vocabulary: Vocabulary
    index: dict[str, int] = field(init=False)
    _top: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.index = {article_id: i for i, article_id in enumerate(self.ids)}
        self.matrix = widen(self.matrix.tocsr(), len(self.vocabulary))

    @classmethod
    def from_dicts(cls, vectors: Mapping[str, Mapping[str, float]]) -> VectorSet:
        """Vectors given as {article: {term: weight}} (small cases, tests)."""
        vocabulary = Vocabulary()
        ids = sorted(vectors)
        rows = [
            (vocabulary.ids(vectors[a].keys()), np.fromiter(vectors[a].values(), float))
            for a in ids
        ]
        return cls(ids, count_matrix(rows, len(vocabulary)), vocabulary)

    def subset(self, article_ids: Sequence[str]) -> VectorSet:
        """These articles' rows (every one must be here)."""
        rows = np.asarray([self.index[a] for a in article_ids], dtype=np.int64)
        top = {limit: columns[rows] for limit, columns in self._top.items()}
        return VectorSet(list(article_ids), self.matrix[rows], self.vocabulary, top)

    def concat(self, other: VectorSet) -> VectorSet:
        """Both sets' rows (over the same vocabulary), this one's first."""
        width = len(self.vocabulary)
        matrix = sparse.vstack([widen(self.matrix, width), widen(other.matrix, width)])
        top = {
            limit: np.vstack([columns, other._top[limit]])
            for limit, columns in self._top.items()
            if limit in other._top
        }
        return VectorSet(self.ids + other.ids, matrix.tocsr(), self.vocabulary, top)

    def top_terms(self, limit: int) -> np.ndarray:
        """Each row's `limit` heaviest columns (ties by term), -1 where a row has fewer:
        (rows, limit). Computed once per set and carried into subsets, since the
        candidate search asks for them again on overlapping sets of rows."""
        if limit not in self._top:
            matrix = self.matrix
            n = matrix.shape[0]
            chosen, place = top_per_row(
                matrix.indptr, matrix.data, self.vocabulary.rank()[matrix.indices], limit
            )
            row = np.searchsorted(matrix.indptr, chosen, side="right") - 1
            top = np.full((n, limit), -1, dtype=np.int64)
            top[row, place] = matrix.indices[chosen]
            self._top[limit] = top
        return self._top[limit]
