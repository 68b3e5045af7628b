"""Calendar bins for a chart's points: the week (Monday to Sunday), month or year holding a
date, and the label a reader sees for it. Pure numpy, used by `combine`."""

from __future__ import annotations

import numpy as np
import pandas as pd

FREQUENCIES = {"week": "W", "month": "M", "year": "Y"}

MONTHS = np.array(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    dtype=object,
)


def text(column: pd.Series | None, length: int) -> np.ndarray:
    """A text column as plain Python strings ("" for missing), or all "" when absent."""
    if column is None:
        return np.full(length, "", dtype=object)
    return column.to_numpy(dtype=object, na_value="")


def bins(end: np.ndarray, freq: str) -> tuple[np.ndarray, np.ndarray]:
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


def labels(period: np.ndarray, start: np.ndarray, spans: np.ndarray, freq: str) -> np.ndarray:
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
