"""Pure figure and export builders: what the chart and the downloads contain."""

import io
import zipfile

import pandas as pd
import pytest

from data_sources.formats import export
from data_sources.model import combine
from views import charts


def frame(rows):
    df = pd.DataFrame(
        rows, columns=["city", "period_start", "period_end", "value", "origin", "citation"]
    )
    df["period_start"] = pd.to_datetime(df["period_start"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    return df


def test_flows_add_up_and_accumulate():
    df = frame(
        [
            ["Mosul", "2017-01-02", "2017-01-08", 10, "a", ""],
            ["Mosul", "2017-01-09", "2017-01-15", 5, "a", ""],
            ["Mosul", "2017-02-01", "2017-02-07", 7, "a", ""],
        ]
    )
    monthly = combine.aggregate(df, "civilians_killed", "month")
    assert monthly.value.tolist() == [15, 7]
    assert monthly.period_label.tolist() == ["Jan 2017", "Feb 2017"]
    cumulative = combine.aggregate(df, "civilians_killed", "month", cumulative=True)
    assert cumulative.value.tolist() == [15, 22]


def test_stocks_take_the_last_count_and_prices_average():
    df = frame(
        [
            ["Mosul", "2017-01-08", "2017-01-08", 135500, "ocha", ""],
            ["Mosul", "2017-01-20", "2017-01-20", 140000, "ocha", ""],
        ]
    )
    assert combine.aggregate(df, "idps", "month").value.tolist() == [140000]
    assert combine.aggregate(df, "food_price", "month").value.tolist() == [137750]


def test_a_figure_spanning_many_periods_is_kept_whole():
    df = frame(
        [
            ["Mosul", "2016-10-17", "2017-06-11", 854327, "ocha", "sitrep 37"],
            ["Mosul", "2017-06-01", "2017-06-07", 100, "x", ""],
        ]
    )
    out = combine.aggregate(df, "displaced_new", "month", cumulative=True)
    whole = out[out.spans]
    assert whole.value.tolist() == [854327]
    assert whole.period_label.tolist() == ["2016-10-17 to 2017-06-11"]
    assert out[~out.spans].value.tolist() == [100]


def test_weeks_end_on_sunday_years_hold_their_figures_and_citations_are_kept():
    df = frame(
        [
            ["Aleppo", "2016-12-04", "2016-12-04", 3500, "wfp", ""],  # a Sunday
            ["Aleppo", "2016-12-05", "2016-12-05", 3000, "wfp", "WFP VAM"],  # the next Monday
            ["Aleppo", "2017-01-02", "2017-01-02", 400, "wfp", "WFP VAM"],
        ]
    )
    weekly = combine.aggregate(df, "food_price", "week")
    assert weekly.period_label.tolist() == [
        "week ending 2016-12-04",
        "week ending 2016-12-11",
        "week ending 2017-01-08",
    ]
    yearly = combine.aggregate(df, "food_price", "year")
    assert yearly.period_label.tolist() == ["2016", "2017"]
    assert yearly.value.tolist() == [3250, 400]
    assert yearly.figures.tolist() == [2, 1]
    assert yearly.citation.tolist() == ["WFP VAM", "WFP VAM"]  # the first one given


def test_figures_of_different_sources_are_never_added():
    """(Was: one point of 30 named "ICRC, OCHA", the sum of two sources.)"""
    df = frame(
        [
            ["Homs", "2017-03-01", "2017-03-01", 10, "OCHA", ""],
            ["Homs", "2017-03-15", "2017-03-15", 20, "ICRC", ""],
            ["Homs", "2017-04-01", "2017-04-01", 30, "OCHA", ""],
        ]
    )
    out = combine.aggregate(df, "civilians_killed", "month")
    assert out.source.tolist() == ["ICRC", "OCHA", "OCHA"]
    assert out.value.tolist() == [20, 10, 30]
    per_source = combine.aggregate(df, "civilians_killed", "month", by=("city", "origin"))
    assert per_source[["origin", "value"]].values.tolist() == [
        ["ICRC", 20],
        ["OCHA", 10],
        ["OCHA", 30],
    ]


def test_per_capita_uses_the_named_denominator():
    agg = pd.DataFrame({"city": ["Aleppo", "Nowhere"], "value": [2098.21, 5]})
    out = combine.per_capita(agg, {"Aleppo": 2_098_210})
    assert out.city.tolist() == ["Aleppo"]
    assert out.value.tolist() == pytest.approx([100.0])


def test_disagreements_put_sources_side_by_side():
    df = frame(
        [
            ["r", "2014-08-08", "2016-12-16", 2013, "Airwars", ""],
            ["r", "2014-08-08", "2016-12-16", 173, "US Department of Defense", ""],
        ]
    )
    df["estimate"] = ["low", "reported"]
    df["qualifier"] = "coalition airstrikes in Iraq and Syria"
    table = combine.disagreements(df)
    assert table[["lowest", "highest"]].values.tolist() == [[173, 2013]]
    assert table.ratio.item() == pytest.approx(2013 / 173)
    assert "Airwars (low): 2,013" in table.figures.item()
    assert table.scope.item() == "coalition airstrikes in Iraq and Syria"


def test_figures_of_different_scope_get_no_ratio():
    """AP's 9,000–11,000 civilians killed in the battle for Mosul (all parties, nine months)
    against the 326 the coalition acknowledged: two different counts, not a 33.7× gap."""
    df = frame(
        [
            ["Mosul", "2016-10-17", "2017-07-20", 9000, "Associated Press", ""],
            ["Mosul", "2016-10-17", "2017-07-20", 11000, "Associated Press", ""],
            ["Mosul", "2016-10-17", "2017-07-20", 326, "US-led coalition", ""],
        ]
    )
    df["estimate"] = ["low", "high", "reported"]
    df["qualifier"] = ["in the battle for Mosul, all parties"] * 2 + [
        "in the battle for Mosul, acknowledged by the coalition"
    ]
    table = combine.disagreements(df)
    row = table.iloc[0]
    assert row.scope.startswith("not comparable: in the battle for Mosul, all parties")
    assert "acknowledged by the coalition" in row.scope
    assert pd.isna(row.ratio) and pd.isna(row.spread)
    assert (row.lowest, row.highest) == (326, 11000)  # both figures still side by side


def test_trend_figure_draws_one_trace_per_city():
    df = frame(
        [
            ["Aleppo", "2016-01-01", "2016-01-31", 165, "wfp", ""],
            ["Homs", "2016-01-01", "2016-01-31", 140, "wfp", ""],
        ]
    )
    agg = combine.aggregate(df, "food_price", "month")
    fig = charts.trend_figure(agg, metric="food_price", unit="SYP/KG")
    assert [t.name for t in fig.data] == ["Aleppo", "Homs"]
    assert [list(t.y) for t in fig.data] == [[165], [140]]


def test_format_value():
    assert [charts.format_value(v) for v in (135500, 0.75, 2.5, 1850.0)] == [
        "135,500",
        "0.75",
        "2.5",
        "1,850",
    ]


def test_exports_csv_hxl_and_zip(loaded_engine):
    from data_sources.store import query

    df = query.series_frame(loaded_engine, ["region:iraq-and-syria"], "civilians_killed")
    plain = pd.read_csv(io.BytesIO(export.to_csv(df)))
    assert sorted(plain.value.tolist()) == [173, 2013]
    hxl_lines = export.to_hxl_csv(df).decode().splitlines()
    assert hxl_lines[1].startswith("#loc+name,#country+code,#indicator+code")
    archive = zipfile.ZipFile(io.BytesIO(export.to_zip(df, {"reported": "quoted"})))
    assert sorted(archive.namelist()) == ["README.md", "figures.csv", "figures_hxl.csv"]
    assert "Airwars" in archive.read("README.md").decode()


def test_trend_keeps_one_estimate_per_source_and_period():
    from data_sources.model.combine import one_estimate

    day = pd.Timestamp("2017-07-09")
    rows = pd.DataFrame(
        {
            "origin": ["AP", "AP", "Amnesty", "UCDP", "UCDP", "UCDP"],
            "estimate": ["low", "high", "reported", "best", "low", "high"],
            "qualifier": [""] * 6,
            "site": [""] * 6,
            "period_start": [day] * 6,
            "period_end": [day] * 6,
            "value": [9000.0, 11000.0, 5805.0, 10.0, 8.0, 14.0],
        }
    )
    kept = one_estimate(rows)
    assert sorted(zip(kept.origin, kept.estimate, kept.value, strict=True)) == [
        ("AP", "low", 9000.0),  # "at least 9,000", never 9,000 + 11,000
        ("Amnesty", "reported", 5805.0),
        ("UCDP", "best", 10.0),
    ]


def test_a_single_figure_gets_a_readable_time_axis():
    day = pd.Timestamp("2016-12-31")
    agg = pd.DataFrame({"city": ["Mosul"], "period": [day], "period_label": ["Dec 2016"],
                        "value": [40.0], "figures": [1], "source": ["reported"],
                        "citation": [""], "spans": [False], "period_start": [day]})  # fmt: skip
    fig = charts.trend_figure(agg, metric="civilians_killed", unit="people")
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert (high - low).days == 90 and low < day < high


def test_events_close_together_share_a_marker_and_the_title_leaves_room_for_them():
    agg = combine.aggregate(
        frame(
            [
                ["Aleppo", "2014-01-01", "2014-01-31", 90, "wfp", ""],
                ["Aleppo", "2018-12-01", "2018-12-31", 240, "wfp", ""],
            ]
        ),
        "food_price",
        "month",
    )
    events = pd.DataFrame(
        {
            "date": pd.to_datetime(["2016-12-16", "2017-06-11", "2016-11-30", "2016-12-16"]),
            "label": ["displaced 100,000", "displaced 854,327", "killed 98", "idps 68,550"],
        }
    )
    fig = charts.trend_figure(agg, metric="food_price", unit="SYP/KG", subtitle="s", events=events)
    notes = {a.text: a.hovertext for a in fig.layout.annotations}
    # 30 Nov and 16 Dec 2016 are two weeks apart on a five-year axis: one marker; June 2017 apart
    assert notes == {
        "<b>1·3·4</b>": "1: displaced 100,000<br>3: killed 98<br>4: idps 68,550",
        "<b>2</b>": "2: displaced 854,327",
    }
    rows = {a.text: a.y for a in fig.layout.annotations}
    # June 2017 is within the first label's width on a phone: its label goes a row up
    assert rows["<b>2</b>"] > rows["<b>1·3·4</b>"]
    assert len(fig.layout.shapes) == 3  # one line per distinct day
    # the title leaves room for both rows of labels
    assert fig.layout.title.yref == "container" and fig.layout.margin.t == 100 + 24
