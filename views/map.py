"""Map: cities as bubbles sized by a metric at a chosen period, with a period slider.

What can be drawn and the slider's months come from `views.logic.map` (pure)."""

import pandas as pd
import streamlit as st

from data_sources.model.metrics import opening_qualifier
from data_sources.sources import title as source_title
from data_sources.store.engine import database_url
from views import charts, common
from views.logic import map as logic

st.title("Map")
common.show_link_problems()
url = database_url()


@st.cache_resource(ttl=6 * 3600, max_entries=16, show_spinner=False)
def mappable(url: str, version: str, when: str | None):
    """The catalogue of places with a bubble, filtered once per data version and moment and
    shared (read, never changed): unpickling and filtering the whole catalogue was half of a
    fresh view's CPU."""
    return logic.mappable(common.catalogue_all(url))


cat = mappable(url, common.data_version(), common.as_of_key())
if cat.empty:
    st.info("No city figures stored yet.")
    st.stop()
place_ids = tuple(st.session_state.get("place_ids", []))
metrics = common.metric_order(cat.metric.unique())
c1, c2, c3 = st.columns(3)
with c1:
    metric = common.metric_select(metrics, logic.opening_metric(cat, place_ids, metrics))
rows = cat[cat.metric == metric]
with c2:
    qualifiers = sorted(rows.qualifier.unique())
    qualifier = common.url_select(
        "Breakdown",
        qualifiers,
        "qualifier",
        opening_qualifier(metric, qualifiers),
        format_func=lambda q: q or "(total)",
        what="breakdown",
    )
    rows = rows[rows.qualifier == qualifier]
with c3:
    units = sorted(rows.unit.unique(), key=lambda u: not u.startswith("USD"))
    unit = common.url_select("Unit", units, "unit", units[0], what="unit")

bounds = common.period_bounds(url, metric, qualifier, unit)
if bounds is None:
    st.info("No figures for this choice.")
    st.stop()
months = logic.months(bounds)
theirs = common.series(url, place_ids, metric, qualifier, None, unit) if place_ids else None
month = common.url_select(
    "Month",
    months,
    "month",
    logic.opening_month(theirs.period_end if theirs is not None else pd.Series(), months),
    widget=st.select_slider,
    what="month",
)


@st.cache_resource(ttl=6 * 3600, max_entries=64, show_spinner=False)
def drawn(
    url: str,
    version: str,
    when: str | None,
    metric: str,
    month: str,
    qualifier: str | None,
    unit: str | None,
) -> tuple:
    """The month's points of every source, built once per choice, data version and moment
    and shared by every viewer (figures are drawn, never changed)."""
    return common.map_points(url, metric, month, qualifier, unit)


@st.cache_resource(ttl=6 * 3600, max_entries=64, show_spinner=False)
def drawn_map(
    url: str,
    version: str,
    when: str | None,
    metric: str,
    month: str,
    qualifier: str | None,
    unit: str | None,
    source: str | None,
):
    """One source's bubbles on the map, built once per choice (as `drawn`) and source."""
    here = drawn(url, version, when, metric, month, qualifier, unit)
    return charts.map_figure(
        logic.of_source(here, source),
        metric_label=logic.title(metric, qualifier),
        unit=unit,
        period_label=pd.Period(month).strftime("%B %Y"),
    )


every_source = drawn(url, common.data_version(), common.as_of_key(), metric, month, qualifier, unit)
source = None
options = logic.source_options(every_source)
if len(options) > 1:
    source = common.url_select(
        "Source", options, "source", options[0], format_func=source_title, what="source"
    )
here = logic.of_source(every_source, source)
figure = drawn_map(
    url, common.data_version(), common.as_of_key(), metric, month, qualifier, unit, source
)
st.plotly_chart(
    figure,
    key="map_chart",
    width="stretch",
    config=charts.map_config(st.get_option("server.baseUrlPath")),
)
common.share_chart("map")
st.caption(logic.caption(here, month, unit))
st.dataframe(logic.table(here), hide_index=True, width="stretch")
common.attribution(logic.sources(here))
