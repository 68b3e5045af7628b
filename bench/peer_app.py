"""The peers' Trends page, written the way a competent Streamlit user would (not our code).

PEER=pandas: the whole CSV read once with pandas (categories for names) and kept by
st.cache_data, filtered per request. PEER=duckdb: DuckDB querying the same data as Parquet.
Both draw the same monthly line chart as our Trends page for one city, metric and commodity.
"""

import os

import pandas as pd
import plotly.express as px
import streamlit as st

PEER = os.environ.get("PEER", "pandas")
CSV, PARQUET = os.environ["BENCH_CSV"], os.environ["BENCH_PARQUET"]
CATEGORIES = {c: "category" for c in ("city", "country_iso3", "metric", "qualifier", "unit")}

city = st.query_params.get("cities", "Aleppo").split(",")[0]
metric = st.query_params.get("metric", "food_price")
qualifier = st.query_params.get("qualifier", "")
unit = st.query_params.get("unit", "")


@st.cache_data
def load_csv() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=CATEGORIES, parse_dates=["day"])


@st.cache_resource
def duck():
    import duckdb

    return duckdb.connect()


if PEER == "pandas":
    df = load_csv()
    rows = df[
        (df.city == city) & (df.metric == metric) & (df.qualifier == qualifier) & (df.unit == unit)
    ][["day", "value"]]
else:
    rows = (
        duck()
        .execute(
            "SELECT day, value FROM read_parquet(?) WHERE city = ? AND metric = ? AND qualifier = ?"
            " AND unit = ? ORDER BY day",
            [PARQUET, city, metric, qualifier, unit],
        )
        .df()
    )
monthly = rows.set_index("day")["value"].resample("MS").mean().reset_index()
st.title("Trends")
st.plotly_chart(px.line(monthly, x="day", y="value", title=f"{metric} {qualifier} — {city}"))
