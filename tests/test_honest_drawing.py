"""Honest drawing on Trends: a line stops where a market has no figure (Al-Cha'ar's bread,
Oct 2016 → Feb 2017, is no steady fall through the end of the siege); a point sits on its
period (2016's yearly figure mid-2016, not on the "Jan 2017" tick); hovers print numbers as
the page does (11,000, never 1.1e+4). Checked against the store's own months, read with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_sources.store import query
from data_sources.store.engine import make_engine
from views import charts
from views.logic import figure_for

ALEPPO = "geonames:170063"
BREAD = {
    "cities": "Aleppo",
    "metric": "Food price",
    "qualifier": "Bread (bakery), retail",
    "unit": "SYP/1.1 KG",
    "market": "Al-Cha'ar",
}


def _view(link: dict, url: str) -> figure_for.LinkedView:
    return figure_for.view_for("trends", {k: [v] for k, v in link.items()}, make_engine(url))


def _runs(months: pd.PeriodIndex) -> int:
    """How many runs of missing months lie between the first and the last month."""
    ordinals = np.array([m.ordinal for m in months])
    return int((np.diff(ordinals) > 1).sum())


def test_a_line_stops_where_a_market_has_no_figure(loaded_url):
    stored = query.series_frame(
        make_engine(loaded_url),
        [ALEPPO],
        "food_price",
        qualifier=BREAD["qualifier"],
        site=BREAD["market"],
        unit=BREAD["unit"],
    )
    months = pd.PeriodIndex(
        pd.to_datetime(stored.period_end).dt.to_period("M").unique()
    ).sort_values()
    assert pd.Period("2016-10") in months and pd.Period("2017-02") in months
    assert pd.Period("2016-11") not in months and pd.Period("2016-12") not in months
    line = _view(BREAD, loaded_url).figure.data[0]
    y = np.array(line.y, dtype=float)
    assert line.connectgaps is False
    assert np.isnan(y).sum() == _runs(months) > 0  # one break per run of missing months
    assert (~np.isnan(y)).sum() == len(months)  # every stored month drawn, once
    x = pd.to_datetime(pd.Series(line.x))
    # the break lies between October 2016 and February 2017
    oct_, feb = (
        x[x.dt.to_period("M") == "2016-10"].index[0],
        x[x.dt.to_period("M") == "2017-02"].index[0],
    )
    assert np.isnan(y[oct_ + 1 : feb]).all() and feb - oct_ == 2


def test_a_point_sits_on_its_period(loaded_url):
    monthly = _view(BREAD, loaded_url).figure.data[0]
    x = pd.to_datetime(pd.Series(monthly.x)).dropna()
    assert (x.dt.day.between(14, 16)).all()  # mid-month, not the month's last day
    yearly = _view({**BREAD, "period": "year"}, loaded_url).figure.data[0]
    for when, value in zip(pd.to_datetime(pd.Series(yearly.x)), yearly.y, strict=True):
        if not np.isnan(value):
            assert (when.month, when.day) in ((7, 1), (7, 2)), when  # mid-year, in its year


def test_hovers_print_numbers_as_the_page_does():
    assert list(charts.formatted([11_000, 1_234_567.0, 0.5, 238.4])) == [
        "11,000",
        "1,234,567",
        "0.5",
        "238",
    ]
    agg = pd.DataFrame(
        {
            "city": ["Mosul", "Mosul"],
            "period": pd.to_datetime(["2017-06-30", "2017-07-31"]),
            "period_label": ["Jun 2017", "Jul 2017"],
            "value": [9_000.0, 11_000.0],
            "figures": [1, 1],
            "source": ["AP", "AP"],
            "citation": ["", ""],
            "spans": [False, False],
        }
    )
    fig = charts.trend_figure(agg, metric="civilians_killed", unit="people", period="month")
    assert "%{y" not in fig.data[0].hovertemplate
    assert [row[6] for row in fig.data[0].customdata] == ["9,000", "11,000"]


@pytest.mark.parametrize("period", ["week", "month", "year"])
def test_with_gaps_adds_one_blank_per_run(period):
    freq = {"week": "W", "month": "M", "year": "Y"}[period]
    ends = pd.period_range("2016-01-01", periods=10, freq=freq).end_time.normalize()
    kept = ends[[0, 1, 4, 5, 6, 9]]
    points = pd.DataFrame({"period": kept, "value": np.arange(6.0), "spans": False})
    out = charts.with_gaps(points, period)
    assert len(out) == 8 and out["value"].isna().sum() == 2
    assert list(out["value"].isna()) == [False, False, True, False, False, False, True, False]
    assert out["period"].is_monotonic_increasing


def test_the_trends_download_says_what_it_holds_and_is_named_for_it(loaded_url):
    """The CSV keeps what the chart showed (metric, commodity, market, unit: the currency is
    in the unit), and two views' files never share a name (every food price was
    `trend_food_price.csv`)."""
    import io

    from views.logic import trends

    engine = make_engine(loaded_url)

    def view(site: str | None, unit: str):
        data = query.series_frame(
            engine, [ALEPPO], "food_price", qualifier=BREAD["qualifier"], site=site, unit=unit
        )
        return trends.trend_view(
            data,
            metric="food_price",
            qualifier=BREAD["qualifier"],
            unit=unit,
            period="month",
            cumulative=False,
            per_capita=False,
            site=site,
            source=None,
            population={},
            every=None,
            reported=data.iloc[:0],
        )

    one = view("Al-Cha'ar", "SYP/1.1 KG")
    table = pd.read_csv(io.BytesIO(one.csv))
    assert set(table.metric) == {"Food price"} and set(table.breakdown) == {BREAD["qualifier"]}
    assert set(table.market) == {"Al-Cha'ar"} and set(table.unit) == {"SYP/1.1 KG"}
    assert one.file_name == "trend_aleppo_bread-bakery-retail_al-cha-ar_syp-1-1-kg_month.csv"
    every = view(None, "USD/1.1 KG")
    table = pd.read_csv(io.BytesIO(every.csv))
    stored = query.series_frame(
        engine, [ALEPPO], "food_price", qualifier=BREAD["qualifier"], unit="USD/1.1 KG"
    )
    assert set(table.market) == set(stored.site)  # each market's line, named
    assert every.file_name != one.file_name and every.file_name.endswith("_usd-1-1-kg_month.csv")


def _label_extent(note, first, last):
    """The days a label covers on a phone-wide plot, by the rule `event_labels` spaces them."""
    span = pd.Timestamp(last) - pd.Timestamp(first)
    return note.x, note.x + span * ((7 * len(note.text) + 10) / charts.NARROW_PLOT_PX)


def test_a_week_of_events_is_one_label_of_their_numbers():
    first, last = pd.Timestamp("2014-01-01"), pd.Timestamp("2019-01-01")
    days = [pd.Timestamp("2016-12-12") + pd.Timedelta(days=d) for d in (0, 1, 2, 5, 6, 8)]
    labels = charts.event_labels(days, [f"event {i}" for i in range(6)], first, last)
    assert [(n.text, n.row) for n in labels] == [("1–6", 0)]
    assert [number for number, _ in labels[0].items] == [1, 2, 3, 4, 5, 6]


def test_event_labels_never_overlap_on_a_row():
    first, last = pd.Timestamp("2016-01-01"), pd.Timestamp("2017-12-31")
    # a month apart on a two-year axis: closer than a label's width on a phone
    days = [pd.Timestamp("2016-06-01") + pd.DateOffset(months=m) for m in range(6)]
    labels = charts.event_labels(days, [f"e{i}" for i in range(6)], first, last)
    named = sorted(n for note in labels for n, _ in note.items)
    assert named == [1, 2, 3, 4, 5, 6]  # every event is in one label, once
    assert len({note.row for note in labels}) > 1  # neighbours moved up a row
    for row in {note.row for note in labels}:
        extents = sorted(_label_extent(n, first, last) for n in labels if n.row == row)
        for (_, end), (start, _) in zip(extents, extents[1:], strict=False):
            assert end <= start
    far = charts.event_labels(
        [pd.Timestamp("2016-02-01"), pd.Timestamp("2017-11-01")], ["a", "b"], first, last
    )
    assert [(n.text, n.row) for n in far] == [("1", 0), ("2", 0)]


def test_map_bubble_areas_are_proportional_to_the_values():
    values = pd.Series([1000.0, 250.0, 10.0, 0.1])
    sizes = charts.bubble_sizes(values, 1000.0)
    areas = sizes**2
    assert areas[0] / areas[1] == pytest.approx(
        4.0
    )  # a quarter of the value, a quarter of the area
    assert sizes[0] == charts.MAP_BUBBLE
    assert sizes[3] == charts.MIN_BUBBLE  # too small to see: drawn at the floor, still hoverable


def test_map_labels_name_the_largest_and_never_crowd_them():
    points = pd.DataFrame(
        {
            "city": ["Mosul", "Al-Mosul (district)", "Aleppo", "Homs"],
            "value": [521.0, 500.0, 1178.0, 20.0],
            "lat": [36.34, 36.36, 36.20, 34.73],
            "lon": [43.13, 43.15, 37.16, 36.71],
        }
    )
    named = charts.map_labels(points)
    assert named.tolist() == [True, False, True, True]  # the district sits on Mosul's label
    fig = charts.map_figure(
        points, metric_label="Conflict fatalities", unit="people", period_label=""
    )
    assert [t for t in fig.data[0].text if t] == ["Mosul", "Aleppo", "Homs"]


def test_the_map_caption_names_its_largest_bubble():
    from views.logic import map as map_logic

    points = pd.DataFrame({"city": ["Mosul", "Aleppo"], "value": [521.0, 1178.0]})
    text = map_logic.caption(points, "2016-11", "people")
    plain = text.replace("\\", "")  # the caption is Markdown, its punctuation escaped
    assert "proportional to its value (the largest, Aleppo: 1,178 people;" in plain


def test_compare_reads_counts_against_zero_and_prices_as_they_are():
    figures = pd.DataFrame(
        {
            "origin": ["UN OCHA", "NPM"],
            "estimate": ["reported", "reported"],
            "qualifier": ["", ""],
            "site": ["", ""],
            "period_start": pd.to_datetime(["2016-12-12", "2016-12-29"]),
            "period_end": pd.to_datetime(["2016-12-12", "2016-12-29"]),
            "value": [37000.0, 30487.0],
            "unit": ["people", "people"],
            "citation": ["c", "c"],
            "quote": ["", ""],
            "source_url": ["", ""],
        }
    )
    counts = charts.compare_figure(figures, unit="people", title="IDPs", metric="idps")
    assert counts.layout.yaxis.rangemode == "tozero" and counts.layout.yaxis.tickformat == ",~f"
    assert counts.layout.legend.orientation == "h"  # under the plot, not beside it
    prices = charts.compare_figure(figures, unit="SYP/KG", title="Rice", metric="food_price")
    assert prices.layout.yaxis.rangemode is None
