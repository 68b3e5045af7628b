"""Data: the normalized figures with provenance, downloads, rejects with reasons, fetch log."""

import pandas as pd
import streamlit as st

from data_sources import export, query
from data_sources.store import database_url
from views import common, refresh_panel

ALL = "(all)"
SHOWN_ROWS = 5_000


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def downloads(url: str, version: str, place_ids: tuple[str, ...], metric: str, source: str) -> dict:
    """The three download files for one filter, built once per data version and reused."""
    df = common.series(url, place_ids, None if metric == ALL else metric)
    return export.bundle(export.figures(df, None if source == ALL else source), common.LICENCES)


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def shown(
    url: str, version: str, place_ids: tuple[str, ...], metric: str, source: str
) -> tuple[int, pd.DataFrame]:
    """How many figures match a filter and the first SHOWN_ROWS of them, once per data version
    for every viewer (the same for all of them; uncached, 40% of a fresh view's CPU)."""
    engine = common.engine_for(url)
    metric_or_none = None if metric == ALL else metric
    source_or_none = None if source == ALL else source
    total = query.count_observations(engine, list(place_ids), metric_or_none, source_or_none)
    figures = query.series_frame(
        engine,
        list(place_ids),
        metric_or_none,
        sources=None if source_or_none is None else [source_or_none],
        limit=SHOWN_ROWS,
    )
    return total, figures


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def rejects(url: str, version: str) -> tuple[int, pd.DataFrame]:
    """Rejected rows are written in their load's transaction, so a data version fixes them.
    (The fetch log is read fresh: it shows loads still running, before the version moves.)"""
    engine = common.engine_for(url)
    return query.reject_count(engine), query.rejected(engine, limit=SHOWN_ROWS)


st.title("Data")
common.show_link_problems()
url = database_url()
engine = common.engine()
places = common.place_table(url)
names = dict(zip(places.place_id, places.name, strict=True))
cat = common.catalogue_all(url)

c1, c2, c3 = st.columns(3)
with c1:
    place_options = [ALL, *sorted(cat.place_id.unique(), key=lambda p: names.get(p, p))]
    chosen_place = common.url_select(
        "Place", place_options, "place", ALL, format_func=lambda p: names.get(p, p), what="place"
    )
with c2:
    metric = common.url_select(
        "Metric",
        [ALL, *sorted(cat.metric.unique())],
        "metric",
        ALL,
        format_func=lambda m: m if m == ALL else common.metric_label(m),
        what="metric",
    )
with c3:
    source = common.url_select(
        "Source", [ALL, *sorted(cat.source.unique())], "source", ALL, what="source"
    )
chosen_ids = export.chosen_places(
    cat,
    None if chosen_place == ALL else chosen_place,
    None if metric == ALL else metric,
    None if source == ALL else source,
)
total, figures = shown(url, common.data_version(), tuple(chosen_ids), metric, source)

st.write(
    f"**{total:,} figures** match"
    + (f"; the first {SHOWN_ROWS:,} are shown, downloads hold all." if total > SHOWN_ROWS else ".")
)
st.dataframe(
    common.link_column(figures)[
        [
            "city",
            "metric",
            "qualifier",
            "site",
            "period_start",
            "period_end",
            "value",
            "unit",
            "estimate",
            "origin",
            "source_url",
            "citation",
            "quote",
            "revision",
            "retrieved_at",
            "match_method",
            "match_score",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "source_url": st.column_config.LinkColumn("link"),
        "city": st.column_config.TextColumn("place"),
        "quote": st.column_config.TextColumn(
            "quoted from",
            help="the sentence a reported figure was read from, or "
            "the reports a weekly count of reports is made of",
        ),
        "period_start": st.column_config.DateColumn(),
        "period_end": st.column_config.DateColumn(),
    },
)
chosen = (url, common.data_version(), tuple(chosen_ids), metric, source)
d1, d2, d3 = st.columns(3)
# Files are built when a button is clicked (and cached), not on every page view.
d1.download_button(
    "Download CSV", lambda: downloads(*chosen)["csv"], "situation_room.csv", "text/csv"
)
d2.download_button(
    "Download HXL-tagged CSV",
    lambda: downloads(*chosen)["hxl"],
    "situation_room_hxl.csv",
    "text/csv",
)
d3.download_button(
    "Download ZIP (CSV, HXL, README of sources)",
    lambda: downloads(*chosen)["zip"],
    "situation_room.zip",
    "application/zip",
)

st.subheader("Sources and freshness")
common.freshness_badges(url, with_feeds=True)
refresh_panel.show(url, engine)

reject_total, rej = rejects(url, common.data_version())
st.subheader(f"Rejected rows ({reject_total:,})")
st.caption(
    "Rows a source sent that could not be stored, with the reason. Nothing is dropped "
    "silently: fix the input or the gazetteer and import again."
)
st.dataframe(rej, hide_index=True, width="stretch")

with st.expander("Fetch log"):
    st.dataframe(query.fetches(engine), hide_index=True, width="stretch")
common.attribution(figures.source.unique().tolist())
