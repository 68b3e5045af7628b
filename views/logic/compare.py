"""Compare page logic: which places have figures from more than one source, how each place is
named, and the disagreements table."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from data_sources.model import combine
from views import charts

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


def default_place(options: list[str], multi: set[str], chosen: list[str]) -> str:
    """The place the page opens on: the first of the sidebar's cities that more than one
    source gives figures for, else the first region (Airwars against the Pentagon for the
    coalition's war), else the first option."""
    for place in chosen:
        if place in multi and place in options:
            return place
    return next((p for p in options if p.startswith("region:")), options[0])


def default_metric(pairs: pd.DataFrame, place: str, metrics: list[str]) -> str:
    """The metric the page opens on for `place`: civilians killed where two sources give it,
    else the first metric (in the vocabulary's order) that two sources give there, else
    civilians killed, else the first. `pairs` is `multi_source`'s table."""
    from data_sources.model.metrics import METRICS

    order = list(METRICS)
    compared = sorted(
        set(pairs[pairs.place_id == place].metric) & set(metrics),
        key=lambda m: order.index(m) if m in order else len(order),
    )
    if "civilians_killed" in compared:
        return "civilians_killed"
    if compared:
        return compared[0]
    return "civilians_killed" if "civilians_killed" in metrics else metrics[0]


def title(metric_label: str, place: str, window: tuple[str, str] | None, months: list[str]) -> str:
    """ "Civilians killed — Mosul: every source", with the window when it is not every month
    ("…, Oct 2016 – Jul 2017")."""
    from views.logic.trends import window_text

    span = window_text(window, months)
    return f"{metric_label} — {place}: every source" + (f", {span}" if span else "")


def disagreements(data: pd.DataFrame) -> pd.DataFrame:
    """Where two sources give the figure for the same period: lowest, highest and ratio."""
    return combine.disagreements(data)


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
        charts.compare_figure(
            data,
            unit=unit,
            title=title,
            metric=str(data["metric"].iloc[0]) if "metric" in data and len(data) else None,
        ),
        disagreements(data),
        data[FIGURE_COLUMNS],
        data.source.unique().tolist(),
    )
