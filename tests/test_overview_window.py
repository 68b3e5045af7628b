"""The Overview's small charts follow the time window Trends and Compare share (`from=`,
`to=`): the sparklines and the deaths per month keep the window's months, the deadliest month
is the window's, the headline cards stay the latest figures; the deaths CSV is named for its
place, source and months. Expected values come from the whole-span monthly sums, filtered
here with pandas."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from data_sources.store.engine import make_engine
from tests.apptest import open_page
from views.logic import figure_for
from views.logic import overview as logic

MOSUL = "geonames:99072"
ALEPPO = "geonames:170063"
WINDOW = ("2016-10", "2017-07")


@pytest.fixture
def engine(loaded_url):
    return make_engine(loaded_url)


def test_the_deadliest_month_is_the_windows(engine):
    whole = logic.city_view_from_store(engine, MOSUL, None)
    narrow = logic.city_view_from_store(engine, MOSUL, None, window=WINDOW)
    monthly = pd.read_csv(io.BytesIO(whole.deaths[0][2]))
    inside = monthly[monthly.month.between(*WINDOW)]
    assert 0 < len(inside) < len(monthly)
    peak, figure, csv = narrow.deaths[0]
    assert str(peak.month) == inside.loc[inside.best.idxmax(), "month"]
    assert peak.best == f"{inside.best.max():,.0f}"
    assert pd.read_csv(io.BytesIO(csv)).month.tolist() == inside.month.tolist()
    # the chart draws the window's months only (the reports beside them too)
    xs = pd.to_datetime(
        pd.Series(
            [
                x
                for t in figure.data
                for x in (list(t.x) if t.x is not None else [])
                if x is not None
            ]
        )
    )
    assert xs.min() >= pd.Timestamp("2016-10-01") and xs.max() <= pd.Timestamp("2017-07-31")
    assert narrow.window == "Oct 2016 – Jul 2017"
    # the headline cards do not move with the window
    assert [c.value for c in narrow.headlines] == [c.value for c in whole.headlines]


def test_sparklines_keep_the_windows_figures(engine):
    whole = logic.city_view_from_store(engine, ALEPPO, None)
    narrow = logic.city_view_from_store(engine, ALEPPO, None, window=WINDOW)
    assert set(narrow.sparklines) <= set(whole.sparklines) and narrow.sparklines
    for metric, figure in narrow.sparklines.items():
        xs = pd.to_datetime(pd.Series(figure.data[0].x))
        assert xs.max() <= pd.Timestamp("2017-07-31"), metric
        assert xs.min() >= pd.Timestamp("2016-10-01"), metric
        before = pd.to_datetime(pd.Series(whole.sparklines[metric].data[0].x))
        assert len(xs) <= len(before)
    assert whole.months[0] < WINDOW[0] and whole.months[-1] > WINDOW[1]


def test_the_deaths_file_is_named_for_its_place_source_and_months(engine):
    names = set()
    for place_id in (MOSUL, ALEPPO):
        for window in (None, WINDOW):
            view = logic.city_view_from_store(engine, place_id, None, window=window)
            peak = view.deaths[0][0]
            name = logic.deaths_file_name(view.place_name, peak)
            first, last = peak.monthly.month.iloc[0], peak.monthly.month.iloc[-1]
            assert name == (
                f"deaths-per-month_{view.place_name.lower()}_{peak.origin.lower()}"
                f"_{first}_{last}.csv"
            )
            names.add(name)
    assert len(names) == 4  # two places, two windows: four files


def test_the_page_and_its_picture_follow_the_window(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = open_page("views/overview.py", **{"from": WINDOW[0], "to": WINDOW[1]})
    assert not at.exception
    labels = [m.label for m in at.metric if m.label == "Deadliest month"]
    notes = [c.value for c in at.caption if c.value.startswith("Conflict deaths, ")]
    assert len(labels) == len(notes) == 2  # Aleppo, Mosul
    assert all(note.endswith("deadliest of Oct 2016 – Jul 2017") for note in notes)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    deaths = [c for c in charts if c["layout"].get("height", 0) > 150]
    xs = [x for c in deaths for t in c["data"] for x in t.get("x", []) if x]
    assert xs and max(pd.to_datetime(pd.Series(xs))) <= pd.Timestamp("2017-07-31")
    picture = figure_for.view_for(
        "home", {"from": [WINDOW[0]], "to": [WINDOW[1]]}, make_engine(loaded_url)
    )
    assert picture.title.endswith("(charts Oct 2016 – Jul 2017)")
    assert (picture.params["from"], picture.params["to"]) == ([WINDOW[0]], [WINDOW[1]])
    plain = open_page("views/overview.py")
    assert not [c for c in plain.caption if "deadliest of" in c.value]


def test_both_axes_of_the_deaths_chart_start_at_zero_with_their_own_ticks(engine):
    figure = logic.city_view_from_store(engine, MOSUL, None).deaths[0][1]
    assert any(t.yaxis == "y2" for t in figure.data)  # reports beside the bars
    for axis in (figure.layout.yaxis, figure.layout.yaxis2):
        assert axis.rangemode == "tozero" and axis.tickformat == ",~f"
    assert figure.layout.yaxis2.tickmode == "auto"  # not synced to the left axis's grid


MAP_CITIES = {"Aleppo": ALEPPO, "Mosul": MOSUL}


def _their_figures(url: str) -> pd.DataFrame:
    """Every current figure of the default cities, by plain SQL (not the code under test)."""
    return pd.read_sql(
        "select s.place_id, s.metric, s.qualifier, s.unit, o.period_end from observations o "
        "join series s on s.series_id = o.series_id where s.place_id in ('"
        + "','".join(MAP_CITIES.values())
        + "')",
        make_engine(url),
    )


def test_the_map_opens_on_a_metric_and_month_of_the_chosen_cities(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = open_page("views/map.py")
    assert not at.exception
    metric_code, qualifier, unit = (s.value for s in at.selectbox[:3])
    theirs = _their_figures(loaded_url)
    from data_sources.model.metrics import METRICS

    metric = next(m for m in METRICS if m == metric_code)
    mine = theirs[(theirs.metric == metric) & (theirs.qualifier == qualifier)]
    mine = mine[mine.unit == unit]
    assert set(mine.place_id) == set(MAP_CITIES.values())  # both cities on the opening map
    latest = pd.to_datetime(mine.period_end).max().strftime("%Y-%m")
    assert at.select_slider[0].value == latest
    assert metric != "food_price"  # the Syria-only price it used to open on
    picture = figure_for.view_for("map", {}, make_engine(loaded_url))
    assert picture.params["month"] == [latest]
    # a city's own latest month, not the store's
    homs = open_page("views/map.py", cities="Homs")
    shown = [s.value for s in homs.selectbox[:3]]
    ends = pd.read_sql(
        "select o.period_end from observations o join series s on s.series_id = o.series_id "
        "join places p on p.place_id = s.place_id where p.name = 'Homs' and p.kind = 'city' "
        f"and s.metric = '{shown[0]}' and s.qualifier = '{shown[1]}' and s.unit = '{shown[2]}'",
        make_engine(loaded_url),
    )
    assert homs.select_slider[0].value == pd.to_datetime(ends.period_end).max().strftime("%Y-%m")
