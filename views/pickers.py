"""One job: the pickers several pages share, and the labels they show (which, bound to the URL,
are also what a link holds): the sidebar's cities, the metric, a place."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from data_sources.model.validation import METRICS
from data_sources.store.engine import database_url
from views import url_state
from views.cached import city_table, place_table

DEFAULT_CITIES = ["Aleppo", "Mosul"]


def translate_link(page) -> None:
    """The link in today's form before any picker reads it (`url_state.translate_link`), with
    the store's city names and place labels to translate old forms."""
    cities = city_table(database_url())
    ids = dict(zip(cities["geonames_id"].astype("Int64").astype(str), cities["name"], strict=True))
    url_state.translate_link(
        page,
        cities["name"].tolist(),
        ids,
        lambda: place_labels(place_table(database_url())),
    )


def selected_cities() -> list[str]:
    """The sidebar's city picker (shared by every page, `cities=` in the URL); returns place
    ids."""
    cities = city_table(database_url())
    names = cities["name"].tolist()
    with st.sidebar:
        picked = url_state.multiselect(
            "Cities",
            names,
            "cities",
            [c for c in DEFAULT_CITIES if c in names] or names[:2],
            help="Cities with stored figures, then the governorates and districts holding "
            "figures no city holds (e.g. a village's). Shared by every page.",
        )
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    return [ids[n] for n in picked]


def metric_select(metrics: Sequence[str]) -> str:
    """The metric picker the chart pages share (URL parameter `metric`), in vocabulary order,
    food prices first when there are any."""
    order = list(METRICS)
    ordered = sorted(metrics, key=lambda m: order.index(m) if m in order else len(order))
    default = "food_price" if "food_price" in ordered else ordered[0]
    return url_state.select(
        "Metric", ordered, "metric", default, format_func=metric_label, what="metric"
    )


def metric_label(metric: str) -> str:
    return METRICS[metric].label if metric in METRICS else metric


def place_labels(places: pd.DataFrame) -> dict[str, str]:
    """A label per place id, different for every place (a link holds the label): a district or
    governorate is named with its kind, never taken for the city of its name, and a name
    still shared (two cities, two countries) gets its country, then its id."""
    kinds = ("district", "governorate")
    labels = {
        p: f"{n} ({k})" if k in kinds else str(n)
        for p, n, k in zip(places.place_id, places.name, places.kind, strict=True)
    }
    iso3 = dict(zip(places.place_id, places.country_iso3, strict=True))
    for step in (lambda p: f"{labels[p]} ({iso3[p]})", lambda p: f"{labels[p]} [{p}]"):
        counts = pd.Series(labels).value_counts()
        shared = [p for p, label in labels.items() if counts[label] > 1]
        labels.update({p: step(p) for p in shared})
    return labels
