"""A city brief: one printable page per city for a moment, built from the store without
Streamlit (the web route `/brief`, the CLI's `brief` and the Overview share it).

Its figures are the Overview's by construction: `overview.city_view_from_store` is the one
function that gathers a place's Overview (views/overview.py caches what it returns), and the brief prints
its headline cards — value, date, source, change — beside the Trends chart of each headline
series (views/logic/figure_for.py, the same as /img/), the deadliest months, where sources
disagree, and a numbered list of every source with its link and licence. The moment is
pinned: the as-of text and a link to the live view at that moment are printed on it.

`brief_html` is self-contained (charts as inline SVG drawn by web/render's kaleido tab; no
script); `brief_pdf` prints that HTML with Debian's Chromium. Every text from the store or a
link is escaped for HTML."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from data_sources import sources as registry
from data_sources.store import asof, query
from views import escape
from views.logic import compare as compare_logic
from views.logic import figure_for, metric_label
from views.logic import overview as overview_logic

MAX_CITIES = 12
CHART_WIDTH, CHART_HEIGHT = 360, 220  # two charts a row: a city fits one A4 page


class BriefError(ValueError):
    """A brief that cannot be made as asked (unknown city, too many): the message says why."""


@dataclass
class CityBrief:
    place_id: str
    name: str
    overview: overview_logic.CityView
    charts: list[figure_for.LinkedView] = field(default_factory=list)
    disagreements: list[tuple[str, pd.DataFrame]] = field(default_factory=list)


@dataclass
class Brief:
    cities: list[CityBrief]
    as_of: datetime | None
    as_of_text: str | None
    sources: list[figure_for.SourceRef]  # numbered in this order


def _place_ids(engine: Engine, names: list[str], when: datetime | None) -> list[tuple[str, str]]:
    if not names:
        raise BriefError("Name at least one city (cities=Aleppo).")
    if len(names) > MAX_CITIES:
        raise BriefError(f"A brief holds at most {MAX_CITIES} cities.")
    cities = query.cities(engine, when)
    by_name = {n.casefold(): (pid, n) for pid, n in zip(cities.place_id, cities.name, strict=True)}
    by_id = {pid.casefold(): (pid, n) for pid, n in zip(cities.place_id, cities.name, strict=True)}
    out = []
    for name in names:
        found = by_name.get(str(name).casefold()) or by_id.get(str(name).casefold())
        if found is None:
            raise BriefError(f"No figures stored for the city “{escape.plain(name, 80)}”.")
        out.append(found)
    return list(dict.fromkeys(out))


def build(engine: Engine, cities: list[str], as_of: str | datetime | None = None) -> Brief:
    """The brief for `cities` (names or place ids) at `as_of` (a link's text or a moment;
    None: now), clamped to the store's span as every link is."""
    moments = asof.store_moments(engine)
    moment = None
    if isinstance(as_of, str) and not as_of.strip():
        as_of = None
    if as_of is not None:
        try:
            parsed = asof.parse_as_of(as_of) if isinstance(as_of, str) else as_of
            moment, _ = asof.clamp(parsed, moments)
        except asof.AsOfError as exc:
            raise BriefError(f"as_of: {exc}") from None
    when = asof.snap(moment, moments) if moment is not None else None
    pinned = moment or (moments[-1] if moments else None)
    pinned_text = asof.format_as_of(pinned) if pinned else None
    briefs = []
    refs: list[figure_for.SourceRef] = []
    for place_id, name in _place_ids(engine, cities, when):
        city = CityBrief(
            place_id, name, overview_logic.city_view_from_store(engine, place_id, when)
        )
        for card in city.overview.headlines:
            params = {
                "cities": [name],
                "metric": [escape.plain(metric_label(card.metric), 200)],
                "qualifier": [escape.plain(card.qualifier or "(total)", 200)],
                "unit": [escape.plain(card.unit, 200)],
            }
            if pinned_text:
                params["as_of"] = [pinned_text]
            try:
                view = figure_for.view_for("trends", params, engine)
            except (figure_for.LinkError, figure_for.NothingToDraw):
                continue
            city.charts.append(view)
            refs += view.sources
        catalogue = query.catalogue(engine, [place_id], when)
        for metric in compare_logic.multi_source(catalogue).metric:
            data = query.series_frame(engine, [place_id], metric, as_of=when)
            for unit in sorted(data.unit.unique()):
                found = compare_logic.disagreements(data[data.unit == unit])
                if not found.empty:
                    city.disagreements.append((f"{metric_label(metric)}, {unit}", found))
                    refs += figure_for.source_refs(data[data.unit == unit])
        refs += [_registry_ref(s) for s in city.overview.sources if s in registry.SOURCES]
        briefs.append(city)
    return Brief(briefs, pinned, pinned_text, list(dict.fromkeys(r for r in refs if r)))


def _registry_ref(key: str) -> figure_for.SourceRef | None:
    entry = registry.SOURCES[key]
    if key == "reported":
        return None
    return figure_for.SourceRef(entry.title, escape.link(entry.url), entry.citation, entry.licence)


def live_link(brief: Brief, origin: str = "") -> str:
    """The Overview of these cities at the brief's moment."""
    params = {"cities": [c.name for c in brief.cities]}
    if brief.as_of_text:
        params["as_of"] = [brief.as_of_text]
    return f"{origin}/?{urlencode(params, doseq=True)}"


STYLE = (
    "@page{size:A4;margin:14mm}body{font:11px/1.4 system-ui,sans-serif;color:#222;margin:0}"
    "section.city{page-break-after:always}section.city:last-of-type{page-break-after:auto}"
    "h1{font-size:20px;margin:0 0 2px}h2{font-size:13px;margin:12px 0 4px}"
    "table{border-collapse:collapse;width:100%;margin:4px 0}"
    "td,th{border-bottom:1px solid #ddd;padding:2px 4px;text-align:left;vertical-align:top}"
    "td.n{text-align:right;white-space:nowrap}.muted{color:#666}.chart svg{max-width:100%;"
    "height:auto}.chart{page-break-inside:avoid}ol.sources li{margin-bottom:3px}"
    ".charts{display:grid;grid-template-columns:1fr 1fr;gap:6px 12px}"
    "h3{font-size:11px;margin:6px 0 2px}.chart p{margin:0}"
)


def brief_html(brief: Brief, svg: Callable[[object, int, int], str], origin: str = "") -> str:
    """The brief as one HTML document; `svg(figure, width, height)` draws a chart as SVG."""
    e = html.escape
    numbers = {ref: i + 1 for i, ref in enumerate(brief.sources)}
    moment = asof.describe(brief.as_of) if brief.as_of else "no figures stored yet"
    link = live_link(brief, origin)
    parts = []
    for city in brief.cities:
        ov = city.overview
        rows = "".join(
            f"<tr><td>{e(escape.plain(c.label, 80))}</td><td class='n'>{e(c.value)}</td>"
            f"<td>{e(escape.unmd(c.caption))}</td><td class='n'>{e(c.delta or '')}</td></tr>"
            for c in ov.headlines
        )
        table = (
            "<table><tr><th>Metric</th><th>Latest figure</th><th>Date · source</th>"
            f"<th>Change</th></tr>{rows}</table>"
            if rows
            else "<p>No headline figures stored for this city yet.</p>"
        )
        deaths = "".join(
            f"<div class='chart'><h3>Conflict deaths per month ({e(peak.origin.upper())}): "
            f"deadliest {peak.month:%B %Y}, {e(peak.best)}{e(peak.spread)}</h3>"
            f"{svg(compact(fig), CHART_WIDTH, CHART_HEIGHT)}</div>"
            for peak, fig, _ in ov.deaths
        )
        charts = "".join(
            f"<div class='chart'><h3>{e(escape.plain(v.title, 200))}</h3>"
            f"{svg(compact(v.figure), CHART_WIDTH, CHART_HEIGHT)}"
            f"<p class='muted'>Sources: {_cites(v.sources, numbers)}</p></div>"
            for v in city.charts
        )
        disagree = "".join(_disagreement(what, found) for what, found in city.disagreements)
        parts.append(
            f"<section class='city'><h1>{e(escape.plain(city.name, 80))}</h1>"
            f"<p class='muted'>{e(escape.unmd(ov.caption))}</p>"
            f"<p class='muted'>Figures as of {e(moment)} · {e(link)}</p>"
            f"<h2>Latest figures</h2>{table}<div class='charts'>{deaths}{charts}</div>"
            + (f"<h2>Where sources disagree</h2>{disagree}" if disagree else "")
            + (f"<p class='muted'>{e(escape.unmd(ov.context))}</p>" if ov.context else "")
            + "</section>"
        )
    sources = "".join(
        f"<li><b>{e(escape.plain(r.title, 120))}</b>: {e(escape.plain(r.citation, 600))} "
        f"— {e(escape.plain(r.licence, 120))}"
        + (f' · <a href="{e(r.link)}">{e(r.link)}</a>' if r.link else "")
        + "</li>"
        for r in brief.sources
    )
    title = "Situation Room brief: " + ", ".join(c.name for c in brief.cities)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(escape.plain(title, 200))}</title><style>{STYLE}</style></head><body>"
        + "".join(parts)
        + f"<section class='sources'><h2>Sources</h2><ol class='sources'>{sources}</ol>"
        f"<p class='muted'>Figures as of {e(moment)}. Live view at that moment: {e(link)}</p>"
        "</section></body></html>"
    )


def compact(figure) -> go.Figure:
    """A page's chart at brief size: its title is the heading above it, the legend under it."""
    fig = go.Figure(figure)
    fig.update_layout(
        title=None,
        margin={"l": 44, "r": 8, "t": 8, "b": 30},
        legend={"orientation": "h", "y": -0.18, "font": {"size": 9}},
        font={"size": 9},
        showlegend=len(fig.data) > 1,
    )
    return fig


def _cites(refs: list[figure_for.SourceRef], numbers: dict) -> str:
    return ", ".join(
        f"[{numbers[r]}] {html.escape(escape.plain(r.title, 80))}" for r in refs if r in numbers
    )


MAX_DISAGREEMENTS = 8


def _ratio(ratio: float, scope: str) -> str:
    """The ratio cell: "11.6×", or why there is none (figures counting different things)."""
    if math.isnan(ratio):
        return "not comparable: different things counted"
    return f"{ratio:,.1f}×" if math.isfinite(ratio) else ""


def _disagreement(what: str, found: pd.DataFrame) -> str:
    """The periods where two or more sources gave a figure, the widest spreads first."""
    e = html.escape
    top = found.sort_values("ratio", ascending=False, na_position="last").head(MAX_DISAGREEMENTS)
    rows = "".join(
        f"<tr><td>{e(str(r.period))}</td><td>{e(escape.plain(str(r.figures), 300))}</td>"
        f"<td class='n'>{e(_ratio(r.ratio, r.scope))}</td></tr>"
        for r in top.itertuples()
    )
    return (
        f"<p><b>{e(escape.plain(what, 120))}</b> ({len(found)} period(s); widest first)</p>"
        f"<table><tr><th>Period</th><th>Figures</th><th>Highest ÷ lowest</th></tr>{rows}</table>"
    )
