"""A page's chart from its shareable link, without Streamlit: the images (`web/images.py`) and
embeds (`web/embeds.py`) draw what the page draws for the same link.

The link's parameters are read as the page's widgets read them (`link_format.canonical` first,
so an old link opens the same view), with the page's defaults for what the link leaves out.
Where the page would say "not available here" and show a default, this layer refuses
(`LinkError`): an image of another view than the one asked for would be quoted as that view.
The figure itself comes from the page's own logic (`views.logic.trends.trend_view`,
`views.logic.compare.compare_view`) on the same queries (`data_sources.store.query`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from data_sources import sources as registry
from data_sources.model import combine
from data_sources.model.metrics import METRICS, metric_spec, opening_metric, opening_qualifier
from data_sources.store import asof, query
from views import escape, link_format
from views.logic import compare as compare_logic
from views.logic import metric_label
from views.logic import trends as trends_logic
from views.logic.data import source_text
from views.logic.places import place_labels

PAGES = ("home", "trends", "compare", "map", "data")  # every page (views/pages.py) has one
DEFAULT_CITIES = ["Aleppo", "Mosul"]  # views.pickers.DEFAULT_CITIES (that module imports st)
ALL = "(all)"
MEDIAN = "(median)"
MARKET_VIEWS = {ALL: "each market", MEDIAN: "median of markets (min–max)"}
PERIOD_WORDS = {"week": "weekly", "month": "monthly", "year": "yearly"}
MAX_VALUE = 200  # longer parameter values are refused, never looked up


class LinkError(ValueError):
    """A link this layer will not draw: the message (plain text) says why."""


class NothingToDraw(LookupError):
    """A valid link whose choice holds no figures (the page says "No figures")."""


@dataclass(frozen=True)
class SourceRef:
    """One source of the figures drawn, as the image and the embed cite it."""

    title: str
    link: str | None
    citation: str
    licence: str

    @property
    def line(self) -> str:
        return f"{self.title}: {self.citation} — {self.licence}"


@dataclass
class LinkedView:
    """A page's chart for one link: the figure, what it is of, when, and from whom."""

    page: str
    figure: go.Figure
    title: str
    unit: str
    as_of: datetime | None  # the moment the figures are as of (None: no figure stored yet)
    as_of_text: str | None  # as a link spells it (`as_of=`)
    sources: list[SourceRef]
    params: dict[str, list[str]]  # every parameter the page would bind, defaults included
    latest: list[str] = field(default_factory=list)  # per place, its newest published figure


def view_for(page: str, raw: Mapping[str, Sequence[str]], engine: Engine) -> LinkedView:
    """The chart `page` draws for the link parameters `raw` (every value of every parameter)."""
    if page not in PAGES:
        raise LinkError(f"No chart image for the page “{escape.plain(page, 40)}”.")
    moment, when = link_moment(raw, engine)
    moments = asof.store_moments(engine)
    from views.logic import page_figures  # it builds on this module's pickers

    build = {"trends": _trends, "compare": _compare, **page_figures.BUILDERS}[page]
    view = build(raw, engine, when)
    pinned = moment or (moments[-1] if moments else None)
    view.as_of = pinned
    view.as_of_text = asof.format_as_of(pinned) if pinned else None
    if view.as_of_text:
        view.params["as_of"] = [view.as_of_text]
    return view


def link_moment(
    raw: Mapping[str, Sequence[str]], engine: Engine
) -> tuple[datetime | None, datetime | None]:
    """A link's `as_of` as asked (clamped to the store) and as the store's data reads it
    (snapped to a stored moment); LinkError for a parameter too long or a moment that is
    none. Every route that reads a page's link starts here."""
    for name, values in raw.items():
        if len(values) > link_format.MAX_CITIES or any(len(v) > MAX_VALUE for v in values):
            raise LinkError(f"The parameter “{escape.plain(name, 40)}” is too long.")
    moments = asof.store_moments(engine)
    moment = _moment(raw, moments)
    return moment, (asof.snap(moment, moments) if moment is not None else None)


def _moment(raw: Mapping[str, Sequence[str]], moments: list[datetime]) -> datetime | None:
    values = list(raw.get("as_of", []))
    if not values or not str(values[0]).strip():
        return None
    try:
        moment, _ = asof.clamp(asof.parse_as_of(values[0]), moments)
    except asof.AsOfError as exc:
        raise LinkError(f"as_of: {exc}") from None
    return moment


def _pick(param: str, options: Sequence, shown, params: Mapping, default, what: str):
    """The option the link names for `param` (by the label the page's widget writes), the
    default when it names none; LinkError when it names one the page does not offer."""
    options = list(options)
    if default not in options:
        default = options[0]
    values = params.get(param)
    if not values:
        return default
    by_label = {escape.plain(shown(o), 200): o for o in options}
    if values[0] not in by_label:
        raise LinkError(
            f"The link asks for {what} “{escape.plain(values[0], 80)}”, which is not available "
            "here."
        )
    return by_label[values[0]]


def _window(params: Mapping, months: list[str]) -> tuple[str, str] | None:
    """The time charts' From and To (`pickers.window_select`), "From" after "To" swapped;
    None when it is every month."""
    if len(months) < 2:
        return None
    start = _pick("from", months, str, params, months[0], "month")
    end = _pick("to", months, str, params, months[-1], "month")
    start, end = min(start, end), max(start, end)
    return None if (start, end) == (months[0], months[-1]) else (start, end)


def _flag(param: str, params: Mapping) -> bool:
    values = params.get(param)
    if not values:
        return False
    if values[0] not in ("true", "false"):
        raise LinkError(
            f"The link sets {escape.plain(param, 40)} to “{escape.plain(values[0], 80)}”; use true"
            " or false."
        )
    return values[0] == "true"


def _canonical(raw: Mapping[str, Sequence[str]], cities: pd.DataFrame, places=None) -> dict:
    ids = dict(zip(cities["geonames_id"].astype("Int64").astype(str), cities["name"], strict=True))
    out = link_format.canonical(raw, cities["name"].tolist(), ids, places or {})
    unknown = [p for p in out.problems if p.startswith("Unknown city")]
    if unknown:
        raise LinkError(escape.plain(unknown[0].replace("\\", ""), 300))
    return out.params


def _trends(raw: Mapping, engine: Engine, when: datetime | None) -> LinkedView:
    """The Trends page's pickers (views/trends.py), in its order, with its defaults."""
    cities = query.cities(engine, when)
    params = _canonical(raw, cities)
    names = cities["name"].tolist()
    picked = params.get("cities") or ([c for c in DEFAULT_CITIES if c in names] or names[:2])
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    place_ids = [ids[n] for n in picked]
    cat = query.catalogue(engine, place_ids, when)
    if cat.empty:
        raise NothingToDraw("No figures stored for the chosen cities.")
    order = list(METRICS)
    metrics = sorted(
        cat.metric.unique(), key=lambda m: order.index(m) if m in order else len(order)
    )
    metric = _pick("metric", metrics, metric_label, params, opening_metric(metrics), "metric")
    rows = cat[cat.metric == metric]
    kind = combine.metric_kind(metric)
    qualifiers = sorted(rows.qualifier.unique())
    qualifier = _pick(
        "qualifier",
        [*qualifiers, trends_logic.EACH_BREAKDOWN] if len(qualifiers) > 1 else qualifiers,
        trends_logic.breakdown_text,
        params,
        opening_qualifier(metric, qualifiers),
        metric_spec(metric).breakdown,
    )
    each = qualifier == trends_logic.EACH_BREAKDOWN
    if not each:
        rows = rows[rows.qualifier == qualifier]
    units = sorted(rows.unit.unique(), key=lambda u: u.startswith("USD"))
    unit = _pick("unit", units, str, params, units[0], "unit")
    rows = rows[rows.unit == unit]
    sites = sorted(rows.site.unique())
    site, markets = None, combine.EACH
    by_market = metric_spec(metric).by_market and len(sites) > 1
    if by_market:
        chosen = _pick(
            "market", [ALL, MEDIAN, *sites], lambda s: MARKET_VIEWS.get(s, s), params, ALL, "market"
        )
        markets = combine.MEDIAN if chosen == MEDIAN else combine.EACH
        site = None if chosen in MARKET_VIEWS else chosen
    period = _pick(
        "period", list(combine.FREQUENCIES), lambda p: escape.md(p, 200), params, "month", "period"
    )
    cumulative = _flag("cumulative", params)
    per_capita = _flag("percapita", params)
    origins = sorted(set(rows.dataset.where(rows.source == "reported", rows.source)))
    source = _pick("source", [ALL, *origins], source_text, params, ALL, "source")
    earlier = _flag("revisions", params)
    beside = _flag("reports", params)

    def series(revisions: bool = False) -> pd.DataFrame:
        return query.series_frame(
            engine,
            place_ids,
            metric,
            qualifier=None if each else qualifier,
            site=site,
            unit=unit,
            as_of=when,
            current_only=not revisions,
        )

    has_reports = bool((cat.source == "reported").any())
    drawn = series()
    months = trends_logic.months_of(drawn)
    window = _window(params, months)
    view = trends_logic.trend_view(
        drawn,
        metric=metric,
        qualifier=qualifier,
        unit=unit,
        period=period,
        cumulative=cumulative,
        per_capita=per_capita,
        site=site,
        source=None if source == ALL else source,
        population=trends_logic.population(cities) if per_capita else {},
        every=series(revisions=True) if earlier else None,
        reported=query.series_frame(
            engine, place_ids if has_reports else [], sources=["reported"], as_of=when
        ),
        markets=markets,
        window=window,
        beside=beside,
    )
    if view is None:
        raise NothingToDraw("No figures for this choice.")
    what = f"{metric_label(metric)} by breakdown" if each else qualifier or metric_label(metric)
    if site is not None:
        what += f" at {site}"
    running = cumulative and kind == "flow"
    shown = trends_logic.window_text(window, months)
    title = (
        f"{', '.join(picked)} — {what}, {view.chart.unit_label}, "
        f"{'cumulative' if running else PERIOD_WORDS.get(period, period)}"
        + (f", {shown}" if shown else "")
    )
    bound = {
        "cities": picked,
        "metric": [escape.plain(metric_label(metric), 200)],
        "qualifier": [escape.plain(trends_logic.breakdown_text(qualifier), 200)],
        "unit": [escape.plain(unit, 200)],
        "period": [period],
        "cumulative": [str(cumulative).lower()],
        "percapita": [str(per_capita).lower()],
        "source": [escape.plain(source_text(source), 200)],
        "revisions": [str(earlier).lower()],
        "reports": [str(beside).lower()],
    }
    if len(months) > 1:
        bound["from"], bound["to"] = (
            [window[0] if window else months[0]],
            [window[1] if window else months[-1]],
        )
    if by_market:
        bound["market"] = [escape.plain(MARKET_VIEWS.get(site or ALL, site or ALL), 200)]
        if markets == combine.MEDIAN:
            bound["market"] = [MARKET_VIEWS[MEDIAN]]
    data = drawn if source == ALL else drawn[drawn.origin == source]
    if window is not None:
        data = trends_logic.in_window(data, window)
    return LinkedView(
        "trends",
        view.figure,
        title,
        view.chart.unit_label,
        None,
        None,
        source_refs(data),
        bound,
        latest_lines(data),
    )


def _compare(raw: Mapping, engine: Engine, when: datetime | None) -> LinkedView:
    """The Compare page's pickers (views/compare.py): place, metric, unit."""
    cities = query.cities(engine, when)
    places = query.all_places(engine)
    params = _canonical(raw, cities, place_labels(places))
    cat = query.catalogue(engine, as_of=when)
    names = compare_logic.place_names(places)
    pairs = compare_logic.multi_source(cat)
    multi = set(pairs.place_id)
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    chosen = [ids[n] for n in params.get("cities", []) if n in ids]
    if not params.get("cities"):
        chosen = [ids[c] for c in DEFAULT_CITIES if c in ids]
    options = compare_logic.place_options(multi, names, chosen)
    if not options:
        raise NothingToDraw("No place has figures from more than one source yet.")
    default_place = compare_logic.default_place(options, multi, chosen)
    place = _pick("place", options, lambda p: names.get(p, p), params, default_place, "place")
    metrics = sorted(cat[cat.place_id == place].metric.unique())
    if not metrics:
        raise NothingToDraw("No figures stored for this place.")
    default_metric = compare_logic.default_metric(pairs, place, metrics)
    metric = _pick("metric", metrics, metric_label, params, default_metric, "metric")
    data = query.series_frame(engine, [place], metric, as_of=when)
    units = sorted(data.unit.unique())
    if not units:
        raise NothingToDraw("No figures for this choice.")
    unit = _pick("unit", units, str, params, units[0], "unit") if len(units) > 1 else units[0]
    shown_place = names.get(place, place)
    months = trends_logic.months_of(data[data.unit == unit])
    window = _window(params, months)
    if window is not None:
        data = trends_logic.in_window(data, window)
    view = compare_logic.compare_view(
        data, unit, compare_logic.title(metric_label(metric), shown_place, window, months)
    )
    bound = {
        "cities": params.get("cities", []),
        "place": [escape.plain(shown_place, 200)],
        "metric": [escape.plain(metric_label(metric), 200)],
    }
    if len(units) > 1:
        bound["unit"] = [escape.plain(unit, 200)]
    if len(months) > 1:
        bound["from"], bound["to"] = ([m] for m in (window or (months[0], months[-1])))
    span = trends_logic.window_text(window, months)
    title = f"{shown_place} — {metric_label(metric)}, {unit}, every source" + (
        f", {span}" if span else ""
    )
    return LinkedView(
        "compare",
        view.figure,
        title,
        unit,
        None,
        None,
        source_refs(data[data.unit == unit]),
        {k: v for k, v in bound.items() if v},
        latest_lines(data[data.unit == unit]),
    )


def source_refs(data: pd.DataFrame) -> list[SourceRef]:
    """Who published the figures drawn: a registered source by its registry entry (a relayed
    table by its own citation), a quoted report by its publisher and the report's own link,
    citation and licence, an imported file's source by what its rows record."""
    refs: list[SourceRef] = []
    if data.empty:
        return refs
    keys = data[["source", "dataset"]].drop_duplicates()
    for key, dataset in zip(keys.source, keys.dataset, strict=True):
        rows = data[(data.source == key) & (data.dataset == dataset)]
        first = rows.iloc[0]
        entry = registry.SOURCES.get(key)
        if entry is not None and key != "reported":
            citation, licence = entry.citation, entry.licence
            if any(d.key == dataset for d in entry.datasets):
                relayed = entry.dataset(dataset)
                citation, licence = relayed.citation, relayed.licence
            refs.append(SourceRef(entry.title, escape.link(entry.url), citation, licence))
        else:
            refs.append(
                SourceRef(
                    str(dataset or key) if key == "reported" else str(key),
                    escape.link(first.source_url),
                    str(first.citation or ""),
                    str(first.licence or (entry.licence if entry else "")),
                )
            )
    return list(dict.fromkeys(refs))


def period_text(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """A figure's period as a reader says it: a day, a calendar month or year, else the span."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.normalize() == end.normalize():
        return f"{end.day} {end:%b %Y}"
    if start.day == 1 and end.is_month_end and (start.year, start.month) == (end.year, end.month):
        return f"{end:%b %Y}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return f"{end:%Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


MAX_LATEST = 4  # places named in a preview's description


def latest_lines(data: pd.DataFrame) -> list[str]:
    """Per place drawn, its newest figure as published: the value, unit, period and source.
    Never a sum or a mean: where several figures share the newest period (markets, sources,
    reports) the line gives their count and their range, each end a published figure. A
    source's low and high estimates are left out where it gave a best one."""
    lines: list[str] = []
    if data.empty:
        return lines
    for city in list(dict.fromkeys(data["city"]))[:MAX_LATEST]:
        rows = data[(data["city"] == city) & data["value"].notna()]
        best = rows[rows["estimate"].isin(["best", "", None]) | rows["estimate"].isna()]
        rows = best if not best.empty else rows
        if rows.empty:
            continue
        newest = rows[rows["period_end"] == rows["period_end"].max()]
        first = newest.iloc[0]
        when = period_text(newest["period_start"].min(), first.period_end)
        who = ", ".join(registry.title(o) for o in dict.fromkeys(newest["origin"].astype(str)))
        unit = escape.plain(str(first.unit), 40)
        low, high = newest["value"].min(), newest["value"].max()
        if len(newest) == 1 or low == high:
            figure = f"{_number(low)} {unit}"
        else:
            what = "markets" if newest["site"].fillna("").nunique() > 1 else "figures"
            figure = f"{_number(low)} to {_number(high)} {unit} across {len(newest)} {what}"
        lines.append(f"{escape.plain(str(city), 80)}: {figure}, {when} ({escape.plain(who, 80)})")
    return lines


MAX_SOURCE_LINES = 6


def citation_lines(view: LinkedView) -> list[str]:
    """What an image or embed says under the chart: the moment, then one line per source."""
    moment = asof.describe(view.as_of) if view.as_of else "no figures stored yet"
    lines = [f"Figures as of {moment}. Situation Room, {view.page} view."]
    refs = view.sources[:MAX_SOURCE_LINES]
    lines += [escape.plain(r.line, 150) for r in refs]
    if len(view.sources) > len(refs):
        lines.append(f"… and {len(view.sources) - len(refs)} more sources (see the live view).")
    return lines


def titled(view: LinkedView) -> go.Figure:
    """The page's chart with the view's title (what, where, unit, period) on top and the
    chart's own title and subtitle under it; escaped for plotly (`escape.html`)."""
    fig = go.Figure(view.figure)
    chart_title = fig.layout.title.text or ""
    subtitle = fig.layout.title.subtitle.text or ""
    fig.update_layout(
        title={
            "text": escape.html(view.title, 160),
            "subtitle": {"text": chart_title + (" · " + subtitle if subtitle else "")},
        }
    )
    return fig


def printed(view: LinkedView) -> go.Figure:
    """The figure for an image: the page's chart with its title (what, where, unit, period)
    on top and the as-of moment and every source's citation and licence under it. Every text
    from the store or the link is escaped for plotly (`escape.html`)."""
    fig = titled(view)
    lines = citation_lines(view)
    legend = 60  # the legend's band under the x axis
    text = 16 * len(lines) + 16  # the citation's lines under it
    margin = fig.layout.margin
    fig.update_layout(
        margin={"t": (margin.t or 80) + 10, "b": legend + text, "l": 60, "r": 20},
        height=(fig.layout.height or 460) + legend + text,
        width=1000,
        legend={"orientation": "h", "y": -0.08, "yanchor": "top"},
    )
    fig.add_annotation(
        text="<br>".join(escape.html(line) for line in lines),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-legend,
        xanchor="left",
        yanchor="top",
        align="left",
        showarrow=False,
        font={"size": 11, "color": "#333"},
    )
    return fig
