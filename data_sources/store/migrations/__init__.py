"""Schema migrations (Alembic): every store is brought to the schema this release expects.

`store.make_engine` calls `ensure_current`, which costs one query when the store is up to date
(`SELECT version_num FROM alembic_version`, compared with the head revision of `versions/`,
read once per process without importing Alembic). Otherwise `upgrade` runs, under a lock so
that two processes starting at once do not both migrate (PostgreSQL: a transaction-level
advisory lock; SQLite: `BEGIN IMMEDIATE`, the database's write lock), in one transaction:

- an empty database gets every revision, up to head;
- a store made before migrations existed (our tables, no `alembic_version`) is checked against
  the released schema, stamped with the revision it matches, then upgraded;
- a store at a revision this release does not know (made by a newer release), or whose tables
  match no released schema, raises `StoreError` saying what is wrong and what to do.

Adding a revision (a new column or table in `tables.py`): see README.md in this folder. In
short, copy the newest file in `versions/`, number it next (`0003_...py`, `revision = "0003"`,
`down_revision = "0002"`), write `upgrade()` out explicitly (never import `store.metadata`),
and run `pytest tests/test_migrations.py`: it fails until `tables.py` and head agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from data_sources.errors import StoreError

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
VERSION_TABLE = "alembic_version"
# pg_advisory_xact_lock key: any constant, the same in every process of every release
PG_LOCK_KEY = 0x5175_7466_4D69_6701

# The schema released at 44ede93 (revision 0001), as column names per table: how a store made
# before migrations is recognized. `pages` and `requests` were added to older stores by hand
# (ALTER TABLE) and are added again here when missing.
BASELINE_COLUMNS = {
    "places": {
        "place_id",
        "kind",
        "name",
        "country_iso3",
        "lat",
        "lon",
        "population",
        "geonames_id",
    },
    "provenance": {
        "provenance_id",
        "prov_key",
        "source",
        "source_url",
        "citation",
        "quote",
        "licence",
    },
    "series": {
        "series_id",
        "series_key",
        "source",
        "dataset",
        "metric",
        "qualifier",
        "site",
        "place_id",
        "unit",
        "estimate",
        "place_raw",
        "admin1",
        "admin2",
        "pcode",
        "match_method",
        "match_score",
    },
    "fetch_log": {
        "fetch_id",
        "source",
        "target",
        "started_at",
        "finished_at",
        "status",
        "rows_in",
        "rows_new",
        "rows_revised",
        "rows_unchanged",
        "rows_rejected",
        "error",
        "pages",
        "requests",
    },
    "observations": {
        "series_id",
        "period_start",
        "period_end",
        "revision",
        "value",
        "is_current",
        "retrieved_at",
        "provenance_id",
        "fetch_id",
    },
    "rejects": {
        "reject_id",
        "reject_key",
        "fetch_id",
        "source",
        "dataset",
        "row_ref",
        "reason",
        "raw",
        "created_at",
    },
    "meta": {"key", "value"},
}
LATE_BASELINE_COLUMNS = {
    "pages": "responses fetched (live feeds)",
    "requests": "HTTP requests sent, retries included",
}
# what 0002 adds; a pre-migration store made by main after 44ede93 already has it
REVISION_0002_COLUMNS = {"fetch_log": {"pages_not_modified", "pages_cached"}}
REVISION_0002_TABLES = {"locks": {"name", "holder", "acquired_at", "expires_at", "detail"}}


@functools.cache
def revisions() -> dict[str, str | None]:
    """revision -> down_revision, read from the files in versions/ (no Alembic import: this
    runs on every process start). A test checks it against Alembic's own reading."""
    found: dict[str, str | None] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(?:None|['\"]([^'\"]+)['\"])", text, re.M)
        if rev and down:
            found[rev.group(1)] = down.group(1)
    return found


@functools.cache
def head() -> str:
    """The newest revision: the one no other revision follows."""
    revs = revisions()
    heads = set(revs) - {d for d in revs.values() if d}
    if len(heads) != 1:
        raise RuntimeError(f"migrations/versions must form one line; heads found: {heads}")
    return heads.pop()


def alembic_config(connection: Connection | None = None):
    """Alembic's Config built in code (no alembic.ini): script location and the connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _stored_revisions(conn: Connection) -> list[str] | None:
    """The revisions in alembic_version, or None when the table does not exist."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return [r[0] for r in conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")]


def current_revision(engine: Engine) -> str | None:
    """The store's revision; None for a store without alembic_version (empty or older)."""
    with engine.connect() as conn:
        stored = _stored_revisions(conn)
    return ", ".join(stored) if stored else None


def is_current(engine: Engine) -> bool:
    """One query: is the store at this release's head?"""
    with engine.connect() as conn:
        try:
            stored = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        except sa.exc.DBAPIError:  # no alembic_version table (connection errors raise above)
            conn.rollback()
            return False
    return [r[0] for r in stored] == [head()]


def ensure_current(engine: Engine) -> None:
    """Bring the store to head, unless it is there already (the usual case: one query)."""
    if not is_current(engine):
        upgrade(engine)


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"the SQLite store {url.database or ':memory:'}"
    from data_sources.redact import redact_url

    return f"the PostgreSQL store {redact_url(url.render_as_string(hide_password=True))}"


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that holds the migration lock; committed on success,
    rolled back (nothing changed) on error."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from data_sources.store.engine import _sqlite_pragmas

        # own engine: the driver must not manage transactions, so that DDL runs inside ours
        locker = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"timeout": 60})

        @sa.event.listens_for(locker, "connect")
        def _connect(dbapi_conn, record):
            dbapi_conn.isolation_level = None
            _sqlite_pragmas(dbapi_conn, record)
            # as SQLite's own recipe for rebuilding a table (what batch mode does when it must
            # copy one): foreign keys off while the schema changes, checked before commit
            dbapi_conn.execute("PRAGMA foreign_keys=OFF")

        @sa.event.listens_for(locker, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, taken now, held to commit

        try:
            with locker.connect() as conn, conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
        finally:
            locker.dispose()
    else:
        with engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield conn


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the store to head (or `revision`) under the lock; returns (revision before,
    revision after),
    before being None for an empty store or one made before migrations.
    Raises StoreError when the store is newer than this release or its tables match no
    released schema (nothing is changed then)."""
    from alembic import command

    with _locked(engine) as conn:
        stored = _stored_revisions(conn)
        before = stored[0] if stored and len(stored) == 1 else None
        if stored and (len(stored) > 1 or before not in revisions()):
            raise StoreError(
                f"{_where(engine)} is at schema revision {', '.join(stored)}, which this "
                f"release does not know (it knows up to {head()}): it was upgraded by a newer "
                "release of Situation Room. Run that newer release against it, or set "
                "DATABASE_URL to another store."
            )
        current = before if before is not None else _adopt_unversioned(conn, engine)
        if current != (head() if revision == "head" else revision):
            try:
                command.upgrade(alembic_config(conn), revision)
            except sa.exc.DBAPIError as exc:  # e.g. a database user not allowed to alter
                raise StoreError(
                    f"{_where(engine)} needs its schema brought from revision "
                    f"{current or 'none (empty)'} to {head()}, and the database refused: "
                    f"{str(exc.orig).strip().splitlines()[0]}. Nothing was changed. Run "
                    "`python -m data_sources migrate` as a database user allowed to create "
                    "and alter tables, then start again."
                ) from exc
        after = _stored_revisions(conn)
    return before, after[0] if after else ""


def downgrade(engine: Engine, revision: str) -> None:
    """Step the schema back to `revision` (for development; the store never does this)."""
    from alembic import command

    with _locked(engine) as conn:
        command.downgrade(alembic_config(conn), revision)


def _adopt_unversioned(conn: Connection, engine: Engine) -> str | None:
    """A store without alembic_version: None when it holds none of our tables (empty);
    otherwise check it against the released schema, add the columns old stores got by hand,
    and stamp it with the revision it matches."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names()) - {VERSION_TABLE}
    ours = set(BASELINE_COLUMNS) | set(REVISION_0002_TABLES)
    if not tables & ours:
        return None
    problems = []
    missing = sorted(set(BASELINE_COLUMNS) - tables)
    if missing:
        problems.append(f"table(s) {', '.join(missing)} missing")
    columns = {t: {c["name"] for c in inspector.get_columns(t)} for t in sorted(tables & ours)}
    allowed = {t: set(c) for t, c in BASELINE_COLUMNS.items()}
    for t, extra in REVISION_0002_COLUMNS.items():
        allowed[t] |= extra
    allowed.update(REVISION_0002_TABLES)
    late = set(LATE_BASELINE_COLUMNS)
    for table, present in columns.items():
        lacking = allowed[table] - present - (late if table == "fetch_log" else set())
        lacking -= REVISION_0002_COLUMNS.get(table, set())
        if lacking:
            problems.append(f"{table} lacks column(s) {', '.join(sorted(lacking))}")
        unknown = present - allowed[table]
        if unknown:
            problems.append(f"{table} has unexpected column(s) {', '.join(sorted(unknown))}")
    has_0002 = [
        "locks" in tables,
        *(c in columns.get(t, set()) for t, cs in REVISION_0002_COLUMNS.items() for c in cs),
    ]
    if any(has_0002) and not all(has_0002):
        problems.append("the locks table and the fetch_log page counts are only partly there")
    if problems:
        raise StoreError(
            f"{_where(engine)} was made before schema migrations and its tables match no "
            f"released schema ({'; '.join(problems)}), so it is left untouched. It was "
            "probably made by a development version: move it aside (or set DATABASE_URL to "
            "a new store) and load the figures again with `python -m data_sources "
            "load-snapshot` or `import`."
        )
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    context = MigrationContext.configure(conn)
    ops = Operations(context)
    for name, comment in LATE_BASELINE_COLUMNS.items():
        if name not in columns["fetch_log"]:
            ops.add_column("fetch_log", sa.Column(name, sa.Integer, comment=comment))
    revision = "0002" if all(has_0002) else "0001"
    context.stamp(ScriptDirectory(str(HERE)), revision)
    return revision
