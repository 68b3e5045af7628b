"""UCDP Georeferenced Event Dataset (GED) API: events with best, low and high death counts.

Token in the `x-ucdp-access-token` header (setting UCDP_ACCESS_TOKEN); `pagesize`/`page`
paging with `NextPageUrl` (a link seen twice is an error, not a loop). Records become figures
in `formats.ucdp.ged_figures` (shared with `import` of UCDP's CSV files): deaths best/low/high, civilian deaths and one event each, by type
of violence, each reported location its own site; the store adds up the events at one site over
the same dates (aggregate.py), so that two events never compete for one figure.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd

from data_sources import settings, sources
from data_sources.feeds.auth import HeaderKeyAuth
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, PageRequest, Scope
from data_sources.feeds.errors import FeedError
from data_sources.feeds.paging import NextLinkPaginator
from data_sources.formats.ucdp import ged_figures
from data_sources.model.countries import ucdp_country_id

FIELDS = (
    "id",
    "latitude",
    "longitude",
    "date_start",
    "date_end",
    "best",
    "low",
    "high",
    "deaths_civilians",
    "where_coordinates",
    "country",
)


class UcdpConnector(Connector):
    source = sources.source("ucdp")
    base_url_setting = "UCDP_BASE_URL"
    default_base_url = "https://ucdpapi.pcr.uu.se"
    id_field = "id"
    records_path = "Result"
    required_fields = FIELDS
    covers = (
        "conflict deaths per event location (best, low, high), civilian deaths, "
        "number of events; placed by coordinates"
    )

    def version(self) -> str:
        return settings.setting("UCDP_VERSION") or "25.1"

    def auth(self, client: FeedClient) -> httpx.Auth:
        return HeaderKeyAuth("x-ucdp-access-token", setting_name="UCDP_ACCESS_TOKEN")

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        url = f"{self.base_url()}/api/gedevents/{self.version()}"
        size = int(settings.number("UCDP_PAGE_SIZE"))
        for country in scope.countries:
            country_id = ucdp_country_id(country)  # UCDP filters by it, not by ISO3
            if country_id is None:
                raise FeedError(
                    self.name,
                    self.base_url(),
                    f"UCDP codes no country {country} (its country ids: ucdp_countries.csv)",
                )
            first = {
                "pagesize": size,
                "page": 0,
                "Country": country_id,
                "StartDate": scope.since_iso("1989-01-01", country),
            }
            # follow the server's link, but on our base URL (a mirror or the replay server)
            paginator = NextLinkPaginator("NextPageUrl", first, rebase=self.base_url())
            yield PageRequest(url, "gedevents", context={"country": country}, paginator=paginator)

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.drop_duplicates("id")  # pages can overlap when the dataset moves under us
        out = ged_figures(df, batch.url, batch.context.get("country", ""))
        return self.rows(batch, out, estimate=out["estimate"])
