"""A killed refresh's lease is released as soon as its process is known dead (issue 19, item 7).

A real process takes the refresh lock on a real store (SQLite and PostgreSQL) and says so on its
stdout once the lease row is committed; the test reads that line (the event), checks that the
lock is held, `kill -9`s the process, reaps it, and takes the lock at once: no waiting out the
120 s lease, no sleeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from data_sources.store import lock
from data_sources.store.lock import DbLock
from tests.conftest import ROOT

HOLD = """
import sys
from data_sources.store.engine import make_engine
from data_sources.store.lock import DbLock
held = DbLock(make_engine(sys.argv[1]), detail="held by a test process", lease=120)
assert held.try_acquire()
print(held.holder, flush=True)
sys.stdin.read()  # until killed
"""


def test_a_killed_holder_frees_the_lock_at_once(empty_engine, monkeypatch):
    monkeypatch.setenv("REFRESH_LOCK_LEASE", "120")
    url = empty_engine.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, url],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        holder = proc.stdout.readline().strip()  # the event: the lease row is written
        assert holder.split(":")[1] == str(proc.pid)
        info = lock.current(empty_engine)
        assert info is not None and info.holder == holder
        assert not DbLock(empty_engine).try_acquire()  # alive: held, as it should be
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert lock.current(empty_engine) is None  # no "a refresh … is running" any more
    mine = DbLock(empty_engine, detail="the next refresh")
    assert mine.try_acquire()  # at once, 120 s before the lease would have lapsed
    try:
        info = lock.current(empty_engine)
        assert info.holder == mine.holder and info.detail == "the next refresh"
        assert not DbLock(empty_engine).try_acquire()  # and now it is ours alone
    finally:
        mine.release()


def test_a_pid_reused_by_a_younger_process_is_not_the_holder():
    import socket
    from datetime import UTC, datetime, timedelta

    me = f"{socket.gethostname()}:{os.getppid()}:x"
    assert not lock.dead_here(me, datetime.now(UTC))  # my parent, older than the lease
    assert lock.dead_here(me, datetime.now(UTC) - timedelta(days=3650))  # lease before it began
    assert not lock.dead_here(f"elsewhere.example:{os.getppid()}:x")  # another host: not known
