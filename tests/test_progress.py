"""Progress lines: counts, rate and time left, at most one line per interval, from a
monotonic clock the tests step by hand (no sleeping, no timing)."""

from __future__ import annotations

import logging

import pytest

from wirehouse.progress import Progress, Steps, eta_seconds, format_line, tracked


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_line_has_count_share_rate_and_time_left() -> None:
    line = format_line("entities", 1200, 5000, "articles", 20.0)
    assert line == "entities: 1,200/5,000 articles (24%), 60.0 articles/s, 20 s, 63 s left"
    assert format_line("collect x", 7, None, "pages", 2.0) == "collect x: 7 pages, 3.5 pages/s, 2 s"
    assert eta_seconds(0, 10, 5.0) is None and eta_seconds(5, None, 5.0) is None
    assert eta_seconds(10, 10, 5.0) == 0.0


def test_one_line_per_interval_and_one_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    logger = logging.getLogger("wirehouse.test_progress")
    with caplog.at_level(logging.INFO, logger=logger.name):
        progress = Progress(logger, "entities", 160, "articles", every_seconds=10, clock=clock)
        for _ in range(160):  # 160 items, a quarter second each: a line at 10, 20, 30, 40 s
            clock.now += 0.25
            progress.advance()
        assert progress.finish("2 process(es)") == 40.0
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "entities: started, 160 articles"
    assert len(lines) == 1 + 4 + 1, lines
    assert lines[1] == "entities: 40/160 articles (25%), 4.0 articles/s, 10 s, 30 s left"
    assert lines[4] == "entities: 160/160 articles (100%), 4.0 articles/s, 40 s"
    assert lines[-1] == "entities: 160 articles, 4.0 articles/s, 40 s: done, 2 process(es)"


def test_steps_and_tracked(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    logger = logging.getLogger("wirehouse.test_progress")
    with caplog.at_level(logging.INFO, logger=logger.name):
        steps = Steps(logger, "stories", clock=clock)
        clock.now += 4.9
        assert steps.done("history read") == pytest.approx(4.9)
        clock.now += 18.6
        steps.done("assignment")
        progress = Progress(logger, "x", 3, clock=clock)
        assert list(tracked("abc", progress)) == ["a", "b", "c"]
        assert progress.done == 3
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "stories: history read in 4.9 s (5 s so far)"
    assert lines[1] == "stories: assignment in 18.6 s (24 s so far)"
