"""The store: SQLAlchemy Core tables and the one write path, `ingest`.

A figure is never overwritten. Observations hang off a *series* (source, dataset, metric,
qualifier, site, place, unit, estimate); a figure for an existing series and period with a
different value becomes a new revision and the old one stops being current. Every ingest is one
transaction, logged in `fetch_log`, and whatever could not be stored lands in `rejects` with the
reason, so nothing a source sent is silently lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .aggregate import add_up_events, summable
from .feeds import redact_url
from .places import Gazetteer, gazetteer
from .schema import validate

DEFAULT_DATABASE_URL = "sqlite:///data/situation_room.sqlite"

metadata = sa.MetaData()

places = sa.Table(
    "places",
    metadata,
    sa.Column(
        "place_id",
        sa.String(64),
        primary_key=True,
        comment="geonames:<id> for a city, adm2:<ISO3>:<p-code or name> for a district, "
        "adm1:<ISO3>:<p-code or name> for a governorate, country:<ISO3>, region:<slug>",
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("country_iso3", sa.String(3), nullable=False, default=""),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("population", sa.BigInteger, comment="GeoNames population (no census year given)"),
    sa.Column("geonames_id", sa.Integer),
    # districts and governorates (0003): their p-code when the source gave one, the place that
    # contains them (a governorate, a country) and the city that is their seat, when known;
    # plain ids, no foreign keys: a parent is stored when a figure needs it, not before
    sa.Column("pcode", sa.String(64), comment="p-code of a district or governorate"),
    sa.Column("parent_id", sa.String(64), comment="the governorate or country containing it"),
    sa.Column("seat_id", sa.String(64), comment="its seat city's place_id, when known"),
    sa.CheckConstraint(
        "kind in ('city', 'district', 'governorate', 'country', 'region')", name="place_kind"
    ),
)

provenance = sa.Table(
    "provenance",
    metadata,
    sa.Column("provenance_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prov_key", sa.String(40), nullable=False, unique=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_url", sa.Text, nullable=False, default=""),
    sa.Column("citation", sa.Text, nullable=False, default=""),
    sa.Column(
        "quote",
        sa.Text,
        nullable=False,
        default="",
        comment="verbatim sentence a reported figure was read from",
    ),
    sa.Column("licence", sa.String(200), nullable=False, default=""),
)

series = sa.Table(
    "series",
    metadata,
    sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("series_key", sa.String(40), nullable=False, unique=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("dataset", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("qualifier", sa.String(200), nullable=False),
    sa.Column("site", sa.String(200), nullable=False),
    sa.Column("place_id", sa.String(64), sa.ForeignKey("places.place_id"), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("estimate", sa.String(16), nullable=False),
    sa.Column("place_raw", sa.String(200), nullable=False, default=""),
    sa.Column("admin1", sa.String(200), nullable=False, default=""),
    sa.Column("admin2", sa.String(200), nullable=False, default=""),
    sa.Column("pcode", sa.String(64), nullable=False, default=""),
    sa.Column("match_method", sa.String(16), nullable=False, default=""),
    sa.Column("match_score", sa.Float),
    sa.CheckConstraint("estimate in ('best', 'low', 'high', 'reported')", name="estimate_kind"),
)
sa.Index("ix_series_place_metric", series.c.place_id, series.c.metric)

fetch_log = sa.Table(
    "fetch_log",
    metadata,
    sa.Column("fetch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=False, comment="file, URL (without secrets) or query"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # running | ok | failed
    sa.Column("rows_in", sa.Integer, default=0),
    sa.Column("rows_new", sa.Integer, default=0),
    sa.Column("rows_revised", sa.Integer, default=0),
    sa.Column("rows_unchanged", sa.Integer, default=0),
    sa.Column("rows_rejected", sa.Integer, default=0),
    sa.Column("error", sa.Text, default=""),
    sa.Column("pages", sa.Integer, default=0, comment="responses fetched (live feeds)"),
    sa.Column("requests", sa.Integer, default=0, comment="HTTP requests sent, retries included"),
    sa.Column("pages_not_modified", sa.Integer, default=0, comment="304 answers to revalidation"),
    sa.Column("pages_cached", sa.Integer, default=0, comment="pages served from the local cache"),
    sa.Column(
        "rows_added_up",
        sa.Integer,
        default=0,
        comment="event rows summed into a figure with other events (aggregate.py)",
    ),
)

observations = sa.Table(
    "observations",
    metadata,
    sa.Column("series_id", sa.Integer, sa.ForeignKey("series.series_id"), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("period_end", sa.Date, primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("is_current", sa.Boolean, nullable=False),
    sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "provenance_id", sa.Integer, sa.ForeignKey("provenance.provenance_id"), nullable=False
    ),
    sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetch_log.fetch_id"), nullable=False),
    sa.Column(
        "withdrawn_at",
        sa.DateTime(timezone=True),
        comment="when a complete re-read of the figure's dataset no longer held it",
    ),
    sa.CheckConstraint("period_end >= period_start", name="period_order"),
    sa.CheckConstraint("revision >= 1", name="revision_positive"),
    # The natural key is the primary key, and on SQLite the table is clustered by it (no rowid):
    # one B-tree to maintain per insert, and one series' figures lie together on disk, which is
    # exactly how pages read them ("this series over time").
    sqlite_with_rowid=False,
)
rejects = sa.Table(
    "rejects",
    metadata,
    sa.Column("reject_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "reject_key",
        sa.String(40),
        nullable=False,
        unique=True,
        comment="hash of source, row and reason: the same refusal is recorded once",
    ),
    sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetch_log.fetch_id"), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("dataset", sa.String(200), nullable=False, default=""),
    sa.Column("row_ref", sa.String(300), nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False, comment="the rejected input as JSON"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

locks = sa.Table(
    "locks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True, comment="what is locked, e.g. 'refresh'"),
    sa.Column("holder", sa.String(200), nullable=False, comment="host:pid:token of the holder"),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "expires_at",
        sa.DateTime(timezone=True),
        nullable=False,
        comment="end of the lease: renewed while the holder works, free for others after",
    ),
    sa.Column(
        "detail", sa.Text, nullable=False, default="", comment="what the holder is doing, for pages"
    ),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

SERIES_KEY = ["source", "dataset", "metric", "qualifier", "site", "place_id", "unit", "estimate"]
PROVENANCE_KEY = ["source", "source_url", "citation", "quote", "licence"]


def database_url() -> str:
    """DATABASE_URL from the environment or the top level of .streamlit/secrets.toml (where
    Streamlit Community Cloud keeps it), else the embedded SQLite file."""
    from .settings import setting

    return setting("DATABASE_URL", DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL is kept in the file: set it only when it is not there yet, since changing it needs
    # the write lock, which another process may hold (a migration of a fresh store)
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache for bulk loads and scans
    cur.close()


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine with the schema in place; SQLite in WAL mode so pages read while we write.

    The schema is Alembic's (data_sources/migrations): an empty store is created at the
    newest revision, an older one upgraded, an up-to-date one costs a single query. A store
    this release cannot use raises `errors.StoreError`. `migrate=False` leaves the schema
    as it is (for `python -m data_sources migrate --check`)."""
    url = url or database_url()
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        from .errors import lock_timeout

        # a second writer waits this long for the first one's transaction (busy timeout),
        # then fails with "database is locked", which errors.StoreBusy says in plain words
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout()}
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        from .errors import lock_timeout

        # the same bound as SQLite's busy timeout: a writer blocked by another process's
        # lock gives up after STORE_LOCK_TIMEOUT with errors.StoreBusy instead of hanging
        options = {}
        if parsed.get_backend_name() == "postgresql" and "options" not in parsed.query:
            options = {"options": f"-c lock_timeout={int(lock_timeout() * 1000)}"}
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=options)
    if migrate:
        from .migrations import ensure_current

        ensure_current(engine)
    return engine


def _now() -> datetime:
    return datetime.now(UTC)


def _hash_rows(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """A stable key per row (sha1 of the fields), vectorized: called on distinct rows only."""
    joined = df[cols[0]].astype(str)
    for col in cols[1:]:
        joined = joined + "\x1f" + df[col].astype(str)
    return pd.Series(
        [hashlib.sha1(s.encode("utf-8")).hexdigest() for s in joined.tolist()],
        index=df.index,
        dtype=object,
    )


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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


def _write_finish(conn, result: IngestResult) -> None:
    conn.execute(
        fetch_log.update()
        .where(fetch_log.c.fetch_id == result.fetch_id)
        .values(
            finished_at=_now(),
            status=result.status,
            rows_in=result.rows_in,
            rows_new=result.rows_new,
            rows_revised=result.rows_revised,
            rows_unchanged=result.rows_unchanged,
            rows_rejected=result.rows_rejected,
            error=result.error,
            pages=result.pages,
            requests=result.requests,
            pages_not_modified=result.pages_not_modified,
            pages_cached=result.pages_cached,
            rows_added_up=result.rows_added_up,
        )
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
    from .lock import holder_alive

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


def _reject_records(df: pd.DataFrame, fetch_id: int, default_source: str) -> list[dict]:
    """Reject rows with their raw input as JSON. Serialized by pandas in one pass: a feed can
    send tens of thousands of unplaceable rows, and per-row json.dumps cost seconds."""
    if df.empty:
        return []
    now = _now()
    # row_kind is our marker (aggregate.py), not what the source sent
    raw_cols = sorted(c for c in df.columns if c not in ("reason", "row_kind"))
    raw = (
        df[raw_cols]
        .to_json(
            orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
        )
        .splitlines()
    )
    text = {
        c: df[c].astype(object).where(df[c].notna(), "").astype(str).tolist()
        for c in ("source", "dataset", "row_ref")
        if c in df
    }
    empty = [""] * len(df)
    sources = [s or default_source for s in text.get("source", empty)]
    refs, datasets = text.get("row_ref", empty), text.get("dataset", empty)
    reasons = df["reason"].astype(str).tolist()
    return [
        {
            "reject_key": hashlib.sha1(
                f"{src}\x1f{ref}\x1f{why}\x1f{raw_json}".encode()
            ).hexdigest(),
            "fetch_id": fetch_id,
            "source": src,
            "dataset": ds,
            "row_ref": ref,
            "reason": why,
            "raw": raw_json,
            "created_at": now,
        }
        for src, ds, ref, why, raw_json in zip(sources, datasets, refs, reasons, raw, strict=True)
    ]


def _ids_for_keys(conn, table: sa.Table, key_col: str, id_col: str, keys: list[str]) -> dict:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = conn.execute(
            sa.select(table.c[key_col], table.c[id_col]).where(table.c[key_col].in_(chunk))
        )
        found.update({k: i for k, i in rows})
    return found


def _ensure_rows(conn, table: sa.Table, key_col: str, id_col: str, frame: pd.DataFrame) -> dict:
    """Insert rows whose key is new; return key -> id for all of them."""
    keys = frame[key_col].tolist()
    found = _ids_for_keys(conn, table, key_col, id_col, keys)
    missing = frame[~frame[key_col].isin(list(found))]
    if not missing.empty:
        conn.execute(table.insert(), missing.to_dict("records"))
        found.update(_ids_for_keys(conn, table, key_col, id_col, missing[key_col].tolist()))
    return found


def _ensure_places(conn, place_ids: list[str], names: dict[str, str], gaz: Gazetteer) -> None:
    existing = set()
    for chunk in _chunks(place_ids):
        existing.update(
            r[0]
            for r in conn.execute(sa.select(places.c.place_id).where(places.c.place_id.in_(chunk)))
        )
    new = [gaz.place_record(p, names.get(p, "")) for p in place_ids if p not in existing]
    # a district's governorate, a governorate's country: stored with it, so that the place a
    # figure is on can always name what contains it
    wanted = {r["place_id"] for r in new} | existing
    parents = [r["parent_id"] for r in new if r["parent_id"]]
    while parents:
        parent = parents.pop()
        if parent in wanted:
            continue
        if conn.execute(sa.select(places.c.place_id).where(places.c.place_id == parent)).first():
            wanted.add(parent)
            continue
        record = gaz.place_record(parent)
        new.append(record)
        wanted.add(parent)
        if record["parent_id"]:
            parents.append(record["parent_id"])
    if new:
        conn.execute(places.insert(), new)


def _split_duplicates(obs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Within one input, the same series and period twice (events were added up before, in
    `aggregate.add_up_events`): identical copies collapse to one, conflicting values are all
    rejected, since we cannot know which of two reports the source meant."""
    key = ["series_id", "period_start", "period_end"]
    columns = [obs[k].to_numpy() for k in key]
    order = np.lexsort(columns[::-1])
    repeated = np.ones(max(len(obs) - 1, 0), dtype=bool)
    for values in columns:
        ordered = values[order]
        repeated &= ordered[1:] == ordered[:-1]
    if not repeated.any():  # the usual case, checked on sorted keys: no pandas hashing
        return obs, obs.iloc[0:0]
    obs = obs.drop_duplicates(subset=[*key, "value"])
    counts = obs.groupby(key)["value"].transform("size")
    conflicting = obs[counts > 1]
    if conflicting.empty:
        return obs, conflicting
    values = conflicting.groupby(key)["value"].transform(lambda v: ", ".join(f"{x:g}" for x in v))
    return obs[counts == 1], conflicting.assign(
        reason="conflicting values for the same place, period and breakdown in one input: " + values
    )


def ingest(
    engine: Engine,
    normalized: pd.DataFrame,
    *,
    source: str,
    target: str,
    pre_rejected: pd.DataFrame | None = None,
    retrieved_at: datetime | None = None,
    gaz: Gazetteer | None = None,
    pages: int = 0,
    requests: int = 0,
    pages_not_modified: int = 0,
    pages_cached: int = 0,
    complete: bool = False,
) -> IngestResult:
    """Validate, place and store normalized figures in one transaction.

    `complete` says the input is the whole of its datasets (an imported file): a figure a
    dataset held before and this input no longer holds is then marked withdrawn (kept, with
    the time, so that an as-of view before it still shows it). Incremental feed reads are not
    complete and never withdraw anything.

    `pre_rejected` carries rows a normalizer already refused (with a `reason`), so that they are
    logged in the same fetch. On any error nothing of this input is stored and the fetch is
    logged as failed with the error.
    """
    gaz = gaz or gazetteer()
    # event rows a streamed reader already added up (formats/hxl.py): still rows in
    added_before = int(normalized.attrs.get("rows_added_up", 0))
    target = redact_url(target)  # the store never holds a credential (issue 11)
    if "source_url" in normalized and len(normalized):
        links = {
            u: redact_url(u) if isinstance(u, str) and u else u
            for u in pd.unique(normalized["source_url"])
        }
        normalized = normalized.assign(source_url=normalized["source_url"].map(links))
    result = IngestResult(
        source=source, target=target, rows_in=len(normalized), pages=pages, requests=requests,
        pages_not_modified=pages_not_modified, pages_cached=pages_cached,
    )  # fmt: skip
    if pre_rejected is not None:
        result.rows_in += len(pre_rejected)
    result.rows_in += added_before
    from .lock import DbLock

    close_abandoned(engine)  # a load killed earlier says so before this one starts
    lease = DbLock(engine, detail=f"{source}: {target}")
    result.fetch_id = start_fetch(engine, source, target, lease)
    try:
        codes: dict[str, np.ndarray] = {}
        good, bad = validate(normalized, codes)
        rows, combos, unplaced = _place_combos(good, gaz, codes)
        refused = [f for f in (pre_rejected, bad, unplaced) if f is not None and not f.empty]
        retrieved = retrieved_at or _now()
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with engine.begin() as conn:
                    _write_load(
                        conn, engine, rows, combos, good, list(refused), result, retrieved, gaz,
                        complete, added_before,
                    )  # fmt: skip
                break
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                if attempt == WRITE_ATTEMPTS or not _lost_a_race(exc):
                    raise
                time.sleep(0.05 * attempt)  # another load committed first: read again, write
    except BaseException as exc:  # any failure, SIGTERM and Ctrl-C too: logged, re-raised
        result.status = "failed"
        result.error = (
            f"interrupted ({exc}): stopped before this load committed; nothing of it was stored"
            if isinstance(exc, KeyboardInterrupt)
            else f"{type(exc).__name__}: {exc}"
        )
        result.rows_new = result.rows_revised = result.rows_unchanged = 0
        finish_fetch(engine, result)
        raise
    finally:
        # the store gone or busy: the lease runs out by itself
        with contextlib.suppress(sa.exc.DBAPIError):
            lease.release()
    return result


WRITE_ATTEMPTS = 4


def _lost_a_race(exc: Exception) -> bool:
    """Two loads writing the same new places, series or figures at once: the one that commits
    second trips over the first one's keys (PostgreSQL waits, then refuses the duplicate;
    SQLite's writer lock is busy). The transaction was rolled back whole, so writing again,
    now seeing the other load's rows, stores each figure once."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(
        marker in text
        for marker in ("unique", "duplicate key", "database is locked", "could not serialize")
    )


# what a reject reason names after its kind (a quoted value, the conflicting numbers), cut off
# when reasons are counted by kind in a load's summary
REASON_DETAIL = r"'.*|: [\d.,\s]+$"


def _write_load(
    conn,
    engine: Engine,
    rows: pd.DataFrame,
    combos: pd.DataFrame,
    good: pd.DataFrame,
    reject_frames: list[pd.DataFrame],
    result: IngestResult,
    retrieved: datetime,
    gaz: Gazetteer,
    complete: bool = False,
    added_before: int = 0,
) -> None:
    """One load's writes, in the caller's transaction: figures, rejects, and its end (the
    fetch log row, which counts `added_before`: event rows a streamed reader added up)."""
    result.rows_new = result.rows_revised = result.rows_unchanged = result.rows_rejected = 0
    result.rows_added_up = result.rows_repeated = result.rows_withdrawn = 0
    if not rows.empty:
        conflicts = _store_observations(conn, rows, combos, good, result, retrieved, gaz, complete)
        if not conflicts.empty:
            reject_frames.append(conflicts)
    result.rows_added_up += added_before
    rejected = pd.concat(reject_frames, ignore_index=True) if reject_frames else None
    if rejected is not None:
        result.rows_rejected = len(rejected)
        result.reject_reasons = (
            rejected["reason"]
            .str.replace(REASON_DETAIL, "", regex=True)
            .str.strip()
            .value_counts()
            .head(20)
            .to_dict()
        )
        records = _reject_records(rejected, result.fetch_id, result.source)
        known = set(
            _ids_for_keys(
                conn, rejects, "reject_key", "reject_id", [r["reject_key"] for r in records]
            )
        )
        fresh = list({r["reject_key"]: r for r in records if r["reject_key"] not in known}.values())
        for chunk in _chunks(fresh, 2000):
            conn.execute(rejects.insert(), chunk)
    # in the same transaction as the figures: no reader sees the new data version
    # without them, nor them without it, and a process killed after the commit
    # cannot leave a stored load marked 'running' (later closed as "nothing stored")
    finish_fetch(engine, result, conn)


PLACE_KEY = ["place_kind", "place_raw", "country_iso3", "admin2", "pcode", "lat", "lon"]
IDENTITY = list(
    dict.fromkeys(
        [
            *PLACE_KEY,
            *(k for k in SERIES_KEY if k != "place_id"),
            *PROVENANCE_KEY,
            "admin1",
            "row_kind",
        ]
    )
)


def _row_keys(df: pd.DataFrame, cols: list[str], codes: dict[str, np.ndarray]) -> np.ndarray:
    """One integer per distinct combination of `cols`, folded from per-column value codes:
    the text columns' codes come from validation (strings are hashed once per ingest), the
    rest are factorized here."""
    key = np.zeros(len(df), dtype=np.int64)
    bound = 1  # every key is below this
    for col in cols:
        col_codes = codes.get(col)
        if col_codes is None:
            col_codes = pd.factorize(df[col], use_na_sentinel=False)[0]
        width = int(col_codes.max(initial=0)) + 2
        if bound * width >= 2**62:  # renumber densely first, so this fold cannot overflow
            key = pd.factorize(key)[0]
            bound = int(key.max(initial=0)) + 1
        key = key * width + col_codes + 1  # sentinel -1 -> 0
        bound *= width
    return pd.factorize(key)[0]


def _place_combos(
    good: pd.DataFrame, gaz: Gazetteer, codes: dict[str, np.ndarray] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Group rows by everything that is not the figure itself (place, series, provenance).

    Millions of rows share a few thousand such combinations; placing, provenance and series
    lookups then run once per combination, and rows carry only a combination number.
    Returns (rows: combo, period_start, period_end, value, row), combos placed, unplaced rows.
    """
    empty = pd.DataFrame(columns=["combo", "period_start", "period_end", "value", "row"])
    if good.empty:
        return empty, good.iloc[0:0], good.iloc[0:0]
    _, first, codes = np.unique(
        _row_keys(good, IDENTITY, codes or {}), return_index=True, return_inverse=True
    )
    codes = codes.ravel()
    combos = good.iloc[first][IDENTITY].reset_index(drop=True)
    placed, unplaced_combos = gaz.resolve(combos)
    ok = np.zeros(len(combos), dtype=bool)
    ok[placed.index.to_numpy()] = True
    reason = pd.Series("", index=combos.index, dtype=object)
    reason[unplaced_combos.index] = unplaced_combos["reason"]
    keep = ok[codes]
    unplaced = good[~keep].assign(reason=reason.to_numpy()[codes[~keep]])
    rows = pd.DataFrame(
        {
            "combo": codes[keep],
            "period_start": good["period_start"].to_numpy()[keep],
            "period_end": good["period_end"].to_numpy()[keep],
            "value": good["value"].to_numpy()[keep],
            "row": np.flatnonzero(keep),
        }
    )
    return rows, placed, unplaced


def _store_observations(
    conn,
    rows: pd.DataFrame,
    combos: pd.DataFrame,
    good: pd.DataFrame,
    result: IngestResult,
    retrieved: datetime,
    gaz: Gazetteer,
    complete: bool = False,
) -> pd.DataFrame:
    """Write places, provenance, series and observation revisions; return rejected conflicts."""
    place_names = combos.groupby("place_id")["place_raw"].first().to_dict()
    _ensure_places(conn, sorted(combos["place_id"].unique()), place_names, gaz)

    combos = combos.copy()
    combos["prov_key"] = _hash_rows(combos, PROVENANCE_KEY)
    prov_ids = _ensure_rows(
        conn,
        provenance,
        "prov_key",
        "provenance_id",
        combos[["prov_key", *PROVENANCE_KEY]].drop_duplicates("prov_key"),
    )
    combos["series_key"] = _hash_rows(combos, SERIES_KEY)
    descriptive = ["place_raw", "admin1", "admin2", "pcode", "match_method", "match_score"]
    ser = combos.drop_duplicates("series_key")[["series_key", *SERIES_KEY, *descriptive]]
    series_ids = _ensure_rows(conn, series, "series_key", "series_id", ser)

    n_combos = int(combos.index.max()) + 1
    combo_series = np.zeros(n_combos, dtype=np.int64)
    combo_prov = np.zeros(n_combos, dtype=np.int64)
    combo_series[combos.index.to_numpy()] = combos["series_key"].map(series_ids).to_numpy()
    combo_prov[combos.index.to_numpy()] = combos["prov_key"].map(prov_ids).to_numpy()
    codes = rows["combo"].to_numpy()
    obs = pd.DataFrame(
        {
            "series_id": combo_series[codes],
            "period_start": rows["period_start"],
            "period_end": rows["period_end"],
            "value": rows["value"],
            "provenance_id": combo_prov[codes],
            "row": rows["row"],
        }
    )

    # events add up (aggregate.py); what is left repeated is two reports of one figure
    adds_up = summable(combos["metric"], combos["row_kind"])
    if adds_up.any():
        combo_adds_up = np.zeros(n_combos, dtype=bool)
        combo_adds_up[combos.index.to_numpy()] = adds_up
        before = len(obs)
        obs = add_up_events(obs, combo_adds_up[codes])
        result.rows_added_up = before - len(obs)
    before = len(obs)
    obs, conflicts = _split_duplicates(obs)
    result.rows_repeated = before - len(obs) - len(conflicts)
    if complete:
        datasets = combos.drop_duplicates(["source", "dataset"])[["source", "dataset"]]
        result.rows_withdrawn = _withdraw_missing(conn, obs, datasets, retrieved)
    current = _current_values(conn, np.unique(obs["series_id"].to_numpy()).tolist())
    if current.empty:  # new series only (a first load): nothing to compare with
        merged = obs.assign(old_value=np.nan, old_revision=np.nan)
    else:
        merged = obs.merge(current, on=["series_id", "period_start", "period_end"], how="left")
    # a withdrawn figure that comes back is new again, as the next revision of its key
    back = (
        merged["old_withdrawn"].fillna(False).astype(bool) if "old_withdrawn" in merged else False
    )
    is_new = merged["old_revision"].isna() | back
    tolerance = 1e-9 * merged["value"].abs().clip(lower=1.0)
    changed = ~is_new & ((merged["value"] - merged["old_value"]).abs() > tolerance)
    result.rows_new = int(is_new.sum())
    result.rows_revised = int(changed.sum())
    result.rows_unchanged = int((~is_new & ~changed).sum())

    to_write = merged[is_new | changed]
    to_write = to_write.assign(revision=to_write["old_revision"].fillna(0).astype(int) + 1)
    superseded = merged.loc[
        changed & ~back, ["series_id", "period_start", "period_end", "old_revision"]
    ]
    if not superseded.empty:
        _set_revisions(
            conn,
            {"is_current": False},
            [
                {
                    "s": int(r.series_id),
                    "a": r.period_start.date(),
                    "b": r.period_end.date(),
                    "r": int(r.old_revision),
                }
                for r in superseded.itertuples()
            ],
        )
    _insert_observations(conn, to_write, retrieved, result.fetch_id)
    if conflicts.empty:
        return conflicts
    return good.iloc[conflicts["row"].to_numpy()].assign(reason=conflicts["reason"].to_numpy())


OBSERVATION_INSERT = [
    "series_id",
    "period_start",
    "period_end",
    "value",
    "revision",
    "is_current",
    "retrieved_at",
    "provenance_id",
    "fetch_id",
]


def _insert_observations(conn, rows: pd.DataFrame, retrieved: datetime, fetch_id: int) -> None:
    """Bulk insert through the driver: SQLAlchemy's per-row type processing cost more than the
    insert itself. On SQLite, dates are written in the same text form SQLAlchemy reads back."""
    if rows.empty:
        return
    # in key order, each insert lands next to the previous one in the clustered B-tree:
    # 27% faster on 1M rows than the input's order
    order = np.lexsort(
        (
            rows["period_end"].to_numpy(),
            rows["period_start"].to_numpy(),
            rows["series_id"].to_numpy(),
        )
    )
    rows = rows.iloc[order]
    if conn.dialect.name == "sqlite":
        _insert_sqlite(conn, rows, retrieved, fetch_id)
        return
    params = list(
        zip(
            rows["series_id"].astype(int).tolist(),
            rows["period_start"].dt.date.tolist(),
            rows["period_end"].dt.date.tolist(),
            rows["value"].astype(float).tolist(),
            rows["revision"].astype(int).tolist(),
            rows["provenance_id"].astype(int).tolist(),
            strict=True,
        )
    )
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # constants of this fetch are literals (checked types, no user text), so only six values
    # per row cross the driver
    sql = (
        f"INSERT INTO observations ({', '.join(OBSERVATION_INSERT)}) VALUES "
        f"({mark}, {mark}, {mark}, {mark}, {mark}, TRUE, '{retrieved.isoformat()}', {mark}, "
        f"{int(fetch_id)})"
    )
    for chunk in _chunks(params, 50_000):
        conn.exec_driver_sql(sql, chunk)


def _insert_sqlite(conn, rows: pd.DataFrame, retrieved: datetime, fetch_id: int) -> None:
    """SQLite's share of the insert, where binding values is most of the cost: a value every
    row shares is written once into the statement, and a period that starts and ends on the
    same day (daily prices, events) is bound once and used twice (numbered parameters)."""
    stamp = retrieved.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    start_days = rows["period_start"].to_numpy("datetime64[D]")
    one_day = bool((start_days == rows["period_end"].to_numpy("datetime64[D]")).all())
    revision = rows["revision"].to_numpy(np.int64)
    bound: list[list] = [
        rows["series_id"].to_numpy(np.int64).tolist(),
        _iso_days(rows["period_start"]),
    ]
    marks = {"series_id": "?1", "period_start": "?2"}
    if one_day:
        marks["period_end"] = "?2"
    else:
        bound.append(_iso_days(rows["period_end"]))
        marks["period_end"] = f"?{len(bound)}"
    bound.append(rows["value"].to_numpy(float).tolist())
    marks["value"] = f"?{len(bound)}"
    if (revision == 1).all():  # a first load: every figure is revision 1
        marks["revision"] = "1"
    else:
        bound.append(revision.tolist())
        marks["revision"] = f"?{len(bound)}"
    bound.append(rows["provenance_id"].to_numpy(np.int64).tolist())
    marks["provenance_id"] = f"?{len(bound)}"
    marks.update(is_current="1", retrieved_at=f"'{stamp}'", fetch_id=str(int(fetch_id)))
    sql = (
        f"INSERT INTO observations ({', '.join(OBSERVATION_INSERT)}) VALUES "
        f"({', '.join(marks[c] for c in OBSERVATION_INSERT)})"
    )
    params = list(zip(*bound, strict=True))
    for chunk in _chunks(params, 50_000):
        conn.exec_driver_sql(sql, chunk)


def _iso_days(dates: pd.Series) -> list[str]:
    """Dates as the ISO text SQLite holds, formatted once per distinct day: a million figures
    fall on a few thousand days, and formatting each row took 0.8 s per million."""
    codes, days = pd.factorize(dates.to_numpy("datetime64[D]"))
    text = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]")).astype(object)
    return text[codes].tolist()


def _current_values(conn, series_ids: list[int]) -> pd.DataFrame:
    """The newest revision of each figure of these series: the current ones, and the withdrawn
    ones (`old_withdrawn`), whose return must be numbered after them. Dates travel as ISO text
    and are parsed once per column: per-row date objects made a re-load of 1M unchanged
    figures take 14 s."""
    o = observations.c
    cols = ["series_id", "period_start", "period_end", "old_value", "old_revision", "old_withdrawn"]
    records: list = []
    for chunk in _chunks(series_ids):
        q = sa.select(
            o.series_id,
            sa.cast(o.period_start, sa.String),
            sa.cast(o.period_end, sa.String),
            o.value,
            o.revision,
            o.withdrawn_at.is_not(None),
        ).where(sa.or_(o.is_current.is_(True), o.withdrawn_at.is_not(None)), o.series_id.in_(chunk))
        records.extend(map(tuple, conn.execute(q)))  # plain tuples: pandas probes Rows slowly
    out = pd.DataFrame.from_records(records, columns=cols)
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col], format="ISO8601").astype("datetime64[s]")
    out["old_value"] = out["old_value"].astype(float)
    out["old_withdrawn"] = out["old_withdrawn"].astype(bool)
    if out["old_withdrawn"].any():  # withdrawn, then back: keep each key's newest revision
        out = out.sort_values("old_revision").drop_duplicates(
            ["series_id", "period_start", "period_end"], keep="last"
        )
    return out


def _withdraw_missing(conn, obs: pd.DataFrame, datasets: pd.DataFrame, retrieved: datetime) -> int:
    """Mark withdrawn the current figures of these (source, dataset)s that `obs` (a complete
    re-read of them) no longer holds: they stop being current and keep their values."""
    o = observations.c
    withdrawn = 0
    held = set(
        zip(
            obs["series_id"].astype(int).tolist(),
            obs["period_start"].dt.date.tolist(),
            obs["period_end"].dt.date.tolist(),
            strict=True,
        )
    )
    for source, dataset in datasets.itertuples(index=False):
        ids = sa.select(series.c.series_id).where(
            series.c.source == source, series.c.dataset == dataset
        )
        rows = conn.execute(
            sa.select(o.series_id, o.period_start, o.period_end, o.revision).where(
                o.series_id.in_(ids), o.is_current.is_(True)
            )
        ).all()
        gone = [
            {"s": s, "a": _as_date(a), "b": _as_date(b), "r": r}
            for s, a, b, r in rows
            if (s, _as_date(a), _as_date(b)) not in held
        ]
        if gone:
            _set_revisions(conn, {"is_current": False, "withdrawn_at": retrieved}, gone)
        withdrawn += len(gone)
    return withdrawn


def _set_revisions(conn, values: dict, keys: list[dict]) -> None:
    """Set `values` on the revisions named by `keys` ({"s": series, "a": start, "b": end,
    "r": revision}): one statement executed for every key."""
    o = observations.c
    conn.execute(
        observations.update()
        .where(
            o.series_id == sa.bindparam("s"),
            o.period_start == sa.bindparam("a"),
            o.period_end == sa.bindparam("b"),
            o.revision == sa.bindparam("r"),
        )
        .values(**values),
        keys,
    )


def _as_date(value) -> date:
    """A stored date as `datetime.date` (SQLite may hand back text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def get_meta(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()


def set_meta(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(meta.delete().where(meta.c.key == key))
        conn.execute(meta.insert().values(key=key, value=value))


def open_store(url: str | None = None) -> Engine:
    """`make_engine`, with what a host must fix (the database cannot be reached, or does not
    hold this release's tables) raised as a StoreError in plain words instead of a driver
    traceback. The app and the command line open the store through here."""
    from .errors import OPEN_FAILURES, store_error

    url = url or database_url()
    try:
        return make_engine(_with_connect_timeout(url))
    except OPEN_FAILURES as exc:
        raise store_error(exc, url) from None


CONNECT_TIMEOUT_S = 10


def _with_connect_timeout(url: str) -> str:
    """A PostgreSQL URL with a connect timeout unless it sets one: libpq's default is to wait
    for the operating system (minutes) when a firewall drops the packets, and the page would
    spin that long before saying the database cannot be reached."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    timed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    return timed.render_as_string(hide_password=False)
