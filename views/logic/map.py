"""Map page logic: which places can be drawn, the months the slider offers, and the caption."""

from __future__ import annotations

import pandas as pd

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


def caption(points: pd.DataFrame, month: str) -> str:
    return (
        f"{len(points)} places with a figure in {month}; bubble area grows with the value. "
        "Where a place has several series (markets or sources) the bubble shows their mean. "
        "Districts and governorates are drawn at the point their source gives, else at their "
        "seat city, and left out when neither is known."
    )


def sources(points: pd.DataFrame) -> list[str]:
    """The sources the bubbles draw on (a bubble's `source` lists several, comma-separated)."""
    return sorted({x for v in points.source for x in str(v).split(",")})
