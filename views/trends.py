"""Trends: several cities on one chart, by metric and period, per capita or cumulative.

The chart's lines, subtitle and event markers come from `views.logic.trends` (pure, tested
without Streamlit); this script holds the pickers and draws."""

import streamlit as st

from data_sources.model import combine
from data_sources.model.metrics import metric_spec, opening_qualifier
from data_sources.store.engine import database_url
from views import common
from views.logic import trends as logic
from views.logic.data import source_text

ALL = "(all)"
MEDIAN = "(median)"
MARKET_VIEWS = {ALL: "each market", MEDIAN: "median of markets (min–max)"}

st.title("Trends")
common.show_link_problems()
url = database_url()
place_ids = st.session_state.get("place_ids", [])
if not place_ids:
    st.info("Choose one or more cities in the sidebar.")
    st.stop()
cat = common.catalogue(url, tuple(place_ids))
if cat.empty:
    st.info("No figures stored for the chosen cities.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
with c1:
    metric = common.metric_select(cat.metric.unique())
rows = cat[cat.metric == metric]
kind = combine.metric_kind(metric)
qualifier = site = unit = None
markets = combine.EACH
with c2:
    qualifiers = sorted(rows.qualifier.unique())
    label = metric_spec(metric).breakdown.capitalize()
    default_q = opening_qualifier(metric, qualifiers)
    qualifier = common.url_select(
        label,
        [*qualifiers, logic.EACH_BREAKDOWN] if len(qualifiers) > 1 else qualifiers,
        "qualifier",
        default_q,
        format_func=logic.breakdown_text,
        what=label.lower(),
    )
    each = qualifier == logic.EACH_BREAKDOWN
    if not each:
        rows = rows[rows.qualifier == qualifier]
with c3:
    units = sorted(rows.unit.unique(), key=lambda u: u.startswith("USD"))
    unit = common.url_select("Unit / currency", units, "unit", units[0], what="unit")
    rows = rows[rows.unit == unit]
with c4:
    sites = sorted(rows.site.unique())
    if metric_spec(metric).by_market and len(sites) > 1:
        site = common.url_select(
            "Market",
            [ALL, MEDIAN, *sites],
            "market",
            ALL,
            format_func=lambda s: MARKET_VIEWS.get(s, s),
            what="market",
        )
        markets = combine.MEDIAN if site == MEDIAN else combine.EACH
        site = None if site in MARKET_VIEWS else site

c5, c6, c7, c8 = st.columns(4)
with c5:
    period = common.url_select(
        "Period",
        list(combine.FREQUENCIES),
        "period",
        "month",
        widget=st.radio,
        horizontal=True,
        what="period",
    )
with c6:
    cumulative = common.url_toggle(
        "Cumulative",
        "cumulative",
        False,
        disabled=kind != "flow",
        help="Running total; only for counts that add up (flows).",
    )
with c7:
    per_capita = common.url_toggle(
        "Per 100,000 people", "percapita", False, disabled=kind == "price"
    )
with c8:
    origins = sorted(set(rows.dataset.where(rows.source == "reported", rows.source)))
    source = common.url_select(
        "Source", [ALL, *origins], "source", ALL, format_func=source_text, what="source"
    )

chosen = None if each else qualifier  # every breakdown's series, one line each
months = logic.months_of(common.series(url, tuple(place_ids), metric, chosen, site, unit))
window = common.window_select(months)

has_reports = bool((cat.source == "reported").any())
others = logic.beside_count(
    common.reported(url, tuple(place_ids) if has_reports else ()),
    metric=metric,
    qualifier=qualifier,
    unit=unit,
)
t1, t2 = st.columns(2)
with t1:
    show_earlier = common.url_toggle(
        "Show earlier revisions (faint)",
        "revisions",
        False,
        help="Figures a source corrected later, drawn as first published: a faint dotted line "
        "under each line that revisions moved.",
    )
with t2:
    beside = common.url_toggle(
        f"Reported figures beside ({others})",
        "reports",
        False,
        disabled=not others,
        help="This metric's figures reported under other breakdowns (a monitoring group's "
        "count for a whole battle, an incident), each a marker over its span, as published: "
        "never added to the lines.",
    )


@st.cache_resource(ttl=6 * 3600, max_entries=64, show_spinner=False)
def drawn(
    url: str,
    version: str,
    when: str | None,
    place_ids: tuple[str, ...],
    choice: tuple,
    has_reports: bool,
) -> logic.TrendView | None:
    """The chart for one choice, built once per data version and moment and shared by every
    viewer (figures are drawn, never changed): building it was most of a view's CPU. The
    queries read the version and moment of the run that asked, which are in the key."""
    metric, qualifier, site, unit, period, cumulative, per_capita, source, earlier, markets = (
        choice[:10]
    )
    window, beside = choice[10:12]
    chosen = None if qualifier == logic.EACH_BREAKDOWN else qualifier
    return logic.trend_view(
        common.series(url, place_ids, metric, chosen, site, unit),
        metric=metric,
        qualifier=qualifier,
        unit=unit,
        period=period,
        cumulative=cumulative,
        per_capita=per_capita,
        site=site,
        source=None if source == ALL else source,
        population=logic.population(common.city_table(url)) if per_capita else {},
        every=common.series(url, place_ids, metric, chosen, site, unit, revisions=True)
        if earlier
        else None,
        # events are other metrics' reported figures; most cities have none, and then the
        # (cached) empty answer for no place stands in for a query
        reported=common.reported(url, place_ids if has_reports else ()),
        markets=markets,
        window=window,
        beside=beside,
    )


view = drawn(
    url,
    common.data_version(),
    common.as_of_key(),
    tuple(place_ids),
    (
        *(metric, qualifier, site, unit, period, cumulative, per_capita, source, show_earlier),
        *(markets, window, beside and bool(others)),
    ),
    has_reports,
)
if view is None:
    st.info("No figures for this choice.")
    st.stop()
agg = view.chart.points
if note := logic.population_note(view.chart.without_population):
    st.caption(note)
st.plotly_chart(view.figure, key="trend_chart", width="stretch")
if caption := logic.events_caption(view.events):
    st.caption(caption)
if agg.spans.any():
    st.caption(
        "◆ A diamond is one figure that covers a longer span than the chosen period "
        "(for example “displaced since 17 October”); it is shown whole, never split."
    )
# The table is drawn only when asked for: the grid is the heaviest thing a browser renders on
# this page, and it would compete with the chart for the first second of every visit.
if st.toggle(f"Show chart data ({len(agg)} points)", key="show_chart_data"):
    st.dataframe(agg, hide_index=True, width="stretch")
st.download_button(
    "Download chart data (CSV)",
    view.csv,
    file_name=view.file_name,
    mime="text/csv",
)
common.attribution(view.sources)
common.share_chart("trends")
