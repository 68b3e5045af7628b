"""SQLite and PostgreSQL answer the same: the bundled snapshot in a SQLite store, in a
PostgreSQL store loaded through ingest and in one loaded by COPY of the prebuilt tables, and
`python -m data_sources series` (a real process) must print the same rows, CSV and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from data_sources.snapshot import load_snapshot
from data_sources.store import make_engine

from .conftest import ROOT

QUERIES = {
    "prices in Aleppo": ["--city", "Aleppo", "--metric", "food_price"],
    "wheat flour in Aleppo, USD": [
        "--city", "aleppo", "--metric", "food_price",
        "--qualifier", "Wheat flour, retail", "--unit", "USD/KG",
    ],
    "reported deaths in Mosul": [
        "--city", "Mosul", "--metric", "civilians_killed", "--source", "reported",
    ],
    "UNHCR refugees from Syria": [
        "--place", "Syria", "--metric", "refugees_from", "--source", "unhcr",
    ],
    "displaced in Iraq": ["--place", "country:IRQ", "--metric", "idps"],
}  # fmt: skip


@pytest.fixture(scope="module")
def stores(loaded_db, pg_server, pg_snapshot_template) -> dict[str, str]:
    copied = pg_server.new_database()
    engine = make_engine(copied)
    load_snapshot(engine)  # an empty PostgreSQL store: the prebuilt tables through COPY
    engine.dispose()
    return {
        "sqlite": f"sqlite:///{loaded_db}",
        "postgresql (ingest)": pg_server.new_database(template=pg_snapshot_template),
        "postgresql (copy)": copied,
    }


def series_outputs(stores: dict[str, str], args: list[str]) -> dict[str, str]:
    """stdout of the same `series` command against every store, the processes side by side."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "data_sources", "series", *args],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, url in stores.items()
    }
    outputs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name}: {err}"
        outputs[name] = out
    return outputs


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("query", list(QUERIES))
def test_series_prints_the_same_rows_on_every_backend(stores, query, fmt):
    outputs = series_outputs(stores, [*QUERIES[query], "--format", fmt])
    if fmt == "csv":
        rows = {name: out.splitlines() for name, out in outputs.items()}
    else:
        rows = {name: json.loads(out) for name, out in outputs.items()}
    reference = rows["sqlite"]
    assert len(reference) > 2, f"{query}: too few rows to compare"
    for name, got in rows.items():
        assert len(got) == len(reference), (
            f"{query}, {name}: {len(got)} rows, sqlite has {len(reference)}"
        )
        for i, (row, expected) in enumerate(zip(got, reference, strict=True)):
            assert row == expected, f"{query}, {name}, row {i}"
