"""The Data page's "Refresh now" control: starts a background refresh and shows its progress.

One refresh runs at a time across every process sharing the store (the lock row in `locks`,
also taken by the CLI and the scheduled worker): while another process holds it, the panel says
who started what and when instead of offering the button. A refresh writes in its own
transactions while every page keeps reading the last good figures; when it ends, the cached
queries are cleared so the new figures show, and a failed source keeps its previous figures with
its error shown in its badge.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from data_sources import lock
from data_sources.connectors import CONNECTORS
from data_sources.http import redact
from data_sources.refresh import RefreshJob, configured_sources, default_scope
from views import common


@st.cache_resource
def _jobs() -> dict:
    """Process-wide: the current or last refresh, shared by every session."""
    return {"job": None, "seen": None}


def _progress_table(job: RefreshJob) -> pd.DataFrame:
    return pd.DataFrame(
        [{"source": s, **{k: v for k, v in state.items()}} for s, state in job.state.items()]
    )


def show(url: str, engine) -> None:
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
    with st.form("refresh_form"):
        st.markdown(
            "**Refresh from the live feeds** — keys come from environment variables or "
            "`.streamlit/secrets.toml`; feeds without their key are listed above."
        )
        c1, c2, c3 = st.columns([2, 1, 1])
        sources = c1.multiselect(
            "Feeds", list(CONNECTORS), default=ready, format_func=lambda n: CONNECTORS[n].title
        )
        countries = c2.text_input(
            "Countries (ISO3)", value="", placeholder="from the chosen cities"
        )
        since = c3.date_input("Since", value=None, min_value=date(1989, 1, 1))
        submitted = st.form_submit_button("Refresh now", disabled=running, type="primary")
    if submitted and not running:
        try:
            chosen = [c.strip().upper() for c in countries.split(",") if c.strip()]
            bad = [c for c in chosen if len(c) != 3 or not c.isalpha()]
            if bad:
                raise ValueError(f"not an ISO3 country code: {bad[0][:20]}")
            if not sources:
                raise ValueError("choose at least one feed")
            scope = default_scope(chosen or None, st.session_state.get("url_cities") or None, since)
        except ValueError as exc:
            st.error(common.safe(str(exc), 300))
        else:
            try:
                jobs["job"] = job = RefreshJob(engine, sources, scope).start()
                running = True
            except lock.LockHeld:  # another process took it since the page was drawn
                _elsewhere(engine)
    if job is not None:
        _live(job, jobs)


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
