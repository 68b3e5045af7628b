"""Several markets of one place: never silently averaged.

In December 2016 wheat flour cost 3,500 SYP/kg at Al-Cha'ar in besieged east Aleppo and 225 at
Moghambo in the west; their mean, 1,862.5, is a price no market had and hides the siege. The
default is each market on its own; a summary is the median with the lowest and highest market
beside it, labelled as such."""

from __future__ import annotations

import pandas as pd

EACH = "each"  # one line (or bubble row) per market
MEDIAN = "median"  # the median market, with the min–max range and the number of markets


def market_summary(points: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per-market points (one row per `keys`, site, period) to one row per `keys` and period:
    the median market's price as `value`, `low`/`high` the cheapest and dearest market,
    `markets` how many, `site` saying so."""
    if points.empty:
        return points.assign(markets=pd.Series(dtype=int))
    group = [*[k for k in keys if k != "site"], "period", "spans"]
    out = points.groupby(group, sort=True, as_index=False, dropna=False).agg(
        value=("value", "median"),
        low=("value", "min"),
        high=("value", "max"),
        markets=("value", "size"),
        figures=("figures", "sum"),
        period_label=("period_label", "first"),
        period_start=("period_start", "min"),
        source=("source", "first"),
        citation=("citation", "first"),
        revisions=("revisions", "max"),
        kind=("kind", "first"),
    )
    out["site"] = out["markets"].map(lambda n: f"median of {n} market(s)")
    return out
