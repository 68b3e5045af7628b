"""The read-only API (`web/api.py`) on both stores: `/api/v1/series` gives the rows
`python -m data_sources series` prints, the registry's no-redistribution rule holds on every
endpoint, paging adds up, and hostile parameters are a 400 in JSON, never a traceback."""

from __future__ import annotations

import io
import json

import jsonschema
import pandas as pd
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from data_sources import sources
from data_sources.store.engine import make_engine
from data_sources.store.tables import series as series_table
from tests.cli import run

QUERIES = {
    "prices": ["--city", "Aleppo", "--metric", "food_price", "--unit", "SYP/KG"],
    "fatalities by month": [
        "--city",
        "Mosul",
        "--metric",
        "conflict_fatalities",
        "--period",
        "month",
    ],  # fmt: skip
    "country": ["--city", "Syria", "--metric", "refugees_from"],
}


def _params(args: list[str]) -> dict[str, str]:
    """CLI options as API parameters (`--as-of` → `as_of`)."""
    return {args[i][2:].replace("-", "_"): args[i + 1] for i in range(0, len(args), 2)}


@pytest.fixture
def client(loaded_url, monkeypatch):
    import web.api

    monkeypatch.setenv("DATABASE_URL", loaded_url)
    with TestClient(Starlette(routes=web.api.ROUTES)) as test_client:
        yield test_client


def _all_rows(client, path: str, params: dict) -> list[dict]:
    """Every page of an answer, following `next` (which must add up to `total`)."""
    answer = client.get(path, params={**params, "limit": 10_000})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = body["rows"]
    while body["next"]:
        body = client.get(body["next"]).json()
        rows += body["rows"]
    assert len(rows) == answer.json()["total"]
    return rows


@pytest.mark.parametrize("as_of", [None, "2026-11-24", "2026-11-24T00:00:00"])
@pytest.mark.parametrize("query", list(QUERIES))
def test_series_gives_the_rows_the_command_line_prints(client, loaded_url, query, as_of):
    args = QUERIES[query] + (["--as-of", as_of] if as_of else [])
    printed = run(loaded_url, "series", *args, "--format", "json")
    assert printed.returncode == 0, printed.stderr
    expected = json.loads(printed.stdout)
    served = _all_rows(client, "/api/v1/series", _params(args))
    assert expected and served == expected
    # and the CSV, byte for byte
    printed = run(loaded_url, "series", *args, raw=True)
    answer = client.get("/api/v1/series", params={**_params(args), "format": "csv",
                                                  "limit": 10_000})  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content == printed.stdout
    assert int(answer.headers["x-total-count"]) == len(expected)


def test_every_figure_row_carries_its_source_link_citation_and_licence(client, loaded_url):
    rows = _all_rows(client, "/api/v1/series", _params(QUERIES["prices"]))
    for row in rows:
        assert row["source"] == "wfp"
        assert row["source_url"].startswith("https://data.humdata.org/")
        assert row["citation"] and row["licence"] == "CC BY-IGO"


def test_as_of_before_the_first_figure_is_the_first_with_a_note(client, loaded_url):
    early = client.get("/api/v1/series", params={**_params(QUERIES["prices"]),
                                                 "as_of": "2001-01-01"}).json()  # fmt: skip
    first = client.get("/api/v1/series", params={**_params(QUERIES["prices"]),
                                                 "as_of": "2026-11-24"}).json()  # fmt: skip
    assert "before the store's first figures" in early["as_of_note"]
    assert early["rows"] == first["rows"] and early["total"] > 0


def test_paging_adds_up_to_the_whole(client):
    params = _params(QUERIES["prices"])
    whole = client.get("/api/v1/series", params={**params, "limit": 10_000}).json()
    first = client.get("/api/v1/series", params={**params, "limit": 7}).json()
    assert first["total"] == whole["total"] and len(first["rows"]) == 7
    assert first["next"].startswith("/api/v1/series?") and "offset=7" in first["next"]
    pages, body = [first], first
    while body["next"] and len(pages) < 3:
        body = client.get(body["next"]).json()
        pages.append(body)
    assert [r for p in pages for r in p["rows"]] == whole["rows"][:21]
    last = client.get("/api/v1/series",
                      params={**params, "offset": whole["total"] - 2}).json()  # fmt: skip
    assert last["rows"] == whole["rows"][-2:] and last["next"] is None
    csv = client.get("/api/v1/series", params={**params, "limit": 5, "format": "csv"})
    assert 'rel="next"' in csv.headers["link"] and "offset=5" in csv.headers["link"]
    assert len(pd.read_csv(io.BytesIO(csv.content))) == 5


def _relabel(url: str, source: str, dataset: str, where) -> int:
    """Synthetic, for the rule only: real UCDP series of the store relabelled as if they were
    another source's (ACLED, or ACLED's table relayed by HDX HAPI). Their numbers are UCDP's;
    nothing here is ACLED data."""
    engine = make_engine(url)
    with engine.begin() as conn:
        done = conn.execute(
            series_table.update().where(where).values(source=source, dataset=dataset)
        ).rowcount
    engine.dispose()
    return done


@pytest.mark.parametrize(("source", "dataset"), [("acled", "acled"), ("hapi", "conflict-events")])
def test_rows_whose_terms_forbid_redistribution_are_never_served(
    client, loaded_url, source, dataset
):
    s = series_table.c
    mosul = s.place_id.in_(
        sa.select(sa.text("place_id"))
        .select_from(sa.text("places"))
        .where(sa.text("name = 'Mosul'"))
    )
    assert _relabel(loaded_url, source, dataset, (s.source == "ucdp") & mosul) > 0
    assert not sources.redistributable(source, dataset)
    # the command line (the host's own store) still prints them
    printed = run(loaded_url, "series", "--city", "Mosul", "--metric", "conflict_fatalities",
                  "--source", source)  # fmt: skip
    assert printed.returncode == 0 and source in printed.stdout
    answer = client.get("/api/v1/series", params={"city": "Mosul", "metric":
                                                  "conflict_fatalities", "source": source})  # fmt: skip
    assert answer.status_code == 404
    answer = client.get("/api/v1/series", params={"city": "Mosul", "metric": "conflict_fatalities"})
    assert answer.status_code == 404  # every Mosul event was relabelled: nothing is left
    # Mosul's changes: the relabelled rows are there (every page of the whole load is minutes)
    for path, params in (("/api/v1/metrics", {"as_of": "2026-11-24"}),
                         ("/api/v1/changes", {"city": "Mosul"})):  # fmt: skip
        rows = _all_rows(client, path, params)
        assert rows, path
        assert not [r for r in rows if (r["source"], r.get("dataset", dataset)) ==
                    (source, dataset)], path  # fmt: skip
    places = {r["name"] for r in _all_rows(client, "/api/v1/places", {})}
    assert "Aleppo" in places and "Mosul" in places  # Mosul holds reported figures too
    listed = {r["source"]: r for r in _all_rows(client, "/api/v1/sources", {})}
    assert listed["acled"]["served"] is False and listed["acled"]["figures"] is None
    assert listed["wfp"]["served"] is True and listed["wfp"]["figures"] > 0


def test_metrics_places_and_changes_answer_with_their_terms(client):
    metrics = _all_rows(client, "/api/v1/metrics", {"city": "Aleppo"})
    wfp = [r for r in metrics if r["source"] == "wfp"]
    assert wfp and all(r["licence"] == "CC BY-IGO" and r["citation"] for r in wfp)
    assert {r["city"] for r in metrics} == {"Aleppo"}
    # one source's change list: every page of the whole load's (270,000 rows) is minutes
    changes = _all_rows(client, "/api/v1/changes", {"source": "reported"})
    assert changes and {r["change"] for r in changes} == {"added"}
    assert all("citation" in r and "licence" in r for r in changes)
    assert client.get("/api/v1/metrics", params={"city": "Atlantis"}).status_code == 404


HOSTILE = [
    ("unknown", b"city=Aleppo&metric=food_price&colour=red", "unknown parameter 'colour'"),
    ("repeated", b"city=Aleppo&metric=food_price&metric=idps", "more than once"),
    ("alias repeated", b"city=Aleppo&place=Mosul&metric=idps", "more than once"),
    ("not utf-8", b"city=Alep%FF&metric=food_price", "not UTF-8"),
    ("nul", b"city=Aleppo%00&metric=food_price", "control character"),
    ("absurd date", b"city=Aleppo&metric=food_price&as_of=99999-01-01", "not a date"),
    ("year zero", b"city=Aleppo&metric=food_price&as_of=0000-01-01", "not a date"),
    ("overflow", b"city=Aleppo&metric=food_price&as_of=9999-12-31T23:00:00-05:00", "range"),
    ("huge limit", b"city=Aleppo&metric=food_price&limit=99999999", "at most"),
    ("negative offset", b"city=Aleppo&metric=food_price&offset=-1", "whole number"),
    ("long", b"city=" + b"A" * 300 + b"&metric=food_price", "longer than"),
    ("bad choice", b"city=Aleppo&metric=food_price&period=fortnight", "one of"),
    ("missing", b"metric=food_price", "'city' is required"),
]


@pytest.fixture
def bare_client(tmp_path, monkeypatch):
    """A client whose store is never opened: a refused request is refused before any read."""
    import web.api

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-opened.sqlite'}")
    with TestClient(Starlette(routes=web.api.ROUTES)) as test_client:
        yield test_client
    assert not (tmp_path / "never-opened.sqlite").exists()


@pytest.mark.parametrize(("name", "query", "said"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_parameters_are_a_400_in_json(bare_client, name, query, said):
    client = bare_client
    answer = client.get(b"/api/v1/series?".decode() + query.decode("latin-1"))
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert said in answer.json()["error"]
    assert "Traceback" not in answer.text


def test_a_future_as_of_is_the_latest_figures_with_a_note(client):
    answer = client.get("/api/v1/places", params={"as_of": "9999-12-31"}).json()
    assert answer["as_of"] is None and "in the future" in answer["as_of_note"]


def test_store_values_are_data_in_csv(client, loaded_url):
    """A qualifier that reads as a formula leaves as text with a leading quote."""
    s = series_table.c
    engine = make_engine(loaded_url)
    with engine.begin() as conn:
        sid = conn.execute(sa.select(s.series_id).where(s.source == "wfp").limit(1)).scalar()
        conn.execute(series_table.update().where(s.series_id == sid).values(site="=HYPERLINK(1)"))
        place = conn.execute(sa.text(f"select place_id, metric from series where series_id={sid}"))
        place_id, metric = place.first()
    engine.dispose()
    answer = client.get("/api/v1/series", params={"city": place_id, "metric": metric,
                                                  "site": "=HYPERLINK(1)", "format": "csv"})  # fmt: skip
    if answer.status_code == 404:  # a city is asked by name, not id
        name = client.get("/api/v1/places").json()
        pytest.fail(f"{place_id} not found: {[p['name'] for p in name['rows']][:5]}")
    assert "'=HYPERLINK(1)" in answer.text
    json_answer = client.get("/api/v1/series", params={"city": place_id, "metric": metric,
                                                       "site": "=HYPERLINK(1)"}).json()  # fmt: skip
    assert json_answer["rows"][0]["site"] == "=HYPERLINK(1)"  # JSON is data, as stored


def test_openapi_describes_every_route(client):
    import web.api

    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    described = set(doc["paths"])
    assert {r.path for r in web.api.ROUTES} == described
    for item in doc["paths"].values():
        operation = item["get"]
        for param in operation.get("parameters", []):
            assert param["description"] and param["in"] == "query"
            jsonschema.Draft202012Validator.check_schema(param["schema"])
        for response in operation["responses"].values():
            for content in response["content"].values():
                jsonschema.Draft202012Validator.check_schema(content["schema"])
    # and an answer is valid against its own schema
    schema = doc["paths"]["/api/v1/series"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    answer = client.get("/api/v1/series", params={"city": "Aleppo", "metric": "food_price",
                                                  "limit": 50}).json()  # fmt: skip
    jsonschema.validate(answer, schema)
    # every parameter the endpoints take is described
    for path, (_, params, _, _) in web.api.ENDPOINTS.items():
        named = {p["name"] for p in doc["paths"][path]["get"]["parameters"]}
        assert named == {p.name for p in params}
