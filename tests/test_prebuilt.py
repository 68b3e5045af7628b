"""The prebuilt snapshot tables: a fresh store's fast first start must equal the ingest path."""

import json
import shutil
import sqlite3

import pandas as pd
import pytest

from data_sources import query
from data_sources.snapshot import fingerprint, load_snapshot, prebuilt
from data_sources.store import make_engine

# what differs by design: when the copy or the ingest happened
STAMPS = {"fetch_log": ["started_at", "finished_at"], "rejects": ["created_at"]}


def table(path, name):
    with sqlite3.connect(path) as con:
        frame = pd.read_sql_query(f"SELECT * FROM {name}", con)
    frame = frame.drop(columns=STAMPS.get(name, []))
    return frame.sort_values(list(frame.columns[:4])).reset_index(drop=True)


def test_bundled_tables_were_built_from_the_bundled_files():
    manifest = json.loads(prebuilt.MANIFEST_FILE.read_text())
    assert manifest["fingerprint"] == fingerprint(), (
        "the raw snapshot changed: run python -m data_sources.snapshot.prebuilt"
    )


@pytest.mark.parametrize("name", [t.name for t in prebuilt.TABLES])
def test_fresh_store_from_prebuilt_tables_equals_the_ingested_one(
    loaded_db, tmp_path, monkeypatch, name
):
    def no_ingest(*args, **kwargs):
        raise AssertionError("a fresh store must copy the prebuilt tables, not ingest")

    monkeypatch.setattr("data_sources.snapshot.ingest", no_ingest)
    fast = tmp_path / "fast.sqlite"
    engine = make_engine(f"sqlite:///{fast}")
    results = load_snapshot(engine)
    engine.dispose()
    assert [r.target for r in results] == [
        "snapshot:wfp_food_prices_syr.csv",
        "snapshot:population_irq_syr_derived.csv",
        "snapshot:idmc_irq_syr_derived.csv",
        "snapshot:reported_figures.csv",
    ]
    assert results[0].rows_new == 53_728 and results[0].rows_rejected == 2_300
    pd.testing.assert_frame_equal(table(fast, name), table(loaded_db, name))


def test_copied_store_answers_like_the_ingested_one(loaded_db, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fast.sqlite'}")
    load_snapshot(engine)
    slow = make_engine(f"sqlite:///{loaded_db}")
    aleppo = "geonames:170063"
    args = ([aleppo], "food_price")
    kwargs = {"qualifier": "Wheat flour, retail", "unit": "SYP/KG"}
    copied = query.series_frame(engine, *args, **kwargs)
    assert len(copied) > 100  # Aleppo's three markets, monthly 2014-2018
    pd.testing.assert_frame_equal(copied, query.series_frame(slow, *args, **kwargs))
    fresh = query.freshness(engine).set_index("source")
    assert fresh.loc["wfp", "figures"] == 53_728 and fresh.loc["wfp", "last_status"] == "ok"
    engine.dispose()
    slow.dispose()


def test_a_store_with_figures_or_edited_files_takes_the_ingest_path(loaded_db, tmp_path):
    copy = tmp_path / "held.sqlite"
    shutil.copyfile(loaded_db, copy)
    engine = make_engine(f"sqlite:///{copy}")
    assert not prebuilt.usable(engine, fingerprint())  # already holds figures
    engine.dispose()
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert prebuilt.usable(empty, fingerprint())
    assert not prebuilt.usable(empty, "0" * 40)  # raw files edited since the tables were built
    empty.dispose()
