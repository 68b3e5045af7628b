"""The Data page for people: it opens on the sidebar's cities, filters by country and by a
From/To window, and totals one metric by district, governorate, place or country by the
combination rules, so "which Iraqi district had the most conflict deaths in 2017?" is a
few choices. Numbers are checked against the bundled raw UCDP file (read here with pandas)
and against the store read with plain SQL, not through the code under test."""

from __future__ import annotations

import lzma

import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.model import admin_groups
from data_sources.store.engine import make_engine
from tests.apptest import open_page
from tests.conftest import ROOT
from views import link_format
from views.logic import data as logic

DATA = "views/data.py"
RAW_UCDP_IRQ = ROOT / "data_sources" / "snapshot" / "conflict_data_irq.csv.xz"
IRAQ_2017 = {
    "country": "Iraq",
    "place": "(all)",
    "metric": "Conflict fatalities",
    "source": "UCDP GED",
    "from": "2017-01",
    "to": "2017-12",
}


@pytest.fixture
def page(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    return lambda **params: open_page(DATA, **params)


def _frame_with(at, column: str) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _raw_ucdp_2017() -> pd.DataFrame:
    """UCDP GED's Iraq events ending in 2017, from the bundled file (its second line holds
    HXL tags)."""
    with lzma.open(RAW_UCDP_IRQ, "rt", encoding="utf-8") as handle:
        raw = pd.read_csv(handle, skiprows=[1], low_memory=False)
    for column in ("best", "low", "high"):
        raw[column] = pd.to_numeric(raw[column])
    return raw[pd.to_datetime(raw["date_end"]).dt.year == 2017]


def test_the_iraqi_district_with_most_conflict_deaths_in_2017_is_one_choice(page):
    at = page(**IRAQ_2017)
    assert not at.exception
    table = _frame_with(at, "district")
    assert set(table["period"]) == {"2017"}
    assert set(table["breakdown"]) == {"(total)"}  # UCDP's total, never added to its parts
    raw = _raw_ucdp_2017()
    expected = (
        raw.groupby("adm_2")[["best", "low", "high"]].sum().sort_values("best", ascending=False)
    )
    # the three districts with the most deaths, in the raw file's order and with its sums
    top = zip(expected.head(3).iterrows(), table.head(3).iterrows(), strict=True)
    for (name, sums), (_, row) in top:
        assert row["value"] == sums["best"], (name, row["district"])
        assert (row["low"], row["high"]) == (sums["low"], sums["high"])
    assert table["district"].iloc[0] == "Al-Mosul (district)"
    assert expected.index[0] == "Qaḑā’ al Mawşil"


def test_totals_add_every_stored_figure_once(page, loaded_url):
    at = page(**IRAQ_2017)
    table = _frame_with(at, "district")
    engine = make_engine(loaded_url)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT sum(o.value) FROM observations o JOIN series s USING (series_id) "
                "JOIN places p USING (place_id) WHERE s.metric = 'conflict_fatalities' AND "
                "s.source = 'ucdp' AND s.qualifier = '' AND s.estimate = 'best' AND "
                "p.country_iso3 = 'IRQ' AND o.period_end >= '2017-01-01' AND "
                "o.period_start <= '2017-12-31'"
            )
        ).scalar()
    engine.dispose()
    assert table["value"].sum() == stored
    # and by governorate: the same figures, fewer groups
    by_governorate = _frame_with(page(**IRAQ_2017, group="Governorate"), "governorate")
    assert by_governorate["value"].sum() == stored
    assert len(by_governorate) < len(table)
    # Al-Mosul district's governorate (its stored parent, COD's IQG15) holds it
    ninewa = by_governorate[by_governorate["governorate"] == "Ninewa (governorate)"]
    raw = _raw_ucdp_2017()
    assert ninewa["value"].iloc[0] >= raw[raw["adm_2"] == "Qaḑā’ al Mawşil"]["best"].sum()


def test_the_page_opens_on_the_sidebars_cities(page, loaded_url):
    at = page(cities=["Aleppo", "Mosul"])
    assert not at.exception
    assert at.selectbox(key="place").value == logic.CHOSEN
    engine = make_engine(loaded_url)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM observations o JOIN series s USING (series_id) "
                "JOIN places p USING (place_id) WHERE p.kind = 'city' AND "
                "p.name IN ('Aleppo', 'Mosul')"
            )
        ).scalar()
        every = conn.execute(sa.text("SELECT count(*) FROM observations")).scalar()
    engine.dispose()
    line = next(m.value for m in at.markdown if "figures** match" in m.value)
    assert line.startswith(f"**{count:,} figures** match")
    assert count < every
    assert set(_frame_with(at, "revision")["city"]) == {"Aleppo", "Mosul"}


def test_a_country_filter_offers_only_that_countrys_places(page):
    at = page(country="Iraq")
    options = at.selectbox(key="place").options
    assert "Mosul" in options and "Aleppo" not in options
    assert options[:2] == [logic.CHOSEN, logic.ALL]
    # cities first, then districts, governorates, the country
    kinds = [o.rsplit("(", 1)[-1].rstrip(")") for o in options[2:] if o.endswith(")")]
    order = [k for k in dict.fromkeys(kinds) if k in logic.KIND_ORDER]
    assert order == sorted(order, key=logic.KIND_ORDER.get)


def test_a_window_keeps_the_figures_meeting_it_and_says_when_it_was_reversed(page):
    at = page(place="Mosul", **{"from": "2017-12", "to": "2017-01"})
    assert not at.exception
    assert any("was after" in i.value for i in at.info)
    shown = _frame_with(at, "revision")
    assert len(shown) > 0
    assert (pd.to_datetime(shown["period_end"]) >= "2017-01-01").all()
    assert (pd.to_datetime(shown["period_start"]) <= "2017-12-31").all()


def test_totals_ask_for_one_metric(page):
    at = page(place="Mosul")
    assert not at.exception
    assert any("Choose one metric" in c.value for c in at.caption)
    assert not any("district" in df.value.columns for df in at.dataframe)


def test_the_totals_file_says_what_it_holds():
    days = (pd.Timestamp("2017-01-01").date(), pd.Timestamp("2017-12-31").date())
    name = logic.totals_file_name("conflict_fatalities", "", "district", "year", days)
    assert name == "conflict-fatalities_by-district_per-year_2017-01_2017-12.csv"
    other = logic.totals_file_name(
        "conflict_fatalities", "one-sided violence", "place", "month", None
    )
    assert other == "conflict-fatalities_one-sided-violence_by-place_per-month.csv"


def test_an_old_link_naming_a_source_by_its_code_opens_it():
    translated = link_format.canonical({"source": ["ucdp"]})
    assert translated.params["source"] == ["UCDP GED"]


# a synthetic frame (invented place ids, real p-codes of OCHA's list): the rule for each kind
PLACES = pd.DataFrame(
    [
        ("geonames:1", "city", "IRQ", None),
        ("geonames:2", "city", "IRQ", None),
        ("adm2:IRQ:IQG15Q01", "district", "IRQ", "adm1:IRQ:IQG15"),
        ("adm1:IRQ:IQG15", "governorate", "IRQ", "country:IRQ"),
        ("country:IRQ", "country", "IRQ", None),
    ],
    columns=["place_id", "kind", "country_iso3", "parent_id"],
)
LABELS = {
    "geonames:1": "A town",
    "geonames:2": "B town",
    "adm2:IRQ:IQG15Q01": "Al-Mosul (district)",
    "adm1:IRQ:IQG15": "Ninewa (governorate)",
    "country:IRQ": "Iraq",
}


def test_a_city_is_in_the_district_its_sources_name_and_nothing_is_guessed():
    names = pd.DataFrame(
        [
            ("geonames:1", "IRQ", "Nīnawá province", "Qaḑā’ al Mawşil", "", 3),
            ("geonames:1", "IRQ", "", "", "", 5),  # series naming nothing never outvote names
        ],
        columns=["place_id", "country_iso3", "admin1", "admin2", "pcode", "series"],
    )
    placed = admin_groups.areas(PLACES, names, LABELS).set_index("place_id")
    assert placed.loc["geonames:1", "district"] == "Al-Mosul (district)"
    assert placed.loc["geonames:1", "governorate"] == "Ninewa (governorate)"
    assert placed.loc["geonames:2", "district"] == "Iraq: no governorate or district given"
    assert placed.loc["adm2:IRQ:IQG15Q01", "governorate"] == "Ninewa (governorate)"
    assert placed.loc["adm1:IRQ:IQG15", "district"] == "Ninewa (governorate): no district given"
    assert placed.loc["country:IRQ", "governorate"] == "Iraq: no governorate given"
    assert set(placed["country"]) == {"Iraq"}


def test_totals_never_add_sources_or_breakdowns():
    day = pd.Timestamp("2017-03-01")
    rows = [
        # place, source, qualifier, estimate, value (synthetic)
        ("geonames:1", "ucdp", "", "best", 10.0),
        ("geonames:1", "ucdp", "", "low", 8.0),
        ("geonames:1", "ucdp", "state-based conflict", "best", 10.0),
        ("adm2:IRQ:IQG15Q01", "ucdp", "", "best", 5.0),
        ("adm2:IRQ:IQG15Q01", "other", "", "best", 100.0),
    ]
    figures = pd.DataFrame(
        [
            {
                "place_id": p,
                "city": LABELS[p],
                "origin": o,
                "source": o,
                "qualifier": q,
                "estimate": e,
                "value": v,
                "unit": "people",
                "site": "",
                "period_start": day,
                "period_end": day,
                "citation": "",
                "revision": 1,
                "metric": "conflict_fatalities",
            }
            for p, o, q, e, v in rows
        ]
    )
    names = pd.DataFrame(
        [("geonames:1", "IRQ", "Nīnawá province", "Qaḑā’ al Mawşil", "", 1)],
        columns=["place_id", "country_iso3", "admin1", "admin2", "pcode", "series"],
    )
    placed = admin_groups.areas(PLACES, names, LABELS)
    out = admin_groups.totals(figures, "conflict_fatalities", placed, "district", "year")
    got = {(r.origin, r.qualifier): (r.value, r.places) for r in out.itertuples()}
    assert got == {
        ("other", ""): (100.0, 1),
        ("ucdp", ""): (15.0, 2),  # the city's 10 and the district's own 5; low never added
        ("ucdp", "state-based conflict"): (10.0, 1),
    }
    with pytest.raises(ValueError, match="cannot group by"):
        admin_groups.totals(figures, "conflict_fatalities", placed, "street", "year")


def test_what_changed_is_listed_when_asked(page):
    at = page()
    assert not at.exception
    assert not any("change" in df.value.columns for df in at.dataframe)  # not built unasked
    assert "since" not in at.query_params
    at.toggle(key="list_changes").set_value(True).run()
    listed = next(df.value for df in at.dataframe if "change" in df.value.columns)
    assert len(listed) > 0 and set(listed["change"]) <= {"added", "revised", "withdrawn"}
    assert "since" in at.query_params  # the link now holds the window it lists


def test_the_refresh_scope_of_the_stores_cities_needs_no_gazetteer(monkeypatch):
    from data_sources.feeds import refresh

    def no_gazetteer():
        raise AssertionError("the gazetteer's name index was built")

    monkeypatch.setattr(refresh, "gazetteer", no_gazetteer)
    scope = refresh.default_scope(
        None, ["Mosul", "Aleppo"], known={"Mosul": "IRQ", "Aleppo": "SYR"}
    )
    assert scope.countries == ["IRQ", "SYR"]
