"""Compare sources: one metric and place, every source side by side, and where they disagree.

Which places and defaults are offered comes from `views.logic.compare` (pure)."""

import streamlit as st

from data_sources.store.engine import database_url
from views import common
from views.logic import compare as logic
from views.logic import trends as trends_logic

st.title("Compare sources")
common.show_link_problems()
url = database_url()


@st.cache_resource(ttl=6 * 3600, max_entries=16, show_spinner=False)
def catalogue(url: str, version: str, when: str | None) -> tuple:
    """The catalogue, the places' names and the places with more than one source, once per
    data version and moment and shared (read, never changed)."""
    cat = common.catalogue_all(url)
    pairs = logic.multi_source(cat)
    return cat, logic.place_names(common.place_table(url)), set(pairs.place_id), pairs


cat, names, multi, pairs = catalogue(url, common.data_version(), common.as_of_key())
chosen_cities = st.session_state.get("place_ids", [])
place_options = logic.place_options(multi, names, chosen_cities)
if not place_options:
    st.info("No place has figures from more than one source yet.")
    st.stop()
c1, c2 = st.columns(2)
with c1:
    place = common.url_select(
        "Place",
        place_options,
        "place",
        logic.default_place(place_options, multi, chosen_cities),
        format_func=lambda p: names.get(p, p),
        what="place",
    )
with c2:
    metrics = sorted(cat[cat.place_id == place].metric.unique())
    metric = common.url_select(
        "Metric",
        metrics,
        "metric",
        logic.default_metric(pairs, place, metrics),
        format_func=common.metric_label,
        what="metric",
    )

data = common.series(url, (place,), metric)
units = sorted(data.unit.unique())
unit = units[0]
if len(units) > 1:
    unit = common.url_select("Unit", units, "unit", units[0], what="unit")
months = trends_logic.months_of(data[data.unit == unit])
window = common.window_select(months)


@st.cache_resource(ttl=6 * 3600, max_entries=64, show_spinner=False)
def drawn(
    url: str,
    version: str,
    when: str | None,
    place: str,
    metric: str,
    unit: str,
    title: str,
    window: tuple[str, str] | None,
) -> logic.CompareView:
    """The chart, disagreements and table for one place, metric, unit and window, built once
    per data version and moment and shared by every viewer (figures are drawn, never
    changed)."""
    data = common.series(url, (place,), metric)
    return logic.compare_view(
        data if window is None else trends_logic.in_window(data, window), unit, title
    )


view = drawn(
    url,
    common.data_version(),
    common.as_of_key(),
    place,
    metric,
    unit,
    logic.title(common.metric_label(metric), names.get(place, place), window, months),
    window,
)
st.plotly_chart(view.figure, key="compare_chart", width="stretch")
st.caption(
    "▲ low estimate (“at least”) · ▼ high estimate · ◆ reported figure · ● best estimate. "
    "A bar shows the period a figure covers."
)
common.share_chart("compare")

st.subheader("Where sources disagree")
table = view.disagreements
if table.empty:
    st.info("No two sources give this figure for the same period.")
else:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "scope": st.column_config.TextColumn(
                help="what the figures count; a ratio is given only between figures of one "
                "scope (the same place, period and who is counted)"
            ),
            "ratio": st.column_config.NumberColumn("highest / lowest", format="%.1f×"),
            "lowest": st.column_config.NumberColumn(format="%,.0f"),
            "highest": st.column_config.NumberColumn(format="%,.0f"),
            "spread": st.column_config.NumberColumn(format="%,.0f"),
        },
    )
st.subheader("All figures")
st.dataframe(
    common.link_column(view.figures),
    hide_index=True,
    width="stretch",
    column_config={
        "origin": st.column_config.TextColumn("source"),
        "qualifier": st.column_config.TextColumn("what it counts"),
        "site": st.column_config.TextColumn("where"),
        "value": st.column_config.NumberColumn(format="localized"),
        "source_url": st.column_config.LinkColumn("link"),
        "period_start": st.column_config.DateColumn("from"),
        "period_end": st.column_config.DateColumn("to"),
    },
)
common.attribution(view.sources)
