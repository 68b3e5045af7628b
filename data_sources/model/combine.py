"""How figures combine into a chart's points, by the metric's kind: one estimate per source, periods (flows add up, stocks keep the last count, prices average), cumulative and per-capita values, monthly sums, and where sources disagree. Pure: DataFrame in, DataFrame out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_sources.model.metrics import METRICS

FREQUENCIES = {"week": "W", "month": "M", "year": "Y"}


PER_CAPITA = 100_000


def metric_kind(metric: str) -> str:
    return METRICS[metric].kind if metric in METRICS else "stock"


ESTIMATE_PREFERENCE = {"best": 0, "reported": 1, "low": 2, "high": 3}


def one_estimate(df: pd.DataFrame) -> pd.DataFrame:
    """One figure per source, breakdown, site and period for a trend line: the best estimate,
    else the reported figure, else the "at least" (low) bound, else the high one. A source's
    low and high bounds for one period must never be added up; the Compare page shows them
    all as a range."""
    if df.empty:
        return df
    if df["estimate"].nunique(dropna=False) == 1:  # one kind of estimate: nothing to choose
        return df
    rank = df["estimate"].map(ESTIMATE_PREFERENCE).fillna(9)
    keys = ["origin", "qualifier", "site", "period_start", "period_end"]
    keys = [k for k in keys if k in df]
    best = rank.groupby([df[k] for k in keys], dropna=False).transform("min")
    return df[rank == best]


def aggregate(
    df: pd.DataFrame,
    metric: str,
    period: str = "month",
    cumulative: bool = False,
    by: tuple[str, ...] = ("city",),
) -> pd.DataFrame:
    """One value per group and period. Returns columns: *by, period, period_label, value,
    figures (count), source, citation, spans (True for a multi-period figure kept whole),
    revisions (the most revisions any of the point's figures has had; 1: none revised).

    Written with numpy group codes rather than a pandas groupby: a chart holds a few hundred
    figures, where pandas' fixed cost per operation (about 30 of them) was most of the page's
    run time."""
    cols = [
        *by,
        "period",
        "period_label",
        "value",
        "figures",
        "source",
        "citation",
        "spans",
        "revisions",
    ]
    if df.empty:
        return pd.DataFrame(columns=cols)
    freq = FREQUENCIES.get(period, "M")
    kind = metric_kind(metric)
    # stable order by period end: "last" is the latest figure, "first" the earliest
    order = np.argsort(df["period_end"].to_numpy("datetime64[ns]"), kind="stable")
    end = df["period_end"].to_numpy("datetime64[ns]")[order]
    start = df["period_start"].to_numpy("datetime64[ns]")[order]
    value = df["value"].to_numpy(float)[order]
    origin = _text(df["origin"] if "origin" in df else df.get("source"), len(df))[order]
    citation = _text(df.get("citation"), len(df))[order]
    bin_start, bin_end = _bins(end, freq)
    spans = start < bin_start
    when = np.where(spans, end, bin_end)
    # group codes in sorted key order: by columns, then period, then spans
    by_text = {c: _text(df[c], len(df))[order] for c in by}
    parts = [pd.factorize(by_text[c], sort=True)[0] for c in by]
    keys = np.column_stack([*parts, when.view(np.int64), spans.astype(np.int64)])
    uniq, first_row, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    n = len(uniq)
    figures = np.bincount(group, minlength=n)
    if kind == "flow":
        values = np.bincount(group, weights=value, minlength=n)
    elif kind == "price":
        values = np.bincount(group, weights=value, minlength=n) / figures
    else:
        last = np.zeros(n, dtype=np.int64)
        np.maximum.at(last, group, np.arange(len(group)))
        values = value[last]
    earliest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(earliest, group, start.view(np.int64))
    revision = (
        df["revision"].to_numpy(np.int64)[order] if "revision" in df else np.ones(len(df), np.int64)
    )
    revisions = np.ones(n, dtype=np.int64)
    np.maximum.at(revisions, group, revision)
    cited = np.full(n, len(group))
    has = citation != ""
    np.minimum.at(cited, group[has], np.flatnonzero(has))
    out = pd.DataFrame(
        {
            **{c: by_text[c][first_row] for c in by},
            "period": uniq[:, len(by)].view("datetime64[ns]"),
            "value": values,
            "figures": figures,
            "source": origin[first_row],
            "citation": np.append(citation, "")[cited],
            "spans": uniq[:, len(by) + 1].astype(bool),
            "revisions": revisions,
            "period_start": earliest.view("datetime64[ns]"),
        }
    )
    # sources per point: one in nearly every group, so join names only where there are more
    origin_code, origin_names = pd.factorize(origin)
    pairs = np.unique(group * (len(origin_names) + 1) + origin_code)
    if len(pairs) > n:
        per_group = pairs // (len(origin_names) + 1)
        names = np.asarray(origin_names, dtype=object)[pairs % (len(origin_names) + 1)]
        for g in np.flatnonzero(np.bincount(per_group, minlength=n) > 1):
            out.loc[g, "source"] = ", ".join(sorted(map(str, names[per_group == g])))
    if cumulative and kind == "flow":
        binned = ~out["spans"]
        out.loc[binned, "value"] = out[binned].groupby(list(by))["value"].cumsum()
    out["period_label"] = _labels(
        out["period"].to_numpy(), out["period_start"].to_numpy(), out["spans"].to_numpy(), freq
    )
    return out.reindex(columns=cols)


def _text(column: pd.Series | None, length: int) -> np.ndarray:
    """A text column as plain Python strings ("" for missing), or all "" when absent."""
    if column is None:
        return np.full(length, "", dtype=object)
    return column.to_numpy(dtype=object, na_value="")


def _bins(end: np.ndarray, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and last day of the week (Monday to Sunday), month or year holding each date."""
    days = end.astype("datetime64[D]")
    if freq == "W":
        monday = days - ((days.view(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
        return monday.astype("datetime64[ns]"), (monday + 6).astype("datetime64[ns]")
    unit = "datetime64[M]" if freq == "M" else "datetime64[Y]"
    first = days.astype(unit)
    return (
        first.astype("datetime64[D]").astype("datetime64[ns]"),
        ((first + 1).astype("datetime64[D]") - 1).astype("datetime64[ns]"),
    )


MONTHS = np.array(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    dtype=object,
)


def _labels(period: np.ndarray, start: np.ndarray, spans: np.ndarray, freq: str) -> np.ndarray:
    """ "Mar 2017", "2017", "week ending 2017-03-05"; a figure kept whole: "start to end"."""
    day = np.datetime_as_string(period.astype("datetime64[D]")).astype(object)
    year = np.array([d[:4] for d in day], dtype=object)
    if freq == "W":
        label = "week ending " + day
    elif freq == "M":
        label = MONTHS[period.astype("datetime64[M]").view(np.int64) % 12] + " " + year
    else:
        label = year
    if spans.any():
        first = np.datetime_as_string(start.astype("datetime64[D]")).astype(object)
        label[spans] = first[spans] + " to " + day[spans]
    return label


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

    Returns one row per period: origins and values side by side, lowest, highest and the
    ratio highest/lowest. Qualifiers are listed so a reader can see when sources count
    different things (all deaths vs deaths a belligerent acknowledges).
    """
    cols = ["period", "figures", "lowest", "highest", "ratio", "spread"]
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
        rows.append(
            {
                "period": period,
                "figures": "; ".join(part["figure"]),
                "lowest": lo,
                "highest": hi,
                "ratio": hi / lo if lo else float("inf"),
                "spread": hi - lo,
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
