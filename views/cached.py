"""One job: every query a page runs, cached. Each cached function takes the store's data version
(`query.data_version`) and the view's as-of moment as arguments, so a figure written by any
process (CLI import, refresh, another app server) is on every server's pages at their next
run, and many viewers of one view cost one query. The TTL only returns memory; max_entries
bounds it. The public functions read the version and moment of this run themselves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_sources.formats import export
from data_sources.store import asof, changes, query
from views.store_access import data_version, engine_for
from views.url_state import as_of_key

CACHE = {"ttl": 6 * 3600, "max_entries": 64, "show_spinner": False}


def _at(when: str | None):
    """The cached functions take the as-of moment as text (hashable, the URL's spelling)."""
    return asof.parse_as_of(when)


@st.cache_data(**CACHE)
def _city_table(url: str, version: str, when: str | None) -> pd.DataFrame:
    return query.cities(engine_for(url), _at(when))


@st.cache_data(**CACHE)
def _place_table(url: str, version: str) -> pd.DataFrame:
    return query.all_places(engine_for(url))


@st.cache_data(**CACHE)
def _catalogue(
    url: str, version: str, when: str | None, place_ids: tuple[str, ...]
) -> pd.DataFrame:
    return query.catalogue(engine_for(url), list(place_ids), _at(when))


@st.cache_data(**CACHE)
def _series(
    url: str,
    version: str,
    when: str | None,
    place_ids: tuple[str, ...],
    metric: str | None = None,
    qualifier: str | None = None,
    site: str | None = None,
    unit: str | None = None,
    revisions: bool = False,
) -> pd.DataFrame:
    return query.series_frame(
        engine_for(url),
        list(place_ids),
        metric,
        qualifier=qualifier,
        site=site,
        unit=unit,
        as_of=_at(when),
        current_only=not revisions,
    )


@st.cache_data(**CACHE)
def _latest(url: str, version: str, when: str | None, place_ids: tuple[str, ...]) -> pd.DataFrame:
    """The Overview's newest figures: the same for every viewer of these places and version,
    so many viewers cost one query (uncached, it was a fifth of a fresh Overview's CPU)."""
    return query.latest(engine_for(url), list(place_ids), _at(when))


@st.cache_data(**CACHE)
def _reported(url: str, version: str, when: str | None, place_ids: tuple[str, ...]) -> pd.DataFrame:
    """Reported figures for these places: the events annotated on charts."""
    return query.series_frame(
        engine_for(url), list(place_ids), sources=["reported"], as_of=_at(when)
    )


@st.cache_data(**CACHE)
def _map_points(
    url: str,
    version: str,
    when: str | None,
    metric: str,
    month: str,
    qualifier: str | None,
    unit: str | None,
) -> pd.DataFrame:
    return query.map_points(engine_for(url), metric, month, qualifier, unit, _at(when))


@st.cache_data(**CACHE)
def _period_bounds(
    url: str, version: str, when: str | None, metric: str, qualifier: str | None, unit: str | None
):
    return query.period_bounds(engine_for(url), metric, qualifier, unit, _at(when))


@st.cache_data(**CACHE)
def _catalogue_all(url: str, version: str, when: str | None) -> pd.DataFrame:
    return query.catalogue(engine_for(url), as_of=_at(when))


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def _freshness(url: str, version: str, when: str | None) -> pd.DataFrame:
    engine = engine_for(url)
    moment = _at(when)
    return query.classify_freshness(
        query.freshness(engine, moment),
        pd.Timestamp(moment) if moment else pd.Timestamp.now(tz="UTC"),
        snapshot_sources=query.snapshot_only_sources(engine),
    )


@st.cache_data(**CACHE)
def _changed_since(url: str, version: str, when: str) -> int:
    return len(changes.changes(engine_for(url), _at(when)))


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def _changes(url: str, version: str, since: str, until: str | None) -> pd.DataFrame:
    """Every change in a window: long after a snapshot load (every figure is "added"), so few
    are kept; only the CSV download reads it (pages show `_change_view`)."""
    return changes.changes(engine_for(url), _at(since), _at(until))


@st.cache_data(**CACHE)
def _change_view(
    url: str, version: str, since: str, until: str | None, rows: int
) -> tuple[str, pd.DataFrame]:
    """The summary and first rows from SQL counts and a LIMIT, not the whole list."""
    return changes.page(engine_for(url), _at(since), _at(until), rows)


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def _change_csv(url: str, version: str, since: str, until: str | None) -> bytes:
    return export.changes_csv(_changes(url, version, since, until))


@st.cache_data(**CACHE)
def _newest_retrieval(url: str, version: str) -> str | None:
    moment = query.newest_retrieval(engine_for(url))
    return None if moment is None else asof.format_as_of(moment)


@st.cache_data(**CACHE)
def _oldest_retrieval(url: str, version: str) -> str | None:
    moment = query.oldest_retrieval(engine_for(url))
    return None if moment is None else asof.format_as_of(moment)


# The public query functions: the pages' calls, each answered from the cache for the data
# version this script run draws (read once, at the top of the run: `start_run`) and for the
# moment the view is as of (`as_of_text`, None for now).
def city_table(url: str) -> pd.DataFrame:
    return _city_table(url, data_version(), as_of_key())


def place_table(url: str) -> pd.DataFrame:
    return _place_table(url, data_version())


def catalogue(url: str, place_ids: tuple[str, ...]) -> pd.DataFrame:
    return _catalogue(url, data_version(), as_of_key(), place_ids)


def series(
    url: str,
    place_ids: tuple[str, ...],
    metric: str | None = None,
    qualifier: str | None = None,
    site: str | None = None,
    unit: str | None = None,
    *,
    revisions: bool = False,
) -> pd.DataFrame:
    """The figures shown (as of the view's moment); with `revisions`, every revision
    retrieved by then."""
    return _series(
        url, data_version(), as_of_key(), place_ids, metric, qualifier, site, unit, revisions
    )


def latest(url: str, place_ids: tuple[str, ...]) -> pd.DataFrame:
    return _latest(url, data_version(), as_of_key(), tuple(place_ids))


def series_at(
    url: str, version: str, when: str | None, place_ids: tuple[str, ...], metric: str | None
) -> pd.DataFrame:
    """`series` for a version and moment given, not read from the session: what a download
    built when its button is clicked (outside the page's run) must use."""
    return _series(url, version, when, place_ids, metric)


def reported(url: str, place_ids: tuple[str, ...]) -> pd.DataFrame:
    return _reported(url, data_version(), as_of_key(), place_ids)


def map_points(
    url: str, metric: str, month: str, qualifier: str | None, unit: str | None
) -> pd.DataFrame:
    return _map_points(url, data_version(), as_of_key(), metric, month, qualifier, unit)


def period_bounds(url: str, metric: str, qualifier: str | None, unit: str | None):
    return _period_bounds(url, data_version(), as_of_key(), metric, qualifier, unit)


def catalogue_all(url: str) -> pd.DataFrame:
    return _catalogue_all(url, data_version(), as_of_key())


def freshness(url: str) -> pd.DataFrame:
    """Badges depend on the clock too (fresh turns stale): kept 30 s at most."""
    return _freshness(url, data_version(), as_of_key())


def change_view(url: str, since: str, until: str | None, rows: int) -> tuple[str, pd.DataFrame]:
    """The change list's one-line summary and its first `rows` rows: what a page shows. A
    session never holds the whole list (a copy of it per viewer was 70 MB each)."""
    return _change_view(url, data_version(), since, until, rows)


def change_csv(url: str, since: str, until: str | None) -> bytes:
    """The whole change list as the CSV download, built once per window and data version."""
    return _change_csv(url, data_version(), since, until)


def changed_since(url: str, when: str) -> int:
    """How many figures changed after the moment `when` (the as-of banner's count)."""
    return _changed_since(url, data_version(), when)


def newest_retrieval(url: str) -> str | None:
    """The store's newest retrieval time, as a link's `as_of` spells it; None when empty."""
    return _newest_retrieval(url, data_version())


def oldest_retrieval(url: str) -> str | None:
    """When the store's first figure was retrieved, as a link's `as_of` spells it."""
    return _oldest_retrieval(url, data_version())
