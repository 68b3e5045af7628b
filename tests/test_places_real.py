"""Places in their country, at their coordinates, on real files (issue 18, item 2).

Real inputs: WFP's per-country HDX file for Afghanistan (an excerpt committed under
tests/fixtures/places, origin in its README), OCHA's Global P-Code list (vendored in
data_sources/model), and, where ../shared/data is on the machine, ACLED-via-HAPI rows of the
Central African Republic and the DR Congo (never committed: ACLED's terms) and WFP's files of
other countries. Expected figures are computed from the raw files with pandas here, never by
the code under test.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_sources.feeds.connectors import Scope
from data_sources.feeds.refresh import refresh
from data_sources.formats.hxl import parse_hxl_csv
from data_sources.model.admin_areas import PCODES_FILE, admin_areas
from data_sources.model.places import LOCALITY_RADIUS_KM, haversine_km
from data_sources.store import query
from data_sources.store.ingest import ingest
from devtools.replay_server import SHARED, hapi_records

AFG = Path(__file__).parent / "fixtures" / "places" / "wfp_food_prices_afg.csv"
HAPI_CONFLICT = SHARED / "acled-hdx" / "hdx_hapi_conflict_event_global_2025.csv"
WFP_GLOBAL = SHARED / "wfp-food-prices" / "wfp_food_prices_global_2016.csv"
needs_shared = pytest.mark.skipif(
    not HAPI_CONFLICT.is_file(), reason="the real files in ../shared/data are not on this machine"
)


def raw_wfp(path: Path) -> pd.DataFrame:
    """A WFP HDX price file as published (its HXL row dropped)."""
    return pd.read_csv(path, skiprows=[1], dtype={"date": str})


# -- the gazetteer ----------------------------------------------------------------------------


def test_vendored_gazetteer_is_the_published_file():
    """The vendored p-code list is OCHA's file byte for byte (see cod_pcodes_adm_1_2.md)."""
    data = gzip.decompress(PCODES_FILE.read_bytes())
    assert (
        hashlib.sha256(data).hexdigest()
        == "2bc4c7080699b117051a1f4ca264fa54ca3edfe9fcdbcd8928f4b65cec863034"
    )
    cod = admin_areas()
    assert len(cod.areas) == 32_767 and len(cod.countries) == 156


def test_distinct_pcodes_are_distinct_places(gaz):
    """HAPI rows of Ouango (CF622) and Kouango (CF434), Bolobo (CD3308) and Boma (CD2002):
    four districts, four places, each with its COD name and in its country; none is a city
    of a similar name (Ouango went to Kouango by a close spelling, Bolobo to Boma, which
    GeoNames lists "Bolobo" as a variant of)."""
    rows = [
        ("Ouango", "Mbomou", "CF622", "CAF"),
        ("Kouango", "Ouaka", "CF434", "CAF"),
        ("Bolobo", "Mai-Ndombe", "CD3308", "COD"),
        ("Boma", "Kongo-Central", "CD2002", "COD"),
    ]
    ids = []
    for name, admin1, pcode, iso3 in rows:
        match, why = gaz.resolve_one(
            {"place_raw": name, "admin1": admin1, "admin2": name, "pcode": pcode,
             "country_iso3": iso3}
        )  # fmt: skip
        assert match is not None, why
        assert match.place_id == f"adm2:{iso3}:{pcode}" and match.method == "pcode"
        record = gaz.place_record(match.place_id)
        assert (record["name"], record["country_iso3"], record["kind"]) == (name, iso3, "district")
        ids.append(match.place_id)
    assert len(set(ids)) == 4
    # Bolobo's seat is no city 700 km away that lists its name as a variant
    bolobo = gaz.place_record("adm2:COD:CD3308")
    assert bolobo["seat_id"] != gaz.place_record("adm2:COD:CD2002")["seat_id"]


def test_a_pcode_of_another_country_is_a_reject(gaz):
    match, why = gaz.resolve_one({"place_raw": "Ouango", "pcode": "CF622", "country_iso3": "COD"})
    assert match is None and why == "p-code 'CF622' is in CAF, not in the row's country COD"


def test_spellings_of_one_area_are_one_place(gaz):
    """ "Nīnawá province" (UCDP), "Ninewa" (COD) and "Ninawa" are one governorate, IQG15;
    "Qaḑā’ al Mawşil" is the district Al-Mosul, IQG15Q05, under it."""
    found = {
        gaz.resolve_one({"place_raw": n, "place_kind": "governorate", "country_iso3": "IRQ"})[
            0
        ].place_id
        for n in ("Nīnawá province", "Ninewa", "Ninawa")
    }
    assert found == {"adm1:IRQ:IQG15"}
    district, _ = gaz.resolve_one(
        {"place_raw": "Qaḑā’ al Mawşil", "place_kind": "district", "country_iso3": "IRQ",
         "admin1": "Nīnawá province"}
    )  # fmt: skip
    assert district.place_id == "adm2:IRQ:IQG15Q05"
    assert gaz.place_record(district.place_id)["parent_id"] == "adm1:IRQ:IQG15"


def test_a_name_alone_is_never_looked_up_in_the_world(gaz):
    """No country, no coordinates: a reject that says how to give the country (it used to be
    the most populous city of that name anywhere)."""
    match, why = gaz.resolve_one({"place_raw": "Argo", "admin2": "Argo"})
    assert match is None
    assert why == (
        "no country: the file has no country column and the row no coordinates; import it "
        "with --country ISO3: 'Argo'"
    )


def test_events_are_in_the_country_their_point_is_in(gaz):
    """UCDP codes an event by its conflict's country: Gaza City, Ramallah, Nablus, Hebron and
    Beirut events of the Israel conflict come as "ISR". At those cities' own points (GeoNames'),
    the events are in the State of Palestine and in Lebanon."""
    expected = {"Gaza": "PSE", "Ramallah": "PSE", "Nablus": "PSE", "Hebron": "PSE", "Beirut": "LBN"}
    for name, iso3 in expected.items():
        city = gaz.by_name(name, iso3)
        point = gaz.place_record(city.place_id)
        match, why = gaz.resolve_one(
            {"place_raw": f"{name} town", "place_kind": "locality", "country_iso3": "ISR",
             "lat": point["lat"], "lon": point["lon"]}
        )  # fmt: skip
        assert match is not None, why
        assert gaz.place_record(match.place_id)["country_iso3"] == iso3, name


# -- WFP Afghanistan, HDX's per-country file, in the store ------------------------------------


@pytest.mark.parametrize("file_name", ["wfp_food_prices_afg.csv", "afghanistan_prices.csv"])
def test_wfp_afghanistan_every_market_in_afghanistan(empty_engine, gaz, file_name):
    """The real file, named as HDX names it (its country is in the name) and renamed (its
    country then comes from each market's coordinates), without --country: every row stored
    or rejected, every place in Afghanistan within a few tens of km of its market (no more
    Árgos, Greece, for Badakhshan market, Kuna, Idaho, for Kunar, Loga, Niger, for Logar),
    every price the file's."""
    raw = raw_wfp(AFG)
    frame = parse_hxl_csv(AFG.read_text(encoding="utf-8"), name=file_name)
    result = ingest(empty_engine, frame, source="wfp-afg", target=file_name)
    # local currency and USD, but an exchange rate (AFN per USD) has no USD copy
    rates = raw.commodity.str.startswith("Exchange rate").sum()
    assert result.rows_in == result.rows_accounted == 2 * len(raw) - rates
    assert result.rows_rejected == 0, result.reject_reasons
    assert sum(result.placed_by.values()) == result.rows_in
    assert set(result.placed_by) <= {"coordinates", "name", "admin names", "district"}
    places = query.all_places(empty_engine).set_index("place_id")
    prices = ["food_price", "fuel_price", "exchange_rate", "wage", "water_price", "nonfood_price"]
    stored = pd.concat(
        [query.series_frame(empty_engine, places.index.tolist(), m) for m in prices],
        ignore_index=True,
    )
    assert set(places.loc[stored.place_id.unique(), "country_iso3"]) == {"AFG"}
    # each market's place lies near the market's own coordinates (when the place has a point)
    markets = raw.drop_duplicates("market").set_index("market")[["latitude", "longitude"]]
    on = stored.drop_duplicates("site")[["site", "place_id"]].set_index("site").place_id
    for market, place_id in on.items():
        place = places.loc[place_id]
        if pd.notna(place.lat):
            lat, lon = markets.loc[market]
            km = haversine_km(lat, lon, np.array([place.lat]), np.array([place.lon]))[0]
            assert km <= LOCALITY_RADIUS_KM, (market, place_id, km)
    # the markets the issue names are on their own districts, in their own provinces
    assert on["Badakhshan"] == "adm2:AFG:AF1702"  # Argo, Badakhshan
    assert on["Kunar"] == "adm2:AFG:AF1503"  # Watapur ("Wata Pur"), Kunar
    assert on["Logar"] == "adm2:AFG:AF0504"  # Khoshi, Logar
    # every price per market, commodity and month is the file's
    raw_local = raw.assign(
        month=raw.date.str[:7],
        key=raw.market
        + "|"
        + raw.commodity
        + "|"
        # an exchange rate's unit is the local currency per US dollar (WFP writes "USD/LCU")
        + raw.currency
        + "/"
        + raw.unit.where(~raw.commodity.str.startswith("Exchange rate"), "USD"),
    )
    got = stored[~stored.unit.str.startswith("USD/")]
    got_key = (
        (got.site + "|" + got.qualifier.str.rsplit(", ", n=1).str[0] + "|" + got.unit)
        + "@"
        + got.period_start.dt.strftime("%Y-%m")
    )
    expected = (raw_local.key + "@" + raw_local.month).to_list()
    assert sorted(got_key) == sorted(expected)
    assert dict(zip(got_key, got.value, strict=True)) == dict(
        zip(expected, raw_local.price, strict=True)
    )


# -- ACLED-via-HAPI, Central African Republic and DR Congo (read from ../shared/data) -------


@needs_shared
def test_hapi_car_drc_districts_by_pcode(feeds, empty_engine):
    """Real HAPI conflict-event rows of CAF and COD: every row accounted for, every place in
    the row's own country, one place per p-code (Ouango and Kouango, Bolobo and Boma are
    four places), no figure rejected as "conflicting", and the events per p-code and month
    equal the file's."""
    saved = feeds.data["hapi"]
    feeds.data["hapi"] = {name: [] for name in saved}
    feeds.data["hapi"]["conflict-events"] = hapi_records(HAPI_CONFLICT, {"CAF", "COD"})
    try:
        report = refresh(empty_engine, ["hapi"], Scope(["CAF", "COD"]))[0]
    finally:
        feeds.data["hapi"] = saved
    assert report.status == "ok", report.error
    assert report.rows_in == report.rows_accounted
    assert not any("conflict" in r for r in report.reject_reasons), report.reject_reasons
    raw = pd.read_csv(HAPI_CONFLICT, dtype=str, keep_default_na=False)
    raw = raw[raw.location_code.isin(["CAF", "COD"]) & (raw.admin2_code != "")]
    places = query.all_places(empty_engine).set_index("place_id")
    events = query.series_frame(empty_engine, places.index.tolist(), "conflict_events")
    events = events[events.place_id.str.startswith("adm2:")]
    # one place per p-code, in the p-code's own country (the row's location_code)
    country_of = dict(zip(raw.admin2_code, raw.location_code, strict=True))
    assert set(events.place_id) == {f"adm2:{c}:{p}" for p, c in country_of.items()}
    for place_id in events.place_id.unique():
        assert places.loc[place_id, "country_iso3"] == country_of[place_id.split(":")[2]]
        assert places.loc[place_id, "kind"] == "district"
    assert {"adm2:CAF:CF622", "adm2:CAF:CF434", "adm2:COD:CD3308", "adm2:COD:CD2002"} <= set(
        events.place_id
    )
    # events per p-code, event type and month: the file's
    raw_sum = (
        raw.assign(
            n=raw.events.astype(int),
            kind=raw.event_type.str.replace("_", " "),
            month=raw.reference_period_start.str[:7],
        )
        .groupby(["admin2_code", "kind", "month"])
        .n.sum()
    )
    got = events[events.qualifier != ""].assign(
        pcode=lambda f: f.place_id.str.split(":").str[2],
        month=lambda f: f.period_start.dt.strftime("%Y-%m"),
    )
    got = got.groupby(["pcode", "qualifier", "month"]).value.sum()
    assert got.to_dict() == {k: float(v) for k, v in raw_sum.items()}


def test_a_border_event_named_in_its_governorate_stays_in_its_country(gaz):
    """A real UCDP Syria row (GED Syria, id 315983, bundled snapshot): Ras al Ayn town, 5 km
    from Ceylanpınar, Turkey, in "Al Hasakah Governorate": it stays in Syria (it went to a
    Turkish "Ras al Ayn" district when the nearest city alone decided)."""
    row = {
        "place_raw": "Ras al Ayn town", "place_kind": "locality", "country_iso3": "SYR",
        "admin1": "Al Hasakah Governorate", "admin2": "Ras al Ayn district",
        "lat": 36.850336, "lon": 40.070555,
    }  # fmt: skip
    match, why = gaz.resolve_one(row)
    assert match is not None, why
    assert gaz.place_record(match.place_id)["country_iso3"] == "SYR"
    assert gaz.event_country(36.850336, 40.070555, "SYR", row) == "SYR"
    # naming no governorate, the point alone decides: the nearest city is Turkish
    assert gaz.event_country(36.850336, 40.070555, "SYR", {}) == "TUR"
