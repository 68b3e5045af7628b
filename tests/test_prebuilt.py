"""The prebuilt snapshot tables: a fresh store's fast first start (a copy on SQLite, COPY on
PostgreSQL) must equal the ingest path, on each backend."""

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.snapshot import fingerprint, load_snapshot, prebuilt
from data_sources.store import query
from data_sources.store.engine import make_engine
from data_sources.store.ingest import ingest

from .test_store import figure

# what differs by design: when the copy or the ingest happened
STAMPS = {"fetch_log": ["started_at", "finished_at"], "rejects": ["created_at"]}


def table(engine, name):
    """A whole table as the store returns it, in a stable order."""
    with engine.connect() as conn:
        result = conn.execute(
            sa.select(sa.table(name, *[sa.column(c) for c in columns(conn, name)]))
        )
        frame = pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))
    frame = frame.drop(columns=STAMPS.get(name, []))
    return frame.sort_values(list(frame.columns[:4])).reset_index(drop=True)


def columns(conn, name):
    return [c["name"] for c in sa.inspect(conn).get_columns(name)]


def no_ingest(*args, **kwargs):
    raise AssertionError("a fresh store must copy the prebuilt tables, not ingest")


def test_bundled_tables_were_built_from_the_bundled_files():
    manifest = json.loads(prebuilt.MANIFEST_FILE.read_text())
    assert manifest["fingerprint"] == fingerprint(), (
        "the raw snapshot changed: run python -m data_sources.snapshot.prebuilt"
    )


def test_fresh_store_from_prebuilt_tables_equals_the_ingested_one(
    store_url, loaded_url, monkeypatch
):
    monkeypatch.setattr("data_sources.snapshot.ingest", no_ingest)
    fast = make_engine(store_url)
    results = load_snapshot(fast)
    assert [r.target for r in results] == [
        "snapshot:wfp_food_prices_syr.csv",
        "snapshot:population_irq_syr_derived.csv",
        "snapshot:idmc_irq_syr_derived.csv",
        "snapshot:reported_figures.csv",
        "snapshot:conflict_data_irq.csv.xz",
        "snapshot:ged_syria_2016-2019.csv.xz",
        "snapshot:ii_health_care_irq_syr.csv.xz",
        "snapshot:ii_education_irq_syr.csv.xz",
    ]
    # Insecurity Insight: 958 and 125 incidents, 3 and 6 figures each, every one placed
    health, education = results[6], results[7]
    assert (health.rows_in, health.rows_rejected) == (958 * 3, 0)
    assert (education.rows_in, education.rows_rejected) == (125 * 6, 0)
    # every WFP row is placed: the markets no city is near are on their district
    assert results[0].rows_new == 56_028 - 260 and results[0].rows_rejected == 0
    ucdp = results[4]  # Iraq: 7,473 events, 5 figures each, in total and by type
    assert ucdp.rows_in == 74_730
    assert ucdp.rows_in == ucdp.rows_new + ucdp.rows_rejected + ucdp.rows_added_up
    # 50 Iraq-coded border events whose point is in Turkey are placed there, not rejected
    assert ucdp.rows_rejected == 2_430 and ucdp.rows_added_up == 10_360
    slow = make_engine(loaded_url)  # the raw files through ingest
    for name in (t.name for t in prebuilt.TABLES):
        pd.testing.assert_frame_equal(table(fast, name), table(slow, name), obj=name)
    fast.dispose()
    slow.dispose()


def test_copied_store_answers_like_the_ingested_one(store_url, loaded_url):
    engine = make_engine(store_url)
    load_snapshot(engine)
    slow = make_engine(loaded_url)
    aleppo = "geonames:170063"
    args = ([aleppo], "food_price")
    kwargs = {"qualifier": "Wheat flour, retail", "unit": "SYP/KG"}
    copied = query.series_frame(engine, *args, **kwargs)
    assert len(copied) > 100  # Aleppo's three markets, monthly 2014-2018
    pd.testing.assert_frame_equal(copied, query.series_frame(slow, *args, **kwargs))
    fresh = query.freshness(engine).set_index("source")
    assert fresh.loc["wfp", "figures"] == 56_028 - 260 and fresh.loc["wfp", "last_status"] == "ok"
    engine.dispose()
    slow.dispose()


def test_a_copied_store_takes_new_figures_after_the_copied_ids(store_url):
    # the copy brings its own ids; the next ingest must be numbered after them, not collide
    engine = make_engine(store_url)
    loads = load_snapshot(engine)
    result = ingest(
        engine,
        pd.concat([figure(135500, source="later", citation="new"), figure(-1, source="later")]),
        source="later",
        target="after the copy",
    )
    assert (result.status, result.rows_new, result.rows_rejected) == ("ok", 1, 1)
    history = query.fetches(engine)
    assert history.fetch_id.iloc[0] == len(loads) + 1  # the snapshot's six loads, then this
    assert 135500.0 in query.series_frame(engine, ["geonames:99072"], "idps").value.tolist()
    engine.dispose()


def test_a_store_with_figures_or_edited_files_takes_the_ingest_path(loaded_url, store_url):
    engine = make_engine(loaded_url)
    assert not prebuilt.usable(engine, fingerprint())  # already holds figures
    engine.dispose()
    empty = make_engine(store_url)
    assert prebuilt.usable(empty, fingerprint())
    assert not prebuilt.usable(empty, "0" * 40)  # raw files edited since the tables were built
    empty.dispose()


def test_the_copy_checks_foreign_keys_all_the_same(store_url):
    # the foreign keys are off for the copy (SQLite) or dropped for the COPY (PostgreSQL):
    # they must be back on afterwards, and checked
    engine = make_engine(store_url)
    load_snapshot(engine)
    with engine.connect() as conn:
        keys = sa.inspect(conn).get_foreign_keys("observations")
    assert sorted(k["referred_table"] for k in keys) == ["fetch_log", "provenance", "series"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.exec_driver_sql("UPDATE observations SET series_id = 999999 WHERE revision = 1")
    engine.dispose()


def test_a_dangling_row_in_the_tables_is_refused_and_nothing_is_copied(
    store_url, tmp_path, monkeypatch
):
    # the foreign keys are checked once after the copy: a figure of a series the tables do
    # not hold fails the whole copy, which leaves the store empty
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    for file in prebuilt.PREBUILT_DIR.iterdir():
        shutil.copy(file, tmp_path / file.name)
    obs = pq.read_table(tmp_path / "observations.parquet")
    ids = obs.column("series_id").to_pylist()
    ids[-1] = 999_999_999
    pq.write_table(obs.set_column(0, "series_id", pa.array(ids)), tmp_path / "observations.parquet")
    monkeypatch.setattr(prebuilt, "PREBUILT_DIR", tmp_path)
    engine = make_engine(store_url)
    # PostgreSQL's COPY runs on the driver's cursor: its own IntegrityError
    with pytest.raises((sa.exc.IntegrityError, engine.dialect.dbapi.IntegrityError)):
        prebuilt.copy_into(engine)
    with engine.connect() as conn:
        for name in ("places", "series", "observations"):
            assert conn.exec_driver_sql(f"SELECT COUNT(*) FROM {name}").scalar() == 0
    engine.dispose()
