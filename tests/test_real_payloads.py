"""Connectors on real recorded payloads: nothing real is dropped without a reason.

The HAPI tables and DTM responses are real but carry IOM DTM and ACLED data, which must not be
committed: they are read from ../shared/data at test time (tests skip when it is absent). The
ReliefWeb and UNHCR responses are recorded and small, and committed under tests/fixtures/feeds
with their origin (README there).
"""

from __future__ import annotations

import json

import pytest

from data_sources import query
from data_sources.connectors import Scope
from data_sources.refresh import refresh
from tests.feed_server import SHARED, hapi_records

HAPI_CONFLICT = SHARED / "acled-hdx" / "hdx_hapi_conflict_event_global_2025.csv"
HAPI_IDPS = SHARED / "iom-dtm" / "hdx_hapi_idps_global.csv"
DTM_TCD = SHARED / "api-samples" / "iom-dtm" / "displacement-admin2-admin0pcode-tcd.json"
needs_shared = pytest.mark.skipif(
    not HAPI_CONFLICT.is_file(), reason="the real files in ../shared/data are not on this machine"
)


def balanced(report) -> None:
    """The summary's account adds up: every row in is stored, added up, repeated or rejected."""
    assert report.status == "ok", report.error
    assert report.fetched == report.accounted, report.balance()
    assert report.balance().startswith(f"{report.fetched:,} rows in = ")


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
    assert report.new > 0
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
    assert reasons.str.contains("Lakes").any()  # named, so the reason says which place


@pytest.mark.skipif(not DTM_TCD.is_file(), reason="the real DTM sample is not on this machine")
def test_dtm_v3_real_chad_keeps_sex_reason_and_origin(feeds, empty_engine):
    """Real DTM v3 for Chad (read from ../shared/data, never committed): every record becomes
    figures with its reason, origin and sex split; none is dropped. Chad's districts are not
    cities, so until districts are places of their own they are rejects that say so."""
    saved = feeds.data["dtm"]
    feeds.data["dtm"] = {"TCD": json.loads(DTM_TCD.read_text())}
    try:
        report = refresh(empty_engine, ["dtm"], Scope(["TCD"]))[0]
    finally:
        feeds.data["dtm"] = saved
    balanced(report)
    rows = [json.loads(r) for r in query.rejected(empty_engine, source="dtm").raw]
    fouli = {
        r["qualifier"]: r["value"]
        for r in rows
        if r["place_raw"] == "Fouli" and r["period_start"].startswith("2025-01-31")
    }
    # round 24: 112,192 IDPs from Lac displaced by conflict (47,022 men, 65,170 women) and
    # 4,146 by a natural disaster (1,710 men, 2,436 women)
    assert fouli["reason: Conflict; from: Lac"] == 112192
    assert fouli["reason: Conflict; from: Lac; sex: male"] == 47022
    assert fouli["reason: Conflict; from: Lac; sex: female"] == 65170
    assert fouli["reason: Natural disaster; from: Lac"] == 4146
    # the district's totals, summed over its splits
    assert (fouli[""], fouli["sex: male"], fouli["sex: female"]) == (116338, 48732, 67606)
    reasons = set(query.rejected(empty_engine, source="dtm").reason)
    assert any(r.startswith("no city matches 'Fouli' in TCD") for r in reasons)
    assert all(r.startswith("no city matches") for r in reasons)
