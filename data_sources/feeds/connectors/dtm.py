"""IOM DTM API v3: IDPs by admin 1 and admin 2 and round, with reason, origin and sex where given.

The key goes in the `Ocp-Apim-Subscription-Key` header (setting DTM_SUBSCRIPTION_KEY). DTM's
terms forbid redistribution: figures are pulled live into the local store and never shipped.
v3 splits a district's count by displacement reason and origin; each split is its own series
and their sum per district and round is stored as the district total (qualifier ""); the sex
split (`numberMales`, `numberFemales`) is a series per split ("reason: Conflict; sex: female")
and summed per district ("sex: female"). Any country: nothing here knows a country's districts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd

from data_sources import sources
from data_sources.feeds.auth import HeaderKeyAuth
from data_sources.feeds.client import FeedClient
from data_sources.feeds.connectors.base import Batch, Connector, PageRequest, Scope, numeric
from data_sources.feeds.errors import FeedError
from data_sources.model.dates import days_or_text

COMMON = ("admin0Pcode", "numPresentIdpInd", "reportingDate", "roundNumber")
LEVELS = {  # route -> fields that level must carry
    "admin2": (*COMMON, "admin2Name", "admin2Pcode"),
    "admin1": (*COMMON, "admin0Name", "admin1Name", "admin1Pcode"),
}
MISSING = {"", "not available", "none", "nan"}


class DtmConnector(Connector):
    source = sources.source("dtm")
    base_url_setting = "DTM_BASE_URL"
    default_base_url = "https://dtmapi.iom.int"
    id_field = "id"
    covers = (
        "IDPs present per district (admin 2, on its seat city) and governorate (admin 1, "
        "as a region) and round, split by reason and origin, with totals"
    )

    records_path = "result"  # one page per request: DTM v3 answers a country whole

    def auth(self, client: FeedClient) -> httpx.Auth:
        return HeaderKeyAuth("Ocp-Apim-Subscription-Key", setting_name="DTM_SUBSCRIPTION_KEY")

    def requests(self, client: FeedClient, scope: Scope) -> Iterator[PageRequest]:
        for level, fields in LEVELS.items():
            url = f"{self.base_url()}/v3/displacement/{level}"
            for country in scope.countries:
                params = {"Admin0Pcode": country}
                if scope.since_for(country):
                    params["FromReportingDate"] = scope.since_iso(country=country)
                yield PageRequest(url, f"displacement-{level}", params, required_fields=fields)

    def check_payload(self, shown: str, payload: Any) -> None:
        if isinstance(payload, dict) and payload.get("isSuccess") is False:
            raise FeedError(
                self.name,
                shown,
                "DTM answered isSuccess=false: "
                + "; ".join(map(str, payload.get("errorMessages") or [])),
            )

    def normalize(self, batch: Batch, scope: Scope) -> pd.DataFrame:
        df = pd.DataFrame.from_records(batch.records)
        if df.empty:
            return self.rows(batch, df)
        df = df.reset_index(drop=True)
        df["row_ref"] = [f"{batch.url} id={i}" for i in df.get("id", df.index)]
        reason = df.get("displacementReason", pd.Series("", index=df.index)).fillna("").astype(str)
        origin = df.get("idpOriginAdmin1Name", pd.Series("", index=df.index)).fillna("").astype(str)
        parts = []
        for label, values in (("reason", reason), ("from", origin)):
            known = ~values.str.strip().str.casefold().isin(MISSING)
            parts.append((label + ": " + values).where(known, ""))
        qualifier = (parts[0] + "; " + parts[1]).str.strip("; ")
        day = days_or_text(df["reportingDate"])
        if batch.dataset.endswith("admin1"):  # a governorate: a region of its own, not a city
            kind, raw = "region", df["admin1Name"] + ", " + df["admin0Name"]
            admin2, pcode = "", df["admin1Pcode"]
        else:
            kind, raw, admin2, pcode = "city", df["admin2Name"], df["admin2Name"], df["admin2Pcode"]
        base = pd.DataFrame(
            {
                "metric": "idps",
                "unit": "people",
                "place_kind": kind,
                "place_raw": raw,
                "admin1": df.get("admin1Name", pd.Series("", index=df.index)).fillna(""),
                "admin2": pd.Series(admin2, index=df.index).fillna(""),
                "pcode": pd.Series(pcode, index=df.index).fillna(""),
                "country_iso3": df["admin0Pcode"],
                "period_start": day,
                "period_end": day,
                "row_ref": df["row_ref"],
                "qualifier": qualifier,
                "value": numeric(df["numPresentIdpInd"]),
            }
        )
        frames = [base]
        # v3's sex split, where the record gives it: its own series beside the record's total
        for sex, column in (("male", "numberMales"), ("female", "numberFemales")):
            if column in df:
                given = df[column].notna() & (df[column].astype(str).str.strip() != "")
                frames.append(
                    base[given].assign(
                        qualifier=(qualifier[given] + "; sex: " + sex).str.strip("; "),
                        value=numeric(df.loc[given, column]),
                    )
                )
        frames += self._totals(batch, pd.concat(frames, ignore_index=True), kind)
        return self.rows(batch, pd.concat(frames, ignore_index=True))

    def _totals(self, batch: Batch, rows: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
        """Per district and round, the sum of the reason/origin splits as the total ("") and
        of their sex splits as "sex: male"/"sex: female" — unless DTM sent that total itself."""
        keys = ["place_raw", "admin1", "admin2", "pcode", "country_iso3", "period_start"]
        sex = rows["qualifier"].str.extract(r"(?:^|; )(sex: \w+)$", expand=False).fillna("")
        split = rows["qualifier"] != sex  # a reason or an origin in the breakdown
        out = []
        for total in ("", "sex: male", "sex: female"):
            parts = rows[split & (sex == total)]
            if parts.empty:
                continue
            numbers = parts.assign(value=pd.to_numeric(parts["value"], errors="coerce"))
            sums = numbers.groupby(keys, as_index=False)["value"].sum(min_count=1)
            given = rows.loc[rows["qualifier"] == total, keys].drop_duplicates()
            sums = sums.merge(given, on=keys, how="left", indicator=True)
            sums = sums[sums["_merge"] == "left_only"].drop(columns="_merge")
            out.append(
                sums.assign(
                    period_end=sums["period_start"],
                    metric="idps",
                    unit="people",
                    place_kind=kind,
                    qualifier=total,
                    row_ref=f"{batch.url} (sum of splits)",
                )
            )
        return out
