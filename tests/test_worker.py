"""The scheduled, incremental refresh with one run at a time across processes (issue 9, item 4).

Real `python -m data_sources refresh` processes against the replay server and a real store
(SQLite file and PostgreSQL server: the store fixtures run each test on both). Behaviour is
asserted where it shows: requests counted at the server, rows in the store, the lock row.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_sources.feeds.connectors import Scope
from data_sources.feeds.refresh import refresh
from data_sources.store import lock, query
from data_sources.store.engine import make_engine
from data_sources.store.tables import fetch_log, locks, observations
from devtools.replay_server import replay_scopes
from tests import cli

from .conftest import ROOT

pytestmark = pytest.mark.slow  # minutes on 2 cores: in `make test`, not `make test-fast`

UCDP = "/api/gedevents/25.1"
UNHCR = "/population/v1/population/"
ROUTES = {  # the data routes of each feed (tokens and lookups not counted as data)
    "hapi": "/api/v2/",
    "dtm": "/v3/displacement/",
    "wfp": "/api/3/action/package_show|/dataset/",
    "ucdp": UCDP,
    "acled": "/api/acled/read",
    "reliefweb": "/v2/reports",
    "unhcr": UNHCR,
    "fts": "/v1/",
    "hxl": "/files/aleppo_prices.csv",
}


def start(url: str, *args: str, **env: str) -> subprocess.Popen:
    """`python -m data_sources refresh ARGS` on the store at `url`, as a host runs it."""
    return cli.start(url, "refresh", *args, **env)


def rows(engine, table: sa.Table, **where: str) -> list:
    q = sa.select(table)
    for col, value in where.items():
        q = q.where(table.c[col] == value)
    with engine.connect() as conn:
        return conn.execute(q).all()


def count_observations(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar()


def requests_of(server, feed: str) -> list:
    prefixes = ROUTES[feed].split("|")
    return [r for r in server.log if r.path.startswith(tuple(prefixes))]


@pytest.fixture
def engine(store_url):
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def test_two_workers_at_once_run_one_refresh(feeds, engine, store_url):
    """Two scheduled workers start together: one refreshes, the other finds the lock held
    and skips its run (status 0); the feed is asked once and nothing is stored twice."""
    feeds.fault(UCDP, "delay", times=-1, arg=1.5)  # 7 pages: the run lasts about 10 s
    env = {"UCDP_PAGE_SIZE": "100", "HTTP_READ_TIMEOUT": "10"}
    args = ("--source", "ucdp", "--country", "BGD", "--every", "1h", "--max-runs", "1")
    procs = [start(store_url, *args, **env), start(store_url, *args, **env)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    stdout = [o for o, _ in outs]
    ran = [o for o in stdout if "summary: ucdp ok" in o]
    skipped = [o for o in stdout if "skipped: a refresh started elsewhere at" in o]
    assert len(ran) == 1 and len(skipped) == 1, stdout
    assert "is running: sources ucdp for BGD" in skipped[0]
    assert len(feeds.requests_to(UCDP)) == 7  # one run's pages, not two
    log = rows(engine, fetch_log, source="ucdp")
    assert len(log) == 1 and log[0].status == "ok"
    assert count_observations(engine) == log[0].rows_new > 0
    assert lock.current(engine) is None  # released at the end


def test_one_shot_refresh_waits_for_the_running_one(feeds, engine, store_url):
    """A CLI refresh started while another runs waits (--wait) and then runs after it, never
    beside it; its figures are not stored a second time. Without --wait it exits 3."""
    feeds.fault(UCDP, "delay", times=-1, arg=3.0)  # 7 pages, 21 s: time to start two more
    feeds.honour_dates = True
    env = {"UCDP_PAGE_SIZE": "100", "HTTP_READ_TIMEOUT": "10"}
    first = start(store_url, "--source", "ucdp", "--country", "BGD", **env)
    deadline = time.time() + 60
    while lock.current(engine) is None and time.time() < deadline:
        time.sleep(0.05)
    held = lock.current(engine)
    assert held is not None and f":{first.pid}:" in held.holder
    busy = start(store_url, "--source", "ucdp", "--country", "BGD", **env)
    out, err = busy.communicate(timeout=60)
    assert first.poll() is None, "the first refresh ended before the second was up: too slow"
    assert busy.returncode == 3 and "skipped: a refresh started elsewhere" in out, (out, err)
    waiter = start(store_url, "--source", "ucdp", "--country", "BGD", "--wait", "120", **env)
    first.communicate(timeout=120)
    out, err = waiter.communicate(timeout=120)
    assert first.returncode == 0 and waiter.returncode == 0, err
    log = sorted(rows(engine, fetch_log, source="ucdp"), key=lambda r: r.fetch_id)
    assert [r.status for r in log] == ["ok", "ok"]
    assert log[1].started_at >= log[0].finished_at  # one after the other
    assert log[1].rows_new == 0 and count_observations(engine) == log[0].rows_new
    # the waiter's requests came after the first run's last one, and were incremental
    first_run, second_run = [], []
    for req in feeds.requests_to(UCDP):
        (second_run if req.query.get("StartDate", "1989") > "1989-01-01" else first_run).append(req)
    assert len(first_run) == 7 and second_run
    assert min(r.at for r in second_run) > max(r.at for r in first_run)


def test_a_killed_refresh_frees_the_lock_at_once_and_the_next_run_takes_over(
    feeds, engine, store_url
):
    """issue 19: a `kill -9`'d refresh of this host is known dead (its pid is gone), so the
    next run takes over at once rather than after the lease (120 s by default)."""
    feeds.fault(UCDP, "delay", times=-1, arg=0.5)
    env = {"UCDP_PAGE_SIZE": "100", "HTTP_READ_TIMEOUT": "10", "REFRESH_LOCK_LEASE": "120"}
    proc = start(store_url, "--source", "ucdp", "--country", "BGD", **env)
    deadline = time.time() + 120
    while (held := lock.current(engine)) is None and proc.poll() is None:
        assert time.time() < deadline, "the refresh never took the lock"
        time.sleep(0.05)  # polled: the event is the lease row appearing
    assert held is not None and f":{proc.pid}:" in held.holder and proc.poll() is None
    assert not lock.DbLock(engine).try_acquire()  # alive: nobody else may start
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    # the dead holder's row is still there, its lease 2 minutes from over, yet the lock is free
    assert len(rows(engine, locks)) == 1 and held.expires_at > lock._now()
    assert lock.current(engine) is None
    feeds.clear()
    again = start(store_url, "--source", "ucdp", "--country", "BGD", **env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "summary: ucdp ok" in out and "asked BGD full" in out  # nothing was stored before
    assert len(rows(engine, fetch_log, source="ucdp", status="ok")) == 1
    assert rows(engine, locks) == []  # released by the run that took over


def _params(feed: str, req) -> str:
    """The since/date parameter a feed's request carried, as the report shows it."""
    if feed == "reliefweb":
        body = json.loads(req.body)
        cond = body["filter"]["conditions"][0]
        return f"date.created from {cond['value']['from'][:10]}"
    keys = {
        "hapi": "start_date",
        "dtm": "FromReportingDate",
        "ucdp": "StartDate",
        "acled": "event_date",
        "unhcr": "yearFrom",
        "fts": "year",
    }
    key = keys.get(feed)
    if key is None:
        return "if-none-match" if req.headers.get("if-none-match") else "-"
    return f"{key}={req.query.get(key, '(none)')}"


@pytest.mark.parametrize("feed", list(ROUTES))
def test_second_scheduled_run_asks_only_for_new_periods(feeds, engine, feed, monkeypatch):
    """First refresh on an empty store: the whole history. Second: per country, from the
    newest stored period minus REFRESH_OVERLAP_DAYS, counted at the server."""
    from data_sources import settings

    monkeypatch.setenv("UCDP_PAGE_SIZE", "100")
    monkeypatch.setenv("REFRESH_OVERLAP_DAYS", "90")
    settings.reload()
    feeds.honour_dates = True
    scope = replay_scopes()[feed]
    if feed == "fts":  # the replay server holds Jordan's 2020 only: the first run asks for it
        first_scope, scope = scope, Scope(scope.countries, until=scope.until)
    else:
        first_scope = scope
    first = refresh(engine, [feed], first_scope)[0]
    assert first.status == "ok", first.error
    first_requests = requests_of(feeds, feed)
    newest = query.newest_periods(engine, feed)
    feeds.log.clear()
    second = refresh(engine, [feed], scope)[0]
    assert second.status == "ok", second.error
    second_requests = requests_of(feeds, feed)
    country = scope.countries[0]
    if feed == "hxl":  # a sheet's rows are stored under its own source (here wfp): no newest
        assert newest == {}  # period of "hxl" to start from; the whole file, revalidated
        assert second.pages_not_modified == len(second_requests) == len(first_requests) == 1
        assert second.rows_in == first.rows_in and second.rows_new == 0
        print(
            f"REQUESTS hxl: first 1, incremental 1 (If-None-Match, 304); records "
            f"{first.rows_in} -> {second.rows_in}"
        )
        return
    since = newest[country] - timedelta(days=90)
    asked = [_params(feed, r) for r in second_requests]
    expected = {
        "hapi": f"start_date={since}",
        "dtm": f"FromReportingDate={since}",
        "ucdp": f"StartDate={since}",
        "acled": f"event_date={since}|2100-01-01",
        "reliefweb": f"date.created from {since}",
        "unhcr": f"yearFrom={since.year}",
        "fts": f"year={since.year}",
    }
    if feed == "hapi":  # baseline population is undated: asked for whole at admin 2 and 0
        assert asked.count("start_date=(none)") == 2
        assert all(a == expected[feed] for a in asked if a != "start_date=(none)")
    elif feed == "fts":
        assert asked[1:] == [expected[feed]] and second_requests[0].path == "/v1/public/location"
    elif feed in expected:
        assert set(asked) == {expected[feed]}, asked
    else:  # whole files: the same requests, revalidated, and rows filtered on our side
        assert second.pages_not_modified == len(second_requests) == len(first_requests)
        assert second.rows_in < first.rows_in or since <= date(2017, 1, 1)
    assert second.rows_new == 0  # nothing new in the replayed data; nothing stored twice
    if feed == "ucdp":
        assert len(second_requests) < len(first_requests)
    report = (
        f"REQUESTS {feed}: first {len(first_requests)} "
        f"({', '.join(sorted({_params(feed, r) for r in first_requests}))}), "
        f"incremental {len(second_requests)} ({', '.join(sorted(set(asked)))}); records "
        f"{first.rows_in} -> {second.rows_in}; 304s {second.pages_not_modified}"
    )
    print(report)


def test_explicit_refresh_within_the_cache_ttl_revalidates(feeds, engine, store_url):
    """Within HTTP_CACHE_TTL an explicit refresh still asks the server, conditionally: 304s
    are reported as unchanged pages, in the summary and in fetch_log."""
    env = {"HTTP_CACHE_TTL": "900"}
    args = ("--source", "unhcr", "wfp", "--country", "SYR", "--since", "2016-01-01")
    for _ in range(2):
        proc = start(store_url, *args, **env)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    second = [r for r in feeds.log if r.headers.get("if-none-match")]
    assert len(feeds.requests_to(UNHCR)) == 2  # asked again, not replayed from the cache
    assert {r.path for r in second} == {
        UNHCR,
        "/api/3/action/package_show",
        "/dataset/x/resource/y/download/wfp_food_prices_syr.csv",
    }
    assert "unhcr ok 0 new, 0 pages new, 1 unchanged (304), 0 cached" in out
    assert "wfp ok 0 new, 0 pages new, 2 unchanged (304), 0 cached" in out
    log = sorted(rows(engine, fetch_log, source="unhcr"), key=lambda r: r.fetch_id)
    assert [(r.pages, r.pages_not_modified, r.pages_cached) for r in log] == [(1, 0, 0), (1, 1, 0)]


def test_every_runs_on_schedule_and_ends_on_sigterm(feeds, engine, store_url):
    proc = start(store_url, "--source", "unhcr", "--country", "SYR", "--every", "1s")
    deadline = time.time() + 90
    while time.time() < deadline and len(rows(engine, fetch_log, source="unhcr")) < 2:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    assert len(rows(engine, fetch_log, source="unhcr")) >= 2
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "worker: refreshing every 1s" in out and "run 2 starting at" in out
    assert "received SIGTERM" in err and "worker: stopped after" in out
    assert len(feeds.requests_to(UNHCR)) >= 2
    assert rows(engine, locks) == []


def test_sigterm_during_a_run_stops_it_cleanly(feeds, engine, store_url):
    """SIGTERM while the worker is fetching: it stops between pages, stores nothing half-way,
    releases the lock and exits 0."""
    feeds.fault(UCDP, "delay", times=-1, arg=1.0)
    env = {"UCDP_PAGE_SIZE": "100", "HTTP_READ_TIMEOUT": "10"}
    proc = start(store_url, "--source", "ucdp", "--country", "BGD", "--every", "1h", **env)
    deadline = time.time() + 60
    while not feeds.requests_to(UCDP) and time.time() < deadline:
        time.sleep(0.05)
    assert lock.current(engine) is not None
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "received SIGTERM" in err and "ucdp skipped" in out and "stopped after 1 run" in out
    assert len(feeds.requests_to(UCDP)) < 7  # it did not go on fetching
    assert count_observations(engine) == 0 and rows(engine, fetch_log) == []
    assert rows(engine, locks) == []


def test_every_rejects_a_bad_interval(feeds, store_url):
    proc = start(store_url, "--every", "often")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "not an interval like 6h" in err


def hold_lock_elsewhere(engine) -> None:
    """A live lock row as a worker on another host writes it."""
    now = lock._now()
    with engine.begin() as conn:
        conn.execute(
            locks.insert().values(
                name="refresh",
                holder="worker-host:4242:abcd1234",
                acquired_at=now - timedelta(minutes=3),
                expires_at=now + timedelta(minutes=2),
                detail="sources ucdp, acled for IRQ",
            )
        )


def assert_shows_the_other_run(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    info = "\n".join(i.value for i in at.info).replace("\\", "")  # markdown escapes
    assert "a refresh started elsewhere at" in info and "by worker-host:4242:abcd1234" in info
    assert "is running: sources ucdp, acled for IRQ" in info
    assert not [b for b in at.button if b.label == "Refresh now"]


def test_refresh_now_shows_a_run_held_by_another_process(feeds, loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    engine = make_engine(loaded_url)
    hold_lock_elsewhere(engine)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(str(ROOT / "views/data.py"))
    assert_shows_the_other_run(at.run())
    engine.dispose()


def _panel_page(url: str) -> None:
    from data_sources.store.engine import make_engine
    from views import refresh_panel

    refresh_panel.show(url, make_engine(url))


def test_refresh_panel_shows_the_other_run_then_its_button_when_it_ends(feeds, store_url):
    engine = make_engine(store_url)
    hold_lock_elsewhere(engine)
    at = AppTest.from_function(_panel_page, args=(store_url,), default_timeout=60)
    assert_shows_the_other_run(at.run())
    with engine.begin() as conn:  # the other run ends
        conn.execute(locks.delete())
    at.run()
    assert not at.exception and not at.info
    assert [b for b in at.button if b.label == "Refresh now"]
    engine.dispose()
