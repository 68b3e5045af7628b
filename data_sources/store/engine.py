"""Opening the store: the database URL from settings, engines brought to this release's schema, and the meta table's key-value pairs."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.store.tables import meta


def database_url() -> str:
    """DATABASE_URL from the environment or the top level of .streamlit/secrets.toml (where
    Streamlit Community Cloud keeps it), else the embedded SQLite file."""
    from data_sources.settings import setting

    return setting("DATABASE_URL") or ""


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

    The schema is Alembic's (data_sources/store/migrations): an empty store is created at the
    newest revision, an older one upgraded, an up-to-date one costs a single query. A store
    this release cannot use raises `errors.StoreError`. `migrate=False` leaves the schema
    as it is (for `python -m data_sources migrate --check`)."""
    url = url or database_url()
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        from data_sources.errors import lock_timeout

        # a second writer waits this long for the first one's transaction (busy timeout),
        # then fails with "database is locked", which errors.StoreBusy says in plain words
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout()}
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        from data_sources.errors import lock_timeout

        # the same bound as SQLite's busy timeout: a writer blocked by another process's
        # lock gives up after STORE_LOCK_TIMEOUT with errors.StoreBusy instead of hanging
        options = {}
        if parsed.get_backend_name() == "postgresql" and "options" not in parsed.query:
            options = {"options": f"-c lock_timeout={int(lock_timeout() * 1000)}"}
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=options)
    if migrate:
        from data_sources.store.migrations import ensure_current

        ensure_current(engine)
    return engine


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
    from data_sources.errors import OPEN_FAILURES, store_error

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
