"""ReliefWeb API v2: how many reports were published about a city each week, with links.

`appname` goes on every call (setting RELIEFWEB_APPNAME; ReliefWeb approves app names since
November 2025). Reports are searched by the city's name within its country, paged by
`offset`/`limit` (at most 1,000). Each weekly count keeps the titles and links of its reports
(up to ten) as its provenance, so a reader can open what was counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd

from data_sources import sources
from data_sources.feeds.auth import QueryKeyAuth
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, PageRequest, Scope
from data_sources.feeds.errors import FeedError
from data_sources.feeds.paging import OffsetPaginator
from data_sources.model.dates import calendar_day, calendar_days
from data_sources.model.places import gazetteer

PAGE = 1000


class ReliefwebConnector(Connector):
    source = sources.source("reliefweb")
    base_url_setting = "RELIEFWEB_BASE_URL"
    default_base_url = "https://api.reliefweb.int"
    id_field = "id"
    covers = "reports published per city and week (metric 'reports'), with report links"

    records_path = "data"
    required_fields = ("id", "fields")

    def auth(self, client: FeedClient) -> httpx.Auth:
        return QueryKeyAuth("appname", setting_name="RELIEFWEB_APPNAME")

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        if not scope.cities:
            raise FeedError(
                self.name,
                self.base_url(),
                "needs at least one city (--city): reports are counted per city name",
            )
        url = f"{self.base_url()}/v2/reports"
        gaz = gazetteer()
        for city in scope.cities:
            match = gaz.find_city(city)
            country = gaz.place_record(match.place_id)["country_iso3"] if match else ""
            conditions = [
                {
                    "field": "date.created",
                    "value": {"from": f"{scope.since_iso(country=country)}T00:00:00+00:00"},
                }
            ]
            if country:
                conditions.append({"field": "primary_country.iso3", "value": country.lower()})
            body = {
                "query": {"value": f'"{city}"', "fields": ["title", "body"]},
                "filter": {"operator": "AND", "conditions": conditions},
                "fields": {"include": ["title", "url", "date.created"]},
                "sort": ["date.created:asc"],
            }
            yield PageRequest(
                url,
                "reports",
                context={"city": city, "country": country},
                paginator=OffsetPaginator(PAGE),
                method="POST",
                json_body=body,
            )

    def shown_url(
        self,
        url: str,
        params: dict,
        auth: httpx.Auth | None,
        request: PageRequest,
        paging: dict[str, Any],
    ) -> str:
        """A search is a POST: the query and offset, which the URL lacks, said after it."""
        shown = super().shown_url(url, params, auth, request, paging)
        return shown + f" (query '{request.context['city']}', offset {paging['offset']})"

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        rows, bad = _read_reports(batch.records)
        if bad:  # one bad report is a reject with its reason; the others still count
            refused = pd.DataFrame(bad)
            self.reject(
                batch,
                pd.DataFrame(
                    {
                        "metric": "reports",
                        "unit": "reports",
                        "value": 1,
                        "place_kind": "city",
                        "place_raw": batch.context["city"],
                        "country_iso3": batch.context.get("country", ""),
                        "quote": refused["title"] + " — " + refused["url"],
                        "row_ref": batch.url + " report " + refused["id"].astype(str),
                    }
                ),
                refused["reason"].tolist(),
            )
        reports = pd.DataFrame(rows, columns=["id", "title", "url", "created"]).drop_duplicates(
            "id"
        )
        if reports.empty:
            return self.rows(batch, pd.DataFrame())
        day = pd.to_datetime(calendar_days(reports["created"]), errors="coerce")
        reports["week"] = day.dt.to_period("W-SUN")
        out = []
        for week, part in reports.groupby("week"):
            links = "\n".join(
                f"{t} — {u}" for t, u in zip(part.title.head(10), part.url.head(10), strict=True)
            )
            out.append(
                {
                    "period_start": str(week.start_time.date()),
                    "period_end": str(week.end_time.date()),
                    "value": len(part),
                    "quote": links + ("\n…" if len(part) > 10 else ""),
                    "row_ref": f"{batch.url} week {week.start_time.date()}",
                }
            )
        return self.rows(
            batch,
            pd.DataFrame(out),
            metric="reports",
            unit="reports",
            qualifier="",
            place_kind="city",
            place_raw=batch.context["city"],
            country_iso3=batch.context.get("country", ""),
            source_url=f"https://reliefweb.int/updates?search={batch.context['city']}",
        )


def _read_reports(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Each report's id, title, link and date; a report without a readable date apart, with
    the reason (a reject: the other reports still count)."""
    rows, bad = [], []
    for rec in records:
        fields = rec["fields"] if isinstance(rec["fields"], dict) else {}
        dates = fields.get("date") if isinstance(fields.get("date"), dict) else {}
        # when ReliefWeb posted it; else when its publisher did (v1 answers carry only
        # `original` when asked for it)
        created = dates.get("created") or dates.get("original")
        title = str(fields.get("title", ""))
        link = str(fields.get("url") or fields.get("url_alias") or "")
        day = pd.Timestamp(calendar_day(created)) if created and calendar_day(created) else pd.NaT
        if pd.isna(day):
            why = (
                f"report {rec.get('id')} has no date (fields.date.created)"
                if not created
                else f"report {rec.get('id')} has an unreadable date '{created}'"
            )
            bad.append({"id": rec.get("id"), "title": title, "url": link, "reason": why})
            continue
        rows.append({"id": rec["id"], "title": title, "url": link, "created": str(created)})
    return rows, bad
