"""Trends page logic: the pickers' defaults, the chart's lines (per source, per capita,
cumulative, first-published), its subtitle, and the numbered event markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from data_sources.formats import export
from data_sources.model import combine
from views import charts
from views.escape import md
from views.logic import metric_label

MAX_EVENTS = 6
EACH_BREAKDOWN = "\x1feach"  # the Breakdown choice "one line per breakdown" (no stored text)
EACH_LABEL = "(each: one line per breakdown)"


def breakdown_text(qualifier: str | None) -> str:
    """A breakdown as the picker shows it."""
    if qualifier == EACH_BREAKDOWN:
        return EACH_LABEL
    return qualifier or "(total)"


@dataclass
class TrendChart:
    """What the Trends chart draws: its points, the first-published lines under them, the
    unit and subtitle, and the places left out of a per-capita view (no population)."""

    points: pd.DataFrame
    earlier: pd.DataFrame | None
    unit_label: str
    subtitle: str
    without_population: list[str]


def trend_chart(
    data: pd.DataFrame,
    *,
    metric: str,
    unit: str,
    period: str,
    cumulative: bool,
    per_capita: bool,
    site: str | None,
    population: dict[str, float],
    first: pd.DataFrame | None = None,
    markets: str = combine.EACH,
) -> TrendChart:
    """The chart's points from every estimate of the chosen series (`combine.chart_points`):
    one line per city and source (sources are never added or averaged), for a price one per
    market (`markets=EACH`, the default) or the median market with its min–max (`MEDIAN`).
    Cumulative only for flows, per capita never for prices; `population` maps a city's name to
    its residents (districts and governorates have none and are left out, and said)."""
    kind = combine.metric_kind(metric)
    running = cumulative and kind == "flow"
    points = combine.chart_points(data, metric, period, running, markets=markets)
    earlier = None
    if first is not None:
        earlier = combine.chart_points(first, metric, period, running, markets=markets)
    subtitle = f"{unit} · {'cumulative' if running else period}"
    if site is None and kind == "price" and "site" in points:
        subtitle += (
            " · median of the city's markets, band: cheapest to dearest market"
            if markets == combine.MEDIAN
            else " · one line per market"
        )
    without: list[str] = []
    unit_label = unit
    if per_capita and kind != "price":
        pop = {n: p for n, p in population.items() if pd.notna(p)}
        without = sorted(set(points.city) - set(pop))
        points = _per_capita(points, pop)
        if earlier is not None:
            earlier = _per_capita(earlier, pop)
        subtitle += (
            " · per 100,000 residents; denominator: GeoNames population ("
            + ", ".join(f"{n} {int(pop[n]):,}" for n in points.city.unique())
            + "; GeoNames gives no census year)"
        )
        unit_label = f"{unit} per 100,000"
    per_source = data.origin.nunique() > 1
    points = _line_names(points, per_source, markets, site)
    if earlier is not None:
        earlier = _line_names(earlier, per_source, markets, site)
    if per_source:
        subtitle += " · one line per source, never added up"
    return TrendChart(points, earlier, unit_label, subtitle, without)


def _per_capita(points: pd.DataFrame, pop: dict[str, float]) -> pd.DataFrame:
    """Value and its low–high range per 100,000 residents."""
    out = combine.per_capita(points, pop)
    for bound in ("low", "high"):
        if bound in out:
            out[bound] = out[bound] / out["city"].map(pop) * combine.PER_CAPITA
    return out


def _line_names(
    points: pd.DataFrame, per_source: bool, markets: str, site: str | None
) -> pd.DataFrame:
    """Each line's name: the city, then its market (one line per market, unless one market
    was chosen), then its source when several sources are drawn."""
    name = points["city"].astype(str)
    if site is not None:
        pass
    elif "site" in points and markets == combine.EACH:
        site = points["site"].fillna("").astype(str)
        name = name.where(site == "", name + " · " + site)
    elif "markets" in points:
        name = name + " · median of markets"
    if per_source:
        name = name + " · " + points["origin"].astype(str)
    return points.assign(line=name)


def population(places: pd.DataFrame) -> dict[str, float]:
    """Residents per place name, from the place table (GeoNames, cities only): the per-capita
    denominator."""
    return {n: p for n, p in zip(places.name, places.population, strict=True) if pd.notna(p)}


def chart_title(metric: str, qualifier: str | None) -> str:
    if qualifier == EACH_BREAKDOWN:
        return metric_label(metric) + " — by breakdown"
    return metric_label(metric) + (f" — {qualifier}" if qualifier else "")


def each_breakdown_chart(data: pd.DataFrame, first: pd.DataFrame | None, **choice) -> TrendChart:
    """One `trend_chart` per breakdown, drawn together: UCDP's total and its three violence
    types are four lines, never added to each other (the total already holds them). Each
    line's name ends with its breakdown, and each point carries it (`breakdown`)."""
    parts = []
    for breakdown, group in data.groupby("qualifier", sort=True):
        then = None
        if first is not None and "qualifier" in first:
            then = first[first.qualifier == breakdown]
        parts.append((breakdown, trend_chart(group, first=then, **choice)))
    name = " · " + pd.Series([breakdown_text(q) for q, _ in parts])

    def joined(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
        named = [
            f.assign(breakdown=q, line=f["line"] + name[i])
            for i, ((q, _), f) in enumerate(zip(parts, frames, strict=True))
            if f is not None and not f.empty
        ]
        return pd.concat(named, ignore_index=True) if named else None

    points = joined([c.points for _, c in parts])
    earlier = joined([c.earlier for _, c in parts])
    head = parts[0][1]
    return TrendChart(
        points if points is not None else head.points,
        earlier,
        head.unit_label,
        head.subtitle + " · one line per breakdown, never added up",
        sorted({n for _, c in parts for n in c.without_population}),
    )


def event_markers(reported: pd.DataFrame, metric: str, data: pd.DataFrame) -> pd.DataFrame:
    """The numbered markers on the chart: other metrics' reported figures within the drawn
    span, one per day and metric, the first MAX_EVENTS by date, numbered in date order
    (columns date, label)."""
    reported = reported[reported.metric != metric]
    lo, hi = data.period_end.min(), data.period_end.max()
    events = (
        reported[(reported.period_end >= lo) & (reported.period_end <= hi)]
        .sort_values("period_end", kind="stable")  # numbered in the order they happened
        .drop_duplicates(["period_end", "metric"])
        .head(MAX_EVENTS)
    )
    return pd.DataFrame(
        {
            "date": events.period_end.tolist(),
            "label": [
                f"{c}: {metric_label(m)} {charts.format_value(v)} ({o})"
                for c, m, v, o in zip(
                    events.city, events.metric, events.value, events.origin, strict=True
                )
            ],
        }
    )


def events_caption(events: pd.DataFrame) -> str | None:
    """The list under the chart that the markers' numbers refer to."""
    if events.empty:
        return None
    return "Reported events: " + " · ".join(
        f"**{i}** {d:%d %b %Y} {md(label, 120)}"
        for i, (d, label) in enumerate(zip(events.date, events.label, strict=True), start=1)
    )


def population_note(without: list[str]) -> str | None:
    """Which places a per-capita view leaves out, said under the chart."""
    if not without:
        return None
    return (
        "No population known for "
        + ", ".join(md(n, 60) for n in without)
        + ": not shown per 100,000 people."
    )


@dataclass
class TrendView:
    """The Trends chart as drawn: its lines, figure, event markers, the CSV of its points and
    the sources it draws on."""

    chart: TrendChart
    figure: go.Figure
    events: pd.DataFrame
    csv: bytes
    sources: list[str]
    file_name: str = "trend.csv"  # names the view (download_name)


def trend_view(
    series: pd.DataFrame,
    *,
    metric: str,
    qualifier: str | None,
    unit: str,
    period: str,
    cumulative: bool,
    per_capita: bool,
    site: str | None,
    source: str | None,
    population: dict[str, float],
    every: pd.DataFrame | None,
    reported: pd.DataFrame,
    markets: str = combine.EACH,
    window: tuple[str, str] | None = None,
    beside: bool = False,
) -> TrendView | None:
    """The whole chart from the chosen series (every estimate), `every` revision of it when
    earlier revisions are asked for, and the places' reported figures (the event markers).
    The drawn estimate per figure (best, else reported, else low) with its low–high range;
    None when nothing is left. `window` (first and last month, `YYYY-MM`) keeps the figures
    whose period ends within it, and the event markers in it; a running total then starts
    at the window's first month, and the subtitle says so. `beside` adds the metric's reported
    figures of other breakdowns (`reported_beside`), so a monitoring group's count over nine
    months stands on the chart beside UCDP's months."""
    data = series if source is None else series[series.origin == source]
    if window is not None:
        data = in_window(data, window)
        every = in_window(every, window) if every is not None else None
        reported = in_window(reported, window)
    if data.empty:
        return None
    first = combine.first_published(data, every) if every is not None else None
    choice = {
        "metric": metric,
        "unit": unit,
        "period": period,
        "cumulative": cumulative,
        "per_capita": per_capita,
        "site": site,
        "population": population,
        "markets": markets,
    }
    if qualifier == EACH_BREAKDOWN:
        chart = each_breakdown_chart(data, first, **choice)
        beside = False  # every breakdown, the reported ones too, is a line already
    else:
        chart = trend_chart(data, first=first, **choice)
    if window is not None:
        shown = window_text(window, months_of(series))
        running = cumulative and combine.metric_kind(metric) == "flow"
        if shown:
            chart.subtitle += f" · {shown}" + (
                " (running total from its first month)" if running else ""
            )
    added = False
    if beside:
        others = reported_beside(
            reported, metric=metric, qualifier=qualifier, unit=unit, period=period
        )
        if per_capita and not others.empty:
            others = _per_capita(others[others.city.isin(population)], population)
        if not others.empty:
            chart.points = pd.concat([chart.points, others], ignore_index=True)
            added = True
            chart.subtitle += " · reported figures of other breakdowns beside, each as published"
    events = event_markers(reported, metric, combine.one_estimate(data))
    figure = charts.trend_figure(
        chart.points,
        metric=metric,
        unit=chart.unit_label,
        title=chart_title(metric, qualifier),
        subtitle=chart.subtitle,
        events=events,
        earlier=chart.earlier,
        color="line",
        # a running total is as of its period's end, and carries over a month without
        # figures: drawn at the end, joined; a period's own figures mid-period, gaps kept
        period=None if cumulative and combine.metric_kind(metric) == "flow" else period,
    )
    csv = export.csv_bytes(
        chart_table(
            chart.points, metric=metric, qualifier=qualifier, unit=chart.unit_label, site=site
        )
    )
    name = download_name(chart.points, metric, qualifier, site, unit, period, cumulative)
    if added:
        name = name.removesuffix(".csv") + "_with-reported.csv"
    return TrendView(chart, figure, events, csv, data.source.unique().tolist(), name)


def reported_beside(
    reported: pd.DataFrame, *, metric: str, qualifier: str | None, unit: str, period: str
) -> pd.DataFrame:
    """The chart's metric and unit as reported under other breakdowns than the chosen one
    ("in the battle for Mosul, all parties"), as chart points: one line per city, breakdown
    and source, each figure whole over its span (never run into a cumulative total: it is a
    count as published). Built per breakdown: two breakdowns count different things, so their
    figures are never added (AP's 9,000 of all parties and 3,200 by Iraqi or coalition forces
    are two points, not 12,200). Column `breakdown` says which; empty when there are none."""
    rows = reported[
        (reported.metric == metric)
        & (reported.unit == unit)
        & (reported.qualifier != (qualifier or ""))
    ]
    parts = [
        combine.chart_points(group, metric, period, False).assign(breakdown=breakdown)
        for breakdown, group in rows.groupby("qualifier", sort=True)
    ]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    breakdown = out["breakdown"].replace("", "(total)")
    line = out["city"].astype(str) + " · reported: " + breakdown + " (" + out["origin"] + ")"
    return out.assign(line=line)


def beside_count(reported: pd.DataFrame, *, metric: str, qualifier: str | None, unit: str) -> int:
    """How many reported figures `reported_beside` would add (its toggle's label)."""
    if reported.empty or qualifier == EACH_BREAKDOWN:
        return 0
    rows = reported[
        (reported.metric == metric)
        & (reported.unit == unit)
        & (reported.qualifier != (qualifier or ""))
    ]
    return int(
        rows.drop_duplicates(
            ["place_id", "qualifier", "origin", "period_start", "period_end"]
        ).shape[0]
    )


TABLE_FIRST = ["line", "city", "metric", "breakdown", "market", "unit", "period_label", "value"]


def chart_table(
    points: pd.DataFrame, *, metric: str, qualifier: str | None, unit: str, site: str | None
) -> pd.DataFrame:
    """The chart's points as a download: each with what it is of (metric, breakdown, market,
    unit: the currency is the unit's), so a saved file still says which series it holds."""
    out = points.copy()
    out.insert(0, "metric", metric_label(metric))
    # reported figures beside the chosen series carry their own breakdown
    own = out.pop("breakdown") if "breakdown" in out else pd.Series(None, index=out.index)
    out.insert(1, "breakdown", own.where(own.notna(), qualifier or ""))
    out.insert(2, "unit", unit)
    if "site" in out:
        out["market"] = out.pop("site").fillna("")
    else:
        out["market"] = site or ("median of markets" if "markets" in out else "")
    first = [c for c in TABLE_FIRST if c in out]
    return out[first + [c for c in out.columns if c not in first]]


def _slug(text: object) -> str:
    words = re.findall(r"[0-9A-Za-z]+", str(text).lower())
    return "-".join(words)[:40].strip("-")


def download_name(
    points: pd.DataFrame,
    metric: str,
    qualifier: str | None,
    site: str | None,
    unit: str,
    period: str,
    cumulative: bool,
) -> str:
    """`trend_aleppo_wheat-flour-retail_al-cha-ar_syp-kg_month.csv`: the cities, what, where,
    unit and period, so two downloads of two views never share a name."""
    cities = list(dict.fromkeys(points["city"].astype(str)))[:3] if "city" in points else []
    parts = [
        *cities,
        "by-breakdown" if qualifier == EACH_BREAKDOWN else qualifier or metric_label(metric),
        site or "",
        unit,
        "cumulative" if cumulative else period,
    ]
    return "trend_" + "_".join(p for p in map(_slug, parts) if p) + ".csv"


def months_of(series: pd.DataFrame) -> list[str]:
    """Every month from the series' first figure to its last (`YYYY-MM`): the window's
    choices. A figure counts in the month its period ends."""
    if series.empty:
        return []
    ends = pd.to_datetime(series["period_end"])
    return [str(m) for m in pd.period_range(ends.min(), ends.max(), freq="M")]


def in_window(df: pd.DataFrame, window: tuple[str, str]) -> pd.DataFrame:
    """The figures whose period ends within the window's months (both ends included)."""
    if df.empty:
        return df
    start = pd.Period(window[0], "M").start_time
    end = pd.Period(window[1], "M").end_time
    ends = pd.to_datetime(df["period_end"])
    return df[(ends >= start) & (ends <= end)]


QUICK_WINDOWS = ("all", "last 12 months", "last 3 years")


def quick_window(months: list[str], choice: str) -> tuple[str, str]:
    """A quick choice as its first and last month, within the months there are."""
    if not months:
        raise ValueError("no months")
    back = {"last 12 months": 12, "last 3 years": 36}.get(choice)
    first = months[0] if back is None else months[max(0, len(months) - back)]
    return first, months[-1]


def window_text(window: tuple[str, str] | None, months: list[str]) -> str | None:
    """The window for a title or subtitle ("Jan 2016 – Jun 2017"); None when it is all."""
    if window is None or not months or (window[0], window[1]) == (months[0], months[-1]):
        return None
    start, end = (pd.Period(w, "M").strftime("%b %Y") for w in window)
    return start if start == end else f"{start} – {end}"
