"""The fetch log: every load (import, snapshot, refresh) is a row that says when it ran, what it stored and how it ended; a load whose process died is closed as interrupted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.redact import redact_url
from data_sources.store.tables import fetch_log, locks, meta


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class IngestResult:
    source: str
    target: str
    fetch_id: int = 0
    rows_in: int = 0
    rows_new: int = 0
    rows_revised: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    status: str = "ok"
    error: str = ""
    pages: int = 0
    requests: int = 0
    pages_not_modified: int = 0  # revalidated: the server answered 304
    pages_cached: int = 0  # served from the disk cache without asking the server
    # event rows summed into a figure with other events (aggregate.py): rows in = new +
    # revised + unchanged + rejected + rows added up
    rows_added_up: int = 0
    # identical copies of one figure in one input (a record sent twice) kept once
    rows_repeated: int = 0
    # figures of the dataset that a complete re-read (`ingest(complete=True)`) no longer held
    rows_withdrawn: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    # rows placed by each way of placing (places.Match.method: pcode, coordinates, name,
    # admin names, ...); with the rejects' reasons, where every row's place came from
    placed_by: dict[str, int] = field(default_factory=dict)

    @property
    def rows_accounted(self) -> int:
        """Every row in ends somewhere: this equals `rows_in` for a finished load."""
        return (
            self.rows_new
            + self.rows_revised
            + self.rows_unchanged
            + self.rows_added_up
            + self.rows_repeated
            + self.rows_rejected
        )

    def as_dict(self) -> dict:
        return asdict(self)


LOAD_LEASE = "load:"  # + fetch_id: the `locks` row a running load keeps alive


def start_fetch(engine: Engine, source: str, target: str, lease=None) -> int:
    """Log a load as running. With `lease` (a `lock.DbLock` not yet held), the load's lease
    row `load:<fetch_id>` is written in the same transaction and then renewed by the lease's
    heartbeat: a row 'running' without a live lease is a load whose process died
    (`close_abandoned`)."""
    with engine.begin() as conn:
        fetch_id = conn.execute(
            fetch_log.insert().values(
                source=source, target=redact_url(target), started_at=_now(), status="running"
            )
        ).inserted_primary_key[0]
        if lease is not None:
            lease.name = f"{LOAD_LEASE}{fetch_id}"
            lease.insert(conn)
    if lease is not None:
        lease.adopt()
    return fetch_id


def finish_fetch(engine: Engine, result: IngestResult, conn=None) -> None:
    """Mark a load finished. With `conn`, inside that open transaction: `ingest` finishes a
    load in the transaction that writes its figures, so that the figures and the data version
    they bump (`query.data_version`, read off `fetch_log`) become visible together."""
    if conn is None:
        with engine.begin() as own:
            _write_finish(own, result)
    else:
        _write_finish(conn, result)


# the fields of an `IngestResult` that its fetch_log row records under the same names
LOGGED_FIELDS = (
    "status", "rows_in", "rows_new", "rows_revised", "rows_unchanged", "rows_rejected", "error",
    "pages", "requests", "pages_not_modified", "pages_cached", "rows_added_up",
)  # fmt: skip


def _write_finish(conn, result: IngestResult) -> None:
    """The load's end on its fetch_log row, and a new data version in the same transaction."""
    conn.execute(
        fetch_log.update()
        .where(fetch_log.c.fetch_id == result.fetch_id)
        .values(finished_at=_now(), **{name: getattr(result, name) for name in LOGGED_FIELDS})
    )
    bump_data_version(conn)


def log_failed_fetch(engine: Engine, result: IngestResult) -> IngestResult:
    """Record a load that failed before anything reached the store (the feed was down, sent
    something malformed): the failure is visible in freshness and on the Data page."""
    result.status = "failed"
    result.rows_new = result.rows_revised = result.rows_unchanged = 0
    result.fetch_id = start_fetch(engine, result.source, result.target)
    finish_fetch(engine, result)
    return result


def close_interrupted(engine: Engine, source: str) -> int:
    """Loads of `source` still marked running were cut off (the process died): their
    transaction never committed, so say so instead of leaving them 'running' forever."""
    with engine.begin() as conn:
        closed = conn.execute(
            fetch_log.update()
            .where(fetch_log.c.source == source, fetch_log.c.status == "running")
            .values(
                status="failed",
                finished_at=_now(),
                error=INTERRUPTED,
            )
        ).rowcount
        if closed:
            bump_data_version(conn)
        return closed


INTERRUPTED = "interrupted: the process ended before this load committed; nothing of it was stored"


def close_abandoned(engine: Engine) -> int:
    """Mark loads whose process died as interrupted, whoever started them (an import, a
    snapshot load, a refresh): a row 'running' whose lease (`load:<fetch_id>` in `locks`) is
    gone, names a process of this host that no longer exists, or, from another host, ran
    out. A live load keeps its lease renewed, so it is never touched (and should a load be
    misjudged, its commit still writes its own end over the mark)."""
    from data_sources.store.lock import holder_alive

    with engine.connect() as conn:
        running = [
            r[0]
            for r in conn.execute(
                sa.select(fetch_log.c.fetch_id).where(fetch_log.c.status == "running")
            )
        ]
        if not running:
            return 0
        leases = {
            row.name: row
            for row in conn.execute(
                sa.select(locks).where(locks.c.name.in_([f"{LOAD_LEASE}{i}" for i in running]))
            )
        }
    dead = [
        i
        for i in running
        if (lease := leases.get(f"{LOAD_LEASE}{i}")) is None or not holder_alive(lease)
    ]
    if not dead:
        return 0
    with engine.begin() as conn:
        closed = conn.execute(
            fetch_log.update()
            .where(fetch_log.c.fetch_id.in_(dead), fetch_log.c.status == "running")
            .values(status="failed", finished_at=_now(), error=INTERRUPTED)
        ).rowcount
        conn.execute(locks.delete().where(locks.c.name.in_([f"{LOAD_LEASE}{i}" for i in dead])))
        if closed:
            bump_data_version(conn)
    return closed


DATA_VERSION_KEY = "load_ends"


def bump_data_version(conn) -> None:
    """Count one more load end in `meta`, inside the transaction that ends the load (see
    `query.data_version`). An upsert, so two first writers cannot collide; last in its
    transaction, so on PostgreSQL the row lock it takes is held only until the commit."""
    one_more = sa.cast(sa.cast(meta.c.value, sa.BigInteger) + 1, sa.String)
    if conn.dialect.name in ("sqlite", "postgresql"):
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        conn.execute(
            insert(meta)
            .values(key=DATA_VERSION_KEY, value="1")
            .on_conflict_do_update(index_elements=[meta.c.key], set_={"value": one_more})
        )
        return
    bumped = conn.execute(
        meta.update().where(meta.c.key == DATA_VERSION_KEY).values(value=one_more)
    ).rowcount
    if not bumped:
        conn.execute(meta.insert().values(key=DATA_VERSION_KEY, value="1"))
