"""Connectors on real recorded payloads: nothing real is dropped without a reason.

The HAPI tables and DTM responses are real but carry IOM DTM and ACLED data, which must not be
committed: they are read from ../shared/data at test time (tests skip when it is absent). The
ReliefWeb and UNHCR responses are recorded and small, and committed under tests/fixtures/feeds
with their origin (README there).
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from data_sources.feeds.connectors import Scope
from data_sources.feeds.refresh import refresh
from data_sources.store import query
from data_sources.store.tables import observations, series
from devtools.replay_server import FIXTURES, SHARED, hapi_records
from tests import shared_data

HAPI_CONFLICT = SHARED / "acled-hdx" / "hdx_hapi_conflict_event_global_2025.csv"
HAPI_IDPS = SHARED / "iom-dtm" / "hdx_hapi_idps_global.csv"
DTM_TCD = SHARED / "api-samples" / "iom-dtm" / "displacement-admin2-admin0pcode-tcd.json"
needs_shared = shared_data.needs_shared(HAPI_CONFLICT, HAPI_IDPS)


def balanced(report) -> None:
    """The summary's account adds up: every row in is stored, added up, repeated or rejected."""
    assert report.status == "ok", report.error
    assert report.rows_in == report.rows_accounted, report.balance()
    assert report.balance().startswith(f"{report.rows_in:,} rows in = ")


def serve_hapi(feeds, countries: set[str]) -> None:
    feeds.data["hapi"] = {name: [] for name in feeds.data["hapi"]}
    feeds.data["hapi"]["conflict-events"] = hapi_records(HAPI_CONFLICT, countries)
    feeds.data["hapi"]["idps"] = hapi_records(HAPI_IDPS, countries)


@pytest.fixture
def real_hapi(feeds):
    saved = feeds.data["hapi"]
    yield feeds
    feeds.data["hapi"] = saved


@needs_shared
def test_hapi_real_rows_keep_their_country_page_and_flags(real_hapi, empty_engine):
    """Real ACLED-via-HAPI rows of Syria, Nigeria (HAPI warnings) and Kosovo (HAPI errors),
    served without `admin_level` (the request fixes it), two countries in one refresh."""
    serve_hapi(real_hapi, {"SYR", "NGA", "XKX"})
    real_hapi.hapi_omit_admin_level = True
    report = refresh(empty_engine, ["hapi"], Scope(["SYR", "NGA", "XKX"]))[0]
    balanced(report)
    assert report.rows_new > 0
    figures = query.series_frame(
        empty_engine, query.all_places(empty_engine).place_id.tolist(), "conflict_events"
    )
    # each figure links to the request of its own country and admin level, never another's
    assert len(figures) > 0
    for country in ("SYR", "NGA"):
        mine = figures[figures.source_url.str.contains(f"location_code={country}")]
        assert len(mine) > 0
        assert mine.source_url.str.contains("admin_level=").all()
    # HAPI's warnings are kept with the figure and counted in the refresh's notes
    warned = figures[figures.quote.str.startswith("HDX HAPI warning: PCode length NG")]
    assert len(warned) > 0
    assert "rows carry a HAPI warning" in report.notes
    assert "3 rows carry a HAPI error (kept, shown with the figure)" in report.notes


@needs_shared
def test_hapi_provider_names_stand_in_for_empty_standard_names(real_hapi, empty_engine):
    """Real rows (South Sudanese states under SDN) whose admin2_name is empty but whose
    provider_admin2_name is set: never "no place name"; the provider's name is the place."""
    serve_hapi(real_hapi, {"SDN"})
    report = refresh(empty_engine, ["hapi"], Scope(["SDN"]))[0]
    balanced(report)
    reasons = query.rejected(empty_engine, source="hapi").reason
    assert not reasons.str.contains("no place name").any()
    with empty_engine.connect() as conn:
        named = set(
            conn.execute(sa.select(series.c.place_raw).where(series.c.source == "hapi")).scalars()
        )
    assert "Lakes" in named  # the provider's name placed the figure (on its admin area)


@shared_data.needs_shared(DTM_TCD)
def test_dtm_v3_real_chad_keeps_sex_reason_and_origin(feeds, empty_engine):
    """Real DTM v3 for Chad (read from ../shared/data, never committed): every record becomes
    figures with its reason, origin and sex split; none is dropped. Chad's districts are not
    cities: each is stored as the district itself, a place of its own named by its p-code."""
    saved = feeds.data["dtm"]
    feeds.data["dtm"] = {"TCD": json.loads(DTM_TCD.read_text())}
    try:
        report = refresh(empty_engine, ["dtm"], Scope(["TCD"]))[0]
    finally:
        feeds.data["dtm"] = saved
    balanced(report)
    o = observations.c
    with empty_engine.connect() as conn:
        stored = conn.execute(
            sa.select(series.c.qualifier, o.value, series.c.place_id)
            .join(series, series.c.series_id == o.series_id)
            .where(
                series.c.source == "dtm",
                series.c.place_raw == "Fouli",
                o.period_start == date(2025, 1, 31),
                o.is_current,
            )
        ).all()
    fouli = {qualifier: value for qualifier, value, _ in stored}
    # Fouli is a district of Lac (p-code TD0704), not a city: stored as the district itself
    assert {place for *_, place in stored} == {"adm2:TCD:TD0704"}  # its p-code
    # round 24: 112,192 IDPs from Lac displaced by conflict (47,022 men, 65,170 women) and
    # 4,146 by a natural disaster (1,710 men, 2,436 women)
    assert fouli["reason: Conflict; from: Lac"] == 112192
    assert fouli["reason: Conflict; from: Lac; sex: male"] == 47022
    assert fouli["reason: Conflict; from: Lac; sex: female"] == 65170
    assert fouli["reason: Natural disaster; from: Lac"] == 4146
    # the district's totals, summed over its splits
    assert (fouli[""], fouli["sex: male"], fouli["sex: female"]) == (116338, 48732, 67606)
    assert report.rows_new > 0


def test_reliefweb_recorded_reports_count_and_a_bad_one_is_a_reject(feeds, empty_engine):
    """A recorded ReliefWeb answer (v1, Nepal, September 2020: `date.original` and `url_alias`
    only) counts its four reports; a report without any date is one reject with its reason,
    not the end of the feed."""
    recorded = json.loads((FIXTURES / "reliefweb" / "recorded_v1_reports_NPL.json").read_text())
    undated = {"id": "999", "fields": {"title": "A report without a date", "url": "https://x.y/"}}
    saved = feeds.data["reliefweb"]
    feeds.data["reliefweb"] = {"Kathmandu": [*recorded["data"], undated]}
    try:
        report = refresh(empty_engine, ["reliefweb"], Scope(["NPL"], ["Kathmandu"]))[0]
    finally:
        feeds.data["reliefweb"] = saved
    balanced(report)
    assert (report.rows_new, report.rows_rejected) == (1, 1)
    cities = query.cities(empty_engine)
    place = cities.loc[cities.name == "Kathmandu", "place_id"].tolist()
    weekly = query.series_frame(empty_engine, place, "reports")
    assert weekly.value.tolist() == [4.0]  # 15-17 September 2020: one week
    assert weekly.period_start.dt.strftime("%Y-%m-%d").tolist() == ["2020-09-14"]
    assert (
        "https://reliefweb.int/report/nepal/nepal-earthquake-national-seismological"
        in (weekly.quote.iloc[0])
    )
    assert report.reject_reasons == {"report 999 has no date (fields.date.created)": 1}


def test_unhcr_recorded_record_with_masked_origin_is_a_reject(feeds, empty_engine):
    """The recorded UNHCR record (origin "-", numbers as strings, "oip": "-") beside real
    Syrian rows: the Syrian figures land, the masked one is a reject with its reason, and the
    records that give no figure ('-' or 0) are counted by name."""
    recorded = json.loads((FIXTURES / "unhcr" / "recorded_coaTUR.json").read_text())["items"]
    saved = feeds.data["unhcr"]
    feeds.data["unhcr"] = [*saved, *recorded]
    try:
        report = refresh(empty_engine, ["unhcr"], Scope(["SYR"]))[0]
    finally:
        feeds.data["unhcr"] = saved
    balanced(report)
    assert report.rows_new > 0
    assert report.reject_reasons == {"origin is not the country asked for (SYR):": 1}
    reason = query.rejected(empty_engine, source="unhcr").reason.tolist()
    assert reason == ["origin is not the country asked for (SYR): '-'"]
    assert set(report.skipped) <= {
        "refugees abroad: '-' (does not apply) or 0",
        "IDPs: '-' (does not apply) or 0",
    }
    raw = json.loads(query.rejected(empty_engine, source="unhcr").raw.iloc[0])
    assert (raw["value"], raw["qualifier"]) == (2940735, "in Türkiye")


@pytest.mark.parametrize(
    "source", ["hapi", "dtm", "wfp", "ucdp", "acled", "reliefweb", "unhcr", "fts", "hxl"]
)
def test_every_feed_accounts_for_every_row(feeds, empty_engine, source):
    """rows in = stored + added up + repeated + rejected, for every feed, in its report."""
    from devtools.replay_server import replay_scopes

    report = refresh(empty_engine, [source], replay_scopes()[source])[0]
    balanced(report)
    assert report.rows_in > 0


def test_the_command_line_states_each_feeds_account(feeds, store_url, monkeypatch, capsys):
    """What a person reads after `refresh`: one line per feed saying where every row went."""
    from data_sources.cli import main

    monkeypatch.setenv("DATABASE_URL", store_url)
    assert main(["refresh", "--source", "ucdp", "--country", "BGD"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("ucdp rows:"))
    numbers = [
        int(n.replace(",", ""))
        for n in re.findall(r"[\d,]+(?= (?:rows in|stored|added up|repeated|rejected))", line)
    ]
    rows_in, stored, added_up, repeated, rejected = numbers
    assert rows_in == stored + added_up + repeated + rejected and stored > 0


def test_ucdp_recorded_api_event_lands_with_best_low_high(feeds, empty_engine):
    """The recorded UCDP API answer (GED 25.1, one Ethiopian event at Degehabur, 13 May 2010:
    best 3, low 3, high 5) through the connector as the API sends it."""
    recorded = json.loads(
        (FIXTURES / "ucdp" / "recorded_gedevents_25.1_pagesize1_page0.json").read_text()
    )
    saved = feeds.data["ucdp"]
    feeds.data["ucdp"] = recorded["Result"]
    try:
        report = refresh(empty_engine, ["ucdp"], Scope(["ETH"]))[0]
    finally:
        feeds.data["ucdp"] = saved
    balanced(report)
    assert feeds.requests_to("/api/gedevents/25.1")[0].query["Country"] == "530"
    places = query.all_places(empty_engine)
    deaths = query.series_frame(empty_engine, places.place_id.tolist(), "conflict_fatalities")
    by_estimate = dict(
        zip(
            deaths[deaths.qualifier == ""].estimate,
            deaths[deaths.qualifier == ""].value,
            strict=True,
        )
    )
    assert by_estimate == {"best": 3.0, "low": 3.0, "high": 5.0}
    assert set(deaths.period_start.dt.strftime("%Y-%m-%d")) == {"2010-05-13"}


@needs_shared
def test_hapi_rows_naming_only_an_admin1_area_are_rejects_that_say_so(real_hapi, empty_engine):
    """Real Ukrainian ACLED rows at sea (only provider_admin1_name: "Black Sea", "Sea of
    Azov"): never forced onto a city, never "no place name"."""
    serve_hapi(real_hapi, {"UKR"})
    report = refresh(empty_engine, ["hapi"], Scope(["UKR"]))[0]
    balanced(report)
    reasons = set(query.rejected(empty_engine, source="hapi").reason)
    assert (
        "names only an admin 1 area, not a city: 'Black Sea' in UKR "
        "(figures for governorates are not placed yet)"
    ) in reasons
    assert not any(r.startswith("no place name") for r in reasons)
