"""Errors a person must act on, with messages in plain words (shown as they are on pages and
by the command line, never as a traceback)."""

from __future__ import annotations

import re

import sqlalchemy as sa


class StoreError(RuntimeError):
    """The store cannot be used as it is: unreachable, or its schema is not the one this
    release expects. The message says what is wrong and what to do."""


class StoreBusy(StoreError):
    """Another process held the store's write lock for longer than we wait for it
    (`STORE_LOCK_TIMEOUT`): nothing was written, and trying again later will work."""


# what the app and the command line turn into a plain message instead of a traceback: the
# driver's errors as SQLAlchemy wraps them, and a table the inspector cannot find
STORE_FAILURES: tuple[type[Exception], ...] = (
    StoreError,
    sa.exc.DBAPIError,
    sa.exc.NoSuchTableError,
)
# and, while the store is being opened, a URL that is not one and a folder that cannot be made
OPEN_FAILURES: tuple[type[Exception], ...] = (
    *STORE_FAILURES,
    sa.exc.ArgumentError,
    OSError,
    ImportError,  # the URL names a driver that is not installed
)

CHECK_URL = (
    "Check DATABASE_URL, or POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD and "
    "POSTGRES_DB (host, port, user, password, database), and that the database "
    "server is running."
)
# driver wording -> the reason in plain words, for a store that cannot be reached
UNREACHABLE = [
    (r"connection refused", "connection refused"),
    (r"password authentication failed|no password supplied", "the user or password was refused"),
    (r"role \"[^\"]*\" does not exist", "the server has no such user"),
    (r"database \"([^\"]*)\" does not exist", "the server has no database named {0}"),
    (
        r"could not translate host name|name or service not known|nodename nor servname",
        "unknown host name",
    ),
    (r"timeout expired|timed out", "no answer in time"),
    (r"no route to host|network is unreachable", "no route to the host"),
    (r"server closed the connection|terminating connection", "the server closed the connection"),
    (r"unable to open database file", "the file cannot be opened or created there"),
    (r"no pg_hba\.conf entry", "the server does not accept connections from this machine"),
]
# driver wording for a store whose write lock another process held too long (SQLite's busy
# timeout, PostgreSQL's lock_timeout)
BUSY = r"database is locked|database table is locked|lock timeout"


def lock_timeout() -> float:
    """STORE_LOCK_TIMEOUT: how many seconds a writer waits for another process's write to end
    before giving up with `StoreBusy` (SQLite holds one writer at a time; default 60)."""
    from data_sources.settings import number

    return max(0.1, number("STORE_LOCK_TIMEOUT"))


# driver wording for a store that answers but does not hold the expected tables
WRONG_SCHEMA = (
    r"no such table|no such column|does not exist|undefined(table|column)|permission denied"
    r"|must be owner|file is not a database|has no column|malformed"
)


def shown_url(url: str | sa.URL) -> str:
    """The URL as a person may see it: the password replaced by ***, in the user-info and in
    the query (`?password=`, which libpq honours too). A URL that SQLAlchemy reads differently
    from what was written (an unquoted `@` or `/` in the password) is not shown at all: its
    "host" and "database" would be pieces of the password."""
    from data_sources.redact import redact_url
    from data_sources.store.engine import check_url

    try:
        if isinstance(url, str):
            check_url(url)
        return redact_url(sa.make_url(url).render_as_string(hide_password=True))
    except (sa.exc.ArgumentError, StoreError):
        return "(not shown: it cannot be read as a URL)"


def store_error(exc: BaseException, url: str | sa.URL | None = None) -> StoreError:
    """`_store_error`, its message scrubbed whole (a driver or parser may quote the URL, its
    `?password=` included)."""
    from data_sources.redact import redact

    found = _store_error(exc, url)
    message = redact(str(found))
    return found if message == str(found) else type(found)(message)


def _store_error(exc: BaseException, url: str | sa.URL | None = None) -> StoreError:
    """A store failure in plain words, naming the store (never its password) and what to do.

    Already a StoreError: kept as it is. A driver error is sorted into "cannot reach the
    database" (refused, wrong password, unknown host or database, server gone) or "the
    database does not hold the tables this release expects" (missing or foreign tables, no
    right to create them, a file that is not a database)."""
    if isinstance(exc, StoreError):
        return exc
    if url is None:
        from data_sources.store.engine import database_url

        url = database_url()
    where = shown_url(url)
    if isinstance(exc, sa.exc.ArgumentError):  # includes an unknown driver name
        heroku = str(url).startswith("postgres:")  # the old spelling some hosts still hand out
        return StoreError(
            f"DATABASE_URL {where} is not a database URL this release understands ({exc}). "
            + ("Write postgresql+psycopg:// where it says postgres://. " if heroku else "")
            + "Use sqlite:///path/to/file.sqlite or postgresql+psycopg://user:password@host:5432/db."
        )
    if isinstance(exc, ImportError):
        return StoreError(
            f"DATABASE_URL {where} needs a database driver that is not installed "
            f"({exc.name or exc}). Use sqlite:///path/to/file.sqlite or "
            "postgresql+psycopg://user:password@host:5432/db."
        )
    if isinstance(exc, OSError):  # SQLite: the folder for the file cannot be made
        return StoreError(f"Cannot open the store at {where} ({exc.strerror or exc}). " + CHECK_URL)
    detail = _driver_message(exc, url)
    lowered = detail.lower()
    if re.search(BUSY, lowered):
        return StoreBusy(
            f"The store at {where} is busy: another process (an import, a refresh or a "
            f"snapshot load) kept it locked for writing longer than this one waits "
            f"({lock_timeout():g} s). Nothing was written; try again when it has finished, or "
            "set STORE_LOCK_TIMEOUT (seconds) to wait longer."
        )
    for pattern, reason in UNREACHABLE:
        found = re.search(pattern, lowered)
        if found and not (
            reason.startswith("the server has no database") and "relation" in lowered
        ):
            return StoreError(
                f"Cannot reach the database at {where} ({reason.format(*found.groups())}). "
                + CHECK_URL
            )
    if isinstance(exc, sa.exc.NoSuchTableError) or re.search(WRONG_SCHEMA, lowered):
        return StoreError(
            f"The database at {where} does not hold the tables this release of Situation Room "
            f"expects ({detail}). Point DATABASE_URL at a Situation Room store, or at an empty "
            "database in which this user may create tables."
        )
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return StoreError(f"Cannot reach the database at {where} ({detail}). " + CHECK_URL)
    return StoreError(f"The database at {where} failed: {detail}. " + CHECK_URL)


def _driver_message(exc: BaseException, url: str | sa.URL) -> str:
    """The driver's own first line, without SQLAlchemy's SQL echo and without the password."""
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip() or type(origin).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = lines[0] if lines else text
    if len(lines) > 1 and line.endswith("failed:"):  # psycopg: the reason is on the next line
        line = f"{line} {lines[1]}"
    try:
        password = sa.make_url(url).password
    except sa.exc.ArgumentError:
        password = None
    if password:
        line = line.replace(str(password), "***")
    from data_sources.redact import redact

    return redact(line)[:300]  # scrubbed whole, then cut
