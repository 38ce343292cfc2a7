"""Writing the briefing's files: the dated page, the index and the shared assets.

Every file is written beside itself and renamed into place, so a reader opening the page
mid-write sees the old page or the new one, never half of one. The assets (plotly.js, 4.8 MB,
and the world outlines) are rewritten only when their bytes change, e.g. after a plotly
upgrade.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from importlib import resources
from pathlib import Path

from plotly.offline import get_plotlyjs

from wirehouse.briefing import figures, page

DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})\.html$")


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def topojson_script() -> str:
    """The shipped world outlines as a script that hands them to plotly.js before it
    looks for them: a page opened from disk (file://) may not fetch a JSON file beside it,
    but it may run a script."""
    outlines = json.loads(
        resources.files("wirehouse.briefing")
        .joinpath(f"assets/{figures.TOPOJSON_NAME}.json")
        .read_text(encoding="utf-8")
    )
    body = json.dumps(outlines, separators=(",", ":"))
    return (
        "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};\n"
        "window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};\n"
        f"window.PlotlyGeoAssets.topojson[{json.dumps(figures.TOPOJSON_NAME)}] = {body};\n"
    )


def write_assets(out_dir: Path) -> Path:
    assets = out_dir / figures.ASSETS.rstrip("/")
    assets.mkdir(parents=True, exist_ok=True)
    _write_if_changed(assets / "plotly.min.js", get_plotlyjs().encode("utf-8"))
    _write_if_changed(assets / f"{figures.TOPOJSON_NAME}.js", topojson_script().encode("utf-8"))
    return assets


def briefing_dates(out_dir: Path) -> list[date]:
    """The nights with a dated page, oldest first."""
    found = (DATED.match(p.name) for p in out_dir.glob("*.html"))
    return sorted(date.fromisoformat(m.group(1)) for m in found if m)


def write_page(out_dir: Path, run_date: date, html: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{run_date.isoformat()}.html"
    _write_if_changed(path, html.encode("utf-8"))
    return path


def write_index(out_dir: Path) -> Path | None:
    """index.html: the latest night's page (not the one just written, when a past night
    was re-run or backfilled) with the list of every briefing."""
    dates = briefing_dates(out_dir)
    if not dates:
        return None
    latest = dates[-1]
    latest_html = (out_dir / f"{latest.isoformat()}.html").read_text(encoding="utf-8")
    path = out_dir / "index.html"
    _write_if_changed(
        path, page.with_nav(latest_html, page.index_nav(dates, latest)).encode("utf-8")
    )
    return path
