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
    said = np.zeros(len(df), dtype=bool)
    for col in ("qualifier", "quote"):
        if col in df:  # a few distinct texts among thousands of rows: each read once
            codes, texts = pd.factorize(df[col].fillna("").astype(str))
            hits = np.array([bool(TO_DATE.search(t)) for t in texts] + [False])
            said |= hits[codes]
    out[said] = "to_date"
    return out


def series_codes(columns: list[np.ndarray], sort: bool = False) -> np.ndarray:
    """One integer per distinct combination of the columns' values; with `sort`, in the
    lexicographic order of the columns' values (a mixed-radix number of sorted codes)."""
    code = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    size = 1
    for column in columns:
        part, uniq = pd.factorize(column, sort=sort)
        n = len(uniq) + 1
        if size * n > 2**62:  # too many combinations for one integer: renumber first
            code = pd.factorize(code, sort=True)[0].astype(np.int64)
            size = int(code.max()) + 1
        code = code * n + (part + 1)
        size *= n
    return code


def supersede_contained(df: pd.DataFrame, within: tuple[np.ndarray, ...] = ()) -> pd.DataFrame:
    """Drop every figure whose span lies within the span of another figure of the same source
    and series, and of the same `within` codes (a chart's point: a report as of 11 June and
    the next as of 28 June are two points of a running total, each in its own period). The
    containing report supersedes the contained one; disjoint spans are all kept.

    Sorted by series, start, then longest first, a figure is contained exactly when some
    earlier figure of its series ends on or after its end: a running maximum, no pairwise
    check. In numpy (group codes, days as integers): a chart's few thousand figures in about a
    millisecond, where a pandas groupby over ten key columns took most of a second."""
    if len(df) < 2:
        return df
    parts = [
        pd.factorize(df[k].to_numpy(dtype=object, na_value=""))[0] for k in SERIES_KEYS if k in df
    ]
    parts += [pd.factorize(np.asarray(w))[0] for w in within]
    if parts:
        series = np.unique(np.column_stack(parts), axis=0, return_inverse=True)[1].ravel()
    else:
        series = np.zeros(len(df), dtype=np.int64)
    start = df["period_start"].to_numpy("datetime64[D]").view(np.int64)
    end = df["period_end"].to_numpy("datetime64[D]").view(np.int64)
    order = np.lexsort((-end, start, series))
    # offset each series far above the previous one's days, so one running max serves all
    span = int(end.max() - min(start.min(), end.min())) + 2
    shifted = (end - end.min() + 1)[order] + series[order].astype(np.int64) * span
    before = np.concatenate([[np.iinfo(np.int64).min], np.maximum.accumulate(shifted)[:-1]])
    contained = np.zeros(len(df), dtype=bool)
    contained[order] = before >= shifted
    return df if not contained.any() else df[~contained]
