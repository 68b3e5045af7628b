"""Overview page logic: which figure heads each metric, its change and range, the deadliest
month of an event source, and the country context line."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from data_sources.formats import export
from data_sources.model import combine
from data_sources.model.aggregate import FLOWS as FLOW_METRICS
from data_sources.model.metrics import metric_spec
from data_sources.store import query
from views import charts
from views.escape import md
from views.logic import metric_label
from views.logic.trends import in_window, months_of, window_text

HEADLINE = ["idps", "displaced_new", "civilians_killed", "civilians_injured", "food_price"]
FLOWS = {"displaced_new", "civilians_killed", "civilians_injured"}
# event sources whose deaths are shown per month below the headline, not as a day's figure
EVENT_SOURCES = ("ucdp",)
LATEST_COLUMNS = [
    "metric",
    "qualifier",
    "site",
    "value",
    "unit",
    "change",
    "period",
    "origin",
    "estimate",
    "source_url",
]


@dataclass(frozen=True)
class Headline:
    """One headline card as a reader sees it: label, value, change arrow, hover and caption;
    `qualifier` and `unit` name the series its sparkline draws."""

    metric: str
    label: str
    value: str
    delta: str | None
    delta_color: str
    help: str
    caption: str
    qualifier: str
    unit: str


def headline_row(city_latest: pd.DataFrame, metric: str) -> pd.Series | None:
    """The figure that heads `metric` for one city, from its latest figures: a price is the
    median of the city's markets in the newest month (local currency, wheat flour; one source,
    the one with most markets), labelled with the cheapest and dearest market; a flow
    leaves out event sources and one-day figures of single incidents where a figure of a
    longer period exists (one day's events is no headline); else the newest, largest
    figure, with the low–high range its source gives for the same thing."""
    rows = city_latest[city_latest.metric == metric]
    spec = metric_spec(metric)
    if spec.by_market:  # the metric's own commodity (wheat flour), in local currency
        if spec.default_qualifier:
            rows = rows[rows.qualifier == spec.default_qualifier]
        rows = rows[~rows.unit.str.startswith("USD")]
        if rows.empty:
            return None
        newest = rows[rows.period_end == rows.period_end.max()]
        counts = newest.origin.value_counts()
        newest = newest[newest.origin == sorted(counts.index, key=lambda o: (-counts[o], o))[0]]
        row = newest.iloc[0].copy()
        row["value"] = combine.median_market(newest.value)
        row["previous"] = combine.median_market(newest.previous)
        row["site"] = (
            f"median of {len(newest)} market(s), lowest {charts.format_value(newest.value.min())}"
            f", highest {charts.format_value(newest.value.max())}"
            if len(newest) > 1
            else newest.site.iloc[0]
        )
        return row
    if metric in FLOWS:
        rows = rows[~rows.source.isin(EVENT_SOURCES)]
        # one day's figure is one incident's (Airwars' CI379: 143 injured), no count for the
        # place: where a figure of a longer period exists (OCHA's week, 685) it heads instead
        longer = rows[rows.period_end > rows.period_start]
        if not longer.empty:
            rows = longer
    if rows.empty:
        return None
    row = rows.sort_values(["period_end", "value"]).iloc[-1].copy()
    same = rows[
        (rows.period_end == row.period_end)
        & (rows.origin == row.origin)
        & (rows.qualifier == row.qualifier)
        & (rows.site == row.site)
    ]
    bounds = dict(zip(same.estimate, same.value, strict=False))
    row["range"] = (bounds["low"], bounds["high"]) if {"low", "high"} <= set(bounds) else None
    return row


def headline(metric: str, row: pd.Series) -> Headline:
    """The card for one headline row. The change is signed with an ASCII minus (st.metric reads
    the sign to point its arrow); a range has no single change; a rise in a price is neither
    good nor bad (no colour), a rise in displacement or casualties is bad (inverse)."""
    delta = None
    if pd.notna(row["previous"]):
        change = row["value"] - row["previous"]
        delta = (
            f"{'+' if change >= 0 else '-'}{charts.format_value(abs(change))} "
            f"since {row['previous_end']:%d %b %Y}"
        )
    span = row.get("range")
    if span:
        shown = f"{charts.format_value(span[0])}–{charts.format_value(span[1])}"
        delta = None
    else:
        shown = charts.format_value(row["value"])
    return Headline(
        metric=metric,
        label=metric_label(metric),
        value=shown + ("" if row["unit"] == "people" else f" {row['unit']}"),
        delta=delta,
        delta_color="off" if metric_spec(metric).by_market else "inverse",
        help=f"{md(row['qualifier'], 100)} {md(row['site'], 100)} — "
        f"{md(row['origin'], 100)}, {row['period_end']:%d %b %Y}. "
        f"{md(row['citation'], 300)}",
        caption=f"{row['period_end']:%d %b %Y} · {md(row['origin'], 100)}"
        + (f" · {md(row['qualifier'], 100)}" if row["qualifier"] else "")
        + (f" · {md(row['site'], 100)}" if str(row["site"]).startswith("median of") else ""),
        qualifier=row["qualifier"],
        unit=row["unit"],
    )


def headlines(city_latest: pd.DataFrame) -> list[Headline]:
    """Every headline card of one city, in HEADLINE order, metrics without a figure left out."""
    rows = ((m, headline_row(city_latest, m)) for m in HEADLINE)
    return [headline(m, r) for m, r in rows if r is not None]


def sparkline_points(trend: pd.DataFrame, metric: str) -> pd.DataFrame | None:
    """The points of a headline's sparkline: one source's (the one with most figures; sources
    are never mixed), its drawn estimate only (never low and high in turn), figures contained
    in a longer report of the source left out; a price: the median market per date. None
    when there is no line to draw (fewer than two points)."""
    if "origin" in trend and not trend.empty:
        counts = trend.origin.value_counts()
        trend = trend[trend.origin == sorted(counts.index, key=lambda o: (-counts[o], o))[0]]
    trend = combine.one_estimate(trend)
    if metric_spec(metric).by_market:
        trend = trend.groupby("period_end", as_index=False)["value"].agg(combine.median_market)
    elif "period_start" in trend:
        trend = combine.supersede_contained(trend)
    return trend if len(trend) > 1 else None


def place_caption(place: pd.Series) -> str:
    """A city's population and point; a district's or governorate's parent, seat and p-code."""
    where = f" · {place['lat']:.3f}, {place['lon']:.3f}" if pd.notna(place["lat"]) else ""
    if place["kind"] == "city":
        return f"GeoNames population {int(place['population']):,}{where}"
    parts = [f"{place['kind'].capitalize()} in {md(place['parent_name'] or '?', 60)}"]
    if pd.notna(place["seat_name"]):
        parts.append(f"seat {md(place['seat_name'], 60)}")
    if pd.notna(place["pcode"]):
        parts.append(f"p-code {md(place['pcode'], 60)}")
    parts.append("figures no city of it holds")
    return " · ".join(parts) + where


@dataclass(frozen=True)
class DeadliestMonth:
    """An event source's deaths per month for one place and its deadliest month."""

    origin: str
    monthly: pd.DataFrame
    best: str
    month: pd.Period
    spread: str  # " (low …, high …)" or ""
    citation: str


def deadliest_months(
    deaths: pd.DataFrame, window: tuple[str, str] | None = None
) -> list[DeadliestMonth]:
    """Per event source (UCDP GED in the snapshot) of a place's conflict deaths: the monthly
    sums (UCDP's own) and the month with the most deaths, best estimate and low–high; with a
    `window` (first and last month, `YYYY-MM`) the months within it, and its deadliest."""
    deaths = deaths[deaths.source.isin(EVENT_SOURCES)]
    out = []
    for origin, part in deaths.groupby("origin"):
        monthly = combine.monthly_sums(part)
        if window is not None:
            monthly = monthly[monthly.month.between(*window)].reset_index(drop=True)
        if monthly.empty:
            continue
        peak = monthly.loc[monthly.best.idxmax()]
        low, high = peak["low"], peak["high"]
        spread = (
            f" (low {charts.format_value(low)}, high {charts.format_value(high)})"
            if pd.notna(low) and pd.notna(high)
            else ""
        )
        out.append(
            DeadliestMonth(
                origin=str(origin),
                monthly=monthly,
                best=charts.format_value(peak["best"]),
                month=pd.Period(peak["month"], "M"),
                spread=spread,
                citation=str(peak["citation"]),
            )
        )
    return out


def said_deaths(reported: pd.DataFrame) -> pd.DataFrame:
    """The deaths reports gave for the place, drawn beside an event source's monthly sums:
    one point per report (its drawn estimate; a range's high bound as `high`, never a second
    point), each a total over its own period, not a month's."""
    deaths = reported[reported.metric.isin(["civilians_killed", "conflict_fatalities"])]
    drawn = combine.one_estimate(deaths)
    keys = [k for k in ["origin", "qualifier", "site", "period_start", "period_end"] if k in deaths]
    high = deaths[deaths.estimate == "high"][[*keys, "value"]].rename(columns={"value": "high"})
    return drawn.merge(high, on=keys, how="left") if not drawn.empty else drawn.assign(high=None)


def latest_table(city_latest: pd.DataFrame) -> pd.DataFrame:
    """The "All latest figures" table: one row per series, by metric, breakdown and site."""
    table = city_latest.assign(period=city_latest.period_end.dt.strftime("%Y-%m-%d"))
    return table[LATEST_COLUMNS].sort_values(["metric", "qualifier", "site"])


def country_context(country_latest: pd.DataFrame, iso3: str) -> str | None:
    """The country context line under a city: the country's stocks only (a flow's newest
    figure is one day's or month's count, not context for a city); None when there are none."""
    rows = country_latest[
        (country_latest.qualifier == "") & ~country_latest.metric.isin(FLOW_METRICS)
    ]
    if rows.empty:
        return None
    return "Country context: " + " · ".join(
        f"{md(metric_label(r.metric), 60)} in {md(r.country_iso3 or iso3, 60)}: "
        f"{r.value:,.0f} ({md(r.origin, 100)}, {r.period_end:%Y})"
        for r in rows.itertuples()
    )


@dataclass
class CityView:
    """Everything the Overview draws for one place, built once per data version and moment
    and then only drawn: the heading, headline cards with their sparklines, the deadliest
    months with their charts and CSVs, the latest-figures table and the country line."""

    name: str  # escaped for Markdown, as the heading and the table's label show it
    heading: str
    caption: str
    headlines: list[Headline]
    sparklines: dict[str, go.Figure] = field(default_factory=dict)
    deaths: list[tuple[DeadliestMonth, go.Figure, bytes]] = field(default_factory=list)
    table: pd.DataFrame | None = None
    series: int = 0
    context: str | None = None
    sources: list[str] = field(default_factory=list)  # for the "Sources:" line
    place_name: str = ""  # as the store holds it (file names)
    months: list[str] = field(default_factory=list)  # every month its charts could show
    window: str | None = None  # the charts' window as text ("Oct 2016 – Jul 2017"), if not all


def city_view(
    place_id: str,
    place: pd.Series,
    city_latest: pd.DataFrame,
    *,
    series: Callable[[str, str, str], pd.DataFrame],
    deaths: pd.DataFrame,
    reported: pd.DataFrame,
    country_latest: pd.DataFrame,
    links: Callable[[pd.DataFrame], pd.DataFrame] = lambda df: df,
    window: tuple[str, str] | None = None,
) -> CityView:
    """One place's Overview from its data: `series(metric, qualifier, unit)` gives a headline's
    whole series (for its sparkline), `deaths` the place's conflict deaths, `reported` its
    reported figures, `country_latest` its country's latest figures; `links` makes the table's
    link column safe. `window` (first and last month, `YYYY-MM`, the time charts' shared
    window) narrows the sparklines and the deaths chart, and the deadliest month is the
    window's; the headline cards stay the latest figures, whatever the window."""
    cards = headlines(city_latest)
    view = CityView(
        name=md(place["name"], 60),
        place_name=str(place["name"]),
        heading=f"{md(place['name'], 60)} ({md(place['country_iso3'], 60)})",
        caption=place_caption(place),
        headlines=cards,
        table=links(latest_table(city_latest)),
        series=len(city_latest),
        context=country_context(country_latest, place["country_iso3"]),
        sources=city_latest["source"].unique().tolist(),
    )
    drawn = [series(card.metric, card.qualifier, card.unit) for card in cards]
    ends = [f[["period_end"]] for f in [*drawn, deaths] if not f.empty]
    view.months = months_of(pd.concat(ends)) if ends else []
    view.window = window_text(window, view.months)
    for card, frame in zip(cards, drawn, strict=True):
        points = sparkline_points(in_window(frame, window) if window else frame, card.metric)
        if points is not None:
            view.sparklines[card.metric] = charts.sparkline(points)
    said = said_deaths(in_window(reported, window) if window else reported)
    for peak in deadliest_months(deaths, window):
        csv = export.csv_bytes(peak.monthly.assign(place=place["name"]))
        figure = charts.monthly_deaths_figure(peak.monthly, said, around_peak=window is None)
        view.deaths.append((peak, figure, csv))
    return view


def deaths_file_name(place_name: str, peak: DeadliestMonth) -> str:
    """`deaths-per-month_mosul_ucdp_1989-02_2019-12.csv`: the place, the source and the months
    the file holds, so two places' or two windows' downloads never share a name."""
    words = "-".join(re.findall(r"[0-9a-z]+", place_name.lower()))[:40] or "place"
    source = "-".join(re.findall(r"[0-9a-z]+", peak.origin.lower()))[:20]
    months = peak.monthly["month"]
    return f"deaths-per-month_{words}_{source}_{months.iloc[0]}_{months.iloc[-1]}.csv"


def city_view_from_store(
    engine: Engine,
    place_id: str,
    when: datetime | None,
    links: Callable[[pd.DataFrame], pd.DataFrame] = lambda df: df,
    window: tuple[str, str] | None = None,
) -> CityView:
    """One place's Overview at `when` (None: now), from the store: the queries the Overview
    page makes, in one place, so the page and the brief cannot differ."""
    place = query.cities(engine, when).set_index("place_id").loc[place_id]
    latest = query.latest(engine, [place_id], when)

    def series(metric: str, qualifier: str | None = None, unit: str | None = None):
        return query.series_frame(
            engine, [place_id], metric, qualifier=qualifier, unit=unit, as_of=when
        )

    return city_view(
        place_id,
        place,
        latest[latest.place_id == place_id],
        series=series,
        deaths=series("conflict_fatalities", "", "people"),
        reported=query.series_frame(engine, [place_id], sources=["reported"], as_of=when),
        country_latest=query.latest(engine, [f"country:{place['country_iso3']}"], when),
        links=links,
        window=window,
    )
