"""A real HTTP server on 127.0.0.1 that plays the public feeds from recorded payloads and injects
faults on demand. Connectors reach it through their `<NAME>_BASE_URL` settings; nothing in
httpx is mocked, so timeouts, resets and truncated bodies are the real thing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "feeds"
SNAPSHOT = Path(__file__).resolve().parents[1] / "data_sources" / "snapshot"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# The keys the replay server expects: fake values, set as settings by the tests and benchmarks.
FEED_KEYS = {
    "HAPI_APP_IDENTIFIER": "dGVzdC1hcHA6dGVzdEBleGFtcGxlLm9yZw==",
    "DTM_SUBSCRIPTION_KEY": "dtm-secret-key-123",
    "UCDP_ACCESS_TOKEN": "ucdp-secret-token-456",
    "ACLED_USERNAME": "analyst@example.org",
    "ACLED_PASSWORD": "acled-secret-password-789",
    "RELIEFWEB_APPNAME": "situation-room-test-rw",
}


def replay_scopes() -> dict:
    """What to ask each feed for so that the replay server's fixtures answer."""
    from datetime import date

    from data_sources.feeds.connectors import Scope

    return {
        "hapi": Scope(["SYR"]),
        "dtm": Scope(["IRQ"]),
        "wfp": Scope(["SYR"]),
        "ucdp": Scope(["BGD"]),
        "acled": Scope(["IRQ"]),
        "reliefweb": Scope(["IRQ"], ["Mosul"]),
        "unhcr": Scope(["SYR"]),
        "fts": Scope(["JOR"], since=date(2020, 1, 1), until=date(2020, 12, 31)),
        "hxl": Scope(["SYR"]),
    }


FAULTS = (
    "delay",
    "reset",
    "500",
    "503",
    "429",
    "truncated",
    "invalid_json",
    "html",
    "empty_body",
    "empty_page",
    "rename_field",
    "drop_field",
    "duplicate",
    "change_value",
    "wrong_type",
    "overlap",
    "echo",  # answer `arg` (default 400) with the request echoed (see `_echo`)
    "redirect",  # answer 307 to `arg` + this path + this query (the query echoed)
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() on arrival


@dataclass
class Reply:
    status: int = 200
    payload: Any = None  # JSON-able; or
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    kind: str
    times: int = 1  # requests it applies to; -1: every request
    arg: Any = None
    after: int = 0  # requests let through untouched first (to hit the second page, say)


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class FeedServer:
    def __init__(self) -> None:
        self.log: list[Request] = []
        self.faults: dict[str, list[Fault]] = {}
        self.tokens: set[str] = set()
        self.last_page: dict[str, list] = {}  # records of the last page served, per route
        # answer the feeds' date filters as the real APIs do (HAPI start_date, DTM
        # FromReportingDate, UCDP StartDate, ACLED event_date BETWEEN, ReliefWeb date.created,
        # UNHCR yearFrom/yearTo); off by default so that older tests see every record each time
        self.honour_dates = False
        self.hapi_omit_admin_level = False
        self.data: dict[str, Any] = {
            "hapi": {
                name: _load(f"hapi/{name}.json")
                for name in (
                    "idps",
                    "humanitarian-needs",
                    "conflict-events",
                    "food-prices",
                    "baseline-population",
                )
            },
            "dtm": {"IRQ": _load("dtm/displacement-admin2_IRQ.json")},
            "ucdp": _load("ucdp/gedevents_BGD.json"),
            "acled": _load("acled/read_IRQ.json"),
            "reliefweb": {"Mosul": _load("reliefweb/reports_Mosul.json")},
            "unhcr": _load("unhcr/population_SYR.json"),
            "fts_location": _load("fts/1-public-location.json"),
            "fts_2020": _load("fts/custom-search-locationid-114-year-2020.json"),
            "wfp_package": _load("wfp/package_show_SYR.json"),
            "wfp_csv": _aleppo_rows(SNAPSHOT / "wfp_food_prices_syr.csv"),
        }
        self.routes: dict[str, Callable[[Request], Reply]] = {
            **{f"/api/v2/{route}": self._hapi(name) for route, name in HAPI_ROUTES.items()},
            "/v3/displacement/admin2": self._dtm,
            "/v3/displacement/admin1": self._dtm,
            "/api/gedevents/25.1": self._ucdp,
            "/oauth/token": self._acled_token,
            "/api/acled/read": self._acled_read,
            "/v2/reports": self._reliefweb,
            "/population/v1/population/": self._unhcr,
            "/v1/public/location": lambda r: Reply(payload=self.data["fts_location"]),
            "/v1/fts/flow/custom-search": self._fts,
            "/api/3/action/package_show": self._ckan_package,
            "/dataset/x/resource/y/download/wfp_food_prices_syr.csv": lambda r: Reply(
                raw=self.data["wfp_csv"], content_type="text/csv"
            ),
            "/files/aleppo_prices.csv": lambda r: Reply(
                raw=self.data["wfp_csv"], content_type="text/csv"
            ),
        }
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda *args: None  # injected resets are not server errors
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fault(self, path: str, kind: str, times: int = 1, arg: Any = None, after: int = 0) -> None:
        assert kind in FAULTS, kind
        self.faults.setdefault(path, []).append(Fault(kind, times, arg, after))

    def clear(self) -> None:
        self.faults.clear()
        self.log.clear()
        self.honour_dates = False
        self.hapi_omit_admin_level = False

    def _since(self, rows: list, field: str, since: str | None) -> list:
        """Rows whose `field` (an ISO date or timestamp) is on or after `since`, when dates
        are honoured."""
        if not self.honour_dates or not since:
            return rows
        return [r for r in rows if str(r.get(field) or "9999")[:10] >= since[:10]]

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.log if r.path == path]

    # -- feeds ------------------------------------------------------------------------------------
    def _hapi(self, name: str) -> Callable[[Request], Reply]:
        def handle(req: Request) -> Reply:
            if not req.query.get("app_identifier"):
                return Reply(400, {"detail": "app_identifier is required"})
            rows = [
                r
                for r in self.data["hapi"][name]
                if r["location_code"] == req.query.get("location_code")
                and str(r["admin_level"]) == req.query.get("admin_level", "2")
            ]
            rows = self._since(rows, "reference_period_end", req.query.get("start_date"))
            if self.hapi_omit_admin_level:  # the request fixes it; a row may leave it out
                rows = [{k: v for k, v in r.items() if k != "admin_level"} for r in rows]
            offset, limit = int(req.query.get("offset", 0)), int(req.query.get("limit", 10000))
            return Reply(payload={"data": rows[offset : offset + limit]})

        return handle

    def _dtm(self, req: Request) -> Reply:
        if not req.headers.get("ocp-apim-subscription-key"):
            return Reply(
                401,
                {"statusCode": 401, "message": "Access denied due to missing subscription key."},
            )
        empty = {
            "result": [],
            "statusCode": 200,
            "isSuccess": True,
            "errorMessages": [],
            "totalRecordsCount": 0,
        }
        payload = self.data["dtm"].get(req.query.get("Admin0Pcode"), empty)
        if req.path.endswith("admin1"):
            payload = _dtm_admin1(payload)
        since = req.query.get("FromReportingDate")
        payload = {**payload, "result": self._since(payload["result"], "reportingDate", since)}
        return Reply(payload=payload)

    def _ucdp(self, req: Request) -> Reply:
        if not req.headers.get("x-ucdp-access-token"):
            return Reply(401, {"message": "token required"})
        rows = [r for r in self.data["ucdp"] if str(r["country_id"]) == req.query.get("Country")]
        rows = self._since(rows, "date_start", req.query.get("StartDate"))
        size, page = int(req.query.get("pagesize", 100)), int(req.query.get("page", 0))
        pages = max(1, -(-len(rows) // size))
        nxt = (
            f"https://ucdpapi.pcr.uu.se/api/gedevents/25.1?pagesize={size}&page={page + 1}"
            f"&Country={req.query.get('Country')}"
            + (f"&StartDate={req.query['StartDate']}" if "StartDate" in req.query else "")
            if page + 1 < pages
            else ""
        )
        return Reply(
            payload={
                "TotalCount": len(rows),
                "TotalPages": pages,
                "PreviousPageUrl": "",
                "NextPageUrl": nxt,
                "Result": rows[page * size : (page + 1) * size],
            }
        )

    def _acled_token(self, req: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("grant_type") == "password" and not form.get("password"):
            return Reply(400, {"error": "invalid_grant"})
        if (
            form.get("grant_type") == "refresh_token"
            and form.get("refresh_token") not in self.tokens
        ):
            return Reply(400, {"error": "invalid_grant"})
        token = hashlib.sha1(f"{time.time()}{len(self.tokens)}".encode()).hexdigest()
        self.tokens.add(token)
        self.tokens.add("refresh-" + token)
        return Reply(
            payload={
                "token_type": "Bearer",
                "expires_in": 86400,
                "access_token": token,
                "refresh_token": "refresh-" + token,
            }
        )

    def expire_tokens(self) -> None:
        self.tokens = {t for t in self.tokens if t.startswith("refresh-")}

    def _acled_read(self, req: Request) -> Reply:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return Reply(401, {"message": "Access token expired or invalid"})
        payload = (
            copy.deepcopy(self.data["acled"])
            if req.query.get("iso") == "368"
            else {"status": 200, "success": True, "count": 0, "data": []}
        )
        page, limit = int(req.query.get("page", 1)), int(req.query.get("limit", 5000))
        since = (req.query.get("event_date") or "").split("|")[0]
        payload["data"] = self._since(payload["data"], "event_date", since)
        payload["data"] = payload["data"][(page - 1) * limit : page * limit]
        return Reply(payload=payload)

    def _reliefweb(self, req: Request) -> Reply:
        if not req.query.get("appname"):
            return Reply(403, {"error": {"type": "AccessDeniedHttpException"}})
        body = json.loads(req.body or b"{}")
        city = body.get("query", {}).get("value", "").strip('"')
        rows = self.data["reliefweb"].get(city, [])
        since = next(
            (
                c["value"].get("from")
                for c in body.get("filter", {}).get("conditions", [])
                if c.get("field") == "date.created" and isinstance(c.get("value"), dict)
            ),
            None,
        )
        if self.honour_dates and since:
            rows = [r for r in rows if r["fields"]["date"]["created"][:10] >= since[:10]]
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 10))
        part = rows[offset : offset + limit]
        return Reply(
            payload={
                "time": 1,
                "href": "",
                "totalCount": len(rows),
                "count": len(part),
                "data": part,
            }
        )

    def _unhcr(self, req: Request) -> Reply:
        # a record whose origin UNHCR masks as "-" (recorded_coaTUR.json) is served with any
        # origin's answer: the connector must refuse it with a reason, not drop it unseen
        rows = [r for r in self.data["unhcr"] if r["coo_iso"] in (req.query.get("coo"), "-")]
        if self.honour_dates:
            first, last = int(req.query.get("yearFrom", 0)), int(req.query.get("yearTo", 9999))
            rows = [r for r in rows if first <= int(r["year"]) <= last]
        page, limit = int(req.query.get("page", 1)), int(req.query.get("limit", 10000))
        return Reply(
            payload={
                "page": page,
                "maxPages": max(1, -(-len(rows) // limit)),
                "total": len(rows),
                "items": rows[(page - 1) * limit : page * limit],
            }
        )

    def _ckan_package(self, req: Request) -> Reply:
        if req.query.get("id") == self.data["wfp_package"]["result"]["name"]:
            return Reply(payload=self.data["wfp_package"])
        return Reply(
            404, {"success": False, "error": {"message": "Not found", "__type": "Not Found Error"}}
        )

    def _fts(self, req: Request) -> Reply:
        if req.query.get("locationid") == "114" and req.query.get("year") == "2020":
            return Reply(payload=self.data["fts_2020"])
        return Reply(404, {"status": "notFound"})

    # -- HTTP -------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    method,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
                server.log.append(req)
                fault = server._take_fault(parts.path)
                route = server.routes.get(parts.path)
                if fault and fault.kind == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault and fault.kind == "delay":
                    time.sleep(float(fault.arg or 2.0))
                if fault and fault.kind in ("500", "503", "429"):
                    headers = {"Retry-After": str(fault.arg)} if fault.arg is not None else {}
                    return self._send(
                        int(fault.kind), b'{"error": "injected"}', "application/json", headers
                    )
                if fault and fault.kind == "html":
                    return self._send(
                        200,
                        b"<!DOCTYPE html><html><body><h1>Scheduled maintenance</h1></body></html>",
                        "text/html",
                    )
                if fault and fault.kind == "echo":
                    return self._send(
                        int(fault.arg or 400),
                        _echo(self.path, req),
                        "text/plain; charset=utf-8",
                        {"X-Echo": _echo(self.path, req, header=True).decode("latin-1")},
                    )
                if fault and fault.kind == "redirect":
                    return self._send(
                        307, b"", "text/plain", {"Location": str(fault.arg) + self.path}
                    )
                if fault and fault.kind == "empty_body":
                    return self._send(200, b"", "application/json")
                if route is None:
                    return self._send(404, b'{"detail": "Not Found"}', "application/json")
                reply = route(req)
                served = _records(reply.payload) if reply.status == 200 else None
                if fault and fault.kind == "overlap" and served is not None:
                    # the feed moved under us: this page starts with the end of the last one
                    reply.payload = copy.deepcopy(reply.payload)
                    earlier = server.last_page.get(parts.path, [])[-int(fault.arg or 1) :]
                    _records(reply.payload)[:0] = copy.deepcopy(earlier)
                elif fault and reply.payload is not None and reply.status == 200:
                    reply.payload = _mutate(copy.deepcopy(reply.payload), fault)
                if served is not None:
                    server.last_page[parts.path] = served
                data = reply.raw if reply.raw is not None else json.dumps(reply.payload).encode()
                if fault and fault.kind == "invalid_json":
                    data = data.replace(b":", b"=", 3)
                etag = '"' + hashlib.sha1(data).hexdigest() + '"'
                if (
                    reply.status == 200
                    and fault is None
                    and self.headers.get("if-none-match") == etag
                ):
                    return self._send(304, b"", reply.content_type, {"ETag": etag})
                headers = {"ETag": etag, **reply.headers} if reply.status == 200 else reply.headers
                if fault and fault.kind == "truncated":
                    return self._send(
                        reply.status, data, reply.content_type, headers, cut=len(data) // 2
                    )
                self._send(reply.status, data, reply.content_type, headers)

            def _send(
                self,
                status: int,
                data: bytes,
                content_type: str,
                headers: dict | None = None,
                cut: int | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if status != 304:
                    self.wfile.write(data if cut is None else data[:cut])
                self.wfile.flush()
                if cut is not None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)

        return Handler

    def _take_fault(self, path: str) -> Fault | None:
        queue = self.faults.get(path) or []
        if not queue:
            return None
        fault = queue[0]
        if fault.after > 0:
            fault.after -= 1
            return None
        if fault.times > 0:
            fault.times -= 1
            if fault.times == 0:
                queue.pop(0)
        return fault


HAPI_ROUTES = {
    "affected-people/idps": "idps",
    "affected-people/humanitarian-needs": "humanitarian-needs",
    "coordination-context/conflict-events": "conflict-events",
    "food-security-nutrition-poverty/food-prices-market-monitor": "food-prices",
    "geography-infrastructure/baseline-population": "baseline-population",
}


def _echo(raw_path: str, req: Request, header: bool = False) -> bytes:
    """What a careless or hostile feed says back about a request, the way real ones do: the
    request line as received (percent-encoded) first, then decoded, upper-cased, every header
    (an `Authorization: Basic …` is base64 of `user:secret`), each header value in base64, and
    the body. A header echo is one line of ASCII."""
    from base64 import b64encode
    from urllib.parse import unquote_plus

    decoded = unquote_plus(raw_path)
    parts = [
        f"bad request {raw_path}",
        f"decoded {decoded}",
        f"upper {decoded.upper()}",
        *(f"{k}: {v}" for k, v in req.headers.items()),
        *(f"{k}~b64: {b64encode(v.encode()).decode()}" for k, v in req.headers.items()),
        f"body {req.body.decode('utf-8', 'replace')}",
    ]
    text = " | ".join(parts)
    if header:
        return text.encode("ascii", "replace").replace(b"\r", b" ").replace(b"\n", b" ")
    return text.encode()


def _records(payload: Any) -> list | None:
    """The record list inside any of the feeds' envelopes."""
    if isinstance(payload, list):
        return payload
    for key in ("data", "result", "Result", "items"):
        if isinstance(payload, dict) and isinstance(payload.get(key), list):
            return payload[key]
    return None


def _holders(obj: Any, key: str) -> list[dict]:
    """Every object in the payload that carries `key`, depth first."""
    if isinstance(obj, dict):
        found = [obj] if key in obj else []
        return found + [h for v in obj.values() for h in _holders(v, key)]
    if isinstance(obj, list):
        return [h for v in obj for h in _holders(v, key)]
    return []


def _mutate(payload: Any, fault: Fault) -> Any:
    records = _records(payload)
    if fault.kind == "wrong_type":  # the envelope's list becomes an object, or vice versa
        key = next(
            (
                k
                for k in ("data", "result", "Result", "items")
                if isinstance(payload, dict) and k in payload
            ),
            None,
        )
        if key is None:
            return {"records": payload}
        payload[key] = (
            {"records": payload[key]} if isinstance(payload[key], list) else [payload[key]]
        )
        return payload
    if fault.kind == "empty_page" and records is not None:
        records.clear()
    elif fault.kind in ("rename_field", "drop_field"):
        old, new = fault.arg if fault.kind == "rename_field" else (fault.arg, None)
        for holder in _holders(payload, old):
            value = holder.pop(old)
            if new:
                holder[new] = value
    elif fault.kind == "duplicate" and records is not None:
        records.extend(copy.deepcopy(records[: int(fault.arg or 1)]))
    elif fault.kind == "change_value":
        key, factor = fault.arg
        holder = _holders(payload, key)[0]
        holder[key] = holder[key] * factor
    return payload


def _dtm_admin1(admin2: dict) -> dict:
    """Governorate rows as DTM's admin1 route gives them: the districts' splits summed (the
    fixture is synthetic, so are these)."""
    sums: dict[tuple, dict] = {}
    for rec in admin2["result"]:
        key = (
            rec["admin1Pcode"],
            rec["reportingDate"],
            rec.get("displacementReason"),
            rec.get("idpOriginAdmin1Name"),
        )
        row = sums.setdefault(
            key,
            {k: v for k, v in rec.items() if not k.startswith("admin2")} | {"numPresentIdpInd": 0},
        )
        row["numPresentIdpInd"] += rec["numPresentIdpInd"] or 0
    rows = [{**row, "id": 10**6 + i} for i, row in enumerate(sums.values())]
    return {**admin2, "result": rows, "totalRecordsCount": len(rows)}


def _aleppo_rows(path: Path) -> bytes:
    """The header, HXL row and Aleppo's rows for early 2017 of the bundled WFP file: real, small."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(
        lines[:2]
        + [
            ln
            for ln in lines[2:]
            if ",Aleppo," in ln and ln.startswith(("2017-01", "2017-02", "2017-03"))
        ]
    ).encode()


HAPI_NUMBERS = {
    "admin_level",
    "population",
    "events",
    "fatalities",
    "price",
    "usd_price",
    "lat",
    "lon",
}


def hapi_records(path: Path, countries: set[str] | None = None) -> list[dict]:
    """Rows of a real HDX HAPI table (CSV, as the HDX scrapers publish them) as HAPI's JSON
    answers them: numbers typed, empty cells null."""
    import csv

    rows = []
    with path.open(encoding="utf-8-sig") as handle:
        for rec in csv.DictReader(handle):
            if not rec.get("location_code") or rec["location_code"].startswith("#"):
                continue  # an HXL hashtag row
            if countries and rec["location_code"] not in countries:
                continue
            out: dict = {}
            for key, value in rec.items():
                if value == "":
                    out[key] = None
                elif key in HAPI_NUMBERS:
                    number = float(value)
                    out[key] = int(number) if number.is_integer() else number
                else:
                    out[key] = value
            rows.append(out)
    return rows
