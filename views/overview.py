"""Overview: the latest figure per metric for each chosen city, its change, trend and freshness.

What is shown is decided in `views.logic.overview` (pure, tested without Streamlit). Each
place's whole view (cards, sparklines, charts, table) is built once per data version and
moment and shared by every viewer (`st.cache_resource`: figures are drawn, never changed), so a
fresh view only draws: building the figures was most of a view's server CPU."""

import streamlit as st

from data_sources.store import asof
from data_sources.store.engine import database_url
from views import common, view_link
from views.logic import overview as logic
from views.store_access import engine_for

st.title("Overview")
common.show_link_problems()
place_ids = st.session_state.get("place_ids", [])
if not place_ids:
    st.info("Choose one or more cities in the sidebar.")
    st.stop()

url = database_url()


@st.cache_resource(ttl=6 * 3600, max_entries=64, show_spinner=False)
def city_view(
    url: str,
    version: str,
    when: str | None,
    place_id: str,
    window: tuple[str, str] | None = None,
) -> logic.CityView:
    """One place's view for a data version, as-of moment and time window (all in the key;
    the moment is the snapped text `as_of_key` gives). The queries are the brief's too
    (`logic.city_view_from_store`): the page and a printed brief cannot differ."""
    at = asof.parse_as_of(when) if when else None
    return logic.city_view_from_store(
        engine_for(url), place_id, at, links=common.link_column, window=window
    )


view_link.brief_buttons(place_ids)
view_link.share_chart("home")
version, when = common.data_version(), common.as_of_key()
whole = {place_id: city_view(url, version, when, place_id) for place_id in place_ids}
months = sorted({m for view in whole.values() for m in view.months})
with st.expander("Time window of the small charts"):
    st.caption(
        "The sparklines and the deaths per month follow the window Trends and Compare share; "
        "the headline figures are always the latest."
    )
    window = common.window_select(months)
sources: list[str] = []
for place_id in place_ids:
    view = whole[place_id] if window is None else city_view(url, version, when, place_id, window)
    sources += view.sources
    st.subheader(view.heading)
    st.caption(view.caption)
    if not view.headlines:
        st.info("No headline figures stored for this city yet.")
    cols = st.columns(max(len(view.headlines), 1))
    for col, card in zip(cols, view.headlines, strict=False):
        with col:
            st.metric(
                card.label, card.value, card.delta, delta_color=card.delta_color, help=card.help
            )
            st.caption(card.caption)
            if card.metric in view.sparklines:
                st.plotly_chart(
                    view.sparklines[card.metric],
                    key=f"spark_{place_id}_{card.metric}",
                    config={"displayModeBar": False},
                )
    for peak, figure, csv in view.deaths:
        left, right = st.columns([1, 3])
        with left:
            st.metric(
                "Deadliest month",
                peak.best,
                help=f"{peak.month:%B %Y}: best estimate{peak.spread}, summed over "
                f"{common.safe(peak.origin, 40)}'s events. {common.safe(peak.citation, 400)}",
            )
            st.caption(
                f"Conflict deaths, {peak.month:%B %Y} · {common.safe(peak.origin.upper(), 20)} "
                f"best estimate{peak.spread}"
                + (f" · deadliest of {view.window}" if view.window else "")
            )
            st.download_button(
                "Deaths per month (CSV)",
                csv,
                file_name=logic.deaths_file_name(view.place_name or place_id, peak),
                mime="text/csv",
                key=f"deaths_csv_{place_id}_{peak.origin}",
            )
        with right:
            st.plotly_chart(
                figure, key=f"deaths_{place_id}_{peak.origin}", config={"displayModeBar": False}
            )
    with st.expander(f"All latest figures for {view.name} ({view.series} series)"):
        st.dataframe(
            view.table,
            hide_index=True,
            width="stretch",
            column_config={
                "source_url": st.column_config.LinkColumn("link"),
                "value": st.column_config.NumberColumn(format="localized"),
                "change": st.column_config.NumberColumn(format="localized"),
            },
        )
    if view.context:
        st.caption(view.context)
    st.divider()

st.subheader("How fresh each source is")
common.freshness_badges(url)
common.attribution(sources)
