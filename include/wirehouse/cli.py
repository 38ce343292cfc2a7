"""The `wirehouse` command: inspect and debug without running Airflow.

- `wirehouse sources validate [FILE]` checks a sources file and lists its sources.
- `wirehouse extract FILE [FILE ...] [--url URL]` prints one JSON record per saved page.
- `wirehouse summary` prints where the warehouse is, each mart's row count and a query.
- `wirehouse query "SQL"` runs read-only SQL on the published copy (`--live`: the warehouse).
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
import sys
from collections.abc import Sequence
from pathlib import Path

from wirehouse.config import load_settings


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


def _cmd_summary(args: argparse.Namespace) -> int:
    from wirehouse.publish import mart_counts

    settings = load_settings()
    warehouse = settings.warehouse
    if not warehouse.exists():
        print(f"no warehouse at {warehouse} yet: run `make run`", file=sys.stderr)
        return 1
    print(f"Warehouse: {warehouse}")
    print(f"Read-only copy for BI and analysts: {settings.published_dir / 'wirehouse.duckdb'}")
    for name, count in mart_counts(warehouse).items():
        print(f"  marts.{name:<20} {count:>8} rows")
    example = (
        "select headline, article_count, source_count "
        "from marts.dim_stories order by article_count desc limit 10"
    )
    print("Try:")
    print(f'  .venv/bin/wirehouse query "{example}"')
    print(f'  duckdb -readonly {settings.published_dir / "wirehouse.duckdb"} -c "{example}"')
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    settings = load_settings()
    path = settings.warehouse if args.live else settings.published_dir / "wirehouse.duckdb"
    if not path.exists():
        print(f"no warehouse at {path} yet: run `make run`", file=sys.stderr)
        return 1
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.sql(args.sql).show(max_width=200)
    except duckdb.Error as exc:
        print(f"query failed: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


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
    con = load.connect(settings.warehouse)
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


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from wirehouse.lease import LeaseHeld
    from wirehouse.rebuild import rebuild

    settings = load_settings()
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
    summary = sub.add_parser("summary", help="print the warehouse location and mart counts")
    summary.set_defaults(func=_cmd_summary)
    query = sub.add_parser("query", help="run read-only SQL on the published warehouse copy")
    query.add_argument("sql")
    query.add_argument("--live", action="store_true", help="query the live warehouse file")
    query.set_defaults(func=_cmd_query)
    reext = sub.add_parser("reextract", help="re-run extraction from the raw archive")
    reext.add_argument("--since", required=True, help="first run date, YYYY-MM-DD")
    reext.add_argument("--until", help="last run date (default: the latest)")
    reext.add_argument("--no-load", action="store_true", help="rewrite landing files only")
    reext.set_defaults(func=_cmd_reextract)
    reb = sub.add_parser("rebuild", help="rebuild the warehouse from the landing zone")
    reb.add_argument("--no-dbt", action="store_true", help="load the landing tables only")
    reb.set_defaults(func=_cmd_rebuild)
    mig = sub.add_parser("migrate-ids", help="move history to the current article ids")
    mig.add_argument("--force", action="store_true", help="run even when already current")
    mig.set_defaults(func=_cmd_migrate_ids)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
