"""UNHCR Refugee Population Statistics API (no key): refugees by origin and asylum, yearly.

The same numbers as the bundled snapshot, live and for any country: the normalizer is the
snapshot's, so both paths give identical figures. Pages are `page`/`limit`, as many as `maxPages` says.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from data_sources import sources
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, PageRequest, Scope
from data_sources.feeds.paging import PageNumberPaginator
from data_sources.formats.unhcr import parse_unhcr_population

PAGE = 10_000
FIELDS = ("year", "coo_iso", "coa_iso", "coa_name", "refugees", "idps")


class UnhcrConnector(Connector):
    source = sources.source("unhcr")
    base_url_setting = "UNHCR_BASE_URL"
    default_base_url = "https://api.unhcr.org"
    covers = (
        "refugees by country of origin (per asylum country and total), IDPs per country, yearly"
    )

    records_path = "items"
    required_fields = FIELDS

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        url = f"{self.base_url()}/population/v1/population/"
        for country in scope.countries:
            since = scope.since_for(country)
            first = since.year if since else 2010  # yearly figures: from the since-date's year
            # every asylum country for this origin; coa == coo are the IDPs
            params = {"coo": country, "coa_all": "true", "yearFrom": first, "yearTo": 2100}
            paginator = PageNumberPaginator(PAGE, total_pages_key="maxPages")
            yield PageRequest(url, "population", params, {"country": country}, paginator)

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.astype({"coo_iso": str, "coa_iso": str}).reset_index(drop=True)
        asked = batch.context["country"]
        # a record whose origin is not the country asked ("-": UNHCR masks or sums origins)
        # cannot be that country's refugees: a reject that says so, never a silent nothing
        foreign = df["coo_iso"] != asked
        if foreign.any():
            bad = df[foreign]
            self.reject(
                batch,
                pd.DataFrame(
                    {
                        "metric": "refugees_from",
                        "unit": "people",
                        "place_kind": "country",
                        "place_raw": bad["coo_iso"],
                        "country_iso3": bad["coo_iso"],
                        "qualifier": "in " + bad["coa_name"].astype(str),
                        "value": bad["refugees"],
                        "period_start": bad["year"].astype(str) + "-12-31",
                        "period_end": bad["year"].astype(str) + "-12-31",
                        "row_ref": [f"{batch.url}:{i + 2}" for i in bad.index],
                    }
                ),
                f"origin is not the country asked for ({asked}): '" + bad["coo_iso"] + "'",
            )
        df = df[~foreign]
        # "-" is UNHCR's "does not apply" and 0 is none: no figure, counted as a named skip
        for column, what in (("refugees", "refugees abroad"), ("idps", "IDPs")):
            wanted = (
                df["coo_iso"] != df["coa_iso"]
                if column == "refugees"
                else (df["coo_iso"] == df["coa_iso"])
            )
            value = pd.to_numeric(df[column].replace("-", None), errors="coerce")
            self.skip(
                f"{what}: '-' (does not apply) or 0", int((wanted & (value.fillna(0) == 0)).sum())
            )
        df = df.replace({"-": "0"})
        out = parse_unhcr_population(df, batch.url, origins={asked})
        return out.assign(
            source=self.name, source_url=batch.url, citation=self.citation, licence=self.licence
        )
