"""Casualties per city offline: the bundled UCDP GED files give Mosul's and Aleppo's deaths
per month, equal to the sums ../shared/data/SOURCES.md states, on the Overview and on Trends
(AppTest, SQLite and PostgreSQL), with UCDP's citation on hover and in downloads; and
districts and governorates are places a user can choose, chart and map."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_sources.formats.hxl import parse_hxl_csv
from data_sources.store import query
from data_sources.store.ingest import ingest
from data_sources.store.tables import fetch_log
from tests.apptest import open_page
from tests.shared_data import needs_shared

from .conftest import ROOT

SOURCES_MD = ROOT / "data_sources" / "snapshot" / "SOURCES.md"
SHARED_SOURCES = ROOT.parent / "shared" / "data" / "SOURCES.md"
MOSUL, ALEPPO = "geonames:99072", "geonames:170063"
CITATION = "Introducing the UCDP Georeferenced Event Dataset"
# UCDP's monthly sums of `best` (month of date_start) as the bundled SOURCES.md states them;
# the same numbers as ../shared/data/SOURCES.md (checked below when that file is here)
STATED = {
    "Mosul": ("conflict_data_irq", MOSUL),
    "Aleppo": ("ged_syria_2016-2019", ALEPPO),
}


def stated_months(text: str, file: str, city: str) -> dict[str, float]:
    line = next(x for x in text.splitlines() if f"`{file}.csv" in x and f"{city}, sum" in x)
    stated = line.split(f"{city}, sum of `best` by month of `date_start`:")[1].split(".")[0]
    return {m: float(v.replace(",", "")) for m, v in re.findall(r"(\d{4}-\d{2}) ([\d,]+)", stated)}


@pytest.fixture
def app(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)

    return open_page


def _plain(value):
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def _traces(at: AppTest) -> list[dict]:
    return [
        {k: _plain(v) for k, v in trace.items()}
        for chart in at.get("plotly_chart")
        for trace in json.loads(chart.proto.spec)["data"]
    ]


def _month_values(trace: dict) -> dict[str, float]:
    return {str(x)[:7]: y for x, y in zip(trace["x"], trace["y"], strict=True)}


@needs_shared(SHARED_SOURCES)
def test_bundled_sources_md_states_the_shared_sums():
    ours, shared = SOURCES_MD.read_text("utf-8"), SHARED_SOURCES.read_text("utf-8")
    for city, (file, _) in STATED.items():
        assert stated_months(ours, file, city) == stated_months(shared, file, city)
        assert len(stated_months(ours, file, city)) >= 6


def test_monthly_deaths_in_the_store_equal_ucdp_sums(loaded_engine):
    text = SOURCES_MD.read_text("utf-8")
    for city, (file, place_id) in STATED.items():
        stored = query.series_frame(loaded_engine, [place_id], "conflict_fatalities", qualifier="")
        best = stored[(stored.source == "ucdp") & (stored.estimate == "best")]
        assert set(best.dataset) == {file}
        monthly = best.groupby(best.period_start.dt.strftime("%Y-%m")).value.sum()
        stated = stated_months(text, file, city)
        assert {m: monthly[m] for m in stated} == stated, city


def test_overview_shows_mosul_and_aleppo_deaths_per_month_with_ucdp_citation(app):
    at = app()  # the default cities: Aleppo and Mosul
    assert not at.exception, [e.message for e in at.exception]
    deadliest = {m.value: m for m in at.metric if m.label == "Deadliest month"}
    assert set(deadliest) == {"1,296", "1,160"}  # Mosul March 2017, Aleppo November 2016
    assert CITATION in deadliest["1,296"].help and "March 2017" in deadliest["1,296"].help
    assert "November 2016" in deadliest["1,160"].help
    captions = " ".join(c.value for c in at.caption)
    assert "Conflict deaths, March 2017 · UCDP best estimate (low " in captions
    bars = [t for t in _traces(at) if t.get("type") == "bar"]
    months = [_month_values(b) for b in bars]
    assert any(m.get("2017-03") == 1296.0 for m in months)  # Mosul
    assert any(m.get("2016-11") == 1160.0 for m in months)  # Aleppo
    assert all(CITATION in str(b["customdata"][0][4]) for b in bars)  # the hover's citation
    # the reported figures beside them: AP's "at least 9,000" civilians for the battle
    # drawn once at its low bound with the high as its bar (was: 9,000 and 11,000 as two
    # points), a total over its own period on the right axis
    said = [t for t in _traces(at) if str(t.get("name")).startswith("reported totals, each over")]
    assert any(9000.0 in t["y"] for t in said)
    assert not any(11000.0 in t["y"] for t in said)


def test_trends_shows_ucdp_months_for_the_default_cities(app):
    at = app("views/trends.py", metric="conflict_fatalities", period="month")
    assert not at.exception, [e.message for e in at.exception]
    lines = {t["name"]: t for t in _traces(at) if t.get("name") in ("Mosul", "Aleppo")}
    assert _month_values(lines["Mosul"])["2017-03"] == 1296.0
    assert _month_values(lines["Aleppo"])["2016-11"] == 1160.0
    for line in lines.values():
        assert CITATION in str(line["customdata"][0][4])  # on hover


def test_the_data_download_cites_ucdp(loaded_url):
    out = subprocess.run(
        [sys.executable, "-m", "data_sources", "export", "--format", "csv", "--city", "Mosul",
         "--metric", "conflict_fatalities", "--source", "ucdp"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": loaded_url},
        capture_output=True, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr.decode()
    rows = pd.read_csv(io.BytesIO(out.stdout))
    assert len(rows) > 1000 and rows.citation.str.contains(CITATION).all()
    assert set(rows.licence) == {"CC BY-IGO (HDX); UCDP data CC BY 4.0"}


def test_a_district_is_a_place_to_choose_chart_and_map(app):
    district = "Al-Mosul (district)"  # its name in OCHA's COD p-code list
    at = app("views/trends.py", cities=f"Mosul,{district}", metric="conflict_fatalities")
    assert not at.exception, [e.message for e in at.exception]
    names = {t.get("name") for t in _traces(at)}
    assert {"Mosul", district} <= names  # two places, never one city
    per_capita = app("views/trends.py", cities=f"Mosul,{district}",
                     metric="conflict_fatalities", percapita="1")  # fmt: skip
    assert not per_capita.exception, [e.message for e in per_capita.exception]
    said = " ".join(c.value for c in per_capita.caption).replace("\\", "")  # md escapes
    assert f"No population known for {district}: not shown per 100,000 people." in said
    assert {t.get("name") for t in _traces(per_capita)} & {"Mosul", district} == {"Mosul"}
    overview = app(cities=district)
    captions = " ".join(c.value for c in overview.caption)
    assert "District in Ninewa · seat Mosul" in captions
    shown = app("views/map.py", metric="conflict_fatalities", qualifier="", unit="people",
                month="2016-11")  # fmt: skip
    assert not shown.exception, [e.message for e in shown.exception]
    table = shown.dataframe[0].value
    assert district in set(table.city) and "Mosul" in set(table.city)


def test_the_fetch_log_keeps_the_event_rows_added_up(empty_engine):
    path = ROOT / "tests" / "fixtures" / "ucdp_mosul" / "after" / "conflict_data_irq.csv"
    frame = parse_hxl_csv(path.read_text(encoding="utf-8"), name=path.name)
    result = ingest(empty_engine, frame, source="ucdp_mosul", target=str(path))
    assert result.rows_added_up > 0
    with empty_engine.connect() as conn:
        logged = conn.execute(
            sa.select(fetch_log.c.rows_added_up).where(fetch_log.c.fetch_id == result.fetch_id)
        ).scalar_one()
    assert logged == result.rows_added_up
