"""UCDP Georeferenced Event Dataset (GED) API: events with best, low and high death counts.

Token in the `x-ucdp-access-token` header (setting UCDP_ACCESS_TOKEN); `pagesize`/`page`
paging with `NextPageUrl`. Records become figures in `formats.ucdp.ged_figures` (shared with
`import` of UCDP's CSV files): deaths best/low/high, civilian deaths and one event each, by type
of violence, each reported location its own site; the store adds up the events at one site over
the same dates (aggregate.py), so that two events never compete for one figure.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd

from .. import settings, sources
from ..country_codes import ucdp_country_id
from ..formats.ucdp import ged_figures
from ..http import FeedClient, FeedError, expect, redact_url, require_fields
from .base import Batch, Connector, Scope

PAGE = 1000
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
    covers = (
        "conflict deaths per event location (best, low, high), civilian deaths, "
        "number of events; placed by coordinates"
    )

    def version(self) -> str:
        return settings.setting("UCDP_VERSION", "25.1") or "25.1"

    def fetch(self, client: FeedClient, scope: Scope) -> Iterator[Batch]:
        headers = {"x-ucdp-access-token": settings.setting("UCDP_ACCESS_TOKEN") or ""}
        for country in scope.countries:
            country_id = ucdp_country_id(country)  # UCDP filters by it, not by ISO3
            if country_id is None:
                raise FeedError(
                    self.name,
                    self.base_url(),
                    f"UCDP codes no country {country} (its country ids: ucdp_countries.csv)",
                )
            url = f"{self.base_url()}/api/gedevents/{self.version()}"
            size = int(settings.number("UCDP_PAGE_SIZE", PAGE))
            params: dict | None = {
                "pagesize": size,
                "page": 0,
                "Country": country_id,
                "StartDate": scope.since_iso("1989-01-01", country),
            }
            seen: set[str] = set()
            while url:
                shown = redact_url(str(httpx.URL(url, params=params or {})))
                payload = client.get_json(url, params=params, headers=headers)
                records = expect(self.name, shown, payload, "Result", list)
                require_fields(self.name, shown, records, FIELDS)
                yield Batch("gedevents", shown, records, {"country": country})
                next_url = payload.get("NextPageUrl") or ""
                if not next_url or next_url in seen or not records:
                    break  # next country
                seen.add(next_url)
                # follow the server's link, but on our base URL (a mirror or the replay server)
                url, params = self._rebase(next_url), None

    def _rebase(self, link: str) -> str:
        parts = httpx.URL(link)
        return str(httpx.URL(self.base_url()).copy_with(path=parts.path, query=parts.query))

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.drop_duplicates("id")  # pages can overlap when the dataset moves under us
        out = ged_figures(df, batch.url, batch.context.get("country", ""))
        return self.rows(batch, out, estimate=out["estimate"])
