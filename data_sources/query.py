"""Read API for the pages: small, indexed queries that return tidy DataFrames.

Pages never load the store; they ask for the series they draw. Every function takes an engine
so that the same code serves the app, the command line, tests and benchmarks.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .store import fetch_log, observations, places, provenance, rejects, series

SERIES_COLUMNS = [
    "place_id", "city", "country_iso3", "metric", "qualifier", "site", "unit", "estimate",
    "source", "dataset", "origin", "period_start", "period_end", "value", "revision",
    "retrieved_at", "source_url", "citation", "quote", "licence", "match_method", "match_score",
]


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def cities(engine: Engine) -> pd.DataFrame:
    """Cities that hold at least one figure, most populous first."""
    has_data = sa.select(series.c.place_id).distinct().subquery()
    q = (sa.select(places).where(places.c.kind == "city",
                                 places.c.place_id.in_(sa.select(has_data.c.place_id)))
         .order_by(places.c.population.desc()))
    return _frame(engine, q)


def all_places(engine: Engine) -> pd.DataFrame:
    return _frame(engine, sa.select(places).order_by(places.c.kind, places.c.name))


def catalogue(engine: Engine, place_ids: list[str] | None = None) -> pd.DataFrame:
    """What series exist (one row per series) for these places: drives the pickers."""
    q = sa.select(series.c.series_id, series.c.place_id, series.c.source, series.c.dataset,
                  series.c.metric, series.c.qualifier, series.c.site, series.c.unit,
                  series.c.estimate)
    if place_ids is not None:
        q = q.where(series.c.place_id.in_(place_ids))
    return _frame(engine, q)


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
) -> pd.DataFrame:
    """Observations of the matching series, oldest first, with provenance and the city name."""
    q = (
        sa.select(
            series.c.place_id, places.c.name.label("city"), places.c.country_iso3,
            series.c.metric, series.c.qualifier, series.c.site, series.c.unit, series.c.estimate,
            series.c.source, series.c.dataset, observations.c.period_start,
            observations.c.period_end, observations.c.value, observations.c.revision,
            observations.c.retrieved_at, provenance.c.source_url, provenance.c.citation,
            provenance.c.quote, provenance.c.licence, series.c.match_method,
            series.c.match_score,
        )
        .select_from(
            series.join(observations, observations.c.series_id == series.c.series_id)
            .join(places, places.c.place_id == series.c.place_id)
            .join(provenance, provenance.c.provenance_id == observations.c.provenance_id)
        )
        .where(series.c.place_id.in_(place_ids))
        .order_by(observations.c.period_start, series.c.place_id)
    )
    if metric is not None:
        q = q.where(series.c.metric == metric)
    if qualifier is not None:
        q = q.where(series.c.qualifier == qualifier)
    if site is not None:
        q = q.where(series.c.site == site)
    if unit is not None:
        q = q.where(series.c.unit == unit)
    if sources:
        q = q.where(series.c.source.in_(sources))
    if current_only:
        q = q.where(observations.c.is_current.is_(True))
    df = _frame(engine, q)
    df["origin"] = df["dataset"].where(df["source"] == "reported", df["source"])
    if not df.empty:
        df["period_start"] = pd.to_datetime(df["period_start"])
        df["period_end"] = pd.to_datetime(df["period_end"])
    return df.reindex(columns=SERIES_COLUMNS)


def latest(engine: Engine, place_ids: list[str]) -> pd.DataFrame:
    """Per series: the newest figure, the one before it and the change between them."""
    df = series_frame(engine, place_ids)
    if df.empty:
        return df.assign(previous=pd.Series(dtype=float), change=pd.Series(dtype=float))
    key = ["place_id", "metric", "qualifier", "site", "unit", "estimate", "source", "dataset"]
    df = df.sort_values([*key, "period_end"])
    df["previous"] = df.groupby(key)["value"].shift(1)
    df["previous_end"] = df.groupby(key)["period_end"].shift(1)
    last = df.groupby(key).tail(1).copy()
    last["change"] = last["value"] - last["previous"]
    return last.reset_index(drop=True)


def freshness(engine: Engine) -> pd.DataFrame:
    """Per source: last successful load, last attempt, last error, figures held, newest period."""
    log = _frame(engine, sa.select(fetch_log))
    held = _frame(
        engine,
        sa.select(series.c.source, sa.func.count().label("figures"),
                  sa.func.max(observations.c.period_end).label("newest_period"))
        .select_from(series.join(observations, observations.c.series_id == series.c.series_id))
        .where(observations.c.is_current.is_(True))
        .group_by(series.c.source),
    )
    if log.empty:
        return held.assign(last_success=None, last_attempt=None, last_status="", last_error="")
    log = log.sort_values("started_at")
    ok = log[log.status == "ok"].groupby("source")["finished_at"].max().rename("last_success")
    last = log.groupby("source").tail(1).set_index("source")
    summary = pd.DataFrame({
        "last_attempt": last["started_at"], "last_status": last["status"],
        "last_error": last["error"].fillna(""),
    }).join(ok)
    out = held.set_index("source").join(summary, how="outer").reset_index()
    return out.rename(columns={"index": "source"})


def fetches(engine: Engine, limit: int = 50) -> pd.DataFrame:
    return _frame(engine, sa.select(fetch_log).order_by(fetch_log.c.fetch_id.desc()).limit(limit))


def rejected(engine: Engine, limit: int = 5000, source: str | None = None) -> pd.DataFrame:
    q = sa.select(rejects.c.source, rejects.c.dataset, rejects.c.row_ref, rejects.c.reason,
                  rejects.c.raw, rejects.c.created_at).order_by(rejects.c.reject_id.desc())
    if source:
        q = q.where(rejects.c.source == source)
    return _frame(engine, q.limit(limit))


def reject_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(rejects)).scalar() or 0)
