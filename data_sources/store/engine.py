"""Opening the store: the database URL from settings, engines brought to this release's schema, and the meta table's key-value pairs."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.store.tables import meta

# the parts a host (or compose.yaml) gives instead of a URL; any special character in them is
# quoted by SQLAlchemy's URL.create, so a password is never half-read as a host or a path
POSTGRES_PARTS = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD")
POSTGRES_DRIVER = "postgresql+psycopg"


def database_url() -> str:
    """Where the store is, in this order: DATABASE_URL (environment, else the top level of
    .streamlit/secrets.toml, where Streamlit Community Cloud keeps it); else a PostgreSQL URL
    built from POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB
    (compose.yaml passes these, so a password is typed once and never pasted into a URL by
    hand); else the embedded SQLite file. Raises StoreError (without the password) for parts
    that make no URL, e.g. a POSTGRES_PORT that is not a number."""
    from data_sources.settings import setting

    given = setting("DATABASE_URL", default="")
    if given:
        return given
    host = setting("POSTGRES_HOST")
    if not host:
        from data_sources.settings_registry import BY_NAME

        return BY_NAME["DATABASE_URL"].default or ""
    return postgres_url(
        host=host,
        port=setting("POSTGRES_PORT"),
        user=setting("POSTGRES_USER"),
        password=setting("POSTGRES_PASSWORD"),
        database=setting("POSTGRES_DB"),
    )


def postgres_url(
    *,
    host: str,
    port: str | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
) -> str:
    """The URL of a PostgreSQL store from its parts, every character of the password quoted
    (`@` `/` `#` `:` `%` `?` `&` `+` and spaces), as a string that SQLAlchemy reads back to the
    same parts."""
    from data_sources.errors import StoreError

    try:
        number = int(port) if port not in (None, "") else 5432
    except ValueError:
        raise StoreError(
            f"POSTGRES_PORT must be a port number (like 5432), not {port!r}."
        ) from None
    if not 0 < number < 65536:
        raise StoreError(f"POSTGRES_PORT must be between 1 and 65535, not {number}.")
    url = sa.URL.create(
        POSTGRES_DRIVER,
        username=user or None,
        password=password or None,
        host=host,
        port=number,
        database=database or user or None,
    )
    return url.render_as_string(hide_password=False)


def check_url(url: str) -> None:
    """Refuse a URL SQLAlchemy would read differently from what was written: a password with an
    unquoted `@`, `/`, `#` or `?` (`postgresql://me:p@ss/w#rd@db/x`) is otherwise read as
    part of a host and a database name, and would be shown to every visitor in the "cannot
    reach" message. The message names no part of the URL (any part may hold the password)."""
    from urllib.parse import unquote

    from data_sources.errors import StoreError

    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return
    userinfo = rest.rpartition("@")[0]
    user, colon, password = userinfo.partition(":")
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        parsed = None
    if (
        parsed is None
        or (parsed.username or "") != unquote(user)
        or (colon and (parsed.password or "") != unquote(password))
    ):
        raise StoreError(
            f"DATABASE_URL ({scheme}://…, not shown) cannot be read: its user name or password "
            "holds a character that must be percent-encoded in a URL (@ / # ? %). Set "
            "POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB "
            'instead (they need no quoting), or quote the password: python3 -c "import '
            "urllib.parse, getpass; print(urllib.parse.quote(getpass.getpass(), safe=''))\"."
        )


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
    check_url(url)
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

    try:
        url = url or database_url()
        check_url(url)
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
