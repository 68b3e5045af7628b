"""The pages' logic without Streamlit (`views/logic/`): what a reader sees, from the real
bundled snapshot read through the store's own queries, on SQLite and PostgreSQL."""

import pandas as pd
import pytest

from data_sources.model import combine
from data_sources.store import query
from data_sources.store.engine import make_engine
from views.logic import compare, data, overview, trends
from views.logic import map as map_logic

MOSUL, ALEPPO, HOMS = "geonames:99072", "geonames:170063", "geonames:169577"


@pytest.fixture
def store(loaded_engine):
    return loaded_engine


def cards(engine, place_id: str) -> dict[str, overview.Headline]:
    return {c.label: c for c in overview.headlines(query.latest(engine, [place_id]))}


def test_overview_headlines_values_changes_and_ranges(store):
    mosul = cards(store, MOSUL)
    # OCHA: 135,500 displaced by the Mosul operation on 8 Jan 2017, up from 68,550 on 20 Nov
    idps = mosul["Internally displaced people"]
    assert idps.value == "135,500" and idps.delta == "+66,950 since 20 Nov 2016"
    assert idps.delta_color == "inverse"  # more displaced people is bad news: red arrow
    # AP's "9,000 to 11,000" is shown as the range it is, with no single change
    killed = mosul["Civilians killed"]
    assert (killed.value, killed.delta) == ("9,000–11,000", None)
    assert killed.caption.startswith("09 Jul 2017 · Associated Press")
    # Homs wheat flour fell from 300 to 275 SYP/kg: an ASCII minus turns the arrow down, and a
    # price has no good or bad colour
    price = cards(store, HOMS)["Food price"]
    assert (price.value, price.delta, price.delta_color) == (
        "275 SYP/KG",
        "-25 since 30 Nov 2018",
        "off",
    )


def test_a_price_headline_is_the_median_market_never_the_mean(store):
    """(Was: the mean over the city's markets, 244 SYP/KG, a price no market had.)"""
    latest = query.latest(store, [ALEPPO])
    row = overview.headline_row(latest, "food_price")
    wheat = latest[
        (latest.metric == "food_price")
        & (latest.qualifier == "Wheat flour, retail")
        & (latest.unit == "SYP/KG")
    ]
    newest = wheat[wheat.period_end == wheat.period_end.max()]
    assert len(newest) > 1 and newest.origin.nunique() == 1
    ordered = sorted(newest.value)
    median_low = ordered[(len(ordered) - 1) // 2]
    assert row["value"] == median_low and median_low in set(newest.value)
    assert row["site"].startswith(f"median of {len(newest)} market(s), lowest ")
    card = cards(store, ALEPPO)["Food price"]
    assert card.value == f"{median_low:,.0f} SYP/KG"
    assert f"highest {max(ordered):,.0f}" in card.caption


def test_a_flows_headline_leaves_out_one_days_events(store):
    """UCDP's events are summed per month below the headline, never a day's count on top."""
    latest = query.latest(store, [MOSUL])
    assert (latest[latest.metric == "civilians_killed"].source == "ucdp").any()
    assert overview.headline_row(latest, "civilians_killed")["source"] == "reported"


def test_deadliest_month_is_ucdps_own_monthly_sum(store):
    deaths = query.series_frame(store, [MOSUL], "conflict_fatalities", qualifier="", unit="people")
    (peak,) = overview.deadliest_months(deaths)
    assert (peak.origin, peak.best, str(peak.month)) == ("ucdp", "1,296", "2017-03")
    assert peak.spread == " (low 1,296, high 1,887)"
    assert peak.monthly.best.max() == 1296


def test_country_context_holds_stocks_only(store):
    line = overview.country_context(query.latest(store, ["country:SYR"]), "SYR")
    assert "Internally displaced people in SYR: 5,964,000 (idmc, 2025)" in line
    assert "Conflict fatalities" not in line and "Civilians killed" not in line


def test_sparkline_needs_two_points_and_never_averages_markets():
    one = pd.DataFrame({"period_end": pd.to_datetime(["2016-12-31"]), "value": [3500.0]})
    assert overview.sparkline_points(one, "idps") is None
    two_markets = pd.DataFrame(
        {
            "period_end": pd.to_datetime(["2016-12-31", "2016-12-31", "2017-01-31"]),
            "value": [3500.0, 225.0, 300.0],  # Al-Cha'ar and Moghambo, December 2016 (WFP)
        }
    )
    points = overview.sparkline_points(two_markets, "food_price")
    # the lower middle market, a price a market had (was: 1,862.5, their mean)
    assert points.value.tolist() == [225.0, 300.0]


def test_trend_lines_per_source_per_capita_never_added(store):
    cities = query.cities(store)
    data = combine.one_estimate(
        query.series_frame(
            store, [MOSUL], "idps", qualifier="currently displaced by the Mosul operation"
        )
    )
    chart = trends.trend_chart(
        data,
        metric="idps",
        unit="people",
        period="month",
        cumulative=False,
        per_capita=True,
        site=None,
        population=trends.population(cities),
    )
    # OCHA's 68,550 and IOM's 68,112 in November 2016 are two lines, never 136,662
    lines = dict(
        zip(chart.points.line + " " + chart.points.period_label, chart.points.value, strict=True)
    )
    assert lines["Mosul · UN OCHA Nov 2016"] == pytest.approx(68_550 / 1_683_000 * 100_000)
    assert lines["Mosul · IOM Nov 2016"] == pytest.approx(68_112 / 1_683_000 * 100_000)
    assert chart.unit_label == "people per 100,000"
    assert "denominator: GeoNames population (Mosul 1,683,000;" in chart.subtitle
    assert chart.subtitle.endswith("one line per source, never added up")


def test_trend_cumulative_only_for_flows(store):
    deaths = combine.one_estimate(
        query.series_frame(store, [MOSUL], "conflict_fatalities", qualifier="", unit="people")
    )
    deaths = deaths[deaths.source == "ucdp"]
    kwargs = {"period": "year", "site": None, "cumulative": True}
    running = trends.trend_chart(
        deaths,
        metric="conflict_fatalities",
        unit="people",
        per_capita=False,
        population={},
        **kwargs,
    )
    assert running.subtitle.startswith("people · cumulative")
    assert running.points.value.iloc[-1] == pytest.approx(deaths.value.sum())
    assert running.points.value.is_monotonic_increasing
    prices = combine.one_estimate(
        query.series_frame(
            store, [ALEPPO], "food_price", qualifier="Wheat flour, retail", unit="SYP/KG"
        )
    )
    price = trends.trend_chart(
        prices,
        metric="food_price",
        unit="SYP/KG",
        per_capita=True,
        population={"Aleppo": 2e6},
        **kwargs,
    )
    # a price never adds up nor is divided by residents; markets are never averaged
    assert price.subtitle == "SYP/KG · year · one line per market"
    assert price.unit_label == "SYP/KG"


def test_per_capita_says_which_places_have_no_population():
    assert trends.population_note([]) is None
    assert trends.population_note(["Jabal Saman"]) == (
        "No population known for Jabal Saman: not shown per 100,000 people."
    )


def test_event_markers_are_other_metrics_reports_within_the_span(store):
    reported = query.series_frame(store, [MOSUL, ALEPPO], sources=["reported"])
    data = query.series_frame(
        store, [MOSUL], "displaced_new", qualifier="cumulative since the operation began"
    )
    events = trends.event_markers(reported, "displaced_new", data)
    assert events.label.tolist() == ["Mosul: Civilians killed 5,805 (Amnesty International)"]
    assert trends.events_caption(events) == (
        r"Reported events: **1** 19 Jun 2017 Mosul\: Civilians killed 5\,805 "
        r"\(Amnesty International\)"
    )
    idps = query.series_frame(
        store, [MOSUL], "idps", qualifier="currently displaced by the Mosul operation"
    )
    many = trends.event_markers(reported, "idps", idps)
    assert len(many) == trends.MAX_EVENTS and "idps" not in many.label.str.cat()
    assert trends.events_caption(many[:0]) is None


def test_compare_offers_places_with_two_sources_regions_first(store):
    names = compare.place_names(query.all_places(store))
    multi = set(compare.multi_source(query.catalogue(store)).place_id)
    assert HOMS not in multi  # only WFP gives Homs figures
    options = compare.place_options(multi, names, [HOMS])
    assert options[0].startswith("region:")
    assert MOSUL in options and HOMS in options  # Homs: chosen in the sidebar
    assert all(
        "(district)" in names[p] or "(governorate)" in names[p]
        for p in options
        if p.startswith(("adm1:", "adm2:"))
    )
    data = query.series_frame(store, [options[0]], "civilians_killed")
    table = compare.disagreements(data)
    assert table.ratio.round(1).max() == 11.6  # Airwars' 2,013 against the DoD's 173


def test_map_offers_every_month_and_only_places_with_a_bubble(store):
    cat = map_logic.mappable(query.catalogue(store))
    assert not cat.place_id.str.startswith(("country:", "region:")).any()
    assert map_logic.months((pd.Timestamp("2016-11-03"), pd.Timestamp("2017-02-01"))) == [
        "2016-11",
        "2016-12",
        "2017-01",
        "2017-02",
    ]
    points = pd.DataFrame({"source": ["wfp", "reported"]})  # one source per bubble
    assert map_logic.sources(points) == ["reported", "wfp"]
    assert map_logic.caption(points, "2016-12").startswith("2 places with a figure in 2016-12;")


def test_data_page_lines_and_change_window():
    assert data.match_line(58_821) == (
        "**58,821 figures** match; the first 5,000 are shown, downloads hold all."
    )
    assert data.match_line(12) == "**12 figures** match."
    bad = data.change_window("yesterday-ish", "")
    assert (bad.since, bad.until) == (None, None) and bad.error
    backwards = data.change_window("2017-01-02", "2017-01-01")
    assert backwards.error == "“Until” must come after “Since”\\."
    ok = data.change_window("2016-12-16", "")
    assert ok.error is None and ok.until is None and ok.since.isoformat().startswith("2016-12-16")


def test_the_data_pages_change_list_counts_and_first_rows_come_from_sql(
    loaded_url, tmp_path, monkeypatch
):
    """The page's summary and first rows equal the whole list's, after a snapshot load (every
    figure added) and after a correction and a withdrawal (SYNTHETIC values, as in
    test_asof.py: 685 wounded corrected to 700, and a second week a re-import drops)."""
    from data_sources import cli
    from data_sources.store import asof, changes
    from data_sources.store.engine import make_engine

    engine = make_engine(loaded_url)
    since = changes.last_refresh_start(engine)
    line, first = changes.page(engine, since, None, 50)
    whole = changes.changes(engine, since)
    assert line == changes.summary(whole) and line.endswith("added, 0 revised, 0 withdrawn")
    assert len(first) == 50 and set(first.change) == {"added"}
    keys = [*changes.CHANGE_COLUMNS[1:10]]
    assert (
        len(first[keys].merge(whole[keys].drop_duplicates())) == 50
    )  # every row shown is in the list
    assert first.changed_at.is_monotonic_decreasing

    monkeypatch.setenv("DATABASE_URL", loaded_url)
    sheet = tmp_path / "ocha_mosul.csv"
    head = "start,end,city,injured\n#date+start,#date+end,#loc+name,#affected+injured\n"
    week, next_week = "2016-12-05,2016-12-11,Mosul,{}\n", "2016-12-12,2016-12-18,Mosul,312\n"
    for rows in (week.format(685) + next_week, week.format(700)):
        sheet.write_text(head + rows)
        assert cli.main(["import", str(sheet), "--country", "IRQ", "--source", "ocha"]) == 0
    moment = asof.parse_as_of("2000-01-01")
    since = changes.last_refresh_start(engine)  # the second import: one revised, one withdrawn
    for start in (since, moment):
        line, first = changes.page(engine, start, None, 5)
        whole = changes.changes(engine, start)
        assert line == changes.summary(whole)
        shown = first[["change", "period_start", "old_value", "new_value", "difference"]]
        expected = whole[["change", "period_start", "old_value", "new_value", "difference"]]
        pd.testing.assert_frame_equal(shown, expected.head(5), check_dtype=False)
    line, first = changes.page(engine, since, None, 5)
    assert line == "0 added, 1 revised, 1 withdrawn"
    assert first.change.tolist() == ["revised", "withdrawn"]
    assert first.old_value.tolist() == [685.0, 312.0] and first.new_value.iloc[0] == 700.0
    engine.dispose()


def test_page_logic_runs_without_streamlit():
    """`views/logic/` is importable where Streamlit is not: no module of it imports it. Every
    module of the package is imported (found on disk, not listed here), so a new one is
    checked too."""
    import pkgutil
    import subprocess
    import sys

    import views.logic

    modules = [m.name for m in pkgutil.walk_packages(views.logic.__path__, "views.logic.")]
    assert len(modules) >= 5, modules  # overview, trends, compare, map, data at least
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"Streamlit imported by one of {modules}"


def test_the_data_pages_table_reads_as_words_and_keeps_the_values(loaded_url):
    """Labels for metric and source codes, empty text for missing text, values untouched."""
    from data_sources import sources as registry
    from data_sources.model.metrics import METRICS
    from views.logic import data as data_logic

    engine = make_engine(loaded_url)
    figures = query.series_frame(engine, ["geonames:99072"], limit=400)
    shown = data_logic.readable(figures)
    assert set(shown.metric) <= {m.label for m in METRICS.values()}
    assert "conflict_fatalities" not in set(shown.metric)
    assert set(shown.origin) == {registry.title(o) for o in figures.origin.unique()}
    assert not shown[data_logic.TEXT_COLUMNS].isin(["None", "nan"]).any().any()
    assert shown.value.tolist() == figures.value.tolist()


def test_mosuls_injury_card_is_a_count_for_the_city_not_one_incident(loaded_url):
    """OCHA's week (685 wounded, 5–11 Dec 2016) heads Mosul's injuries, not Airwars' one
    incident of 29 Dec (143): read from the bundled file of reported figures with pandas."""
    from pathlib import Path

    raw = pd.read_csv(
        Path(__file__).parent.parent / "data_sources/snapshot/reported_figures.csv",
        parse_dates=["period_start", "period_end"],
    )
    mosul = raw[(raw.place == "Mosul") & (raw.metric == "civilians_injured")]
    longer = mosul[mosul.period_end > mosul.period_start]
    assert len(longer) < len(mosul)  # a one-day incident figure is in the file
    newest = longer[longer.period_end == longer.period_end.max()]
    engine = make_engine(loaded_url)
    cards = overview.city_view_from_store(engine, "geonames:99072", None).headlines
    injured = next(c for c in cards if c.metric == "civilians_injured")
    assert injured.value == f"{newest.value.max():,.0f}" == "685"
    assert "UN OCHA" in injured.caption
