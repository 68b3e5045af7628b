"""UNHCR population statistics and IDMC IDP totals (refugees R package tables) -> observations.

Both are yearly, country-level stocks: a figure counts people at the end of the year, so its
period is that day. Refugee counts are kept per country of asylum and also summed per country of
origin (the sum is over the asylum countries present in the file: for origins IRQ and SYR the
file holds every asylum country, so the total is complete for those two only).
"""

from __future__ import annotations

import pandas as pd

from data_sources.model.validation import conform
from data_sources.sources import BUNDLED, BundledFile

# licence, citation and link of the bundled files these tables come from (the registry's)
UNHCR_FILE = BUNDLED["population_irq_syr_derived.csv"]
IDMC_FILE = BUNDLED["idmc_irq_syr_derived.csv"]
COMPLETE_ORIGINS = {"IRQ", "SYR"}


def _year_end(year: pd.Series) -> pd.Series:
    return year.astype(int).astype(str) + "-12-31"


def _country_rows(
    df: pd.DataFrame, iso: pd.Series, dataset: str, entry: BundledFile
) -> pd.DataFrame:
    return df.assign(
        source=entry.source,
        dataset=dataset,
        country_iso3=iso,
        place_raw=iso,
        place_kind="country",
        unit="people",
        estimate="best",
        source_url=entry.url,
        citation=entry.citation,
        licence=entry.licence,
    )


def parse_unhcr_population(
    df: pd.DataFrame,
    name: str,
    origins: set[str] = COMPLETE_ORIGINS,
    entry: BundledFile = UNHCR_FILE,
) -> pd.DataFrame:
    df = df.reset_index(drop=True).assign(row_ref=[f"{name}:{i + 2}" for i in range(len(df))])
    df["period"] = _year_end(df["year"])
    origins_df = df[df["coo_iso"].isin(origins)]
    abroad = origins_df[origins_df["coo_iso"] != origins_df["coa_iso"]]
    by_asylum = _country_rows(abroad, abroad["coo_iso"], "population", entry).assign(
        metric="refugees_from",
        qualifier="in " + abroad["coa_name"],
        value=abroad["refugees"],
        period_start=abroad["period"],
        period_end=abroad["period"],
    )
    by_asylum = by_asylum[pd.to_numeric(by_asylum["value"], errors="coerce") != 0]
    totals = (
        abroad.assign(refugees=pd.to_numeric(abroad["refugees"], errors="coerce"))
        .groupby(["coo_iso", "period"], as_index=False)["refugees"]
        .sum(min_count=1)
    )
    total_rows = _country_rows(totals, totals["coo_iso"], "population", entry).assign(
        metric="refugees_from",
        qualifier="",
        value=totals["refugees"],
        period_start=totals["period"],
        period_end=totals["period"],
        row_ref=f"{name} (sum over countries of asylum)",
    )
    inside = df[(df["coo_iso"] == df["coa_iso"]) & df["coo_iso"].isin(origins)]
    idps = _country_rows(inside, inside["coo_iso"], "population", entry).assign(
        metric="idps",
        qualifier="",
        value=inside["idps"],
        period_start=inside["period"],
        period_end=inside["period"],
    )
    idps = idps[pd.to_numeric(idps["value"], errors="coerce") != 0]
    return conform(pd.concat([by_asylum, total_rows, idps], ignore_index=True))


def parse_idmc(df: pd.DataFrame, name: str, entry: BundledFile = IDMC_FILE) -> pd.DataFrame:
    df = df.reset_index(drop=True).assign(row_ref=[f"{name}:{i + 2}" for i in range(len(df))])
    period = _year_end(df["year"])
    out = _country_rows(df, df["coo_iso"], "idmc", entry).assign(
        metric="idps",
        qualifier="",
        value=df["total"],
        period_start=period,
        period_end=period,
    )
    return conform(out)
