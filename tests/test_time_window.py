"""A time window on Trends (`from=`, `to=` as `YYYY-MM`, bound to the link, quick choices):
late 2016 is not a thin spike at the right edge of 1990–2020. The page and its image draw the
same window; the figures kept are the store's of those months (read here with pandas)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from data_sources.store import query
from data_sources.store.engine import make_engine
from tests.apptest import open_page
from tests.test_app import traces
from views.logic import figure_for
from views.logic import trends as logic

MOSUL = "geonames:99072"
DEATHS = {
    "cities": "Mosul",
    "metric": "Conflict fatalities",
    "qualifier": "(total)",
    "unit": "people",
}
WINDOW = {"from": "2016-10", "to": "2017-07"}  # the battle for Mosul


def _ucdp_months(engine) -> pd.Series:
    """UCDP's best estimates for Mosul summed per month, from the store's rows."""
    rows = query.series_frame(engine, [MOSUL], "conflict_fatalities", unit="people")
    rows = rows[(rows.qualifier == "") & (rows.estimate == "best") & (rows.origin == "ucdp")]
    month = pd.to_datetime(rows.period_end).dt.to_period("M")
    return rows.groupby(month).value.sum()


def test_the_window_keeps_the_months_asked_for_and_their_figures(loaded_url):
    engine = make_engine(loaded_url)
    view = figure_for.view_for("trends", {k: [v] for k, v in {**DEATHS, **WINDOW}.items()}, engine)
    line = view.figure.data[0]  # Mosul: UCDP alone reports conflict deaths by month
    x = pd.to_datetime(pd.Series(line.x)).dt.to_period("M")
    y = np.array(line.y, dtype=float)
    drawn = pd.Series(y, index=x)[~np.isnan(y)]
    assert drawn.index.min() >= pd.Period("2016-10") and drawn.index.max() <= pd.Period("2017-07")
    stored = _ucdp_months(engine)
    stored = stored[(stored.index >= pd.Period("2016-10")) & (stored.index <= pd.Period("2017-07"))]
    assert drawn.to_dict() == stored.to_dict()
    assert "Oct 2016 – Jul 2017" in view.title
    assert view.params["from"] == ["2016-10"] and view.params["to"] == ["2017-07"]
    # the whole span is the default: the earliest month is the series' first
    whole = figure_for.view_for("trends", {k: [v] for k, v in DEATHS.items()}, engine)
    months = logic.months_of(query.series_frame(engine, [MOSUL], "conflict_fatalities"))
    assert whole.params["from"] == [min(months)] and "–" not in whole.title.split("monthly")[-1]


def test_from_after_to_is_swapped_and_an_unknown_month_refused(loaded_url):
    engine = make_engine(loaded_url)
    swapped = figure_for.view_for(
        "trends",
        {k: [v] for k, v in {**DEATHS, "from": "2017-07", "to": "2016-10"}.items()},
        engine,
    )
    assert swapped.params["from"] == ["2016-10"] and swapped.params["to"] == ["2017-07"]
    with pytest.raises(figure_for.LinkError):
        figure_for.view_for(
            "trends", {k: [v] for k, v in {**DEATHS, "from": "2099-01"}.items()}, engine
        )


def test_the_page_draws_the_linked_window_and_a_quick_choice_moves_it(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = open_page("views/trends.py", **DEATHS, **WINDOW)
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="from").value == "2016-10" and at.selectbox(key="to").value == "2017-07"
    for trace in traces(at)[0]:
        ends = pd.to_datetime(pd.Series(trace["x"])).dt.to_period("M")
        assert ends.min() >= pd.Period("2016-10") and ends.max() <= pd.Period("2017-07")
    at.button(key="w_last 12 months").click().run()
    months = logic.months_of(
        query.series_frame(make_engine(loaded_url), [MOSUL], "conflict_fatalities", unit="people")
    )
    assert at.selectbox(key="from").value == months[-12]
    assert at.selectbox(key="to").value == months[-1]
    assert at.query_params["from"] in (months[-12], [months[-12]])  # the link follows


def test_quick_windows_and_the_window_text():
    months = [str(m) for m in pd.period_range("2015-01", "2017-06", freq="M")]
    assert logic.quick_window(months, "all") == ("2015-01", "2017-06")
    assert logic.quick_window(months, "last 12 months") == ("2016-07", "2017-06")
    assert logic.quick_window(months[:5], "last 3 years") == ("2015-01", "2015-05")
    assert logic.window_text(("2016-10", "2017-07"), months) == "Oct 2016 – Jul 2017"
    assert logic.window_text(("2015-01", "2017-06"), months) is None
    assert logic.window_text(("2016-10", "2016-10"), months) == "Oct 2016"


def test_compare_follows_the_window_and_its_picture_draws_the_same(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    link = {"cities": "Mosul", "place": "Mosul", "metric": "Civilians killed", **WINDOW}
    at = open_page("views/compare.py", **link)
    assert not at.exception
    figures = next(df.value for df in at.dataframe if "estimate" in df.value.columns)
    ends = pd.to_datetime(figures.period_end)
    assert len(figures) > 0
    assert (ends >= "2016-10-01").all() and (ends <= "2017-07-31").all()
    every = query.series_frame(make_engine(loaded_url), [MOSUL], "civilians_killed")
    every_ends = pd.to_datetime(every.period_end)
    assert len(figures) == int(((every_ends >= "2016-10-01") & (every_ends <= "2017-07-31")).sum())
    assert len(figures) < len(every)  # the window left figures out
    view = figure_for.view_for(
        "compare", {k: [v] for k, v in link.items()}, make_engine(loaded_url)
    )
    assert view.figure.layout.title.text.endswith("every source, Oct 2016 – Jul 2017")
    drawn = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert drawn["layout"]["title"]["text"] == view.figure.layout.title.text


def test_a_window_carried_from_another_series_falls_back_to_this_ones_span(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    from tests.conftest import ROOT

    at = open_page("views/trends.py", cities="Aleppo")
    at.selectbox(key="from").set_value("2014-03").run()
    at.switch_page(str(ROOT / "views" / "compare.py")).run()
    assert not at.exception
    chosen = at.selectbox(key="from")
    assert chosen.value == chosen.options[0] and "2014-03" not in chosen.options
    assert not any("not available" in w.value for w in at.warning)
