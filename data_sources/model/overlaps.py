"""Figures of one series whose spans overlap: reports, not pieces to add.

ICRC reported 25,000 people evacuated from east Aleppo over 15–20 December 2016, then 35,000
over 15–22 December: the second contains the first, and adding them (60,000) gives a number
nobody published. Within one source and series, a figure whose span contains another's
supersedes it. A figure "to date" (its source says since, cumulative, to date, so far, as of) is
a running total: never summed into periods, drawn as the running total it is.

Event lists (UCDP, ACLED) never meet this rule: the store sums a series' events per day, so
their figures are disjoint days.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from data_sources.model.metrics import METRICS

# words a source uses for a running total; read from the figure's breakdown and its quote
TO_DATE = re.compile(r"\b(?:since|cumulative(?:ly)?|to date|so far|as of)\b", re.IGNORECASE)
SERIES_KEYS = ["origin", "source", "dataset", "city", "place_id", "metric", "qualifier"]
SERIES_KEYS += ["site", "unit", "estimate"]


def metric_kind(metric: str) -> str:
    """flow, stock or price, from the metric vocabulary (unknown metrics: stock, never added)."""
    return METRICS[metric].kind if metric in METRICS else "stock"


def figure_kinds(df: pd.DataFrame, metric: str) -> np.ndarray:
    """Each figure's kind: its metric's (flow, stock, price), and "to_date" for a flow whose
    source row says it is a running total (breakdown or quote: "since 17 October",
    "cumulative", "as of 20 December")."""
    kind = metric_kind(metric)
    out = np.full(len(df), kind, dtype=object)
    if kind != "flow" or df.empty:
        return out
    said = pd.Series("", index=df.index, dtype=object)
    for col in ("qualifier", "quote"):
        if col in df:
            said = said + " " + df[col].fillna("").astype(str)
    out[said.str.contains(TO_DATE).to_numpy(bool)] = "to_date"
    return out


def supersede_contained(df: pd.DataFrame, within: tuple[str, ...] = ()) -> pd.DataFrame:
    """Drop every figure whose span lies within the span of another figure of the same source
    and series, and of the same `within` columns (a chart's period: a report as of 11 June and
    the next as of 28 June are two points of a running total, each in its own period). The
    containing report supersedes the contained one; disjoint spans are all kept.

    Sorted by start, then longest first, a figure is contained exactly when some earlier figure
    of its series ends on or after its end: a running maximum per series, no pairwise check."""
    if len(df) < 2:
        return df
    keys = [k for k in SERIES_KEYS if k in df] + list(within)
    work = df.sort_values(
        [*keys, "period_start", "period_end"], ascending=[True] * (len(keys) + 1) + [False]
    )
    ends = work["period_end"]
    series = [work[k] for k in keys] or [pd.Series(0, index=work.index)]
    before = ends.groupby(series, dropna=False, sort=False).cummax()
    before = before.groupby(series, dropna=False, sort=False).shift()
    contained = (before >= ends).to_numpy(bool)
    if not contained.any():
        return df
    return df.loc[work.index[~contained]].sort_index()
