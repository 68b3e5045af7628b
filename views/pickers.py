"""One job: the pickers several pages share, and the labels they show (which, bound to the URL,
are also what a link holds): the sidebar's cities, the metric, a place."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from data_sources.model.metrics import METRICS, metric_label, opening_metric
from data_sources.store.engine import database_url
from views import url_state
from views.cached import city_table, place_table
from views.logic import trends as trends_logic
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


def metric_order(metrics: Sequence[str]) -> list[str]:
    """The metrics in vocabulary order (the pickers' order)."""
    order = list(METRICS)
    return sorted(metrics, key=lambda m: order.index(m) if m in order else len(order))


def metric_select(metrics: Sequence[str], default: str | None = None) -> str:
    """The metric picker the chart pages share (URL parameter `metric`), in vocabulary order,
    opening on `default`, else food prices when there are any."""
    ordered = metric_order(metrics)
    default = default if default in ordered else opening_metric(ordered)
    return url_state.select(
        "Metric", ordered, "metric", default, format_func=metric_label, what="metric"
    )


def window_select(months: list[str]) -> tuple[str, str] | None:
    """The time window the time charts share (Trends, Compare): *From* and *To* bound to
    `from=` / `to=` (YYYY-MM), quick choices moving both ends, "From" after "To" read the
    other way round (and said). None when the window is every month there is."""
    if len(months) < 2:
        return None
    for key in ("from", "to"):  # carried from another page's series, outside this one's span:
        if key in st.session_state and st.session_state[key] not in months:
            st.session_state.pop(key)  # this page's own default, not a link problem
            st.query_params.pop(key, None)

    def set_window(choice: str) -> None:
        """A quick choice moves both ends (the widgets' keys are their URL parameters)."""
        st.session_state["from"], st.session_state["to"] = trends_logic.quick_window(months, choice)

    w1, w2, w3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    with w1:
        start = url_state.select("From", months, "from", months[0], what="month")
    with w2:
        end = url_state.select("To", months, "to", months[-1], what="month")
    with w3, st.container(horizontal=True):
        for choice in trends_logic.QUICK_WINDOWS:
            st.button(choice.capitalize(), on_click=set_window, args=(choice,), key=f"w_{choice}")
    if start > end:
        st.caption(f"“From” {start} is after “To” {end}: showing {end} to {start}.")
        start, end = end, start
    return None if (start, end) == (months[0], months[-1]) else (start, end)
