"""Read API for the pages: small, indexed queries that return tidy DataFrames.

Pages never load the store; they ask for the series they draw. Every function takes an engine
so that the same code serves the app, the command line, tests and benchmarks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.model.dates import calendar_day, calendar_days64
from data_sources.store.asof import bind, visible
from data_sources.store.fetches import DATA_VERSION_KEY
from data_sources.store.tables import (
    fetch_log,
    meta,
    observations,
    places,
    provenance,
    rejects,
    series,
)

# a span of days (first, last; None at either end: open), as the Data page's From/To give it
Window = tuple[date | None, date | None]

SERIES_COLUMNS = [
    "place_id",
    "city",
    "country_iso3",
    "metric",
    "qualifier",
    "site",
    "unit",
    "estimate",
    "source",
    "dataset",
    "origin",
    "period_start",
    "period_end",
    "value",
    "revision",
    "retrieved_at",
    "source_url",
    "citation",
    "quote",
    "licence",
    "match_method",
    "match_score",
]


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        columns = list(result.keys())
        # plain tuples: pandas probes Row objects attribute by attribute, which is slow
        frame = pd.DataFrame.from_records([tuple(r) for r in result], columns=columns)
    return _naive_utc(frame)


def _naive_utc(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as naive UTC, whatever the backend: SQLite hands back naive UTC, PostgreSQL's
    driver aware times in the session's time zone (not necessarily UTC). Pages, the CLI and
    tests then see one kind of time from either store."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def _columns(engine: Engine, query) -> dict[str, np.ndarray]:
    """A query's result as one object array per column: no DataFrame in between, for the few
    hundred rows a page joins in numpy (building one cost more than the query)."""
    with engine.connect() as conn:
        result = conn.execute(query)
        keys = list(result.keys())
        rows = result.fetchall()
    if not rows:
        return {k: np.array([], dtype=object) for k in keys}
    return {
        k: np.array(values, dtype=object)
        for k, values in zip(keys, zip(*rows, strict=True), strict=True)
    }


# the places a user picks: cities, and the districts and governorates that hold figures no
# city holds (countries and regions are context, shown beside them)
PICKABLE = ("city", "district", "governorate")


def place_label():
    """How a place is named on pages and in downloads: a city by its name, a district or a
    governorate with its kind ("al Mawşil (district)"), so that it is never taken for the
    city of the same name. One SQL expression for every query that names places."""
    return sa.case(
        (places.c.kind == "city", places.c.name),
        else_=places.c.name + " (" + places.c.kind + ")",
    )


def _held(engine: Engine, as_of: datetime | None):
    """Series that held a figure at `as_of` (every series for now): pickers offer nothing
    that was stored later."""
    q = sa.select(series.c.series_id)
    if as_of is None:
        return q
    o = observations.c
    return q.where(
        sa.exists().where(o.series_id == series.c.series_id, o.retrieved_at <= bind(engine, as_of))
    )


def cities(engine: Engine, as_of: datetime | None = None) -> pd.DataFrame:
    """The places a user can choose that hold at least one figure (at `as_of`): cities, most
    populous first, then governorates and districts by name. `name` is the place's label
    (`place_label`), `place_name` its own name, `parent_name` what contains it."""
    has_data = sa.select(series.c.place_id).distinct()
    if as_of is not None:
        held = _held(engine, as_of).subquery()
        has_data = has_data.where(series.c.series_id.in_(sa.select(held.c.series_id)))
    has_data = has_data.subquery()
    parent = places.alias("parent")
    seat = places.alias("seat")
    q = (
        sa.select(
            places,
            places.c.name.label("place_name"),
            place_label().label("label"),
            parent.c.name.label("parent_name"),
            seat.c.name.label("seat_name"),
        )
        .select_from(
            places.outerjoin(parent, parent.c.place_id == places.c.parent_id).outerjoin(
                seat, seat.c.place_id == places.c.seat_id
            )
        )
        .where(places.c.kind.in_(PICKABLE), places.c.place_id.in_(sa.select(has_data.c.place_id)))
    )
    frame = _frame(engine, q)
    frame["name"] = frame.pop("label")
    order = frame.kind.map({"city": 0, "governorate": 1, "district": 2})
    frame = frame.assign(_order=order, _pop=-frame.population.fillna(0).astype(float))
    frame = frame.sort_values(["_order", "_pop", "name"], kind="stable")
    return frame.drop(columns=["_order", "_pop"]).reset_index(drop=True)


def revised_places(
    engine: Engine, place_ids: list[str], as_of: datetime | None = None
) -> list[str]:
    """Of these places, those holding a figure revised at least once (by `as_of`): the
    revision history of the others is one row per figure, so it is read only for these."""
    o = observations.c
    q = (
        sa.select(series.c.place_id)
        .join(observations, o.series_id == series.c.series_id)
        .where(o.revision > 1, series.c.place_id.in_(place_ids))
        .distinct()
    )
    if as_of is not None:
        q = q.where(o.retrieved_at <= bind(engine, as_of))
    with engine.connect() as conn:
        return sorted(conn.execute(q).scalars())


def all_places(engine: Engine) -> pd.DataFrame:
    return _frame(engine, sa.select(places).order_by(places.c.kind, places.c.name))


def catalogue(
    engine: Engine, place_ids: list[str] | None = None, as_of: datetime | None = None
) -> pd.DataFrame:
    """What series exist (one row per series, at `as_of`) for these places: drives the
    pickers."""
    q = sa.select(
        series.c.series_id,
        series.c.place_id,
        series.c.source,
        series.c.dataset,
        series.c.metric,
        series.c.qualifier,
        series.c.site,
        series.c.unit,
        series.c.estimate,
    )
    if place_ids is not None:
        q = q.where(series.c.place_id.in_(place_ids))
    if as_of is not None:
        q = q.where(series.c.series_id.in_(_held(engine, as_of)))
    # pickers keep this order among equals (two units of one kind): the same on every backend
    return _frame(engine, q.order_by(series.c.series_id))


def series_frame(
    engine: Engine,
    place_ids: list[str],
    metric: str | None = None,
    *,
    qualifier: str | None = None,
    site: str | None = None,
    unit: str | None = None,
    sources: list[str] | None = None,
    current_only: bool = True,
    limit: int | None = None,
    keep: dict[str, np.ndarray] | None = None,
    as_of: datetime | None = None,
    window: Window | None = None,
) -> pd.DataFrame:
    """Observations of the matching series, oldest first, with provenance and the place name.

    `window` (first day, last day; either None: open) keeps the figures whose span meets it.

    `as_of` gives the figures the store held at that moment (`asof.visible`); with
    `current_only=False`, every revision retrieved by then (the revision history).

    `keep` (observation columns) supplies already-chosen figures instead of reading every
    figure of the series.

    Three narrow queries instead of one wide join: series (few rows), their observations
    (only numbers and dates, read straight from the driver), and the provenance they cite.
    The wide frame is assembled in pandas, which is what keeps this fast at millions of rows.
    """
    filters = {"metric": metric, "qualifier": qualifier, "site": site, "unit": unit}
    meta = _columns(engine, _series_query(place_ids, filters, sources))
    if keep is not None:
        obs = keep
    else:
        obs = _observations(engine, meta["series_id"].tolist(), current_only, limit, as_of, window)
    columns = dict(obs)
    columns.update(_lookup(meta, "series_id", obs["series_id"]))
    columns.update(_lookup(_provenance_of(engine, obs), "provenance_id", obs["provenance_id"]))
    columns["origin"] = np.where(
        columns["source"] == "reported", columns["dataset"], columns["source"]
    )
    if "match_score" in columns:  # a number or none: NaN, as a float column holds it
        columns["match_score"] = columns["match_score"].astype(float)
    return pd.DataFrame({c: columns.get(c, []) for c in SERIES_COLUMNS})


def _series_query(
    place_ids: list[str], filters: dict[str, str | None], sources: list[str] | None
) -> sa.Select:
    """The series of these places whose columns equal `filters` (None: any) and whose source
    is one of `sources` (none given: any), with their place's label."""
    q = (
        sa.select(
            series.c.series_id,
            series.c.place_id,
            place_label().label("city"),
            places.c.country_iso3,
            series.c.metric,
            series.c.qualifier,
            series.c.site,
            series.c.unit,
            series.c.estimate,
            series.c.source,
            series.c.dataset,
            series.c.match_method,
            series.c.match_score,
        )
        .select_from(series.join(places, places.c.place_id == series.c.place_id))
        .where(series.c.place_id.in_(place_ids))
    )
    for column, wanted in filters.items():
        if wanted is not None:
            q = q.where(series.c[column] == wanted)
    if sources:
        q = q.where(series.c.source.in_(sources))
    return q


def _provenance_of(engine: Engine, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Link, citation, quote and licence of each provenance the observations cite."""
    return _columns(
        engine,
        sa.select(
            provenance.c.provenance_id,
            provenance.c.source_url,
            provenance.c.citation,
            provenance.c.quote,
            provenance.c.licence,
        ).where(provenance.c.provenance_id.in_(np.unique(obs["provenance_id"]).tolist())),
    )


def _lookup(table: dict[str, np.ndarray], key: str, wanted: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of `table` for each value of `wanted` (a join done with array indexing)."""
    keys = table[key].astype(np.int64)
    if len(wanted) == 0 or len(keys) == 0:
        return {c: np.array([], dtype=object) for c in table if c != key}
    order = np.argsort(keys)
    pos = order[np.searchsorted(keys, wanted, sorter=order)]
    return {c: values[pos] for c, values in table.items() if c != key}


def _observations(
    engine: Engine,
    series_ids: list[int],
    current_only: bool,
    limit: int | None,
    as_of: datetime | None = None,
    window: Window | None = None,
) -> dict[str, np.ndarray]:
    rows: list[tuple] = []
    o = observations.c
    with engine.connect() as conn:
        for chunk in _chunks(series_ids, 500):
            q = sa.select(*_OBS_COLUMNS()).where(o.series_id.in_(chunk), *in_window(window))
            if current_only:
                q = q.where(visible(engine, as_of))
            elif as_of is not None:
                q = q.where(o.retrieved_at <= bind(engine, as_of))
            if limit is not None:
                q = q.order_by(o.series_id, o.period_start).limit(limit - len(rows))
            rows.extend(tuple(row) for row in conn.execute(q))
            if limit is not None and len(rows) >= limit:
                break
    return _rows_to_columns(rows)


def in_window(window: Window | None) -> list:
    """The clauses keeping figures whose span meets `window` (first day, last day; None at
    either end: open): a figure of Dec 2016 – Jan 2017 is in a 2017 window, as it is on a
    chart of 2017 (kept whole, marked as a span)."""
    if window is None:
        return []
    first, last = window
    o = observations.c
    clauses = []
    if first is not None:
        clauses.append(o.period_end >= first)
    if last is not None:
        clauses.append(o.period_start <= last)
    return clauses


def _rows_to_columns(rows: list[tuple], oldest_first: bool = True) -> dict[str, np.ndarray]:
    cols = [
        "series_id",
        "period_start",
        "period_end",
        "value",
        "revision",
        "retrieved_at",
        "provenance_id",
    ]
    if not rows:
        return {
            c: np.array([], dtype="datetime64[ns]" if c.startswith("period") else object)
            for c in cols
        }
    series_id, start, end, value, revision, retrieved, prov = zip(*rows, strict=True)
    start = _days(start)
    # oldest first, then by series; or as read (`series_pages`: series by series)
    by_start = np.lexsort((np.asarray(series_id), start))
    order = by_start if oldest_first else np.arange(len(rows))
    stamps, codes = np.unique(np.asarray(retrieved, dtype=object).astype(str), return_inverse=True)
    parsed = pd.to_datetime(pd.Series(stamps), format="ISO8601", utc=True, errors="coerce")
    return {
        "series_id": np.asarray(series_id, dtype=np.int64)[order],
        "period_start": start[order].astype("datetime64[ns]"),
        "period_end": _days(end)[order].astype("datetime64[ns]"),
        "value": np.asarray(value, dtype=float)[order],
        "revision": np.asarray(revision, dtype=np.int64)[order],
        "retrieved_at": parsed.to_numpy()[codes][order],
        "provenance_id": np.asarray(prov, dtype=np.int64)[order],
    }


def _days(values: tuple) -> np.ndarray:
    """Dates as numpy days. SQLite hands back ISO text (its day taken, since a stored date
    may carry a time); PostgreSQL's driver hands back `datetime.date`, which numpy converts
    as it is."""
    if values and isinstance(values[0], str):
        try:  # the usual case: plain ISO days, which numpy parses fastest
            return np.array(values, dtype="datetime64[D]")
        except ValueError:
            return calendar_days64(values)
    return np.array(values, dtype="datetime64[D]")


def _OBS_COLUMNS():  # noqa: N802 - a fixed column list, built per call for fresh clauses
    """Observation columns as read by the pages; dates as text, parsed vectorized later."""
    o = observations.c
    return (
        o.series_id,
        sa.type_coerce(o.period_start, sa.String),
        sa.type_coerce(o.period_end, sa.String),
        o.value,
        o.revision,
        sa.type_coerce(o.retrieved_at, sa.String),
        o.provenance_id,
    )


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def latest(engine: Engine, place_ids: list[str], as_of: datetime | None = None) -> pd.DataFrame:
    """Per series: the newest figure, the one before it and the change between them.

    The two newest figures of each series are picked in the database (a window over the
    places' series), so a city with years of daily prices costs a few dozen rows, not all.
    """
    o = observations.c
    ids = sa.select(series.c.series_id).where(series.c.place_id.in_(place_ids))
    ranked = (
        sa.select(
            *_OBS_COLUMNS(),
            sa.func.row_number()
            .over(partition_by=o.series_id, order_by=o.period_end.desc())
            .label("rn"),
        ).where(o.series_id.in_(ids), visible(engine, as_of))
    ).subquery()
    with engine.connect() as conn:
        rows = [tuple(r)[:-1] for r in conn.execute(sa.select(ranked).where(ranked.c.rn <= 2))]
    full = series_frame(engine, place_ids, keep=_rows_to_columns(rows), as_of=as_of)
    if full.empty:
        return full.assign(
            previous=pd.Series(dtype=float),
            change=pd.Series(dtype=float),
            previous_end=pd.Series(dtype="datetime64[ns]"),
        )
    key = ["place_id", "metric", "qualifier", "site", "unit", "estimate", "source", "dataset"]
    full = full.sort_values([*key, "period_end"])
    full["previous"] = full.groupby(key)["value"].shift(1)
    full["previous_end"] = full.groupby(key)["period_end"].shift(1)
    last = full.groupby(key).tail(1).copy()
    last["change"] = last["value"] - last["previous"]
    return last.reset_index(drop=True)


def freshness(engine: Engine, as_of: datetime | None = None) -> pd.DataFrame:
    """Per source: last successful load, last attempt, last error, figures held, newest period.

    Figures held is the sum of new figures over successful loads (revisions replace, never add);
    the newest period is found by one index seek per series, not by scanning the figures.
    As of a moment: the loads that had ended by then and the figures retrieved by then.
    """
    log_q = sa.select(fetch_log)
    if as_of is not None:
        log_q = log_q.where(fetch_log.c.finished_at <= bind(engine, as_of))
    log = _frame(engine, log_q)
    o = observations.c
    newest_q = sa.select(o.period_end).where(o.series_id == series.c.series_id)
    if as_of is not None:
        newest_q = newest_q.where(o.retrieved_at <= bind(engine, as_of))
    newest = newest_q.order_by(o.period_start.desc()).limit(1).scalar_subquery()
    per_series = sa.select(series.c.source, newest.label("newest")).subquery()
    held_q = sa.select(
        per_series.c.source, sa.func.max(per_series.c.newest).label("newest_period")
    ).group_by(per_series.c.source)
    if as_of is not None:  # sources that held nothing yet are not listed
        held_q = held_q.where(per_series.c.newest.is_not(None))
    held = _frame(engine, held_q)
    if log.empty:
        return held.assign(
            figures=0, last_success=None, last_attempt=None, last_status="", last_error=""
        )
    log = log.sort_values("started_at")
    ok = log[log.status == "ok"]
    figures = ok.groupby("source")["rows_new"].sum().rename("figures")
    last_ok = ok.groupby("source")["finished_at"].max().rename("last_success")
    last = log.groupby("source").tail(1).set_index("source")
    summary = (
        pd.DataFrame(
            {
                "last_attempt": last["started_at"],
                "last_status": last["status"],
                "last_error": last["error"].fillna(""),
            }
        )
        .join(last_ok)
        .join(figures)
    )
    out = held.set_index("source").join(summary, how="outer").reset_index()
    out = out.rename(columns={"index": "source"})
    return out[
        [
            "source",
            "figures",
            "newest_period",
            "last_success",
            "last_attempt",
            "last_status",
            "last_error",
        ]
    ]


SNAPSHOT_TARGET = "snapshot:"


def classify_freshness(
    fresh: pd.DataFrame,
    now: pd.Timestamp,
    stale_after_days: float = 7.0,
    snapshot_sources: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Add `state` (fresh | stale | failing | never | snapshot) and a one-line `detail`.

    Failing wins: a source whose last attempt failed is served from its last good load, and
    the reader must know both facts. Pure, so the badges can be tested without a page.
    """

    def utc(value) -> pd.Timestamp | None:  # SQLite hands back naive UTC times
        if value is None or pd.isna(value):
            return None
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")

    out = fresh.copy()
    now = utc(now)
    states, details = [], []
    for row in out.itertuples():
        success = utc(row.last_success)
        age = (now - success).total_seconds() / 86400 if success is not None else None
        if row.last_status == "failed":
            state = "failing"
            detail = (
                f"last attempt {pd.Timestamp(row.last_attempt):%Y-%m-%d %H:%M} failed: "
                f"{row.last_error}; showing the load of "
                + (
                    f"{success:%Y-%m-%d %H:%M} UTC"
                    if success is not None
                    else "— nothing loaded yet"
                )
            )
        elif success is None:
            state, detail = "never", "never loaded"
        elif row.source in snapshot_sources:
            state, detail = "snapshot", f"bundled snapshot, loaded {success:%Y-%m-%d}"
        elif age > stale_after_days:
            state, detail = "stale", f"last refreshed {age:.0f} days ago"
        else:
            state, detail = "fresh", f"refreshed {success:%Y-%m-%d %H:%M} UTC"
        states.append(state)
        details.append(detail)
    out["state"], out["detail"] = states, details
    return out


def snapshot_only_sources(engine: Engine) -> tuple[str, ...]:
    """Sources whose every successful load came from the bundled snapshot."""
    log = _frame(
        engine, sa.select(fetch_log.c.source, fetch_log.c.target).where(fetch_log.c.status == "ok")
    )
    if log.empty:
        return ()
    live = log[~log.target.str.startswith(SNAPSHOT_TARGET)].source.unique()
    return tuple(sorted(set(log.source) - set(live)))


def fetches(engine: Engine, limit: int = 50) -> pd.DataFrame:
    return _frame(engine, sa.select(fetch_log).order_by(fetch_log.c.fetch_id.desc()).limit(limit))


def rejected(engine: Engine, limit: int = 5000, source: str | None = None) -> pd.DataFrame:
    q = sa.select(
        rejects.c.source,
        rejects.c.dataset,
        rejects.c.row_ref,
        rejects.c.reason,
        rejects.c.raw,
        rejects.c.created_at,
    ).order_by(rejects.c.reject_id.desc())
    if source:
        q = q.where(rejects.c.source == source)
    return _frame(engine, q.limit(limit))


def reject_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(rejects)).scalar() or 0)


def _matching_series(metric: str, qualifier: str | None, unit: str | None):
    q = (
        sa.select(series.c.series_id)
        .join(places, places.c.place_id == series.c.place_id)
        .where(series.c.metric == metric, places.c.kind.in_(PICKABLE))
    )
    if qualifier is not None:
        q = q.where(series.c.qualifier == qualifier)
    if unit is not None:
        q = q.where(series.c.unit == unit)
    return q


def period_bounds(
    engine: Engine,
    metric: str,
    qualifier: str | None = None,
    unit: str | None = None,
    as_of: datetime | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day any city has a figure for this metric: one index seek per series
    (as of a moment: among the figures retrieved by then)."""
    o = observations.c
    ids = _matching_series(metric, qualifier, unit).subquery()
    first = sa.select(sa.func.min(o.period_start)).where(o.series_id == ids.c.series_id)
    last = sa.select(sa.func.max(o.period_end)).where(o.series_id == ids.c.series_id)
    if as_of is not None:
        first = first.where(o.retrieved_at <= bind(engine, as_of))
        last = last.where(o.retrieved_at <= bind(engine, as_of))
    q = sa.select(sa.func.min(first.scalar_subquery()), sa.func.max(last.scalar_subquery()))
    with engine.connect() as conn:
        lo, hi = conn.execute(q).one()
    return None if lo is None else (pd.Timestamp(lo), pd.Timestamp(hi))


def map_points(
    engine: Engine,
    metric: str,
    month: str,
    qualifier: str | None = None,
    unit: str | None = None,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """Per place and source, the figures of one calendar month (YYYY-MM), combined by the
    one rule (`combine.place_month`): the best estimate with its low–high, flows without
    contained spans, a place's markets as the median with min–max, sources never averaged.
    Figures that cover more than the month are left out. Largest value first."""
    from data_sources.model import combine

    rows = month_figures(engine, metric, month, qualifier, unit, as_of)
    out = combine.place_month(rows, metric, month)
    return out.sort_values(["value", "city", "origin"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def month_figures(
    engine: Engine,
    metric: str,
    month: str,
    qualifier: str | None,
    unit: str | None,
    as_of: datetime | None,
) -> pd.DataFrame:
    """Every figure within one calendar month of the matching series at places the map can
    locate, every estimate, with its place's point and population."""
    start = pd.Period(month, "M").start_time.date()
    end = pd.Period(month, "M").end_time.date()
    o = observations.c
    ids = _matching_series(metric, qualifier, unit).subquery()
    q = (
        sa.select(
            series.c.place_id,
            place_label().label("city"),
            places.c.lat,
            places.c.lon,
            places.c.population,
            series.c.source,
            series.c.dataset,
            series.c.qualifier,
            series.c.site,
            series.c.unit,
            series.c.estimate,
            o.period_start,
            o.period_end,
            o.value,
        )
        .select_from(
            observations.join(series, series.c.series_id == o.series_id).join(
                places, places.c.place_id == series.c.place_id
            )
        )
        .where(
            o.series_id.in_(sa.select(ids.c.series_id)),
            visible(engine, as_of),
            o.period_start >= start,
            o.period_end <= end,
            places.c.lat.is_not(None),
            places.c.lon.is_not(None),
        )
    )
    df = _frame(engine, q)
    for col in ("period_start", "period_end"):
        df[col] = pd.to_datetime(df[col])
    df["origin"] = df["dataset"].where(df["source"] == "reported", df["source"])
    return df


def count_observations(
    engine: Engine,
    place_ids: list[str] | None = None,
    metric: str | None = None,
    source: str | None = None,
    as_of: datetime | None = None,
    window: Window | None = None,
) -> int:
    """How many figures match (the Data page's count): of these places, metric and source,
    visible at `as_of`, meeting `window`."""
    o = observations.c
    q = (
        sa.select(sa.func.count())
        .select_from(observations.join(series, series.c.series_id == o.series_id))
        .where(visible(engine, as_of), *in_window(window))
    )
    if place_ids is not None:
        q = q.where(series.c.place_id.in_(place_ids))
    if metric is not None:
        q = q.where(series.c.metric == metric)
    if source is not None:
        q = q.where(series.c.source == source)
    with engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def newest_periods(engine: Engine, source: str) -> dict:
    """Per country (ISO3): the newest period end this source holds there.

    Incremental refresh asks each feed only from here on (minus an overlap for revisions); a
    country with nothing stored is absent, so it gets the feed's whole history. Values are
    `datetime.date`."""
    o = observations.c
    q = (
        sa.select(places.c.country_iso3, sa.func.max(o.period_end).label("newest"))
        .select_from(
            observations.join(series, series.c.series_id == o.series_id).join(
                places, places.c.place_id == series.c.place_id
            )
        )
        .where(series.c.source == source)
        .group_by(places.c.country_iso3)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    days = {str(iso3): calendar_day(newest) for iso3, newest in rows if iso3 and newest}
    return {iso3: day for iso3, day in days.items() if day}


# -- the data version -----------------------------------------------------------------------
def data_version(engine: Engine) -> str:
    """The store's data version: changes whenever a load ends, in any process.

    `"<largest id of a finished load>.<number of load ends>"`, read in one round trip:
    - the number of load ends is a counter in `meta` that every end of a load adds one to in
      the transaction that ends it (`store.finish_fetch`, so also every `ingest` and failed
      fetch, and `store.close_interrupted`). It moves once per load end whatever the order
      loads end in: the largest finished id alone misses a load that started before another
      and ended after it, and an old 'running' row closed after a crash. A failed load moves
      it too (its badge and error change on the pages); a start does not (no figure changes);
    - the largest finished id (a backward walk of the primary key that stops at the first
      finished row) moves when loads are written without the counter: the prebuilt snapshot
      copied into an empty store.
    Why not count finished rows in fetch_log (no counter to keep): that reads the whole log,
    which grows by a row per feed per refresh: 12.7 ms on SQLite and 23 ms on PostgreSQL at
    100,000 log rows, where this takes 0.15 ms and 0.6 ms (PostgreSQL's includes the pool's
    pre-ping round trip) whatever the log's size (`python -m bench.version_cost --pg`).

    `store.ingest` ends a load in the transaction that writes its figures, so a reader that
    sees a version sees every figure of it: a cache keyed by the version never holds figures
    older than its key.
    """
    f = fetch_log.c
    last = (
        sa.select(f.fetch_id)
        .where(f.status != "running")
        .order_by(f.fetch_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    ends = sa.select(meta.c.value).where(meta.c.key == DATA_VERSION_KEY).scalar_subquery()
    with engine.connect() as conn:
        top, n = conn.execute(sa.select(last, ends)).one()
    return f"{top or 0}.{n or 0}"


def loads_after(engine: Engine, version: str, limit: int = 5) -> pd.DataFrame:
    """Loads finished since `version` was read (newest first): what a page says when it
    redraws with new figures. Loads with a larger id than the version's, else (an older load
    ended) the last ones to finish."""
    f = fetch_log.c
    cols = (f.fetch_id, f.source, f.status, f.finished_at, f.rows_new, f.rows_revised)
    top = int(str(version).split(".")[0] or 0)
    done = f.status != "running"
    newer = _frame(
        engine,
        sa.select(*cols).where(done, f.fetch_id > top).order_by(f.fetch_id.desc()).limit(limit),
    )
    if not newer.empty:
        return newer
    return _frame(engine, sa.select(*cols).where(done).order_by(f.finished_at.desc()).limit(1))


def newest_retrieval(engine: Engine):
    """The moment that pins what the store shows now (`as_of` of a "link to this exact view"):
    the end of the newest finished load, every figure shown now was retrieved by then, or,
    while a load is still writing, just before it started (its figures, stamped after its
    start, stay out of the pinned view when it commits). Read off fetch_log, not a scan of
    the figures. None for an empty store."""
    from data_sources.store.asof import one_microsecond_before

    f = fetch_log.c
    with engine.connect() as conn:
        done, running = conn.execute(
            sa.select(
                sa.select(sa.func.max(f.finished_at))
                .where(f.status != "running")
                .scalar_subquery(),
                sa.select(sa.func.min(f.started_at)).where(f.status == "running").scalar_subquery(),
            )
        ).one()
    moments = [_aware(done)] if done is not None else []
    if running is not None:
        moments = [min([*moments, one_microsecond_before(_aware(running))])]
    return max(moments) if moments else None


def _aware(value):
    from datetime import UTC

    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def oldest_retrieval(engine: Engine):
    """When the store's first figure was retrieved: an as-of moment before it shows nothing,
    and the as-of banner says so instead of an empty dashboard. None for an empty store."""
    with engine.connect() as conn:
        moment = conn.execute(sa.select(sa.func.min(observations.c.retrieved_at))).scalar()
    if moment is not None and moment.tzinfo is None:  # SQLite returns naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment


def admin_names(engine: Engine, place_ids: list[str]) -> pd.DataFrame:
    """The admin names (`admin1`, `admin2`, `pcode`) the series of these cities were given by
    their sources, with how many series gave each: what places a city in its district and
    governorate (`model.admin_groups`). One row per city and set of names."""
    s = series.c
    q = (
        sa.select(
            s.place_id,
            places.c.country_iso3,
            s.admin1,
            s.admin2,
            s.pcode,
            sa.func.count().label("series"),
        )
        .select_from(series.join(places, places.c.place_id == s.place_id))
        .where(places.c.kind == "city")
        .group_by(s.place_id, places.c.country_iso3, s.admin1, s.admin2, s.pcode)
        .order_by(s.place_id, s.admin1, s.admin2, s.pcode)
    )
    frames = [_frame(engine, q.where(s.place_id.in_(chunk))) for chunk in _chunks(place_ids, 500)]
    if not frames:
        return pd.DataFrame(columns=["place_id", "country_iso3", "admin1", "admin2", "pcode"])
    return pd.concat(frames, ignore_index=True)


def figure_span(engine: Engine) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first day and the last of any figure the store holds (the Data page's From/To
    run between them)."""
    o = observations.c
    with engine.connect() as conn:
        lo, hi = conn.execute(
            sa.select(sa.func.min(o.period_start), sa.func.max(o.period_end))
        ).one()
    return None if lo is None else (pd.Timestamp(lo), pd.Timestamp(hi))


def series_pages(
    engine: Engine,
    place_ids: list[str],
    metric: str | None = None,
    *,
    sources: list[str] | None = None,
    as_of: datetime | None = None,
    window: Window | None = None,
    rows: int = 5_000,
):
    """`series_frame`'s figures (the ones shown at `as_of`) as frames of at most `rows`,
    series by series (each oldest first), read page by page with a keyset on the primary
    key, the order the table is stored in: each page is one index range, no sort of the
    whole table, so a download of 10 M figures is linear and never holds more than one
    page in memory. The series' metadata (one row per series) is read once."""
    filters = {"metric": metric, "qualifier": None, "site": None, "unit": None}
    meta = _columns(engine, _series_query(place_ids, filters, sources))
    o = observations.c
    matching = sa.select(series.c.series_id).where(series.c.place_id.in_(place_ids))
    if metric is not None:
        matching = matching.where(series.c.metric == metric)
    if sources:
        matching = matching.where(series.c.source.in_(sources))
    last: tuple | None = None
    while True:
        q = (
            sa.select(*_OBS_COLUMNS())
            .where(o.series_id.in_(matching), visible(engine, as_of), *in_window(window))
            .order_by(o.series_id, o.period_start, o.period_end)
            .limit(rows)
        )
        if last is not None:
            q = q.where(
                sa.tuple_(o.series_id, o.period_start, o.period_end)
                > sa.tuple_(*(sa.literal(v) for v in last))
            )
        with engine.connect() as conn:
            got = [tuple(row) for row in conn.execute(q)]
        if not got:
            return
        tail = got[-1]
        # the key as stored (SQLite's text, PostgreSQL's dates): compared as the column is
        last = (tail[0], tail[1], tail[2])
        obs = _rows_to_columns(got, oldest_first=False)
        columns = dict(obs)
        columns.update(_lookup(meta, "series_id", obs["series_id"]))
        columns.update(_lookup(_provenance_of(engine, obs), "provenance_id", obs["provenance_id"]))
        columns["origin"] = np.where(
            columns["source"] == "reported", columns["dataset"], columns["source"]
        )
        columns["match_score"] = columns["match_score"].astype(float)
        yield pd.DataFrame({c: columns.get(c, []) for c in SERIES_COLUMNS})
        if len(got) < rows:
            return


def download_frame(
    engine: Engine,
    place_ids: list[str],
    metric: str | None = None,
    *,
    sources: list[str] | None = None,
    as_of: datetime | None = None,
    window: Window | None = None,
) -> pd.DataFrame:
    """Every page of `series_pages` in one frame: what a file built in memory (the ZIP)
    holds, in the streamed files' order, so its figures.csv is their very bytes."""
    pages = list(
        series_pages(engine, place_ids, metric, sources=sources, as_of=as_of, window=window)
    )
    if not pages:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SERIES_COLUMNS})
    return pd.concat(pages, ignore_index=True)
