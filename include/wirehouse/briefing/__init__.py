"""The daily briefing: a static page a person reads each morning, from the published marts.

After each night, `published/briefing/<run_date>.html` and `published/briefing/index.html`
(the latest night plus links to the earlier ones) tell the night's biggest stories, new
stories by size over 14 nights, a map of the places named, sources by originality and fetch
health by source. Charts and the map are plotly figures; plotly.js and the world outlines
are written to `published/briefing/assets/`, so the page works offline.

Modules: `shape` (what the page says, pure), `figures` and `page` (how, pure), `marts`
(reading the published copy) and `output` (writing files). `write_briefing` ties them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from wirehouse.briefing import marts, output, page, shape
from wirehouse.warehouse import Lake


def build(published: Path | Lake, run_date: date) -> shape.Briefing:
    """The night's briefing content; an empty one (saying why) when there is no published
    copy or it has no marts yet. In lake mode `published` is the lake, read at its latest
    snapshot."""
    if isinstance(published, Path) and not published.exists():
        return shape.briefing(
            shape.NightData(run_date=run_date, missing="no published warehouse yet"), [], [], []
        )
    con = marts.connect(published)
    try:
        data = marts.read_night(con, run_date)
        top = shape.rank_stories(data.stories)
        articles, entities = marts.read_story_rows(con, [s.story_id for s in top])
    finally:
        con.close()
    return shape.briefing(data, top, articles, entities)


def write_briefing(published: Path | Lake, out_dir: Path, run_date: date) -> dict[str, object]:
    """Write the night's page, refresh the index and the assets; returns what was written
    (paths and counts, JSON-safe for the Airflow task's return value)."""
    b = build(published, run_date)
    output.write_assets(out_dir)
    dated = output.write_page(out_dir, run_date, page.render(b, page.dated_nav()))
    index = output.write_index(out_dir)
    return {
        "page": str(dated),
        "index": str(index),
        "stories": len(b.stories),
        "new_articles": b.summary.new_articles,
        "places": len(b.places.points) + len(b.places.countries),
        "sources": len(b.health),
        "missing": b.missing,
    }
