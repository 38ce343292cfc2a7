"""The briefing's charts and map as plotly figures, and each as an HTML fragment.

Pure: shaped data in, plotly figures (and their `<div>` + `<script>`) out. plotly.js itself
is not in the fragments; the page loads it once from `assets/`. The map's world outlines
come from `assets/world_110m.js`, which fills `window.PlotlyGeoAssets` before any figure is
drawn, so plotly.js finds them there and never asks its CDN; `topojsonURL` points at
`assets/` as well, so even a lookup plotly.js makes on its own stays on the page's folder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio

from wirehouse.briefing.shape import (
    HEALTH_CLASSES,
    OUTCOME_CLASSES,
    PlaceMap,
    SizeSeries,
    SourceHealth,
    SourceOriginality,
)

ASSETS = "assets/"
# plotly.js's name for the 1:110m world outlines (scope "world", resolution 110): the key
# `window.PlotlyGeoAssets.topojson` is filled under, and the file name under topojsonURL
TOPOJSON_NAME = "world_110m"
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "topojsonURL": ASSETS,
    # no toolbar: a morning read, not an editor (and its "send to Chart Studio" would post
    # the figure to a web service); hover labels, and pan and zoom by mouse, stay
    "displayModeBar": False,
    "showSendToCloud": False,
}
TEMPLATE = "plotly_white"
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}
SIZE_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")
HEALTH_COLOURS = {
    "ok": "#2ca25f",
    "no article": "#fdae61",
    "failed": "#d7301f",
    "skipped": "#bdbdbd",
}
# one bar row of a per-source chart, and the room for the axes and legend around them
ROW_PX = 26
FRAME_PX = 120


def _layout(height: int, **extra: object) -> dict[str, object]:
    return {
        "template": TEMPLATE,
        "height": height,
        "font": FONT,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 40},
        **extra,
    }


def _count_tick(series: SizeSeries) -> int | None:
    """A tick per story up to 10 on the axis, else plotly's own (None)."""
    tallest = max((sum(c) for c in zip(*series.counts.values(), strict=True)), default=0)
    return 1 if tallest <= 10 else None


def sizes_figure(series: SizeSeries) -> go.Figure:
    """New stories per night over the window, stacked by size: a quiet night, a night of
    many one-outlet stories and a night of one big story look different."""
    nights = [d.isoformat() for d in series.nights]
    fig = go.Figure()
    for (label, counts), colour in zip(series.counts.items(), SIZE_COLOURS, strict=True):
        fig.add_trace(
            go.Bar(
                name=label,
                x=nights,
                y=list(counts),
                marker_color=colour,
                hovertemplate="%{x}: %{y} stories of " + label + "<extra></extra>",
            )
        )
    fig.update_layout(
        **_layout(
            360,
            barmode="stack",
            legend={"orientation": "h", "y": 1.08, "x": 0},
            xaxis={"type": "category", "title": "night the story first appeared"},
            # whole stories: a tick every story while the tallest night is small
            yaxis={"title": "new stories", "rangemode": "tozero", "dtick": _count_tick(series)},
        )
    )
    return fig


def map_figure(places: PlaceMap) -> go.Figure:
    """Countries shaded by the night's articles naming them (or a place in them), and a point
    for each city or continent, its area following its article count."""
    fig = go.Figure()
    if places.countries:
        fig.add_trace(
            go.Choropleth(
                name="countries",
                locationmode="ISO-3",
                locations=[c.iso3 for c in places.countries],
                z=[c.articles for c in places.countries],
                text=[c.name for c in places.countries],
                hovertemplate="%{text}: %{z} articles<extra></extra>",
                colorscale="Blues",
                zmin=0,
                zmax=max(c.articles for c in places.countries),
                marker_line_color="#ffffff",
                marker_line_width=0.5,
                colorbar={"title": {"text": "articles"}, "thickness": 12, "len": 0.6},
            )
        )
    if places.points:
        largest = max(p.articles for p in places.points)
        fig.add_trace(
            go.Scattergeo(
                name="places",
                lat=[p.latitude for p in places.points],
                lon=[p.longitude for p in places.points],
                text=[p.name for p in places.points],
                customdata=[p.articles for p in places.points],
                hovertemplate="%{text}: %{customdata} articles<extra></extra>",
                mode="markers",
                marker={
                    # area, not radius, follows the count; 6 to 30 px keeps one-article
                    # places visible beside the night's biggest
                    "size": [6 + 24 * math.sqrt(p.articles / largest) for p in places.points],
                    "color": "#d95f0e",
                    "opacity": 0.8,
                    "line": {"color": "#ffffff", "width": 1},
                },
            )
        )
    fig.update_layout(
        **_layout(460, showlegend=False, margin={"l": 0, "r": 0, "t": 0, "b": 0}),
        geo={
            "scope": "world",
            "resolution": 110,
            "projection": {"type": "natural earth"},
            # the whole world always (without Antarctica): left alone, plotly.js zooms in on
            # the shaded countries, and one night's map would not compare with the next
            "fitbounds": False,
            "lonaxis": {"range": [-180, 180]},
            "lataxis": {"range": [-60, 85]},
            "showcountries": True,
            "countrycolor": "#bdbdbd",
            "showland": True,
            "landcolor": "#f4f4f4",
            "showocean": True,
            "oceancolor": "#eaf2fa",
            "showframe": False,
        },
    )
    return fig


def originality_figure(ranking: Sequence[SourceOriginality]) -> go.Figure:
    """Sources by share of original articles, the most original on top."""
    rows = list(reversed(ranking))  # plotly draws the first category at the bottom
    fig = go.Figure(
        go.Bar(
            orientation="h",
            x=[s.ratio for s in rows],
            y=[s.source for s in rows],
            text=[f"{s.original} of {s.articles}" for s in rows],
            textposition="auto",
            marker_color="#3182bd",
            hovertemplate="%{y}: %{x:.0%} original (%{text})<extra></extra>",
        )
    )
    fig.update_layout(
        **_layout(
            FRAME_PX + ROW_PX * len(rows),
            xaxis={"range": [0, 1], "tickformat": ".0%", "title": "original articles"},
            yaxis={"type": "category", "automargin": True},
        )
    )
    return fig


def health_figure(health: Sequence[SourceHealth]) -> go.Figure:
    """Each source's fetch rows of the night, stacked by health class, troubled sources on
    top; hovering a bar names the outcomes behind it."""
    rows = list(reversed(health))
    fig = go.Figure()
    for cls in HEALTH_CLASSES:
        details = []
        for h in rows:
            parts = [f"{o} {n}" for o, n in h.outcomes if OUTCOME_CLASSES.get(o, "failed") == cls]
            details.append(", ".join(parts) or "none")
        fig.add_trace(
            go.Bar(
                orientation="h",
                name=cls,
                x=[h.by_class.get(cls, 0) for h in rows],
                y=[h.source for h in rows],
                customdata=details,
                marker_color=HEALTH_COLOURS[cls],
                hovertemplate="%{y}, " + cls + ": %{x} (%{customdata})<extra></extra>",
            )
        )
    fig.update_layout(
        **_layout(
            FRAME_PX + ROW_PX * len(rows),
            barmode="stack",
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            xaxis={"title": "fetch rows tonight"},
            yaxis={"type": "category", "automargin": True},
        )
    )
    return fig


def fragment(fig: go.Figure, div_id: str) -> str:
    """The figure's `<div>` and drawing `<script>`, without plotly.js; a fixed div id so a
    re-run writes the same page."""
    height = fig.layout.height or 450
    return pio.to_html(
        fig,
        config=CONFIG,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        default_height=f"{height}px",
    )
