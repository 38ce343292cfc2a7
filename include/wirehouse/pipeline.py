"""Task entry points: one function per DAG task, each doing its I/O for one run date.

The Airflow DAG calls these and nothing else, passing only small JSON-safe values
(source dicts, file paths, counts) between tasks; the data itself moves through files
under ``$WIREHOUSE_HOME``. Each function reads and writes only its run date's partition,
so any task can be re-run on its own.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from wirehouse import boilerplate, durable, land, load, migrate_ids, publish, raw
from wirehouse.collect import (
    PAGE_KINDS,
    SOURCE_KIND,
    extract_result,
    fetch_row,
    first_of_article,
    iter_collect,
)
from wirehouse.config import Settings
from wirehouse.discover import Candidate, discover_source
from wirehouse.extract import rebody
from wirehouse.fetch import Fetcher, FetchResult
from wirehouse.sources import Source, load_sources
from wirehouse.urls import CANONICAL_VERSION
from wirehouse.warehouse import Lake

log = logging.getLogger(__name__)


def _check_date(run_date: str) -> str:
    date.fromisoformat(run_date)  # raises ValueError on anything but YYYY-MM-DD
    return run_date


def run_collector_dir(settings: Settings, run_date: str) -> Path:
    return settings.collector_dir / f"run_date={_check_date(run_date)}"


def _earlier_run_dirs(settings: Settings, run_date: str) -> list[Path]:
    """The collector's folders of nights before `run_date`, oldest first. Only earlier
    nights count, so re-running a night sees the same history and gives the same rows."""
    if not settings.collector_dir.exists():
        return []
    dirs = [
        d
        for d in settings.collector_dir.glob("run_date=*")
        if d.name.removeprefix("run_date=") < run_date
    ]
    return sorted(dirs)


def discovered_path(settings: Settings, run_date: str, source_id: str) -> Path:
    """A source's discoveries of a night: JSON Lines, a header line (the source and its
    entry-point attempts) and then one candidate a line, so neither discover nor collect
    holds a big source's candidates as one document."""
    return run_collector_dir(settings, run_date) / "discovered" / f"{source_id}.jsonl"


def _discovered_header(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return json.loads(fh.readline())


def _discovered_candidates(path: Path) -> Iterator[Candidate]:
    paths: dict[str, str] = {}  # one string per dump or WARC file, however many lines it has
    with path.open(encoding="utf-8") as fh:
        fh.readline()
        for line in fh:
            fields = json.loads(line)
            if fields.get("path") is not None:
                fields["path"] = paths.setdefault(fields["path"], fields["path"])
            yield Candidate(**fields)


def previous_validators(settings: Settings, source_id: str, run_date: str) -> dict[str, dict]:
    """ETag / Last-Modified of each feed, sitemap and URL list from the last earlier night
    (under the URL as recorded and as the current rules canonicalise it, as child sitemaps
    are looked up)."""
    for run_dir in reversed(_earlier_run_dirs(settings, run_date)):
        path = run_dir / "discovered" / f"{source_id}.jsonl"
        old = path.with_suffix(".json")  # one JSON document, as earlier versions wrote it
        if path.exists() or old.exists():
            header = (
                _discovered_header(path)
                if path.exists()
                else json.loads(old.read_text(encoding="utf-8"))
            )
            validators: dict[str, dict] = {}
            for a in header["attempts"]:
                if a["outcome"] in ("ok", "not_modified") and (
                    a.get("etag") or a.get("last_modified")
                ):
                    found = {
                        "etag": a.get("etag") or "",
                        "last_modified": a.get("last_modified") or "",
                    }
                    validators.setdefault(migrate_ids.rekey_url(a["url"]) or a["url"], found)
                    validators[a["url"]] = found
            return validators
    return {}


URL_VERSION_KEY = b"wirehouse.canonical_url_version"


def _url_versioned(schema: pa.Schema) -> pa.Schema:
    """A collector work file's schema, marked with the canonical URL rules it was made by."""
    return schema.with_metadata(
        {**(schema.metadata or {}), URL_VERSION_KEY: str(CANONICAL_VERSION).encode()}
    )


def _with_url_version(table: pa.Table) -> pa.Table:
    """A collector work file's rows, marked with the canonical URL rules they were made by."""
    return table.replace_schema_metadata(_url_versioned(table.schema).metadata)


def _url_version(path: Path) -> int:
    """The canonical URL rules a work file was made by (unmarked: version 1)."""
    metadata = pq.read_schema(path).metadata or {}
    return int(metadata.get(URL_VERSION_KEY, migrate_ids.LEGACY_VERSION))


def previously_fetched(settings: Settings, source_id: str, run_date: str) -> frozenset[str]:
    """Page URLs of this source whose body was fetched (and archived) on an earlier night.

    A night collected before a change of the canonical URL rules (wirehouse.migrate_ids)
    counts each URL as recorded and as the current rules spell it, so it still spares its
    pages (only those nights pay for canonicalising: ~57 us a URL, measured on 25,000)."""
    urls: set[str] = set()
    for run_dir in _earlier_run_dirs(settings, run_date):
        path = run_dir / "collected" / f"{source_id}.fetches.parquet"
        if not path.exists():
            continue
        rekey = _url_version(path) < CANONICAL_VERSION
        table = pq.read_table(path, columns=["url", "url_kind", "body_sha256"])
        for url, kind, sha in zip(
            *(table.column(c).to_pylist() for c in table.column_names), strict=True
        ):
            if sha and kind in PAGE_KINDS:
                urls.add(url)
                if rekey:
                    urls.add(migrate_ids.rekey_url(url) or url)
    return frozenset(urls)


def _archiver(settings: Settings) -> Callable[[FetchResult], None]:
    def keep(result: FetchResult) -> None:
        result.body_sha256 = raw.archive(settings.raw_dir, result.body)

    return keep


FORCE_COLLECT_ENV = "WIREHOUSE_FORCE_COLLECT"


def force_collect(param: object = None) -> bool:
    """Whether a run fetches a date again although its collection is stored: the DAG param
    `force_collect`, or `WIREHOUSE_FORCE_COLLECT=1` in the environment. Off by default: a
    re-run or a backfill of a past date must not fetch today's web and label it that date."""
    if param:
        return True
    return os.environ.get(FORCE_COLLECT_ENV, "").strip().lower() in ("1", "true", "yes")


def list_sources(settings: Settings) -> list[dict[str, Any]]:
    """The validated sources of this run, as dicts for dynamic task mapping."""
    return [s.to_dict() for s in load_sources(settings.sources_file, settings.local_roots)]


def _fetcher(settings: Settings, source: Source) -> Fetcher:
    return Fetcher(
        settings.user_agent,
        allow_private_hosts=source.may_reach_private,
        delay_seconds=source.delay_seconds,
        concurrency=source.concurrency,
        timeout=source.timeout_seconds,
        total_timeout=3 * source.timeout_seconds,
    )


def _result_to_json(kind: str, result: FetchResult) -> dict[str, Any]:
    data = asdict(result)
    data.pop("body")
    data["fetched_at"] = result.fetched_at.isoformat()
    data["url_kind"] = kind
    return data


def _result_from_json(data: dict[str, Any]) -> tuple[str, FetchResult]:
    values = dict(data)
    kind = values.pop("url_kind")
    values["fetched_at"] = datetime.fromisoformat(values["fetched_at"])
    return kind, FetchResult(**values)


MAX_FAILURE_CHARS = 2000  # a reason is for people: a traceback's last words, not the whole of it


def failure_path(settings: Settings, run_date: str, source_id: str) -> Path:
    """Where a source's failed discover or collect task leaves its reason for `land`."""
    return run_collector_dir(settings, run_date) / "failed" / f"{source_id}.json"


@contextmanager
def recording_failure(
    settings: Settings, run_date: str, source_id: str, stage: str
) -> Iterator[None]:
    """Run one source's task; when it raises, write `failed/<source>.json` with the reason
    (then re-raise, so Airflow retries and the task instance shows failed). On success the
    file is removed: a re-run that works replaces the failure. `land` reads the file for
    every source that left no output, so a crash becomes a row, not a lost night."""
    path = failure_path(settings, run_date, source_id)
    try:
        yield
    except BaseException as exc:  # a kill (timeout, SIGTERM) is a failure worth a reason too
        reason = f"{stage} failed: {type(exc).__name__}: {exc}"[:MAX_FAILURE_CHARS]
        failure = {
            "source_id": source_id,
            "stage": stage,
            "error": reason,
            "failed_at": datetime.now(UTC).isoformat(),
        }
        # the original error matters more; without the file land still records the source
        with suppress(OSError):
            durable.write_text(path, json.dumps(failure))
        raise
    path.unlink(missing_ok=True)


def discover(
    source_dict: dict[str, Any], run_date: str, settings: Settings, *, force: bool = False
) -> dict[str, Any]:
    """Discover one source's candidates; writes `discovered/<source>.jsonl` in the night's
    collector folder (with the validators the next night's conditional GETs use). A crash
    is recorded for `land` (see :func:`recording_failure`) and re-raised.

    A date's discovery is written once: when the file exists, it is reused without a
    request (a re-run or backfill of a past date must not list today's feeds under that
    date), unless `force` (see :func:`force_collect`)."""
    source = Source.from_dict(source_dict)
    with recording_failure(settings, _check_date(run_date), source.id, "discover"):
        path = discovered_path(settings, run_date, source.id)
        if not force and path.exists():
            return _stored_discovery(path, source.id, run_date)
        return _discover(source, run_date, settings)


def _failed_entry_points(outcomes: Iterable[str]) -> int:
    """How many of a discovery's entry-point fetches (feeds, sitemaps, lists) failed."""
    return sum(1 for outcome in outcomes if outcome not in ("ok", "not_modified"))


def _stored_discovery(path: Path, source_id: str, run_date: str) -> dict[str, Any]:
    """The summary `discover` returned when it wrote this file (read back, nothing fetched)."""
    attempts = _discovered_header(path)["attempts"]
    with path.open(encoding="utf-8") as fh:
        candidates = sum(1 for _ in fh) - 1
    return {
        "source_id": source_id,
        "run_date": run_date,
        "path": str(path),
        "candidates": candidates,
        "entry_point_failures": _failed_entry_points(a["outcome"] for a in attempts),
        "reused": True,
    }


def _discover(source: Source, run_date: str, settings: Settings) -> dict[str, Any]:
    validators = previous_validators(settings, source.id, run_date)
    with _fetcher(settings, source) as fetcher:
        candidates, attempts = discover_source(
            source, fetcher, validators=validators, archive=_archiver(settings)
        )
    path = discovered_path(settings, run_date, source.id)
    header = {
        "source": source.to_dict(),
        "attempts": [_result_to_json(kind, r) for kind, r in attempts],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    raw.flush(settings.raw_dir)  # the feeds' bodies are on disk before the file naming them
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        for cand in candidates:
            fh.write(json.dumps(cand.to_dict()) + "\n")
    durable.replace(tmp, path)
    log.info(
        "discover %s: %s candidates from %s entry points (%s failed)",
        source.id,
        f"{len(candidates):,}",
        len(attempts),
        _failed_entry_points(r.outcome for _, r in attempts),
    )
    return {
        "source_id": source.id,
        "run_date": run_date,
        "path": str(path),
        "candidates": len(candidates),
        "entry_point_failures": _failed_entry_points(r.outcome for _, r in attempts),
    }


def collect(
    discovery: dict[str, Any], settings: Settings, *, force: bool = False
) -> dict[str, Any]:
    """Fetch, extract and normalise one source's candidates, skipping pages fetched on an
    earlier night; writes the night's collector Parquet files. A crash is recorded for
    `land` (see :func:`recording_failure`) and re-raised.

    A date's collection is written once: when the source's work files for the date are
    complete (and not older than its discovery), they are reused without a request,
    unless `force` (see :func:`force_collect`)."""
    run_date = _check_date(discovery["run_date"])
    with recording_failure(settings, run_date, discovery["source_id"], "collect"):
        stored = None if force else _stored_collection(discovery, settings)
        return stored or _collect(discovery, settings)


def collected_paths(settings: Settings, run_date: str, source_id: str) -> dict[str, Path]:
    """The work files a collect task writes for a source and night, by table."""
    out_dir = run_collector_dir(settings, run_date) / "collected"
    return {t: out_dir / f"{source_id}.{t}.parquet" for t in land.COLLECTED_TABLES}


def _stored_collection(discovery: dict[str, Any], settings: Settings) -> dict[str, Any] | None:
    """The summary of a complete earlier collection of this source and night, or None.

    Complete: every work file exists (`source_boilerplate` is written last) and none is
    older than the discovery file it was collected from."""
    paths = collected_paths(settings, discovery["run_date"], discovery["source_id"])
    if not all(p.exists() for p in paths.values()):
        return None
    discovered = Path(discovery["path"])
    if (
        discovered.exists()
        and min(p.stat().st_mtime_ns for p in paths.values()) < discovered.stat().st_mtime_ns
    ):
        return None
    rows = {t: pq.ParquetFile(p).metadata.num_rows for t, p in paths.items()}
    return {
        "source_id": discovery["source_id"],
        "run_date": discovery["run_date"],
        "paths": {t: str(p) for t, p in paths.items()},
        "fetches": rows["fetches"],
        "articles": rows["articles"],
        "boilerplate_paragraphs": rows["source_boilerplate"],
        "reused": True,
    }


ROWS_PER_BATCH = 10_000  # rows buffered before a Parquet write: a few MB of articles


class _RowWriter:
    """Rows to a Parquet file with a landing schema, a batch at a time (a source's rows
    are never all held), written to a temporary name and moved into place on success."""

    def __init__(self, path: Path, table: str) -> None:
        self.path, self.table, self.count = path, table, 0
        self._tmp = path.with_suffix(".tmp")
        # marked with the canonical URL rules the rows were made by (see _url_version)
        self._writer = pq.ParquetWriter(self._tmp, _url_versioned(land.SCHEMAS[table]))
        self._rows: list[dict[str, Any]] = []

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(land.to_table(self.table, self._rows))
            self._rows = []

    def close(self) -> None:
        """Finish the file and move it into place (no temporary file is left on failure)."""
        try:
            self._flush()
            self._writer.close()
            durable.replace(self._tmp, self.path)
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise

    def __enter__(self) -> _RowWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.close()
            self._tmp.unlink(missing_ok=True)


def _batches(path: Path, columns: list[str] | None = None) -> Iterator[list[dict[str, Any]]]:
    """A Parquet file's rows, a batch at a time."""
    for batch in pq.ParquetFile(path).iter_batches(ROWS_PER_BATCH, columns=columns):
        yield batch.to_pylist()


def _collect(discovery: dict[str, Any], settings: Settings) -> dict[str, Any]:
    header = _discovered_header(Path(discovery["path"]))
    source = Source.from_dict(header["source"])
    run_date = discovery["run_date"]
    candidates = list(_discovered_candidates(Path(discovery["path"])))
    attempts = [_result_from_json(a) for a in header["attempts"]]
    known = previously_fetched(settings, source.id, run_date)
    out_dir = run_collector_dir(settings, run_date) / "collected"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = collected_paths(settings, run_date, source.id)
    for path in paths.values():  # a collection in progress is not a stored one
        path.unlink(missing_ok=True)
    # tonight's articles as extracted, before the source's boilerplate is stripped: the
    # night's paragraph counts are taken from them, then they are stripped a batch at a time
    unstripped = out_dir / f"{source.id}.articles-unstripped.parquet"
    with (
        _fetcher(settings, source) as fetcher,
        _RowWriter(paths["fetches"], "fetches") as fetches,
        _RowWriter(unstripped, "articles") as extracted,
    ):
        rows = iter_collect(
            source,
            run_date,
            candidates,
            attempts,
            fetcher,
            known_urls=known,
            archive=_archiver(settings),
        )
        for table, row in rows:
            (fetches if table == "fetches" else extracted).write(row)
        raw.flush(settings.raw_dir)  # the bodies are on disk before the rows naming them
    del candidates, attempts
    keys, learned = learn_source_boilerplate(
        settings,
        source.id,
        run_date,
        (row["body"] for batch in _batches(unstripped, ["body"]) for row in batch),
    )
    with _RowWriter(paths["articles"], "articles") as articles:
        for batch in _batches(unstripped):
            for article in batch:
                articles.write(strip_boilerplate(article, keys))
    unstripped.unlink()
    with _RowWriter(paths["source_boilerplate"], "source_boilerplate") as boiler:
        for row in learned:
            boiler.write(row)
    return {
        "source_id": source.id,
        "run_date": run_date,
        "paths": {t: str(p) for t, p in paths.items()},
        "fetches": fetches.count,
        "articles": articles.count,
        "boilerplate_paragraphs": len(learned),
    }


def apply_source_boilerplate(
    settings: Settings, source_id: str, run_date: str, articles: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Learn the source's boilerplate paragraphs from its recent nights (this one included)
    and strip them from tonight's bodies; returns the articles and the learned set (see
    :func:`learn_source_boilerplate`)."""
    keys, learned = learn_source_boilerplate(
        settings, source_id, run_date, (a["body"] for a in articles)
    )
    return [strip_boilerplate(a, keys) for a in articles], learned


def strip_boilerplate(article: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """The article without the learned boilerplate paragraphs (`keys`)."""
    body, removed = boilerplate.strip(article["body"], keys)
    return rebody(article, body) if removed else article


def learn_source_boilerplate(
    settings: Settings, source_id: str, run_date: str, bodies: Iterable[str]
) -> tuple[set[str], list[dict[str, Any]]]:
    """Learn the source's boilerplate paragraphs from its recent nights (this one included);
    returns their keys and the learned rows.

    Tonight's paragraph counts are stored before stripping (in the collector's folder), so
    learning always sees what the pages really said and a re-run sees the same history."""
    stats, page_total = boilerplate.night_stats(source_id, run_date, bodies)
    path = run_collector_dir(settings, run_date) / "boilerplate" / f"{source_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:  # one stat at a time: a big night has many
        fh.write(f'{{"page_total": {page_total}, "stats": [')
        for i, stat in enumerate(stats):
            fh.write(("," if i else "") + json.dumps(asdict(stat)))
        fh.write("]}")
    durable.replace(tmp, path)
    # tonight's stats as counted (not read back: a big night's file is big), earlier
    # nights' from their files
    history: list[boilerplate.ParagraphStat] = stats
    totals: dict[str, int] = {run_date: page_total}
    for run_dir in _earlier_run_dirs(settings, run_date)[-boilerplate.DEFAULT_WINDOW_NIGHTS :]:
        night = run_dir / "boilerplate" / f"{source_id}.json"
        if night.exists():
            data = json.loads(night.read_text(encoding="utf-8"))
            night_date = run_dir.name.removeprefix("run_date=")
            totals[night_date] = data["page_total"]
            history.extend(boilerplate.ParagraphStat(**s) for s in data["stats"])
    learned = boilerplate.learn(history, totals, as_of=run_date)
    keys = {b.paragraph_key for b in learned}
    return keys, [{**asdict(b), "run_date": run_date} for b in learned]


def land_run(
    run_date: str,
    sources: list[dict[str, Any]],
    collected: list[dict[str, Any]],
    settings: Settings,
) -> dict[str, str]:
    """Consolidate this run's per-source outputs into the landing partitions (rewritten
    whole). Work files stay until the next run of the same date overwrites them, so this
    task can be re-run on its own. Articles seen by two sources in one run are kept
    once, by the first source in id order, so `(run_date, article_id)` is unique.

    `collected` holds only the sources whose collect task succeeded (a failed mapped task
    leaves no output): every other source of `sources` gets one `source_failed` fetch row
    with the reason its task recorded, and the good sources land all the same."""
    _check_date(run_date)
    ordered = sorted(collected, key=lambda c: c["source_id"])
    done = {c["source_id"] for c in collected}
    sources_rows = []
    failed_rows = []
    for data in sources:
        src = Source.from_dict(data)
        if src.id not in done:
            failed_rows.append(source_failed_row(settings, run_date, src))
        sources_rows.append(
            {
                "run_date": run_date,
                "source_id": src.id,
                "name": src.name,
                "home_url": src.home_url,
                "domain": src.domain,
                "feed_count": len(src.feeds),
                "sitemap_count": len(src.sitemaps),
                "url_count": len(src.urls),
                "file_pattern_count": len(src.files),
            }
        )
    fetches = pa.concat_tables(
        [
            land.read_tables([Path(c["paths"]["fetches"]) for c in ordered], "fetches"),
            land.to_table("fetches", sorted(failed_rows, key=lambda r: r["source_id"])),
        ]
    )
    articles = land.read_tables([Path(c["paths"]["articles"]) for c in ordered], "articles")
    # work files of a night collected before a change of the canonical URL rules get the
    # current ids, as the id migration gave the landed night (so re-landing changes nothing)
    articles = _first_per_article(migrate_ids.rekey_articles(articles))
    written = {
        "sources": land.write_partition(
            settings.landing_dir, "sources", run_date, land.to_table("sources", sources_rows)
        ),
        "fetches": land.write_partition(settings.landing_dir, "fetches", run_date, fetches),
        "articles": land.write_partition(settings.landing_dir, "articles", run_date, articles),
        "source_boilerplate": land.write_partition(
            settings.landing_dir,
            "source_boilerplate",
            run_date,
            land.read_tables(
                [
                    Path(c["paths"]["source_boilerplate"])
                    for c in ordered
                    if "source_boilerplate" in c["paths"]
                ],
                "source_boilerplate",
            ),
        ),
    }
    log.info(
        "land %s: %s fetch rows, %s articles, %s of %s sources collected",
        run_date,
        f"{fetches.num_rows:,}",
        f"{articles.num_rows:,}",
        len(ordered),
        len(sources),
    )
    return {k: str(v) for k, v in written.items()}


def source_failed_row(settings: Settings, run_date: str, source: Source) -> dict[str, Any]:
    """The fetch row of a source whose discover or collect task failed: `source_failed`,
    url_kind `source`, url its home page, and the reason from `failed/<source>.json` (or
    a plain statement when the task died before it could write one)."""
    path = failure_path(settings, run_date, source.id)
    failed_at = datetime.now(UTC)
    reason = "the source's discover or collect task left no output and no reason (killed?)"
    try:
        failure = json.loads(path.read_text(encoding="utf-8"))
        reason, failed_at = failure["error"], datetime.fromisoformat(failure["failed_at"])
    except (OSError, ValueError, KeyError):
        pass
    result = FetchResult(
        url=source.home_url,
        outcome="source_failed",
        error=reason,
        attempts=0,
        fetched_at=failed_at,
    )
    return fetch_row(run_date, source.id, SOURCE_KIND, result, 1)


def failed_sources(run_date: str, settings: Settings) -> list[str]:
    """'source: reason' for each source landed as `source_failed` on the run date (read
    from the landing partition, so a check of the night can run on its own)."""
    path = land.partition_dir(settings.landing_dir, "fetches", _check_date(run_date))
    files = sorted(path.glob("*.parquet")) if path.exists() else []
    rows = land.read_tables(files, "fetches").to_pylist()
    return [f"{r['source_id']}: {r['error']}" for r in rows if r["outcome"] == "source_failed"]


def _first_per_article(table: pa.Table) -> pa.Table:
    seen: set[str] = set()
    keep = []
    for i, aid in enumerate(table.column("article_id").to_pylist()):
        if aid not in seen:
            seen.add(aid)
            keep.append(i)
    return table.take(keep) if len(keep) != table.num_rows else table


def load_run(run_date: str, settings: Settings) -> dict[str, int]:
    """Load the run date's landing partitions into the warehouse (idempotent)."""
    started = time.monotonic()
    counts = load.load_run_date(
        settings.warehouse_target, settings.landing_dir, _check_date(run_date)
    )
    _log_loaded("load", counts, started)
    return counts


def _log_loaded(stage: str, counts: dict[str, int], started: float) -> None:
    rows = ", ".join(f"{table} {n:,}" for table, n in counts.items())
    log.info("%s: %s rows in %.1f s", stage, rows, time.monotonic() - started)


def stories_run(run_date: str, settings: Settings) -> dict[str, int]:
    """Assign the night's new articles to stories (copies, rewrites, merges) and load
    the story tables; reads only earlier nights as history (idempotent)."""
    from wirehouse import story_night

    return story_night.run_stories(settings, _check_date(run_date))


def entities_run(run_date: str, settings: Settings) -> dict[str, int]:
    """Recognise and resolve the people, organisations and places of the night's landed
    articles and write the entity partitions; reads only the landing zone (idempotent)."""
    from wirehouse import entity_night

    return entity_night.run_entities(settings, _check_date(run_date))


def load_entities_run(run_date: str, settings: Settings) -> dict[str, int]:
    """Load the night's entity partitions into the warehouse (idempotent)."""
    from wirehouse import entity_night

    started = time.monotonic()
    counts = entity_night.load_entities(settings, _check_date(run_date))
    _log_loaded("load_entities", counts, started)
    return counts


def publish_run(settings: Settings) -> dict[str, object]:
    """Publish the night for readers: the read-only copy (with its search index) and the marts'
    Parquet snapshot, swapped in whole. The result's `cost` (seconds per stage, bytes
    written) is what `make bench-night` prints. In lake mode readers read the lake's
    snapshots and nothing is copied: only the night's snapshot and counts are recorded
    (`wirehouse.publish.lake`)."""
    if settings.lake:
        from wirehouse.publish.lake import publish_lake

        log.info("publish: recording the lake's snapshot (nothing is copied in lake mode)")
        result = publish_lake(Lake(settings.ducklake_catalog, settings.ducklake_data))
    else:
        log.info("publish: copying %s to %s", settings.warehouse, settings.published_dir)
        result = publish.publish(settings.warehouse, settings.published_dir)
    log.info(
        "publish: snapshot %s, marts %s, cost %s",
        result["snapshot_id"],
        result["marts"],
        result["cost"],
    )
    return result


def briefing_run(run_date: str, settings: Settings) -> dict[str, object]:
    """Write the night's briefing page and the index under `published/briefing/` from the
    published copy (read-only; in lake mode, the lake read-only); a night with nothing still
    gets a page saying so."""
    from wirehouse import briefing

    return briefing.write_briefing(
        settings.warehouse_target if settings.lake else settings.published_dir / "wirehouse.duckdb",
        settings.published_dir / "briefing",
        date.fromisoformat(_check_date(run_date)),
    )


def _rewrite_collection(
    settings: Settings,
    run_date: str,
    fetches: list[dict[str, Any]],
    articles: list[dict[str, Any]],
) -> None:
    """Give the night's stored collection the re-extracted rows too: a stored collection is
    reused when the night is re-run (see :func:`collect`), so without this a re-run after
    `reextract` would land the old extraction again."""
    for source_id in sorted({row["source_id"] for row in fetches}):
        paths = collected_paths(settings, run_date, source_id)
        if not all(p.exists() for p in paths.values()):
            continue
        for table, rows in (("fetches", fetches), ("articles", articles)):
            mine = [r for r in rows if r["source_id"] == source_id]
            tmp = paths[table].with_suffix(".tmp")
            pq.write_table(_with_url_version(land.to_table(table, mine)), tmp)
            durable.replace(tmp, paths[table])


def _landed_articles_by_fetch(settings: Settings, run_date: str) -> dict[str, dict[str, Any]]:
    path = land.partition_dir(settings.landing_dir, "articles", run_date) / "articles.parquet"
    if not path.exists():
        return {}
    return {a["fetch_id"]: a for a in pq.read_table(path).to_pylist()}


def docs_run(settings: Settings, project_dir: Path | None = None) -> dict[str, object]:
    """Publish the dbt docs (static, offline) to `published/docs/`, beside the briefing.

    The project is `project_dir`, else $WIREHOUSE_DBT_PROJECT_DIR, else the checkout's."""
    from wirehouse import dbt_docs
    from wirehouse.config import dbt_project_dir

    project = project_dir or dbt_project_dir()
    return dbt_docs.generate_docs(settings.home, project, settings.published_dir / "docs")


def reextract(
    settings: Settings, since: str, until: str | None = None, *, load_warehouse: bool = True
) -> dict[str, dict[str, Any]]:
    """Re-run extraction over the raw archive for landed nights in [since, until], without
    fetching: rewrites those nights' landing partitions (fetch outcomes and articles) and,
    unless told not to, reloads them into the warehouse. Run dbt afterwards.

    A body missing from the archive or corrupt there (a truncated `.gz`) is not an abort:
    the page keeps its landed fetch row and article, and the night's summary counts it under
    `unreadable` with the reason in `unreadable_reasons` (the CLI prints them)."""
    since, until = _check_date(since), _check_date(until) if until else "9999-12-31"
    fetch_root = settings.landing_dir / "fetches"
    dates = sorted(
        d.name.removeprefix("run_date=")
        for d in (fetch_root.glob("run_date=*") if fetch_root.exists() else [])
    )
    summary: dict[str, dict[str, int]] = {}
    for run_date in (d for d in dates if since <= d <= until):
        fetches = pq.read_table(
            land.partition_dir(settings.landing_dir, "fetches", run_date) / "fetches.parquet"
        ).to_pylist()
        articles: list[dict[str, Any]] = []
        seen: set[object] = set()
        redone = 0
        landed = _landed_articles_by_fetch(settings, run_date)
        unreadable: list[dict[str, str]] = []
        for row in fetches:
            if row["url_kind"] not in PAGE_KINDS or not row["body_sha256"]:
                continue
            try:
                body = raw.read(settings.raw_dir, row["body_sha256"])
            except (FileNotFoundError, raw.CorruptBody) as exc:
                # archive pruned or damaged: keep the night's recorded outcome and article
                reason = (
                    "raw body missing from the archive"
                    if isinstance(exc, FileNotFoundError)
                    else str(exc)
                )
                unreadable.append(
                    {"fetch_id": row["fetch_id"], "url": row["url"], "reason": reason}
                )
                kept = landed.get(row["fetch_id"])
                if kept is not None:
                    seen.add((kept["source_id"], kept["article_id"]))
                    articles.append(kept)
                continue
            result = FetchResult(
                url=row["url"],
                outcome="ok",
                final_url=row["final_url"],
                content_type=row["content_type"],
                fetched_at=row["fetched_at"],
                http_status=row["http_status"],
            )
            extracted = extract_result(result, body, row["listed_at"])
            redone += 1
            key = (row["source_id"], extracted["article_id"]) if extracted else None
            article = first_of_article(result, extracted, key, seen)
            row["outcome"], row["error"] = result.outcome, result.error
            if article:
                articles.append(
                    {
                        **article,
                        "run_date": run_date,
                        "source_id": row["source_id"],
                        "fetch_id": row["fetch_id"],
                        "fetched_at": row["fetched_at"],
                        "listed_at": row["listed_at"],
                    }
                )
        ordered = sorted(articles, key=lambda a: a["source_id"])  # as `land` orders sources
        land.write_partition(
            settings.landing_dir, "fetches", run_date, land.to_table("fetches", fetches)
        )
        land.write_partition(
            settings.landing_dir,
            "articles",
            run_date,
            _first_per_article(land.to_table("articles", ordered)),
        )
        _rewrite_collection(settings, run_date, fetches, ordered)
        if load_warehouse:
            load.load_run_date(settings.warehouse_target, settings.landing_dir, run_date)
        summary[run_date] = {
            "pages": redone,
            "articles": len(articles),
            "unreadable": len(unreadable),
            "unreadable_reasons": unreadable,
        }
    return summary
