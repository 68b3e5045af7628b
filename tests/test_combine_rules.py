"""One test per combination rule (docs/how-figures-combine.md), on SQLite and PostgreSQL, from
the real bundled snapshot read through the store's own queries. Every expected number is
computed here from the raw bundled files with pandas, never by the code under test."""

import io
import json

import pandas as pd
import pytest

from data_sources.store import query
from tests.apptest import open_page
from tests.conftest import ROOT
from tests.test_app import traces
from tests.test_cli import run
from views.logic import map as map_logic
from views.logic import trends

SNAPSHOT = ROOT / "data_sources" / "snapshot"
MOSUL, ALEPPO = "geonames:99072", "geonames:170063"
WHEAT, SYP = "Wheat flour, retail", "SYP/KG"


@pytest.fixture
def store(loaded_engine):
    return loaded_engine


@pytest.fixture(scope="module")
def reported() -> pd.DataFrame:
    """The bundled reported figures, as published (one row per figure)."""
    return pd.read_csv(
        SNAPSHOT / "reported_figures.csv", parse_dates=["period_start", "period_end"]
    ).fillna({"site": "", "qualifier": ""})


@pytest.fixture(scope="module")
def ucdp_mosul_nov_2016() -> pd.DataFrame:
    """UCDP GED's events at "Mosul town" dated (by their first possible day, as UCDP's
    monthly sums date them) in November 2016: the raw file's rows."""
    raw = pd.read_csv(SNAPSHOT / "conflict_data_irq.csv.xz", skiprows=[1], low_memory=False)
    day = pd.to_datetime(raw["date_start"])
    return raw[(raw.where_coordinates == "Mosul town") & (day.dt.strftime("%Y-%m") == "2016-11")]


@pytest.fixture(scope="module")
def wfp_aleppo_dec_2016() -> dict[str, float]:
    """WFP's retail wheat flour prices (SYP/kg) at Al-Cha'ar (besieged east Aleppo) and
    Moghambo (west), December 2016, from the raw file."""
    raw = pd.read_csv(SNAPSHOT / "wfp_food_prices_syr.csv", skiprows=[1])
    rows = raw[
        raw.market.isin(["Al-Cha'ar", "Moghambo"])
        & (raw.commodity == "Wheat flour")
        & (raw.pricetype == "Retail")
        & (raw.currency == "SYP")
        & raw.date.str.startswith("2016-12")
    ]
    assert len(rows) == 2
    return dict(zip(rows.market, rows.price.astype(float), strict=True))


def chart(store, place: str, metric: str, **kwargs) -> pd.DataFrame:
    """The Trends page's points for one place and metric, as the page asks for them."""
    filters = {k: kwargs.pop(k) for k in ("qualifier", "unit", "site") if k in kwargs}
    series = query.series_frame(store, [place], metric, **filters)
    options = {"period": "month", "cumulative": False, "per_capita": False, "site": None}
    options |= kwargs
    return trends.trend_chart(
        series, metric=metric, unit=filters.get("unit", "people"), population={}, **options
    )


# -- estimate sets ---------------------------------------------------------------------------
def test_an_estimate_set_draws_the_best_with_its_range_and_counts_reports(
    store, ucdp_mosul_nov_2016
):
    """Map, Mosul, November 2016: UCDP's best (521), never the mean of best, low and high
    (533.33); low and high beside it; "figures" counts figures, not three per figure."""
    raw = ucdp_mosul_nov_2016
    points = query.map_points(store, "conflict_fatalities", "2016-11", "", "people")
    mosul = points[points.place_id == MOSUL].iloc[0]
    assert (mosul.value, mosul.low, mosul.high) == (raw.best.sum(), raw.low.sum(), raw.high.sum())
    assert mosul.value == 521 and mosul.high == 558
    # one figure per day the events happened (the store adds a day's events up), never x3
    assert mosul.figures == raw.date_start.nunique()
    # the same on Trends
    drawn = chart(store, MOSUL, "conflict_fatalities", qualifier="").points
    nov = drawn[drawn.period_label == "Nov 2016"].iloc[0]
    assert (nov.value, nov.low, nov.high) == (raw.best.sum(), raw.low.sum(), raw.high.sum())


def test_a_reported_range_is_drawn_at_its_low_bound_with_the_high_beside(store, reported):
    """AP: "between 9,000 and 11,000" killed in the battle for Mosul."""
    ap = reported[
        (reported.original_source == "Associated Press")
        & (reported.qualifier == "in the battle for Mosul, all parties")
    ].set_index("estimate")
    drawn = chart(
        store, MOSUL, "civilians_killed", qualifier="in the battle for Mosul, all parties"
    ).points
    assert len(drawn) == 1
    assert (drawn.value.item(), drawn.low.item(), drawn.high.item()) == (
        ap.value["low"],
        ap.value["low"],
        ap.value["high"],
    )
    assert drawn.figures.item() == 1  # one report, not two


# -- overlapping spans -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "period,cumulative,label",
    [("month", False, "Dec 2016"), ("year", False, "2016"), ("month", True, "Dec 2016")],
)
def test_a_containing_span_supersedes_the_contained_one(store, reported, period, cumulative, label):
    """ICRC: 25,000 evacuated 15-20 Dec 2016, 35,000 over 15-22 Dec (containing the first):
    December is 35,000, never 60,000, in the month, year and cumulative views."""
    icrc = reported[(reported.original_source == "ICRC") & (reported.metric == "displaced_new")]
    contains_all = icrc[
        [
            ((icrc.period_start >= s) & (icrc.period_end <= e)).all()
            for s, e in zip(icrc.period_start, icrc.period_end, strict=True)
        ]
    ]
    expected = contains_all.value.item()
    drawn = chart(store, ALEPPO, "displaced_new", period=period, cumulative=cumulative).points
    line = drawn[drawn.origin == "ICRC"]
    assert line.set_index("period_label").value.to_dict() == {label: expected}
    assert expected == 35_000 and icrc.value.sum() == 60_000
    # another source's figure over the same days is its own line, never added
    assert (drawn.origin == "UN OCHA").any()


def test_to_date_figures_are_a_running_total_never_summed(store, reported):
    """OCHA's "cumulative since the operation began" displaced from Mosul: each report is
    the running total as of its date, in the cumulative view too."""
    qualifier = "cumulative since the operation began"
    raw = reported[(reported.qualifier == qualifier) & (reported.place == "Mosul")]
    view = chart(store, MOSUL, "displaced_new", qualifier=qualifier, cumulative=True)
    points = view.points.sort_values("period")
    assert points.value.tolist() == raw.sort_values("period_end").value.tolist()
    assert set(points.kind) == {"to_date"}
    drawn = trends.trend_view(
        query.series_frame(store, [MOSUL], "displaced_new", qualifier=qualifier),
        metric="displaced_new", qualifier=qualifier, unit="people", period="month",
        cumulative=True, per_capita=False, site=None, source=None, population={},
        every=None, reported=raw.iloc[0:0].assign(metric="", city="", origin=""),
    ).figure  # fmt: skip
    (line,) = [t for t in drawn.data if t.y is not None and len(t.y) == len(raw)]
    assert line.mode == "lines+markers" and line.line.dash == "dash"


# -- different sources -----------------------------------------------------------------------
def test_different_sources_are_never_averaged_or_added(store, reported):
    """OCHA's 68,550 and IOM's 68,112 displaced by the Mosul operation in November 2016: two
    bubbles' worth (one source at a time on the Map), never 68,331 or 136,662."""
    qualifier = "currently displaced by the Mosul operation"
    raw = reported[
        (reported.qualifier == qualifier) & (reported.period_end.dt.strftime("%Y-%m") == "2016-11")
    ]
    expected = raw.groupby("original_source").value.last().to_dict()
    assert len(expected) == 2
    points = query.map_points(store, "idps", "2016-11", qualifier, "people")
    mosul = points[points.place_id == MOSUL]
    assert dict(zip(mosul.origin, mosul.value, strict=True)) == expected
    assert map_logic.source_options(points)[0] in expected
    for source in expected:
        assert map_logic.of_source(points, source).origin.unique().tolist() == [source]


# -- markets ---------------------------------------------------------------------------------
def test_markets_are_never_averaged(store, wfp_aleppo_dec_2016):
    """Trends' default shows each market; the median view is a price a market had, with the
    cheapest and dearest beside it; the Map's bubble too. Never 1,862.5."""
    raw = wfp_aleppo_dec_2016
    each = chart(store, ALEPPO, "food_price", qualifier=WHEAT, unit=SYP)
    dec = each.points[each.points.period_label == "Dec 2016"]
    assert dict(zip(dec.site, dec.value, strict=True)) == raw
    assert sorted(dec.line) == ["Aleppo · Al-Cha'ar", "Aleppo · Moghambo"]
    assert each.subtitle.endswith("one line per market")
    median = chart(store, ALEPPO, "food_price", qualifier=WHEAT, unit=SYP, markets="median")
    dec = median.points[median.points.period_label == "Dec 2016"].iloc[0]
    assert (dec.value, dec.low, dec.high, dec.markets) == (
        min(raw.values()),  # the lower middle of two markets
        min(raw.values()),
        max(raw.values()),
        2,
    )
    bubble = query.map_points(store, "food_price", "2016-12", WHEAT, SYP)
    aleppo = bubble[bubble.place_id == ALEPPO].iloc[0]
    assert (aleppo.value, aleppo.low, aleppo.high) == (min(raw.values()), *sorted(raw.values()))
    assert sum(raw.values()) / 2 not in set(bubble.value)


# -- the CLI ---------------------------------------------------------------------------------
def test_cli_series_by_period_goes_through_the_same_rules(loaded_url, reported):
    icrc = reported[(reported.original_source == "ICRC") & (reported.metric == "displaced_new")]
    out = run(loaded_url, "series", "--city", "Aleppo", "--metric", "displaced_new",
              "--period", "month", "--format", "json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    points = pd.DataFrame(json.loads(out.stdout))
    dec = points[(points.origin == "ICRC") & (points.period_label == "Dec 2016")]
    assert dec.value.tolist() == [icrc.value.max()]
    out = run(loaded_url, "series", "--city", "Aleppo", "--metric", "food_price",
              "--qualifier", WHEAT, "--unit", SYP, "--period", "month")  # fmt: skip
    prices = pd.read_csv(io.StringIO(out.stdout))
    assert set(prices.site) >= {"Al-Cha'ar", "Moghambo"}  # one row per market


# -- the drawn figures (AppTest: what the page hands plotly) ---------------------------------
@pytest.fixture
def app(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    return open_page


def test_trends_default_view_draws_each_market(app, wfp_aleppo_dec_2016):
    at = app("views/trends.py", cities="Aleppo")
    assert not at.exception, [e.message for e in at.exception]
    lines = {}
    for trace in traces(at)[0]:
        for x, y in zip(trace.get("x") or [], trace.get("y") or [], strict=False):
            if str(x).startswith("2016-12"):
                lines[trace["name"]] = y
    assert lines == {f"Aleppo · {market}": price for market, price in wfp_aleppo_dec_2016.items()}


def test_map_draws_mosuls_best_estimate_with_its_range(app, ucdp_mosul_nov_2016):
    at = app("views/map.py", metric="conflict_fatalities", month="2016-11")
    assert not at.exception, [e.message for e in at.exception]
    (bubbles,) = traces(at)[0]
    custom = {row[0]: row for row in bubbles["customdata"]}
    raw = ucdp_mosul_nov_2016
    name, value, spread, _source, shown = custom["Mosul"]
    assert shown == f"{raw.best.sum():,}"  # the hover prints it as the page prints numbers
    assert value == raw.best.sum()
    assert f"{raw.low.sum():,}–{raw.high.sum():,}" in spread
