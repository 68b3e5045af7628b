"""`python -m data_sources refresh` as a user runs it: a real process against the replay server,
its summary table and exit status, and a kill at the worst moment losing nothing. Every test
runs on SQLite and on PostgreSQL (the `store_url` fixture)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

from data_sources.store import query
from data_sources.store.engine import make_engine
from data_sources.store.tables import fetch_log, observations, series
from tests import cli as tests_cli
from tests.test_feeds import fingerprint

ROOT = Path(__file__).resolve().parents[1]


def cli(url: str, *args: str) -> subprocess.Popen:
    """`python -m data_sources refresh ARGS`, with a 2 s lease (a killed run's lapses soon)."""
    return tests_cli.start(url, "refresh", *args, REFRESH_LOCK_LEASE="2")


def test_one_failing_source_does_not_stop_the_others(feeds, store_url):
    feeds.fault("/v3/displacement/admin2", "503", times=-1, arg=0)
    proc = cli(store_url, "--source", "unhcr", "dtm", "--country", "SYR", "--city", "Aleppo")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    table = out + err
    unhcr_line = next(line for line in table.splitlines() if "│ unhcr" in line)
    assert "│ ok " in unhcr_line and "│     223 │ 223 │" in unhcr_line  # fetched, new
    dtm_line = next(line for line in table.splitlines() if "│ dtm" in line)
    assert "failed" in dtm_line and "HTTP 503 after" in table
    for secret in ("dtm-secret-key-123",):
        assert secret not in table
    engine = make_engine(store_url)
    with engine.connect() as conn:  # plain SQL: the same on both backends
        held = conn.execute(
            sa.select(observations.c.period_end)
            .join(series, series.c.series_id == observations.c.series_id)
            .where(
                series.c.place_id == "country:SYR",
                series.c.metric == "refugees_from",
                series.c.qualifier == "",
            )
        ).all()
    assert len(held) == 2  # 2016 and 2017 landed although DTM failed
    fresh = query.freshness(engine).set_index("source")
    assert fresh.loc["dtm", "last_status"] == "failed"
    assert "HTTP 503" in fresh.loc["dtm", "last_error"]


def test_unknown_source_and_bad_date_are_clear_errors(feeds, store_url):
    proc = cli(store_url, "--source", "twitter")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown source twitter; known: hapi, dtm" in err
    proc = cli(store_url, "--since", "last tuesday")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "Invalid isoformat string: 'last tuesday'" in err


def test_killed_refresh_leaves_the_store_as_it_was(feeds, store_url):
    first = cli(store_url, "--source", "ucdp", "--country", "BGD")
    first.communicate(timeout=120)
    assert first.returncode == 0
    engine = make_engine(store_url)
    before = fingerprint(engine)
    # every value changes on the next refresh: a partial write would show as a mix
    feeds.fault("/api/gedevents/25.1", "change_value", times=-1, arg=("best", 3))

    proc = cli(store_url, "--source", "ucdp", "--country", "BGD")
    deadline = time.time() + 600  # only against a hang: a loaded machine took > 60 s to start
    running = 0
    while time.time() < deadline and proc.poll() is None:  # wait until it is storing
        with engine.connect() as conn:
            running = conn.execute(
                sa.select(sa.func.count())
                .select_from(fetch_log)
                .where(fetch_log.c.status == "running")
            ).scalar()
        if running:
            break
        time.sleep(0.01)
    assert running and proc.poll() is None, "the refresh finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert fingerprint(engine) == before

    # the killed run's lease (REFRESH_LOCK_LEASE, 2 s here) lapses: the next run takes over
    again = cli(store_url, "--source", "ucdp", "--country", "BGD", "--wait", "20")
    again.communicate(timeout=120)
    assert again.returncode == 0
    log = query.fetches(engine)
    interrupted = log[log.error.str.startswith("interrupted", na=False)]
    assert len(interrupted) == 1 and interrupted.status.iloc[0] == "failed"
    assert fingerprint(engine) != before  # the full new revision set landed this time
    feeds.clear()
