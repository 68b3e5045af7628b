"""Every page through Streamlit's AppTest: no exception, charts equal the store's series,
deep-link parameters restore the view, unknown or hostile parameters give a message."""

import base64
import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from data_sources.store import query
from data_sources.store.engine import make_engine
from tests.apptest import open_page
from views.pages import PAGES as REGISTRY

PAGES = [p.script for p in REGISTRY]  # every page of the registry (views/pages.py)
TITLES = {p.script: p.title for p in REGISTRY}


@pytest.fixture
def app(loaded_url, monkeypatch):
    """Opens a page on a private copy of the loaded store, on each backend in turn."""
    monkeypatch.setenv("DATABASE_URL", loaded_url)

    return open_page


def _plain(value):
    """Plotly sends numeric arrays as base64 typed arrays; turn them back into lists."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def traces(at: AppTest) -> list[list[dict]]:
    charts = at.get("plotly_chart")
    assert charts, "no chart drawn"
    return [
        [{k: _plain(v) for k, v in trace.items()} for trace in json.loads(c.proto.spec)["data"]]
        for c in charts
    ]


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(app, page):
    at = app(page)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == TITLES[page]


def test_the_registry_holds_every_page_script():
    """A page script (a file of views/ that draws its title when run) left out of
    views/pages.py would be unreachable and untested: every one is in the registry."""
    import re

    from tests.conftest import ROOT

    drawn = {
        f"views/{f.name}"
        for f in (ROOT / "views").glob("*.py")
        if re.search(r"^st\.title\(", f.read_text(), re.MULTILINE)
    }
    assert drawn == set(PAGES)


def test_overview_shows_latest_figures_from_the_store(app):
    at = app(PAGES[0])
    metrics = {(m.label, m.value) for m in at.metric}
    assert ("Internally displaced people", "90,500") in metrics  # OCHA Aleppo, 4 Jan 2017
    assert ("Internally displaced people", "135,500") in metrics  # OCHA Mosul, 8 Jan 2017
    assert ("Civilians killed", "9,000–11,000") in metrics  # AP's range for the battle


def test_country_context_holds_stocks_not_one_days_events(app):
    """UCDP events placed on the country itself (no city, no admin area) are one day's count:
    no context for a city. The country's displaced and refugees are."""
    at = app(PAGES[0], cities="Aleppo")
    context = next(c.value for c in at.caption if c.value.startswith("Country context: "))
    assert "Internally displaced people in SYR: 5,964,000 (idmc, 2025)" in context
    assert "Refugees from the country in SYR" in context
    for flow in ("Civilians killed", "Conflict fatalities", "Conflict events"):
        assert flow not in context, context


def test_a_fall_is_shown_as_a_fall(app):
    at = app(PAGES[0], cities="Homs")
    price = next(m for m in at.metric if m.label == "Food price")
    # Homs wheat flour: 300 SYP/kg in Nov 2018, 275 in Dec 2018 (WFP); a leading ASCII minus
    # is what turns st.metric's arrow down
    assert price.value == "275 SYP/KG" and price.delta == "-25 since 30 Nov 2018"


def test_trend_chart_equals_the_store_series(app, loaded_url):
    at = app(
        PAGES[1],
        cities="Aleppo",
        metric="food_price",
        qualifier="Wheat flour, retail",
        unit="SYP/KG",
        market="Al-Cha'ar",
        period="month",
    )
    assert not at.exception
    data = traces(at)[0]
    engine = make_engine(loaded_url)
    store = query.series_frame(
        engine,
        ["geonames:170063"],
        "food_price",
        qualifier="Wheat flour, retail",
        site="Al-Cha'ar",
        unit="SYP/KG",
    )
    drawn = [t for t in data if t["name"] == "Aleppo"][0]
    assert drawn["y"] == store.value.tolist()
    assert 3500.0 in drawn["y"]


def test_trend_of_a_reported_range_follows_its_lower_bound(app):
    at = app(PAGES[1], cities="Mosul", metric="civilians_killed",
             qualifier="in the battle for Mosul, all parties", period="year")  # fmt: skip
    assert not at.exception
    lines = {t["name"]: t["y"] for t in traces(at)[0] if t.get("mode") != "text"}
    # AP said 9,000 to 11,000: the line follows the "at least" figure, the two never add up
    assert lines == {"Mosul": [9000.0]}


def test_deep_link_restores_the_view(app):
    at = app(
        PAGES[1],
        cities="Homs,Aleppo",
        metric="food_price",
        qualifier="Rice, retail",
        unit="USD/KG",
        period="year",
    )
    assert at.multiselect[0].value == ["Homs", "Aleppo"]
    assert at.radio[0].value == "year"
    # AppTest gives a URL value as a one-item list in Streamlit 1.55 (the floor), as text in 1.67
    shown = at.query_params["qualifier"]
    assert (shown if isinstance(shown, str) else shown[0]) == "Rice, retail"
    assert at.selectbox[1].value == "Rice, retail"
    # one line per market (markets are never averaged), each named "City · market"
    cities = sorted({t["name"].split(" · ")[0] for t in traces(at)[0]})
    assert cities == ["Aleppo", "Homs"]


def test_compare_shows_airwars_and_the_pentagon_side_by_side(app):
    at = app(PAGES[2], place="Iraq and Syria")
    drawn = {t["name"]: t["y"] for t in traces(at)[0]}
    assert drawn["Airwars"] == [2013.0]
    assert drawn["US Department of Defense"] == [173.0]


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"cities": "Atlantis"}, "Unknown city “Atlantis”"),
        ({"cities": "Aleppo", "metric": "unicorns"}, "not available here"),
        ({"cities": "<script>alert(1)</script>"}, "Unknown city"),
        ({"cities": "Aleppo", "cumulative": "maybe"}, "use true or false"),
        ({"cities": "Aleppo", "period": "x" * 5000}, "not available here"),
    ],
)
def test_unknown_or_hostile_parameters_give_a_message(app, params, expected):
    at = app(PAGES[1], **params)
    assert not at.exception
    text = warnings(at)
    assert expected in text
    assert "<script>" not in text and len(text) < 600


def test_data_page_lists_rejects_with_reasons(app):
    at = app(PAGES[4])
    assert not at.exception
    frames = [df.value for df in at.dataframe]
    rejects = next(f for f in frames if "reason" in f.columns)
    # UCDP's "Operation Peace Spring" names no city, district or governorate
    assert rejects.reason.str.startswith("no city matches 'Operation Peace Spring'").any()
    # WFP's Tell Abiad market is no city but names its district: placed there, not rejected
    assert not rejects.reason.str.contains("Tell Abiad").any()
    assert any(b.label.startswith("Download ZIP") for b in at.get("download_button"))


def test_compare_opens_on_the_sidebars_city_and_compares_only_like_with_like(app):
    at = app(PAGES[2], cities="Mosul")
    assert not at.exception
    assert at.selectbox(key="place").value == "geonames:99072"
    assert at.selectbox(key="metric").value == "civilians_killed"
    table = next(df.value for df in at.dataframe if "scope" in df.value.columns)
    # AP's all-parties estimate and the coalition's acknowledged deaths count different things
    mixed = table[table.scope.str.startswith("not comparable")]
    assert not mixed.empty and mixed.ratio.isna().all()
    assert table[~table.scope.str.startswith("not comparable")].ratio.notna().all()


def test_compare_sets_ocha_against_iom_for_mosul_displacement(app):
    at = app(PAGES[2], place="geonames:99072", metric="idps")
    assert not at.exception
    drawn = {t["name"]: t["y"] for t in traces(at)[0]}
    assert drawn["IOM"] == [68112.0]
    assert drawn["UN OCHA"] == [68550.0, 135500.0]


def test_trends_shows_its_chart_data_only_when_asked(app):
    at = app(PAGES[1], cities="Aleppo", qualifier="Wheat flour, retail", unit="SYP/KG")
    assert not at.exception
    assert len(at.dataframe) == 0  # the grid is not drawn on every visit
    toggle = next(t for t in at.toggle if t.label.startswith("Show chart data"))
    points = int(toggle.label.split("(")[1].split()[0])
    toggle.set_value(True).run()
    table = at.dataframe[0].value
    assert len(table) == points
    # every point drawn (a gap in a line is an empty point, no figure)
    drawn = sum(1 for t in traces(at)[0] for y in t["y"] if y is not None and y == y)
    assert drawn == points  # the table holds exactly the points on the chart
    assert table.city.unique().tolist() == ["Aleppo"]


def test_repeated_cities_in_a_link_are_all_chosen(app):
    at = app(PAGES[1], cities=["Homs", "Aleppo"], metric="food_price")  # cities=Homs&cities=Aleppo
    assert not at.exception
    assert at.sidebar.multiselect[0].value == ["Homs", "Aleppo"]
    # the address holds both, as Streamlit's bound multiselect writes a list: repeated
    assert at.query_params["cities"] == ["Homs", "Aleppo"]
    assert "sets cities" not in warnings(at)


def test_a_parameter_given_twice_is_reported_and_the_first_used(app):
    at = app(PAGES[1], cities="Aleppo", metric=["idps", "food_price"])
    assert not at.exception
    assert (  # the warning's Markdown source: "_" is escaped, shown as it was sent
        "The link sets metric 2 times (“idps”, “food\\_price”); using the first, “idps”."
        in warnings(at)
    )
    assert at.selectbox(key="metric").value == "idps"
    assert at.query_params["metric"] == "Internally displaced people"  # the label it shows
    # an unknown first value still gets its "did you mean"
    at = app(PAGES[1], cities="Aleppo", metric=["food_prise", "idps"])
    text = warnings(at)
    assert "The link sets metric 2 times" in text
    assert "The link asks for metric “food\\_prise”, which is not available here." in text
    assert "Did you mean “Food price”?" in text


# every parameter of the Trends page, as links gave them before the widgets were bound to the
# URL (codes, 1/0) and as the bound widgets write them today (labels, true/false)
EVERY_PARAMETER_OLD = {
    "cities": "Aleppo,Homs",
    "metric": "food_price",
    "qualifier": "Wheat flour, retail",
    "unit": "SYP/KG",
    "market": "Al-Cha'ar",
    "period": "year",
    "cumulative": "0",
    "percapita": "0",
    "source": "wfp",
    "revisions": "1",
    "as_of": date.today().isoformat(),  # the end of today: after the store was loaded
}
EVERY_PARAMETER_NOW = {
    **EVERY_PARAMETER_OLD,
    "cities": ["Aleppo", "Homs"],
    "metric": "Food price",
    "cumulative": "false",
    "percapita": "false",
    "revisions": "true",
}


def _view(at: AppTest) -> dict:
    """What the page shows: every control's value and every line drawn."""
    return {
        "cities": at.sidebar.multiselect[0].value,
        "selects": [s.value for s in at.selectbox],
        "period": at.radio[0].value,
        "toggles": {t.label: t.value for t in at.toggle},
        "lines": sorted((t["name"], tuple(t["y"])) for t in traces(at)[0]),
        "as_of": [i.value for i in at.info],
    }


@pytest.mark.parametrize("params", [EVERY_PARAMETER_OLD, EVERY_PARAMETER_NOW], ids=["old", "now"])
def test_a_link_with_every_parameter_opens_its_view(app, params):
    at = app(PAGES[1], **params)
    assert not at.exception, [e.message for e in at.exception]
    assert warnings(at) == ""
    view = _view(at)
    assert view["cities"] == ["Aleppo", "Homs"]
    assert view["selects"][:5] == [
        "food_price",
        "Wheat flour, retail",
        "SYP/KG",
        "Al-Cha'ar",
        "wfp",
    ]
    first, last = view["selects"][5:]  # From and To: the series' whole span (no window asked)
    assert first < last and len(first) == len("2014-01")
    assert view["period"] == "year"
    assert view["toggles"]["Show earlier revisions (faint)"] is True
    assert [name for name, _ in view["lines"]] == ["Aleppo"]  # Al-Cha'ar is Aleppo's market
    assert view["as_of"][0].startswith("As of ")  # the banner of an as-of view
    # the address now reads as the widgets write it, defaults (food prices, cumulative off)
    # left out
    shown = {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}
    assert shown["revisions"] == ["true"] and shown["period"] == ["year"]
    assert shown["cities"] == ["Aleppo", "Homs"] and shown["market"] == ["Al-Cha'ar"]
    assert "metric" not in shown and "cumulative" not in shown


def test_an_old_link_and_todays_open_the_same_view(app):
    assert _view(app(PAGES[1], **EVERY_PARAMETER_OLD)) == _view(
        app(PAGES[1], **EVERY_PARAMETER_NOW)
    )


@pytest.mark.parametrize(
    "page,params,expected",
    [
        (PAGES[1], {"metric": "Food prise"}, "Did you mean “Food price”?"),
        (PAGES[1], {"market": "<b>Al-Chaar</b>"}, "Did you mean “Al\\-Cha\\'ar”?"),
        (PAGES[1], {"revisions": "yes please"}, "use true or false"),
        (PAGES[2], {"place": "Mosull"}, "Did you mean “Mosul”?"),
        (PAGES[3], {"month": "2016-13"}, "which is not available here"),
        (PAGES[4], {"source": "javascript:alert(1)"}, "which is not available here"),
    ],
)
def test_an_unknown_value_is_said_and_the_page_still_draws(app, page, params, expected):
    at = app(page, cities="Aleppo", **params)
    assert not at.exception, [e.message for e in at.exception]
    assert expected in warnings(at)
    assert "<b>" not in warnings(at)
    if page != PAGES[4]:
        assert traces(at)[0], "no chart drawn"
    else:
        assert at.dataframe, "no table drawn"


def test_the_copied_link_holds_every_control_defaults_too(app):
    """The address leaves defaults out; the link to this exact view holds them, so a later
    change of a default cannot change what a shared link shows."""
    at = app(PAGES[1], cities="Homs", period="year")
    assert "metric" not in at.query_params  # food prices: the default, not in the address
    link = at.sidebar.code[0].value
    query = parse_qs(urlsplit(link).query)
    assert query["cities"] == ["Homs"] and query["period"] == ["year"]
    assert query["metric"] == ["Food price"] and query["revisions"] == ["false"]
    assert query["as_of"]  # pinned
