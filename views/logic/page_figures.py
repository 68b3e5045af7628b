"""The picture of the Overview, the Map and the Data page for a link, without Streamlit: what
`/img/<page>`, `/embed/<page>` and a preview card's `og:image` show for those pages.

Each reads the link as its page's pickers do (same parameters, labels and defaults; a value
the page does not offer is a `LinkError`, never another view) and draws from the page's own
logic and queries, so the image holds the figures the page shows:

- Overview: every chosen city's headline cards (`overview.city_view_from_store`, the page's
  and the brief's function) as a table, value, change, date and source as the cards print
  them, and the first city's deaths-per-month chart under it;
- Map: the month's bubbles of one source (`charts.map_figure` on `query.map_points`);
- Data: the first rows of the figures table and how many figures match (the page's filters
  and its `query.count_observations` / `query.series_frame`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sqlalchemy.engine import Engine

from data_sources import sources as registry
from data_sources.model.metrics import opening_qualifier
from data_sources.store import query
from views import charts, escape
from views.logic import data as data_logic
from views.logic import figure_for, metric_label
from views.logic import map as map_logic
from views.logic import overview as overview_logic
from views.logic.places import place_labels

ALL = "(all)"
MAX_CITIES = 4  # cities in one Overview picture (the cards of more would not be read)
TABLE_ROWS = 14  # rows of the Data page's table in its picture
HEADER = "#e8ecf1"


def _text(value: object, limit: int = 120) -> str:
    """A page's Markdown-escaped text as plotly draws it (its pseudo-HTML escaped)."""
    return escape.html(escape.unmd(value), limit)


def overview(raw: Mapping, engine: Engine, when: datetime | None) -> figure_for.LinkedView:
    cities = query.cities(engine, when)
    params = figure_for._canonical(raw, cities)
    names = cities["name"].tolist()
    picked = params.get("cities") or (
        [c for c in figure_for.DEFAULT_CITIES if c in names] or names[:2]
    )
    if len(picked) > MAX_CITIES:
        raise figure_for.LinkError(f"An Overview picture holds at most {MAX_CITIES} cities.")
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    views = [overview_logic.city_view_from_store(engine, ids[n], when) for n in picked]
    months = sorted({m for view in views for m in view.months})
    window = figure_for._window(params, months)  # the page's "Time window of the small charts"
    if window is not None:
        views = [
            overview_logic.city_view_from_store(engine, ids[n], when, window=window) for n in picked
        ]
    rows = [
        (view.name, card)
        for view in views
        for card in view.headlines  # a city without headline figures has no row
    ]
    if not rows:
        raise figure_for.NothingToDraw("No headline figures stored for the chosen cities.")
    with_deaths = next((view for view in views if view.deaths), None)
    table = go.Table(
        columnwidth=[1.3, 1.6, 1.3, 1.6, 3.2],
        header={
            "values": ["City", "Figure", "Latest", "Change", "Date · source"],
            "fill_color": HEADER,
            "align": "left",
            "font": {"size": 13},
        },
        cells={
            "values": [
                [_text(name, 60) for name, _ in rows],
                [_text(card.label, 60) for _, card in rows],
                [f"<b>{_text(card.value, 60)}</b>" for _, card in rows],
                [_text(card.delta or "", 60) for _, card in rows],
                [_text(card.caption, 160) for _, card in rows],
            ],
            "align": "left",
            "font": {"size": 12},
        },
    )
    cells = table.cells["values"]
    widths = [16, 20, 16, 20, 40]  # characters per line of each column at 1000 px
    lines = [
        max(-(-len(escape.unmd(str(col[i]))) // w) for col, w in zip(cells, widths, strict=True))
        for i in range(len(rows))
    ]
    table_height = 40 + sum(14 + 17 * n for n in lines)  # a static picture does not scroll
    height = 110 + table_height
    if with_deaths is None:
        fig = go.Figure(table)
    else:
        peak, chart, _ = with_deaths.deaths[0]
        fig = make_subplots(
            rows=2,
            cols=1,
            specs=[[{"type": "table"}], [{"type": "xy"}]],
            row_heights=[table_height, 300],
            vertical_spacing=60 / (table_height + 360),
            subplot_titles=(
                "",
                f"{_text(with_deaths.name, 60)}: "
                f"conflict deaths per month ({escape.html(peak.origin.upper(), 20)}, best "
                "estimate, low–high as a bar)",
            ),
        )
        fig.add_trace(table, row=1, col=1)
        for trace in chart.data:
            fig.add_trace(trace, row=2, col=1)
        fig.update_xaxes(chart.layout.xaxis.to_plotly_json(), row=2, col=1)
        fig.update_yaxes(chart.layout.yaxis.to_plotly_json(), row=2, col=1)
        height += 340
    fig.update_layout(height=height, margin={"t": 80, "l": 20, "r": 20, "b": 20})
    latest = query.latest(engine, [ids[n] for n in picked], when)
    drawn = latest[latest.metric.isin(overview_logic.HEADLINE)]
    return figure_for.LinkedView(
        "home",
        fig,
        f"{', '.join(picked)} — latest figures"
        + (f" (charts {views[0].window})" if window and views[0].window else ""),
        "",
        None,
        None,
        figure_for.source_refs(drawn),
        {"cities": picked, **({"from": [window[0]], "to": [window[1]]} if window else {})},
        [
            f"{escape.unmd(name)}: {escape.unmd(card.label)} {escape.unmd(card.value)}, "
            f"{escape.unmd(card.caption)}"
            for name, card in rows[: figure_for.MAX_LATEST]
        ],
    )


def _origin_refs(origins, points: pd.DataFrame) -> list[figure_for.SourceRef]:
    """The sources of a map's bubbles: a registered source by its registry entry, a quoted
    report (its origin is the report's publisher) by the citation its figures carry."""
    refs = []
    for origin in dict.fromkeys(origins):
        entry = registry.SOURCES.get(origin)
        if entry is not None and origin != "reported":
            refs.append(
                figure_for.SourceRef(
                    entry.title, escape.link(entry.url), entry.citation, entry.licence
                )
            )
            continue
        cited = points.loc[points.origin == origin, "citation"].dropna().astype(str)
        refs.append(
            figure_for.SourceRef(str(origin), None, cited.iloc[0] if len(cited) else "", "")
        )
    return refs


def map_view(raw: Mapping, engine: Engine, when: datetime | None) -> figure_for.LinkedView:
    """The Map page's pickers (views/map.py), in its order, with its defaults."""
    cities = query.cities(engine, when)
    params = figure_for._canonical(raw, cities)
    cat = map_logic.mappable(query.catalogue(engine, as_of=when))
    if cat.empty:
        raise figure_for.NothingToDraw("No city figures stored yet.")
    order = list(figure_for.METRICS)
    metrics = sorted(
        cat.metric.unique(), key=lambda m: order.index(m) if m in order else len(order)
    )
    names = cities["name"].tolist()
    picked = params.get("cities") or (
        [c for c in figure_for.DEFAULT_CITIES if c in names] or names[:2]
    )
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    place_ids = [ids[n] for n in picked if n in ids]
    metric = figure_for._pick(
        "metric",
        metrics,
        metric_label,
        params,
        map_logic.opening_metric(cat, place_ids, metrics),
        "metric",
    )
    rows = cat[cat.metric == metric]
    qualifiers = sorted(rows.qualifier.unique())
    qualifier = figure_for._pick(
        "qualifier",
        qualifiers,
        lambda q: q or "(total)",
        params,
        opening_qualifier(metric, qualifiers),
        "breakdown",
    )
    rows = rows[rows.qualifier == qualifier]
    units = sorted(rows.unit.unique(), key=lambda u: not u.startswith("USD"))
    unit = figure_for._pick("unit", units, str, params, units[0], "unit")
    bounds = query.period_bounds(engine, metric, qualifier, unit, when)
    if bounds is None:
        raise figure_for.NothingToDraw("No figures for this choice.")
    months = map_logic.months(bounds)
    theirs = (
        query.series_frame(engine, place_ids, metric, qualifier=qualifier, unit=unit, as_of=when)
        if place_ids
        else pd.DataFrame({"period_end": []})
    )
    opening = map_logic.opening_month(theirs["period_end"], months)
    month = figure_for._pick("month", months, str, params, opening, "month")
    every = query.map_points(engine, metric, month, qualifier, unit, when)
    options = map_logic.source_options(every)
    source = None
    if len(options) > 1:
        source = figure_for._pick("source", options, registry.title, params, options[0], "source")
    here = map_logic.of_source(every, source)
    if here.empty:
        raise figure_for.NothingToDraw(f"No figures for {month}.")
    what = map_logic.title(metric, qualifier)
    period = pd.Period(month).strftime("%B %Y")
    figure = charts.map_figure(here, metric_label=what, unit=unit, period_label=period)
    bound = {
        "metric": [escape.plain(metric_label(metric), 200)],
        "qualifier": [escape.plain(qualifier or "(total)", 200)],
        "unit": [escape.plain(unit, 200)],
        "month": [month],
    }
    if source is not None:
        bound["source"] = [escape.plain(registry.title(source), 200)]
    top = here.sort_values("value", ascending=False).head(figure_for.MAX_LATEST)
    who = registry.title(str(source or here.origin.iloc[0]))
    return figure_for.LinkedView(
        "map",
        figure,
        f"{what}, {unit}, {period} — {escape.plain(who, 80)}, {len(here)} places",
        unit,
        None,
        None,
        _origin_refs(here.origin.astype(str), here),
        bound,
        [
            f"{escape.plain(r.city, 80)}: {charts.format_value(r.value)} {escape.plain(unit, 40)}"
            f", {period} ({escape.plain(who, 80)})"
            for r in top.itertuples()
        ],
    )


DATA_COLUMNS = {
    "city": "Place",
    "metric": "Metric",
    "qualifier": "Breakdown",
    "site": "Market / site",
    "period_end": "Period end",
    "value": "Value",
    "unit": "Unit",
    "estimate": "Estimate",
    "origin": "Source",
}


@dataclass(frozen=True)
class DataChoice:
    """The Data page's filters as a link gives them (views/data.py reads the same): what its
    table, picture and downloads hold."""

    place_ids: list[str]
    metric: str  # ALL or a metric code
    source: str  # ALL or a source code
    days: tuple | None  # the From/To window (first day, last day), None: any
    place: str
    country: str
    from_month: str
    to_month: str
    names: dict
    kinds: dict
    countries: dict


def data_choice(raw: Mapping, engine: Engine, when: datetime | None) -> DataChoice:
    """The Data page's filters from a link, with the page's options and defaults: country,
    place (the sidebar's cities by default), metric, source, From and To. LinkError for a
    choice the page does not offer."""
    cities = query.cities(engine, when)
    places = query.all_places(engine)
    names = place_labels(places)
    params = figure_for._canonical(raw, cities, names)
    cat = query.catalogue(engine, as_of=when)
    if cat.empty:
        raise figure_for.NothingToDraw("No figures stored yet.")
    kinds = dict(zip(places.place_id, places.kind, strict=True))
    countries = data_logic.country_names(places)
    chosen_cities = _sidebar_cities(params, cities)
    country = figure_for._pick(
        "country",
        data_logic.country_options(cat, places),
        lambda c: countries.get(c, c),
        params,
        ALL,
        "country",
    )
    place = figure_for._pick(
        "place",
        data_logic.place_options(cat, places, country, names),
        lambda p: data_logic.place_text(p, names, kinds),
        params,
        data_logic.default_place(chosen_cities),
        "place",
    )
    metric = figure_for._pick(
        "metric",
        [ALL, *sorted(cat.metric.unique(), key=metric_label)],
        lambda m: m if m == ALL else metric_label(m),
        params,
        ALL,
        "metric",
    )
    source = figure_for._pick(
        "source",
        [ALL, *sorted(cat.source.unique(), key=registry.title)],
        data_logic.source_text,
        params,
        ALL,
        "source",
    )
    months = data_logic.month_options(*(query.figure_span(engine) or (None, None)))
    from_month = figure_for._pick("from", months, str, params, data_logic.ANY_MONTH, "month")
    to_month = figure_for._pick("to", months, str, params, data_logic.ANY_MONTH, "month")
    days, _ = data_logic.window(from_month, to_month)
    chosen = data_logic.selected_places(cat, places, place, chosen_cities, country, metric, source)
    return DataChoice(
        chosen, metric, source, days, place, country, from_month, to_month, names, kinds, countries
    )


def data_view(raw: Mapping, engine: Engine, when: datetime | None) -> figure_for.LinkedView:
    """The Data page's filters (views/data.py, `data_choice`); its count and first rows."""
    choice = data_choice(raw, engine, when)
    chosen, metric, source, days = choice.place_ids, choice.metric, choice.source, choice.days
    place, country, names, kinds = choice.place, choice.country, choice.names, choice.kinds
    countries, from_month, to_month = choice.countries, choice.from_month, choice.to_month
    metric_or_none = None if metric == ALL else metric
    sources = None if source == ALL else [source]
    total = query.count_observations(
        engine,
        chosen,
        metric_or_none,
        None if source == ALL else source,
        as_of=when,
        window=days,
    )
    if not total:
        raise figure_for.NothingToDraw("No figures match this choice.")
    # the page's own query (its first SHOWN_ROWS), then its first rows: a smaller limit
    # would pick other figures than the page's table starts with
    rows = query.series_frame(
        engine,
        chosen,
        metric_or_none,
        sources=sources,
        limit=data_logic.SHOWN_ROWS,
        as_of=when,
        window=days,
    ).head(TABLE_ROWS)
    shown = rows[list(DATA_COLUMNS)].copy()
    shown["metric"] = shown["metric"].map(metric_label)
    shown["period_end"] = pd.to_datetime(shown["period_end"]).dt.strftime("%Y-%m-%d")
    shown["value"] = shown["value"].map(charts.format_value)
    cells = [[escape.html(v, 60) for v in shown[c].fillna("").astype(str)] for c in shown]
    table = go.Table(
        columnwidth=[2, 1.6, 1.6, 1.4, 1.1, 1, 0.9, 0.8, 1.2],
        header={
            "values": list(DATA_COLUMNS.values()),
            "fill_color": HEADER,
            "align": "left",
        },
        cells={"values": cells, "align": ["left"] * 5 + ["right"] + ["left"] * 3, "height": 24},
    )
    fig = go.Figure(table)
    more = f"; the first {len(rows)} shown" if total > len(rows) else ""
    fig.update_layout(
        title={"text": f"{total:,} figures match{more}"},
        height=130 + 24 * (len(rows) + 1),
        margin={"t": 80, "l": 20, "r": 20, "b": 10},
    )
    where = {
        data_logic.CHOSEN: "the chosen cities",
        ALL: "every place",
    }.get(place) or data_logic.place_text(place, names, kinds)
    if country != ALL:
        where += f" in {countries.get(country, country)}"
    chose = [
        where,
        metric_label(metric) if metric != ALL else "every metric",
        data_logic.source_text(source) if source != ALL else "every source",
    ]
    if days is not None:
        chose.append(f"{from_month} to {to_month}".replace(data_logic.ANY_MONTH, "any"))
    bound = {
        "country": [escape.plain(countries.get(country, country), 200)],
        "place": [escape.plain(data_logic.place_text(place, names, kinds), 200)],
        "metric": [escape.plain(metric if metric == ALL else metric_label(metric), 200)],
        "source": [escape.plain(data_logic.source_text(source), 200)],
        "from": [from_month],
        "to": [to_month],
    }
    return figure_for.LinkedView(
        "data",
        fig,
        f"Data — {escape.plain(' · '.join(chose), 200)}: {total:,} figures",
        "",
        None,
        None,
        figure_for.source_refs(rows),
        bound,
        [f"{total:,} figures match ({escape.plain(', '.join(chose), 160)})."],
    )


def _sidebar_cities(params: Mapping, cities: pd.DataFrame) -> list[str]:
    """The place ids of the sidebar's cities a link names (its default when it names none),
    as `pickers.selected_cities` reads them."""
    names = cities["name"].tolist()
    picked = params.get("cities") or (
        [c for c in figure_for.DEFAULT_CITIES if c in names] or names[:2]
    )
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    return [ids[n] for n in picked if n in ids]


BUILDERS = {"home": overview, "map": map_view, "data": data_view}
