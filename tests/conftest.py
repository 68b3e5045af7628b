"""Shared fixtures: real SQLite files, the real bundled snapshot, the real gazetteer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data_sources.places import gazetteer
from data_sources.snapshot import load_snapshot
from data_sources.store import make_engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def gaz():
    return gazetteer()


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory) -> Path:
    """A store file holding the whole bundled snapshot, built once per test session."""
    path = tmp_path_factory.mktemp("store") / "snapshot.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    load_snapshot(engine, prebuilt=False)  # the raw files through ingest, as a refresh would
    engine.dispose()
    return path


@pytest.fixture
def loaded_engine(loaded_db, tmp_path):
    """A private copy of the loaded store, so a test may write without disturbing others."""
    path = tmp_path / "store.sqlite"
    shutil.copyfile(loaded_db, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def empty_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    yield engine
    engine.dispose()


FEED_KEYS = {
    "HAPI_APP_IDENTIFIER": "dGVzdC1hcHA6dGVzdEBleGFtcGxlLm9yZw==",
    "DTM_SUBSCRIPTION_KEY": "dtm-secret-key-123",
    "UCDP_ACCESS_TOKEN": "ucdp-secret-token-456",
    "ACLED_USERNAME": "analyst@example.org",
    "ACLED_PASSWORD": "acled-secret-password-789",
    "RELIEFWEB_APPNAME": "situation-room-test-rw",
}


@pytest.fixture(scope="session")
def feed_server():
    """The replay server for the live feeds, on a free port of 127.0.0.1."""
    from tests.feed_server import FeedServer

    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def feeds(feed_server, monkeypatch, tmp_path):
    """Every connector pointed at the replay server, keys set, fast and uncached HTTP."""
    from data_sources import settings
    from data_sources.connectors import CONNECTORS

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
    monkeypatch.setenv("HTTP_READ_TIMEOUT", "1")
    monkeypatch.setenv("HTTP_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("HTTP_REQUESTS_PER_SECOND", "0")
    settings.reload()
    yield feed_server
    feed_server.clear()
    settings.reload()
