"""Data: the normalized figures with provenance, downloads, rejects with reasons, fetch log."""

from datetime import date

import pandas as pd
import streamlit as st

from data_sources import sources as sources_registry
from data_sources.formats import export
from data_sources.model import admin_groups
from data_sources.model.metrics import metric_spec, opening_qualifier
from data_sources.store import asof, changes, query
from data_sources.store.engine import database_url
from views import common, refresh_panel
from views.logic import data as logic

ALL = logic.ALL
SHOWN_ROWS = logic.SHOWN_ROWS
# the history and change tables: a figure's place, period and link as every table shows them
FIGURE_COLUMNS = {
    "source_url": st.column_config.LinkColumn("link"),
    "city": st.column_config.TextColumn("place"),
    "period_start": st.column_config.DateColumn(),
    "period_end": st.column_config.DateColumn(),
}


Days = tuple[str | None, str | None] | None  # a From/To window as ISO days, for the cache


def _window(days: Days) -> query.Window | None:
    if days is None:
        return None
    return tuple(None if d is None else date.fromisoformat(d) for d in days)  # type: ignore[return-value]


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def downloads(
    url: str,
    version: str,
    when: str | None,
    place_ids: tuple[str, ...],
    metric: str,
    source: str,
    days: Days = None,
) -> dict:
    """The ZIP (and its two CSVs) for one filter (the figures the table shows, every one),
    built in memory once per data version and as-of moment and reused; the CSVs themselves
    are streamed (`common.download_links`)."""
    df = query.download_frame(
        common.engine_for(url),
        list(place_ids),
        None if metric == ALL else metric,
        sources=None if source == ALL else [source],
        as_of=asof.parse_as_of(when),
        window=_window(days),
    )
    return export.bundle(df, export.licences())


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def shown(
    url: str,
    version: str,
    when: str | None,
    place_ids: tuple[str, ...],
    metric: str,
    source: str,
    days: Days = None,
) -> tuple[int, pd.DataFrame]:
    """How many figures match a filter and the first SHOWN_ROWS of them, once per data version
    for every viewer (the same for all of them; uncached, 40% of a fresh view's CPU)."""
    engine = common.engine_for(url)
    metric_or_none = None if metric == ALL else metric
    source_or_none = None if source == ALL else source
    moment = asof.parse_as_of(when)
    total = query.count_observations(
        engine, list(place_ids), metric_or_none, source_or_none, as_of=moment, window=_window(days)
    )
    figures = query.series_frame(
        engine,
        list(place_ids),
        metric_or_none,
        sources=None if source_or_none is None else [source_or_none],
        limit=SHOWN_ROWS,
        as_of=moment,
        window=_window(days),
    )
    return total, figures


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def totals(
    url: str,
    version: str,
    when: str | None,
    place_ids: tuple[str, ...],
    metric: str,
    source: str,
    days: Days,
    qualifier: str | None,
    by: str,
    per: str,
) -> pd.DataFrame:
    """One metric's figures of the filter totalled by place, district, governorate or
    country and by year or month (`admin_groups.totals`: the combination rules)."""
    engine = common.engine_for(url)
    figures = query.series_frame(
        engine,
        list(place_ids),
        metric,
        qualifier=qualifier,
        sources=None if source == ALL else [source],
        as_of=asof.parse_as_of(when),
        window=_window(days),
    )
    places = common.place_table(url)
    held = places[places.place_id.isin(place_ids)]
    placed = admin_groups.areas(
        held, query.admin_names(engine, list(place_ids)), common.place_labels(places)
    )
    return admin_groups.totals(figures, metric, placed, by, per)


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def figure_span(url: str, version: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    return query.figure_span(common.engine_for(url))


@st.cache_data(ttl=6 * 3600, max_entries=16, show_spinner=False)
def revision_history(
    url: str,
    version: str,
    when: str | None,
    place_ids: tuple[str, ...],
    metric: str,
    source: str,
    revised_only: bool,
) -> pd.DataFrame:
    """The first SHOWN_ROWS rows of the revision history, once per data version for every
    viewer. Revised figures only (the default) reads only the places that hold one, not
    every revision of every figure (uncached and unfiltered: 3 s and 170 MB per view)."""
    engine = common.engine_for(url)
    moment = asof.parse_as_of(when)
    ids = list(place_ids)
    if revised_only:
        ids = query.revised_places(engine, ids, moment)
        if not ids:
            return pd.DataFrame(columns=changes.HISTORY_COLUMNS)
    filters = {
        "metric": None if metric == ALL else metric,
        "sources": None if source == ALL else [source],
        "as_of": moment,
    }
    all_revisions = query.series_frame(engine, ids, current_only=False, **filters)
    current = query.series_frame(engine, ids, **filters)
    table = changes.history(all_revisions, current)
    if revised_only:
        table = changes.only_revised(table)
    return table.head(SHOWN_ROWS).reset_index(drop=True)


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def rejects(url: str, version: str) -> tuple[int, pd.DataFrame]:
    """Rejected rows are written in their load's transaction, so a data version fixes them.
    (The fetch log is read fresh: it shows loads still running, before the version moves.)"""
    engine = common.engine_for(url)
    return query.reject_count(engine), query.rejected(engine, limit=SHOWN_ROWS)


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def refresh_start(url: str, version: str, when: str | None) -> str | None:
    """The start of the newest successful load finished by the view's moment (the change
    list's default "Since", before its default "Until"): a load that finishes moves the
    data version, so the version fixes it."""
    moment = changes.last_refresh_start(common.engine_for(url), asof.parse_as_of(when))
    return asof.format_as_of(moment) if moment else None


st.title("Data")
common.show_link_problems()
url = database_url()
engine = common.engine()
moment = common.as_of()
places = common.place_table(url)
names = common.place_labels(places)  # one label per place: what `place=` in a link holds
cat = common.catalogue_all(url)

kinds = dict(zip(places.place_id, places.kind, strict=True))
countries = logic.country_names(places)
chosen_cities = st.session_state.get("place_ids", [])

c0, c1, c2, c3 = st.columns(4)
with c0:
    country = common.url_select(
        "Country",
        logic.country_options(cat, places),
        "country",
        ALL,
        format_func=lambda c: countries.get(c, c),
        what="country",
    )
with c1:
    chosen_place = common.url_select(
        "Place",
        logic.place_options(cat, places, country, names),
        "place",
        logic.default_place(chosen_cities),
        format_func=lambda p: logic.place_text(p, names, kinds),
        what="place",
        help="The sidebar's cities, every place, or one place: cities, then districts, "
        "governorates and countries.",
    )
with c2:
    metric = common.url_select(
        "Metric",
        [ALL, *sorted(cat.metric.unique(), key=common.metric_label)],
        "metric",
        ALL,
        format_func=lambda m: m if m == ALL else common.metric_label(m),
        what="metric",
    )
with c3:
    source = common.url_select(
        "Source",
        [ALL, *sorted(cat.source.unique(), key=sources_registry.title)],
        "source",
        ALL,
        format_func=lambda s: s if s == ALL else sources_registry.title(s),
        what="source",
    )
months = logic.month_options(*(figure_span(url, common.data_version()) or (None, None)))
m1, m2, _ = st.columns([1, 1, 2])
with m1:
    from_month = common.url_select("From", months, "from", logic.ANY_MONTH, what="month")
with m2:
    to_month = common.url_select("To", months, "to", logic.ANY_MONTH, what="month")
period_window, window_note = logic.window(from_month, to_month)
if window_note:
    st.info(window_note)
days = None if period_window is None else tuple(d and d.isoformat() for d in period_window)
chosen_ids = logic.selected_places(
    cat, places, chosen_place, chosen_cities, country, metric, source
)
total, figures = shown(
    url, common.data_version(), common.as_of_key(), tuple(chosen_ids), metric, source, days
)

st.write(logic.match_line(total))
st.dataframe(
    logic.readable(common.link_column(figures)),
    hide_index=True,
    width="stretch",
    column_config={
        "value": st.column_config.NumberColumn(format="localized"),
        "metric": st.column_config.TextColumn("metric"),
        "origin": st.column_config.TextColumn("source"),
        "source_url": st.column_config.LinkColumn("link"),
        "city": st.column_config.TextColumn("place"),
        "quote": st.column_config.TextColumn(
            "quoted from",
            help="the sentence a reported figure was read from, or "
            "the reports a weekly count of reports is made of",
        ),
        "period_start": st.column_config.DateColumn(),
        "period_end": st.column_config.DateColumn(),
        "revision": st.column_config.NumberColumn(
            "revisions", help="how many revisions this figure has had (1: never revised)"
        ),
    },
)
chosen = (url, common.data_version(), common.as_of_key(), tuple(chosen_ids), metric, source)
chosen += (days,)
d1, d2, d3 = st.columns(3)
common.download_links((d1, d2))  # streamed from the database (web/downloads.py)
# Files are built when a button is clicked (and cached), not on every page view.
d3.download_button(
    "Download ZIP (CSV, HXL, README of sources)",
    lambda: downloads(*chosen)["zip"],
    "situation_room.zip",
    "application/zip",
    on_click="ignore",
)
common.share_chart("data")  # the table's first rows as an image, and its embed

st.subheader("Totals", anchor="totals")
if metric == ALL:
    st.caption(
        "Choose one metric above to total its figures by place, district, governorate or "
        "country: figures of different metrics are never added."
    )
else:
    g0, g1, g2, _ = st.columns([1, 1, 1, 1])
    with g0:
        qualifiers = sorted(cat[cat.metric == metric].qualifier.unique())
        breakdown = metric_spec(metric).breakdown
        qualifier = common.url_select(
            breakdown.capitalize(),
            qualifiers,
            "breakdown",
            opening_qualifier(metric, qualifiers),
            format_func=lambda q: q or "(total)",
            what=breakdown,
            help="Totals of one breakdown at a time: a source's total and its parts are "
            "never added together.",
        )
    with g1:
        by = common.url_select(
            "Group by",
            list(logic.GROUP_LABELS),
            "group",
            "district",
            format_func=logic.GROUP_LABELS.get,
            what="grouping",
        )
    with g2:
        per = common.url_select(
            "Per", list(logic.PER_LABELS), "per", "year", format_func=logic.PER_LABELS.get
        )
    summed = totals(*chosen, qualifier, by, per)
    st.caption(
        "Each row adds one source's figures of one breakdown for the places in it: sources "
        "and breakdowns are never added together, the best estimate is added (low and high "
        "beside it), a report that contains another is counted once, and markets are never "
        "averaged. A city is in the district its sources name beside it; figures whose "
        "source named no district say so. Largest first within each period."
    )
    st.dataframe(
        logic.totals_table(summed, metric, by),
        hide_index=True,
        width="stretch",
        column_config={
            "value": st.column_config.NumberColumn(format="localized"),
            "low": st.column_config.NumberColumn(format="localized"),
            "high": st.column_config.NumberColumn(format="localized"),
            "figures": st.column_config.NumberColumn(help="reports added (not estimates)"),
            "places": st.column_config.NumberColumn(help="places whose figures are added"),
        },
        key="totals_table",
    )
    st.download_button(
        "Download totals (CSV)",
        lambda: export.csv_bytes(
            logic.totals_download(totals(*chosen, qualifier, by, per), metric, by)
        ),
        logic.totals_file_name(metric, qualifier, by, per, period_window),
        "text/csv",
        on_click="ignore",
    )

st.subheader("Revision history")
st.caption(
    "Every revision of the figures above that the store held"
    + (f" as of {common.safe(asof.describe(moment), 80)}" if moment else "")
    + ": its value, when it was retrieved and the link it came from. “shown” marks the "
    "revision this view shows (none for a withdrawn figure)."
)
revised_only = st.toggle("Only figures with more than one revision", value=True, key="revised_only")
table = revision_history(
    url, common.data_version(), common.as_of_key(), tuple(chosen_ids), metric, source, revised_only
)
st.dataframe(
    common.link_column(table),
    hide_index=True,
    width="stretch",
    column_config=FIGURE_COLUMNS,
    key="history_table",
)

st.subheader("What changed", anchor="what-changed")
default_since = refresh_start(url, common.data_version(), common.as_of_key())
w1, w2 = st.columns(2)
since_text = w1.text_input(
    "Since (date or UTC time)",
    value=common.url_text("since", default_since or ""),
    help="Figures added, revised or withdrawn after this moment. Default: the start of the "
    "last refresh or import.",
    key="changes_since",
)
until_text = w2.text_input(
    "Until (empty: now)",
    value=common.url_text("until", common.as_of_text() or ""),
    key="changes_until",
)
window_typed = logic.change_window(since_text, until_text)
if window_typed.error:
    st.error(window_typed.error)
since, until = window_typed.since, window_typed.until
since, said = logic.since_within_store(since, common.store_moments())
if said:
    st.info(said)
# The list is built when asked (a link naming `since`, or the toggle): over a whole
# snapshot's first load it is every figure, 2.2 s of a first visit that never looked at it.
listing = st.query_params.get("since") is not None or st.toggle(
    "List the changes in this window",
    key="list_changes",
    help="Built on demand: the first load of a store lists every figure it holds.",
)
if since is not None and listing:
    st.query_params["since"] = asof.format_as_of(since)
    if until is not None:
        st.query_params["until"] = asof.format_as_of(until)
    else:
        st.query_params.pop("until", None)
    window = (url, asof.format_as_of(since), asof.format_as_of(until) if until else None)
    counted, found = common.change_view(*window, rows=SHOWN_ROWS)
    st.write(logic.window_line(since, until, counted))
    st.dataframe(
        common.link_column(found),
        hide_index=True,
        width="stretch",
        column_config=FIGURE_COLUMNS,
        key="changes_table",
    )
    st.download_button(  # built when clicked, not on every view (a snapshot's list is long)
        "Download changes (CSV)",
        lambda: common.change_csv(*window),
        "situation_room_changes.csv",
        "text/csv",
        on_click="ignore",
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
