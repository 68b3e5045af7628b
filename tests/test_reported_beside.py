"""Reported figures beside the feed's lines on Trends: UCDP's monthly civilian deaths in Mosul
and the Associated Press's count for the whole battle stand on one chart, each reported figure
a marker over its span, as published. Expected values are read from the bundled
`reported_figures.csv` with pandas, not from the code under test."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from data_sources.store.engine import make_engine
from tests.apptest import open_page
from views import charts
from views.logic import figure_for
from views.logic import trends as logic

REPORTED = Path(__file__).parents[1] / "data_sources" / "snapshot" / "reported_figures.csv"
MOSUL_KILLED = {
    "cities": "Mosul",
    "metric": "Civilians killed",
    "qualifier": "(total)",
    "unit": "people",
    "from": "2016-10",
    "to": "2017-07",
}


def _raw() -> pd.DataFrame:
    raw = pd.read_csv(REPORTED, dtype=str, keep_default_na=False)
    raw["value"] = raw["value"].astype(float)
    return raw[(raw.place == "Mosul") & (raw.metric == "civilians_killed")]


def _view(link: dict, url: str) -> figure_for.LinkedView:
    return figure_for.view_for("trends", {k: [v] for k, v in link.items()}, make_engine(url))


def _reported_traces(figure) -> list:
    return [t for t in figure.data if " · reported: " in (t.legendgroup or "")]


def test_every_reported_figure_of_the_metric_stands_beside_the_line_as_published(loaded_url):
    raw = _raw()
    raw = raw[raw.period_end.between("2016-10-01", "2017-07-31")]
    # one figure per breakdown, source and span; its drawn value is the best, else the
    # reported figure, else the low end (AP's 9,000 of "9,000 to 11,000")
    expected = {}
    for (qualifier, origin, start, end), rows in raw.groupby(
        ["qualifier", "original_source", "period_start", "period_end"]
    ):
        by = dict(zip(rows.estimate, rows.value, strict=True))
        value = by.get("best", by.get("reported", by.get("low", by.get("high"))))
        expected[(qualifier, origin, start, end)] = value
    assert expected[("in the battle for Mosul, all parties", "Associated Press",
                     "2016-10-17", "2017-07-09")] == 9000  # fmt: skip

    off = _view(MOSUL_KILLED, loaded_url)
    assert not _reported_traces(off.figure)  # off unless asked for
    view = _view({**MOSUL_KILLED, "reports": "true"}, loaded_url)
    drawn = {}
    for trace in _reported_traces(view.figure):
        for name, y in zip(trace.customdata[:, 0], trace.y, strict=True):
            if y is not None and not np.isnan(y):
                drawn.setdefault(name, []).append(float(y))
    got = {}
    for (qualifier, origin, _start, _end), value in expected.items():
        name = f"Mosul · reported: {qualifier} ({origin})"
        assert name in drawn, name
        got.setdefault(name, []).append(value)
    # never added across breakdowns: AP's two counts are two markers, 9,000 and 3,200
    assert {n: sorted(v) for n, v in drawn.items()} == {n: sorted(v) for n, v in got.items()}
    assert 12200.0 not in sum(drawn.values(), [])
    # the UCDP line is still there, unchanged by what stands beside it
    line = [t for t in view.figure.data if t.name == "Mosul"]
    assert line and list(line[0].y) == list([t for t in off.figure.data if t.name == "Mosul"][0].y)


def test_a_figure_over_a_span_is_drawn_over_its_span(loaded_url):
    view = _view({**MOSUL_KILLED, "reports": "true"}, loaded_url)
    name = "Mosul · reported: in the battle for Mosul, all parties (Associated Press)"
    marker = [t for t in view.figure.data if t.legendgroup == name and t.mode == "markers"][0]
    spans = [
        shape
        for shape in view.figure.layout.shapes
        if shape.yref == "y" and shape.line.color == marker.marker.color and shape.y0 == 9000.0
    ]
    assert len(spans) == 1
    assert (str(spans[0].x0)[:10], str(spans[0].x1)[:10]) == ("2016-10-17", "2017-07-09")
    assert spans[0].y1 == 9000.0
    # its hover gives the range AP gave
    assert "9,000" in marker.customdata[0][5] and "11,000" in marker.customdata[0][5]


def test_cumulative_runs_the_line_but_keeps_each_report_as_published(loaded_url):
    view = _view({**MOSUL_KILLED, "reports": "true", "cumulative": "true"}, loaded_url)
    ap = [
        t
        for t in view.figure.data
        if t.mode == "markers" and "all parties" in (t.legendgroup or "")
    ][0]
    assert list(ap.y) == [9000.0]
    line = [t for t in view.figure.data if t.name == "Mosul"][0]
    ys = [v for v in line.y if v is not None and not np.isnan(v)]
    assert ys == sorted(ys)  # the running total only grows


def test_the_download_names_each_reported_figure_by_its_breakdown(loaded_url):
    series = _series(loaded_url)
    view = _trend(
        series["line"], series["reported"], "civilians_killed", "", "month", ("2016-10", "2017-07")
    )
    table = pd.read_csv(io.BytesIO(view.csv), keep_default_na=False)
    assert view.file_name.endswith("_with-reported.csv")
    raw = _raw()
    ap = table[table.breakdown == "in the battle for Mosul, all parties"]
    assert ap.value.tolist() == [
        raw[
            (raw.qualifier == "in the battle for Mosul, all parties") & (raw.estimate == "low")
        ].value.iloc[0]
    ]
    assert ap.period_label.tolist() == ["2016-10-17 to 2017-07-09"]
    # the UCDP line's rows keep the chosen breakdown (the total), not a reported one
    assert set(table[table.line == "Mosul"].breakdown) == {""}
    assert set(table.breakdown) - {""} == set(
        raw[raw.period_end.between("2016-10-01", "2017-07-31")].qualifier
    )


def _trend(line, reported, metric, qualifier, period, window) -> logic.TrendView:
    """Mosul's Trends view in people, with the reported figures beside it asked for."""
    return logic.trend_view(
        line,
        metric=metric,
        qualifier=qualifier,
        unit="people",
        period=period,
        cumulative=False,
        per_capita=False,
        site=None,
        source=None,
        population={},
        every=None,
        reported=reported,
        window=window,
        beside=True,
    )


def _series(url: str) -> dict[str, pd.DataFrame]:
    from data_sources.store import query

    engine = make_engine(url)
    mosul = ["geonames:99072"]
    return {
        "line": query.series_frame(engine, mosul, "civilians_killed", qualifier="", unit="people"),
        "reported": query.series_frame(engine, mosul, sources=["reported"]),
    }


def test_long_legend_names_go_under_the_plot():
    points = pd.DataFrame(
        {
            "line": ["Mosul", "Mosul · reported: in the battle for Mosul, all parties (AP)"],
            "city": ["Mosul", "Mosul"],
            "period": pd.to_datetime(["2016-11-30", "2017-07-09"]),
            "period_start": pd.to_datetime(["2016-11-01", "2016-10-17"]),
            "period_label": ["Nov 2016", "2016-10-17 to 2017-07-09"],
            "value": [10.0, 9000.0],
            "source": ["ucdp", "AP"],
            "citation": ["c", "c"],
            "spans": [False, True],
        }
    )
    fig = charts.trend_figure(points, metric="civilians_killed", unit="people", color="line")
    assert fig.layout.legend.orientation == "h"
    short = charts.trend_figure(points.iloc[:1], metric="civilians_killed", unit="people",
                                color="line")  # fmt: skip
    assert short.layout.legend.orientation is None


def test_the_page_offers_the_toggle_with_its_count(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    raw = _raw()
    at = open_page("views/trends.py", **{k: v for k, v in MOSUL_KILLED.items()})
    toggle = [t for t in at.toggle if t.label.startswith("Reported figures beside")]
    count = raw.drop_duplicates(["qualifier", "original_source", "period_start", "period_end"])
    assert toggle and toggle[0].label == f"Reported figures beside ({len(count)})"
    assert toggle[0].value is False
    assert not _names(at)
    toggle[0].set_value(True).run()
    assert not at.exception
    assert "Mosul · reported: in the battle for Mosul, all parties (Associated Press)" in _names(at)
    # a link with the toggle on opens with it on
    linked = open_page("views/trends.py", **MOSUL_KILLED, reports="true")
    assert _names(linked) == _names(at)


def _names(at) -> set[str]:
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    return {t.get("legendgroup") for t in traces if " · reported: " in t.get("legendgroup", "")}


EACH = {
    "cities": "Mosul",
    "metric": "Conflict fatalities",
    "qualifier": "(each: one line per breakdown)",
    "period": "year",
    "from": "2014-01",
    "to": "2017-12",
}


def test_each_breakdown_is_its_own_line_equal_to_that_breakdown_alone(loaded_url):
    view = _view(EACH, loaded_url)
    lines = {t.name: _by_year(t) for t in view.figure.data if t.mode == "lines+markers"}
    breakdowns = ["(total)", "non-state conflict", "one-sided violence", "state-based conflict"]
    assert sorted(lines) == [f"Mosul · {b}" for b in breakdowns]
    for breakdown in breakdowns:
        # alone over its own span (a breakdown may end before the window does)
        whole = {k: v for k, v in EACH.items() if k not in ("from", "to")}
        alone = _by_year(_view({**whole, "qualifier": breakdown}, loaded_url).figure.data[0])
        alone = {y: v for y, v in alone.items() if 2014 <= y <= 2017}
        assert lines[f"Mosul · {breakdown}"] == alone, breakdown
    assert view.title.startswith("Mosul — Conflict fatalities by breakdown")
    assert view.params["qualifier"] == ["(each: one line per breakdown)"]


def _by_year(trace) -> dict[int, float]:
    return {
        pd.Timestamp(x).year: float(y)
        for x, y in zip(trace.x, trace.y, strict=True)
        if y is not None and not np.isnan(y)
    }


def test_each_breakdown_download_says_which_breakdown_each_row_is(loaded_url):
    series = _series(loaded_url)
    from data_sources.store import query

    every = query.series_frame(make_engine(loaded_url), ["geonames:99072"], "conflict_fatalities")
    # asked for reported figures beside, but there are none: every breakdown is a line already
    view = _trend(
        every,
        series["reported"],
        "conflict_fatalities",
        logic.EACH_BREAKDOWN,
        "year",
        ("2014-01", "2017-12"),
    )
    table = pd.read_csv(io.BytesIO(view.csv), keep_default_na=False, dtype={"period_label": str})
    assert set(table.breakdown) == {
        "",
        "non-state conflict",
        "one-sided violence",
        "state-based conflict",
    }
    assert "\x1f" not in view.csv.decode() and "each" not in set(table.breakdown)
    assert view.file_name == "trend_mosul_by-breakdown_people_year.csv"
    # the total is UCDP's own; its year equals the raw events' best estimates summed per type
    total = table[(table.breakdown == "") & (table.period_label == "2016")].value.iloc[0]
    parts = table[(table.breakdown != "") & (table.period_label == "2016")].value.sum()
    assert total == parts


def test_the_page_offers_each_breakdown(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = open_page("views/trends.py", **EACH)
    assert not at.exception
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert {t["name"] for t in traces} == {
        "Mosul · (total)",
        "Mosul · non-state conflict",
        "Mosul · one-sided violence",
        "Mosul · state-based conflict",
    }
