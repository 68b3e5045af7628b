"""One job: where each figure on a page comes from, as the page shows it: the freshness badge of
every source, the "Sources:" attribution line from the registry (`data_sources.sources`), and
links that are safe to click."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from data_sources import sources
from data_sources.feeds.connectors import CONNECTORS
from data_sources.formats import export
from views import escape
from views.cached import freshness
from views.text import safe

BADGE = {
    "fresh": ("green", "fresh"),
    "stale": ("orange", "stale"),
    "failing": ("red", "failing"),
    "never": ("gray", "never loaded"),
    "snapshot": ("blue", "bundled snapshot"),
    "unconfigured": ("gray", "not configured"),
}


def freshness_badges(url: str, with_feeds: bool = False) -> None:
    """One line per source: a coloured state, then what that state rests on (the last success,
    the last error). With `with_feeds`, live feeds never loaded are listed too, with the
    settings they still need."""
    fresh = freshness(url)
    rows = [(r.source, r.state, r.detail) for r in fresh.itertuples()]
    if with_feeds:
        rows += _unloaded_feeds(set(fresh.source))
    for source, state, detail in rows:
        colour, label = BADGE[state]
        title = sources.title(source)
        st.markdown(f":{colour}-badge[{label}] **{safe(title, 40)}** — {safe(detail, 300)}")


def _unloaded_feeds(known: set[str]) -> list[tuple[str, str, str]]:
    rows = []
    for name, cls in CONNECTORS.items():
        if name in known:
            continue
        missing = cls().missing_settings()
        detail = "set " + ", ".join(missing) + " to enable" if missing else "ready, never refreshed"
        rows.append((name, "unconfigured" if missing else "never", detail))
    return rows


def attribution(names: Sequence[str]) -> None:
    """The "Sources:" caption: each source's attribution line from the registry (an imported
    file's source, which has none, by its name)."""
    licences = export.licences()
    lines = [safe(licences.get(s, s), 200) for s in dict.fromkeys(names)]
    if lines:
        st.caption(
            "Sources: " + " · ".join(lines) + ". Full provenance on the Data page and in "
            "data_sources/snapshot/SOURCES.md."
        )


def link_column(df: pd.DataFrame, column: str = "source_url") -> pd.DataFrame:
    """A frame whose link column holds only http(s) URLs without credentials (`escape.link`):
    a stored `javascript:` or `user:password@` link is never clickable or shown."""
    if column not in df or df.empty:
        return df
    links = {u: escape.link(u) for u in pd.unique(df[column])}
    return df.assign(**{column: df[column].map(links)})
