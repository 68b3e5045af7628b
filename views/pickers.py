"""One job: the pickers several pages share, and the labels they show (which, bound to the URL,
are also what a link holds): the sidebar's cities, the metric, a place."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from data_sources.model.metrics import METRICS, metric_label, opening_metric
from data_sources.store.engine import database_url
from views import url_state
from views.cached import city_table, place_table
from views.logic.places import place_labels

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
    default = opening_metric(ordered)
    return url_state.select(
        "Metric", ordered, "metric", default, format_func=metric_label, what="metric"
    )
