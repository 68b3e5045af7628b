"""SQLite and PostgreSQL answer the same: the bundled snapshot in a SQLite store, in a
PostgreSQL store loaded through ingest and in one loaded by COPY of the prebuilt tables, and
`python -m data_sources series` (a real process) must print the same rows, CSV and JSON, and
the reads behind the pages must return the same frames."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from data_sources.snapshot import load_snapshot
from data_sources.store import query
from data_sources.store.engine import make_engine

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


# when each load happened differs by design between stores; everything else must not
LOAD_TIMES = ["started_at", "finished_at", "last_success", "last_attempt", "created_at"]
ALEPPO, MOSUL = "geonames:170063", "geonames:99072"
READS = {
    "cities": lambda e: query.cities(e),
    "places": lambda e: query.all_places(e),
    "catalogue": lambda e: query.catalogue(e, [ALEPPO, MOSUL]),
    "latest": lambda e: query.latest(e, [ALEPPO, MOSUL, "country:SYR"]),
    "map": lambda e: query.map_points(e, "food_price", "2016-12", "Wheat flour, retail", "SYP/KG"),
    "freshness": lambda e: query.freshness(e),
    "fetches": lambda e: query.fetches(e),
    "rejected": lambda e: query.rejected(e, 100),
}


@pytest.mark.parametrize("read", list(READS))
def test_the_pages_reads_return_the_same_frames_on_every_backend(stores, read):
    frames = {}
    for name, url in stores.items():
        engine = make_engine(url)
        frames[name] = READS[read](engine)
        engine.dispose()
    reference = frames["sqlite"]
    assert len(reference) > 0
    for name, frame in frames.items():
        # same columns, same types (times naive UTC on both, counts whole numbers)...
        assert dict(frame.dtypes) == dict(reference.dtypes), name
        # ...and the same values, apart from when each store was loaded
        drop = [c for c in LOAD_TIMES if c in frame.columns]
        pd.testing.assert_frame_equal(frame.drop(columns=drop), reference.drop(columns=drop))
