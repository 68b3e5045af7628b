"""The read-only API, `/api/v1/…`: the figures the pages show, as JSON or spreadsheet-safe CSV.

One code path with the pages and the command line: `series` is `series_rows` (what
`python -m data_sources series` prints), the rest are the store's own queries (`query`,
`changes`). Every endpoint takes `as_of`, read, clamped and snapped as the pages read it.
Rows of a source or relayed table whose terms forbid redistribution (ACLED, IOM DTM:
`sources.redistributable`) are never served. Access rules are the middleware's (web/access.py),
not these functions'.

Plain `def` endpoints: Starlette runs them in its thread pool, the store is synchronous.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import lru_cache, wraps
from urllib.parse import urlencode

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from data_sources import sources
from data_sources.errors import STORE_FAILURES, StoreError, store_error
from data_sources.formats import export
from data_sources.redact import redact_url
from data_sources.store import asof, changes, query
from data_sources.store.engine import database_url
from data_sources.store.series_rows import (
    MARKETS,
    PERIODS,
    POINT_OUTPUT,
    SERIES_OUTPUT,
    NotHeld,
    SeriesQuery,
    places_named,
    series_rows,
    servable,
)
from web import store
from web.api_params import AS_OF, PAGING, BadRequest, Param, read, within_store

LOG = logging.getLogger("situation_room.api")
PREFIX = "/api/v1"


# -- parameters ---------------------------------------------------------------------------
CITY = Param(
    "city",
    "a city, or a country or region by name or id (Syria, country:SYR); `place` is the same",
    alias="place",
)
SOURCE = Param("source", "only this source (a key of /api/v1/sources)")
METRIC = Param("metric", "only this metric (see /api/v1/metrics)")
SERIES_PARAMS = (
    Param(CITY.name, CITY.description, required=True, alias="place"),
    Param("metric", "the metric, e.g. food_price, idps, conflict_fatalities", required=True),
    Param("qualifier", "what exactly is counted, e.g. 'Wheat flour - Retail, retail'"),
    Param("site", "market or sub-city site"),
    Param("unit", "e.g. SYP/KG or USD/KG for prices"),
    SOURCE,
    AS_OF,
    Param(
        "period",
        "give the points a chart draws per period (docs/how-figures-combine.md), not every figure",
        kind="choice",
        choices=PERIODS,
    ),
    Param("cumulative", "with period: running totals", kind="bool", default=False),
    Param(
        "markets",
        "with period, for prices: one row per market, or the median market with the "
        "cheapest and dearest as low and high",
        kind="choice",
        choices=MARKETS,
        default="each",
    ),
    *PAGING,
)
PLACES_PARAMS = (
    Param(
        "kind",
        "only places of this kind",
        kind="choice",
        choices=("city", "district", "governorate", "country", "region"),
    ),  # fmt: skip
    AS_OF,
    *PAGING,
)
METRICS_PARAMS = (CITY, METRIC, SOURCE, AS_OF, *PAGING)
SOURCES_PARAMS = (AS_OF, *PAGING)
CHANGES_PARAMS = (
    Param(
        "since",
        "start of the window (exclusive), a date or UTC time; default: the start of the last "
        "successful load (by `as_of`)",
        kind="moment",
    ),
    Param("until", "end of the window; default: `as_of`, else now", kind="moment"),
    SOURCE,
    CITY,
    AS_OF,
    *PAGING,
)


# -- answers ------------------------------------------------------------------------------
class Answer:
    """One page of rows and what the reader needs to quote them."""

    def __init__(self, rows: pd.DataFrame, moment, note: str | None, csv: Callable | None = None):
        self.rows, self.moment, self.note = rows, moment, note
        self.csv = csv or export.csv_bytes


def endpoint(params: tuple[Param, ...]):
    """Read `params`, call the endpoint with them, page its rows; every refusal as JSON."""

    def wrap(build: Callable[[dict], Answer]):
        @wraps(build)
        def handle(request: Request) -> Response:
            try:
                args = read(request.scope.get("query_string", b""), params)
                answer = build(args)
                return _page(request, args, answer)
            except BadRequest as exc:
                return _error(400, str(exc))
            except NotHeld as exc:
                return _error(404, str(exc))
            except (StoreError, *STORE_FAILURES) as exc:
                return _error(503, str(store_error(exc)))
            except Exception:  # noqa: BLE001 - a bug says so in the log, never to the client
                LOG.exception("api: %s failed", request.url.path)
                return _error(500, "the server failed to answer; the error is in its log")

        return handle

    return wrap


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def _page(request: Request, args: dict, answer: Answer) -> Response:
    total = len(answer.rows)
    offset, limit = args["offset"], args["limit"]
    page = answer.rows.iloc[offset : offset + limit]
    nxt = None
    if offset + limit < total:
        kept = [(k, v) for k, v in _given(request) if k != "offset"]
        nxt = f"{request.url.path}?{urlencode([*kept, ('offset', offset + limit)])}"
    as_of_text = asof.format_as_of(answer.moment) if answer.moment else None
    headers = {"X-Total-Count": str(total), "Cache-Control": "no-store"}
    if args["format"] == "csv":
        if nxt:
            headers["Link"] = f'<{nxt}>; rel="next"'
        if as_of_text:
            headers["X-As-Of"] = as_of_text
        return Response(answer.csv(page), media_type="text/csv; charset=utf-8", headers=headers)
    body = {
        "data_version": store.data_version(),
        "as_of": as_of_text,
        "as_of_note": answer.note,
        "total": total,
        "offset": offset,
        "limit": limit,
        "next": nxt,
        "rows": json.loads(page.to_json(orient="records", force_ascii=False)),
    }
    return JSONResponse(body, headers=headers)


def _given(request: Request) -> list[tuple[str, str]]:
    from web.api_params import raw_params

    return raw_params(request.scope.get("query_string", b""))


@lru_cache(maxsize=8)
def _moments(url: str, version: str) -> list:
    """The store's moments once per data version (only a load adds one)."""
    return asof.store_moments(store.engine())


def _moment(args: dict, name: str = "as_of"):
    """`as_of` as the pages take it: clamped to the store's span and snapped."""
    moments = _moments(database_url(), store.data_version())
    return within_store(args[name], moments)


def _terms(source: str, dataset: str) -> tuple[str, str, str]:
    """(citation, licence, link) of a source's relayed table as the registry states them; an
    imported file's source has none (its rows carry their own)."""
    entry = sources.SOURCES.get(source)
    if entry is None:
        return "", "", ""
    if any(d.key == dataset for d in entry.datasets):
        relayed = entry.dataset(dataset)
        return relayed.citation, relayed.licence, entry.url
    return entry.citation, entry.licence, entry.url


def _with_terms(frame: pd.DataFrame) -> pd.DataFrame:
    pairs = frame[["source", "dataset"]].fillna("").itertuples(index=False)
    terms = [_terms(s, d) for s, d in pairs]
    return frame.assign(
        citation=[t[0] for t in terms],
        licence=[t[1] for t in terms],
        source_link=[t[2] for t in terms],
    )


# -- endpoints ----------------------------------------------------------------------------
@endpoint(SERIES_PARAMS)
def series(args: dict) -> Answer:
    """One series: every figure, or the points a chart draws per period."""
    moment, note = _moment(args)
    ask = SeriesQuery(
        city=args["city"],
        metric=args["metric"],
        qualifier=args["qualifier"],
        site=args["site"],
        unit=args["unit"],
        source=args["source"],
        as_of=moment,
        period=args["period"],
        cumulative=args["cumulative"],
        markets=args["markets"],
    )
    return Answer(series_rows(store.engine(), ask, withhold=True), moment, note)


PLACE_COLUMNS = ["place_id", "name", "kind", "country_iso3", "lat", "lon", "population",
                 "pcode", "parent_id", "seat_id"]  # fmt: skip


@endpoint(PLACES_PARAMS)
def places(args: dict) -> Answer:
    """Every place holding a figure the API serves (as of `as_of`)."""
    moment, note = _moment(args)
    engine = store.engine()
    held = query.catalogue(engine, as_of=moment)
    ids = set(held[servable(held)]["place_id"])
    frame = query.all_places(engine)
    frame = frame[frame["place_id"].isin(ids)]
    if args["kind"]:
        frame = frame[frame["kind"] == args["kind"]]
    frame = frame.reindex(columns=PLACE_COLUMNS).reset_index(drop=True)
    frame["population"] = frame["population"].astype("Int64")
    return Answer(frame, moment, note)


METRIC_COLUMNS = ["place_id", "city", "metric", "qualifier", "site", "unit", "estimate", "source",
                  "dataset", "citation", "licence", "source_link"]  # fmt: skip


@endpoint(METRICS_PARAMS)
def metrics(args: dict) -> Answer:
    """The series held (one row per series): what `series` can be asked for."""
    moment, note = _moment(args)
    engine = store.engine()
    ids = None
    if args["city"]:
        match = places_named(engine, args["city"])
        if match.empty:
            raise NotHeld(f"no figures stored for city '{args['city']}'")
        ids = match["place_id"].tolist()
    frame = query.catalogue(engine, ids, as_of=moment)
    frame = frame[servable(frame)]
    for name in ("metric", "source"):
        if args[name]:
            frame = frame[frame[name] == args[name]]
    names = query.all_places(engine).set_index("place_id")["name"]
    frame = _with_terms(frame.assign(city=frame["place_id"].map(names)))
    return Answer(frame.reindex(columns=METRIC_COLUMNS).reset_index(drop=True), moment, note)


SOURCE_COLUMNS = ["source", "title", "citation", "licence", "source_link", "served", "figures",
                  "newest_period", "last_success"]  # fmt: skip


@endpoint(SOURCES_PARAMS)
def sources_(args: dict) -> Answer:
    """Every source: the registry's words, whether the API serves it, and its freshness."""
    moment, note = _moment(args)
    fresh = query.freshness(store.engine(), as_of=moment).set_index("source")
    keys = list(dict.fromkeys([*sources.SOURCES, *fresh.index]))
    rows = []
    for key in keys:
        entry = sources.SOURCES.get(key)
        served = sources.redistributable(key)
        known = fresh.loc[key] if key in fresh.index and served else None
        rows.append(
            {
                "source": key,
                "title": sources.title(key),
                "citation": entry.citation if entry else "",
                "licence": entry.licence if entry else "",
                "source_link": entry.url if entry else "",
                "served": served,
                "figures": None if known is None else known.get("figures"),
                "newest_period": None if known is None else _text(known.get("newest_period")),
                "last_success": None if known is None else _text(known.get("last_success")),
            }
        )
    frame = pd.DataFrame(rows, columns=SOURCE_COLUMNS)
    frame["figures"] = pd.to_numeric(frame["figures"]).astype("Int64")
    return Answer(frame, moment, note)


def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


CHANGE_OUTPUT = [*changes.CHANGE_COLUMNS, "citation", "licence"]


@endpoint(CHANGES_PARAMS)
def changes_(args: dict) -> Answer:
    """Figures added, revised and withdrawn in a window (the Data page's change list)."""
    moment, note = _moment(args)
    engine = store.engine()
    until = args["until"] or moment
    since = args["since"] or changes.last_refresh_start(engine, before=until)
    if since is None:
        raise NotHeld("the store holds no load yet: nothing has changed")
    if until is not None and until <= since:
        raise BadRequest("'until' must come after 'since'")
    found = changes.changes(engine, since, until, with_dataset=True)
    found = found[servable(found)]
    if args["source"]:
        found = found[found["source"] == args["source"]]
    if args["city"]:
        found = found[found["city"].str.casefold() == args["city"].casefold()]
    found = _with_terms(found).reindex(columns=CHANGE_OUTPUT).reset_index(drop=True)
    for col in ("period_start", "period_end"):
        found[col] = pd.to_datetime(found[col]).dt.strftime("%Y-%m-%d")
    found["changed_at"] = pd.to_datetime(found["changed_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    found["revision"] = found["revision"].astype("Int64")
    # each distinct link scrubbed once: a load's change list is every figure (270,000 rows)
    # but a few hundred links
    links = {v: redact_url(v) for v in found["source_url"].dropna().unique() if v}
    found["source_url"] = found["source_url"].map(lambda v: links.get(v, v))
    return Answer(found, until, note)


def openapi(request: Request) -> JSONResponse:
    from web.api_openapi import document

    return JSONResponse(document(ENDPOINTS))


# path -> (endpoint, its parameters, its row columns, what it answers)
ENDPOINTS = {
    f"{PREFIX}/series": (series, SERIES_PARAMS, list(dict.fromkeys(SERIES_OUTPUT + POINT_OUTPUT)),
                         "One series: every figure (default) or the points a chart draws per "
                         "period; the rows `python -m data_sources series` prints."),
    f"{PREFIX}/places": (places, PLACES_PARAMS, PLACE_COLUMNS,
                         "Every place holding a figure the API serves."),
    f"{PREFIX}/metrics": (metrics, METRICS_PARAMS, METRIC_COLUMNS,
                          "The series held, one row each: what /series can be asked for."),
    f"{PREFIX}/sources": (sources_, SOURCES_PARAMS, SOURCE_COLUMNS,
                          "Every source: citation, licence, whether it is served, freshness."),
    f"{PREFIX}/changes": (changes_, CHANGES_PARAMS, CHANGE_OUTPUT,
                          "Figures added, revised and withdrawn in a window, newest first."),
}  # fmt: skip

ROUTES = [
    *(Route(path, spec[0], methods=["GET"]) for path, spec in ENDPOINTS.items()),
    Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
]
