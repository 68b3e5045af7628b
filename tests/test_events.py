"""Event rows add up (issue 10 item 1) and UCDP's place names (item 2's suffixes).

Real UCDP GED rows: `tests/fixtures/ucdp_mosul` (committed, byte-exact rows of HDX's
`conflict_data_irq.csv`) on both backends; the whole Iraq file from ../shared/data when that
folder is beside the project (skipped otherwise).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.formats.hxl import parse_hxl_csv
from data_sources.model.aggregate import EVENT, add_up_events, is_event_list, summable
from data_sources.model.places import place_suffix
from data_sources.store import query
from data_sources.store.ingest import ingest
from data_sources.store.tables import rejects
from devtools.replay_server import SHARED

from . import shared_data
from .conftest import ROOT

MOSUL_SHEET = ROOT / "tests" / "fixtures" / "ucdp_mosul" / "after" / "conflict_data_irq.csv"
IRAQ = SHARED / "ucdp-ged" / "conflict_data_irq.csv"
MOSUL = "geonames:99072"


def events_of(path) -> pd.DataFrame:
    """The file's events as UCDP wrote them (HXL row skipped), for sums made independently."""
    return pd.read_csv(path, skiprows=[1])


# -- the pure rule -------------------------------------------------------------------------


def test_flagged_rows_add_up_per_series_and_period_and_others_are_left_alone():
    day = pd.Timestamp("2016-12-27")
    obs = pd.DataFrame(
        {
            "series_id": [1, 1, 1, 2, 2],
            "period_start": [day] * 5,
            "period_end": [day] * 5,
            "value": [19.0, 3.0, 0.0, 100.0, 120.0],
            "provenance_id": [7, 7, 7, 8, 8],
            "row": [0, 1, 2, 3, 4],
        }
    )
    out = add_up_events(obs, np.array([True, True, True, False, False]))
    assert sorted(out.value) == [22.0, 100.0, 120.0]  # series 2 is left for the conflict rule
    summed = out[out.series_id == 1].iloc[0]
    assert (summed.provenance_id, summed.row) == (7, 0)
    assert add_up_events(obs, np.zeros(5, dtype=bool)) is obs  # the bulk path costs nothing


def test_only_events_of_a_flow_add_up():
    metric = pd.Series(["conflict_fatalities", "idps", "food_price", "conflict_events", "idps"])
    kind = pd.Series([EVENT, EVENT, EVENT, EVENT, ""])
    assert summable(metric, kind).tolist() == [True, False, False, True, False]


def test_a_sheet_is_an_event_list_by_its_ids_or_by_repeated_flows():
    row = {"place_raw": "Mosul", "period_start": "2016-12-27", "period_end": "2016-12-27"}
    totals = pd.DataFrame([{**row, "metric": "conflict_fatalities", "value": 3}])
    assert not is_event_list(totals)
    assert is_event_list(totals, has_event_ids=True)
    assert is_event_list(pd.concat([totals, totals.assign(value=5)]))
    stocks = pd.DataFrame([{**row, "metric": "idps", "value": v} for v in (3, 5)])
    assert not is_event_list(stocks)  # two IDP counts for one day are two reports


# -- place names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "core", "word"),
    [  # real `where_coordinates` of conflict_data_irq.csv, and the bracketed form
        ("Mosul town", "Mosul", "town"),
        ("Baghdad city", "Baghdad", "city"),
        ("Tall ‘Afar town", "Tall ‘Afar", "town"),
        ("Nīnawá province", "Nīnawá", "province"),
        ("Mosul (town)", "Mosul", "town"),
        ("Aleppo governorate", "Aleppo", "governorate"),
        ("Iraq", "Iraq", ""),
        ("Hit", "Hit", ""),
    ],
)
def test_kind_words_split_off_place_names(name, core, word):
    assert place_suffix(name) == (core, word)


def test_ucdp_names_find_their_city_and_a_province_is_a_governorate(gaz):
    for name in ("Mosul town", "Mosul (town)", "Mosul city"):
        match, why = gaz.resolve_one({"place_raw": name, "country_iso3": "IRQ"})
        assert match is not None and match.place_id == MOSUL, (name, why)
    baghdad, _ = gaz.resolve_one({"place_raw": "Baghdad city", "country_iso3": "IRQ"})
    assert baghdad is not None and baghdad.place_id == gaz.by_name("Baghdad", "IRQ").place_id
    # a province's centroid lies near some town; its deaths are not that town's but the
    # governorate's, a place of its own at the point given for it
    match, why = gaz.resolve_one(
        {"place_raw": "Nīnawá province", "country_iso3": "IRQ", "lat": 36.3, "lon": 43.1}
    )
    assert match is not None and match.place_id == "adm1:IRQ:IQG15", why
    ninawa = gaz.place_record(match.place_id)
    assert (ninawa["kind"], ninawa["name"], ninawa["parent_id"]) == (
        "governorate",
        "Ninewa",  # its name in OCHA's COD p-code list: "Nīnawá" and "Ninewa" are one place
        "country:IRQ",
    )
    assert (ninawa["lat"], ninawa["lon"]) == (36.3, 43.1)
    # a village that is no city goes to its district (a real UCDP row), whose seat is the
    # city of the district's name
    match, why = gaz.resolve_one(
        {
            "place_raw": "Xazir village",
            "place_kind": "locality",
            "country_iso3": "IRQ",
            "lat": 36.641426,
            "lon": 43.474231,
            "admin1": "Nīnawá province",
            "admin2": "Qaḑā’ al Mawşil",
        }
    )
    assert match is not None and match.place_id == "adm2:IRQ:IQG15Q05", why
    district = gaz.place_record(match.place_id)
    assert district["kind"] == "district" and district["name"] == "Al-Mosul"
    assert district["parent_id"] == "adm1:IRQ:IQG15" and district["seat_id"] == MOSUL


# -- real rows in the store, SQLite and PostgreSQL -------------------------------------------


def test_several_real_events_on_one_day_in_mosul_add_up(empty_engine):
    events = events_of(MOSUL_SHEET)
    frame = parse_hxl_csv(MOSUL_SHEET.read_text(encoding="utf-8"), name=MOSUL_SHEET.name)
    result = ingest(empty_engine, frame, source="conflict_data_irq", target=str(MOSUL_SHEET))
    assert result.rows_rejected == 0, result.reject_reasons
    # best, low, high, civilians, one event each; in total and by type of violence
    assert result.rows_in == 2 * 5 * len(events)
    assert result.rows_added_up > 0
    assert result.rows_in == result.rows_new + result.rows_added_up

    stored = query.series_frame(empty_engine, [MOSUL])
    stored["day"] = stored.period_start.dt.strftime("%Y-%m-%d")
    stored["end"] = stored.period_end.dt.strftime("%Y-%m-%d")
    # an event is counted on its earliest possible day (UCDP's monthly sums do the same)
    assert (stored.end == stored.day).all()
    busy = events.groupby(["date_start", "type_of_violence"]).size()
    assert busy.max() > 1  # the fixture has days with several events of one type
    for (day, violence), n in busy.items():
        end = day
        same = events[(events.date_start == day) & (events.type_of_violence == violence)]
        qualifier = {1: "state-based conflict", 2: "non-state conflict"}.get(violence)
        qualifier = qualifier or "one-sided violence"
        figure = stored[(stored.day == day) & (stored.end == end) & (stored.qualifier == qualifier)]
        deaths = figure[figure.metric == "conflict_fatalities"].set_index("estimate").value
        assert deaths.to_dict() == {
            "best": same.best.sum(),
            "low": same.low.sum(),
            "high": same.high.sum(),
        }, day
        civilians = figure[figure.metric == "civilians_killed"].value
        assert civilians.tolist() == [same.deaths_civilians.sum()]
        assert figure[figure.metric == "conflict_events"].value.tolist() == [n]
    # read by hand from the file: 27 December 2016, "Mosul town", state-based conflict
    one_day = events[events.date_start == "2016-12-27"]
    dec27 = stored[(stored.day == "2016-12-27") & (stored.qualifier == "state-based conflict")]
    best = dec27[(dec27.metric == "conflict_fatalities") & (dec27.estimate == "best")]
    assert best.value.tolist() == [one_day[one_day.type_of_violence == 1].best.sum()]
    total = stored[(stored.metric == "conflict_fatalities") & (stored.estimate == "best")]
    assert total[total.qualifier == ""].value.sum() == events.best.sum()
    assert total[total.qualifier != ""].value.sum() == events.best.sum()
    days = events.groupby("date_start").best.sum()
    by_day = total[total.qualifier == ""].set_index("day").value
    assert by_day.sort_index().to_dict() == days.astype(float).sort_index().to_dict()


# -- the whole Iraq file ---------------------------------------------------------------------

needs_shared = shared_data.needs_shared(IRAQ, SHARED / "SOURCES.md")


def sources_md_mosul() -> dict[str, float]:
    """Mosul's monthly sums of `best` as ../shared/data/SOURCES.md states them."""
    text = (SHARED / "SOURCES.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "`conflict_data_irq.csv`" in x and "Mosul" in x)
    stated = line.split("Mosul, sum of `best` by month of `date_start`:")[1].split(". HDX")[0]
    return {
        month: float(value.replace(",", ""))
        for month, value in re.findall(r"(\d{4}-\d{2}) ([\d,]+)", stated)
    }


@needs_shared
def test_the_real_iraq_file_adds_up_and_gives_mosul_its_deaths(empty_engine, gaz):
    events = events_of(IRAQ)
    frame = parse_hxl_csv(IRAQ.read_text(encoding="utf-8"), name=IRAQ.name)
    result = ingest(empty_engine, frame, source="conflict_data_irq", target=str(IRAQ))
    assert result.rows_in == 2 * 5 * len(events)
    assert result.rows_in == result.rows_new + result.rows_rejected + result.rows_added_up
    with empty_engine.connect() as conn:
        reasons = [r for (r,) in conn.execute(sa.select(rejects.c.reason))]
    # what is left names neither a city nor an admin area ("Northern Iraq", "Qandil mountains")
    assert reasons and all(r.startswith("no city matches") for r in reasons)
    assert not [r for r in reasons if r.startswith("conflicting values")]

    stored = query.series_frame(empty_engine, [MOSUL], "conflict_fatalities")
    best = stored[(stored.estimate == "best") & (stored.qualifier == "")]  # all types
    assert set(best.site) == {"Mosul town"}  # no village nearby is counted as Mosul
    monthly = best.groupby(best.period_start.dt.strftime("%Y-%m")).value.sum()
    stated = sources_md_mosul()
    assert len(stated) == 10  # 2016-10 .. 2017-07
    assert {m: monthly[m] for m in stated} == stated

    # ≥ 95 % of the deaths of events that lie in a city or name an admin area are stored,
    # on cities, districts, governorates or the country, and nothing twice
    names_area = (events.adm_1.fillna("") != "") | (events.adm_2.fillna("") != "")
    city_words = events.where_coordinates.str.contains(r" (?:town|city|village)$")
    eligible = events[names_area | city_words].best.sum()
    stored_all = query.series_frame(
        empty_engine, query.all_places(empty_engine).place_id.tolist(), "conflict_fatalities"
    )
    stored_all = stored_all[(stored_all.estimate == "best") & (stored_all.qualifier == "")]
    assert 0.95 * eligible <= stored_all.value.sum() <= events.best.sum()
    kinds = query.all_places(empty_engine).set_index("place_id").kind
    by_kind = stored_all.groupby(stored_all.place_id.map(kinds)).value.sum()
    assert set(by_kind.index) == {"city", "district", "governorate", "country"}
    # Tall ‘Afar town is no GeoNames city: its deaths are its district's, a place of its own
    # beside Mosul's district (two districts, two places)
    on_site = stored_all[stored_all.site == "Tall ‘Afar town"]
    assert set(on_site.place_id) == {"adm2:IRQ:IQG15Q08"}
    assert on_site.value.sum() == events[events.where_coordinates == "Tall ‘Afar town"].best.sum()
    assert on_site.value.sum() == 2292
    district_ids = set(stored_all.place_id[stored_all.place_id.str.startswith("adm2:IRQ:")])
    assert {"adm2:IRQ:IQG15Q08", "adm2:IRQ:IQG15Q05"} <= district_ids


# -- any HXL sheet -----------------------------------------------------------------------------

SHEET = (
    "id,date,place,country,killed,idps\n"
    "#event+code,#date,#loc+name,#country+code,#affected+killed,#affected+idps\n"
)


def test_an_hxl_event_list_adds_up_and_counts_its_events_but_a_stock_still_conflicts(
    empty_engine,
):
    text = SHEET + (
        "e1,2016-12-27,Mosul town,IRQ,19,1000\n"
        "e2,2016-12-27,Mosul town,IRQ,3,1200\n"
        "e3,2016-12-28,Mosul town,IRQ,0,1000\n"
    )
    frame = parse_hxl_csv(text, name="events.csv")
    result = ingest(empty_engine, frame, source="events", target="events.csv")
    stored = query.series_frame(empty_engine, [MOSUL])
    day = stored.period_start.dt.strftime("%Y-%m-%d")
    killed = stored[stored.metric == "conflict_fatalities"]
    assert dict(zip(day[killed.index], killed.value, strict=True)) == {
        "2016-12-27": 22.0,
        "2016-12-28": 0.0,
    }
    counted = stored[stored.metric == "conflict_events"]
    assert dict(zip(day[counted.index], counted.value, strict=True)) == {
        "2016-12-27": 2.0,
        "2016-12-28": 1.0,
    }
    # two IDP counts for one day are two reports that disagree: refused, not added
    # (counted by kind in the summary; each reject names the values)
    assert list(result.reject_reasons) == [
        "conflicting values for the same place, period and breakdown in one input"
    ]
    assert set(query.rejected(empty_engine).reason) == {
        "conflicting values for the same place, period and breakdown in one input: 1000, 1200"
    }
    assert stored[stored.metric == "idps"].value.tolist() == [1000.0]


def test_a_sheet_without_ids_whose_deaths_repeat_per_place_and_day_is_an_event_list():
    text = SHEET.replace("id,", "ref,").replace("#event+code,", "#meta+ref,") + (
        "a,2016-12-27,Mosul town,IRQ,19,\nb,2016-12-27,Mosul town,IRQ,3,\n"
    )
    frame = parse_hxl_csv(text, name="events.csv")
    killed = frame[frame.metric == "conflict_fatalities"]
    assert set(killed.row_kind) == {EVENT}
    assert frame[frame.metric == "conflict_events"].value.tolist() == ["1", "1"]
    assert set(frame[frame.metric == "idps"].row_kind) == {""}
