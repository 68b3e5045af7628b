"""Rebuild the bundled snapshot from the shared raw files (run by maintainers, not at start-up).

Only redistributable data is written: WFP prices (CC BY-IGO), UNHCR and IDMC figures (CC BY 4.0),
Insecurity Insight's incidents in Iraq and Syria (CC BY-SA 4.0, from the repository's own
tests/fixtures/columns; the derived files carry the same licence).
IOM DTM and ACLED files are never read here: their terms forbid redistribution.
Usage: python scripts/build_snapshot.py [SHARED_DATA_DIR]
       python scripts/build_snapshot.py --insecurity-insight  (those two files only)
"""

from __future__ import annotations

import io
import lzma
import shutil
import sys
from pathlib import Path

import pandas as pd

SNAPSHOT = Path(__file__).resolve().parents[1] / "data_sources" / "snapshot"
WFP_YEARS = range(2014, 2019)
# The header and HXL row of WFP's per-country HDX file (wfp_food_prices_<iso3>.csv).
WFP_COLUMNS = {
    "date": "#date",
    "admin1": "#adm1+name",
    "admin2": "#adm2+name",
    "market": "#loc+market+name",
    "market_id": "#loc+market+code",
    "latitude": "#geo+lat",
    "longitude": "#geo+lon",
    "category": "#item+type",
    "commodity": "#item+name",
    "commodity_id": "#item+code",
    "unit": "#item+unit",
    "priceflag": "#item+price+flag",
    "pricetype": "#item+price+type",
    "currency": "#currency+code",
    "price": "#value",
    "usdprice": "#value+usd",
}


def load_wfp(shared: Path, iso3: str) -> pd.DataFrame:
    files = [shared / "wfp-food-prices" / f"wfp_food_prices_global_{y}.csv" for y in WFP_YEARS]
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]
    both = pd.concat(frames, ignore_index=True)
    return both[both["countryiso3"] == iso3]


def save_hxl(df: pd.DataFrame, columns: dict[str, str], path: Path) -> None:
    out = df[list(columns)].sort_values(["date", "market", "commodity", "pricetype", "unit"])
    hxl = pd.DataFrame([columns])
    pd.concat([hxl, out], ignore_index=True).to_csv(path, index=False)


FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "columns"
# Insecurity Insight's sheets (HDX, via OCHA-DAP/hdx-scraper-insecurity-insight) -> the
# snapshot's Iraq and Syria subset of each
INSECURITY_INSIGHT = {
    "ii_attacks_on_health_care_2016_2023.csv.xz": "ii_health_care_irq_syr.csv.xz",
    "ii_education_in_danger_2020_2023.csv.xz": "ii_education_irq_syr.csv.xz",
}
II_COUNTRIES = ("IRQ", "SYR")


def write_incidents(raw: Path, out: Path) -> None:
    """The rows of an Insecurity Insight sheet whose `Country ISO` is Iraq's or Syria's, in
    the sheet's order, under its header and HXL row; every cell as written, xz -9."""
    with lzma.open(raw, "rt", encoding="utf-8", newline="") as fh:
        sheet = pd.read_csv(fh, dtype=str, keep_default_na=False)
    hxl, rows = sheet.iloc[:1], sheet.iloc[1:]
    keep = rows[rows["Country ISO"].str.strip().isin(II_COUNTRIES)]
    text = io.StringIO()
    pd.concat([hxl, keep]).to_csv(text, index=False)
    with lzma.open(out, "wt", encoding="utf-8", newline="", preset=9) as fh:
        fh.write(text.getvalue())


def main(shared: Path) -> None:
    save_hxl(load_wfp(shared, "SYR"), WFP_COLUMNS, SNAPSHOT / "wfp_food_prices_syr.csv")
    for name in ("population_irq_syr_derived.csv", "idmc_irq_syr_derived.csv"):
        shutil.copyfile(shared / "unhcr-refugees" / name, SNAPSHOT / name)
    write_insecurity_insight()
    print(f"snapshot written to {SNAPSHOT}")


def write_insecurity_insight() -> None:
    for raw, derived in INSECURITY_INSIGHT.items():
        write_incidents(FIXTURES / raw, SNAPSHOT / derived)


if __name__ == "__main__":
    if sys.argv[1:] == ["--insecurity-insight"]:  # only these (no shared data needed)
        write_insecurity_insight()
        sys.exit()
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
