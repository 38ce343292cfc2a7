"""Publishing: one night's copy and Parquet snapshot, swapped in whole, searchable, killable.

Publish runs for real on a small warehouse in the marts' shape (marts_fixture); the kill tests
run it in a subprocess stopped at a named point (WIREHOUSE_PUBLISH_HOLD_AT) and SIGKILL it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from marts_fixture import write_warehouse

from wirehouse import extensions
from wirehouse.publish import HOLD_ENV, mart_counts, publish, search, snapshot
from wirehouse.publish.database import STORAGE_VERSION

NIGHT_1 = {"dim_sources": 3, "dim_stories": 3, "fct_articles": 4}
NIGHT_2 = {"dim_sources": 3, "dim_stories": 4, "fct_articles": 6}
# how long a test waits for a child process to reach a point before failing (not a timing
# assertion: a healthy child gets there in well under a second)
PATIENCE_S = 120


@pytest.fixture
def home(tmp_path: Path) -> Path:
    write_warehouse(tmp_path / "wirehouse.duckdb", night=1)
    return tmp_path


def _publish(home: Path) -> dict:
    return publish(home / "wirehouse.duckdb", home / "published")


def _reader(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True, config=dict(extensions.NO_DOWNLOAD_CONFIG))
    extensions.load_extension(con, "fts")
    return con


def _state(published: Path) -> dict[str, object]:
    """Everything a reader can see: the copy's bytes, where the marts link points and each
    Parquet file's bytes."""
    marts = published / "marts"
    return {
        "db": hashlib.sha256((published / "wirehouse.duckdb").read_bytes()).hexdigest(),
        "link": os.readlink(marts),
        "parquet": {f.name: f.read_bytes() for f in sorted(marts.iterdir())},
    }


def _parquet_night(published: Path) -> tuple[str, dict[str, int]]:
    """The one snapshot id every Parquet file under published/marts carries (asserted), and
    their row counts."""
    ids, counts = set(), {}
    for f in sorted((published / "marts").glob("*.parquet")):
        meta = pq.read_metadata(f)
        ids.add(meta.metadata[b"snapshot_id"].decode())
        counts[f.stem] = meta.num_rows
    assert len(ids) == 1, f"Parquet files from several snapshots: {ids}"
    return ids.pop(), counts


def _db_snapshot(published: Path) -> str:
    con = duckdb.connect(str(published / "wirehouse.duckdb"), read_only=True)
    try:
        return con.execute("select snapshot_id from main.publish_info").fetchone()[0]
    finally:
        con.close()


def _publish_held(home: Path, point: str) -> subprocess.Popen[bytes]:
    """Start publish in a child process that stops at `point`; return once it is there."""
    marker = home / "published" / f".hold-{point}"
    marker.unlink(missing_ok=True)
    code = (
        "import sys; from pathlib import Path; from wirehouse.publish import publish; "
        "publish(Path(sys.argv[1]) / 'wirehouse.duckdb', Path(sys.argv[1]) / 'published')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(home)], env={**os.environ, HOLD_ENV: point}
    )
    deadline = time.monotonic() + PATIENCE_S
    while not marker.exists():
        assert proc.poll() is None, f"publish exited ({proc.returncode}) before {point}"
        assert time.monotonic() < deadline, f"publish never reached {point}"
        time.sleep(0.05)
    return proc


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


def test_copy_is_the_warehouse_in_the_older_storage_version(home: Path) -> None:
    result = _publish(home)
    published = home / "published"
    assert result["marts"] == NIGHT_1 == mart_counts(published / "wirehouse.duckdb")
    con = duckdb.connect(str(published / "wirehouse.duckdb"), read_only=True)
    try:
        tags = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'wirehouse'"
        ).fetchone()[0]
        # STORAGE_VERSION 'v1.0.0' is the format DuckDB 0.10.2+ reads; DuckDB tags it 'v1.0.0+'
        assert tags == f"{STORAGE_VERSION}+"
        # dbt's views (which name the catalog) work in the copy
        assert con.execute("select count(*) from staging.stg_landing__articles").fetchone() == (4,)
        info = con.execute("select snapshot_id, storage_version from main.publish_info").fetchone()
        assert info == (result["snapshot_id"], STORAGE_VERSION)
    finally:
        con.close()
    cost = result["cost"]
    assert cost["seconds"] > 0 and set(cost["stages"]) == {
        "copy",
        "search_index",
        "parquet",
        "swap_and_prune",
    }
    assert cost["duckdb_bytes"] == (published / "wirehouse.duckdb").stat().st_size
    assert cost["bytes"] == cost["duckdb_bytes"] + cost["parquet_bytes"] > cost["duckdb_bytes"]


def test_search_ranks_stories_by_bm25(home: Path) -> None:
    assert _publish(home)["search"] is True
    con = _reader(home / "published" / "wirehouse.duckdb")
    try:
        hits = search.search_stories(con, "niger drone base")
        assert [h[0] for h in hits] == ["s_niger"]
        story = dict(zip(search.RESULT_COLUMNS, hits[0], strict=True))
        assert story["headline"] == "Niger orders closure of foreign drone base"
        assert story["matching_articles"] == story["article_count"] == 2
        assert story["score"] > 0
        # Porter stemming: "strikes" finds "strike"; a body word is enough ("dockworkers")
        assert [h[0] for h in search.search_stories(con, "strikes")] == ["s_harbor"]
        assert [h[0] for h in search.search_stories(con, "dockworkers pay")] == ["s_harbor"]
        # several stories match "base" or "ballots"; each comes once, best first, up to lim
        both = search.search_stories(con, "drone ballots", limit=5)
        assert {h[0] for h in both} == {"s_niger", "s_vote"} and len(both) == 2
        assert [h[2] for h in both] == sorted((h[2] for h in both), reverse=True)
        assert len(search.search_stories(con, "drone ballots", limit=1)) == 1
        assert search.search_stories(con, "volcano") == []
        # the macro analysts call from SQL
        assert con.execute("select story_id from search_stories('agadez')").fetchall() == [
            ("s_niger",)
        ]
    finally:
        con.close()


def test_the_next_night_indexes_only_what_changed(home: Path) -> None:
    first = _publish(home)
    assert first["search_index"] == {"removed": 0, "added": 4, "rebuilt": 1}
    write_warehouse(home / "wirehouse.duckdb", night=2)  # two new articles
    con = duckdb.connect(str(home / "wirehouse.duckdb"))
    con.execute(  # and one article re-extracted with another text
        "update marts.fct_articles set body = 'Volcano ash closed the airport.' "
        "where story_id = 's_harbor'"
    )
    con.close()
    second = _publish(home)
    assert second["search_index"] == {"removed": 1, "added": 3, "rebuilt": 0}
    reader = _reader(home / "published" / "wirehouse.duckdb")
    try:
        assert [h[0] for h in search.search_stories(reader, "volcano ash")] == ["s_harbor"]
        assert search.search_stories(reader, "dockworkers") == []  # the old text is gone
        assert reader.execute("select num_docs from fts_marts_fct_articles.stats").fetchone() == (
            NIGHT_2["fct_articles"],
        )
    finally:
        reader.close()
    # the same night published again indexes nothing
    assert _publish(home)["search_index"] == {"removed": 0, "added": 0, "rebuilt": 0}


def test_marts_are_one_snapshot_behind_one_link(home: Path) -> None:
    first = _publish(home)
    published = home / "published"
    assert (published / "marts").is_symlink()
    assert _parquet_night(published) == (first["snapshot_id"], NIGHT_1)
    write_warehouse(home / "wirehouse.duckdb", night=2)
    second = _publish(home)
    third = _publish(home)
    # the new night's files, all of them; the previous snapshot kept, older ones pruned
    assert _parquet_night(published) == (third["snapshot_id"], NIGHT_2)
    assert _db_snapshot(published) == third["snapshot_id"]
    kept = sorted(p.name for p in (published / snapshot.SNAPSHOTS_DIR).iterdir())
    assert kept == sorted([second["snapshot_id"], third["snapshot_id"]])
    assert not (published / ".tmp").exists()
    # re-publishing the same warehouse adds no rows
    con = duckdb.connect(str(published / "wirehouse.duckdb"), read_only=True)
    try:
        assert con.execute(
            "select count(*), count(distinct article_id) from marts.fct_articles"
        ).fetchone() == (6, 6)
    finally:
        con.close()


def test_a_real_marts_folder_is_migrated(home: Path) -> None:
    legacy = home / "published" / "marts"
    legacy.mkdir(parents=True)
    (legacy / "fct_articles.parquet").write_bytes(b"last night's file")
    result = _publish(home)
    assert legacy.is_symlink()
    assert _parquet_night(home / "published") == (result["snapshot_id"], NIGHT_1)
    kept = {p.name for p in (home / "published" / snapshot.SNAPSHOTS_DIR).iterdir()}
    (legacy_id,) = kept - {result["snapshot_id"]}
    assert legacy_id.startswith(snapshot.LEGACY_PREFIX)
    old = home / "published" / snapshot.SNAPSHOTS_DIR / legacy_id / "marts" / "fct_articles.parquet"
    assert old.read_bytes() == b"last night's file"
    _publish(home)  # the legacy folder is now two nights old
    kept = [p.name for p in (home / "published" / snapshot.SNAPSHOTS_DIR).iterdir()]
    assert not any(k.startswith(snapshot.LEGACY_PREFIX) for k in kept)


@pytest.mark.parametrize("point", ["copied", "written"])
def test_sigkill_before_the_swap_leaves_everything_as_it_was(home: Path, point: str) -> None:
    first = _publish(home)
    published = home / "published"
    before = _state(published)
    write_warehouse(home / "wirehouse.duckdb", night=2)
    _kill(_publish_held(home, point))
    assert _state(published) == before
    assert _parquet_night(published) == (first["snapshot_id"], NIGHT_1)
    assert mart_counts(published / "wirehouse.duckdb") == NIGHT_1
    # the re-run completes the night, with no duplicate rows, and clears what the kill left
    again = _publish(home)
    assert mart_counts(published / "wirehouse.duckdb") == NIGHT_2
    assert _parquet_night(published) == (again["snapshot_id"], NIGHT_2)
    assert _db_snapshot(published) == again["snapshot_id"]
    kept = sorted(p.name for p in (published / snapshot.SNAPSHOTS_DIR).iterdir())
    assert kept == sorted([first["snapshot_id"], again["snapshot_id"]])
    assert not (published / ".tmp").exists()


def test_sigkill_between_the_two_swaps_is_completed_by_the_rerun(home: Path) -> None:
    first = _publish(home)
    published = home / "published"
    write_warehouse(home / "wirehouse.duckdb", night=2)
    _kill(_publish_held(home, "db_swapped"))
    # each reader still sees one whole night: the copy is the new one, the Parquet files
    # (all of them) still last night's
    assert mart_counts(published / "wirehouse.duckdb") == NIGHT_2
    assert _parquet_night(published) == (first["snapshot_id"], NIGHT_1)
    again = _publish(home)
    assert _parquet_night(published) == (again["snapshot_id"], NIGHT_2)
    assert _db_snapshot(published) == again["snapshot_id"]


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def night():
    return (
        con.execute("select snapshot_id from main.publish_info").fetchone()[0],
        con.execute("select count(*) from marts.fct_articles").fetchone()[0],
        con.execute("select count(*) from marts.dim_stories").fetchone()[0],
        con.execute("select sum(article_count) from marts.dim_stories").fetchone()[0],
    )
print(*night(), flush=True)
sys.stdin.readline()
print(*night(), flush=True)
"""


def test_a_reader_holding_the_copy_blocks_nothing_and_sees_one_night(home: Path) -> None:
    first = _publish(home)
    published = home / "published" / "wirehouse.duckdb"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        night_1 = f"{first['snapshot_id']} 4 3 4"
        assert reader.stdout.readline().strip() == night_1  # the reader has the copy open
        write_warehouse(home / "wirehouse.duckdb", night=2)
        second = _publish(home)  # completes while the reader holds the file
        reader.stdin.write("\n")
        reader.stdin.flush()
        # the reader's connection keeps reading the night it opened, whole
        assert reader.stdout.readline().strip() == night_1
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=PATIENCE_S) == 0
    assert _db_snapshot(home / "published") == second["snapshot_id"]
    assert mart_counts(published) == NIGHT_2


def test_publish_while_this_process_holds_the_warehouse(home: Path) -> None:
    # `airflow dags test` runs dbt in the task runner's process, and dbt-duckdb keeps the
    # warehouse open there: publishing must go through that instance, not attach it anew
    held = duckdb.connect(str(home / "wirehouse.duckdb"))
    try:
        assert _publish(home)["marts"] == NIGHT_1
    finally:
        held.close()


def test_publish_before_dbt_has_built_marts(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "wirehouse.duckdb")).close()
    result = publish(tmp_path / "wirehouse.duckdb", tmp_path / "published")
    assert result["marts"] == {} and result["search"] is False
    assert (tmp_path / "published" / "marts").is_symlink()


def test_extensions_come_from_their_wheels() -> None:
    path = extensions.extension_path("fts")
    assert path.is_file() and f"v{duckdb.__version__}" in path.parts
    with pytest.raises(extensions.ExtensionMissing, match="duckdb-extension-nosuch"):
        extensions.extension_path("nosuch")
    con = duckdb.connect(config=dict(extensions.NO_DOWNLOAD_CONFIG))
    try:
        extensions.load_extension(con, "fts")
        assert con.execute(
            "select loaded from duckdb_extensions() where extension_name = 'fts'"
        ).fetchone() == (True,)
        assert con.execute("select stem('drones', 'porter')").fetchone() == ("drone",)
    finally:
        con.close()
