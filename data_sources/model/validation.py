"""The one shape every figure takes and the rules a figure must pass.

Every connector and importer produces a DataFrame with `OBSERVATION_COLUMNS`; `validate` splits it
into rows fit to store and rows to reject, each reject carrying a reason a person can act on.
Keeping this pure (DataFrame in, DataFrames out) lets the rules be tested without a database.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_sources.model.metrics import ESTIMATES, METRICS

# a figure's period must lie within these years: anything else is a typo ("2106" for 2016)
# or a placeholder date (0001-01-01, 9999-12-31), never a figure about a crisis
FIRST_YEAR, LAST_YEAR = 1900, 2100

# The normalized shape. Text columns are never null ("" instead) so that the natural key compares
# with plain equality on SQLite and PostgreSQL alike.
OBSERVATION_COLUMNS = [
    "source",  # feed or curated table, e.g. "wfp", "unhcr", "reported"
    "dataset",  # dataset or endpoint within the source
    "metric",
    "qualifier",  # breakdown within the metric: commodity, "children", event type
    "site",  # place below the city as the source names it: a market, a district
    "place_raw",  # place name exactly as the source wrote it
    "country_iso3",
    "admin1",
    "admin2",
    "pcode",
    "lat",
    "lon",
    "place_kind",  # what the source claims: city, locality, district, governorate, country, region
    "period_start",
    "period_end",
    "value",
    "unit",
    "estimate",
    "source_url",
    "citation",
    "quote",  # verbatim sentence a reported figure comes from
    "licence",
    "row_ref",  # where in the input this came from (file:line), for rejects and audits
    "row_kind",  # "event": one event (or a sum of events) that adds up; see aggregate.py
]


TEXT_COLUMNS = [
    c for c in OBSERVATION_COLUMNS if c not in ("lat", "lon", "value", "period_start", "period_end")
]


def empty_observations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in OBSERVATION_COLUMNS})


def _clean_text(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Nulls to "", everything else to stripped text, computed once per distinct value: inputs
    repeat the same few names millions of times, so this is cheap at any size. Also returns
    the value codes (equal codes, equal text), which the store reuses to group rows."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    stripped = [str(u).strip() for u in uniques]
    plain = not isinstance(column.dtype, pd.CategoricalDtype)
    if plain and stripped == list(uniques) and (len(codes) == 0 or codes.min() >= 0):
        # already clean text (the usual case): keep the column, Arrow-backed strings compare
        # and match far faster than a rebuilt array of Python strings
        return column, codes
    cleaned = np.array([*stripped, ""], dtype=object)
    return pd.Series(cleaned[codes], index=column.index, dtype=object), codes


def conform(df: pd.DataFrame, codes: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Give a normalizer's output exactly the observation columns, with text nulls as "".
    With `codes`, each text column's value codes are put there (hashing millions of strings
    is the expensive part; doing it once serves both cleaning and grouping)."""
    out = df.reindex(columns=OBSERVATION_COLUMNS)
    for col in TEXT_COLUMNS:
        if col not in df.columns:  # absent (a feed without `row_kind`): "" throughout, no hashing
            out[col] = pd.Series(np.full(len(out), "", dtype=object), index=out.index, dtype=object)
            col_codes = np.zeros(len(out), dtype=np.int64)
        else:
            out[col], col_codes = _clean_text(out[col])
        if codes is not None:
            codes[col] = col_codes
    out["lat"] = pd.to_numeric(out["lat"], errors="coerce")
    out["lon"] = pd.to_numeric(out["lon"], errors="coerce")
    return out


def _as_datetime(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    try:
        return pd.to_datetime(values, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        return pd.to_datetime(values, errors="coerce", format="mixed")


def _reason_series(df: pd.DataFrame) -> tuple[pd.Series, dict[str, pd.Series]]:
    """First failing rule per row, "" where the row passes; and the value and periods as
    parsed for the rules, so that the accepted rows need not be parsed a second time."""
    reason = np.full(len(df), "", dtype=object)
    failed = np.zeros(len(df), dtype=bool)

    def flag(mask: pd.Series, text) -> None:
        """Record `text` (a string, or a function of the failing rows) where `mask` is set and
        no earlier rule failed; messages are built for failing rows only."""
        hit = np.asarray(mask.fillna(False), dtype=bool) & ~failed
        if not hit.any():
            return
        failed[hit] = True
        reason[hit] = text(df[hit]) if callable(text) else text

    raw_value = df["value"]
    value = pd.to_numeric(raw_value, errors="coerce")
    start = _as_datetime(df["period_start"])
    end = _as_datetime(df["period_end"])
    # the plausible maximum per row, looked up once per distinct metric
    metric_codes, metric_names = pd.factorize(df["metric"], use_na_sentinel=True)
    known = [METRICS[m].upper_bound if m in METRICS else np.inf for m in metric_names]
    bounds = pd.Series(np.array([*known, np.inf])[metric_codes], index=df.index)

    flag(
        ~df["metric"].isin(list(METRICS)),
        lambda bad: "unknown metric '" + bad["metric"].astype(str) + "'",
    )
    missing = raw_value.isna()
    if raw_value.dtype == object:
        missing |= raw_value.astype(str).str.strip() == ""
    flag(missing, "missing value")
    flag(value.isna(), lambda bad: "value is not a number: '" + bad["value"].astype(str) + "'")
    flag(value < 0, lambda bad: "negative value " + value[bad.index].astype(str))
    flag(
        value > bounds,
        lambda bad: (
            "absurd value "
            + value[bad.index].astype(str)
            + " above the plausible maximum for "
            + bad["metric"].astype(str)
        ),
    )
    flag(
        start.isna(),
        lambda bad: "unreadable period start '" + bad["period_start"].astype(str) + "'",
    )
    flag(end.isna(), lambda bad: "unreadable period end '" + bad["period_end"].astype(str) + "'")
    outside = f"period outside the years {FIRST_YEAR}–{LAST_YEAR}: "
    flag(
        (start.dt.year < FIRST_YEAR) | (start.dt.year > LAST_YEAR),
        lambda bad: outside + "starts '" + start[bad.index].dt.strftime("%Y-%m-%d") + "'",
    )
    flag(
        (end.dt.year < FIRST_YEAR) | (end.dt.year > LAST_YEAR),
        lambda bad: outside + "ends '" + end[bad.index].dt.strftime("%Y-%m-%d") + "'",
    )
    flag(end < start, "period ends before it starts")
    flag(df["unit"] == "", "missing unit")
    flag(
        ~df["estimate"].isin(ESTIMATES),
        lambda bad: "unknown estimate '" + bad["estimate"].astype(str) + "'",
    )
    flag(df["source"] == "", "missing source")
    parsed = {"value": value, "period_start": start, "period_end": end}
    return pd.Series(reason, index=df.index, dtype=object), parsed


def validate(
    df: pd.DataFrame, codes: dict[str, np.ndarray] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split normalized rows into (fit to store, rejected with a `reason` column).

    Values and periods come back typed (float, datetime64) on the accepted side; rejected rows keep
    what the source sent so the reject table shows the input as it was.
    """
    df = conform(df, codes).reset_index(drop=True)
    reason, parsed = _reason_series(df)
    bad = reason != ""
    if codes is not None and bad.any():  # codes follow the accepted rows
        keep = ~bad.to_numpy()
        for col in codes:
            codes[col] = codes[col][keep]
    rejected = df[bad].assign(reason=reason[bad])
    good = df[~bad].copy() if bad.any() else df
    ok = ~bad
    good["value"] = parsed["value"][ok].astype(float)
    good["period_start"] = parsed["period_start"][ok].astype("datetime64[s]")
    good["period_end"] = parsed["period_end"][ok].astype("datetime64[s]")
    return good, rejected
