"""ACLED API: events with fatalities, placed by coordinates and location name.

ACLED uses an OAuth password grant (settings ACLED_USERNAME, ACLED_PASSWORD): the bearer token
is fetched once, reused, and refreshed with the refresh token (or a new grant) when it expires
or the API answers 401. ACLED's terms forbid redistributing its data: figures stay in the local
store. Each event is a row marked as an event; the store adds up the events at one location on
one day, per event type (aggregate.py), and counts them (`conflict_events`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd

from data_sources import sources
from data_sources.feeds.auth import OAuthPasswordAuth
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, PageRequest, Scope
from data_sources.feeds.errors import FeedError
from data_sources.feeds.paging import PageNumberPaginator
from data_sources.model.aggregate import event_figures, event_places
from data_sources.model.countries import iso_numeric
from data_sources.model.dates import days_or_text

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
    records_path = "data"
    required_fields = FIELDS
    cache = False  # answers depend on who asks: never kept on disk

    def __init__(self) -> None:
        super().__init__()
        self._oauth: OAuthPasswordAuth | None = None  # its token outlives one fetch

    def auth(self, client: FeedClient) -> httpx.Auth:
        def post_form(url: str, form: dict) -> Any:
            return client.json("POST", url, data=form, cache=False)

        if self._oauth is None:
            self._oauth = OAuthPasswordAuth(
                self.name,
                f"{self.base_url()}/oauth/token",
                post_form,
                client_id="acled",
                scope="authenticated",
                username_setting="ACLED_USERNAME",
                password_setting="ACLED_PASSWORD",
            )
        self._oauth.post_form = post_form  # grants go through this fetch's client
        return self._oauth

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        url = f"{self.base_url()}/api/acled/read"
        for country in scope.countries:
            params = {
                "_format": "json",
                "iso": _iso_number(country),
                "event_date": f"{scope.since_iso('1997-01-01', country)}|2100-01-01",
                "event_date_where": "BETWEEN",
            }
            paginator = PageNumberPaginator(PAGE, page_param="page", size_param="limit")
            yield PageRequest(url, "events", params, {"country": country}, paginator)

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.drop_duplicates("event_id_cnty")
        place = event_places(
            site=df["location"].fillna("").astype(str),
            lat=df["latitude"],
            lon=df["longitude"],
            admin1=df.get("admin1", ""),
            admin2=df.get("admin2", ""),
            country_iso3=batch.context.get("country", ""),
            place_kind="city",
            day=days_or_text(df["event_date"]),
            qualifier=df["event_type"].fillna("").astype(str),
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
