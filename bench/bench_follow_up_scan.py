"""What the follow-up scan costs on a long history (not part of `make bench-stories`).

`story_night._followed_stories` scans the names of every older article within the
follow-up horizon (730 days) outside tonight's event window. The story benchmark cannot
show its cost: its nights are shuffles of articles published over years, so the event
window covers its whole history. This script writes a synthetic far history straight into
a temporary warehouse (ARTICLES articles over 730 days, 5 per story, 8 names each drawn
from a skewed 200,000-name vocabulary), then times the scan for KEY_NAMES key names and
the history read it leads to.

    .venv/bin/python bench/bench_follow_up_scan.py [ARTICLES] [KEY_NAMES] [MAX_STORIES]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from wirehouse import load, story_night, textvec
from wirehouse.config import Settings


def main(argv: list[str]) -> None:
    articles = int(argv[0]) if argv else 2_000_000
    key_names = int(argv[1]) if len(argv) > 1 else 3_000
    if len(argv) > 2:
        story_night.FOLLOW_UP_MAX_STORIES = int(argv[2])
    night = datetime(2028, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        home = Path(tmp)
        con = load.connect(Settings(home=home, sources_file=home / "s.yml").warehouse)
        load.ensure_schema(con)
        con.execute(
            """
            insert into landing.article_signatures
            select date '2027-12-31', 'a' || i, 'src',
                   $night::timestamptz - to_days((i % 730)::int) - interval 8 day, null,
                   ['w1', 'w2']::varchar[], [1.0, 1.0]::double[],
                   list_transform(range(8), lambda j: 'n' || (
                       (hash(i * 8 + j) % 200000) * (hash(i * 8 + j + 1) % 200000) // 200000
                   )::varchar),
                   []::bigint[], 10, null, 'en'
            from range($n) as t(i)
            """,
            {"night": night, "n": articles},
        )
        con.execute(
            "insert into landing.article_stories select date '2027-12-31', 'a' || i, "
            "'st' || (i // 5), null, null, null, null, null from range($n) as t(i)",
            {"n": articles},
        )
        ids = story_night._story_ids(con, "2028-01-01")
        names = [f"n{j * 37 % 200000}" for j in range(key_names)]
        start = time.perf_counter()
        followed = story_night._followed_stories(con, "2028-01-01", night, night, names, ids)
        scan = time.perf_counter() - start
        start = time.perf_counter()
        history = story_night._history(
            con, "2028-01-01", night, night, textvec.Vocabulary(), names, ids
        )
        read = time.perf_counter() - start
        con.close()
    print(
        f"far history {articles:,} articles, {key_names:,} key names, cap "
        f"{story_night.FOLLOW_UP_MAX_STORIES} stories a name: scan {scan:.1f}s -> "
        f"{len(followed):,} stories; history read (scan included) {read:.1f}s -> "
        f"{len(history.known):,} articles"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
