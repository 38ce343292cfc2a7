"""Story assignment: every outlet's version of one event in one story, night by night.

Each night re-clusters tonight's articles together with the recent stories they touch,
by group-average agglomerative clustering (UPGMA) over a sparse similarity graph:

- Edges are cosine similarities of the articles' term vectors (:mod:`wirehouse.textvec`),
  computed only for pairs that share one of their rarer key terms (an inverted index, no
  all-pairs comparison).
- A recent story is touched when one of its articles is at least :data:`REGION_MIN`
  similar to a new article; its members are clustered again with tonight's articles, with
  tonight's document frequencies, so an early night's mistake (made when few documents
  were known) is undone. Untouched stories stay as they are.
- The closest pair of groups merges while their average similarity is at least
  :data:`STORY_THRESHOLD`, their stated publication times are within
  :data:`WINDOW_DAYS` of each other (an undated article is not placed in time), their
  languages agree and they are not each built around a name the other lacks. Then a
  group of at most :data:`SMALL_STORY` articles joins the larger group it is on average
  closest to, at :data:`ATTACH_THRESHOLD` or more.

Group average, not single link, is what keeps two earthquakes apart: one article that
mentions both cannot chain them, because every member of one story must on average be
close to every member of the other.

Copies are decided first (:mod:`wirehouse.dedup`): a copy joins its representative's story
and is not clustered on its own, so a wire story printed by fifty papers counts once.

Ids are stable (:func:`carry_ids`): an earlier story lives on in the group holding most of
its members; when a group holds several, the oldest keeps its id and the merges are
returned for ``fct_story_merges``; a group with no earlier story takes an id derived from
its earliest article (never one used before), so re-running a night gives the same ids.
Earlier articles that land in another story are returned as moves.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse

from wirehouse import dedup, derive, textvec

STORY_THRESHOLD = 0.2
CORE_NAMES = 5
CORE_SHARE = 0.6
ABSENT_SHARE = 0.1
CONFLICT_MIN_SIZE = 2
WINDOW_DAYS = 7
KEY_TERMS = 12
MAX_POSTING = 100
PAIR_CHUNK = 50_000
MIN_EDGE = 0.05
MAX_DERIVATION_SOURCES = 25
SMALL_STORY = 3
ATTACH_THRESHOLD = STORY_THRESHOLD / 2
REGION_MIN = ATTACH_THRESHOLD


@dataclass
class NewArticle:
    """An article collected tonight that has no story yet."""

    article_id: str
    source_id: str
    title: str | None
    body: str
    published_at: datetime | None
    observed_at: datetime
    content_hash: str | None = None
    names: list[str] = field(default_factory=list)
    language: str | None = None


@dataclass
class KnownArticle:
    """An article of an earlier night, with the state kept for it in the warehouse."""

    article_id: str
    story_id: str
    source_id: str
    time: datetime
    signature: np.ndarray
    shingle_count: int
    duplicate_of: str | None = None
    content_hash: str | None = None
    names: list[str] = field(default_factory=list)
    language: str | None = None
    published: datetime | None = None  # the stated publication time, when there is one
    duplicate_score: float | None = None


@dataclass
class Features:
    """What is kept per article so later nights can compare with it."""

    term_counts: Counter[str]
    names: list[str]
    signature: np.ndarray
    shingle_count: int


@dataclass
class Assignment:
    """Tonight's result for one new article."""

    article_id: str
    story_id: str
    duplicate_of: str | None = None
    duplicate_score: float | None = None
    story_similarity: float | None = None


@dataclass
class Move:
    """An earlier article that tonight's re-clustering put in another story (other than
    by a merge, which moves the whole story and is recorded as such)."""

    article_id: str
    story_id: str
    story_similarity: float | None  # None for a copy: it follows its representative


@dataclass
class StoryMerge:
    merged_story_id: str
    into_story_id: str
    similarity: float


@dataclass
class NightResult:
    assignments: list[Assignment]
    merges: list[StoryMerge]
    vectors: dict[str, dict[str, float]] = field(default_factory=dict)  # tonight's weighting
    moves: list[Move] = field(default_factory=list)
    regrouped: dict[str, str] = field(default_factory=dict)  # every re-clustered article


def article_time(published_at: datetime | None, observed_at: datetime) -> datetime:
    return published_at if published_at is not None else observed_at


def story_id_for(article_id: str) -> str:
    """A new story's id: derived from its founding article, so a re-run gives the same."""
    return "st_" + hashlib.sha256(f"story:{article_id}".encode()).hexdigest()[:16]


# -- duplicates ------------------------------------------------------------------------


def find_duplicates(
    new: Sequence[NewArticle],
    signatures: Mapping[str, np.ndarray],
    shingle_counts: Mapping[str, int],
    known: Sequence[KnownArticle],
) -> dict[str, tuple[str, float]]:
    """For each new article that copies another, (its representative, containment).

    The representative of a group of copies is the first seen: an earlier night's
    article, else the earliest published tonight (then the smallest id)."""
    known_root = {k.article_id: k.duplicate_of or k.article_id for k in known}
    order = {k.article_id: (0, k.time, k.article_id) for k in known}
    for a in new:
        order[a.article_id] = (1, article_time(a.published_at, a.observed_at), a.article_id)
    ids = [k.article_id for k in known] + [a.article_id for a in new]
    sigs = [k.signature for k in known] + [signatures[a.article_id] for a in new]
    sizes = [k.shingle_count for k in known] + [shingle_counts[a.article_id] for a in new]
    hashes = [k.content_hash for k in known] + [a.content_hash for a in new]
    first_new = len(known)

    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        rx, ry = root(x), root(y)
        if rx != ry:
            keep, drop = sorted((rx, ry), key=lambda r: order[r])
            parent[drop] = keep

    scores: dict[str, float] = {}
    keys = dedup.band_keys(np.vstack(sigs)) if sigs else np.empty((0, dedup.BANDS), np.int64)
    eligible = np.asarray(sizes, dtype=np.int64) >= dedup.MIN_SHINGLES
    for i, j in dedup.candidate_pairs(keys, first_new, eligible):
        same, score = dedup.is_duplicate(sigs[i], sizes[i], sigs[j], sizes[j])
        if same:
            union(known_root.get(ids[i], ids[i]), ids[j])
            scores[ids[j]] = max(scores.get(ids[j], 0.0), score)
            if i >= first_new:
                scores[ids[i]] = max(scores.get(ids[i], 0.0), score)
    by_hash: dict[str, str] = {}
    for i, h in enumerate(hashes):
        if not h:
            continue
        target = known_root.get(ids[i], ids[i])
        if h in by_hash:
            union(by_hash[h], target)
            if i >= first_new:
                scores[ids[i]] = 1.0
        else:
            by_hash[h] = target
    result: dict[str, tuple[str, float]] = {}
    for a in new:
        r = root(a.article_id)
        if r != a.article_id:
            result[a.article_id] = (r, scores.get(a.article_id, 1.0))
    return result


# -- clustering ------------------------------------------------------------------------


@dataclass
class _Cluster:
    members: list[str]
    first: datetime  # earliest member's time: the story's age when ids are carried over
    size: int
    names: Counter[str] = field(default_factory=Counter)  # members naming each name
    core: Counter[str] = field(default_factory=Counter)  # members with it in their top names
    language: str | None = None  # None: unknown, matches any
    published: tuple[datetime, datetime] | None = None  # range of stated publication times


def _key_terms(vector: Mapping[str, float]) -> list[str]:
    """The heaviest terms of a vector (TF-IDF: frequent in it, rare elsewhere): the ones
    that find its neighbours."""
    return [t for t, _ in sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:KEY_TERMS]]


def candidate_edges(
    vectors: Mapping[str, Mapping[str, float]],
    new_ids: Iterable[str],
) -> dict[tuple[str, str], float]:
    """Cosine similarity of every pair (one of them new) sharing a key term.

    Terms in more than :data:`MAX_POSTING` vectors' key terms are not used to find pairs
    (a word that common cannot mark one event); their weight still counts in the cosine."""
    postings: dict[str, list[int]] = defaultdict(list)
    ids = sorted(vectors)
    index = {article_id: i for i, article_id in enumerate(ids)}
    keys = [_key_terms(vectors[article_id]) for article_id in ids]
    for i, terms in enumerate(keys):
        for term in terms:
            postings[term].append(i)
    new_rows = sorted(index[a] for a in set(new_ids))
    is_new = np.zeros(len(ids), dtype=bool)
    is_new[new_rows] = True
    matrix = _matrix(ids, vectors)
    edges: dict[tuple[str, str], float] = {}
    left: list[int] = []
    right: list[int] = []
    for i in new_rows:
        seen: set[int] = set()
        for term in keys[i]:
            posting = postings[term]
            if len(posting) <= MAX_POSTING:
                seen.update(posting)
        # each pair once: from its new member with the smaller row
        for j in seen:
            if j != i and (not is_new[j] or i < j):
                left.append(i)
                right.append(j)
        if len(left) >= PAIR_CHUNK:
            _score_pairs(matrix, ids, left, right, edges)
            left, right = [], []
    _score_pairs(matrix, ids, left, right, edges)
    return edges


def _score_pairs(
    matrix: sparse.csr_matrix,
    ids: Sequence[str],
    left: list[int],
    right: list[int],
    edges: dict[tuple[str, str], float],
) -> None:
    """Cosine similarities of a chunk of candidate pairs, keeping those worth an edge;
    chunked so memory stays bounded however many candidates a night has."""
    if not left:
        return
    a, b = np.asarray(left), np.asarray(right)
    sims = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()
    keep = np.nonzero(sims >= MIN_EDGE)[0]
    for i, j, sim in zip(a[keep].tolist(), b[keep].tolist(), sims[keep].tolist(), strict=True):
        x, y = ids[i], ids[j]
        edges[(x, y) if x < y else (y, x)] = sim


def _matrix(ids: Sequence[str], vectors: Mapping[str, Mapping[str, float]]) -> sparse.csr_matrix:
    """The vectors as rows of a sparse matrix, so similarities of many pairs are computed
    at once in C instead of pair by pair in Python."""
    vocabulary: dict[str, int] = {}
    indptr, columns, values = [0], [], []
    for article_id in ids:
        for term, weight in vectors[article_id].items():
            columns.append(vocabulary.setdefault(term, len(vocabulary)))
            values.append(weight)
        indptr.append(len(columns))
    return sparse.csr_matrix(
        (np.asarray(values, dtype=np.float64), np.asarray(columns), np.asarray(indptr)),
        shape=(len(ids), max(1, len(vocabulary))),
    )


class _LazyVectors(dict):
    """Earlier articles' vectors, built from their kept term counts only when asked for:
    most of a large history is never a neighbour of tonight's articles."""

    def __init__(
        self, counts: Mapping[str, Mapping[str, float]], df: Mapping[str, int], n: int
    ) -> None:
        super().__init__()
        self.counts, self.df, self.n = counts, df, n

    def __missing__(self, article_id: str) -> dict[str, float]:
        vector = textvec.tfidf_vector(self.counts[article_id], self.df, self.n)
        self[article_id] = vector
        return vector

    def prefetch(self, article_ids: Iterable[str]) -> None:
        """Build the vectors of these articles in one batch (see textvec.tfidf_vectors)."""
        missing = sorted({a for a in article_ids if a not in self and a in self.counts})
        vectors = textvec.tfidf_vectors([self.counts[a] for a in missing], self.df, self.n)
        self.update(zip(missing, vectors, strict=True))


class _Vectors(Mapping[str, Mapping[str, float]]):
    """New and earlier vectors behind one lookup."""

    def __init__(
        self, new: Mapping[str, Mapping[str, float]], known: Mapping[str, Mapping[str, float]]
    ) -> None:
        self.new, self.known = new, known

    def __getitem__(self, article_id: str) -> Mapping[str, float]:
        vector = self.new.get(article_id)
        return vector if vector is not None else self.known[article_id]

    def prefetch(self, article_ids: Iterable[str]) -> None:
        """Build the earlier articles' vectors among these in one batch, when lazy."""
        fetch = getattr(self.known, "prefetch", None)
        if fetch is not None:
            fetch(a for a in article_ids if a not in self.new)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.new)

    def __len__(self) -> int:
        return len(self.new)


def reachable_known(
    new_vectors: Mapping[str, Mapping[str, float]],
    known: Sequence[KnownArticle],
    known_counts: Mapping[str, Mapping[str, float]],
) -> set[str]:
    """Earlier articles that keep one of tonight's key terms among their terms: the only
    ones that can share a key term with a new article, so the only ones whose vectors the
    candidate search needs."""
    wanted = {t for v in new_vectors.values() for t in _key_terms(v)}
    return {
        k.article_id
        for k in known
        if k.duplicate_of is None and not wanted.isdisjoint(known_counts[k.article_id])
    }


def _span(times: Iterable[datetime | None]) -> tuple[datetime, datetime] | None:
    known = [t for t in times if t is not None]
    return (min(known), max(known)) if known else None


def _within_window(a: _Cluster, b: _Cluster, window: timedelta) -> bool:
    """Stated publication times within the window of each other. A group without any
    (a dump without dates) is not placed in time: the night it was collected says
    nothing about when its event happened."""
    if a.published is None or b.published is None:
        return True
    (a_first, a_last), (b_first, b_last) = a.published, b.published
    return a_first - window <= b_last and b_first - window <= a_last


def _known_language(languages: Iterable[str | None]) -> str | None:
    return next((lang for lang in languages if lang and lang != "und"), None)


def _compatible(a: _Cluster, b: _Cluster, window: timedelta) -> bool:
    """Whether two clusters may be one story at all, however similar their words: same
    language (term vectors do not compare across languages; unknown matches any), close
    in time, and not each built around a name the other lacks."""
    if a.language and b.language and a.language != b.language:
        return False
    return _within_window(a, b, window) and not names_conflict(a, b)


@dataclass
class Clustering:
    """Tonight's stories for the articles it re-clustered (tonight's and those of the
    earlier stories they touch), with the merges of earlier stories."""

    story_of: dict[str, str]
    merges: list[StoryMerge]
    similarity: dict[str, float]  # mean cosine to the rest of the story (1 when alone)


def cluster_night(
    new: Sequence[NewArticle],
    new_vectors: Mapping[str, Mapping[str, float]],
    known: Sequence[KnownArticle],
    known_vectors: Mapping[str, Mapping[str, float]],
    threshold: float = STORY_THRESHOLD,
    window_days: int = WINDOW_DAYS,
    reachable: set[str] | None = None,
    taken: Iterable[str] = (),
) -> Clustering:
    """Cluster tonight's (non-copy) articles together with the earlier stories they touch.

    A story is touched when one of its articles is at least :data:`REGION_MIN` similar to
    a new article. Touched stories are dissolved and re-clustered, members and new
    articles alike, with tonight's weighting (which knows more documents than the night
    each story was formed): an early mistake is undone once the evidence says so, and the
    result is what clustering the region at once would give. Untouched stories stay as
    they are, so a night costs what its region costs, not what the history costs.

    `reachable`, when given, limits the earlier articles searched for neighbours of new
    ones (see :func:`reachable_known`). `taken` holds every story id used before (alive
    or merged away), so a splinter of a story never takes an id back.

    Ids carry over: each earlier story's home is the group holding most of its members;
    a group keeps the oldest story homed in it (earliest member, then id) and the others
    homed there merge into it. A group with no home takes an id from its earliest
    article."""
    window = timedelta(days=window_days)
    vectors = _Vectors(new_vectors, known_vectors)
    new_ids = sorted(a.article_id for a in new)
    originals = [k for k in known if k.duplicate_of is None]
    pool = new_ids + [
        k.article_id for k in originals if reachable is None or k.article_id in reachable
    ]
    vectors.prefetch(pool)
    first = candidate_edges({i: vectors[i] for i in pool}, new_ids)
    story_of_known = {k.article_id: k.story_id for k in originals}
    touched = {
        story_of_known[x]
        for pair, sim in first.items()
        if sim >= REGION_MIN
        for x in pair
        if x in story_of_known
    }
    region_known = [k for k in originals if k.story_id in touched]
    region = set(new_ids) | {k.article_id for k in region_known}
    edges = {pair: sim for pair, sim in first.items() if pair[0] in region and pair[1] in region}
    vectors.prefetch(region)
    edges.update(
        candidate_edges(
            {i: vectors[i] for i in sorted(region)}, [k.article_id for k in region_known]
        )
    )

    nodes = [
        _singleton(
            a.article_id,
            article_time(a.published_at, a.observed_at),
            a.published_at,
            a.language,
            a.names,
        )
        for a in new
    ] + [_singleton(k.article_id, k.time, k.published, k.language, k.names) for k in region_known]
    groups = _agglomerate(nodes, edges, threshold, window)
    order = {n.members[0]: (n.first, n.members[0]) for n in nodes}
    ids, merges = carry_ids(groups, story_of_known, order, edges, set(taken))
    story_of: dict[str, str] = {}
    similarity: dict[str, float] = {}
    for members, story_id in zip(groups, ids, strict=True):
        total = _vector_sum(vectors[m] for m in members) if len(members) > 1 else {}
        for m in members:
            story_of[m] = story_id
            # mean cosine to the other members: (v . sum - v . v) / (size - 1), v unit length
            similarity[m] = (
                round((textvec.dot(vectors[m], total) - 1.0) / (len(members) - 1), 6)
                if len(members) > 1
                else 1.0
            )
    return Clustering(story_of, merges, similarity)


def _singleton(
    article_id: str,
    time: datetime,
    published: datetime | None,
    language: str | None,
    names: Sequence[str],
) -> _Cluster:
    """One article as a group of its own, the start of the agglomeration."""
    return _Cluster(
        [article_id],
        time,
        1,
        *_name_counts([names]),
        language=_known_language([language]),
        published=_span([published]),
    )


def _merged(a: _Cluster, b: _Cluster) -> _Cluster:
    return _Cluster(
        a.members + b.members,
        min(a.first, b.first),
        a.size + b.size,
        a.names + b.names,
        a.core + b.core,
        language=a.language or b.language,
        published=_span([*(a.published or ()), *(b.published or ())]),
    )


def _agglomerate(
    nodes: Sequence[_Cluster],
    edges: Mapping[tuple[str, str], float],
    threshold: float,
    window: timedelta,
) -> list[list[str]]:
    """Group-average agglomeration over the sparse graph, then small groups attached.

    The closest pair of compatible groups merges while their average similarity is at
    least `threshold` (a missing edge counts 0). Then every group of at most
    :data:`SMALL_STORY` articles joins the larger group it is on average closest to, if
    that average is at least :data:`ATTACH_THRESHOLD`: a short or oddly-angled report
    cannot reach the full bar against every member of a big story, yet being that close
    to all of them on average is strong evidence, while two big groups must still meet
    the full bar (that is what keeps two earthquakes apart)."""
    clusters: dict[int, _Cluster] = {}
    node_of: dict[str, int] = {}
    for node in sorted(nodes, key=lambda n: n.members[0]):
        node_of[node.members[0]] = len(clusters)
        clusters[len(clusters)] = node
    links: dict[int, dict[int, float]] = defaultdict(dict)
    for (x, y), sim in edges.items():
        cx, cy = node_of[x], node_of[y]
        links[cx][cy] = links[cx].get(cy, 0.0) + sim
        links[cy][cx] = links[cx][cy]

    heap: list[tuple[float, int, int]] = []
    for cx, nbrs in links.items():
        for cy, total in nbrs.items():
            if cx < cy and total >= threshold:  # singletons: the sum is the average
                heap.append((-total, cx, cy))
    heapq.heapify(heap)
    next_id = len(clusters)
    while heap:
        _, cx, cy = heapq.heappop(heap)
        if cx not in clusters or cy not in clusters:
            continue  # one side merged since: its entries died with its id
        a, b = clusters[cx], clusters[cy]
        # two live clusters' link never changes (a merge makes a new id), so the entry's
        # average is current and was at least the threshold when pushed
        if not _compatible(a, b, window):
            continue
        merged = _merged(a, b)
        cid = next_id
        next_id += 1
        clusters[cid] = merged
        del clusters[cx], clusters[cy]
        combined: dict[int, float] = defaultdict(float)
        for old in (cx, cy):
            for nbr, s in links.pop(old, {}).items():
                if nbr in (cx, cy):
                    continue
                combined[nbr] += s
                links[nbr].pop(old, None)
        for nbr, s in combined.items():
            links[cid][nbr] = s
            links[nbr][cid] = s
            average = s / (merged.size * clusters[nbr].size)
            if average >= threshold:
                heapq.heappush(heap, (-average, cid, nbr))

    attach: dict[int, int] = {}
    for cid in sorted(clusters):
        small = clusters[cid]
        if small.size > SMALL_STORY:
            continue
        best: tuple[float, int] | None = None
        for nbr, s in links.get(cid, {}).items():
            big = clusters[nbr]
            if big.size <= SMALL_STORY or not _compatible(small, big, window):
                continue
            avg = s / (small.size * big.size)
            if avg >= ATTACH_THRESHOLD and (best is None or (-avg, nbr) < (-best[0], best[1])):
                best = (avg, nbr)
        if best is not None:
            attach[cid] = best[1]
    members: dict[int, list[str]] = {cid: list(c.members) for cid, c in clusters.items()}
    for small, big in attach.items():
        members[big].extend(members.pop(small))
    return sorted(sorted(m) for m in members.values())


def carry_ids(
    groups: Sequence[Sequence[str]],
    previous: Mapping[str, str],
    order: Mapping[str, tuple[datetime, str]],
    edges: Mapping[tuple[str, str], float],
    taken: set[str],
) -> tuple[list[str], list[StoryMerge]]:
    """Story ids for re-clustered groups, carried over from the earlier stories.

    `previous` maps earlier articles to their story; `order` gives each article's (time,
    id). A story's home is the group with most of its members (ties: the group of its
    earliest member). A group keeps the oldest story homed in it; others homed there
    merge into that one (the merge's similarity is the average between the two
    stories' members). A group with no home (new articles, a splinter) takes an id
    derived from its earliest article, never one in `taken` (used before)."""
    group_of = {m: g for g, members in enumerate(groups) for m in members}
    members_of: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in previous.items():
        if article_id in group_of:
            members_of[story_id].append(article_id)
    homed: dict[int, list[tuple[tuple[datetime, str], str]]] = defaultdict(list)
    for story_id, members in members_of.items():
        earliest = min(members, key=lambda m: order[m])
        counts = Counter(group_of[m] for m in members)
        home = max(counts, key=lambda g: (counts[g], g == group_of[earliest], -g))
        homed[home].append(((order[earliest][0], story_id), story_id))
    used = set(taken) | set(previous.values())
    ids: list[str] = []
    merges: list[StoryMerge] = []
    for g, members in enumerate(groups):
        if homed.get(g):
            stories_here = sorted(homed[g])
            keep = stories_here[0][1]
            for _, dropped in stories_here[1:]:
                merges.append(
                    StoryMerge(
                        dropped,
                        keep,
                        round(_average_between(members_of[dropped], members_of[keep], edges), 6),
                    )
                )
            ids.append(keep)
            continue
        founder = min(members, key=lambda m: order[m])
        story_id, attempt = story_id_for(founder), 1
        while story_id in used:
            story_id = story_id_for(f"{founder}#{attempt}")
            attempt += 1
        used.add(story_id)
        ids.append(story_id)
    return ids, merges


def _average_between(
    a: Sequence[str], b: Sequence[str], edges: Mapping[tuple[str, str], float]
) -> float:
    total = 0.0
    for x in a:
        for y in b:
            total += edges.get((x, y) if x < y else (y, x), 0.0)
    return total / (len(a) * len(b)) if a and b else 0.0


def _vector_sum(vectors: Iterable[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for vector in vectors:
        for term, weight in vector.items():
            total[term] += weight
    return total


def _name_counts(name_lists: Iterable[Sequence[str]]) -> tuple[Counter[str], Counter[str]]:
    names: Counter[str] = Counter()
    core: Counter[str] = Counter()
    for listed in name_lists:
        names.update(set(listed))
        core.update(set(listed[:CORE_NAMES]))
    return names, core


def _exclusive_core(a: _Cluster, b: _Cluster) -> bool:
    """Whether `a` has a core name (top name of most of its members) `b` hardly names."""
    return any(
        count >= CORE_SHARE * a.size and b.names[name] <= ABSENT_SHARE * b.size
        for name, count in a.core.items()
    )


def names_conflict(a: _Cluster, b: _Cluster) -> bool:
    """Two groups each built around a name the other barely mentions report two events
    (Tara Reid's rehab and Lindsay Lohan's), however alike their wording."""
    if min(a.size, b.size) < CONFLICT_MIN_SIZE:
        return False
    return _exclusive_core(a, b) and _exclusive_core(b, a)


# -- one night -------------------------------------------------------------------------


@dataclass
class Derivation:
    derived_from: str
    score: float


def find_derivations(
    stories_of: Mapping[str, str],
    times: Mapping[str, datetime],
    sources: Mapping[str, str],
    bodies: Mapping[str, str],
    candidates: Iterable[str],
) -> dict[str, Derivation]:
    """For each candidate (a new, non-copy article), the earlier article of its story,
    from another source, it was rewritten from (:mod:`wirehouse.derive`), if any.

    Only earlier articles can be sources: publication time (else collection night)
    decides the direction, then the article id, so the choice is stable."""
    members: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in stories_of.items():
        if article_id in bodies:
            members[story_id].append(article_id)
    sentence_cache: dict[str, list[frozenset[str]]] = {}

    def sents(article_id: str) -> list[frozenset[str]]:
        if article_id not in sentence_cache:
            sentence_cache[article_id] = derive.sentences(bodies[article_id])
        return sentence_cache[article_id]

    result: dict[str, Derivation] = {}
    for article_id in sorted(candidates):
        key = (times[article_id], article_id)
        best: Derivation | None = None
        earlier = sorted(
            (m for m in members.get(stories_of[article_id], []) if (times[m], m) < key),
            key=lambda m: (times[m], m),
        )[:MAX_DERIVATION_SOURCES]
        for other in earlier:
            if other == article_id or (times[other], other) >= key:
                continue
            if sources.get(other) == sources.get(article_id):
                continue
            score = derive.derivation_score(sents(article_id), sents(other))
            if score >= derive.DERIVED_SCORE and (best is None or score > best.score):
                best = Derivation(other, score)
        if best is not None:
            result[article_id] = best
    return result


def assign_night(
    new: Sequence[NewArticle],
    known: Sequence[KnownArticle],
    known_counts: Mapping[str, Mapping[str, float]],
    document_frequency: Mapping[str, int],
    documents: int,
    features: Mapping[str, Features],
    threshold: float = STORY_THRESHOLD,
    taken: Iterable[str] = (),
) -> NightResult:
    """Copies, then stories, for tonight's new articles against the kept recent history.

    `document_frequency`/`documents` include tonight's articles; `features` holds each new
    article's (see :func:`features_of`). Vectors are rebuilt from the kept term counts
    with tonight's document frequencies, so every article is weighed the same way."""
    duplicates = find_duplicates(
        new,
        {a.article_id: features[a.article_id].signature for a in new},
        {a.article_id: features[a.article_id].shingle_count for a in new},
        known,
    )
    originals = [a for a in new if a.article_id not in duplicates]
    weighted = textvec.tfidf_vectors(
        [features[a.article_id].term_counts for a in new], document_frequency, documents
    )
    vectors = {a.article_id: v for a, v in zip(new, weighted, strict=True)}
    new_vectors = {a.article_id: vectors[a.article_id] for a in originals}
    known_vectors = _LazyVectors(known_counts, document_frequency, documents)
    clustering = cluster_night(
        originals,
        new_vectors,
        known,
        known_vectors,
        threshold,
        reachable=reachable_known(new_vectors, known, known_counts),
        taken=taken,
    )
    story_of, similarity = clustering.story_of, clustering.similarity
    merged_into = {m.merged_story_id: m.into_story_id for m in clustering.merges}
    known_story = {k.article_id: k.story_id for k in known}
    assignments = []
    for a in sorted(new, key=lambda a: a.article_id):
        if a.article_id in duplicates:
            rep, score = duplicates[a.article_id]
            story = story_of.get(rep) or known_story[rep]
            assignments.append(Assignment(a.article_id, story, rep, round(score, 6), None))
        else:
            assignments.append(
                Assignment(
                    a.article_id, story_of[a.article_id], None, None, similarity[a.article_id]
                )
            )
    moves = []
    for k in sorted(known, key=lambda k: k.article_id):
        follows = k.duplicate_of or k.article_id
        if follows not in story_of:
            continue
        story = story_of[follows]
        if story != merged_into.get(k.story_id, k.story_id):
            moves.append(Move(k.article_id, story, similarity.get(k.article_id)))
    return NightResult(assignments, clustering.merges, vectors, moves, story_of)


def features_of(article: NewArticle) -> Features:
    """What tonight computes once per new article (on the worker processes) and keeps
    for later nights: term counts and names from one tokenising pass, and the MinHash
    signature of its shingles."""
    counts, names = textvec.article_terms(article.title, article.body)
    hashes = dedup.shingle_hashes(article.body)
    return Features(counts, names, dedup.minhash(hashes), int(hashes.size))
