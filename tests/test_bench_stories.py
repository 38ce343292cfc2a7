"""The story benchmark's leave-one-set-out choice, ablation verdict and set variants."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from story_loso import choose, describe, verdict
from story_sets import meter_dated, outlet_source, story_day, undated

from wirehouse.stories import StoryConfig

TABLE = {
    "a": {"x": 0.90, "y": 0.80, "z": 0.99},
    "b": {"x": 0.90, "y": 0.95, "z": 0.50},
    "c": {"x": 0.90, "y": 0.95, "z": 0.50},
}


def test_choose_ignores_the_held_out_set():
    # z is best on a alone, y best on b and c: held out a, y wins; held out b, x's
    # mean over a and c (0.90) beats y's (0.875) and z's (0.745)
    assert choose(TABLE, "a", ["x", "y", "z"], ["a", "b", "c"]) == "y"
    assert choose(TABLE, "b", ["x", "y", "z"], ["a", "b", "c"]) == "x"


def test_choose_breaks_ties_by_order_and_needs_a_training_set():
    table = {"a": {"x": 0.5, "y": 0.5}, "b": {"x": 0.9, "y": 0.9}}
    assert choose(table, "b", ["y", "x"], ["a", "b"]) == "y"
    assert choose(table, "a", ["x", "y"], ["a"]) is None


def test_verdict_keeps_a_rule_that_helps_three_sets_and_hurts_none():
    sets = ["a", "b", "c", "d", "e"]
    on = {"a": 0.96, "b": 0.95, "c": 0.94, "d": 0.90, "e": 0.90}
    off = {"a": 0.95, "b": 0.94, "c": 0.93, "d": 0.90, "e": 0.90}
    assert verdict(on, off, sets).keep
    hurt = {**off, "e": 0.9004}  # below the printed precision: not a loss
    assert verdict(on, hurt, sets).keep
    hurt = {**off, "e": 0.91}
    result = verdict(on, hurt, sets)
    assert not result.keep and result.hurt == ["e"]
    assert not verdict(on, {**off, "c": 0.94}, sets).keep  # helps only two


def test_describe_names_what_differs_from_the_shipped_settings():
    shipped = StoryConfig()
    assert describe(shipped, shipped) == "shipped"
    config = StoryConfig(threshold=0.16, attach_threshold=0.08, window_days=10**5)
    assert describe(config, shipped) == "t=0.16 a=0.08 win=off"


def test_outlets_become_source_ids():
    assert outlet_source("NYT") == outlet_source("nyt") == "nyt"
    assert outlet_source("outlet-LL") == "outlet-ll"
    assert outlet_source("The Daily Star!") == "the-daily-star"
    assert outlet_source(None) == "unknown"


def test_meter_is_dated_wire_first_then_the_next_morning_papers():
    assert story_day("courts/01.03.00/burstein") == date(2000, 3, 1)
    assert story_day("showbiz/27.09.99/madonna") == date(1999, 9, 27)
    assert story_day("no-date-here") is None
    lines = [
        {"id": "1", "story": "courts/01.03.00/burstein", "is_wire": True, "published_at": None},
        {"id": "2", "story": "courts/01.03.00/burstein", "is_wire": False, "published_at": None},
        {"id": "3", "story": "odd", "is_wire": False, "published_at": "2000-01-01"},
    ]
    dated = meter_dated(lines)
    assert [r["published_at"] for r in dated] == ["2000-03-01", "2000-03-02", "2000-01-01"]
    assert lines[0]["published_at"] is None  # the loaded lines are not changed
    assert all(r["published_at"] is None for r in undated(dated))
