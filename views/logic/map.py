"""Map page logic: which places can be drawn, the months the slider offers, and the caption."""

from __future__ import annotations

import pandas as pd

from views import charts
from views.escape import md
from views.logic import metric_label

# cities, districts and governorates (countries and regions have no bubble of their own)
MAPPED = r"(?:geonames|adm1|adm2):"


def mappable(cat: pd.DataFrame) -> pd.DataFrame:
    """The catalogue rows of places with a bubble."""
    return cat[cat.place_id.str.match(MAPPED)]


def opening_metric(cat: pd.DataFrame, place_ids, metrics: list[str]) -> str:
    """The metric the Map opens on: the one with figures for most of the chosen cities, then
    for most places, then the first in `metrics` (vocabulary order). With Aleppo and Mosul
    chosen that is conflict deaths, where both are on one map — not a Syria-only price."""
    chosen = set(place_ids)
    order = {m: i for i, m in enumerate(metrics)}
    by_metric = cat.groupby("metric").place_id.agg(
        cities=lambda ids: len(chosen & set(ids)), places="nunique"
    )
    by_metric = by_metric[by_metric.index.isin(order)]
    if by_metric.empty:
        return metrics[0]
    ranked = sorted(
        by_metric.index, key=lambda m: (-by_metric.cities[m], -by_metric.places[m], order[m])
    )
    return str(ranked[0])


def opening_month(ends: pd.Series, months: list[str]) -> str:
    """The month the slider opens on: the latest in which a chosen city has a figure (`ends`:
    its figures' period ends), else the latest there is."""
    if ends.empty:
        return months[-1]
    theirs = pd.to_datetime(ends).dt.strftime("%Y-%m")
    inside = theirs[theirs.isin(months)]
    return str(inside.max()) if not inside.empty else months[-1]


def months(bounds: tuple) -> list[str]:
    """Every month from the first to the last figure, as the slider offers them."""
    return [str(p) for p in pd.period_range(bounds[0], bounds[1], freq="M")]


def title(metric: str, qualifier: str | None) -> str:
    return metric_label(metric) + (f" — {qualifier}" if qualifier else "")


def caption(points: pd.DataFrame, month: str, unit: str = "") -> str:
    """What the bubbles are: one source's figures, the best estimate with its range, a
    place's markets as their median with the cheapest and dearest."""
    markets = "markets" in points and points["markets"].notna().any()
    largest = ""
    if not points.empty and "value" in points and points["value"].notna().any():
        top = points.loc[points["value"].idxmax()]
        largest = (
            f" (the largest, {md(str(top['city']), 80)}: "
            f"{md(charts.format_value(float(top['value'])), 40)}"
            f"{' ' + md(unit, 40) if unit else ''}; "
            "one a quarter of its area holds a quarter of that)"
        )
    return (
        f"{len(points)} places with a figure in {month}; a bubble's area is proportional to "
        f"its value{largest}. "
        "One source at a time (sources are never averaged or added: pick another above). "
        + (
            "Where a place has several markets the bubble is their median; the table gives "
            "the cheapest and dearest (low, high). "
            if markets
            else "Where a source gives a range (best, low, high) the bubble is its best "
            "estimate and the table gives the range. "
        )
        + "Districts and governorates are drawn at the point their source gives, else at "
        "their seat city, and left out when neither is known."
    )


def source_options(points: pd.DataFrame) -> list[str]:
    """The sources the month has figures from, the one covering most places first."""
    if points.empty:
        return []
    counts = points.groupby("origin")["place_id"].nunique()
    return sorted(counts.index, key=lambda o: (-counts[o], o))


def of_source(points: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """The bubbles of one source (all when None: there is only one)."""
    return points if source is None else points[points["origin"] == source]


TABLE = ["city", "site", "value", "low", "high", "markets", "figures", "source"]


def table(points: pd.DataFrame) -> pd.DataFrame:
    """The table under the map: each bubble's value, its range and what it is made of."""
    cols = [c for c in TABLE if c in points and (c != "markets" or points[c].notna().any())]
    return points[cols]


def sources(points: pd.DataFrame) -> list[str]:
    """The sources the bubbles draw on (one per bubble)."""
    return sorted({str(v) for v in points.source})
