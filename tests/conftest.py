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
    load_snapshot(engine)
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
