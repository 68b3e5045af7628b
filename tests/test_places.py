"""Figures reach the right city however the source spells or locates it."""

import pandas as pd
import pytest

ALEPPO, MOSUL = "geonames:170063", "geonames:99072"


@pytest.mark.parametrize(
    "name,country,expected",
    [
        ("Aleppo", "SYR", ALEPPO),
        ("Halab", "SYR", ALEPPO),
        ("حلب", "SYR", ALEPPO),
        ("Al-Mawsil", "IRQ", MOSUL),
        ("الموصل", "IRQ", MOSUL),
        ("Mossul", "IRQ", MOSUL),
    ],
)
def test_names_in_many_scripts(gaz, name, country, expected):
    match, reason = gaz.resolve_one({"place_raw": name, "country_iso3": country})
    assert reason == ""
    assert match.place_id == expected
    assert match.method in ("name", "alias")


def test_fuzzy_match_records_its_score(gaz):
    match, _ = gaz.resolve_one({"place_raw": "Aleppoo", "country_iso3": "SYR"})
    assert match.place_id == ALEPPO and match.method == "fuzzy"
    assert 88 <= match.score < 100


def test_market_coordinates_reach_the_nearest_city(gaz):
    # WFP's Al-Cha'ar market, east Aleppo
    match, _ = gaz.resolve_one(
        {"place_raw": "Al-Cha'ar", "lat": 36.21, "lon": 37.18, "country_iso3": "SYR"}
    )
    assert match.place_id == ALEPPO and match.method == "coordinates"
    assert match.score < 3  # kilometres from the city point


def test_pcode_of_the_district_reaches_its_seat(gaz):
    match, _ = gaz.resolve_one(
        {"place_raw": "Al-Mosul", "pcode": "IRQ-G15Q05", "country_iso3": "IRQ"}
    )
    assert match.place_id == MOSUL and match.method == "pcode"


def test_unplaceable_rows_get_a_reason(gaz):
    match, reason = gaz.resolve_one({"place_raw": "Atlantis", "country_iso3": "SYR"})
    assert match is None
    assert reason.startswith("no city matches 'Atlantis' in SYR (closest")


def test_regions_stay_regions_and_countries_stay_countries(gaz):
    region, _ = gaz.resolve_one({"place_raw": "Iraq and Syria", "place_kind": "region"})
    country, _ = gaz.resolve_one({"place_raw": "Iraq", "place_kind": "country"})
    assert region.place_id == "region:iraq-and-syria"
    assert country.place_id == "country:IRQ"


def test_resolve_splits_frame(gaz):
    df = pd.DataFrame(
        {
            "place_kind": "city",
            "place_raw": ["Aleppo", "Nowhere-on-earth"],
            "country_iso3": "SYR",
            "admin2": "",
            "pcode": "",
            "lat": None,
            "lon": None,
            "value": [1, 2],
        }
    )
    placed, unplaced = gaz.resolve(df)
    assert placed.place_id.tolist() == [ALEPPO]
    assert unplaced.value.tolist() == [2] and unplaced.reason.str.len().gt(0).all()
