"""Progress lines for the long stages, through `logging`, so a task log shows what a task
that runs for minutes is doing: counts, rate and time left.

Airflow shows whatever a task's module loggers write (stdlib `logging` is routed to the
task log), so the package logs with `logging.getLogger(__name__)` and never imports
Airflow. A line is written at most every `every_seconds` (10 s by default) and always at
the end, so a 5,000-page night's collect gives a handful of lines, not one per page.
Rates use `time.monotonic` (a clock that never jumps), never the wall clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# at most one line per 10 s of a stage: a 144 s entity stage (bench-night, 5,000 pages)
# logs about 14 lines; a 2 s one only its start and end
EVERY_SECONDS = 10.0


def eta_seconds(done: int, total: int | None, elapsed: float) -> float | None:
    """Seconds left at the rate so far; None when the total is unknown or nothing is done."""
    if total is None or done <= 0 or elapsed <= 0:
        return None
    return max(0.0, (total - done) * elapsed / done)


def format_line(stage: str, done: int, total: int | None, unit: str, elapsed: float) -> str:
    """One progress line: ``entities: 1,200/5,000 articles (24%), 83.1 articles/s, 46 s left``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    count = f"{done:,}/{total:,} {unit}" if total is not None else f"{done:,} {unit}"
    if total:
        count += f" ({100 * done / total:.0f}%)"
    line = f"{stage}: {count}, {rate:.1f} {unit}/s, {elapsed:.0f} s"
    eta = eta_seconds(done, total, elapsed)
    if eta is not None and done < (total or 0):
        line += f", {eta:.0f} s left"
    return line


class Progress:
    """Counts a stage's items and logs a line every `every_seconds` and at `finish()`.

    ``clock`` is injectable so tests step it instead of sleeping."""

    def __init__(
        self,
        logger: logging.Logger,
        stage: str,
        total: int | None = None,
        unit: str = "items",
        *,
        every_seconds: float = EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.stage, self.total, self.unit = logger, stage, total, unit
        self.every_seconds, self.clock = every_seconds, clock
        self.done = 0
        self.started = clock()
        self._last = self.started
        self.logger.info("%s: started%s", stage, f", {total:,} {unit}" if total is not None else "")

    def advance(self, n: int = 1) -> None:
        """Count `n` more items; log when the last line is `every_seconds` old."""
        self.done += n
        now = self.clock()
        if now - self._last >= self.every_seconds:
            self._last = now
            self.logger.info(
                "%s", format_line(self.stage, self.done, self.total, self.unit, now - self.started)
            )

    def finish(self, detail: str = "") -> float:
        """Log the stage's last line (count, rate, seconds) and return the seconds it took."""
        elapsed = self.clock() - self.started
        line = format_line(self.stage, self.done, None, self.unit, elapsed)
        self.logger.info("%s: done%s%s", line, ", " if detail else "", detail)
        return elapsed


class Steps:
    """Logs how long each step of a stage took (``stories: history read in 4.9 s``), for the
    stages whose work is a few long steps rather than many items."""

    def __init__(
        self, logger: logging.Logger, stage: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger, self.stage, self.clock = logger, stage, clock
        self.started = self._last = clock()

    def done(self, step: str) -> float:
        """Log that `step` is done, with its seconds and the stage's so far."""
        now = self.clock()
        took, self._last = now - self._last, now
        self.logger.info(
            "%s: %s in %.1f s (%.0f s so far)", self.stage, step, took, now - self.started
        )
        return took


def tracked(items: Iterable[T], progress: Progress) -> Iterator[T]:
    """Yield `items`, counting each one on `progress`."""
    for item in items:
        yield item
        progress.advance()
