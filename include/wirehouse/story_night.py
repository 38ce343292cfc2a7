"""The story stage of one night: the I/O around :mod:`wirehouse.stories`.

Runs after the night is loaded, in the ``duckdb_writer`` pool. It reads tonight's landed
articles and, from the warehouse, the state earlier nights kept (term counts, names and
MinHash signatures of recent articles, their stories, story merges, document
frequencies). It computes tonight's copies, stories and derivations, writes them as
tonight's landing partitions of the four story tables, and loads those.

Only earlier run dates are read as history and tonight's rows are replaced whole, so a
re-run of a night gives the same rows. An article gets a story on the first night it is
landed (a later landing of it is not assigned again); a later night's re-clustering may
move it to another story, which writes a new ``article_stories`` row for it that night.
Its latest row is where it stands.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow.parquet as pq

from wirehouse import land, load, stories
from wirehouse.config import Settings, worker_processes
from wirehouse.land import STORY_TABLES

HISTORY_DAYS = stories.WINDOW_DAYS
MIN_ARTICLES_PER_PROCESS = 1000  # a spawned worker's imports cost about 1,000 articles' work


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
    """What earlier nights left for tonight."""

    known: list[stories.KnownArticle]  # articles within the window, as they stand
    counts: dict[str, dict[str, float]]  # their kept term counts
    assigned: set[str]  # every article that has a story already
    taken: set[str]  # every story id used so far, alive or merged away


def _history(con: duckdb.DuckDBPyConnection, run_date: str, lo: datetime, hi: datetime) -> History:
    """Earlier nights' articles within the window (each with its latest story row),
    every earlier-assigned article and every story id used before."""
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
    rows = con.execute(
        """
        with latest as (
            select article_id, story_id, duplicate_of_article_id, duplicate_score
            from landing.article_stories
            where run_date < ?
            qualify row_number() over (partition by article_id order by run_date desc) = 1
        )
        select s.article_id, s.source_id, s.story_time, s.published_at, s.terms,
               s.term_counts, s.names,
               s.minhash, s.shingle_count, s.content_hash, s.language, a.story_id,
               a.duplicate_of_article_id, a.duplicate_score
        from landing.article_signatures as s
        join latest as a on a.article_id = s.article_id
        where s.run_date < ? and s.story_time between ? and ?
        order by s.article_id
        """,
        [
            run_date,
            run_date,
            lo - timedelta(days=HISTORY_DAYS),
            hi + timedelta(days=HISTORY_DAYS),
        ],
    ).fetchall()
    known, counts = [], {}
    for (
        aid,
        src,
        t,
        published,
        terms,
        tcounts,
        names,
        sig,
        shingles,
        chash,
        lang,
        story,
        dup,
        dup_score,
    ) in rows:
        known.append(
            stories.KnownArticle(
                article_id=aid,
                story_id=merges.get(story, story),
                source_id=src,
                time=t.astimezone(UTC),
                signature=np.asarray(sig, dtype=np.uint32),
                shingle_count=shingles,
                duplicate_of=dup,
                content_hash=chash,
                names=list(names or []),
                language=lang,
                published=published.astimezone(UTC) if published else None,
                duplicate_score=dup_score,
            )
        )
        counts[aid] = dict(zip(terms or [], tcounts or [], strict=True))
    return History(known, counts, assigned, taken)


def _document_frequencies(
    con: duckdb.DuckDBPyConnection, run_date: str
) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter(
        dict(
            con.execute(
                "select term, sum(document_count)::bigint from landing.term_frequencies "
                "where run_date < ? group by term",
                [run_date],
            ).fetchall()
        )
    )
    row = con.execute(
        "select count(*) from landing.article_signatures where run_date < ?", [run_date]
    ).fetchone()
    return df, int(row[0]) if row else 0


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


def run_stories(settings: Settings, run_date: str) -> dict[str, int]:
    """Assign tonight's new articles to stories, write and load the story tables."""
    datetime.fromisoformat(run_date)
    articles = _tonight(settings, run_date)
    night = observed_at(run_date)
    con = load.connect(settings.warehouse)
    try:
        load.ensure_schema(con)
        times = [a["published_at"] or night for a in articles]
        lo, hi = (min(times), max(times)) if times else (night, night)
        history = _history(con, run_date, lo, hi)
        df, documents = _document_frequencies(con, run_date)
        new = [
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
            if a["article_id"] not in history.assigned
        ]
        features = _features(new)
        new = [replace(a, names=features[a.article_id].names) for a in new]
        tonight_df: Counter[str] = Counter()
        for f in features.values():
            tonight_df.update(f.term_counts.keys())
        df.update(tonight_df)
        documents += len(new)
        result = stories.assign_night(
            new, history.known, history.counts, df, documents, features, taken=history.taken
        )
        derivations = _derivations(con, result, new, history.known)
    finally:
        con.close()
    rows = _rows(run_date, new, features, result, derivations, tonight_df, history.known)
    for table in STORY_TABLES:
        land.write_partition(
            settings.landing_dir, table, run_date, land.to_table(table, rows[table])
        )
    return load.load_run_date(settings.warehouse, settings.landing_dir, run_date, STORY_TABLES)


def _features(new: list[stories.NewArticle]) -> dict[str, stories.Features]:
    """Term counts and MinHash signatures of tonight's articles, on all cores when the
    night is big enough to pay for starting the workers."""
    processes = min(worker_processes(), max(1, len(new) // MIN_ARTICLES_PER_PROCESS))
    if processes <= 1:
        return {a.article_id: stories.features_of(a) for a in new}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        computed = pool.map(stories.features_of, new, chunksize=256)
        return {a.article_id: f for a, f in zip(new, computed, strict=True)}


def _derivations(
    con: duckdb.DuckDBPyConnection,
    result: stories.NightResult,
    new: list[stories.NewArticle],
    known: list[stories.KnownArticle],
) -> dict[str, stories.Derivation]:
    """Derivations of tonight's articles and of earlier ones that moved story tonight
    (their rewrite source is looked for in the story they are in now)."""
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
    joined = {story_of[c] for c in candidates}
    earlier = sorted(aid for aid, sid in story_of.items() if sid in joined and aid not in new_by_id)
    bodies = _bodies(con, earlier)
    bodies.update({a.article_id: a.body for a in new})
    derivations = _find_derivations(story_of, times, sources, bodies, candidates)
    for article_id, (rep, score) in copies.items():
        if rep and sources.get(rep) != sources[article_id]:
            # a copy of another outlet's text is derived from it, verbatim
            derivations[article_id] = stories.Derivation(rep, score or 1.0)
    return derivations


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
    context = multiprocessing.get_context("spawn")
    result: dict[str, stories.Derivation] = {}
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        for part in pool.map(_derive_chunk, chunks):
            result.update(part)
    return result


def _derive_chunk(args: tuple) -> dict[str, stories.Derivation]:
    return stories.find_derivations(*args)


def _rows(
    run_date: str,
    new: list[stories.NewArticle],
    features: dict[str, stories.Features],
    result: stories.NightResult,
    derivations: dict[str, stories.Derivation],
    tonight_df: Counter[str],
    known: list[stories.KnownArticle],
) -> dict[str, list[dict[str, Any]]]:
    signatures, assignments = [], []
    for a in sorted(new, key=lambda a: a.article_id):
        f = features[a.article_id]
        terms = sorted(result.vectors[a.article_id])
        signatures.append(
            {
                "run_date": run_date,
                "article_id": a.article_id,
                "source_id": a.source_id,
                "story_time": stories.article_time(a.published_at, a.observed_at),
                "published_at": a.published_at,
                "terms": terms,
                "term_counts": [float(f.term_counts[t]) for t in terms],
                "names": a.names,
                "minhash": [int(v) for v in f.signature],
                "shingle_count": f.shingle_count,
                "content_hash": a.content_hash,
                "language": a.language,
            }
        )
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
    return {
        "article_signatures": signatures,
        "article_stories": assignments,
        "story_merges": [
            {"run_date": run_date, **vars(m)}
            for m in sorted(result.merges, key=lambda m: m.merged_story_id)
        ],
        "term_frequencies": [
            {"run_date": run_date, "term": t, "document_count": c}
            for t, c in sorted(tonight_df.items())
        ],
    }
