"""The briefing as one static HTML page: pure rendering, every value escaped.

The page needs nothing but its own folder: plotly.js and the world outlines are loaded from
`assets/` beside it, the figures are drawn by inline scripts, and the styles are inline. A
section with nothing to show says so instead of drawing an empty chart.

The list of briefings sits between two markers, so index.html is the latest night's page
with the full list put in (`with_nav`), without reading the marts again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from html import escape

from wirehouse.briefing import figures
from wirehouse.briefing.shape import WINDOW_NIGHTS, Briefing, StoryCard

NAV_START = "<!-- briefings:start -->"
NAV_END = "<!-- briefings:end -->"

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
       color: #1f2933; background: #fafafa; line-height: 1.45; }
header, main, nav, footer { max-width: 1040px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { margin: 0; font-size: 1.7rem; }
h2 { margin: 32px 0 8px; font-size: 1.25rem; border-bottom: 2px solid #e4e7eb;
     padding-bottom: 4px; }
h3 { margin: 0 0 4px; font-size: 1.08rem; }
a { color: #1d4ed8; text-decoration: none; } a:hover { text-decoration: underline; }
.summary { color: #52606d; margin: 4px 0 0; }
nav { margin-top: 8px; font-size: 0.92rem; color: #52606d; }
nav ul { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap;
         gap: 4px 14px; }
.story { background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; padding: 12px 16px;
         margin: 10px 0; }
.story p { margin: 3px 0; }
.meta { color: #52606d; font-size: 0.92rem; }
.story ul { margin: 2px 0 4px; padding-left: 20px; font-size: 0.94rem; }
.chip { display: inline-block; background: #eef2ff; border-radius: 10px; padding: 0 8px;
        margin: 2px 4px 2px 0; font-size: 0.88rem; }
.chip small { color: #6b7280; }
.nothing { color: #6b7280; font-style: italic; }
.note { color: #6b7280; font-size: 0.88rem; margin: 0 0 6px; }
.chart { background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; padding: 6px; }
footer { color: #6b7280; font-size: 0.85rem; padding: 32px 20px; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _link(text: str, url: str | None) -> str:
    """A link only to a web page: JSON Lines identities and file URIs are shown as text."""
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{_e(url)}">{_e(text)}</a>'
    return _e(text)


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "time unknown"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def story_html(card: StoryCard) -> str:
    meta = [
        _plural(card.new_tonight, "article") + " tonight",
        f"{card.article_count:,} in all",
        _plural(card.source_count, "outlet"),
    ]
    if card.languages:
        meta.append(", ".join(card.languages))
    parts = [
        f'<article class="story" id="{_e(card.story_id)}">',
        f"<h3>{_link(card.headline, card.origin_url)}</h3>",
        f'<p class="meta">{_e(" · ".join(meta))}</p>',
    ]
    if card.origin_source:
        parts.append(
            f"<p><b>Origin:</b> {_e(card.origin_source)}, "
            f"first published {_e(_when(card.origin_published_at))}</p>"
        )
    outlets = ", ".join(f"{_e(name)} ({n})" for name, n in card.outlets)
    parts.append(f"<p><b>Outlets:</b> {outlets}</p>")
    if card.derived:
        items = []
        for d in card.derived:
            made_from = f" of {_e(d.of_source)}" if d.of_source else ""
            items.append(f"<li>{_link(d.title, d.url)} — {_e(d.source)}, {d.kind}{made_from}</li>")
        more = card.derived_total - len(card.derived)
        if more > 0:
            items.append(f"<li>and {_plural(more, 'more')}</li>")
        parts.append(
            f"<p><b>Derived copies ({card.derived_total}):</b></p><ul>{''.join(items)}</ul>"
        )
    else:
        parts.append("<p><b>Derived copies:</b> none</p>")
    if card.entities:
        chips = "".join(
            f'<span class="chip">{_e(name)} <small>{_e(kind.lower())}</small></span>'
            for name, kind in card.entities
        )
        parts.append(f"<p><b>Top entities:</b> {chips}</p>")
    parts.append("</article>")
    return "\n".join(parts)


def _section(section_id: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'<section id="{section_id}">\n<h2>{_e(title)}</h2>\n{note_html}{body}\n</section>'


def _nothing(text: str) -> str:
    return f'<p class="nothing">{_e(text)}</p>'


def _chart(fig_html: str) -> str:
    return f'<div class="chart">{fig_html}</div>'


def render(b: Briefing, nav: str) -> str:
    """The whole page for one night; `nav` goes between the briefing-list markers."""
    s = b.summary
    if b.missing:
        summary = f"Nothing to brief: {b.missing}."
    else:
        summary = (
            f"{_plural(s.new_articles, 'new article')} in {_plural(s.stories, 'story', 'stories')}"
            f" from {_plural(s.sources_with_articles, 'source')} · "
            f"{_plural(s.fetches, 'fetch row')}, {s.failed_fetches:,} failed"
        )

    if b.stories:
        stories = "\n".join(story_html(c) for c in b.stories)
    else:
        stories = _nothing("No new articles were collected on this night.")
    window = f"the {WINDOW_NIGHTS} nights to {b.run_date.isoformat()}"
    sizes = (
        _chart(figures.fragment(figures.sizes_figure(b.sizes), "briefing-sizes"))
        if b.sizes.total
        else _nothing(f"No new stories in {window}.")
    )
    places = (
        _chart(figures.fragment(figures.map_figure(b.places), "briefing-map"))
        if not b.places.empty
        else _nothing("No places were named in this night's articles.")
    )
    originality = (
        _chart(figures.fragment(figures.originality_figure(b.originality), "briefing-originality"))
        if b.originality
        else _nothing(f"No articles in {window}.")
    )
    health = (
        _chart(figures.fragment(figures.health_figure(b.health), "briefing-health"))
        if b.health
        else _nothing("Nothing was fetched on this night.")
    )
    day = _e(b.run_date.isoformat())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wirehouse briefing — {day}</title>
<style>{STYLE}</style>
<script src="{figures.ASSETS}plotly.min.js"></script>
<script src="{figures.ASSETS}{figures.TOPOJSON_NAME}.js"></script>
</head>
<body>
<header>
<h1>Wirehouse briefing</h1>
<p class="summary"><b>Night of {day}</b> · {_e(summary)}</p>
</header>
{NAV_START}{nav}{NAV_END}
<main>
{
        _section(
            "stories",
            "The night's biggest stories",
            stories,
            "Stories with articles first collected tonight, by articles tonight, then outlets.",
        )
    }
{
        _section(
            "sizes",
            f"Stories by size, last {WINDOW_NIGHTS} nights",
            sizes,
            "New stories by the night of their first article, by their size now.",
        )
    }
{
        _section(
            "places",
            "Places mentioned tonight",
            places,
            "Points: cities and regions by articles naming them. Countries: articles naming "
            "the country or a place in it.",
        )
    }
{
        _section(
            "originality",
            f"Sources by originality, last {WINDOW_NIGHTS} nights",
            originality,
            "Share of each source's new articles that are neither copies nor rewrites.",
        )
    }
{
        _section(
            "health",
            "Fetch health by source tonight",
            health,
            "Every fetch row of the night (fct_fetches), by outcome; troubled sources first.",
        )
    }
</main>
<footer>Written by Wirehouse from the published marts (published/wirehouse.duckdb) after
the night of {day}. Works offline: everything it loads sits beside it.</footer>
</body>
</html>
"""


def dated_nav() -> str:
    """A dated page links to the index, which always lists every briefing."""
    return '<nav><a href="index.html">All briefings</a></nav>'


def index_nav(dates: Sequence[date], latest: date) -> str:
    """The index's list of briefings, newest first."""
    items = "".join(
        f'<li><a href="{d.isoformat()}.html">{d.isoformat()}</a>'
        f"{' (this page)' if d == latest else ''}</li>"
        for d in sorted(dates, reverse=True)
    )
    return f"<nav><b>Briefings</b><ul>{items}</ul></nav>"


def with_nav(page: str, nav: str) -> str:
    """The page with its briefing list replaced."""
    head, _, rest = page.partition(NAV_START)
    _, _, tail = rest.partition(NAV_END)
    return f"{head}{NAV_START}{nav}{NAV_END}{tail}"
