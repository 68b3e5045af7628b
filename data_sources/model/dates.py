"""The calendar day of an ISO 8601 date or timestamp, for every reader of dated input.

Cutting text with `str[:10]` loses the time zone: ReliefWeb's "2016-11-30T23:30:00-05:00" is
1 December in UTC, and a cut turns any text ("2016/11/30 …") into something that looks like a
day. Here a timestamp with an offset (`Z`, `+03:00`, `+0300`, `+03`) is converted to UTC
first; a naive one (HAPI's "2023-01-01T00:00:00", UCDP's "2017-03-01 00:00:00.000", DTM's
"2016-11-30") is taken as written; anything else is no day (None), so that the caller rejects
it with a reason instead of storing garbage. Days are ISO text ("2016-11-30"), the form every
normalizer hands to validation; any year 0001–9999 is kept, so the validation's own range
check ("period outside the years 1900–2100") still names the year a source sent.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime

import numpy as np
import pandas as pd

# date, then optionally a time (hours and minutes at least) and an offset
ISO = (
    r"^\s*(?P<day>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::\d{2}(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)

PLAIN_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def calendar_days(values: pd.Series) -> pd.Series:
    """Each value's calendar day as ISO text ("YYYY-MM-DD"), None where it is no ISO date.

    Accepts text, `datetime`/`date`/`Timestamp` objects and datetime64 columns (tz-aware ones
    are converted to UTC). Vectorized: one regular expression over the distinct values."""
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        text = values.dt.strftime("%Y-%m-%d")
        return text.astype(object).where(values.notna(), None)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    days = _days_of(pd.Series(distinct, dtype=object).map(_as_text))
    out = np.append(days.to_numpy(dtype=object), None)[codes]  # code -1 (missing) -> None
    return pd.Series(out, index=values.index, dtype=object)


def days_or_text(values: pd.Series) -> pd.Series:
    """`calendar_days`, keeping a value that is no ISO date as the source sent it, so that
    validation rejects that row quoting it (a normalizer's `period_start`)."""
    days = calendar_days(values)
    sent = values.astype(object).where(values.notna(), "").astype(str)
    return days.where(days.notna(), "not an ISO date: " + sent)


def calendar_days64(values) -> np.ndarray:
    """`calendar_days` as numpy days (NaT where no day), for readers of many stored dates:
    each distinct value is parsed once, then spread by index (1M stored dates of 3,000
    days: about as fast as slicing the text)."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    days = calendar_days(pd.Series(distinct, dtype=object)).to_numpy("datetime64[D]")
    return np.append(days, np.datetime64("NaT", "D"))[codes]


def calendar_day(value: object) -> date | None:
    """One value's calendar day (see `calendar_days`), None where it is no ISO date. A plain
    day ("2016-11-30", how SQLite hands back a stored date) takes a fast path: callers read
    one per stored figure."""
    if isinstance(value, str) and PLAIN_DAY.fullmatch(value):
        with contextlib.suppress(ValueError):  # 2016-02-30: no day
            return date.fromisoformat(value)
        return None
    day = calendar_days(pd.Series([value], dtype=object)).iloc[0]
    return date.fromisoformat(day) if day else None


def _as_text(value: object) -> str:
    """Objects a driver or a JSON reader hands over, as ISO text (their offset kept)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value if isinstance(value, str) else ""


def _days_of(text: pd.Series) -> pd.Series:
    """The ISO day of each distinct text, None where it does not parse or names no real
    calendar day (2016-02-30)."""
    parts = text.str.extract(ISO)
    matched = parts["day"].notna().to_numpy()
    out = np.full(len(text), None, dtype=object)
    if not matched.any():
        return pd.Series(out, index=text.index, dtype=object)
    day = parts.loc[matched, "day"]
    year, month, mday = (
        day.str.slice(a, b).astype(int).to_numpy() for a, b in ((0, 4), (5, 7), (8, 10))
    )
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days = first.astype("datetime64[D]") + (mday - 1).astype("timedelta64[D]")
    real = (month >= 1) & (month <= 12) & (mday >= 1) & (days.astype("datetime64[M]") == first)
    # a clock that no day has (T25:00, T12:75, an offset of +99:00) is no time at all, not
    # "the next day": the row is rejected naming it
    hour, minute = (parts.loc[matched, k].fillna("0").astype(int).to_numpy() for k in "hm")
    zone = parts.loc[matched, "zone"].fillna("").str.replace(":", "", regex=False)
    zone_h = zone.str.slice(1, 3).replace("", "0").astype(int).to_numpy()
    zone_m = zone.str.slice(3, 5).replace("", "0").astype(int).to_numpy()
    real &= (hour <= 23) & (minute <= 59) & (zone_h <= 23) & (zone_m <= 59)
    days = days + _utc_shift(parts[matched])
    out[np.flatnonzero(matched)[real]] = np.datetime_as_string(days[real], unit="D")
    return pd.Series(out, index=text.index, dtype=object)


def _utc_shift(parts: pd.DataFrame) -> np.ndarray:
    """Days to add to the written day to reach the UTC day: -1, 0 or +1 for a time with an
    offset, 0 for a naive time or a date alone."""
    zone = parts["zone"].fillna("").str.replace(":", "", regex=False)
    offset = zone.str.slice(1, 3).replace("", "0").astype(int) * 60
    offset += zone.str.slice(3, 5).replace("", "0").astype(int)
    offset = offset.where(~zone.str.startswith("-"), -offset).where(zone != "Z", 0)
    minutes = parts["h"].fillna("0").astype(int) * 60 + parts["m"].fillna("0").astype(int)
    shift = (minutes - offset) // (24 * 60)
    return shift.to_numpy(dtype=np.int64).astype("timedelta64[D]")


def parse_dates(values: pd.Series, formats: tuple[str, ...] = ("ISO8601", "mixed")) -> pd.Series:
    """Dates as a sheet writes them, NaT where unreadable: pandas' parser with each of
    `formats` in turn. A column that mixes time zones (an offset on some values, none on
    others), which pandas refuses whole, is read as `calendar_days` reads it (the UTC day of
    an offset, the written day of a naive value) instead of ending the import; a column
    whose every value has an offset comes back in UTC, without the zone."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        for fmt in formats:
            try:
                values = pd.to_datetime(values, errors="coerce", format=fmt)
                break
            except (ValueError, TypeError):
                continue
        else:
            return pd.to_datetime(calendar_days(values), errors="coerce", format="%Y-%m-%d")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def period_bounds(text: str) -> tuple[str, str] | None:
    """The first and last day (ISO text) of a period written as a year ("2021"), a month
    ("2021-03") or a day ("2021-03-15"); None for anything else or a day no calendar holds.
    For files without a date column (`import --period`)."""
    text = (text or "").strip()
    if re.fullmatch(r"\d{4}", text) and int(text) >= 1:
        return f"{text}-01-01", f"{text}-12-31"
    if re.fullmatch(r"\d{4}-\d{2}", text) and int(text[:4]) >= 1 and 1 <= int(text[5:]) <= 12:
        month = pd.Period(text, freq="M")
        return month.start_time.date().isoformat(), month.end_time.date().isoformat()
    if PLAIN_DAY.fullmatch(text) and calendar_day(text) is not None and int(text[:4]) >= 1:
        return text, text
    return None
