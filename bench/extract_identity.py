"""Output identity check for the extractor: every field of ``extract_article``'s record on
every development page, written once as a reference and compared after a change.

A speed change to the extractor must not change what it extracts. This runs all pages of
both extraction sets (``../shared/bench/extraction``; see bench/README.md) through
``wirehouse.extract.extract_article(html, url)`` and records ``to_json_dict()`` per page (or
the ``ExtractionEmpty`` message, or the crash), keyed by set and page.

    python bench/extract_identity.py --write REF.json   # before the change
    python bench/extract_identity.py --check REF.json   # after: exit 1 on any difference
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bench_extract import DEFAULT_DATA, LOADERS, SETS, load_html


def extract_all(data: Path) -> dict[str, Any]:
    """{set/key: record fields, or {"empty": message} or {"error": message}} for every page."""
    from wirehouse.extract import ExtractionEmpty, extract_article

    out: dict[str, Any] = {}
    for set_name in SETS:
        pages = LOADERS[set_name](data / set_name)
        for page, html in zip(pages, load_html(pages), strict=True):
            try:
                result: Any = extract_article(html, page.url).to_json_dict()
            except ExtractionEmpty as exc:
                result = {"empty": str(exc)}
            except Exception as exc:  # recorded: a crash must stay the same crash
                result = {"error": f"{type(exc).__name__}: {exc}"}
            out[f"{set_name}/{page.key}"] = result
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the extraction data folder")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="write the reference here")
    mode.add_argument("--check", type=Path, help="compare with this reference")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    # through JSON and back, so the comparison sees exactly what a file holds
    now = json.loads(json.dumps(extract_all(args.data), ensure_ascii=False, sort_keys=True))
    if args.write:
        args.write.write_text(json.dumps(now, indent=1, ensure_ascii=False, sort_keys=True))
        print(f"{len(now)} pages written to {args.write}")
        return 0
    reference = json.loads(args.check.read_text())
    differ = sorted(k for k in reference.keys() | now.keys() if reference.get(k) != now.get(k))
    for key in differ[:20]:
        before, after = reference.get(key) or {}, now.get(key) or {}
        fields = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
        print(f"DIFF {key}: {', '.join(fields)}")
    print(f"{len(now)} pages, {len(differ)} differ from {args.check}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
