"""Every connector against the replay server: real values normalized and placed, credentials sent
the way each feed wants them, and the fault matrix (no crash, a clear error in the fetch log, the
stored figures unchanged)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.feeds import FeedClient
from data_sources.feeds.connectors import CONNECTORS, Scope
from data_sources.feeds.connectors.acled import AcledConnector
from data_sources.feeds.refresh import refresh
from data_sources.store import query
from data_sources.store.tables import observations
from devtools.replay_server import FEED_KEYS, SHARED, Reply, replay_scopes
from tests.conftest import store_dump
from tests.shared_data import needs_shared

SCOPES = replay_scopes()
DATA_PATH = {  # the route that carries each feed's figures
    "hapi": "/api/v2/affected-people/idps",
    "dtm": "/v3/displacement/admin2",
    "wfp": "/dataset/x/resource/y/download/wfp_food_prices_syr.csv",
    "ucdp": "/api/gedevents/25.1",
    "acled": "/api/acled/read",
    "reliefweb": "/v2/reports",
    "unhcr": "/population/v1/population/",
    "fts": "/v1/fts/flow/custom-search",
    "hxl": "/files/aleppo_prices.csv",
}
A_FIELD = {
    "hapi": "population",
    "dtm": "numPresentIdpInd",
    "ucdp": "best",
    "acled": "fatalities",
    "reliefweb": "fields",
    "unhcr": "refugees",
    "fts": "fundingTotal",
}
CSV_FEEDS = {"wfp", "hxl"}


def run(engine, source: str, scope: Scope | None = None):
    return refresh(engine, [source], scope or SCOPES[source])[0]


def series(engine, city: str, metric: str, **filters) -> pd.DataFrame:
    cities = query.cities(engine)
    ids = cities.loc[cities.name == city, "place_id"].tolist()
    assert ids, f"{city} not in store"
    df = query.series_frame(engine, ids, metric)
    for key, value in filters.items():
        df = df[df[key] == value]
    return df


def fingerprint(engine) -> str:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(observations).order_by(*observations.primary_key)).all()
    return hashlib.sha1(repr(rows).encode()).hexdigest()


# -- real values, placed on cities ------------------------------------------------------------
def test_hapi_food_price_equals_the_wfp_file(feeds, empty_engine):
    report = run(empty_engine, "hapi")
    assert report.status == "ok" and report.rows_new > 0
    hapi = series(
        empty_engine,
        "Aleppo",
        "food_price",
        site="Al-Cha'ar",
        qualifier="Wheat flour, retail",
        unit="SYP/KG",
    )
    jan = hapi[hapi.period_start == "2017-01-15"]
    assert jan.value.tolist() == [260.0] and jan.source.tolist() == ["hapi"]
    run(empty_engine, "wfp")
    wfp = series(
        empty_engine,
        "Aleppo",
        "food_price",
        site="Al-Cha'ar",
        qualifier="Wheat flour, retail",
        unit="SYP/KG",
        source="wfp",
    )
    assert wfp[wfp.period_end.dt.strftime("%Y-%m") == "2017-01"].value.tolist() == [260.0]


def test_hapi_themes_land_with_their_metrics(feeds, empty_engine):
    run(empty_engine, "hapi")
    cat = query.catalogue(empty_engine, query.cities(empty_engine).place_id.tolist())
    hapi = set(cat[cat.source == "hapi"].metric)
    assert {
        "idps",
        "people_in_need",
        "conflict_events",
        "conflict_fatalities",
        "food_price",
        "population",
    } <= hapi
    needs = series(empty_engine, "Aleppo", "people_in_need")
    assert needs.value.tolist() == [5000.0]  # the in-need row, not the targeted one
    sent = feeds.requests_to("/api/v2/affected-people/idps")
    assert all(r.query["app_identifier"] == FEED_KEYS["HAPI_APP_IDENTIFIER"] for r in sent)


def test_ucdp_real_event_is_placed_by_coordinates(feeds, empty_engine, monkeypatch):
    monkeypatch.setenv("UCDP_PAGE_SIZE", "250")
    report = run(empty_engine, "ucdp")
    assert report.status == "ok" and report.pages == 3  # 601 events in pages of 250
    deaths = series(empty_engine, "Bhāndāria", "conflict_fatalities")
    on_day = deaths[deaths.period_start == "2013-12-13"]
    day = on_day[on_day.qualifier == ""]  # the total; beside it, the type of violence
    assert sorted(day.estimate) == ["best", "high", "low"] and set(day.value) == {1.0}
    by_type = on_day[on_day.qualifier != ""]
    assert len(by_type) == 3 and set(by_type.value) == {1.0}
    assert day.site.iloc[0] == "Bhāndāria town"
    sent = feeds.requests_to("/api/gedevents/25.1")
    assert {r.headers["x-ucdp-access-token"] for r in sent} == {FEED_KEYS["UCDP_ACCESS_TOKEN"]}
    assert [r.query["page"] for r in sent] == ["0", "1", "2"]
    # "Chittagong Division" is no city: its events are the division's (admin 1), a place of
    # its own, never a reject while the row names it
    unplaced = query.rejected(empty_engine, source="ucdp")
    assert not unplaced.reason.str.contains("Chittagong").any()
    division = query.series_frame(empty_engine, ["adm1:BGD:BD20"], "conflict_fatalities")
    assert set(division.city) == {"Chittagong (governorate)"}
    assert "Chittagong Division" in set(division.site)


def test_unhcr_live_equals_bundled_values(feeds, empty_engine):
    run(empty_engine, "unhcr")
    in_turkey = query.series_frame(
        empty_engine, ["country:SYR"], "refugees_from", qualifier="in Türkiye"
    )
    assert in_turkey[in_turkey.period_end == "2017-12-31"].value.tolist() == [3424237.0]
    total = query.series_frame(empty_engine, ["country:SYR"], "refugees_from", qualifier="")
    assert total[total.period_end == "2017-12-31"].value.tolist() == [6310498.0]


def test_fts_funding_received_by_jordan_in_2020(feeds, empty_engine):
    report = run(empty_engine, "fts")
    assert report.status == "ok"
    funding = query.series_frame(empty_engine, ["country:JOR"], "funding_received")
    assert funding.value.tolist() == [714246261.0]
    assert funding.period_start.dt.strftime("%Y-%m-%d").tolist() == ["2020-01-01"]


def test_dtm_splits_and_district_total_on_mosul(feeds, empty_engine):
    report = run(empty_engine, "dtm")
    assert report.status == "ok"
    idps = series(empty_engine, "Mosul", "idps", source="dtm")
    total = idps[idps.qualifier == ""].sort_values("period_start")
    # synthetic fixture: splits 1000 + 200 + 30 in round 1, doubled in round 2
    assert total.value.tolist() == [1230.0, 2460.0]
    assert "reason: Conflict; from: Anbar" in set(idps.qualifier)
    sent = feeds.requests_to("/v3/displacement/admin2")
    assert sent[0].headers["ocp-apim-subscription-key"] == FEED_KEYS["DTM_SUBSCRIPTION_KEY"]
    # the governorate is kept as a region of its own, never put on a city
    ninewa = query.series_frame(empty_engine, ["region:ninewa-iraq"], "idps", qualifier="")
    assert ninewa.sort_values("period_start").value.tolist() == [1230.0, 2460.0]


@needs_shared(SHARED / "api-samples" / "iom-dtm")
def test_dtm_real_al_mosul_round_lands_on_mosul(feeds, empty_engine):
    """Real DTM values, read from the shared folder at test time, never committed."""
    real = json.loads(
        (
            SHARED
            / "api-samples"
            / "iom-dtm"
            / "idpadmin2data-getadmin2datav2-admin0pcode-irq.json"
        ).read_text()
    )
    saved = feeds.data["dtm"]["IRQ"]
    feeds.data["dtm"]["IRQ"] = real
    try:
        report = run(empty_engine, "dtm")
    finally:
        feeds.data["dtm"]["IRQ"] = saved
    assert report.status == "ok"
    idps = series(empty_engine, "Mosul", "idps", source="dtm", qualifier="")
    by_day = dict(zip(idps.period_start.dt.strftime("%Y-%m-%d"), idps.value, strict=True))
    assert by_day["2017-06-30"] == 661098.0 and by_day["2017-12-31"] == 550842.0
    assert idps.match_method.iloc[0] == "pcode"  # IRQ-G15Q05 -> the city of Mosul


def test_acled_token_is_fetched_once_and_renewed_when_refused(feeds, tmp_path):
    connector = AcledConnector()
    with FeedClient("acled") as client:
        first = list(connector.fetch(client, SCOPES["acled"]))
        feeds.expire_tokens()  # the API now refuses the token we hold
        second = list(connector.fetch(client, SCOPES["acled"]))
    assert len(first[0].records) == len(second[0].records) == 4
    grants = [
        dict(pair.split("=") for pair in r.body.decode().split("&"))["grant_type"]
        for r in feeds.requests_to("/oauth/token")
    ]
    assert grants == ["password", "refresh_token"]
    reads = feeds.requests_to("/api/acled/read")
    assert [r.headers["authorization"].startswith("Bearer ") for r in reads] == [True] * 3


def test_acled_events_sum_per_location_and_day(feeds, empty_engine):
    run(empty_engine, "acled")
    deaths = series(empty_engine, "Mosul", "conflict_fatalities", source="acled")
    battles = deaths[deaths.qualifier == "Battles"]
    assert battles.value.tolist() == [6.0]  # two synthetic battles at Mosul on 1 March: 5 + 1


def test_reliefweb_counts_reports_per_week_with_links(feeds, empty_engine):
    run(empty_engine, "reliefweb")
    weekly = series(empty_engine, "Mosul", "reports").sort_values("period_start")
    assert weekly.value.tolist() == [2.0, 3.0]  # weeks of 27 Feb and 6 Mar 2017
    assert weekly.period_start.dt.strftime("%Y-%m-%d").tolist() == ["2017-02-27", "2017-03-06"]
    body = json.loads(feeds.requests_to("/v2/reports")[0].body)
    assert body["query"]["value"] == '"Mosul"'
    assert feeds.requests_to("/v2/reports")[0].query["appname"] == FEED_KEYS["RELIEFWEB_APPNAME"]


@pytest.mark.parametrize("source", ["ucdp", "hapi"])
def test_records_repeated_across_pages_count_once(feeds, empty_engine, monkeypatch, source):
    """The second page starts with the last records of the first (the feed moved under us):
    sums over records (events at one place and day) must not count them twice."""
    monkeypatch.setenv("UCDP_PAGE_SIZE", "250")
    monkeypatch.setattr("data_sources.feeds.connectors.hapi.PAGE", 2)
    baseline = run(empty_engine, source)
    assert baseline.status == "ok" and baseline.pages >= 3
    before = fingerprint(empty_engine)
    feeds.fault(DATA_PATH[source], "overlap", arg=5, after=1)
    report = run(empty_engine, source)
    assert report.status == "ok" and report.rows_new == 0 and report.rows_revised == 0
    # the same figures as before: none counted twice, none refused as conflicting
    assert (report.rows_in, report.rows_rejected) == (baseline.rows_in, baseline.rows_rejected)
    assert fingerprint(empty_engine) == before


def test_value_changed_between_refreshes_becomes_a_revision(feeds, empty_engine):
    assert run(empty_engine, "fts").rows_new == 1
    feeds.fault(DATA_PATH["fts"], "change_value", arg=("fundingTotal", 2))
    report = run(empty_engine, "fts")
    assert report.status == "ok" and report.rows_revised == 1
    with empty_engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                observations.c.revision, observations.c.value, observations.c.is_current
            ).order_by(observations.c.revision)
        ).all()
    assert [tuple(r) for r in rows] == [(1, 714246261.0, False), (2, 1428492522.0, True)]


def test_secrets_never_reach_the_store(feeds, empty_engine):
    for source in ("hapi", "dtm", "ucdp", "acled", "reliefweb"):
        feeds.fault(DATA_PATH[source], "500", times=-1)
        report = run(empty_engine, source)
        assert report.status == "failed"
    feeds.clear()
    for source in ("hapi", "dtm", "ucdp", "acled", "reliefweb"):
        assert run(empty_engine, source).status == "ok"
    dump = store_dump(empty_engine)
    assert "HTTP 500 after" in dump  # the errors are there...
    for secret in FEED_KEYS.values():  # ...without any key
        assert secret not in dump


def test_a_token_the_feed_issued_is_scrubbed_where_it_echoes_back(feeds, empty_engine):
    """ACLED's bearer token is no setting (the feed issues it at run time) yet travels in a
    header; a server that echoes it in an error must not put it in the store."""
    seen: list[str] = []

    def echo(req):
        seen.append(req.headers.get("authorization", "")[7:])
        return Reply(400, {"message": f"upstream failed for {req.headers.get('authorization')}"})

    saved = feeds.routes[DATA_PATH["acled"]]
    feeds.routes[DATA_PATH["acled"]] = echo
    try:
        report = run(empty_engine, "acled")
    finally:
        feeds.routes[DATA_PATH["acled"]] = saved
    assert report.status == "failed" and "upstream failed for Bearer ***" in report.error
    token = seen[0]
    assert len(token) >= 20
    dump = store_dump(empty_engine)
    assert "upstream failed for Bearer ***" in dump and token not in dump


# -- the fault matrix -------------------------------------------------------------------------
TRANSIENT = ["delay", "reset", "500", "503", "429", "truncated"]
BROKEN = ["html", "invalid_json", "empty_body", "rename_field", "drop_field", "wrong_type"]
JSON_ONLY = ("invalid_json", "rename_field", "drop_field", "empty_page", "duplicate", "wrong_type")
# Sized to what it proves. A fault is caught in the feed layer, before anything is written, the
# same code for both stores: the whole matrix runs on SQLite; PostgreSQL gets one fault of each
# outcome (retried then failed, refused, absorbed) for every feed, which proves its store is
# left unchanged and its fetch log written the same way.
ON_POSTGRESQL = ("500", "html", "duplicate")


def _faults(source: str) -> list[str]:
    every = [*TRANSIENT, *BROKEN, "empty_page", "duplicate"]
    return [f for f in every if not (source in CSV_FEEDS and f in JSON_ONLY)]


# every feed of the registry, not a list of this file's: a new connector gets the matrix (and
# fails it until DATA_PATH names the route that carries its figures)
MATRIX = [
    pytest.param(backend, source, fault, id=f"{backend}-{source}-{fault}")
    for source in CONNECTORS
    for fault in _faults(source)
    for backend in ("sqlite", "postgresql")
    if backend == "sqlite" or fault in ON_POSTGRESQL
]


def test_every_registered_feed_has_its_fault_route():
    """The matrix needs each feed's data route; a feed missing here is named, not skipped."""
    assert set(DATA_PATH) == set(CONNECTORS), set(CONNECTORS) ^ set(DATA_PATH)
    json_feeds = set(CONNECTORS) - CSV_FEEDS
    assert set(A_FIELD) == json_feeds, set(A_FIELD) ^ json_feeds


EXPECTED_ERROR = {
    "html": "HTML page",
    "invalid_json": "invalid or truncated JSON",
    "empty_body": "empty body",
    "rename_field": "lacks field",
    "drop_field": "lacks field",
    "wrong_type": "[field '",
    "delay": "timed out",
    "reset": "connection failed",
    "500": "HTTP 500",
    "503": "HTTP 503",
    "429": "HTTP 429",
    "truncated": "connection failed",
}


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "source", "fault"), MATRIX)
def test_fault_matrix(feeds, empty_engine, monkeypatch, backend, source, fault):
    monkeypatch.setenv("HTTP_ATTEMPTS", "3")
    baseline = run(empty_engine, source)
    assert baseline.status == "ok" and baseline.rows_new > 0
    before = fingerprint(empty_engine)
    path = DATA_PATH[source]
    arg = {
        "delay": 4.0,
        "503": 0,
        "429": 0,
        "rename_field": (A_FIELD.get(source), "renamed"),
        "drop_field": A_FIELD.get(source),
        "duplicate": 2,
    }.get(fault)

    # once: retried and absorbed (transient), or the whole source refused (broken). Only the
    # delay needs a short read timeout; a short one for every fault made answers of a loaded
    # machine time out too (a retry the test did not ask for).
    if fault == "delay":
        monkeypatch.setenv("HTTP_READ_TIMEOUT", "2")
    feeds.fault(path, fault, times=1, arg=arg)
    report = run(empty_engine, source)
    if fault in TRANSIENT:
        assert report.status == "ok", report.error
        assert report.retries == 1 and report.rows_new == 0 and report.rows_revised == 0
    elif fault in BROKEN:
        assert report.status == "failed"
        assert EXPECTED_ERROR[fault] in report.error and report.error.startswith(f"{source}: ")
        assert "127.0.0.1" in report.error  # the URL, without secrets
        if "field" in fault:
            assert f"'{A_FIELD[source]}'" in report.error
    elif fault == "empty_page" or fault == "duplicate":
        assert report.status == "ok" and report.rows_new == 0 and report.rows_revised == 0
    assert fingerprint(empty_engine) == before

    # always: every attempt fails, the source is reported failed, the store is untouched
    if fault in TRANSIENT:
        feeds.clear()
        feeds.fault(path, fault, times=-1, arg=arg)
        report = run(empty_engine, source)
        feeds.clear()
        assert report.status == "failed" and "after 3 attempts" in report.error
        assert EXPECTED_ERROR[fault] in report.error
        assert fingerprint(empty_engine) == before

    log = query.fetches(empty_engine)
    last = log.iloc[0]
    assert last.source == source
    if report.status == "failed":
        assert last.status == "failed" and last.error == report.error
    fresh = query.freshness(empty_engine).set_index("source").loc[source]
    assert fresh.last_success is not None and not pd.isna(fresh.last_success)


@pytest.mark.parametrize("source", ["hapi", "dtm", "ucdp", "acled", "unhcr", "wfp"])
def test_every_country_of_the_scope_is_asked_for(feeds, source):
    """A country without data must not end the fetch: the next one is still asked for."""
    from data_sources.feeds.connectors import CONNECTORS

    countries = ["SYR", "IRQ", "BGD", "MEX"]  # Mexico: beyond the old hand-kept code tables
    with FeedClient(source) as client:
        try:
            for _ in CONNECTORS[source]().fetch(client, Scope(countries)):
                pass
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{source} stopped: {exc}")
    asked = {
        r.query.get(k)
        for r in feeds.requests_to(DATA_PATH[source])
        for k in ("location_code", "Admin0Pcode", "Country", "iso", "coo")
    }
    expected = {
        "hapi": {"SYR", "IRQ", "BGD"},
        "dtm": {"SYR", "IRQ", "BGD"},
        "ucdp": {"652", "645", "771", "70"},
        "acled": {"760", "368", "50", "484"},
        "unhcr": {"SYR", "IRQ", "BGD"},
    }.get(source)
    if source == "wfp":  # asks HDX for each country's dataset; no dataset is a note, not a stop
        ids = {r.query["id"] for r in feeds.requests_to("/api/3/action/package_show")}
        assert ids == {
            "wfp-food-prices-for-syrian-arab-republic",
            "wfp-food-prices-for-iraq",
            "wfp-food-prices-for-bgd",
            "wfp-food-prices-for-mex",
        }
    else:
        assert expected <= asked


def test_country_without_a_wfp_dataset_is_a_note_not_a_failure(feeds, empty_engine):
    report = run(empty_engine, "wfp", Scope(["IRQ", "SYR"]))
    assert report.status == "ok" and report.rows_new > 0
    assert report.notes == "HDX has no WFP price dataset for IRQ"


def test_feeds_are_fetched_side_by_side_and_stored_in_order(feeds, empty_engine, monkeypatch):
    """A slow feed does not hold the others up: FTS is asked while UNHCR is still waiting."""
    monkeypatch.setenv("HTTP_READ_TIMEOUT", "5")
    feeds.fault(DATA_PATH["unhcr"], "delay", arg=1.5)
    scope = Scope(["SYR", "JOR"], since=date(2020, 1, 1), until=date(2020, 12, 31))
    reports = refresh(empty_engine, ["unhcr", "fts"], scope)
    assert [r.source for r in reports] == ["unhcr", "fts"]
    asked_unhcr = feeds.requests_to(DATA_PATH["unhcr"])[0].at
    asked_fts = feeds.requests_to("/v1/public/location")[0].at
    assert asked_fts < asked_unhcr + 1.5  # before UNHCR's answer came
    log = query.fetches(empty_engine).sort_values("fetch_id")
    assert log.source.tolist()[-2:] == ["unhcr", "fts"]  # one writer, in the order asked
