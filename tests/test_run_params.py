"""One label per night and a manual run's params: `wirehouse.run_params`, and the pool
sizing of the CPU stages (`wirehouse.config`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from wirehouse import config
from wirehouse.config import Settings
from wirehouse.run_params import run_date, with_sources

MIDNIGHT_22 = datetime(2026, 11, 22, tzinfo=UTC)


def test_the_night_of_a_run() -> None:
    # scheduled at 00:00 UTC on the 22nd: logical date (the interval's start) the 21st
    assert run_date(None, datetime(2026, 11, 21, tzinfo=UTC), MIDNIGHT_22) == "2026-11-21"
    # `make run` on the 22nd: `airflow dags test news_daily 2026-11-21`
    assert run_date(None, datetime(2026, 11, 21, tzinfo=UTC), None) == "2026-11-21"
    # triggered without a logical date at 09:30 on the 22nd: the last whole day
    assert run_date(None, None, datetime(2026, 11, 22, 9, 30, tzinfo=UTC)) == "2026-11-21"
    # a manual run naming its night
    assert run_date("2026-10-02", MIDNIGHT_22, MIDNIGHT_22) == "2026-10-02"
    assert run_date("", MIDNIGHT_22, MIDNIGHT_22) == "2026-11-22"


@pytest.mark.parametrize("bad", ["2026-02-30", "2026-2-3", "yesterday", "2026-11-21T00:00"])
def test_a_bad_run_date_param_names_the_param(bad: str) -> None:
    with pytest.raises(ValueError, match="param run_date"):
        run_date(bad, MIDNIGHT_22, MIDNIGHT_22)


def settings_in(tmp_path: Path) -> Settings:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "sources.yml").write_text("sources: []\n")
    (folder / "other.yaml").write_text("sources: []\n")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "more.yml").write_text("sources: []\n")
    return Settings(
        home=tmp_path / "data", sources_file=folder / "sources.yml", local_roots=(extra,)
    )


def test_the_sources_param_picks_a_file_in_the_allowed_folders(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    assert with_sources(settings, None) is settings
    assert with_sources(settings, "other.yaml").sources_file == tmp_path / "conf" / "other.yaml"
    more = tmp_path / "extra" / "more.yml"
    assert with_sources(settings, str(more)).sources_file == more


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("/etc/passwd", "not a .yml"),
        ("../outside.yml", "outside the allowed folders"),
        ("missing.yml", "does not exist"),
    ],
)
def test_a_bad_sources_param_is_refused(tmp_path: Path, value: str, reason: str) -> None:
    settings = settings_in(tmp_path)
    (tmp_path / "outside.yml").write_text("sources: []\n")
    with pytest.raises(ValueError, match=f"param sources: .*{reason}"):
        with_sources(settings, value)


def test_collect_shares_the_cores_with_the_worker_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Celery worker runs up to `worker_concurrency` collect tasks at once: each gets its
    share of the cores, at least 1 (inline extraction), not a pool over every core; the
    single heavy stages keep every core."""
    for name in ("WIREHOUSE_EXTRACT_PROCESSES", "WIREHOUSE_TASK_SLOTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AIRFLOW__CELERY__WORKER_CONCURRENCY", raising=False)
    monkeypatch.setattr(config, "usable_cores", lambda: 8)
    assert config.task_slots() == 1
    assert config.worker_processes() == config.shared_worker_processes() == 8
    monkeypatch.setenv("AIRFLOW__CELERY__WORKER_CONCURRENCY", "16")
    assert config.task_slots() == 16 and config.shared_worker_processes() == 1
    assert config.worker_processes() == 8
    monkeypatch.setenv("WIREHOUSE_TASK_SLOTS", "4")
    assert config.shared_worker_processes() == 2
    monkeypatch.setenv("WIREHOUSE_EXTRACT_PROCESSES", "6")
    assert config.worker_processes() == 6 and config.shared_worker_processes() == 1
    monkeypatch.setenv("WIREHOUSE_TASK_SLOTS", "zero")  # not a count: ignored
    assert config.task_slots() == 16
