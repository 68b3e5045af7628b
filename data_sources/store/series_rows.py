"""The rows of one series as `python -m data_sources series` prints them and `/api/v1/series`
serves them: one function, so the command line and the API can never give different numbers.

Either every figure (each with its source, link, citation and licence) or, with a period, the
points a chart draws (`combine.chart_points`: the pages' one rule for combining figures). With
`withhold=True` (the API) the figures of a source or relayed table whose terms forbid
redistribution (`sources.redistributable`) are left out before anything is combined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from data_sources import sources
from data_sources.redact import redact_url
from data_sources.store import query
from data_sources.store.asof import describe

# the columns of every figure, in order
SERIES_OUTPUT = [
    "period_start", "period_end", "value", "unit", "source", "city", "metric", "qualifier",
    "site", "estimate", "source_url", "revision", "retrieved_at", "citation", "licence",
]  # fmt: skip

# the columns of the points a chart draws (`period`)
POINT_OUTPUT = [
    "city", "origin", "site", "period_label", "period_start", "period", "value", "low", "high",
    "figures", "kind", "spans", "markets", "citation", "source", "licence",
]  # fmt: skip

PERIODS = ("week", "month", "year")
MARKETS = ("each", "median")


@dataclass(frozen=True)
class SeriesQuery:
    """What `series` is asked: the CLI's options, the API's parameters."""

    city: str
    metric: str
    qualifier: str | None = None
    site: str | None = None
    unit: str | None = None
    source: str | None = None
    as_of: datetime | None = None
    period: str | None = None
    cumulative: bool = False
    markets: str = "each"


class NotHeld(LookupError):
    """The store holds no such place, or no such figures there: the message names what it
    does hold (the CLI prints it and exits 1, the API answers 404 with it)."""


def places_named(engine: Engine, name: str) -> pd.DataFrame:
    """The city of that name or id (any case; an id, as /api/v1/places lists it, names one
    place where two share a name), else the country or region of that name or id
    ("Syria", "country:SYR": UNHCR's figures are there); an empty frame when none."""
    wanted = name.casefold()
    cities = query.cities(engine)
    match = cities[cities["place_id"].str.casefold() == wanted]
    if match.empty:
        match = cities[cities["name"].str.casefold() == wanted]
    if not match.empty:
        return match
    others = query.all_places(engine)
    others = others[others["kind"] != "city"]
    return others[
        (others["name"].str.casefold() == wanted) | (others["place_id"].str.casefold() == wanted)
    ]


def servable(frame: pd.DataFrame) -> pd.Series:
    """Per row (a frame with `source` and `dataset`): whether its terms allow serving it.
    Decided once per distinct (source, dataset) by the registry."""
    if frame.empty:
        return pd.Series(True, index=frame.index, dtype=bool)
    pairs = frame[["source", "dataset"]].fillna("")
    allowed = {
        (s, d): sources.redistributable(s, d) for s, d in pairs.drop_duplicates().itertuples(False)
    }
    return pd.Series(
        [allowed[(s, d)] for s, d in pairs.itertuples(False)], index=frame.index, dtype=bool
    )


def series_rows(engine: Engine, ask: SeriesQuery, *, withhold: bool = False) -> pd.DataFrame:
    """The rows `series` gives for `ask`, dates as ISO text; NotHeld when there are none."""
    match = places_named(engine, ask.city)
    if match.empty:
        known = ", ".join(query.cities(engine)["name"].head(15))
        raise NotHeld(f"no figures stored for city '{ask.city}'. Cities with data: {known}…")
    ids = match["place_id"].tolist()
    df = query.series_frame(
        engine,
        ids,
        ask.metric,
        qualifier=ask.qualifier,
        site=ask.site,
        unit=ask.unit,
        sources=[ask.source] if ask.source else None,
        as_of=ask.as_of,
    )
    if withhold:
        df = df[servable(df)].reset_index(drop=True)
    if df.empty:
        held = query.catalogue(engine, ids)
        if withhold:
            held = held[servable(held)]
        metrics = sorted(held["metric"].unique())
        raise NotHeld(
            f"no '{ask.metric}' figures for {ask.city}"
            + (f" with qualifier '{ask.qualifier}'" if ask.qualifier else "")
            + (f" as of {describe(ask.as_of)}" if ask.as_of else "")
            + f". Metrics held: {', '.join(metrics)}"
        )
    if ask.period:
        return point_rows(df, ask)
    return figure_rows(df)


def figure_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Every figure of `query.series_frame`, oldest first; links without credentials."""
    out = df[SERIES_OUTPUT].copy()
    out["retrieved_at"] = out["retrieved_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    for col in ("period_start", "period_end"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    out["source_url"] = out["source_url"].map(lambda v: redact_url(v) if v else v)
    return out


def point_rows(df: pd.DataFrame, ask: SeriesQuery) -> pd.DataFrame:
    """The series combined per period as the pages combine it (`combine.chart_points`): the
    drawn estimate with its low–high, contained spans superseded, one row per source and, for
    a price, per market (or the median market with `markets="median"`). Each point carries
    the licence of the figures it is made of (one source's, so one licence in practice).
    Text cells are spreadsheet-safe (`neutralise`), as in the CSV."""
    from data_sources.formats.export import neutralise
    from data_sources.model import combine

    points = combine.chart_points(df, ask.metric, ask.period, ask.cumulative, markets=ask.markets)
    licences = df.groupby("origin")["licence"].agg(
        lambda v: "; ".join(dict.fromkeys(x for x in v if isinstance(x, str) and x))
    )
    points = points.assign(licence=points["origin"].map(licences).fillna(""))
    out = points.reindex(columns=[c for c in POINT_OUTPUT if c in points or c != "markets"])
    out = out.rename(columns={"period": "period_end"})
    for col in ("period_start", "period_end"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    return neutralise(out)
