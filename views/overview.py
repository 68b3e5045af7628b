"""Overview: the latest figure per metric for each chosen city, its change, trend and freshness."""

import pandas as pd
import streamlit as st

import charts
from data_sources.formats import export
from data_sources.model.aggregate import FLOWS as FLOW_METRICS
from data_sources.store.engine import database_url
from views import common

HEADLINE = ["idps", "displaced_new", "civilians_killed", "civilians_injured", "food_price"]
HEADLINE_PRICE = "Wheat flour, retail"
FLOWS = {"displaced_new", "civilians_killed", "civilians_injured"}
# event sources whose deaths are shown per month below the headline, not as a day's figure
EVENT_SOURCES = ("ucdp",)

st.title("Overview")
common.show_link_problems()
place_ids = st.session_state.get("place_ids", [])
if not place_ids:
    st.info("Choose one or more cities in the sidebar.")
    st.stop()

url = database_url()
cities = common.city_table(url).set_index("place_id")
latest = common.latest(url, tuple(place_ids))


def headline_row(city_latest: pd.DataFrame, metric: str) -> pd.Series | None:
    rows = city_latest[city_latest.metric == metric]
    if metric == "food_price":
        rows = rows[(rows.qualifier == HEADLINE_PRICE) & ~rows.unit.str.startswith("USD")]
        if rows.empty:
            return None
        # the city's price is the mean over its markets for the newest month
        newest = rows[rows.period_end == rows.period_end.max()]
        row = newest.iloc[0].copy()
        row["value"], row["previous"] = newest.value.mean(), newest.previous.mean()
        row["site"] = f"mean of {len(newest)} market(s)"
        return row
    if metric in FLOWS:  # one day's events is no headline: they are summed per month below
        rows = rows[~rows.source.isin(EVENT_SOURCES)]
    if rows.empty:
        return None
    row = rows.sort_values(["period_end", "value"]).iloc[-1].copy()
    # a source's low and high estimates for the same thing are shown as the range they give
    same = rows[
        (rows.period_end == row.period_end)
        & (rows.origin == row.origin)
        & (rows.qualifier == row.qualifier)
        & (rows.site == row.site)
    ]
    bounds = dict(zip(same.estimate, same.value, strict=False))
    row["range"] = (bounds["low"], bounds["high"]) if {"low", "high"} <= set(bounds) else None
    return row


def place_caption(place: pd.Series) -> str:
    """A city's population and point; a district's or governorate's parent, seat and p-code."""
    where = f" · {place['lat']:.3f}, {place['lon']:.3f}" if pd.notna(place["lat"]) else ""
    if place["kind"] == "city":
        return f"GeoNames population {int(place['population']):,}{where}"
    parts = [f"{place['kind'].capitalize()} in {common.safe(place['parent_name'] or '?')}"]
    if pd.notna(place["seat_name"]):
        parts.append(f"seat {common.safe(place['seat_name'])}")
    if pd.notna(place["pcode"]):
        parts.append(f"p-code {common.safe(place['pcode'])}")
    parts.append("figures no city of it holds")
    return " · ".join(parts) + where


def deaths_per_month(place_id: str, name: str) -> None:
    """An event source's deaths per month for the place (UCDP GED in the snapshot), its
    deadliest month as a headline, beside the figures reports gave for the place."""
    deaths = common.series(url, (place_id,), "conflict_fatalities", "", None, "people")
    deaths = deaths[deaths.source.isin(EVENT_SOURCES)]
    if deaths.empty:
        return
    for origin, part in deaths.groupby("origin"):
        monthly = charts.monthly_sums(part)
        peak = monthly.loc[monthly.best.idxmax()]
        month = pd.Period(peak["month"], "M")
        low, high = peak["low"], peak["high"]
        spread = (
            f" (low {charts.format_value(low)}, high {charts.format_value(high)})"
            if pd.notna(low) and pd.notna(high)
            else ""
        )
        left, right = st.columns([1, 3])
        with left:
            st.metric(
                f"Conflict deaths, deadliest month ({common.safe(origin.upper(), 20)})",
                charts.format_value(peak["best"]),
                help=f"{month:%B %Y}: best estimate{spread}, summed over "
                f"{common.safe(origin, 40)}'s events. {common.safe(peak['citation'], 400)}",
            )
            st.caption(f"{month:%B %Y} · best estimate{spread}")
            st.download_button(
                "Deaths per month (CSV)",
                export.neutralise(monthly.assign(place=name)).to_csv(index=False).encode(),
                file_name=f"deaths_per_month_{place_id.replace(':', '_')}.csv",
                mime="text/csv",
                key=f"deaths_csv_{place_id}_{origin}",
            )
        with right:
            said = common.reported(url, (place_id,))
            said = said[said.metric.isin(["civilians_killed", "conflict_fatalities"])]
            st.plotly_chart(
                charts.monthly_deaths_figure(monthly, said),
                key=f"deaths_{place_id}_{origin}",
                config={"displayModeBar": False},
            )


for place_id in place_ids:
    city = cities.loc[place_id]
    st.subheader(f"{common.safe(city['name'])} ({common.safe(city['country_iso3'])})")
    st.caption(place_caption(city))
    mine = latest[latest.place_id == place_id]
    shown = [(m, headline_row(mine, m)) for m in HEADLINE]
    shown = [(m, r) for m, r in shown if r is not None]
    if not shown:
        st.info("No headline figures stored for this city yet.")
    cols = st.columns(max(len(shown), 1))
    for col, (metric, row) in zip(cols, shown, strict=False):
        with col:
            delta = None
            if pd.notna(row["previous"]):
                change = row["value"] - row["previous"]
                delta = (
                    # ASCII minus: st.metric reads the sign to point its arrow
                    f"{'+' if change >= 0 else '-'}{charts.format_value(abs(change))} "
                    f"since {row['previous_end']:%d %b %Y}"
                )
            shown_value = (
                f"{charts.format_value(row['range'][0])}–{charts.format_value(row['range'][1])}"
                if row.get("range")
                else charts.format_value(row["value"])
            )
            if row.get("range"):
                delta = None  # a range has no single change to show
            st.metric(
                common.metric_label(metric),
                shown_value + ("" if row["unit"] == "people" else f" {row['unit']}"),
                delta,
                delta_color="inverse" if metric != "food_price" else "off",
                help=f"{common.safe(row['qualifier'], 100)} {common.safe(row['site'], 100)} — "
                f"{common.safe(row['origin'], 100)}, {row['period_end']:%d %b %Y}. "
                f"{common.safe(row['citation'], 300)}",
            )
            st.caption(
                f"{row['period_end']:%d %b %Y} · {common.safe(row['origin'], 100)}"
                + (f" · {common.safe(row['qualifier'], 100)}" if row["qualifier"] else "")
            )
            trend = common.series(url, (place_id,), metric, row["qualifier"], None, row["unit"])
            if metric == "food_price":
                trend = trend.groupby("period_end", as_index=False)["value"].mean()
            if len(trend) > 1:
                st.plotly_chart(
                    charts.sparkline(trend),
                    key=f"spark_{place_id}_{metric}",
                    config={"displayModeBar": False},
                )
    deaths_per_month(place_id, city["name"])
    with st.expander(f"All latest figures for {common.safe(city['name'])} ({len(mine)} series)"):
        table = common.link_column(mine.assign(period=mine.period_end.dt.strftime("%Y-%m-%d")))
        st.dataframe(
            table[
                [
                    "metric",
                    "qualifier",
                    "site",
                    "value",
                    "unit",
                    "change",
                    "period",
                    "origin",
                    "estimate",
                    "source_url",
                ]
            ].sort_values(["metric", "qualifier", "site"]),
            hide_index=True,
            width="stretch",
            column_config={
                "source_url": st.column_config.LinkColumn("link"),
                "value": st.column_config.NumberColumn(format="%.4g"),
                "change": st.column_config.NumberColumn(format="%+.4g"),
            },
        )
    country = common.latest(url, (f"country:{city['country_iso3']}",))
    # stocks only: a flow's newest figure is one day's or month's count (UCDP's events
    # placed on the country itself), not context for a city
    country = country[(country.qualifier == "") & ~country.metric.isin(FLOW_METRICS)]
    if not country.empty:
        st.caption(
            "Country context: "
            + " · ".join(
                f"{common.safe(common.metric_label(r.metric))} in "
                f"{common.safe(r.country_iso3 or city['country_iso3'])}: "
                f"{r.value:,.0f} ({common.safe(r.origin, 100)}, {r.period_end:%Y})"
                for r in country.itertuples()
            )
        )
    st.divider()

st.subheader("How fresh each source is")
common.freshness_badges(url)
common.attribution(latest["source"].unique().tolist())
