"""The story stage of one night: the I/O around :mod:`wirehouse.stories`.

Runs after the night is loaded, in the ``duckdb_writer`` pool. It reads tonight's landed
articles and, from the warehouse, the state earlier nights kept: term counts and MinHash
signatures of the articles within the event window, their stories, story merges
and document frequencies.
It computes tonight's copies, stories and derivations, writes them as tonight's landing
partitions of the four story tables, and loads those.

Only earlier run dates are read as history and tonight's rows are replaced whole, so a
re-run of a night gives the same rows. An article gets a story on the first night it is
landed (a later landing of it is not assigned again); a later night's re-clustering may
move it to another story, which writes a new ``article_stories`` row for it that night.
Its latest row is where it stands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import sparse

from wirehouse import dedup, land, load, stories, textvec, warehouse
from wirehouse.config import Settings, worker_processes
from wirehouse.land import STORY_TABLES
from wirehouse.progress import Progress, Steps
from wirehouse.workers import process_pool

log = logging.getLogger(__name__)

# measured with spawned workers, whose imports cost about 1,000 articles' work; kept with
# the fork server (wirehouse.workers), which a process's first pool still starts
MIN_ARTICLES_PER_PROCESS = 1000


def observed_at(run_date: str) -> datetime:
    """When an article without a publication time is taken to be published: the start
    of its run date (the data interval), not the wall clock, so re-runs agree."""
    return datetime.combine(datetime.fromisoformat(run_date).date(), time(), tzinfo=UTC)


def _tonight(settings: Settings, run_date: str) -> list[dict[str, Any]]:
    path = land.partition_dir(settings.landing_dir, "articles", run_date) / "articles.parquet"
    if not path.exists():
        return []
    columns = [
        "article_id",
        "source_id",
        "title",
        "body",
        "published_at",
        "content_hash",
        "language",
    ]
    return pq.read_table(path, columns=columns).to_pylist()


def resolve_merges(merges: list[tuple[str, str]]) -> dict[str, str]:
    """Each merged-away story id to the id it lives on as (following chains)."""
    into = dict(merges)
    final: dict[str, str] = {}
    for start in into:
        seen = {start}
        target = into[start]
        while target in into and target not in seen:
            seen.add(target)
            target = into[target]
        final[start] = target
    return final


@dataclass
class History:
    """The earlier articles tonight is clustered with."""

    known: list[stories.KnownArticle]  # in the event window, as they stand
    counts: sparse.csr_matrix  # their kept term counts, rows in `known`'s order


@dataclass
class StoryIds:
    """Which articles have a story already, every story id used so far (alive or merged
    away) and where each merged-away story went."""

    assigned: set[str]
    taken: set[str]
    merges: dict[str, str]


def _story_ids(con: duckdb.DuckDBPyConnection, run_date: str) -> StoryIds:
    assigned: set[str] = set()
    taken: set[str] = set()
    for article_id, story_id in con.execute(
        "select article_id, story_id from landing.article_stories where run_date < ?",
        [run_date],
    ).fetchall():
        assigned.add(article_id)
        taken.add(story_id)
    merge_rows = con.execute(
        "select merged_story_id, into_story_id from landing.story_merges "
        "where run_date < ? order by run_date, merged_story_id",
        [run_date],
    ).fetchall()
    merges = resolve_merges([(r[0], r[1]) for r in merge_rows])
    taken.update(merges)
    return StoryIds(assigned, taken, merges)


_LATEST_STORY_ROWS = """
    latest as (
        select article_id, story_id, duplicate_of_article_id, duplicate_score,
               derived_from_article_id, story_similarity
        from landing.article_stories
        where run_date < $run_date
        qualify row_number() over (partition by article_id order by run_date desc) = 1
    )
"""


def _history_table(
    con: duckdb.DuckDBPyConnection,
    run_date: str,
    lo: datetime,
    hi: datetime,
    config: stories.StoryConfig = stories.DEFAULT_CONFIG,
) -> pa.Table:
    """Earlier nights' articles within the event window of tonight's (each with its
    latest story row): the only ones tonight's articles can join. Read as Arrow columns,
    which :func:`_history_of` turns straight into arrays (a history of 100,000 articles
    holds 8 million kept terms: as Python objects they cost gigabytes)."""
    return con.sql(
        f"""
        with {_LATEST_STORY_ROWS}
        select s.article_id, s.source_id, s.story_time, s.published_at, s.terms,
               s.term_counts, s.minhash, s.shingle_count, s.content_hash,
               s.language, a.story_id, a.duplicate_of_article_id, a.duplicate_score,
               a.derived_from_article_id, a.story_similarity
        from landing.article_signatures as s
        join latest as a on a.article_id = s.article_id
        where s.run_date < $run_date
          and s.story_time between $lo and $hi
        order by s.article_id
        """,
        params={
            "run_date": run_date,
            "lo": lo - timedelta(days=config.window_days),
            "hi": hi + timedelta(days=config.window_days),
        },
    ).to_arrow_table()


def _history_of(table: pa.Table, vocabulary: textvec.Vocabulary, ids: StoryIds) -> History:
    """The history from :func:`_history_table`'s rows: the terms become `vocabulary`'s
    ids here."""
    merges = ids.merges
    counts = _count_matrix(table["terms"], table["term_counts"], vocabulary)
    signatures = _list_array(table["minhash"]).astype(np.uint32)
    signatures = signatures.reshape(table.num_rows, -1) if table.num_rows else signatures
    columns = {
        name: table[name].to_pylist()
        for name in table.column_names
        if name not in ("terms", "term_counts", "minhash")
    }
    column = columns.__getitem__
    known = [
        stories.KnownArticle(
            article_id=column("article_id")[i],
            story_id=merges.get(column("story_id")[i], column("story_id")[i]),
            source_id=column("source_id")[i],
            time=column("story_time")[i].astimezone(UTC),
            signature=signatures[i],
            shingle_count=column("shingle_count")[i],
            duplicate_of=column("duplicate_of_article_id")[i],
            content_hash=column("content_hash")[i],
            language=column("language")[i],
            published=(
                column("published_at")[i].astimezone(UTC) if column("published_at")[i] else None
            ),
            duplicate_score=column("duplicate_score")[i],
            derived_from=column("derived_from_article_id")[i],
            story_similarity=column("story_similarity")[i],
        )
        for i in range(table.num_rows)
    ]
    return History(known, counts)


def _list_array(column: pa.ChunkedArray) -> np.ndarray:
    """The values of a list column, flattened (nulls as empty lists)."""
    flat = pc.list_flatten(column)
    return flat.to_numpy() if len(flat) else np.empty(0)


def _count_matrix(
    terms: pa.ChunkedArray, counts: pa.ChunkedArray, vocabulary: textvec.Vocabulary
) -> sparse.csr_matrix:
    """Kept term lists and their counts as rows of a matrix over `vocabulary`: each
    distinct term is looked up once (dictionary-encoded), not once per article."""
    lengths = pc.fill_null(pc.list_value_length(terms), 0).to_numpy()
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    flat = pc.list_flatten(terms)
    if len(flat):
        encoded = pc.dictionary_encode(flat.combine_chunks())
        columns = vocabulary.ids(encoded.dictionary.to_pylist())[encoded.indices.to_numpy()]
        values = _list_array(counts).astype(np.float64)
    else:
        columns, values = np.empty(0, np.int32), np.empty(0, np.float64)
    return sparse.csr_matrix(
        (values, columns, indptr), shape=(len(lengths), max(1, len(vocabulary)))
    )


@dataclass
class Frequencies:
    """Earlier nights' document frequency of every term, and their document count."""

    terms: list[str]
    counts: list[int]
    documents: int

    def column(self, vocabulary: textvec.Vocabulary) -> np.ndarray:
        """The frequencies of `vocabulary`'s terms, by column (terms it does not hold are
        not needed tonight)."""
        frequency = np.zeros(len(vocabulary), dtype=np.int64)
        index = vocabulary.index
        for term, count in zip(self.terms, self.counts, strict=True):
            column = index.get(term)
            if column is not None:
                frequency[column] = count
        return frequency


def _document_frequencies(con: duckdb.DuckDBPyConnection, run_date: str) -> Frequencies:
    table = con.sql(
        "select term, sum(document_count)::bigint as documents from landing.term_frequencies "
        "where run_date < $run_date group by term",
        params={"run_date": run_date},
    ).to_arrow_table()
    (documents,) = con.execute(
        "select count(*) from landing.article_signatures where run_date < ?", [run_date]
    ).fetchall()[0]
    return Frequencies(
        table["term"].to_pylist(), table["documents"].to_numpy().tolist(), int(documents)
    )


def _bodies(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> dict[str, str]:
    """The latest landed body of each earlier article (for derivation)."""
    if not article_ids:
        return {}
    rows = con.execute(
        """
        select article_id, body from landing.articles
        where article_id in (select unnest(?::varchar[]))
        qualify row_number() over (partition by article_id order by run_date desc) = 1
        """,
        [article_ids],
    ).fetchall()
    return {aid: body or "" for aid, body in rows}


def story_config(settings: Settings) -> stories.StoryConfig:
    """The shipped story settings, or the overrides in ``settings.story_config``."""
    if settings.story_config is None:
        return stories.DEFAULT_CONFIG
    return stories.StoryConfig.load(settings.story_config)


def run_stories(settings: Settings, run_date: str) -> dict[str, int]:
    """Assign tonight's new articles to stories, write and load the story tables."""
    datetime.fromisoformat(run_date)
    config = story_config(settings)
    steps = Steps(log, "stories")
    articles = _tonight(settings, run_date)
    night = observed_at(run_date)
    vocabulary = textvec.Vocabulary()
    con = load.connect(settings.warehouse_target)
    try:
        load.ensure_schema(con)
        times = [a["published_at"] or night for a in articles]
        lo, hi = (min(times), max(times)) if times else (night, night)
        ids = _story_ids(con, run_date)
        new = sorted(
            (
                stories.NewArticle(
                    article_id=a["article_id"],
                    source_id=a["source_id"],
                    title=a["title"],
                    body=a["body"] or "",
                    published_at=a["published_at"],
                    observed_at=night,
                    content_hash=a["content_hash"],
                    language=a["language"],
                )
                for a in articles
                if a["article_id"] not in ids.assigned
            ),
            key=lambda a: a.article_id,
        )
        steps.done(f"read {len(articles):,} articles of the night, {len(new):,} new")
        del articles
        # the history's rows are read on a thread of their own while the workers compute
        # tonight's features: the read kept one core busy for about 4 s of the stage
        # (bench-night history, 2026-11-29). Its terms still become vocabulary ids
        # after tonight's, so every column keeps its number and the results their floats.
        cursor = warehouse.cursor(con)  # a connection is not shared between threads
        try:
            with ThreadPoolExecutor(1) as reader:
                reading = reader.submit(_read_history, cursor, run_date, lo, hi, config)
                features = _features(new, vocabulary)
                steps.done("features")
                frequencies = _document_frequencies(con, run_date)
                history = _history_of(reading.result(), vocabulary, ids)
        finally:
            cursor.close()
        steps.done(f"history read ({len(history.known):,} articles within the window)")
        # the history added its terms to the vocabulary: their frequencies too
        df = frequencies.column(vocabulary)
        tonight_df = np.bincount(features.counts.indices, minlength=len(vocabulary))
        result = stories.assign_night(
            new,
            history.known,
            history.counts,
            vocabulary,
            df + tonight_df,
            frequencies.documents + len(new),
            features,
            config,
            taken=ids.taken,
        )
        steps.done("assignment")
        derivations, restated = _derivations(con, result, new, history.known)
        steps.done("derivations")
    finally:
        con.close()
    tables = _tables(
        run_date, new, features, result, derivations, tonight_df, history.known, restated
    )
    for table in STORY_TABLES:
        land.write_partition(settings.landing_dir, table, run_date, tables[table])
    loaded = load.load_run_date(
        settings.warehouse_target, settings.landing_dir, run_date, STORY_TABLES
    )
    steps.done("tables written and loaded")
    return loaded


def _read_history(
    cursor: duckdb.DuckDBPyConnection,
    run_date: str,
    lo: datetime,
    hi: datetime,
    config: stories.StoryConfig,
) -> pa.Table:
    """:func:`_history_table` on a cursor (a connection of its own) used by this thread
    only, in the time zone :func:`wirehouse.load.connect` sets."""
    cursor.execute("set TimeZone = 'UTC'")
    return _history_table(cursor, run_date, lo, hi, config)


def _features(
    new: list[stories.NewArticle], vocabulary: textvec.Vocabulary
) -> stories.NightFeatures:
    """Term counts, names and MinHash signatures of tonight's articles, on all cores when
    the night is big enough to pay for starting the workers. Each article's terms become
    vocabulary ids as its result arrives, so only ids are kept."""
    processes = min(worker_processes(), max(1, len(new) // MIN_ARTICLES_PER_PROCESS))
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    names: list[list[str]] = []
    signatures = np.zeros((len(new), dedup.PERMUTATIONS), dtype=np.uint32)
    shingles = np.zeros(len(new), dtype=np.int64)

    progress = Progress(log, "stories: features", total=len(new), unit="articles")

    def keep(i: int, f: stories.Features) -> None:
        progress.advance()
        rows.append((vocabulary.ids(f.terms), f.counts))
        names.append(f.names)
        signatures[i] = f.signature
        shingles[i] = f.shingle_count

    if processes <= 1:
        for i, a in enumerate(new):
            keep(i, stories.features_of(a))
    else:
        with process_pool(processes) as pool:
            for i, f in enumerate(pool.map(stories.features_of, new, chunksize=256)):
                keep(i, f)
    progress.finish(f"{processes} process(es)")
    return stories.NightFeatures(
        textvec.count_matrix(rows, len(vocabulary)), names, signatures, shingles
    )


def _derivations(
    con: duckdb.DuckDBPyConnection,
    result: stories.NightResult,
    new: list[stories.NewArticle],
    known: list[stories.KnownArticle],
) -> tuple[dict[str, stories.Derivation], frozenset[str]]:
    """Derivations of tonight's articles and of earlier ones that moved story tonight
    (their rewrite source is looked for in the story they are in now), and of those
    :func:`rederived` names. The earlier articles whose derivation changed are returned
    too: they need a new row."""
    story_of = {
        k.article_id: result.regrouped.get(k.article_id, k.story_id)
        for k in known
        if k.duplicate_of is None
    }
    times = {k.article_id: k.time for k in known}
    sources = {k.article_id: k.source_id for k in known}
    moved = {m.article_id for m in result.moves}
    copies = {
        k.article_id: (k.duplicate_of, k.duplicate_score)
        for k in known
        if k.duplicate_of is not None and k.article_id in moved
    }
    new_by_id = {a.article_id: a for a in new}
    candidates = [m.article_id for m in result.moves if m.article_id not in copies]
    for assignment in result.assignments:
        a = new_by_id[assignment.article_id]
        times[a.article_id] = stories.article_time(a.published_at, a.observed_at)
        sources[a.article_id] = a.source_id
        if assignment.duplicate_of is None:
            story_of[a.article_id] = assignment.story_id
            candidates.append(a.article_id)
        else:
            copies[a.article_id] = (assignment.duplicate_of, assignment.duplicate_score)
    again = rederived(known, moved, story_of, times, new_by_id)
    candidates += again
    joined = {story_of[c] for c in candidates}
    earlier = sorted(aid for aid, sid in story_of.items() if sid in joined and aid not in new_by_id)
    bodies = _bodies(con, earlier)
    bodies.update({a.article_id: a.body for a in new})
    derivations = _find_derivations(story_of, times, sources, bodies, candidates)
    for article_id, (rep, score) in copies.items():
        if rep and sources.get(rep) != sources[article_id]:
            # a copy of another outlet's text is derived from it, verbatim
            derivations[article_id] = stories.Derivation(rep, score or 1.0)
    stored = {k.article_id: k.derived_from for k in known}
    changed = [
        k for k in again if (d.derived_from if (d := derivations.get(k)) else None) != stored[k]
    ]
    return derivations, frozenset(changed)


def rederived(
    known: list[stories.KnownArticle],
    moved: set[str],
    story_of: dict[str, str],
    times: dict[str, datetime],
    tonight: Mapping[str, stories.NewArticle],
) -> list[str]:
    """Earlier articles (not copies, not moved: those are looked at anyway) whose
    derivation is looked for again tonight:

    - its rewrite source moved to another story (a source must be in the same story, so
      the link no longer holds);
    - it was published after one of tonight's non-copy articles of its story (tonight's
      article may be what it was rewritten from: the wire copy a paper rewrote may be
      collected after the paper)."""
    first_new: dict[str, tuple[datetime, str]] = {}
    for article_id in tonight:
        story = story_of.get(article_id)
        if story is not None:
            key = (times[article_id], article_id)
            first_new[story] = min(first_new.get(story, key), key)

    def source_left(k: stories.KnownArticle) -> bool:
        source = k.derived_from
        return source in story_of and story_of[source] != story_of[k.article_id]

    def after_new(k: stories.KnownArticle) -> bool:
        story = story_of[k.article_id]
        return story in first_new and (times[k.article_id], k.article_id) > first_new[story]

    return sorted(
        k.article_id
        for k in known
        if k.duplicate_of is None and k.article_id not in moved and (source_left(k) or after_new(k))
    )


def _find_derivations(
    story_of: dict[str, str],
    times: dict[str, datetime],
    sources: dict[str, str],
    bodies: dict[str, str],
    candidates: list[str],
) -> dict[str, stories.Derivation]:
    """:func:`stories.find_derivations` on all cores for a big night: sentence matching
    is pure Python and each story's candidates are independent of other stories', so the
    stories are split into chunks, each sent with only the bodies it needs."""
    processes = min(worker_processes(), max(1, len(candidates) // MIN_ARTICLES_PER_PROCESS))
    if processes <= 1:
        return stories.find_derivations(story_of, times, sources, bodies, candidates)
    wanted: dict[str, list[str]] = {}
    for c in candidates:
        wanted.setdefault(story_of[c], []).append(c)
    members: dict[str, list[str]] = {}
    for article_id, story_id in story_of.items():
        if story_id in wanted and article_id in bodies:
            members.setdefault(story_id, []).append(article_id)
    story_ids = sorted(wanted)
    chunks = []
    step = max(1, len(story_ids) // (processes * 8))
    for i in range(0, len(story_ids), step):
        chunk = story_ids[i : i + step]
        ids = [m for sid in chunk for m in members.get(sid, [])]
        chunks.append(
            (
                {m: story_of[m] for m in ids},
                {m: times[m] for m in ids},
                {m: sources[m] for m in ids if m in sources},
                {m: bodies[m] for m in ids},
                [c for sid in chunk for c in wanted[sid]],
            )
        )
    result: dict[str, stories.Derivation] = {}
    with process_pool(processes) as pool:
        for part in pool.map(_derive_chunk, chunks):
            result.update(part)
    return result


def _derive_chunk(args: tuple) -> dict[str, stories.Derivation]:
    return stories.find_derivations(*args)


def _tables(
    run_date: str,
    new: list[stories.NewArticle],
    features: stories.NightFeatures,
    result: stories.NightResult,
    derivations: dict[str, stories.Derivation],
    tonight_df: np.ndarray,
    known: list[stories.KnownArticle],
    restated: frozenset[str] = frozenset(),
) -> dict[str, pa.Table]:
    """Tonight's partitions of the four story tables (`new` is sorted by article id).
    `restated`: earlier articles that did not move but get a row tonight because their
    derivation was looked for again (:func:`stale_derivations`)."""
    known_by_id = {k.article_id: k for k in known}
    rows = [
        (s.article_id, s.story_id, s.duplicate_of, s.duplicate_score, s.story_similarity)
        for s in result.assignments
    ] + [
        (
            m.article_id,
            m.story_id,
            known_by_id[m.article_id].duplicate_of,
            known_by_id[m.article_id].duplicate_score,
            m.story_similarity,
        )
        for m in result.moves
    ]
    moved = {m.article_id for m in result.moves}
    rows += [
        (
            k.article_id,
            result.regrouped.get(k.article_id, k.story_id),
            None,
            None,
            k.story_similarity,
        )
        for k in known
        if k.article_id in restated and k.article_id not in moved
    ]
    assignments = []
    for article_id, story_id, duplicate_of, duplicate_score, similarity in rows:
        derived = derivations.get(article_id)
        assignments.append(
            {
                "run_date": run_date,
                "article_id": article_id,
                "story_id": story_id,
                "duplicate_of_article_id": duplicate_of,
                "duplicate_score": duplicate_score,
                "derived_from_article_id": derived.derived_from if derived else None,
                "derivation_score": derived.score if derived else None,
                "story_similarity": similarity,
            }
        )
    words = np.asarray(result.vectors.vocabulary.words if result.vectors else [], dtype=object)
    counted = np.nonzero(tonight_df)[0]
    counted = counted[np.argsort(words[counted], kind="stable")] if counted.size else counted
    frequencies = pa.table(
        {
            "run_date": pa.array([date.fromisoformat(run_date)] * counted.size, pa.date32()),
            "term": pa.array(words[counted].tolist(), pa.string()),
            "document_count": pa.array(tonight_df[counted], pa.int64()),
        }
    )
    return {
        "article_signatures": _signatures(run_date, new, features, result, words),
        "article_stories": land.to_table("article_stories", assignments),
        "story_merges": land.to_table(
            "story_merges",
            [
                {"run_date": run_date, **vars(m)}
                for m in sorted(result.merges, key=lambda m: m.merged_story_id)
            ],
        ),
        "term_frequencies": frequencies,
    }


def _signatures(
    run_date: str,
    new: list[stories.NewArticle],
    features: stories.NightFeatures,
    result: stories.NightResult,
    words: np.ndarray,
) -> pa.Table:
    """The ``article_signatures`` rows of tonight's articles, built column by column: each
    keeps the terms of its vector (alphabetically) with their raw counts, for later
    nights to weigh again."""
    if not new or result.vectors is None:
        return land.SCHEMAS["article_signatures"].empty_table()
    # the raw counts of the terms each vector kept: the counts masked by the vector's terms
    mask = result.vectors.matrix.copy()
    mask.data[:] = 1.0
    kept = textvec.widen(features.counts, mask.shape[1]).multiply(mask).tocsr()
    row = np.repeat(np.arange(len(new)), np.diff(kept.indptr))
    order = np.lexsort((result.vectors.vocabulary.rank()[kept.indices], row))
    columns, counts = kept.indices[order], kept.data[order]
    offsets = pa.array(kept.indptr, pa.int32())
    n = len(new)
    return pa.table(
        {
            "run_date": pa.array([date.fromisoformat(run_date)] * n, pa.date32()),
            "article_id": [a.article_id for a in new],
            "source_id": [a.source_id for a in new],
            "story_time": pa.array(
                [stories.article_time(a.published_at, a.observed_at) for a in new], land.TS
            ),
            "published_at": pa.array([a.published_at for a in new], land.TS),
            "terms": pa.ListArray.from_arrays(
                offsets, pa.array(words[columns].tolist(), pa.string())
            ),
            "term_counts": pa.ListArray.from_arrays(offsets, pa.array(counts, pa.float64())),
            "names": pa.array(features.names, pa.list_(pa.string())),
            "minhash": pa.ListArray.from_arrays(
                pa.array(np.arange(n + 1, dtype=np.int32) * dedup.PERMUTATIONS),
                pa.array(features.signatures.ravel().astype(np.int64)),
            ),
            "shingle_count": pa.array(features.shingle_counts, pa.int32()),
            "content_hash": pa.array([a.content_hash for a in new], pa.string()),
            "language": pa.array([a.language for a in new], pa.string()),
        },
        schema=land.SCHEMAS["article_signatures"],
    )
