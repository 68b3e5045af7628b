"""OCHA Financial Tracking Service (FTS): humanitarian funding received per country and year.

No key. The country's FTS location id comes from `/v1/public/location`; the funding a country
received in a year is the `incoming.fundingTotal` of `/v1/fts/flow/custom-search` for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from data_sources import sources
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, PageRequest, Scope, numeric
from data_sources.feeds.errors import FeedError


class FtsConnector(Connector):
    source = sources.source("fts")
    base_url_setting = "FTS_BASE_URL"
    default_base_url = "https://api.hpc.tools"
    covers = "humanitarian funding received per country and year (USD)"

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        url = f"{self.base_url()}/v1/public/location"
        listing = PageRequest(url, "location", records_path="data", required_fields=("id", "iso3"))
        locations = next(self.pages(client, listing)).records
        ids = {loc["iso3"]: loc["id"] for loc in locations if loc.get("iso3")}
        flows = f"{self.base_url()}/v1/fts/flow/custom-search"
        for country in scope.countries:
            if country not in ids:
                raise FeedError(self.name, url, f"FTS lists no location with ISO3 {country}")
            since = scope.since_for(country)
            first = since.year if since else 2014  # one request per year: from since's year
            for year in range(first, scope.until_year() + 1):
                yield PageRequest(
                    flows,
                    "flow-custom-search",
                    {"locationid": ids[country], "year": year},
                    {"country": country, "year": year},
                    records_path="data.incoming",
                    required_fields=("fundingTotal",),
                    one_record=True,  # a year's totals: one object, not a list
                )

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        year = batch.context["year"]
        frame = pd.DataFrame(
            {
                "value": numeric(
                    pd.Series([r["fundingTotal"] for r in batch.records], dtype=object)
                ),
                "period_start": f"{year}-01-01",
                "period_end": f"{year}-12-31",
                "row_ref": batch.url,
            }
        )
        return self.rows(
            batch,
            frame,
            metric="funding_received",
            unit="USD",
            qualifier="",
            place_kind="country",
            place_raw=batch.context["country"],
            country_iso3=batch.context["country"],
        )
