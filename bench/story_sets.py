"""The story benchmark's sets as the bench feeds them: each outlet its own source, and the
variants the issue asks for (``ecbplus_dev`` without dates, ``meter_dev`` dated as it
would arrive from a wire and the next morning's papers).

The data's README describes the files; this module only reads lines and rewrites
``published_at``; ``story`` stays the gold label and is never an input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SETS = ("ecbplus_dev", "newswcl50", "basil_dev", "multinews_dev", "meter_dev")
NO_DATES = "ecbplus_dev (no dates)"  # the date accident: the same set with every date removed
UNDATED_METER = "meter_dev (undated)"  # meter_dev as published, for the in-process figures
METER = "meter_dev"
STORY_DATE_RE = re.compile(r"/(\d\d\.\d\d\.\d\d)/")
REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_PARTS = ("shared", "bench", "stories")
SOURCE_SLUG_RE = re.compile(r"[^a-z0-9_-]+")


def default_data() -> Path:
    """``shared/bench/stories`` beside the repository or beside one of its parents (a git
    worktree sits one level deeper than the main checkout)."""
    for parent in REPO_ROOT.parents:
        if parent.joinpath(*DATA_PARTS).is_dir():
            return parent.joinpath(*DATA_PARTS)
    return REPO_ROOT.parent.joinpath(*DATA_PARTS)


@dataclass
class BenchSet:
    """One row of the benchmark: its lines, each line's source id and its fold."""

    name: str  # the row's label
    fold: str  # the data file it comes from: the leave-one-set-out fold it belongs to
    lines: list[dict[str, Any]]
    source_of: dict[str, str]  # line id -> source id
    wire: set[str] = field(default_factory=set)  # line ids of wire copy (meter_dev)

    @property
    def gold(self) -> list[str]:
        return [r["story"] for r in self.lines]


def load_set(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def outlet_source(outlet: object) -> str:
    """A source id for an outlet name (sources.yml ids are lowercase slugs): BASIL's
    ``NYT`` and ``nyt`` are one outlet, one source."""
    slug = SOURCE_SLUG_RE.sub("-", str(outlet or "").lower()).strip("-_")[:64]
    return slug or "unknown"


def story_day(label: str) -> date | None:
    """The folder date of a METER story label (``courts/01.03.00/burstein`` -> 1 March
    2000; dd.mm.yy), None when the label has none."""
    match = STORY_DATE_RE.search(f"/{label}/")
    return datetime.strptime(match[1], "%d.%m.%y").date() if match else None


def meter_dated(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """METER as a dated feed would bring it: wire copy on the story's day, each newspaper
    text the next morning (a date alone: midnight UTC of that day). A line whose label
    has no date keeps its own ``published_at``."""
    out = []
    for r in lines:
        day = story_day(r["story"])
        if day is not None:
            day = day if r.get("is_wire") else day + timedelta(days=1)
            r = {**r, "published_at": day.isoformat()}
        out.append(r)
    return out


def undated(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "published_at": None} for r in lines]


def bench_set(name: str, fold: str, lines: list[dict[str, Any]]) -> BenchSet:
    return BenchSet(
        name,
        fold,
        lines,
        {r["id"]: outlet_source(r.get("source")) for r in lines},
        {r["id"] for r in lines if r.get("is_wire")},
    )


def build_sets(data: Path, names: list[str]) -> tuple[list[BenchSet], list[BenchSet]]:
    """The rows run through the pipeline (each chosen set, ``ecbplus_dev`` followed by its
    no-dates row, ``meter_dev`` dated realistically), and extra rows scored only in
    process (``meter_dev`` undated, as the file has it)."""
    rows, extra = [], []
    for name in names:
        path = data / f"{name}.jsonl"
        if not path.exists():
            print(f"{path} missing: {name} skipped")
            continue
        lines = load_set(path)
        if name == METER:
            rows.append(bench_set(name, name, meter_dated(lines)))
            extra.append(bench_set(UNDATED_METER, name, lines))
        else:
            rows.append(bench_set(name, name, lines))
        if name == "ecbplus_dev":
            rows.append(bench_set(NO_DATES, name, undated(lines)))
    return rows, extra
