"""Shared fixtures: real SQLite files and a real PostgreSQL server, the real bundled snapshot,
the real gazetteer.

Store fixtures (`store_url`, `loaded_url`, `empty_engine`, `loaded_engine`) are parametrized
over both backends, so every test that uses them runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_sources.model.places import gazetteer
from data_sources.snapshot import load_snapshot
from data_sources.store.engine import make_engine
from devtools.replay_server import FEED_KEYS
from tests.shared_data import TAG as SHARED_TAG

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def gaz():
    return gazetteer()


BACKENDS = ["sqlite", "postgresql"]


def pytest_addoption(parser):
    parser.addoption(
        "--stores",
        default=",".join(BACKENDS),
        help="the store backends to run the two-store tests on (`make test-fast`: sqlite)",
    )


def pytest_collection_modifyitems(config, items):
    """Two jobs at collection. (1) `--stores sqlite` deselects the PostgreSQL half of every
    two-store test, and every test that needs the PostgreSQL server (said in the summary as
    deselected, never skipped silently). (2) Under
    pytest-xdist (`--dist loadgroup`) a test whose fixtures live for its module (a server, a
    browser) is grouped with its module, so one worker starts them once; the rest spread
    test by test."""
    stores = {s.strip() for s in config.getoption("--stores").split(",") if s.strip()}
    unknown = stores - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"--stores: unknown {sorted(unknown)}; known: {BACKENDS}")
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        if any(v in BACKENDS and v not in stores for v in params.values() if isinstance(v, str)):
            dropped.append(item)
            continue
        if "postgresql" not in stores and "pg_server" in getattr(item, "fixturenames", ()):
            dropped.append(item)  # a test that starts PostgreSQL itself, whatever its params
            continue
        kept.append(item)
        defs = getattr(item, "_fixtureinfo", None)
        scoped = defs and any(
            d.scope == "module" for fd in defs.name2fixturedefs.values() for d in fd
        )
        if scoped:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """REQUIRE_SHARED_DATA=1 (CI, `.ci/run`): a test skipped because a real file of
    ../shared/data is absent fails instead, with the same words."""
    report = yield
    if report.skipped and os.environ.get("REQUIRE_SHARED_DATA") == "1":
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if reason.startswith(f"Skipped: {SHARED_TAG}") or reason.startswith(SHARED_TAG):
            report.outcome, report.longrepr = "failed", f"REQUIRE_SHARED_DATA=1: {reason}"
    return report


def pytest_terminal_summary(terminalreporter):
    """Say in one line what a machine without ../shared/data did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    absent = [r for r in skipped if SHARED_TAG in str(r.longrepr)]
    if absent:
        terminalreporter.write_line(
            f"NOT RUN: {len(absent)} tests of real files in ../shared/data (absent here; CI "
            "sets REQUIRE_SHARED_DATA=1 and fails them instead)",
            yellow=True,
        )


def _shared_dir(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees (their base temps' parent); the session's
    own base temp without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _only_one(lock_path: Path):
    """One process at a time past this point (an flock), so a shared thing is built once."""
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """One PostgreSQL cluster for the whole run (Debian's binaries, a temp folder). Under
    xdist the first worker that needs it starts it and the others attach to it; the xdist
    controller stops it when every worker has finished (`pytest_unconfigure`)."""
    from devtools.pg_server import PostgresServer

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        server = PostgresServer().start()
        yield server
        server.stop()
        return
    shared = _shared_dir(tmp_path_factory)
    with _only_one(shared / "pg.lock"):
        info = shared / PG_INFO
        if info.exists():
            server = PostgresServer.attach(**json.loads(info.read_text()))
        else:
            server = PostgresServer().start()
            info.write_text(json.dumps({"data": str(server.data), "port": server.port}))
    yield server


PG_INFO = "pg-server.json"


def pytest_unconfigure(config):
    """The xdist controller stops the PostgreSQL cluster its workers shared."""
    if hasattr(config, "workerinput") or not hasattr(config, "_tmp_path_factory"):
        return
    info = config._tmp_path_factory.getbasetemp() / PG_INFO
    if info.exists():
        from devtools.pg_server import PostgresServer

        PostgresServer.attach(**json.loads(info.read_text())).stop()


@pytest.fixture(scope="session")
def pg_snapshot_template(pg_server, tmp_path_factory) -> str:
    """A PostgreSQL database holding the bundled snapshot, loaded once per run through ingest
    (by the first worker that needs it); tests get copies of it (CREATE DATABASE ... TEMPLATE)."""
    with _only_one(_shared_dir(tmp_path_factory) / "pg-template.lock"):
        engine = make_engine(pg_server.url())
        with engine.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = 'snapshot_template'"
            ).first()
        engine.dispose()
        if not exists:
            url = pg_server.new_database(name="snapshot_building")
            engine = make_engine(url)
            load_snapshot(engine, prebuilt=False)
            engine.dispose()
            admin = sa.create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:  # renamed only once whole: never half a template
                conn.exec_driver_sql(
                    'ALTER DATABASE "snapshot_building" RENAME TO "snapshot_template"'
                )
            admin.dispose()
    return "snapshot_template"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(backend, request, tmp_path) -> str:
    """The URL of a fresh, empty store on this test's backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture
def loaded_url(backend, request, tmp_path) -> str:
    """The URL of a private store holding the whole bundled snapshot, on this test's backend."""
    if backend == "sqlite":
        path = tmp_path / "loaded.sqlite"  # not store_url's file: a test may use both
        shutil.copyfile(request.getfixturevalue("loaded_db"), path)
        return f"sqlite:///{path}"
    template = request.getfixturevalue("pg_snapshot_template")
    return request.getfixturevalue("pg_server").new_database(template=template)


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory) -> Path:
    """A store file holding the whole bundled snapshot, built once per run (by the first
    xdist worker that needs it; tests copy it)."""
    shared = _shared_dir(tmp_path_factory)
    path = shared / "snapshot.sqlite"
    with _only_one(shared / "snapshot.lock"):
        if not path.exists():
            building = shared / "snapshot-building.sqlite"
            engine = make_engine(f"sqlite:///{building}")
            load_snapshot(
                engine, prebuilt=False
            )  # the raw files through ingest, as a refresh would
            engine.dispose()  # checkpoints the WAL into the file
            building.rename(path)  # whole or absent: a crashed build is never copied
    return path


@pytest.fixture
def loaded_engine(loaded_url):
    """A private copy of the loaded store, so a test may write without disturbing others."""
    engine = make_engine(loaded_url)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_engine(store_url):
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def store_dump(engine) -> str:
    """Everything the store holds, as text, to search for what must never be stored (keys).
    SQLite: the database file's bytes themselves, WAL included, so even freed pages count.
    PostgreSQL: every row of every table, each row as PostgreSQL prints it."""
    import sqlalchemy as sa

    if engine.dialect.name == "sqlite":
        engine.dispose()  # checkpoint the WAL into the file
        db = Path(engine.url.database)
        return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*")).decode("latin-1")
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        return "\n".join(
            row[0]
            for name in tables
            for row in conn.exec_driver_sql(f'SELECT t::text FROM "{name}" AS t')
        )


@pytest.fixture(scope="session")
def feed_server():
    """The replay server for the live feeds, on a free port of 127.0.0.1."""
    from devtools.replay_server import FeedServer

    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def feeds(feed_server, monkeypatch, tmp_path):
    """Every connector pointed at the replay server, keys set, fast and uncached HTTP."""
    from data_sources import settings
    from data_sources.feeds.connectors import CONNECTORS

    feed_server.clear()
    monkeypatch.setenv("SITUATION_ROOM_SECRETS", str(tmp_path / "no-secrets.toml"))
    for cls in CONNECTORS.values():
        monkeypatch.setenv(cls.base_url_setting, feed_server.base_url)
    for name, value in FEED_KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HXL_URLS", feed_server.base_url + "/files/aleppo_prices.csv")
    monkeypatch.setenv("HTTP_CACHE_DIR", str(tmp_path / "http_cache"))
    monkeypatch.setenv("HTTP_CACHE_TTL", "0")
    monkeypatch.setenv("HTTP_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("HTTP_BACKOFF_MAX", "0.05")
    monkeypatch.setenv("HTTP_READ_TIMEOUT", "5")  # a loaded 2-core CI box can take >1 s
    monkeypatch.setenv("HTTP_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("HTTP_REQUESTS_PER_SECOND", "0")
    settings.reload()
    yield feed_server
    feed_server.clear()
    settings.reload()


def drop_source(url: str, source: str) -> None:
    """Remove one source's figures from a test store (its series and observations): tests of
    an outside import of UCDP's Mosul events start from a snapshot without the bundled UCDP
    events, so that the import is the only line on the chart."""
    import sqlalchemy as sa

    from data_sources.store.tables import observations, series

    engine = make_engine(url)
    with engine.begin() as conn:
        ids = sa.select(series.c.series_id).where(series.c.source == source)
        conn.execute(observations.delete().where(observations.c.series_id.in_(ids)))
        conn.execute(series.delete().where(series.c.source == source))
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (never a downloaded browser), one per test module;
    tests open their own pages in it."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def chromium(browser):
    return browser
