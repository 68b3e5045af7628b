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
