"""The night benchmark's made-up material: pages the real collector reads as articles,
stories of about five articles, history rows the loader takes, and the stage table."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_night
from bench_night import Night, Story, TextMaker

from wirehouse import land, pipeline
from wirehouse.config import Settings

STORIES = [
    Story(
        titles=[f"Flooding closes the {river} bridge"],
        sentences=[
            f"Officials said the {river} river rose {n} feet overnight near Calder Mills."
            for n in range(2, 30)
        ],
    )
    for river in ("Marrow", "Ashford", "Brennick")
]


def test_texts_come_in_stories_of_five_with_their_own_names() -> None:
    maker = TextMaker(STORIES, seed=1)
    texts = [maker.article(i) for i in range(10)]
    assert [event for event, _, _ in texts] == [0] * 5 + [1] * 5
    assert all(sum(len(p.split()) for p in paragraphs) >= 500 for _, _, paragraphs in texts)
    # names inside sentences are the event's own: one event never shares another's
    first = " ".join(texts[0][2]) + " ".join(texts[1][2])
    second = " ".join(texts[5][2])
    assert "Calder" not in first and "Calder" not in second
    invented = {w for w in first.split() if w.istitle()} - {"Officials"}
    assert invented and not invented & set(second.split())


def test_pages_are_read_as_articles_by_the_collector(tmp_path: Path) -> None:
    pages = bench_night.write_pages(tmp_path / "pages", 12, TextMaker(STORIES, 2), "2026-11-20")
    assert len(bench_night.page_files(tmp_path / "pages")) == 12
    settings = Settings(home=tmp_path / "home", sources_file=pages["sources"])
    sources = pipeline.list_sources(settings)
    assert len(sources) == bench_night.OUTLETS
    articles = 0
    for source in sources:
        collected = pipeline.collect(pipeline.discover(source, "2026-11-20", settings), settings)
        articles += collected["articles"]
    assert articles == 12


def test_history_rows_fit_the_landing_schemas() -> None:
    rows = bench_night.history_night(
        TextMaker(STORIES, 3), bench_night.EntityPool(50, 3), "2026-11-10", 0, 7, 4
    )
    assert len(rows["articles"]) == len(rows["fetches"]) == len(rows["article_entities"]) == 7
    assert len(rows["sources"]) == bench_night.OUTLETS
    for table, table_rows in rows.items():
        assert land.to_table(table, table_rows).num_rows == len(table_rows)
    ids = {r["article_id"] for r in rows["articles"]}
    assert {r["article_id"] for r in rows["entity_mentions"]} <= ids


def test_stages_span_their_tasks_and_leave_out_the_marked_ones() -> None:
    t0 = datetime(2026, 11, 20, tzinfo=UTC).timestamp()
    tasks = [
        ("load", -1, t0, t0 + 1, "success"),
        ("collect", 0, t0 + 1, t0 + 3, "success"),
        ("collect", 1, t0 + 2, t0 + 5, "success"),
        ("dbt.dbt_producer_watcher", -1, t0 + 5, t0 + 9, "success"),
        ("dbt.fct_articles_run", -1, t0 + 9, t0 + 10, "success"),
        ("dbt.dbt_project_test", -1, t0 + 10, t0 + 12, "success"),
    ]
    night = Night(13.0, True, Path("night.log"), tasks)
    assert night.stages() == [
        ("load", 1.0, 1.0, 1),
        ("collect", 4.0, 5.0, 2),
        ("dbt", 7.0, 7.0, 3),
    ]
    assert night.stage("dbt") == 7.0 and night.span_s == 12.0
    assert night.dbt_parts() == {"producer": 4.0, "model tasks": 1.0, "tests": 2.0}
    marked = Night(13.0, True, Path("night.log"), tasks, marked=r"(?!dbt\.).*")
    assert [s for s, *_ in marked.stages()] == ["dbt"] and marked.span_s == 7.0
