"""Event rows add up: the one place where rows that are events are summed.

A conflict dataset (UCDP GED, ACLED, an HXL sheet with an event id) sends one row per event,
and several events often share a place and day: three airstrikes on one town on one morning
are three events, not three conflicting reports of one number. Rows marked as events
(`row_kind == "event"`) of a *flow* metric (deaths, events, injured: see `metrics.METRICS`)
are summed per series and period by `add_up_events`, which the store runs after placing and
before its duplicate check. Everything else keeps the conflict rule: two different values of
one stock (IDPs, population, a price) in one input are two reports that disagree, and are
rejected.

The number of events is kept as a figure of its own, `conflict_events` (one per event, summed
like the deaths), rather than as a count column beside every figure: it is then charted,
compared and exported like any other figure, and a source that publishes event counts
(ACLED's aggregates, HAPI) lands in the same series.

Readers decide what is an event with `is_event_list` (an event id column, or a flow metric
repeating per place and day) and mark rows with `EVENT`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_sources.model.metrics import METRICS

EVENT = "event"  # value of the `row_kind` column for a row that is one event (or a sum of some)
FLOWS = frozenset(name for name, metric in METRICS.items() if metric.kind == "flow")

# where a row is on the map and in time, as a source writes it (before placing)
PLACE_AND_PERIOD = [
    "place_raw",
    "site",
    "admin1",
    "admin2",
    "pcode",
    "lat",
    "lon",
    "country_iso3",
    "period_start",
    "period_end",
]


def summable(metric: pd.Series, row_kind: pd.Series) -> np.ndarray:
    """Rows that add up: events of a flow metric."""
    return (row_kind.to_numpy() == EVENT) & metric.isin(FLOWS).to_numpy()


def is_event_list(frame: pd.DataFrame, has_event_ids: bool = False) -> bool:
    """Are a sheet's rows events? Yes when it has an event id column, or when a flow metric
    has several rows for one place, day and breakdown (a table of totals has one)."""
    if has_event_ids:
        return True
    flows = frame[frame["metric"].isin(FLOWS)]
    if flows.empty:
        return False
    key = [c for c in [*PLACE_AND_PERIOD, "metric", "qualifier", "unit", "estimate"] if c in flows]
    return bool(flows.duplicated(subset=key).any())


def add_up_events(
    obs: pd.DataFrame,
    adds_up: np.ndarray,
    key: tuple[str, ...] = ("series_id", "period_start", "period_end"),
) -> pd.DataFrame:
    """Sum the rows flagged in `adds_up` per `key`: `value` is summed, every other column keeps
    the first row's (the provenance of a series is one; `row` points at the first event, for a
    reject). Rows not flagged are returned as they are, for the store's conflict rule.
    Pure: DataFrame in, DataFrame out; free when nothing is flagged (the bulk-load path)."""
    adds_up = np.asarray(adds_up, dtype=bool)
    if not adds_up.any():
        return obs
    events = obs[adds_up]
    others = [c for c in obs.columns if c not in key and c != "value"]
    summed = events.groupby(list(key), sort=False, as_index=False, dropna=False).agg(
        value=("value", "sum"), **{c: (c, "first") for c in others}
    )
    out = pd.concat([obs[~adds_up], summed[obs.columns]], ignore_index=True)
    return out


def event_places(
    *,
    site: pd.Series,
    lat: pd.Series,
    lon: pd.Series,
    admin1: pd.Series | str,
    admin2: pd.Series | str,
    country_iso3: pd.Series | str,
    place_kind: str,
    day: pd.Series,
    qualifier: pd.Series | str,
) -> pd.DataFrame:
    """Where and when each event happened: the frame `event_figures` stamps figures on. One
    shape for every event feed (UCDP's API and CSVs, ACLED), so their events are placed and
    dated alike: the reported location is the site and the place name, an event is dated by
    one day (period start = end)."""
    return pd.DataFrame(
        {
            "site": site,
            "lat": lat,
            "lon": lon,
            "place_raw": site,
            "admin1": admin1,
            "admin2": admin2,
            "country_iso3": country_iso3,
            "place_kind": place_kind,
            "qualifier": qualifier,
            "period_start": day,
            "period_end": day,
        }
    )


def event_figures(
    place: pd.DataFrame,
    ids: pd.Series,
    url: str,
    figures: dict[str, tuple[str, str, str, pd.Series]],
) -> pd.DataFrame:
    """Event feeds (UCDP, ACLED, an imported event list) to figures: one row per event and
    figure, marked as an event, so that the store adds up the events at one place over the
    same dates (aggregate.py) instead of letting them compete for one figure. Each row's
    reference names its event. `figures` maps a name to (metric, unit, estimate, values per
    event)."""
    refs = (url + " event " + ids.astype(str)).to_numpy()
    frames = [
        place.assign(
            metric=metric,
            unit=unit,
            estimate=estimate,
            value=_numeric(values),
            row_ref=refs,
            row_kind=EVENT,
        )
        for metric, unit, estimate, values in figures.values()
    ]
    return pd.concat(frames, ignore_index=True)


def _numeric(values: pd.Series) -> pd.Series:
    """Numbers as numbers; anything else as the source sent it, for validation to reject
    with the original text."""
    parsed = pd.to_numeric(values, errors="coerce")
    return parsed.where(parsed.notna(), values)
