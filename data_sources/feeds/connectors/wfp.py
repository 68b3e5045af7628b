"""WFP food prices: the per-country CSV on HDX (HXL row under the header).

The dataset is found through HDX's CKAN API (`package_show`), then its `wfp_food_prices_<iso3>`
CSV resource is read by the same HXL reader as `import`, so a live load and the bundled
snapshot give identical figures. Markets are placed by coordinates.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from data_sources import sources
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import (
    Batch,
    Connector,
    PageRequest,
    Scope,
    drop_before_since,
)
from data_sources.feeds.errors import FeedError
from data_sources.formats.hxl import HXLFormatError, parse_hxl_csv

# HDX names the WFP datasets after its own country names.
HDX_COUNTRY_SLUG = {
    "SYR": "syrian-arab-republic",
    "IRQ": "iraq",
    "YEM": "yemen",
    "AFG": "afghanistan",
    "SDN": "sudan",
    "SSD": "south-sudan",
    "SOM": "somalia",
    "LBN": "lebanon",
    "JOR": "jordan",
    "TUR": "turkey",
    "PSE": "state-of-palestine",
    "UKR": "ukraine",
    "MLI": "mali",
    "NGA": "nigeria",
    "ETH": "ethiopia",
    "COD": "democratic-republic-of-the-congo",
    "MMR": "myanmar",
    "HTI": "haiti",
    "LBY": "libya",
}


class WfpConnector(Connector):
    source = sources.source("wfp")
    base_url_setting = "WFP_BASE_URL"
    default_base_url = "https://data.humdata.org"
    covers = "market prices per commodity, local currency and USD, monthly; placed by coordinates"

    records_path = "result.resources"
    required_fields = ("name", "url")

    def fetch(self, client: FeedClient, scope: Scope) -> Iterator[Batch]:
        """Per country: the dataset's resource list (one JSON page), then its CSV file."""
        for country in scope.countries:
            slug = HDX_COUNTRY_SLUG.get(country, country.lower())
            url = f"{self.base_url()}/api/3/action/package_show"
            listing = PageRequest(url, "package", {"id": f"wfp-food-prices-for-{slug}"})
            try:
                resources = next(self.pages(client, listing)).records
            except FeedError as exc:
                if exc.status != 404:
                    raise
                self.notes.append(f"HDX has no WFP price dataset for {country}")
                continue
            wanted = f"wfp_food_prices_{country.lower()}.csv"
            match = [
                r
                for r in resources
                if str(r["name"]).lower() == wanted or str(r["url"]).lower().endswith(wanted)
            ]
            if not match:
                raise FeedError(
                    self.name,
                    url,
                    f"dataset has no resource {wanted} (resources: "
                    + ", ".join(str(r["name"]) for r in resources[:8])
                    + ")",
                    field="result.resources",
                )
            response = client.get_text(self._local(match[0]["url"]))
            yield Batch(
                "prices", response.url, [response.text()], {"country": country, "name": wanted}
            )

    def _local(self, link: str) -> str:
        """HDX links its files on its own host; keep the path, use our base URL (mirror)."""
        from urllib.parse import urlsplit

        parts = urlsplit(link)
        return self.base_url() + parts.path + (f"?{parts.query}" if parts.query else "")

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        try:
            frame = parse_hxl_csv(
                batch.records[0],
                name=batch.context["name"],
                source="wfp",
                country_iso3=batch.context["country"],
                source_url=batch.url,
                citation=self.citation,
                licence=self.licence,
            )
        except HXLFormatError as exc:
            raise FeedError(self.name, batch.url, f"malformed CSV: {exc}") from exc
        # HDX serves the whole country file and has no date filter: incremental refresh
        # filters here, so only the recent periods (and their revisions) reach the store
        return drop_before_since(frame, scope)
