"""Scale the real bundled data up to benchmark sizes (1M, 10M observations). SCALED, NOT REAL.

Shapes come from real series: WFP Syria monthly prices (each commodity's real path and level),
UNHCR/IDMC displacement stocks, and the day-to-day spread of reported casualty counts. They are
spread over many GeoNames cities and days with multiplicative noise and gaps (missing days and
whole missing months), so that sizes, cardinalities and distributions look like a real store.
Nothing generated here is ever committed; it lives in bench/data/ (git-ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data_sources.snapshot import MANIFEST, SNAPSHOT_DIR

DATA_DIR = Path(__file__).resolve().parents[1] / "bench" / "data"
START = pd.Timestamp("2014-01-01")


@dataclass(frozen=True)
class Plan:
    observations: int
    cities: int
    days: int
    series_per_city: int


def plan(observations: int) -> Plan:
    """Cities x series x days, each series observed on ~85% of days."""
    days = 730
    series_per_city = 24
    cities = max(10, round(observations / (days * 0.85 * series_per_city)))
    return Plan(observations, cities, days, series_per_city)


def real_price_paths() -> pd.DataFrame:
    """Monthly real price paths (SYP per unit) by commodity, from the bundled WFP file."""
    item = next(m for m in MANIFEST if m.source == "wfp")
    wfp = item.read(SNAPSHOT_DIR / item.file)
    wfp = wfp[wfp.unit.str.startswith("SYP/")]
    wfp = wfp.assign(value=wfp.value.astype(float), month=pd.to_datetime(wfp.period_start))
    paths = wfp.groupby(["qualifier", "unit", "month"])["value"].median().unstack("month")
    return paths.dropna(thresh=int(paths.shape[1] * 0.5)).ffill(axis=1).bfill(axis=1)


def pick_cities(n: int, seed: int = 7) -> pd.DataFrame:
    from data_sources.model.places import gazetteer

    cities = gazetteer().cities
    big = cities[cities.population >= 20_000]
    return big.sample(n=min(n, len(big)), random_state=seed)[
        ["geonames_id", "name", "country_iso3", "lat", "lon", "population"]
    ]


def generate(observations: int, seed: int = 11) -> pd.DataFrame:
    """Long observation rows (source, metric, qualifier, city, day, value, unit) at this size."""
    rng = np.random.default_rng(seed)
    p = plan(observations)
    prices = real_price_paths()
    cities = pick_cities(p.cities)
    days = pd.date_range(START, periods=p.days, freq="D")
    month_index = np.clip(
        ((days.year - 2014) * 12 + days.month - 1).to_numpy(), 0, prices.shape[1] - 1
    )
    n_price = p.series_per_city - 4
    frames = []
    for city in cities.itertuples():
        picks = rng.choice(len(prices), size=n_price, replace=False)
        level = rng.lognormal(0.0, 0.25, size=n_price)[:, None]
        noise = rng.lognormal(0.0, 0.03, size=(n_price, p.days))
        values = prices.to_numpy()[picks][:, month_index] * level * noise
        names = prices.index[picks]
        idps = np.maximum(
            0,
            (city.population * rng.uniform(0.01, 0.3))
            * np.cumprod(rng.lognormal(0.0, 0.01, size=p.days)),
        )
        killed = rng.negative_binomial(1, 0.3, size=(3, p.days)).astype(float)
        block = np.vstack([values, idps[None, :], killed])
        qual = [q for q, _ in names] + ["", "", "airstrikes", "shelling"]
        unit = [u for _, u in names] + ["people"] * 4
        metric = ["food_price"] * n_price + [
            "idps",
            "civilians_killed",
            "civilians_killed",
            "civilians_killed",
        ]
        keep = rng.random(block.shape) < 0.9
        missing_month = rng.random((block.shape[0], 25)) < 0.05
        keep &= ~missing_month[:, month_index % 25]
        s_idx, d_idx = np.nonzero(keep)
        frames.append(
            pd.DataFrame(
                {
                    "city": city.name,
                    "geonames_id": city.geonames_id,
                    "country_iso3": city.country_iso3,
                    "lat": city.lat,
                    "lon": city.lon,
                    "metric": np.asarray(metric, dtype=object)[s_idx],
                    "qualifier": np.asarray(qual, dtype=object)[s_idx],
                    "unit": np.asarray(unit, dtype=object)[s_idx],
                    "day": days[d_idx],
                    "value": block[s_idx, d_idx].round(2),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out = out.iloc[:observations] if len(out) > observations else out
    for col in ("city", "country_iso3", "metric", "qualifier", "unit"):
        out[col] = out[col].astype("category")
    return out


def to_observations(df: pd.DataFrame) -> pd.DataFrame:
    """The generated rows in the store's normalized shape, placed by GeoNames id via p-code-free
    coordinates (what a market or event feed would give)."""
    day = df["day"].dt.date
    return pd.DataFrame(
        {
            "source": "bench",
            "dataset": "scaled",
            "metric": df["metric"].astype(str),
            "qualifier": df["qualifier"].astype(str),
            "site": "",
            "place_raw": df["city"].astype(str),
            "country_iso3": df["country_iso3"].astype(str),
            "admin1": "",
            "admin2": "",
            "pcode": "",
            "lat": df["lat"],
            "lon": df["lon"],
            "place_kind": "city",
            "period_start": day,
            "period_end": day,
            "value": df["value"],
            "unit": df["unit"].astype(str),
            "estimate": "best",
            "source_url": "",
            "citation": "scaled benchmark data, not real",
            "quote": "",
            "licence": "",
            "row_ref": "",
        }
    )


def write_peer_files(df: pd.DataFrame, stem: str) -> tuple[Path, Path]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = DATA_DIR / f"{stem}.csv", DATA_DIR / f"{stem}.parquet"
    flat = df.drop(columns=["geonames_id"])
    flat.to_parquet(parquet_path, index=False)
    flat.to_csv(csv_path, index=False)
    return csv_path, parquet_path
