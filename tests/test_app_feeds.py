"""The dashboard with live feeds (AppTest against the replay server): freshness badges say which
source is failing and why, the pages keep showing the last good figures, and "Refresh now" on
the Data page runs a refresh and shows its outcome."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_sources.feeds.connectors import Scope
from data_sources.feeds.refresh import RefreshJob, refresh
from data_sources.store import lock, query
from data_sources.store.engine import make_engine
from tests.apptest import open_page, prepare


@pytest.fixture
def store(loaded_url, monkeypatch):
    """The app's store (a private copy of the loaded snapshot, on each backend)."""
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    engine = make_engine(loaded_url)
    yield engine
    engine.dispose()


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_failing_feed_is_named_with_its_error_and_old_figures_stay(feeds, store):
    before = query.latest(store, ["country:SYR"])
    feeds.fault("/population/v1/population/", "503", times=-1, arg=0)
    report = refresh(store, ["unhcr"], Scope(["SYR"]))[0]
    assert report.status == "failed"
    at = open_page("views/data.py")
    assert not at.exception
    text = markdown(at)
    line = next(ln for ln in text.splitlines() if "UNHCR refugee statistics" in ln)
    assert ":red-badge[failing]" in line and "HTTP 503 after" in line
    assert "showing the load of 2026" in line.replace("\\", "")
    overview = open_page("views/overview.py")
    assert not overview.exception
    assert ":red-badge[failing]" in markdown(overview)
    after = query.latest(store, ["country:SYR"])
    pd.testing.assert_frame_equal(before, after)  # the last good figures are still served


def test_unconfigured_feed_says_which_setting_it_needs(feeds, store, monkeypatch):
    monkeypatch.delenv("ACLED_PASSWORD")
    at = open_page("views/data.py")
    line = next(ln for ln in markdown(at).splitlines() if "**ACLED**" in ln)
    assert ":gray-badge[not configured]" in line and "ACLED\\_PASSWORD" in line


def click_refresh(at: AppTest, sources: list[str]) -> AppTest:
    feeds_box = next(m for m in at.multiselect if m.label == "Feeds")
    feeds_box.set_value(sources)
    next(b for b in at.button if b.label == "Refresh now").click()
    return at.run()


def refresh_threads() -> list[threading.Thread]:
    """The page's refresh runs in this process (AppTest runs the script here): its thread."""
    return [t for t in threading.enumerate() if t.name == "refresh"]


def wait_for_end(at: AppTest) -> str:
    """The refresh's end is an event (its thread ends), then one rerun shows the outcome; no
    polling of the whole page against a clock (a loaded machine draws it in ~20 s)."""
    for thread in refresh_threads():
        thread.join(300)
        assert not thread.is_alive(), "the refresh did not finish in 300 s"
    at.run()
    done = [w.value for w in [*at.success, *at.warning] if "Refresh finished" in w.value]
    assert done, [w.value for w in [*at.success, *at.warning, *at.error]]
    return done[0]


def test_refresh_now_runs_and_reports(feeds, store):
    at = open_page("views/data.py")
    # the chosen cities (Aleppo, Mosul by default) give the countries: no list of one's own
    caption = "\n".join(c.value.replace("\\", "") for c in at.caption)  # as Markdown shows it
    assert "incremental refresh (new and recently revised periods) of SYR, IRQ" in caption
    message = wait_for_end(click_refresh(at, ["fts", "dtm"]))
    # FTS's recorded location list has neither Iraq nor Syria: a clear failure, DTM lands
    assert "failed: fts" in message
    fts_error = query.freshness(store).set_index("source").loc["fts", "last_error"]
    assert "FTS lists no location with ISO3" in fts_error
    # the summary links to what the refresh changed: DTM's figures, all new
    import re
    from urllib.parse import parse_qs, unquote, urlparse

    from data_sources.store import asof, changes

    link = re.search(r"\[What this refresh changed\]\(([^)]+)\)", markdown(at))
    assert link, markdown(at)
    target = urlparse(link.group(1))
    assert target.path == "data" and target.fragment == "what-changed"
    since = asof.parse_as_of(unquote(parse_qs(target.query)["since"][0]))
    found = changes.changes(store, since)
    assert not found.empty and set(found.source) == {"dtm"} and set(found.change) == {"added"}
    listed = open_page("views/data.py", since=asof.format_as_of(since))
    table = next(d.value for d in listed.dataframe if "change" in d.value.columns)
    assert len(table) == len(found) and set(table.source) == {"dtm"}


def test_page_never_offers_a_full_refresh_nor_countries_nor_dates(feeds, store):
    at = open_page("views/data.py")
    assert not at.exception
    # no country list, no since-date for a refresh (the window of "What changed" is not one)
    window = {"changes_since", "changes_until"}
    assert not [t for t in at.text_input if t.key not in window] and not at.date_input
    assert {t.key for t in at.text_input} == window
    labels = [w.label for w in [*at.checkbox, *at.toggle, *at.radio, *at.selectbox]]
    assert not [x for x in labels if "full" in x.lower() or "since" in x.lower()]
    assert "--full" in "\n".join(c.value for c in at.caption)  # said where history comes from


def test_cooldown_refuses_a_second_page_refresh(feeds, store):
    at = open_page("views/data.py")
    first = wait_for_end(click_refresh(at, ["unhcr"]))
    assert "Refresh finished" in first
    before = len(feeds.log)
    at = click_refresh(at.run(), ["unhcr"])
    refused = [w.value for w in at.warning if "Refresh refused" in w.value]
    assert refused and "the next is possible at" in refused[0], [w.value for w in at.warning]
    assert "REFRESH\\_COOLDOWN" in refused[0]
    assert not refresh_threads() and len(feeds.log) == before  # no run: nothing asked
    # the cooldown is in the store: another server (or this one restarted) sees it too
    assert lock.cooldown(store) is not None


def test_cooldown_started_by_another_server_holds_here(feeds, store):
    lock.claim_cooldown(store, "other-host:1:abcd", "sources unhcr for SYR", 600)
    at = open_page("views/data.py")
    assert "the next is possible at" in "\n".join(c.value for c in at.caption)
    at = click_refresh(at, ["unhcr"])
    assert [w.value for w in at.warning if "Refresh refused" in w.value]
    assert lock.current(store) is None and not feeds.log  # no run, no lock taken


def test_cooldown_setting_zero_turns_it_off(feeds, store, monkeypatch):
    monkeypatch.setenv("REFRESH_COOLDOWN", "0")
    at = open_page("views/data.py")
    wait_for_end(click_refresh(at, ["unhcr"]))
    assert lock.cooldown(store) is None
    at = click_refresh(at.run(), ["unhcr"])
    assert not [w.value for w in at.warning if "Refresh refused" in w.value]
    wait_for_end(at)


def test_mistyped_cooldown_refuses_the_run_with_a_message(feeds, store, monkeypatch):
    monkeypatch.setenv("REFRESH_COOLDOWN", "ten minutes")
    at = click_refresh(open_page("views/data.py"), ["unhcr"])
    assert not at.exception
    errors = "\n".join(e.value for e in at.error).replace("\\", "")
    assert "REFRESH_COOLDOWN must be an interval like 10m" in errors
    assert lock.current(store) is None and not feeds.log


def test_cooldown_setting_reads_intervals(monkeypatch):
    for raw, seconds in [("10m", 600), ("1h", 3600), ("90", 90), ("0", 0)]:
        monkeypatch.setenv("REFRESH_COOLDOWN", raw)
        assert lock.cooldown_seconds() == seconds
    monkeypatch.delenv("REFRESH_COOLDOWN")
    monkeypatch.setenv("SITUATION_ROOM_SECRETS", "/nonexistent.toml")
    assert lock.cooldown_seconds() == 600


def test_refresh_job_keeps_progress_per_source(feeds, store):
    job = RefreshJob(store, ["unhcr", "fts"], Scope(["SYR"])).start()
    job.wait(60)
    assert not job.running
    assert job.state["unhcr"]["status"] == "ok" and job.state["unhcr"]["records"] == 235
    # the page's table says where every row went, as the command line does
    unhcr = next(r for r in job.reports if r.source == "unhcr")
    assert job.state["unhcr"]["rows"] == unhcr.balance()
    stored = unhcr.rows_new + unhcr.rows_revised + unhcr.rows_unchanged
    assert unhcr.balance().startswith(f"{unhcr.rows_in:,} rows in = {stored:,} stored")
    assert unhcr.rows_in == unhcr.rows_accounted and stored > 0
    assert job.state["fts"]["status"] == "failed"  # FTS lists no Syria in the recorded file
    assert "FTS lists no location with ISO3 SYR" in job.state["fts"]["error"]


# -- roles on the page (AppTest, both backends; the real sign-in is in test_browser_signin) ---
def signed_in_page(monkeypatch, page: str, user: dict) -> AppTest:
    from views import access

    monkeypatch.setattr(access, "auth_configured", lambda: True)
    monkeypatch.setenv("EDITORS", "ed@example.org")
    monkeypatch.setenv("VIEWERS", "@partner.example")
    at = prepare(page)
    at.user = user
    return at.run()


def test_signed_in_editor_is_offered_refresh(feeds, store, monkeypatch):
    at = signed_in_page(
        monkeypatch,
        "views/data.py",
        {"is_logged_in": True, "email": "ED@example.org", "email_verified": True},
    )
    assert not at.exception
    assert [b for b in at.button if b.label == "Refresh now"]
    assert "Signed in as ED@example.org (editor)" in [t.value for t in at.sidebar.text]


def test_signed_in_viewer_has_no_refresh(feeds, store, monkeypatch):
    at = signed_in_page(
        monkeypatch,
        "views/data.py",
        {"is_logged_in": True, "email": "v@partner.example", "email_verified": True},
    )
    assert not at.exception and at.title[0].value == "Data"
    assert not [b for b in at.button if b.label == "Refresh now"]
    assert "is for the dashboard's editors" in "\n".join(c.value for c in at.caption)
    assert [b for b in at.sidebar.button if b.label == "Sign out"]


@pytest.mark.parametrize(
    "user",
    [
        {"is_logged_in": False},
        {"is_logged_in": True, "email": "eve@elsewhere.example", "email_verified": True},
    ],
)
def test_anonymous_or_refused_get_no_data_page(feeds, store, monkeypatch, user):
    at = signed_in_page(monkeypatch, "views/data.py", user)
    assert not at.exception
    assert at.title[0].value.startswith("Situation Room — ")
    assert not at.dataframe and not [b for b in at.button if b.label == "Refresh now"]
