"""As-of views, revision history and the change list (issue 13), on SQLite and PostgreSQL.

The figure: OCHA's count of civilians wounded in Mosul in the week of 5–11 December 2016, 685
(bundled in data_sources/snapshot/reported_figures.csv, row 2), imported from a one-row HXL
sheet under the source `ocha`. Its correction to 700 is SYNTHETIC: no published revision of
this count is bundled; it stands for the corrected weekly count a second import brings.
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_sources import cli
from data_sources.formats import export
from data_sources.store import asof, changes, query
from data_sources.store.engine import make_engine
from tests.apptest import open_page

from .conftest import ROOT

SHEET = "start,end,city,injured\n#date+start,#date+end,#loc+name,#affected+injured\n"
WEEK = "2016-12-05,2016-12-11,Mosul,{}\n"
NEXT_WEEK = "2016-12-12,2016-12-18,Mosul,{}\n"  # SYNTHETIC second row, for withdrawal


def _import(path, rows: str, capsys=None) -> None:
    path.write_text(SHEET + rows)
    assert cli.main(["import", str(path), "--country", "IRQ", "--source", "ocha"]) == 0


def _now_text() -> str:
    """A moment between two imports, as a link spells it."""
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    return asof.format_as_of(moment)


@pytest.fixture
def revised(loaded_url, tmp_path, monkeypatch):
    """The bundled store, then 685 imported, then the correction to 700: (url, a moment
    between the two imports)."""
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    sheet = tmp_path / "ocha_mosul.csv"
    _import(sheet, WEEK.format(685))
    between = _now_text()
    _import(sheet, WEEK.format(700))
    return loaded_url, between


def test_as_of_values_parse_or_say_what_to_write():
    assert asof.parse_as_of("2016-12-16") == datetime(2016, 12, 16, 23, 59, 59, 999999, UTC)
    assert asof.parse_as_of("2016-12-16T09:30:05") == datetime(2016, 12, 16, 9, 30, 5, tzinfo=UTC)
    assert asof.parse_as_of("2016-12-16T11:30:05+02:00") == datetime(
        2016, 12, 16, 9, 30, 5, tzinfo=UTC
    )
    assert asof.parse_as_of("2016-12-16T09:30:05.250000Z").microsecond == 250000
    assert asof.parse_as_of("") is None
    for moment in ("2016-12-16", "2016-12-16T09:30:05", "2016-12-16T09:30:05.000001"):
        assert asof.format_as_of(asof.parse_as_of(moment)) == moment
    for bad in ("yesterday", "2016-13-01", "2016-12-16T25:00", "<script>", "1" * 500, "2016-12"):
        with pytest.raises(asof.AsOfError) as caught:
            asof.parse_as_of(bad)
        message = str(caught.value)
        assert "is not a date or time: use a date such as 2016-12-16" in message
        assert "\n" not in message and len(message) < 200


def _ocha(engine, moment):
    mosul = query.cities(engine)
    ids = mosul[mosul.name == "Mosul"].place_id.tolist()
    return query.series_frame(engine, ids, "civilians_injured", sources=["ocha"], as_of=moment)


def test_a_revision_shows_the_old_value_before_and_the_new_after(revised):
    url, between = revised
    engine = make_engine(url)
    before = asof.parse_as_of(between)
    assert _ocha(engine, before).value.tolist() == [685]
    assert _ocha(engine, None).value.tolist() == [700]
    assert _ocha(engine, datetime.now(UTC)).value.tolist() == [700]
    assert _ocha(engine, asof.parse_as_of("2016-12-16")).empty  # not in the store in 2016
    # the other reads the pages make
    mosul = query.cities(engine).set_index("name").loc["Mosul", "place_id"]
    latest = query.latest(engine, [mosul], before)
    assert latest[latest.source == "ocha"].value.tolist() == [685]
    shown_now = query.count_observations(engine, [mosul], "civilians_injured", "ocha")
    assert shown_now == query.count_observations(
        engine, [mosul], "civilians_injured", "ocha", before
    )
    month = query.map_points(engine, "civilians_injured", "2016-12", as_of=before)
    assert "ocha" in set(month[month.city == "Mosul"].source)  # one row per source
    # the history holds both revisions with their times
    every = query.series_frame(
        engine, [mosul], "civilians_injured", sources=["ocha"], current_only=False
    )
    history = changes.history(every, _ocha(engine, None))
    assert history.value.tolist() == [685, 700]
    assert history.revision.tolist() == [1, 2]
    assert history.shown.tolist() == [False, True]
    assert history.retrieved_at.iloc[0] < pd.Timestamp(before) < history.retrieved_at.iloc[1]
    # the change list: revised, old → new, with the time of the revision
    found = changes.changes(engine, before)
    assert found[
        ["change", "source", "city", "old_value", "new_value", "difference"]
    ].values.tolist() == [["revised", "ocha", "Mosul", 685.0, 700.0, 15.0]]
    assert found.changed_at.iloc[0] == history.retrieved_at.iloc[1].tz_localize(None)
    assert changes.changes(engine, before, before).empty


def test_cli_series_export_and_changes_take_the_moment(revised, capsys):
    url, between = revised
    capsys.readouterr()
    args = ["series", "--city", "Mosul", "--metric", "civilians_injured", "--source", "ocha"]
    assert cli.main([*args, "--as-of", between]) == 0
    old = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert old[["value", "revision"]].values.tolist() == [[685, 1]]
    assert cli.main(args) == 0
    assert pd.read_csv(io.StringIO(capsys.readouterr().out)).value.tolist() == [700]

    for fmt in ("csv", "hxl"):
        assert cli.main(["export", "--format", fmt, "--source", "ocha", "--as-of", between]) == 0
        text = capsys.readouterr().out
        rows = pd.read_csv(io.StringIO(text), skiprows=[1] if fmt == "hxl" else None)
        assert rows.value.tolist() == [685], fmt
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    target = out / f"asof_{url.split(':')[0]}.zip"
    assert cli.main(["export", "--format", "zip", "--source", "ocha", "--as-of", between,
                     "-o", str(target)]) == 0  # fmt: skip
    with zipfile.ZipFile(target) as bundle:
        name = next(n for n in bundle.namelist() if n.endswith(".csv") and "hxl" not in n)
        assert pd.read_csv(bundle.open(name)).value.tolist() == [685]
    assert cli.main(["export", "--source", "ocha"]) == 0
    assert pd.read_csv(io.StringIO(capsys.readouterr().out)).value.tolist() == [700]

    assert cli.main(["changes", "--since", between]) == 0
    captured = capsys.readouterr()
    listed = pd.read_csv(io.StringIO(captured.out))
    assert listed[["change", "old_value", "new_value"]].values.tolist() == [["revised", 685, 700]]
    assert "0 added, 1 revised, 0 withdrawn" in captured.err
    # by default: since the last load, which is the correction
    assert cli.main(["changes"]) == 0
    assert pd.read_csv(io.StringIO(capsys.readouterr().out)).change.tolist() == ["revised"]


@pytest.mark.parametrize("flag", ["--as-of"])
def test_cli_refuses_a_bad_moment_in_one_line(revised, capsys, flag):
    capsys.readouterr()
    code = cli.main(["series", "--city", "Mosul", "--metric", "idps", flag, "next tuesday"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (
        "--as-of: “next tuesday” is not a date or time: use a date such as 2016-12-16 or a UTC "
        "time such as 2016-12-16T09:30:05 (UTC)."
    )
    assert cli.main(["changes", "--since", "2016-12-16", "--until", "2016-12-01"]) == 2
    assert "--until must come after --since" in capsys.readouterr().err


def test_a_complete_reimport_withdraws_what_the_file_no_longer_holds(
    store_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", store_url)
    sheet = tmp_path / "ocha_mosul.csv"
    _import(sheet, WEEK.format(685) + NEXT_WEEK.format(312))
    both = _now_text()
    _import(sheet, WEEK.format(685))  # the second week is gone from the file
    assert "1 figures withdrawn" in capsys.readouterr().out
    gone = _now_text()
    _import(sheet, WEEK.format(685) + NEXT_WEEK.format(312))  # and back
    engine = make_engine(store_url)
    assert _ocha(engine, asof.parse_as_of(both)).value.tolist() == [685, 312]
    assert _ocha(engine, asof.parse_as_of(gone)).value.tolist() == [685]
    assert _ocha(engine, None).value.tolist() == [685, 312]
    withdrawn = changes.changes(engine, asof.parse_as_of(both), asof.parse_as_of(gone))
    assert withdrawn[["change", "period_start", "old_value"]].values.tolist() == [
        ["withdrawn", pd.Timestamp("2016-12-12"), 312.0]
    ]
    assert withdrawn.changed_at.notna().all()
    back = changes.changes(engine, asof.parse_as_of(gone))
    assert back[["change", "new_value", "revision"]].values.tolist() == [["added", 312.0, 2]]
    # over the whole window nothing moved for the second week
    assert changes.changes(engine, asof.parse_as_of(both)).empty


# -- the pages -------------------------------------------------------------------------------


def _y(at: AppTest, name: str = "ocha") -> list:
    import json

    from .test_app import _plain

    values = []
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if name in str(trace.get("name", "")):
                values += [v for v in _plain(trace.get("y", [])) if v is not None]
    return values


def test_every_page_shows_the_figures_held_at_the_moment(revised):
    _url, between = revised
    view = {"cities": "Mosul", "metric": "civilians_injured"}
    trends = open_page("views/trends.py", **view, source="ocha", period="week", as_of=between)
    assert not trends.exception
    assert _y(trends, "Mosul") == [685]
    banner = " ".join(i.value for i in trends.info)
    assert f"As of {between.replace('T', ' ')} UTC" in banner.replace("\\", "")
    assert "1 figure has changed since" in banner
    assert _y(open_page("views/trends.py", **view, source="ocha", period="week"), "Mosul") == [700]

    compare = open_page(
        "views/compare.py", place=_mosul_id(), metric="civilians_injured", as_of=between
    )
    assert 685 in _y(compare) and 700 not in _y(compare)

    data = open_page("views/data.py", source="ocha", as_of=between)
    figures = data.dataframe[0].value
    assert figures.value.tolist() == [685]
    history = data.dataframe[1].value
    assert history.empty  # revised figures only, and the correction was not retrieved yet
    now = open_page("views/data.py", source="ocha", since=between)
    assert now.dataframe[0].value.value.tolist() == [700]
    assert now.dataframe[1].value[["value", "shown"]].values.tolist() == [[685, False], [700, True]]
    listed = now.dataframe[2].value
    assert listed[["change", "old_value", "new_value"]].values.tolist() == [["revised", 685, 700]]

    overview = open_page("views/overview.py", cities="Mosul", as_of=between)
    tables = [df.value for df in overview.dataframe]
    ocha = pd.concat(tables)
    ocha = ocha[(ocha.origin == "ocha") & (ocha.metric == "civilians_injured")]
    assert ocha.value.tolist() == [685]


def _mosul_id() -> str:
    return "geonames:99072"  # GeoNames' Mosul


def test_a_bad_as_of_in_the_link_is_a_message_and_the_latest_figures(revised):
    at = open_page("views/data.py", source="ocha", as_of="<script>alert(1)</script>")
    assert not at.exception
    warned = " ".join(w.value for w in at.warning)
    assert "is not a date or time" in warned and "Showing the latest figures" in warned
    assert "<script>" not in warned
    assert at.dataframe[0].value.value.tolist() == [700]
    assert not [i for i in at.info if "As of" in i.value]


def test_trends_draws_the_first_published_figure_faint_and_counts_revisions(revised):
    import json

    at = open_page(
        "views/trends.py",
        cities="Mosul",
        metric="civilians_injured",
        source="ocha",
        period="week",
        revisions="1",
    )
    assert not at.exception
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    faint = [t for t in traces if "as first published" in t.get("name", "")]
    assert [t["name"] for t in faint] == ["Mosul · as first published"]
    assert _y(at, "as first published") == [685]
    line = next(t for t in traces if t.get("name") == "Mosul")
    assert "2 revisions" in json.dumps(line["customdata"])
    # as of before the correction there is nothing earlier to draw
    before = open_page(
        "views/trends.py",
        cities="Mosul",
        metric="civilians_injured",
        source="ocha",
        period="week",
        revisions="1",
        as_of=revised[1],
    )
    assert _y(before, "as first published") == [] and _y(before, "Mosul") == [685]


def test_the_change_list_download_is_safe_in_a_spreadsheet():
    listed = pd.DataFrame(
        {
            "change": ["revised"],
            "source": ['=HYPERLINK("http://evil.example","x")'],
            "city": ["Mosul"],
            "metric": ["civilians_injured"],
            "qualifier": ["@SUM(A1:A9)"],
            "site": [""],
            "unit": ["people"],
            "estimate": ["best"],
            "period_start": [pd.Timestamp("2016-12-05")],
            "period_end": [pd.Timestamp("2016-12-11")],
            "old_value": [685.0],
            "new_value": [700.0],
            "difference": [15.0],
            "changed_at": [pd.Timestamp("2026-11-25 10:00:00")],
            "revision": [2],
            "source_url": ["https://user:secret@example.org/report?token=abc"],
        }
    )
    text = export.changes_csv(listed).decode()
    row = pd.read_csv(io.StringIO(text), keep_default_na=False).iloc[0]
    assert row.source.startswith("'=HYPERLINK") and row.qualifier == "'@SUM(A1:A9)"
    assert row.difference == 15 and row.old_value == 685  # numbers stay numbers
    assert "secret" not in text and "abc" not in text
    assert row.changed_at == "2026-11-25T10:00:00.000000"


def test_the_map_shows_the_month_as_the_store_held_it(revised):
    _url, between = revised
    view = {"metric": "civilians_injured", "month": "2016-12"}

    def mosul(at: AppTest) -> float:
        assert not at.exception
        table = next(d.value for d in at.dataframe if "figures" in d.value.columns)
        return float(table.set_index("city").loc["Mosul", "value"])

    # two sources give Mosul's figure with no qualifier: the bundled OCHA report (685, source
    # "reported", publisher UN OCHA) and the imported one (685, then 700). One source at a time,
    # never their mean (was: 692.5)
    imported = {**view, "source": "ocha"}
    assert mosul(open_page("views/map.py", **imported, as_of=between)) == 685.0
    assert mosul(open_page("views/map.py", **imported)) == 700.0
    assert mosul(open_page("views/map.py", **view, source="UN OCHA")) == 685.0


def test_badges_as_of_a_moment_count_only_the_loads_ended_by_then(revised):
    url, between = revised
    engine = make_engine(url)
    moment = asof.parse_as_of(between)
    then = query.freshness(engine, moment).set_index("source")
    now = query.freshness(engine).set_index("source")
    assert pd.Timestamp(then.loc["ocha", "last_success"]) < pd.Timestamp(moment).tz_localize(None)
    assert then.loc["ocha", "last_success"] < now.loc["ocha", "last_success"]
    assert then.loc["ocha", "figures"] == now.loc["ocha", "figures"] == 1
    # nothing the store did not hold yet
    assert "ocha" not in query.freshness(engine, asof.parse_as_of("2016-12-16")).source.tolist()
