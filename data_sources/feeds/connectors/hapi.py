"""HDX HAPI (v2): IDPs, humanitarian needs, conflict events, food prices, baseline population.

Every call carries `app_identifier` (setting HAPI_APP_IDENTIFIER, base64 of "app:email" as
HAPI issues it). Pages are `limit`/`offset` of up to 10,000 rows, wrapped as `{"data": [...]}`.
Admin-2 rows are placed by their p-code: the district itself (OCHA's COD p-code list, see
`model/admin_areas.py`), or the seat city a curated alias names for that code; admin-0 rows
stay country figures. Admin-1 rows are not requested: a governorate is neither a
city nor a country, and its figure is already the sum of the districts we keep.

Rows carry no provenance of their own, so each keeps the request it came from (country, admin
level, page) as its link; a row without `admin_level` has the request's, and the data
provider's admin names stand in for HAPI's standard names when those are empty. HAPI's own
`warning` and `error` on a row are kept with the figure (its quote) and counted in the notes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pandas as pd

from data_sources import sources
from data_sources.feeds.auth import QueryKeyAuth
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import (
    PAGE_KEY,
    Batch,
    Connector,
    PageRequest,
    Scope,
    numeric,
)
from data_sources.feeds.paging import OffsetPaginator
from data_sources.model.dates import days_or_text

PAGE = 10_000


@dataclass(frozen=True)
class Theme:
    dataset: str
    route: str  # v2 route; the v1 names are noted where they were renamed
    fields: tuple[str, ...]
    admin_levels: tuple[int, ...] = (2, 0)
    dated: bool = True


THEMES = {
    t.dataset: t
    for t in [
        Theme(
            "idps",
            "affected-people/idps",
            (
                "location_code",
                "population",
                "reference_period_start",
                "reference_period_end",
            ),
        ),
        Theme(
            "humanitarian-needs",
            "affected-people/humanitarian-needs",
            (
                "location_code",
                "sector_code",
                "population_status",
                "population",
                "reference_period_start",
                "reference_period_end",
            ),
        ),
        Theme(
            "conflict-events",
            "coordination-context/conflict-events",
            (
                "location_code",
                "event_type",
                "events",
                "fatalities",
                "reference_period_start",
                "reference_period_end",
            ),
        ),
        # v1: food/food-price
        Theme(
            "food-prices",
            "food-security-nutrition-poverty/food-prices-market-monitor",
            (
                "location_code",
                "market_name",
                "lat",
                "lon",
                "commodity_name",
                "unit",
                "price_type",
                "currency_code",
                "price",
                "reference_period_start",
                "reference_period_end",
            ),
            admin_levels=(2,),
        ),
        # v1: population-social/population
        Theme(
            "baseline-population",
            "geography-infrastructure/baseline-population",
            (
                "location_code",
                "gender",
                "age_range",
                "population",
                "reference_period_start",
                "reference_period_end",
            ),
            dated=False,
        ),
    ]
}


class HapiConnector(Connector):
    source = sources.source("hapi")
    base_url_setting = "HAPI_BASE_URL"
    default_base_url = "https://hapi.humdata.org"
    covers = (
        "IDPs (admin 2), people in need, conflict events and fatalities (ACLED, admin 2 "
        "by month), WFP market prices, baseline population"
    )

    records_path = "data"

    def auth(self, client: FeedClient) -> httpx.Auth:
        return QueryKeyAuth("app_identifier", setting_name="HAPI_APP_IDENTIFIER")

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        for theme in THEMES.values():
            url = f"{self.base_url()}/api/v2/{theme.route}"
            for country in scope.countries:
                for level in theme.admin_levels:
                    params = {
                        "location_code": country,
                        "admin_level": level,
                        "output_format": "json",
                    }
                    if theme.dated and scope.since_for(country):
                        params["start_date"] = scope.since_iso(country=country)
                    # the request fixes country and admin level: rows of one request share
                    # them, and each row's link is the page it came on
                    yield PageRequest(
                        url,
                        theme.dataset,
                        params,
                        {"country": country, "admin_level": level},
                        OffsetPaginator(PAGE),
                        required_fields=theme.fields,
                    )

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.reset_index(drop=True)
        blank = pd.Series("", index=df.index)
        page = df[PAGE_KEY].fillna(batch.url) if PAGE_KEY in df else blank + batch.url
        df["row_ref"] = page + " #" + df.groupby(page).cumcount().astype(str)
        df["source_url"] = page
        # a row without admin_level has the one its request asked for
        asked = batch.context.get("admin_level", "")
        level = df["admin_level"] if "admin_level" in df else pd.Series(None, index=df.index)
        level = level.where(level.notna() & (level.astype(str) != ""), asked).astype(str)
        country_level = level == "0"

        def name(kind: str) -> pd.Series:
            """HAPI's standard name, else the name the data provider wrote."""
            std = df.get(f"{kind}_name", blank).fillna("").astype(str)
            provider = df.get(f"provider_{kind}_name", blank).fillna("").astype(str)
            return std.where(std.str.strip() != "", provider)

        admin1, admin2 = name("admin1"), name("admin2")
        place = pd.DataFrame(
            {
                "country_iso3": df["location_code"],
                "place_kind": country_level.map({True: "country", False: "city"}),
                "place_raw": admin2.where(~country_level, df["location_code"]),
                "admin1": admin1,
                "admin2": admin2,
                "pcode": df.get("admin2_code", blank).fillna("").where(~country_level, ""),
                "period_start": days_or_text(df["reference_period_start"]),
                # an open-ended reference period (baseline population) is a figure at its start
                "period_end": days_or_text(
                    df["reference_period_end"].fillna(df["reference_period_start"])
                ),
                "row_ref": df["row_ref"],
                "source_url": df["source_url"],
                "quote": self._flags(df),
            }
        )
        out = getattr(self, "_" + batch.dataset.replace("-", "_"))(batch, df, place)
        # a district row that names only its governorate (ACLED's events at sea: "Black Sea")
        # is not forced onto a city: a reject that names the area, until areas are places
        only_admin1 = (
            (out["place_kind"] == "city") & (out["place_raw"] == "") & (out["admin1"] != "")
        )
        if only_admin1.any():
            bad = out[only_admin1]
            self.reject(
                batch,
                bad,
                "names only an admin 1 area, not a city: '"
                + bad["admin1"]
                + "' in "
                + bad["country_iso3"]
                + " (figures for governorates are not placed yet)",
            )
            out = out[~only_admin1]
        return out

    def __init__(self) -> None:
        super().__init__()
        self._flagged: Counter[str] = Counter()  # rows with a HAPI warning / error, per field

    def _flags(self, df: pd.DataFrame) -> pd.Series:
        """HAPI's own `warning` and `error` on a row, kept with the figure (shown on the Data
        page and in downloads), and counted in the refresh's notes."""
        out = pd.Series("", index=df.index)
        for field in ("warning", "error"):
            if field not in df:
                continue
            text = df[field].fillna("").astype(str).str.strip()
            flagged = text != ""
            if flagged.any():
                note = f"HDX HAPI {field}: " + text
                out = out.where(~flagged, (out + "; ").where(out != "", "") + note)
                self._flagged[field] += int(flagged.sum())
        return out

    def normalize_all(self, batches: list[Batch], scope: Scope) -> pd.DataFrame:
        self._flagged = Counter()
        out = super().normalize_all(batches, scope)
        for field, count in self._flagged.items():
            self.notes.append(f"{count:,} rows carry a HAPI {field} (kept, shown with the figure)")
        return out

    def _idps(self, batch: Batch, df: pd.DataFrame, place: pd.DataFrame) -> pd.DataFrame:
        qualifier = df.get("assessment_type", pd.Series("", index=df.index)).fillna("")
        return self.rows(
            batch,
            place.assign(
                metric="idps", qualifier=qualifier, unit="people", value=numeric(df["population"])
            ),
        )

    def _humanitarian_needs(
        self, batch: Batch, df: pd.DataFrame, place: pd.DataFrame
    ) -> pd.DataFrame:
        keep = (df["population_status"] == "INN") & (
            df["sector_code"].astype(str).str.casefold() == "intersectoral"
        )
        for breakdown in ("category", "gender", "age_range", "population_group", "disabled_marker"):
            if breakdown in df:
                keep &= (
                    df[breakdown].fillna("").astype(str).str.casefold().isin(["", "all", "total"])
                )
        reason = "humanitarian needs: not intersectoral people in need in total"
        return self._people_in_total(batch, df, place, keep, "people_in_need", reason)

    def _conflict_events(self, batch: Batch, df: pd.DataFrame, place: pd.DataFrame) -> pd.DataFrame:
        kind = df["event_type"].fillna("").astype(str).str.replace("_", " ")
        events = place.assign(
            metric="conflict_events", qualifier=kind, unit="events", value=numeric(df["events"])
        )
        has_deaths = df["fatalities"].notna()
        deaths = place[has_deaths].assign(
            metric="conflict_fatalities",
            qualifier=kind[has_deaths],
            unit="people",
            value=numeric(df.loc[has_deaths, "fatalities"]),
        )
        return self.rows(
            batch,
            pd.concat([events, deaths], ignore_index=True),
            citation=self.source.dataset("conflict-events").citation,
        )

    def _food_prices(self, batch: Batch, df: pd.DataFrame, place: pd.DataFrame) -> pd.DataFrame:
        qualifier = df["commodity_name"] + ", " + df["price_type"].astype(str).str.lower()
        base = place.assign(
            place_raw=df["market_name"],
            site=df["market_name"],
            lat=df["lat"],
            lon=df["lon"],
            metric="food_price",
            qualifier=qualifier,
        )
        local = base.assign(unit=df["currency_code"] + "/" + df["unit"], value=numeric(df["price"]))
        frames = [local]
        if "usd_price" in df:
            frames.append(base.assign(unit="USD/" + df["unit"], value=numeric(df["usd_price"])))
        return self.rows(
            batch,
            pd.concat(frames, ignore_index=True),
            citation=self.source.dataset("food-prices").citation,
            licence=self.source.dataset("food-prices").licence,
        )

    def _baseline_population(
        self, batch: Batch, df: pd.DataFrame, place: pd.DataFrame
    ) -> pd.DataFrame:
        keep = (df["gender"].astype(str).str.casefold() == "all") & (
            df["age_range"].astype(str).str.casefold() == "all"
        )
        reason = "baseline population: a sex or age breakdown"
        return self._people_in_total(batch, df, place, keep, "population", reason)

    def _people_in_total(
        self,
        batch: Batch,
        df: pd.DataFrame,
        place: pd.DataFrame,
        keep: pd.Series,
        metric: str,
        skip_reason: str,
    ) -> pd.DataFrame:
        """A count of people (`population`) per row, kept where `keep` says the row is the
        total; the other rows (a breakdown) skipped with `skip_reason`, so the summary adds
        up. The one shape of HAPI's needs and population tables."""
        self.skip(skip_reason, (~keep).sum())
        return self.rows(
            batch,
            place[keep].assign(
                metric=metric,
                qualifier="",
                unit="people",
                value=numeric(df.loc[keep, "population"]),
            ),
        )
