"""Rebuild the bundled snapshot from the shared raw files (run by maintainers, not at start-up).

Only redistributable data is written: WFP prices (CC BY-IGO), UNHCR and IDMC figures (CC BY 4.0).
IOM DTM and ACLED files are never read here: their terms forbid redistribution.
Usage: python scripts/build_snapshot.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

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


def main(shared: Path) -> None:
    save_hxl(load_wfp(shared, "SYR"), WFP_COLUMNS, SNAPSHOT / "wfp_food_prices_syr.csv")
    for name in ("population_irq_syr_derived.csv", "idmc_irq_syr_derived.csv"):
        shutil.copyfile(shared / "unhcr-refugees" / name, SNAPSHOT / name)
    print(f"snapshot written to {SNAPSHOT}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
