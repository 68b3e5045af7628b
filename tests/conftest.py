"""Shared fixtures: real SQLite files and a real PostgreSQL server, the real bundled snapshot,
the real gazetteer.

Store fixtures (`store_url`, `loaded_url`, `empty_engine`, `loaded_engine`) are parametrized
over both backends, so every test that uses them runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data_sources.model.places import gazetteer
from data_sources.snapshot import load_snapshot
from data_sources.store.engine import make_engine
from devtools.replay_server import FEED_KEYS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def gaz():
    return gazetteer()


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL cluster for the whole session (Debian's binaries, a temp folder)."""
    from devtools.pg_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_snapshot_template(pg_server) -> str:
    """A PostgreSQL database holding the bundled snapshot, loaded once through ingest; tests
    get copies of it (CREATE DATABASE ... TEMPLATE)."""
    url = pg_server.new_database(name="snapshot_template")
    engine = make_engine(url)
    load_snapshot(engine, prebuilt=False)
    engine.dispose()
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
    """A store file holding the whole bundled snapshot, built once per test session."""
    path = tmp_path_factory.mktemp("store") / "snapshot.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    load_snapshot(engine, prebuilt=False)  # the raw files through ingest, as a refresh would
    engine.dispose()
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
