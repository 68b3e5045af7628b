"""One refresh at a time across every process and machine sharing the store: a lease in the
`locks` table.

A per-process lock is not enough once a worker (`refresh --every`), a person's CLI run and the
dashboard's *Refresh now* share one database: two refreshes would fetch everything twice and
race to store the same figures. The lock is a row, so it works the same on SQLite and
PostgreSQL and pages can read who holds it and what they are doing.

- acquire: take over a row whose lease has expired (a conditional UPDATE … WHERE expires_at <
  now), else INSERT, which fails on the primary key when someone holds it. Both are atomic in
  the database, so two contenders never both win.
- renew: while held, a heartbeat thread pushes `expires_at` forward every lease/3 seconds. A
  holder killed without a word (SIGKILL, power cut) stops renewing, and its lease lapses after
  at most `REFRESH_LOCK_LEASE` seconds (120 by default); the next run then takes over. A
  holder on the same host is asked directly (`dead_here`: no such process, a zombie, or its pid
  reused by a younger process): a `kill -9`'d refresh frees the lock at once.
- release: delete the row, only if it is still ours.

Leases compare timestamps written by each host's clock: hosts sharing a store need NTP-synchronised
clocks (a skew well under the lease).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from data_sources import settings
from data_sources.store.tables import locks

REFRESH = "refresh"


def lease_seconds() -> float:
    """The lease length (setting REFRESH_LOCK_LEASE, seconds): how long a dead holder blocks."""
    return max(1.0, settings.number("REFRESH_LOCK_LEASE"))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LockInfo:
    """Who holds a lock, since when, until when unless renewed, and what they are doing."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    detail: str

    def describe(self) -> str:
        started = self.acquired_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"a refresh started elsewhere at {started} by {self.holder} is running: {self.detail}"
        )


def current(engine: Engine, name: str = REFRESH) -> LockInfo | None:
    """The live holder of `name`, or None when it is free (no row, or the lease ran out)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(locks).where(locks.c.name == name)).first()
    if row is None:
        return None
    info = LockInfo(
        row.name, row.holder, _aware(row.acquired_at), _aware(row.expires_at), row.detail or ""
    )
    if dead_here(info.holder, info.acquired_at):  # killed: free now, whatever its lease says
        return None
    return info if info.expires_at > _now() else None


def _started_at(pid: int) -> datetime | None:
    """When process `pid` of this host started (Linux /proc), or None when unknown: tells a
    holder from a later process that was given the same pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        return datetime.fromtimestamp(boot + int(fields[19]) / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def dead_here(holder: str, acquired_at: datetime | None = None) -> bool:
    """Whether a lock's holder (host:pid:token) is a process of this host that is known to be
    gone: no such process, a zombie (killed, not yet reaped), or a process that started after
    the lease was taken (its pid was reused). Another host's holder is never known dead."""
    host, _, rest = str(holder).partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        state = ""
    if state in ("Z", "X"):
        return True
    started = _started_at(int(pid))
    # clock ticks round the start time: a second's slack before calling it another process
    return bool(started and acquired_at and started > _aware(acquired_at) + timedelta(seconds=1))


def holder_alive(row) -> bool:
    """Is the holder of a `locks` row (host:pid:token) still there? A process of this host is
    asked directly (gone after SIGKILL: no need to wait for the lease; alive, even past its
    lease, while a long SQLite write keeps its heartbeat waiting); another host's holder is
    alive while its lease lasts."""
    host, _, rest = str(row.holder).partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        return not dead_here(row.holder, row.acquired_at)
    return _aware(row.expires_at) > _now()


class LockHeld(Exception):
    """Someone else holds the lock; carries who, for the message."""

    def __init__(self, info: LockInfo | None) -> None:
        self.info = info
        super().__init__(info.describe() if info else "another refresh holds the lock")


class DbLock:
    """A lease on one row of `locks`, renewed by a heartbeat thread while held.

    Use as `with DbLock(engine, detail=...).acquire(wait=0):` (raises LockHeld) or call
    `try_acquire()` / `release()`. `lost` is set if the lease was taken over while we held it
    (we were stalled longer than the lease); a refresh checks it before storing each feed.
    """

    def __init__(
        self,
        engine: Engine,
        name: str = REFRESH,
        *,
        detail: str = "",
        lease: float | None = None,
    ) -> None:
        self.engine, self.name, self.detail = engine, name, detail
        self.lease = lease or lease_seconds()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -- acquire / release ---------------------------------------------------------------------
    def try_acquire(self) -> bool:
        """Take the lock if it is free or its lease expired; never blocks on a live holder."""
        now = _now()
        values = {
            "holder": self.holder,
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=self.lease),
            "detail": self.detail,
        }
        try:
            with self.engine.begin() as conn:
                taken = conn.execute(
                    locks.update()
                    .where(locks.c.name == self.name, locks.c.expires_at < now)
                    .values(**values)
                ).rowcount
            if not taken:
                taken = self._take_from_dead(values)
            if not taken:
                with self.engine.begin() as conn:
                    conn.execute(locks.insert().values(name=self.name, **values))
        except IntegrityError:
            return False  # a live holder's row is there (or another contender won)
        except OperationalError:
            return False  # SQLite busy: a refresh is storing right now, so the lock is held
        self.held = True
        self.lost.clear()
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="lock-heartbeat")
        self._beat.start()
        return True

    def _take_from_dead(self, values: dict) -> int:
        """Take over a lease whose holder is a process of this host known dead (`dead_here`):
        a `kill -9` frees the lock at once instead of after the lease. The UPDATE names the
        dead holder, so of two contenders only one wins."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(locks).where(locks.c.name == self.name)).first()
        if row is None or not dead_here(row.holder, row.acquired_at):
            return 0
        with self.engine.begin() as conn:
            return conn.execute(
                locks.update()
                .where(locks.c.name == self.name, locks.c.holder == row.holder)
                .values(**values)
            ).rowcount

    def insert(self, conn) -> None:
        """Write this lease's row in the caller's transaction (a name nobody else uses, such
        as a load's `load:<fetch_id>`); `adopt` then starts renewing it."""
        now = _now()
        conn.execute(
            locks.insert().values(
                name=self.name,
                holder=self.holder,
                acquired_at=now,
                expires_at=now + timedelta(seconds=self.lease),
                detail=self.detail,
            )
        )

    def adopt(self) -> None:
        """Hold the row `insert` wrote: renew it every lease/3 and delete it on release."""
        self.held = True
        self.lost.clear()
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="lock-heartbeat")
        self._beat.start()

    def acquire(
        self, wait: float = 0.0, poll: float = 1.0, stop: threading.Event | None = None
    ) -> DbLock:
        """Take the lock, waiting up to `wait` seconds for the holder to finish; LockHeld if
        it is still held then (or `stop` was set meanwhile)."""
        deadline = time.monotonic() + max(0.0, wait)
        while not self.try_acquire():
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                raise LockHeld(current(self.engine, self.name))
            if stop is not None:
                stop.wait(min(poll, left))
            else:
                time.sleep(min(poll, left))
        return self

    def release(self) -> None:
        """Stop renewing and delete the row if it is still ours (a taken-over lease is not)."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
            self._beat = None
        if self.held:
            with self.engine.begin() as conn:
                conn.execute(
                    locks.delete().where(locks.c.name == self.name, locks.c.holder == self.holder)
                )
            self.held = False

    def __enter__(self) -> DbLock:
        if not self.held:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- renewal ---------------------------------------------------------------------------------
    def renew(self) -> bool:
        """Push the lease forward; False (and `lost` set) if the row is no longer ours."""
        with self.engine.begin() as conn:
            ours = conn.execute(
                locks.update()
                .where(locks.c.name == self.name, locks.c.holder == self.holder)
                .values(expires_at=_now() + timedelta(seconds=self.lease))
            ).rowcount
        if not ours:
            self.lost.set()
        return bool(ours)

    def set_detail(self, detail: str) -> None:
        """Say what the holder is doing now (pages show it)."""
        self.detail = detail
        with self.engine.begin() as conn:
            conn.execute(
                locks.update()
                .where(locks.c.name == self.name, locks.c.holder == self.holder)
                .values(detail=detail)
            )

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                if not self.renew():
                    return
            except Exception:  # noqa: BLE001 - a database blip: try again at the next beat
                continue


# -- the cooldown of refreshes started from the page ---------------------------------------------
PAGE_COOLDOWN = "page-refresh-cooldown"


def cooldown_seconds() -> float:
    """REFRESH_COOLDOWN: at least this long between two refreshes started from the page
    (default 10 minutes; an interval like 10m, 1h or plain seconds; 0 turns it off)."""
    raw = (settings.setting("REFRESH_COOLDOWN") or "10m").strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    unit = raw[-1:] if raw[-1:] in units else "s"
    number = raw[:-1] if raw[-1:] in units else raw
    try:
        return max(0.0, float(number) * units[unit])
    except ValueError as exc:
        raise ValueError(
            f"setting REFRESH_COOLDOWN must be an interval like 10m, 1h or 600, got '{raw}'"
        ) from exc


def cooldown(engine: Engine) -> LockInfo | None:
    """The last page-started refresh while its cooldown lasts (`expires_at` is when the next
    one is possible), else None. A row in `locks`, so it holds across processes and restarts."""
    return current(engine, PAGE_COOLDOWN)


def claim_cooldown(engine: Engine, holder: str, detail: str, seconds: float) -> LockInfo | None:
    """Atomically start a cooldown of `seconds` for a page refresh about to start: None when
    claimed, else the cooldown in force (another page started a run too recently)."""
    if seconds <= 0:
        return None
    now = _now()
    values = {
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=seconds),
        "detail": detail,
    }
    try:
        with engine.begin() as conn:
            taken = conn.execute(
                locks.update()
                .where(locks.c.name == PAGE_COOLDOWN, locks.c.expires_at < now)
                .values(**values)
            ).rowcount
        if not taken:
            with engine.begin() as conn:
                conn.execute(locks.insert().values(name=PAGE_COOLDOWN, **values))
    except (IntegrityError, OperationalError):
        return cooldown(engine) or LockInfo(
            PAGE_COOLDOWN, "", now, now + timedelta(seconds=seconds), ""
        )
    return None


def drop_cooldown(engine: Engine, holder: str) -> None:
    """Give a claimed cooldown back (the run could not start after all)."""
    with engine.begin() as conn:
        conn.execute(locks.delete().where(locks.c.name == PAGE_COOLDOWN, locks.c.holder == holder))
