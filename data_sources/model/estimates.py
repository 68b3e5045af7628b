"""Estimate sets (UCDP's best/low/high, a reported "between 9,000 and 11,000"): which one is
drawn, and the low–high range shown beside it. Estimates of one figure are never averaged,
added or counted as separate figures."""

from __future__ import annotations

import pandas as pd

# drawn: the best estimate, else the figure as reported, else the "at least" (low) bound
ESTIMATE_PREFERENCE = {"best": 0, "reported": 1, "low": 2, "high": 3}
FIGURE_KEYS = ["origin", "city", "qualifier", "site", "unit", "period_start", "period_end"]


def one_estimate(df: pd.DataFrame) -> pd.DataFrame:
    """One figure per source, breakdown, site and period: the best estimate, else the reported
    figure, else the low bound, else the high one. A source's low and high bounds for one period
    are never added up; `bounds` gives them beside the drawn figure."""
    if df.empty or "estimate" not in df:
        return df
    if df["estimate"].nunique(dropna=False) == 1:  # one kind of estimate: nothing to choose
        return df
    rank = df["estimate"].map(ESTIMATE_PREFERENCE).fillna(9)
    keys = [k for k in FIGURE_KEYS if k in df]
    best = rank.groupby([df[k] for k in keys], dropna=False).transform("min")
    return df[rank == best]


def bounds(df: pd.DataFrame, estimate: str) -> pd.DataFrame:
    """The figures of one bound ("low" or "high"), for a range beside the drawn figure; empty
    when the source gives none."""
    if "estimate" not in df:
        return df.iloc[0:0]
    return df[df["estimate"] == estimate]
