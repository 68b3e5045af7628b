"""Streamlit helpers shared by the pages: the store, cached queries, and URL-backed widgets.

Every widget reads its initial value from the URL and writes its value back, so a copied link
reopens the same view. Values from the URL are checked against what the store holds; a value
that is unknown or hostile produces a plain message and the default, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pandas as pd
import streamlit as st
from rapidfuzz import process

from data_sources import asof, changes, export, query, sources
from data_sources.errors import STORE_FAILURES, store_error
from data_sources.feeds.connectors import CONNECTORS
from data_sources.schema import METRICS
from data_sources.snapshot import load_snapshot
from data_sources.store import database_url, open_store
from views import escape

DEFAULT_CITIES = ["Aleppo", "Mosul"]
# Every cached query takes the store's data version (`query.data_version`) as an argument, so a
# figure written by any process (CLI import, refresh, another app server) is on every server's
# pages at their next run. The TTL only returns memory; max_entries bounds it.
CACHE = {"ttl": 6 * 3600, "max_entries": 64, "show_spinner": False}
VERSION = "_data_version"  # session state: the version this session's page was drawn from
FULL_RUN = "_data_version_full_run"
NOTE, LAST_NOTE = "_data_note", "_data_last_note"
WATCH_SECONDS = 15  # an open tab looks for a new version this often (see README: CPU per idle tab)
BADGE = {
    "fresh": ("green", "fresh"),
    "stale": ("orange", "stale"),
    "failing": ("red", "failing"),
    "never": ("gray", "never loaded"),
    "snapshot": ("blue", "bundled snapshot"),
    "unconfigured": ("gray", "not configured"),
}


@st.cache_resource(show_spinner="Loading the bundled snapshot into the store (first start only)…")
def engine_for(url: str):
    engine = open_store(url)  # a store that cannot be used: StoreError, in plain words
    load_snapshot(engine)
    return engine


def engine():
    return engine_for(database_url())


# -- the data version ------------------------------------------------------------------------
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
    are kept and pages take the summary and the first rows (`_change_view`)."""
    return changes.changes(engine_for(url), _at(since), _at(until))


@st.cache_data(**CACHE)
def _change_view(
    url: str, version: str, since: str, until: str | None, rows: int
) -> tuple[str, pd.DataFrame]:
    found = _changes(url, version, since, until)
    return changes.summary(found), found.head(rows)


@st.cache_data(ttl=6 * 3600, max_entries=4, show_spinner=False)
def _change_csv(url: str, version: str, since: str, until: str | None) -> bytes:
    return changes.to_csv(_changes(url, version, since, until))


@st.cache_data(**CACHE)
def _newest_retrieval(url: str, version: str) -> str | None:
    moment = query.newest_retrieval(engine_for(url))
    return None if moment is None else asof.format_as_of(moment)


# The public query functions: the pages' calls, each answered from the cache for the data
# version this script run draws (read once, at the top of the run: `start_run`) and for the
# moment the view is as of (`as_of_text`, None for now).
def city_table(url: str) -> pd.DataFrame:
    return _city_table(url, data_version(), as_of_text())


def place_table(url: str) -> pd.DataFrame:
    return _place_table(url, data_version())


def catalogue(url: str, place_ids: tuple[str, ...]) -> pd.DataFrame:
    return _catalogue(url, data_version(), as_of_text(), place_ids)


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
        url, data_version(), as_of_text(), place_ids, metric, qualifier, site, unit, revisions
    )


def latest(url: str, place_ids: tuple[str, ...]) -> pd.DataFrame:
    return _latest(url, data_version(), as_of_text(), tuple(place_ids))


def series_at(
    url: str, version: str, when: str | None, place_ids: tuple[str, ...], metric: str | None
) -> pd.DataFrame:
    """`series` for a version and moment given, not read from the session: what a download
    built when its button is clicked (outside the page's run) must use."""
    return _series(url, version, when, place_ids, metric)


def reported(url: str, place_ids: tuple[str, ...]) -> pd.DataFrame:
    return _reported(url, data_version(), as_of_text(), place_ids)


def map_points(
    url: str, metric: str, month: str, qualifier: str | None, unit: str | None
) -> pd.DataFrame:
    return _map_points(url, data_version(), as_of_text(), metric, month, qualifier, unit)


def period_bounds(url: str, metric: str, qualifier: str | None, unit: str | None):
    return _period_bounds(url, data_version(), as_of_text(), metric, qualifier, unit)


def catalogue_all(url: str) -> pd.DataFrame:
    return _catalogue_all(url, data_version(), as_of_text())


def freshness(url: str) -> pd.DataFrame:
    """Badges depend on the clock too (fresh turns stale): kept 30 s at most."""
    return _freshness(url, data_version(), as_of_text())


def change_view(url: str, since: str, until: str | None, rows: int) -> tuple[str, pd.DataFrame]:
    """The change list's one-line summary and its first `rows` rows: what a page shows. A
    session never holds the whole list (a copy of it per viewer was 70 MB each)."""
    return _change_view(url, data_version(), since, until, rows)


def change_csv(url: str, since: str, until: str | None) -> bytes:
    """The whole change list as the CSV download, built once per window and data version."""
    return _change_csv(url, data_version(), since, until)


# -- as of a moment ---------------------------------------------------------------------------
AS_OF = "_as_of"  # session state: the as-of text of this session's view ("" for now)


def as_of_text() -> str | None:
    """The moment the view shows (`as_of=` in the link, kept across pages), as the URL
    spells it; None for now. A value that is not a date or time is a link problem: the
    latest figures are shown with the message."""
    if AS_OF not in st.session_state:
        raw = _from_url("as_of")
        text = ""
        if raw is not None and raw.strip():
            try:
                text = asof.format_as_of(asof.parse_as_of(raw))
            except asof.AsOfError as exc:
                link_problem(f"The link's as_of: {safe(str(exc), 200)} Showing the latest figures.")
        st.session_state[AS_OF] = text
    text = st.session_state[AS_OF]
    if text:
        st.query_params["as_of"] = text
    else:
        st.query_params.pop("as_of", None)
    return text or None


def as_of() -> datetime | None:
    return asof.parse_as_of(as_of_text())


def as_of_banner() -> None:
    """In an as-of view: what moment, how many figures changed since, a way to the latest."""
    url = database_url()
    text = as_of_text()
    if text:
        moment = asof.parse_as_of(text)
        moved = _changed_since(url, data_version(), text)
        st.info(
            f"As of {safe(asof.describe(moment), 80)}: the figures the store held then. "
            f"{moved:,} figure{'s have' if moved != 1 else ' has'} changed since.",
            icon=":material/history:",
        )
        if st.button("See the latest", key="as_of_latest", icon=":material/update:"):
            st.session_state[AS_OF] = ""
            st.query_params.pop("as_of", None)
            st.rerun()


def copy_link() -> None:
    """The link to this exact view: drawn after the page ran, so it holds every parameter the
    page set (its defaults too), with the current data version pinned."""
    url = database_url()
    text = as_of_text()
    pinned = text or _newest_retrieval(url, data_version())
    with st.sidebar.expander("Copy link to this exact view", icon=":material/link:"):
        if pinned:
            st.caption(
                "This link shows these very figures later too, even after new figures or "
                "revisions are stored (the figures as of "
                f"{safe(asof.describe(asof.parse_as_of(pinned)), 80)})."
            )
            st.code(pinned_link(pinned), language=None, wrap_lines=True)
        else:
            st.caption("The store holds no figures yet.")


def pinned_link(pinned: str) -> str:
    """The page's address with its parameters and `as_of` set to `pinned`."""
    from urllib.parse import urlencode

    params = {k: st.query_params.get(k) for k in st.query_params}
    params["as_of"] = pinned
    base = str(st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params)}"


def freshness_badges(url: str, with_feeds: bool = False) -> None:
    """One line per source: a coloured state, then what that state rests on (the last success,
    the last error). With `with_feeds`, live feeds never loaded are listed too, with the
    settings they still need."""
    fresh = freshness(url)
    known = set(fresh.source)
    rows = [(r.source, r.state, r.detail) for r in fresh.itertuples()]
    if with_feeds:
        for name, cls in CONNECTORS.items():
            if name in known:
                continue
            missing = cls().missing_settings()
            rows.append(
                (
                    name,
                    "unconfigured" if missing else "never",
                    "set " + ", ".join(missing) + " to enable"
                    if missing
                    else "ready, never refreshed",
                )
            )
    for source, state, detail in rows:
        colour, label = BADGE[state]
        title = sources.title(source)
        st.markdown(f":{colour}-badge[{label}] **{safe(title, 40)}** — {safe(detail, 300)}")


# -- a store that cannot be used ----------------------------------------------------------
def store_guard(step: Callable[[], object]) -> bool:
    """Run `step`; if the store cannot be used (unreachable, not this release's tables), show
    what is wrong in plain words instead of a traceback, which the config hides from readers
    anyway (showErrorDetails = "none") and which would tell a host nothing. Returns whether
    `step` ran to the end, so the app can skip what needs the store and serve the rest."""
    try:
        step()
    except STORE_FAILURES as exc:
        st.error(str(store_error(exc, database_url())), icon=":material/database:")
        return False
    return True


# -- messages about the link ----------------------------------------------------------------
def safe(text: object, limit: int = 60) -> str:
    """A value from the URL, a feed, a file or the store, for any Streamlit sink that renders
    Markdown (markdown, captions, alerts, help): cut short, shown literally (`escape.md`)."""
    return escape.md(text, limit)


def plain(format_func: Callable[[str], str]) -> Callable[[str], str]:
    """`format_func` for widgets that show options as text: invisible characters removed."""
    return lambda option: escape.plain(format_func(option), 200)


def link_column(df: pd.DataFrame, column: str = "source_url") -> pd.DataFrame:
    """A frame whose link column holds only http(s) URLs without credentials (`escape.link`):
    a stored `javascript:` or `user:password@` link is never clickable or shown."""
    if column not in df or df.empty:
        return df
    links = {u: escape.link(u) for u in pd.unique(df[column])}
    return df.assign(**{column: df[column].map(links)})


def link_problem(message: str) -> None:
    st.session_state.setdefault("_link_problems", []).append(message)


def show_link_problems() -> None:
    for message in dict.fromkeys(st.session_state.pop("_link_problems", [])):
        st.warning(message, icon="⚠️")


def suggest(value: str, options: Sequence[str]) -> str:
    found = process.extractOne(str(value), list(options), score_cutoff=60) if options else None
    return f" Did you mean “{safe(found[0], 120)}”?" if found else ""


# -- URL-backed widgets ---------------------------------------------------------------------
def _from_url(param: str) -> str | None:
    """The link's value for `param`. A parameter given twice with different values
    (`metric=a&metric=b`) is said on the page, and the first is used (Streamlit's own
    `get` would silently keep the last)."""
    values = list(dict.fromkeys(str(v) for v in st.query_params.get_all(param)))
    if len(values) > 1:
        shown = ", ".join(f"“{safe(v)}”" for v in values[:5])
        link_problem(
            f"The link sets {safe(param)} {len(values)} times ({shown}); using the first, "
            f"“{safe(values[0])}”."
        )
    return values[0] if values else None


def url_select(
    label: str,
    options: Sequence[str],
    param: str,
    default: str | None = None,
    *,
    format_func: Callable[[str], str] = str,
    widget=None,
    what: str = "value",
    **kwargs,
) -> str | None:
    """A selectbox (or radio/select_slider via `widget`) whose value lives in the URL."""
    options = list(options)
    if not options:
        st.query_params.pop(param, None)
        return None
    key = f"url_{param}"
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    if key not in st.session_state:
        wanted = _from_url(param)
        if wanted is not None and wanted not in options:
            link_problem(
                f"The link asks for {what} “{safe(wanted)}”, which is not available "
                f"here.{suggest(wanted, options)} Showing "
                f"“{safe(format_func(default or options[0]), 120)}” instead."
            )
            wanted = None
        st.session_state[key] = (
            wanted if wanted is not None else (default if default in options else options[0])
        )
    # options are shown as text by selectbox and select_slider, as Markdown by radio
    shown = (lambda o: safe(format_func(o), 200)) if widget is st.radio else plain(format_func)
    value = (widget or st.selectbox)(label, options, key=key, format_func=shown, **kwargs)
    st.query_params[param] = value
    return value


def url_text(param: str, default: str) -> str:
    """A text input's first value: the URL's (cut short), else `default`."""
    raw = _from_url(param)
    return default if raw is None else escape.plain(raw, 60)


def url_toggle(label: str, param: str, default: bool = False, **kwargs) -> bool:
    key = f"url_{param}"
    if key not in st.session_state:
        raw = _from_url(param)
        if raw is not None and raw not in ("0", "1", "true", "false"):
            link_problem(f"The link sets {param} to “{safe(raw)}”; use 1 or 0.")
            raw = None
        st.session_state[key] = default if raw is None else raw in ("1", "true")
    value = st.toggle(label, key=key, **kwargs)
    st.query_params[param] = "1" if value else "0"
    return value


def selected_cities() -> list[str]:
    """The sidebar's city picker (shared by every page); returns place ids."""
    cities = city_table(database_url())
    names = cities["name"].tolist()
    by_name = {n.casefold(): n for n in names}
    by_id = dict(zip(cities["geonames_id"].astype("Int64").astype(str), names, strict=True))
    key = "url_cities"
    if key not in st.session_state:
        # `cities=A,B`, `cities=A&cities=B` or both: every city named is chosen
        raw = ",".join(str(v) for v in st.query_params.get_all("cities"))
        chosen: list[str] = []
        if raw:
            for item in [x.strip() for x in raw.split(",") if x.strip()][:20]:
                name = by_name.get(item.casefold()) or by_id.get(item)
                if name:
                    chosen.append(name)
                else:
                    link_problem(
                        f"Unknown city “{safe(item)}” in the link: no figures are "
                        f"stored for it.{suggest(item, names)}"
                    )
        st.session_state[key] = (
            list(dict.fromkeys(chosen)) or [c for c in DEFAULT_CITIES if c in names] or names[:2]
        )
    picked = st.sidebar.multiselect(
        "Cities",
        names,
        key=key,
        help="Cities with stored figures, then the governorates and districts holding figures "
        "no city holds (e.g. a village's). Shared by every page.",
    )
    st.query_params["cities"] = ",".join(picked)
    ids = dict(zip(cities["name"], cities["place_id"], strict=True))
    return [ids[n] for n in picked]


def metric_select(metrics: Sequence[str]) -> str:
    """The metric picker the chart pages share (URL parameter `metric`), in vocabulary order,
    food prices first when there are any."""
    order = list(METRICS)
    ordered = sorted(metrics, key=lambda m: order.index(m) if m in order else len(order))
    default = "food_price" if "food_price" in ordered else ordered[0]
    return url_select("Metric", ordered, "metric", default, format_func=metric_label, what="metric")


def metric_label(metric: str) -> str:
    return METRICS[metric].label if metric in METRICS else metric


def attribution(sources: Sequence[str]) -> None:
    """The "Sources:" caption: each source's attribution line from the registry (an imported
    file's source, which has none, by its name)."""
    licences = export.licences()
    lines = [safe(licences.get(s, s), 200) for s in dict.fromkeys(sources)]
    if lines:
        st.caption(
            "Sources: " + " · ".join(lines) + ". Full provenance on the Data page and in "
            "data_sources/snapshot/SOURCES.md."
        )
