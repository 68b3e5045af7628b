"""The Data page's "Refresh now" control: starts a background refresh and shows its progress.

One refresh runs at a time across every process sharing the store (the lock row in `locks`,
also taken by the CLI and the scheduled worker): while another process holds it, the panel says
who started what and when instead of offering the button.

Bounded whoever asks: only editors once sign-in is configured (views/access.py); an incremental
refresh of the chosen cities' countries only (history back to 1989, or other countries, from the
command line); at most one page-started run per REFRESH_COOLDOWN (10 minutes by default),
recorded in the store's `locks` table so every server and restart sees it.

A refresh writes in its own transactions while every page keeps reading the last good figures;
when it ends, the cached queries are cleared so the new figures show, and a failed source keeps
its previous figures with its error shown in its badge.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_sources.feeds.connectors import CONNECTORS
from data_sources.feeds.refresh import RefreshJob, configured_sources, default_scope, describe_run
from data_sources.redact import redact
from data_sources.store import lock
from views import access, common
from views.cached import city_table


@st.cache_resource
def _jobs() -> dict:
    """Process-wide: the current or last refresh, shared by every session."""
    return {"job": None, "seen": None}


def _progress_table(job: RefreshJob) -> pd.DataFrame:
    return pd.DataFrame(
        [{"source": s, **{k: v for k, v in state.items()}} for s, state in job.state.items()]
    )


def show(url: str, engine) -> None:
    if not access.may_refresh():
        st.caption(
            "Refreshing from the live feeds is for the dashboard's editors; the figures above "
            "are kept fresh by its scheduled refresh."
        )
        return
    jobs = _jobs()
    job: RefreshJob | None = jobs["job"]
    running = job is not None and job.running
    held = lock.current(engine)
    if held is not None and not (running and held.holder == job.lock.holder):
        _elsewhere(engine)
        if job is not None:
            _live(job, jobs)
        return
    ready = configured_sources()
    try:
        cities = city_table(url)
        known = dict(zip(cities["name"], cities["country_iso3"], strict=True))
        scope = default_scope(None, st.session_state.get("cities") or None, known=known)
    except ValueError as exc:
        st.error(common.safe(str(exc), 200))
        return
    waiting = lock.cooldown(engine)
    with st.form("refresh_form"):
        st.markdown(
            "**Refresh from the live feeds** — keys come from environment variables or "
            "`.streamlit/secrets.toml`; feeds without their key are listed above."
        )
        sources = st.multiselect(
            "Feeds", list(CONNECTORS), default=ready, format_func=lambda n: CONNECTORS[n].title
        )
        st.caption(
            "An incremental refresh (new and recently revised periods) of "
            + common.safe(", ".join(scope.countries), 200)
            + ", the countries of the chosen cities. History back to 1989 and other countries: "
            "`python -m data_sources refresh --full --country …` on the command line."
        )
        submitted = st.form_submit_button("Refresh now", disabled=running, type="primary")
    if waiting is not None and not submitted:
        st.caption(_cooldown_text(waiting))
    if submitted and not running:
        if not sources:
            st.error("Choose at least one feed.")
        else:
            _start(engine, jobs, sources, scope)
            job = jobs["job"]
    if job is not None:
        _live(job, jobs)


def _cooldown_text(waiting: lock.LockInfo) -> str:
    left = max(0, int((waiting.expires_at - lock._now()).total_seconds()))
    return (
        "A refresh was started from the page at "
        + waiting.acquired_at.strftime("%H:%M:%S UTC")
        + "; the next is possible at "
        + waiting.expires_at.strftime("%H:%M:%S UTC")
        + f" (in {left // 60} min {left % 60:02d} s; REFRESH\\_COOLDOWN)."
    )


def changes_link(started: float) -> str:
    """The Data page's change list from the start of a refresh (a relative link keeping the
    page's other parameters)."""
    from datetime import UTC, datetime
    from urllib.parse import urlencode

    from data_sources.store.asof import format_as_of

    params = {k: st.query_params.get_all(k) for k in st.query_params if k not in ("since", "until")}
    params["since"] = [format_as_of(datetime.fromtimestamp(started, UTC))]
    return f"data?{urlencode(params, doseq=True)}#what-changed"


def _start(engine, jobs: dict, sources: list[str], scope) -> None:
    """Start a page refresh: first claim the cooldown (atomic, in the store, so it holds across
    every server and restart), then the refresh lock; give the cooldown back if another
    process holds the lock."""
    new = RefreshJob(engine, sources, scope)
    try:
        seconds = lock.cooldown_seconds()
    except ValueError as exc:  # a mistyped setting refuses the run rather than lifting the bound
        st.error(common.safe(str(exc), 200))
        return
    waiting = lock.claim_cooldown(engine, new.lock.holder, describe_run(sources, scope), seconds)
    if waiting is not None:
        st.warning("Refresh refused: " + _cooldown_text(waiting), icon=":material/schedule:")
        return
    try:
        jobs["job"] = new.start()
    except lock.LockHeld:  # another process took it since the page was drawn
        lock.drop_cooldown(engine, new.lock.holder)
        _elsewhere(engine)


def _elsewhere(engine) -> None:
    """A refresh another process (worker, CLI, another server) is running: say who, since
    when and what, and check again every few seconds until it ends."""

    @st.fragment(run_every=5.0)
    def waiting() -> None:
        now = lock.current(engine)
        if now is None:  # it ended: new figures and badges everywhere, and the button back
            st.cache_data.clear()
            st.rerun(scope="app")
        st.info(
            "Refresh now is unavailable: "
            + common.safe(now.describe(), 300)
            + ". *Refresh now* comes back when it ends; the pages keep showing the last good "
            "figures meanwhile."
        )

    waiting()


def _live(job: RefreshJob, jobs: dict) -> None:
    @st.fragment(run_every=1.0 if job.running else None)
    def panel() -> None:
        table = _progress_table(job)
        if job.running:
            done = sum(s["status"] in ("ok", "failed", "skipped") for s in job.state.values())
            st.progress(
                done / max(1, len(job.state)),
                text=f"Refreshing {common.safe(', '.join(job.scope.countries), 100)}: {done} of "
                f"{len(job.state)} feeds done. The pages keep showing the last good "
                "figures meanwhile.",
            )
        elif job.error:
            st.error(f"The refresh stopped: {common.safe(job.error, 300)}")
        else:
            failed = [s for s, v in job.state.items() if v["status"] == "failed"]
            notes = [f"{r.source}: {r.notes}" for r in job.reports if r.notes]
            (st.warning if failed else st.success)(
                f"Refresh finished in {job.finished - job.started:.1f} s"
                + (
                    f"; failed: {common.safe(', '.join(failed), 200)} (their previous figures are kept)"
                    if failed
                    else "."
                )
                + (" Notes: " + common.safe("; ".join(notes), 300) if notes else "")
            )
            st.markdown(f"[What this refresh changed]({changes_link(job.started)})")
        st.dataframe(
            table.map(lambda v: redact(v) if isinstance(v, str) else v),
            hide_index=True,
            width="stretch",
        )
        if not job.running and jobs["seen"] is not job:
            jobs["seen"] = job
            # no cache to clear: the refresh's loads moved the data version, which every
            # cached query is keyed by; this rerun (and every open tab's watcher) reads it
            st.rerun(scope="app")

    panel()
