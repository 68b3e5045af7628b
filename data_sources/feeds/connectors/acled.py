"""ACLED API: events with fatalities, placed by coordinates and location name.

ACLED uses an OAuth password grant (settings ACLED_USERNAME, ACLED_PASSWORD): the bearer token
is fetched once, reused, and refreshed with the refresh token (or a new grant) when it expires
or the API answers 401. ACLED's terms forbid redistributing its data: figures stay in the local
store. Each event is a row marked as an event; the store adds up the events at one location on
one day, per event type (aggregate.py), and counts them (`conflict_events`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pandas as pd

from .. import settings, sources
from ..country_codes import iso_numeric
from ..http import FeedClient, FeedError, add_issued_secret, expect, redact_url, require_fields
from .base import Batch, Connector, Scope, event_figures

PAGE = 5000
FIELDS = (
    "event_id_cnty",
    "event_date",
    "event_type",
    "country",
    "iso",
    "location",
    "latitude",
    "longitude",
    "fatalities",
)


class AcledConnector(Connector):
    source = sources.source("acled")
    base_url_setting = "ACLED_BASE_URL"
    default_base_url = "https://acleddata.com"
    id_field = "event_id_cnty"
    covers = "conflict events and fatalities per location and day, by event type"

    def __init__(self) -> None:
        super().__init__()
        self._token: dict | None = None

    # -- OAuth --------------------------------------------------------------------------------
    def _grant(self, client: FeedClient, form: dict) -> None:
        url = f"{self.base_url()}/oauth/token"
        payload = client.json("POST", url, data=form, cache=False)
        token = expect(self.name, url, payload, "access_token", str)
        add_issued_secret(token)  # a bearer token in a header: never in a log or the store
        add_issued_secret(payload.get("refresh_token"))
        self._token = {
            "access": token,
            "refresh": payload.get("refresh_token"),
            "expires": time.time() + float(payload.get("expires_in") or 3600) - 60,
        }

    def bearer(self, client: FeedClient, force: bool = False) -> str:
        if self._token and not force and time.time() < self._token["expires"]:
            return self._token["access"]
        if self._token and self._token.get("refresh"):
            try:
                self._grant(
                    client,
                    {
                        "grant_type": "refresh_token",
                        "client_id": "acled",
                        "refresh_token": self._token["refresh"],
                    },
                )
                return self._token["access"]
            except FeedError:
                pass  # refresh token expired too: fall back to a new password grant
        self._grant(
            client,
            {
                "grant_type": "password",
                "client_id": "acled",
                "scope": "authenticated",
                "username": settings.setting("ACLED_USERNAME") or "",
                "password": settings.setting("ACLED_PASSWORD") or "",
            },
        )
        return self._token["access"]

    def _page(self, client: FeedClient, url: str, params: dict) -> dict:
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.bearer(client, force=attempt > 0)}"}
            try:
                return client.get_json(url, params=params, headers=headers, cache=False)
            except FeedError as exc:
                if exc.status != 401 or attempt:
                    raise
        raise AssertionError("unreachable")

    def fetch(self, client: FeedClient, scope: Scope) -> Iterator[Batch]:
        url = f"{self.base_url()}/api/acled/read"
        for country in scope.countries:
            page = 1
            while True:
                params = {
                    "_format": "json",
                    "iso": _iso_number(country),
                    "event_date": f"{scope.since_iso('1997-01-01', country)}|2100-01-01",
                    "event_date_where": "BETWEEN",
                    "limit": PAGE,
                    "page": page,
                }
                shown = redact_url(str(httpx.URL(url, params=params)))
                payload = self._page(client, url, params)
                records = expect(self.name, shown, payload, "data", list)
                require_fields(self.name, shown, records, FIELDS)
                yield Batch("events", shown, records, {"country": country})
                if len(records) < PAGE:
                    break  # next country
                page += 1

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.drop_duplicates("event_id_cnty")
        place = pd.DataFrame(
            {
                "site": df["location"].fillna("").astype(str),
                "place_raw": df["location"].fillna("").astype(str),
                "lat": df["latitude"],
                "lon": df["longitude"],
                "admin1": df.get("admin1", ""),
                "admin2": df.get("admin2", ""),
                "country_iso3": batch.context.get("country", ""),
                "place_kind": "city",
                "period_start": df["event_date"].astype(str).str[:10],
                "period_end": df["event_date"].astype(str).str[:10],
                "qualifier": df["event_type"].fillna("").astype(str),
            }
        )
        one = pd.Series(1, index=df.index)
        out = event_figures(
            place,
            df["event_id_cnty"],
            batch.url,
            {
                "fatalities": ("conflict_fatalities", "people", "best", df["fatalities"]),
                "events": ("conflict_events", "events", "best", one),
            },
        )
        return self.rows(batch, out)


def _iso_number(iso3: str) -> int:
    """ACLED's `iso` filter is the ISO 3166 numeric code (from GeoNames' country list)."""
    number = iso_numeric(iso3)
    if number is None:
        raise FeedError(
            "acled", "", f"{iso3} is not an ISO 3166 country code (ACLED filters by it)"
        )
    return number
