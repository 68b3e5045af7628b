"""One job: the store as the pages reach it. One engine per database URL for the process (the
bundled snapshot loaded on the first start), the data version every cached query of a run is
answered for, an open tab's watch for new figures, and a store that cannot be used said in
plain words."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from data_sources.errors import STORE_FAILURES, store_error
from data_sources.snapshot import load_snapshot
from data_sources.store import asof, query
from data_sources.store.engine import database_url, open_store
from views.text import safe

VERSION = "_data_version"  # session state: the version this session's page was drawn from
FULL_RUN = "_data_version_full_run"
NOTE, LAST_NOTE = "_data_note", "_data_last_note"
WATCH_SECONDS = 15  # an open tab looks for a new version this often (see README: CPU per idle tab)


@st.cache_resource(show_spinner="Loading the bundled snapshot into the store (first start only)…")
def engine_for(url: str):
    engine = open_store(url)  # a store that cannot be used: StoreError, in plain words
    load_snapshot(engine)
    return engine


def engine():
    return engine_for(database_url())


def start_run() -> str:
    """Read the store's data version once, at the top of every full script run (app.py); every
    cached query of this run is answered for it."""
    version = query.data_version(engine())
    st.session_state[VERSION] = version
    st.session_state[FULL_RUN] = True
    return version


def data_version() -> str:
    version = st.session_state.get(VERSION)
    return version if version is not None else start_run()


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def _moments(url: str, version: str) -> list:
    """The store's moments (`asof.store_moments`), once per data version: a load moves the
    version, and only a load adds a moment."""
    return asof.store_moments(engine_for(url))


def store_moments() -> list:
    """Every moment at which this store's view changed, oldest first (see asof.snap)."""
    return _moments(database_url(), data_version())


def watch_for_new_data() -> None:
    """An open tab redraws by itself when another process stores figures: a sidebar fragment
    reads the version every WATCH_SECONDS (one small query, no page drawn) and, when it moved
    since the page was drawn, reruns the app and says what came in."""
    with st.sidebar:
        _watch()


@st.fragment(run_every=WATCH_SECONDS)
def _watch() -> None:
    if not st.session_state.pop(FULL_RUN, False):  # a timed run of this fragment alone
        drawn = st.session_state.get(VERSION)
        current = query.data_version(engine())
        if current != drawn:
            st.session_state[NOTE] = _what_changed(drawn)
            st.rerun(scope="app")
    note = st.session_state.pop(NOTE, None)
    if note:
        st.toast(note, icon=":material/update:")
        st.session_state[LAST_NOTE] = note
    if st.session_state.get(LAST_NOTE):
        st.caption(st.session_state[LAST_NOTE])


def _what_changed(drawn: str | None) -> str:
    loads = query.loads_after(engine(), drawn or "0.0")
    stamp = pd.Timestamp.now(tz="UTC").strftime("%H:%M")
    ok = loads[loads.status == "ok"]
    failed = loads[loads.status != "ok"]
    parts = []
    if not ok.empty:
        parts.append("new figures from " + ", ".join(safe(s, 40) for s in dict.fromkeys(ok.source)))
    if not failed.empty:
        parts.append(
            ", ".join(safe(s, 40) for s in dict.fromkeys(failed.source))
            + " failed to load (previous figures kept)"
        )
    return f"Updated {stamp} UTC — " + ("; ".join(parts) or "the store changed")


def store_guard(step: Callable[[], object]) -> bool:
    """Run `step`; if the store cannot be used (unreachable, not this release's tables), show
    what is wrong in plain words instead of a traceback, which the config hides from readers
    anyway (showErrorDetails = "none") and which would tell a host nothing. Returns whether
    `step` ran to the end, so the app can skip what needs the store and serve the rest."""
    try:
        step()
    except STORE_FAILURES as exc:
        st.error(str(store_error(exc)), icon=":material/database:")
        return False
    return True
