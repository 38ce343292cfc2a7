"""Per-source boilerplate through the pipeline: learned from the collector's nights, applied
to tonight's bodies, deterministic on re-run."""

from __future__ import annotations

from pathlib import Path

from wirehouse.config import Settings
from wirehouse.pipeline import apply_source_boilerplate

FOOTER = "Get the Morning Lantern newsletter in your inbox every day."


EVENTS = ["a bridge repair", "a school board vote", "a harvest festival", "a water main break"]


def article(n: int) -> dict:
    event = EVENTS[n - 1]
    story = f"This story reports on {event}, with its own facts and quotes from residents."
    body = f"{story}\n\nMore detail about {event} follows here.\n\n{FOOTER}"
    return {
        "article_id": f"a{n}",
        "body": body,
        "word_count": 0,
        "content_hash": "x",
        "too_short": False,
    }


def test_learned_over_nights_and_applied(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, sources_file=tmp_path / "sources.yml")
    night1, learned1 = apply_source_boilerplate(
        settings, "lantern", "2026-11-20", [article(1), article(2)]
    )
    assert learned1 == []  # two pages are not evidence enough
    assert all(FOOTER in a["body"] for a in night1)

    night2, learned2 = apply_source_boilerplate(
        settings, "lantern", "2026-11-21", [article(3), article(4)]
    )
    assert [b["example"] for b in learned2] == [FOOTER]
    assert learned2[0]["page_count"] == 4 and learned2[0]["run_date"] == "2026-11-21"
    assert all(FOOTER not in a["body"] for a in night2)
    assert night2[0]["word_count"] == len(night2[0]["body"].replace(".", " ").split())
    assert night2[0]["content_hash"] != "x"

    again, learned_again = apply_source_boilerplate(
        settings, "lantern", "2026-11-21", [article(3), article(4)]
    )
    assert (again, learned_again) == (night2, learned2)
    # a re-run of the first night does not see the second
    rerun1, relearned1 = apply_source_boilerplate(
        settings, "lantern", "2026-11-20", [article(1), article(2)]
    )
    assert relearned1 == [] and rerun1 == night1
