"""How figures combine into the points a page, a download or the CLI shows: one module, one
rule per kind of figure (docs/how-figures-combine.md holds the table).

- estimate sets (best/low/high, a reported range): the best is drawn, else the reported
  figure, else the low bound; low and high go beside it (`low`, `high`), never averaged, and
  `figures` counts reports, not estimates (`estimates.py`);
- flows: disjoint spans add up; a span containing another of the same source and series
  supersedes it (`overlaps.py`); a figure "to date" is a running total, never summed;
- stocks: the last count in the period;
- prices: a market's own observations average; markets are never averaged together: one
  point per market, or the median with min–max (`markets.py`);
- sources: never added or averaged: every point is one source's.
Pure: DataFrame in, DataFrame out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_sources.model.estimates import ESTIMATE_PREFERENCE, bounds, one_estimate
from data_sources.model.markets import EACH, MEDIAN, market_summary, median_market
from data_sources.model.overlaps import (
    figure_kinds,
    metric_kind,
    series_codes,
    supersede_contained,
)
from data_sources.model.periods import FREQUENCIES, bins, labels, text

__all__ = [
    "EACH",
    "ESTIMATE_PREFERENCE",
    "FREQUENCIES",
    "MEDIAN",
    "aggregate",
    "chart_points",
    "group_keys",
    "median_market",
    "metric_kind",
    "one_estimate",
    "place_month",
    "point_periods",
    "supersede_contained",
]

PER_CAPITA = 100_000
POINT_COLUMNS = ["period", "period_label", "value", "low", "high", "figures", "source"]
POINT_COLUMNS += ["citation", "spans", "kind", "revisions"]


def group_keys(df: pd.DataFrame, metric: str, by: tuple[str, ...]) -> list[str]:
    """The columns a point is one of: those asked for, plus the source (figures of different
    sources are never combined) and, for a price, the market (markets are never averaged)."""
    keys = list(by)
    if "origin" in df and "origin" not in keys:
        keys.append("origin")
    if metric_kind(metric) == "price" and "site" in df and "site" not in keys:
        keys.append("site")
    return keys


def aggregate(
    df: pd.DataFrame,
    metric: str,
    period: str = "month",
    cumulative: bool = False,
    by: tuple[str, ...] = ("city",),
) -> pd.DataFrame:
    """One value per group (`group_keys`) and period, from figures of one estimate (see
    `chart_points` for the whole rule). Columns: the keys, period, period_label, value,
    figures (reports), source, citation, spans (True for a figure longer than the period,
    kept whole), kind (flow, to_date, stock, price), revisions (most revisions any of the
    point's figures has had).

    Written with numpy group codes rather than a pandas groupby: a chart holds a few hundred
    figures, where pandas' fixed cost per operation was most of the page's run time."""
    keys = group_keys(df, metric, by)
    if df.empty:
        return pd.DataFrame(columns=[*keys, *POINT_COLUMNS, "period_start"])
    freq = FREQUENCIES.get(period, "M")
    df = _superseded(df, freq)
    rows = _sorted_rows(df, metric, keys, freq)
    group, uniq, first_row = _groups(rows, keys)
    n = len(uniq)
    out = pd.DataFrame(
        {
            **{k: rows[k][first_row] for k in keys},
            "period": uniq[:, 0].view("datetime64[ns]"),
            "value": _values(rows, group, n),
            "figures": np.bincount(group, minlength=n),
            "source": rows["origin"][first_row],
            "spans": uniq[:, 1].astype(bool),
            "kind": _group_kind(rows["kind"], group, n),
            **_provenance(rows, group, n),
        }
    )
    if cumulative:
        out = _running_total(out, keys)
    out["period_label"] = labels(
        out["period"].to_numpy(), out["period_start"].to_numpy(), out["spans"].to_numpy(), freq
    )
    return out.reindex(columns=[*keys, *POINT_COLUMNS, "period_start"])


def _superseded(df: pd.DataFrame, freq: str) -> pd.DataFrame:
    """The figures without those a containing report of the same source and series supersedes
    within the point they fall in (the same period, or the same end for a figure kept whole)."""
    if len(df) < 2:
        return df
    end = df["period_end"].to_numpy("datetime64[ns]")
    bin_start, bin_end = bins(end, freq)
    spans = df["period_start"].to_numpy("datetime64[ns]") < bin_start
    return supersede_contained(df, within=(np.where(spans, end, bin_end), spans))


def point_periods(df: pd.DataFrame, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Per figure, the `period` of the point it falls in and whether it is kept whole (a
    span): the last day of its bin (week, month, year of its end), or its own end for a
    figure starting before that bin."""
    end = df["period_end"].to_numpy("datetime64[ns]")
    bin_start, bin_end = bins(end, freq)
    spans = df["period_start"].to_numpy("datetime64[ns]") < bin_start
    return np.where(spans, end, bin_end), spans


def _sorted_rows(df: pd.DataFrame, metric: str, keys: list[str], freq: str) -> dict:
    """The figures as arrays, in a stable order by period end (the last is the latest), with
    the bin each falls in; a figure starting before its bin keeps its own end (a span)."""
    order = np.argsort(df["period_end"].to_numpy("datetime64[ns]"), kind="stable")
    when, spans = point_periods(df, freq)
    when, spans = when[order], spans[order]
    start = df["period_start"].to_numpy("datetime64[ns]")[order]
    origin = text(df["origin"] if "origin" in df else df.get("source"), len(df))[order]
    rows = {k: text(df[k], len(df))[order] for k in keys}
    revision = df["revision"].to_numpy(np.int64) if "revision" in df else np.ones(len(df), int)
    return {
        **rows,
        "origin": origin,
        "start": start,
        "when": when,
        "spans": spans,
        "value": df["value"].to_numpy(float)[order],
        "kind": figure_kinds(df, metric)[order],
        "citation": text(df.get("citation"), len(df))[order],
        "revision": revision[order],
    }


def _groups(rows: dict, keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group codes in sorted key order: the keys, then the period, then whether a span.
    Returns each row's group, per group its period and span flag, and its first row."""
    columns = [rows[k] for k in keys] + [rows["when"].view(np.int64), rows["spans"]]
    code = series_codes(columns, sort=True)
    _, first_row, group = np.unique(code, return_index=True, return_inverse=True)
    uniq = np.column_stack(
        [rows["when"].view(np.int64)[first_row], rows["spans"][first_row].astype(np.int64)]
    )
    return group.ravel(), uniq, first_row


def _group_kind(kind: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """A point's kind: "to_date" when any of its figures is a running total, else its
    figures' (one metric, one kind)."""
    out = np.full(n, "", dtype=object)
    out[group] = kind
    to_date = np.zeros(n, bool)
    to_date[group[kind == "to_date"]] = True
    out[to_date] = "to_date"
    return out


def _values(rows: dict, group: np.ndarray, n: int) -> np.ndarray:
    """A flow's disjoint figures add up; a price is the mean of one market's observations;
    a stock, and a running total ("to date"), is its latest figure."""
    value, kind = rows["value"], rows["kind"]
    last = np.zeros(n, dtype=np.int64)
    np.maximum.at(last, group, np.arange(len(group)))
    latest = value[last]
    count = np.bincount(group, minlength=n)
    total = np.bincount(group, weights=value, minlength=n)
    point_kind = _group_kind(kind, group, n)
    return np.select(
        [point_kind == "flow", point_kind == "price"], [total, total / count], default=latest
    )


def _provenance(rows: dict, group: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Per point: the first citation given, the most revisions of any figure, the earliest
    start (a span's label)."""
    earliest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(earliest, group, rows["start"].view(np.int64))
    revisions = np.ones(n, dtype=np.int64)
    np.maximum.at(revisions, group, rows["revision"])
    citation = rows["citation"]
    cited = np.full(n, len(group))
    has = citation != ""
    np.minimum.at(cited, group[has], np.flatnonzero(has))
    return {
        "citation": np.append(citation, "")[cited],
        "revisions": revisions,
        "period_start": earliest.view("datetime64[ns]"),
    }


def _running_total(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Cumulative view: a flow's points per period summed as they come; a figure kept whole
    (a span) and a "to date" figure are running totals already and are left as they are."""
    flows = (~out["spans"]) & (out["kind"] == "flow")
    if flows.any():
        out.loc[flows, "value"] = out[flows].groupby(keys)["value"].cumsum()
    return out


def chart_points(
    df: pd.DataFrame,
    metric: str,
    period: str = "month",
    cumulative: bool = False,
    by: tuple[str, ...] = ("city",),
    markets: str = EACH,
) -> pd.DataFrame:
    """The points of a chart or download from every estimate of the chosen series: the drawn
    estimate aggregated (`aggregate`), `low` and `high` the same aggregation of the low and
    high bounds where the source gives them (NaN where not). Prices: one point per market
    (`markets=EACH`) or the median market with min–max as `low`/`high` (`MEDIAN`)."""
    points = aggregate(one_estimate(df), metric, period, cumulative, by)
    keys = group_keys(df, metric, by)
    join = [*keys, "period", "spans"]
    for bound in ("low", "high"):
        part = bounds(df, bound)
        if part.empty or points.empty:
            points[bound] = np.nan
            continue
        other = aggregate(part, metric, period, cumulative, by)[[*join, "value"]]
        points = points.drop(columns=bound).merge(
            other.rename(columns={"value": bound}), on=join, how="left"
        )
    points = points.reindex(columns=[*keys, *POINT_COLUMNS, "period_start"])
    if markets == MEDIAN and metric_kind(metric) == "price" and "site" in keys:
        points = market_summary(points, keys)
        points = points.reindex(columns=[*keys, *POINT_COLUMNS, "period_start", "markets"])
    return points


def place_month(df: pd.DataFrame, metric: str, month: str) -> pd.DataFrame:
    """One calendar month (YYYY-MM) per place and source, as the Map draws it: the month's
    figures (those within it; longer figures are left out) combined by `chart_points`, and a
    place's markets as the median with min–max. `df` holds the month's figures with
    place_id, city, lat, lon and population."""
    keys = ("place_id", "city", "lat", "lon", "population")
    if df.empty:
        return pd.DataFrame(columns=[*keys, "origin", *POINT_COLUMNS, "markets"])
    start = pd.Period(month, "M").start_time
    end = pd.Period(month, "M").end_time.normalize()
    within = df[(df["period_start"] >= start) & (df["period_end"] <= end)]
    places = within.drop_duplicates("place_id").set_index("place_id")
    points = chart_points(
        within.drop(columns=["lat", "lon", "population"]),
        metric,
        "month",
        markets=MEDIAN,
        by=("place_id", "city"),
    )
    points = points[~points["spans"]]
    for col in ("lat", "lon", "population"):
        points[col] = points["place_id"].map(places[col])
    if "markets" not in points:
        points["markets"] = np.nan
    return points.reset_index(drop=True)


def per_capita(
    df: pd.DataFrame, population: dict[str, float], per: int = PER_CAPITA, key: str = "city"
) -> pd.DataFrame:
    """Values per `per` residents; rows whose place has no known population are dropped."""
    pop = df[key].map(population)
    out = df[pop.notna() & (pop > 0)].copy()
    out["value"] = out["value"] / pop[out.index] * per
    return out


def first_published(shown: pd.DataFrame, every: pd.DataFrame) -> pd.DataFrame | None:
    """`shown` with each revised figure at its first published value (its revision 1 in
    `every`, all revisions), for the faint "as first published" lines; None when no figure
    shown has been revised."""
    if shown.empty or not (shown["revision"] > 1).any():
        return None
    key = ["city", "metric", "qualifier", "site", "unit", "source", "dataset"]
    key += ["estimate", "period_start", "period_end"]
    first = every[every["revision"] == 1][[*key, "value"]].rename(columns={"value": "first"})
    out = shown.merge(first, on=key, how="left")
    out["value"] = out["first"].fillna(out["value"])
    return out.drop(columns="first").assign(revision=1)


def disagreements(df: pd.DataFrame) -> pd.DataFrame:
    """Figures for the same period from two or more origins, with their spread.

    Returns one row per period: origins and values side by side, lowest, highest, and the
    scope — what the figures count (their qualifiers). The ratio highest/lowest and the
    spread are given only between figures of one scope: "all parties over nine months"
    against "acknowledged by the coalition" is two different counts, not a 33.7×
    disagreement, so its ratio is empty and the scope says why.
    """
    cols = ["period", "scope", "figures", "lowest", "highest", "ratio", "spread"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    work = df.assign(
        period=df["period_start"].dt.strftime("%Y-%m-%d")
        + " to "
        + df["period_end"].dt.strftime("%Y-%m-%d"),
        figure=df["origin"]
        + " ("
        + df["estimate"]
        + "): "
        + df["value"].map("{:,.0f}".format)
        + (" — " + df["qualifier"]).where(df["qualifier"] != "", ""),
    )
    rows = []
    for period, part in work.groupby("period", sort=True):
        if part["origin"].nunique() < 2:
            continue
        lo, hi = part["value"].min(), part["value"].max()
        counted = list(dict.fromkeys(q or "(total)" for q in part["qualifier"]))
        same = len(counted) == 1
        rows.append(
            {
                "period": period,
                "scope": counted[0] if same else "not comparable: " + " · ".join(counted),
                "figures": "; ".join(part["figure"]),
                "lowest": lo,
                "highest": hi,
                "ratio": (hi / lo if lo else float("inf")) if same else float("nan"),
                "spread": hi - lo if same else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def monthly_sums(df: pd.DataFrame) -> pd.DataFrame:
    """An event source's deaths per calendar month of the event (its first possible day, as
    UCDP sums them): columns month (YYYY-MM), best, low, high, source, citation; oldest
    first. A month without a low or high estimate has none (NaN), never the best twice."""
    cols = ["month", "best", "low", "high", "source", "citation"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    month = df["period_start"].dt.strftime("%Y-%m")
    sums = df.pivot_table(
        index=month, columns="estimate", values="value", aggfunc="sum", fill_value=None
    ).reindex(columns=["best", "low", "high"])
    first = df.assign(month=month).groupby("month")[["origin", "citation"]].first()
    out = sums.join(first).rename(columns={"origin": "source"}).reset_index(names="month")
    return out.dropna(subset=["best"])[cols].reset_index(drop=True)
