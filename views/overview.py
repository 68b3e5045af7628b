"""Overview: the latest figure per metric for each chosen city, its change, trend and freshness.

What is shown is decided in `views.logic.overview` (pure, tested without Streamlit); this
script reads the cached queries and draws."""

import streamlit as st

import charts
from data_sources import export
from data_sources.store import database_url
from views import common
from views.logic import overview as logic

st.title("Overview")
common.show_link_problems()
place_ids = st.session_state.get("place_ids", [])
if not place_ids:
    st.info("Choose one or more cities in the sidebar.")
    st.stop()

url = database_url()
cities = common.city_table(url).set_index("place_id")
latest = common.latest(url, tuple(place_ids))


def deaths_per_month(place_id: str, name: str) -> None:
    """An event source's deaths per month for the place (UCDP GED in the snapshot), its
    deadliest month as a headline, beside the figures reports gave for the place."""
    deaths = common.series(url, (place_id,), "conflict_fatalities", "", None, "people")
    for peak in logic.deadliest_months(deaths):
        left, right = st.columns([1, 3])
        with left:
            st.metric(
                f"Conflict deaths, deadliest month ({common.safe(peak.origin.upper(), 20)})",
                peak.best,
                help=f"{peak.month:%B %Y}: best estimate{peak.spread}, summed over "
                f"{common.safe(peak.origin, 40)}'s events. {common.safe(peak.citation, 400)}",
            )
            st.caption(f"{peak.month:%B %Y} · best estimate{peak.spread}")
            st.download_button(
                "Deaths per month (CSV)",
                export.neutralise(peak.monthly.assign(place=name)).to_csv(index=False).encode(),
                file_name=f"deaths_per_month_{place_id.replace(':', '_')}.csv",
                mime="text/csv",
                key=f"deaths_csv_{place_id}_{peak.origin}",
            )
        with right:
            said = logic.said_deaths(common.reported(url, (place_id,)))
            st.plotly_chart(
                charts.monthly_deaths_figure(peak.monthly, said),
                key=f"deaths_{place_id}_{peak.origin}",
                config={"displayModeBar": False},
            )


for place_id in place_ids:
    city = cities.loc[place_id]
    st.subheader(f"{common.safe(city['name'])} ({common.safe(city['country_iso3'])})")
    st.caption(logic.place_caption(city))
    mine = latest[latest.place_id == place_id]
    shown = logic.headlines(mine)
    if not shown:
        st.info("No headline figures stored for this city yet.")
    cols = st.columns(max(len(shown), 1))
    for col, card in zip(cols, shown, strict=False):
        with col:
            st.metric(
                card.label, card.value, card.delta, delta_color=card.delta_color, help=card.help
            )
            st.caption(card.caption)
            trend = common.series(url, (place_id,), card.metric, card.qualifier, None, card.unit)
            points = logic.sparkline_points(trend, card.metric)
            if points is not None:
                st.plotly_chart(
                    charts.sparkline(points),
                    key=f"spark_{place_id}_{card.metric}",
                    config={"displayModeBar": False},
                )
    deaths_per_month(place_id, city["name"])
    with st.expander(f"All latest figures for {common.safe(city['name'])} ({len(mine)} series)"):
        st.dataframe(
            common.link_column(logic.latest_table(mine)),
            hide_index=True,
            width="stretch",
            column_config={
                "source_url": st.column_config.LinkColumn("link"),
                "value": st.column_config.NumberColumn(format="%.4g"),
                "change": st.column_config.NumberColumn(format="%+.4g"),
            },
        )
    context = logic.country_context(
        common.latest(url, (f"country:{city['country_iso3']}",)), city["country_iso3"]
    )
    if context:
        st.caption(context)
    st.divider()

st.subheader("How fresh each source is")
common.freshness_badges(url)
common.attribution(latest["source"].unique().tolist())
