"""Compare page logic: which places have figures from more than one source, how each place is
named, and the disagreements table."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

import charts

FIGURE_COLUMNS = [
    "origin",
    "estimate",
    "qualifier",
    "site",
    "period_start",
    "period_end",
    "value",
    "unit",
    "quote",
    "source_url",
]


def place_names(places: pd.DataFrame) -> dict[str, str]:
    """Each place's name as the picker shows it: a district or governorate with its kind, never
    taken for the city of its name."""
    return {
        p: f"{n} ({k})" if k in ("district", "governorate") else n
        for p, n, k in zip(places.place_id, places.name, places.kind, strict=True)
    }


def multi_source(cat: pd.DataFrame) -> pd.DataFrame:
    """(place_id, metric) pairs given by more than one source (a reported figure counts by its
    publisher, the dataset)."""
    counts = (
        cat.assign(origin=cat.dataset.where(cat.source == "reported", cat.source))
        .groupby(["place_id", "metric"])
        .origin.nunique()
    )
    return counts[counts > 1].reset_index()


def place_options(multi: set[str], names: dict[str, str], chosen: list[str]) -> list[str]:
    """Places worth comparing (`multi`: more than one source, see `multi_source`) and the
    cities chosen in the sidebar: regions first, then by name."""
    return sorted(multi | set(chosen), key=lambda p: (not p.startswith("region:"), names.get(p, p)))


def disagreements(data: pd.DataFrame) -> pd.DataFrame:
    """Where two sources give the figure for the same period: lowest, highest and ratio."""
    return charts.disagreements(data)


@dataclass
class CompareView:
    """What the Compare page draws for one place, metric and unit."""

    figure: go.Figure
    disagreements: pd.DataFrame
    figures: pd.DataFrame  # the "All figures" table
    sources: list[str]


def compare_view(data: pd.DataFrame, unit: str, title: str) -> CompareView:
    """Every source's figures in `unit` side by side, where they disagree, and the table."""
    data = data[data.unit == unit]
    return CompareView(
        charts.compare_figure(data, unit=unit, title=title),
        disagreements(data),
        data[FIGURE_COLUMNS],
        data.source.unique().tolist(),
    )
