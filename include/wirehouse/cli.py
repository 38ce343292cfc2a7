"""The `wirehouse` command: inspect and debug without running Airflow.

- `wirehouse sources validate [FILE]` checks a sources file and lists its sources.
- `wirehouse extract FILE [FILE ...] [--url URL]` prints one JSON record per saved page.
- `wirehouse summary` prints where the published copy is and each mart's row count in it.
- `wirehouse query "SQL"` runs read-only SQL on the published copy (`--live`: the warehouse),
  with external access off: no other files, no `COPY … TO`, no network.
- `wirehouse search "WORDS" [--limit N]` ranks stories by BM25 (the `search_stories` macro).
- `wirehouse reextract --since DATE [--until DATE]` re-runs extraction from the raw archive
  for landed nights, without fetching, and reloads them (then run `make dbt-build`).
- `wirehouse rebuild [--no-dbt]` makes a new warehouse from the landing zone (every landed
  date, in order, then `dbt build`) and swaps it in at once: the cure for a corrupt file.
- `wirehouse migrate-ids [--force]` moves the warehouse and the landing zone to the current
  canonical URLs and article ids (the load task does it too, once), and prints the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from wirehouse.config import Settings, load_settings
from wirehouse.extensions import NO_DOWNLOAD_CONFIG, ExtensionMissing, load_extension
from wirehouse.publish import PUBLISHED_DB, mart_counts, search
from wirehouse.warehouse import Lake, connect_lake

# the query `wirehouse summary` suggests, in file and in lake mode
EXAMPLE_QUERY = (
    "select headline, article_count, source_count "
    "from marts.dim_stories order by article_count desc limit 10"
)


def _print_marts(counts: dict[str, int]) -> None:
    """Each mart's rows, then the example query to try (the summary's tail in both modes)."""
    for name, count in counts.items():
        print(f"  marts.{name:<20} {count:>8} rows")
    print("Try:")
    print(f'  .venv/bin/wirehouse query "{EXAMPLE_QUERY}"')


def _cmd_validate(args: argparse.Namespace) -> int:
    from wirehouse.sources import SourcesError, load_sources

    settings = load_settings()
    path = Path(args.file) if args.file else settings.sources_file
    try:
        sources = load_sources(path, settings.local_roots)
    except SourcesError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 2
    for src in sources:
        kinds = [k for k in ("feeds", "sitemaps", "urls", "files") if getattr(src, k)]
        print(f"{src.id}\t{src.name}\t{src.domain}\t{','.join(kinds)}")
    print(f"{path}: {len(sources)} sources OK")
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    from wirehouse.extract import ExtractionEmpty, extract_article
    from wirehouse.fetch import decode_html

    status = 0
    for name in args.files:
        path = Path(name)
        url = args.url or path.resolve().as_uri()
        try:
            record = extract_article(decode_html(path.read_bytes(), None), url, trust_any_site=True)
        except (OSError, ExtractionEmpty) as exc:
            print(json.dumps({"file": name, "error": str(exc)}))
            status = 1
            continue
        print(json.dumps({"file": name, **record.to_json_dict()}, ensure_ascii=False))
    return status


def _published(settings: Settings) -> Path | None:
    """The published copy, or None (with a message) when no night has published one yet."""
    path = settings.published_dir / PUBLISHED_DB
    if not path.exists():
        print(f"no published copy at {path} yet: run `make run`", file=sys.stderr)
        return None
    return path


def _reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can reach nothing but `path`: fts is loaded from its wheel
    first (search needs it; loading reads a file), then external access is turned off and the
    configuration locked, so SQL cannot read other files (`read_csv('/etc/passwd')`), write
    any (`COPY … TO`), attach databases, load extensions or turn the setting back on."""
    con = duckdb.connect(str(path), read_only=True, config=dict(NO_DOWNLOAD_CONFIG))
    try:
        load_extension(con, "fts")
    except ExtensionMissing as exc:  # querying still works; only search_stories needs fts
        print(f"warning: {exc}", file=sys.stderr)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def search_example(headline: str | None) -> str:
    """Words to try `wirehouse search` with: the longest words of the biggest story's
    headline, so the example finds something in this warehouse."""
    words = [w.strip(".,:;!?\"'’“”()") for w in (headline or "").split()]
    longest = sorted((w for w in words if w.isalpha()), key=len, reverse=True)[:3]
    return " ".join(longest).lower() or "election results"


def _lake_reader(lake: Lake) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the lake that reaches nothing else: the lake's data folder is
    the only one it may read (a bucket URL: none but the lake's), then the configuration is
    locked, as `_reader` does for the published copy."""
    con = connect_lake(lake, read_only=True)
    if "://" not in lake.data:
        quoted = lake.data.replace("'", "''")
        con.execute(f"SET allowed_directories = ['{quoted}']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _lake_summary(settings: Settings) -> int:
    """Lake mode's summary: the lake, its latest snapshot and the marts' rows at it."""
    from wirehouse.publish.lake import publish_lake

    lake = Lake(settings.ducklake_catalog, settings.ducklake_data)
    info = publish_lake(lake)
    print(f"Warehouse: {info['warehouse']}")
    print(f"Latest snapshot: {info['snapshot_id']} (readers pin one with AT (VERSION => n))")
    _print_marts(dict(info["marts"]))  # type: ignore[call-overload]
    print("  or attach it read-only yourself (docs/ducklake.md, Readers)")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    """Reads only the published copy: the live warehouse belongs to the night's writer, and
    opening it here could make a night's task wait or fail on the lock. In lake mode it reads
    the lake's latest snapshot (nothing is copied in that mode)."""
    settings = load_settings()
    if settings.lake:
        return _lake_summary(settings)
    published = _published(settings)
    if published is None:
        return 1
    print(f"Warehouse (the night's, do not query while it runs): {settings.warehouse}")
    print(f"Read-only copy for BI and analysts: {published}")
    print(f"Marts as Parquet: {settings.published_dir / 'marts'}/<mart>.parquet")
    con = _reader(published)
    try:
        info = con.execute("SELECT published_at, snapshot_id FROM main.publish_info").fetchone()
    except duckdb.CatalogException:
        info = None
    try:
        top = con.execute(
            "select headline from marts.dim_stories order by article_count desc, story_id limit 1"
        ).fetchone()
    except duckdb.CatalogException:
        top = None
    finally:
        con.close()
    if info:
        print(f"Published {info[0]:%Y-%m-%d %H:%M %Z} (snapshot {info[1]})")
    _print_marts(mart_counts(published))
    print(f'  .venv/bin/wirehouse search "{search_example(top[0] if top else None)}" --limit 5')
    print(f'  duckdb -readonly {published} -c "{EXAMPLE_QUERY}"')
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    settings = load_settings()
    path = settings.warehouse if args.live else settings.published_dir / PUBLISHED_DB
    if settings.lake:  # the lake's latest snapshot: readers never block its writers
        con = _lake_reader(Lake(settings.ducklake_catalog, settings.ducklake_data))
    elif not path.exists():
        print(f"no warehouse at {path} yet: run `make run`", file=sys.stderr)
        return 1
    else:
        con = _reader(path)
    try:
        result = con.sql(args.sql)
        if result is not None:  # a statement without rows (SET, PRAGMA ...) returns None
            result.show(max_width=200)
    except duckdb.PermissionException as exc:
        print(
            f"query refused: {exc}\n`wirehouse query` reads only the warehouse: no other "
            "files, no writing files (COPY … TO), no network, no ATTACH or extensions",
            file=sys.stderr,
        )
        return 1
    except duckdb.Error as exc:
        print(f"query failed: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.lake:
        print(
            "search reads the published copy's full-text index, which only file mode "
            "publishes (docs/ducklake.md)",
            file=sys.stderr,
        )
        return 1
    published = _published(settings)
    if published is None:
        return 1
    if args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    con = _reader(published)
    try:
        rows = search.search_stories(con, args.query, args.limit)
    except duckdb.CatalogException as exc:
        print(
            f"the published copy has no search index ({exc}); publish again (`make run`)",
            file=sys.stderr,
        )
        return 1
    finally:
        con.close()
    if not rows:
        print(f"no story matches {args.query!r}")
        return 0
    print(format_hits(rows))
    return 0


def format_hits(rows: list[tuple[object, ...]]) -> str:
    """One line per story: rank, BM25 score, matching/total articles, sources, first
    publication day, headline and story id (the macro's columns, search.RESULT_COLUMNS)."""
    col = {name: i for i, name in enumerate(search.RESULT_COLUMNS)}
    lines = [f"{'#':>3}  {'score':>6}  {'articles':>8}  {'sources':>7}  {'first':<10}  headline"]
    for rank, row in enumerate(rows, 1):
        first = row[col["first_published_at"]]
        articles = f"{row[col['matching_articles']]}/{row[col['article_count']]}"
        lines.append(
            f"{rank:>3}  {row[col['score']]:>6.2f}  {articles:>8}  {row[col['source_count']]:>7}  "
            f"{f'{first:%Y-%m-%d}' if first else '':<10}  {row[col['headline']]}"
            f"  [{row[col['story_id']]}]"
        )
    return "\n".join(lines)


def _cmd_reextract(args: argparse.Namespace) -> int:
    from wirehouse.pipeline import reextract

    summary = reextract(load_settings(), args.since, args.until, load_warehouse=not args.no_load)
    if not summary:
        print(f"no landed nights from {args.since} on", file=sys.stderr)
        return 1
    for run_date, counts in summary.items():
        print(f"{run_date}: re-extracted {counts['pages']} pages -> {counts['articles']} articles")
        for skipped in counts["unreadable_reasons"]:
            print(f"  kept as landed, not re-extracted: {skipped['url']}: {skipped['reason']}")
    if not args.no_load:
        print("Reloaded into the warehouse; now rebuild the marts: make dbt-build")
    return 0


def _cmd_migrate_ids(args: argparse.Namespace) -> int:
    from wirehouse import load, migrate_ids
    from wirehouse.urls import CANONICAL_VERSION

    settings = load_settings()
    con = load.connect(settings.warehouse_target)
    try:
        load.ensure_schema(con)
        before = migrate_ids.stored_version(con)
        with load.transaction(con):
            result = migrate_ids.upgrade(con, settings.landing_dir, force=args.force)
    finally:
        con.close()
    if result is None:
        print(f"article ids already at canonical URL version {CANONICAL_VERSION}; nothing to do")
        return 0
    print(f"canonical URL version {before} -> {CANONICAL_VERSION}")
    for place, counts in result.items():
        changed = ", ".join(f"{t} {n}" for t, n in counts.items() if n) or "nothing"
        print(f"  {place}: rows re-keyed or merged: {changed}")
    print("Now rebuild the marts: make dbt-build")
    return 0


def _cmd_migrate_to_lake(args: argparse.Namespace) -> int:
    from wirehouse.lake_migrate import LakeNotEmpty, migrate_to_lake
    from wirehouse.warehouse import describe

    settings = load_settings({**os.environ, "WIREHOUSE_WAREHOUSE": "ducklake"})
    source = args.source.expanduser().resolve() if args.source else settings.warehouse
    target = settings.warehouse_target
    try:
        counts = migrate_to_lake(source, target)  # type: ignore[arg-type]
    except (LakeNotEmpty, FileNotFoundError) as exc:
        print(f"migrate-to-lake failed: {exc}", file=sys.stderr)
        return 1
    print(f"Copied {source} into {describe(target)}:")
    for table, count in counts.items():
        print(f"  {table:<40} {count:>8} rows")
    print("Now set WIREHOUSE_WAREHOUSE=ducklake; the next night's dbt recreates the views.")
    return 0


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from wirehouse.lease import LeaseHeld
    from wirehouse.rebuild import rebuild

    settings = load_settings()
    if settings.lake:
        print(
            "rebuild makes a new warehouse file; in lake mode, reload the landing zone into an "
            "empty lake instead (docs/ducklake.md)",
            file=sys.stderr,
        )
        return 1
    try:
        result = rebuild(settings, build_marts=not args.no_dbt)
    except (LeaseHeld, RuntimeError) as exc:
        print(f"rebuild failed: {exc}", file=sys.stderr)
        return 1
    dates = result["dates"]
    assert isinstance(dates, list) and isinstance(result["rows"], dict)
    print(f"Rebuilt {settings.warehouse} from {len(dates)} landed dates ({dates[0]}..{dates[-1]})")
    for table, count in result["rows"].items():
        print(f"  landing.{table:<20} {count:>8} rows")
    if result["replaced"]:
        print(f"The previous file is kept as {result['replaced']} (delete it when done)")
    if args.no_dbt:
        print("Now rebuild the marts: make dbt-build")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirehouse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sources = sub.add_parser("sources", help="work with the sources file")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True)
    validate = sources_sub.add_parser("validate", help="validate a sources file")
    validate.add_argument("file", nargs="?", help="default: $WIREHOUSE_SOURCES")
    validate.set_defaults(func=_cmd_validate)
    extract = sub.add_parser("extract", help="extract saved HTML pages to JSON lines")
    extract.add_argument("files", nargs="+")
    extract.add_argument("--url", help="the URL the page was fetched from")
    extract.set_defaults(func=_cmd_extract)
    summary = sub.add_parser("summary", help="print the published copy's location and mart counts")
    summary.set_defaults(func=_cmd_summary)
    query = sub.add_parser("query", help="run read-only SQL on the published warehouse copy")
    query.add_argument("sql")
    query.add_argument("--live", action="store_true", help="query the live warehouse file")
    query.set_defaults(func=_cmd_query)
    find = sub.add_parser("search", help="find stories by words (BM25) in the published copy")
    find.add_argument("query", help='words, e.g. "niger drone base"')
    find.add_argument("--limit", type=int, default=search.DEFAULT_LIMIT, help="stories to show")
    find.set_defaults(func=_cmd_search)
    reext = sub.add_parser("reextract", help="re-run extraction from the raw archive")
    reext.add_argument("--since", required=True, help="first run date, YYYY-MM-DD")
    reext.add_argument("--until", help="last run date (default: the latest)")
    reext.add_argument("--no-load", action="store_true", help="rewrite landing files only")
    reext.set_defaults(func=_cmd_reextract)
    reb = sub.add_parser("rebuild", help="rebuild the warehouse from the landing zone")
    reb.add_argument("--no-dbt", action="store_true", help="load the landing tables only")
    reb.set_defaults(func=_cmd_rebuild)
    lake = sub.add_parser(
        "migrate-to-lake",
        help="copy the file warehouse into the DuckLake named by WIREHOUSE_DUCKLAKE_*",
    )
    lake.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="the warehouse file (default: $WIREHOUSE_HOME/wirehouse.duckdb)",
    )
    lake.set_defaults(func=_cmd_migrate_to_lake)
    mig = sub.add_parser("migrate-ids", help="move history to the current article ids")
    mig.add_argument("--force", action="store_true", help="run even when already current")
    mig.set_defaults(func=_cmd_migrate_ids)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
