"""Any HXL-tagged CSV by URL (settings HXL_URLS, comma separated): the `import` reader, live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from data_sources import settings, sources
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, Scope, drop_before_since
from data_sources.feeds.errors import FeedError
from data_sources.formats.hxl import HXLFormatError, parse_hxl_csv


class HxlConnector(Connector):
    source = sources.source("hxl")
    base_url_setting = "HXL_BASE_URL"
    default_base_url = ""
    covers = "any HXL-tagged sheet (#adm2+name, #date, #affected+idps, WFP price sheets, …)"

    def urls(self) -> list[str]:
        return [u.strip() for u in (settings.setting("HXL_URLS") or "").split(",") if u.strip()]

    def fetch(self, client: FeedClient, scope: Scope) -> Iterator[Batch]:
        for url in self.urls():
            response = client.get_text(url)
            name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "download.csv"
            yield Batch(name, response.url, [response.text()], {"name": name})

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        try:
            frame = parse_hxl_csv(
                batch.records[0],
                name=batch.context["name"],
                source=f"hxl:{Path(batch.context['name']).stem}",
                source_url=batch.url,
                citation=batch.context["name"],
            )
        except HXLFormatError as exc:
            raise FeedError(self.name, batch.url, f"malformed CSV: {exc}") from exc
        return drop_before_since(frame, scope)  # a whole file: incremental is a filter here
