"""OCHA Financial Tracking Service (FTS): humanitarian funding received per country and year.

No key. The country's FTS location id comes from `/v1/public/location`; the funding a country
received in a year is the `incoming.fundingTotal` of `/v1/fts/flow/custom-search` for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd

from .. import sources
from ..http import FeedClient, FeedError, expect, redact_url, require_fields
from .base import Batch, Connector, Scope, numeric


class FtsConnector(Connector):
    source = sources.source("fts")
    base_url_setting = "FTS_BASE_URL"
    default_base_url = "https://api.hpc.tools"
    covers = "humanitarian funding received per country and year (USD)"

    def fetch(self, client: FeedClient, scope: Scope) -> Iterator[Batch]:
        url = f"{self.base_url()}/v1/public/location"
        payload = client.get_json(url)
        locations = expect(self.name, url, payload, "data", list)
        require_fields(self.name, url, locations, ("id", "iso3"))
        ids = {loc["iso3"]: loc["id"] for loc in locations if loc.get("iso3")}
        flows = f"{self.base_url()}/v1/fts/flow/custom-search"
        for country in scope.countries:
            if country not in ids:
                raise FeedError(self.name, url, f"FTS lists no location with ISO3 {country}")
            since = scope.since_for(country)
            first = since.year if since else 2014  # one request per year: from since's year
            for year in range(first, scope.until_year() + 1):
                params = {"locationid": ids[country], "year": year}
                shown = redact_url(str(httpx.URL(flows, params=params)))
                payload = client.get_json(flows, params=params)
                incoming = expect(self.name, shown, payload, "data.incoming", dict)
                require_fields(self.name, shown, [incoming], ("fundingTotal",))
                yield Batch(
                    "flow-custom-search", shown, [incoming], {"country": country, "year": year}
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
