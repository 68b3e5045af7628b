"""Several markets of one place: never silently averaged.

In December 2016 wheat flour cost 3,500 SYP/kg at Al-Cha'ar in besieged east Aleppo and 225 at
Moghambo in the west; their mean, 1,862.5, is a price no market had and hides the siege. The
default is each market on its own; a summary is the median market with the lowest and highest
market beside it, labelled as such. With an even number of markets the median market is the
lower of the two middle ones (`statistics.median_low`): a price one market had, never the mean
of two."""

from __future__ import annotations

import pandas as pd

EACH = "each"  # one line (or bubble row) per market
MEDIAN = "median"  # the median market, with the min–max range and the number of markets


def median_market(values: pd.Series) -> float:
    """The median market's price: with an even number, the lower of the two middle ones (a
    price a market had, never the mean of two)."""
    ordered = values.dropna().sort_values().to_numpy()
    return float(ordered[(len(ordered) - 1) // 2]) if len(ordered) else float("nan")


def market_summary(points: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per-market points (one row per `keys`, site, period) to one row per `keys` but site and
    period: the median market's price as `value` and its name in `site` ("median of 2
    markets: Moghambo"), `low`/`high` the cheapest and dearest market, `markets` how many,
    `figures` the reports behind them."""
    if points.empty:
        return points.assign(markets=pd.Series(dtype=int))
    group = [*[k for k in keys if k != "site"], "period", "spans"]
    ordered = points.sort_values([*group, "value", "site"], kind="stable")
    grouped = ordered.groupby(group, sort=True, dropna=False)
    rank = grouped.cumcount()
    size = grouped["value"].transform("size")
    middle = ordered[rank == (size - 1) // 2]  # median_low: a price a market had
    spread = grouped.agg(
        low=("value", "min"),
        high=("value", "max"),
        markets=("value", "size"),
        figures=("figures", "sum"),
        revisions=("revisions", "max"),
    ).reset_index()
    out = middle.drop(columns=["low", "high", "figures", "revisions"]).merge(
        spread, on=group, how="left"
    )
    out["site"] = [
        f"median of {n} markets: {site}" if n > 1 else site
        for n, site in zip(out["markets"], out["site"], strict=True)
    ]
    return out.reset_index(drop=True)
