"""The store's data version (`query.data_version`): it moves when a load ends, from any
process, and a load's figures are visible exactly when its version is. Both backends."""

import pandas as pd
import pytest
import sqlalchemy as sa

import data_sources.store.ingest as write_path
from data_sources.store import fetches, query
from data_sources.store.fetches import (
    IngestResult,
    close_interrupted,
    log_failed_fetch,
    start_fetch,
)
from data_sources.store.ingest import ingest
from data_sources.store.tables import observations


def injured(value=685):
    """A real figure: UN OCHA, civilians wounded in Mosul in the week ending 11 December 2016
    (shared/data/reported-figures, also in the bundled snapshot's reported figures)."""
    return pd.DataFrame(
        [
            {
                "source": "reported",
                "dataset": "UN OCHA",
                "metric": "civilians_injured",
                "qualifier": "",
                "place_raw": "Mosul",
                "country_iso3": "IRQ",
                "place_kind": "city",
                "period_start": "2016-12-05",
                "period_end": "2016-12-11",
                "value": value,
                "unit": "people",
                "estimate": "reported",
                "source_url": "http://fourwinds10.com/siterun_data/government/war/"
                "terrorism_war/news.php?q=1481998809",
                "citation": "Bill Van Auken, World Socialist Web Site, 2016-12-16",
            }
        ]
    )


def figures(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar()


def test_version_moves_with_every_load_end_and_not_with_a_start(empty_engine):
    seen = [query.data_version(empty_engine)]
    assert seen[0] == "0.0"

    def bumped() -> str:
        version = query.data_version(empty_engine)
        assert version not in seen, f"version {version} seen before: {seen}"
        seen.append(version)
        return version

    ingest(empty_engine, injured(), source="reported", target="t1")
    bumped()
    # the same figure again: nothing new, but a load ended (fresh badge): the version moves
    ingest(empty_engine, injured(), source="reported", target="t2")
    bumped()
    # a feed that failed before anything was stored
    log_failed_fetch(empty_engine, IngestResult(source="ucdp", target="x", error="HTTP 503"))
    bumped()

    # loads ending out of order: an older load that ends after a newer one still counts
    old = start_fetch(empty_engine, "hapi", "old")
    assert query.data_version(empty_engine) == seen[-1], "a start changes no figure"
    ingest(empty_engine, injured(700), source="reported", target="newer")
    newer = bumped()
    fetches.finish_fetch(empty_engine, IngestResult(source="hapi", target="old", fetch_id=old))
    after = bumped()
    assert after.split(".")[0] == newer.split(".")[0]  # same largest id, one more load ended

    # a load cut off by a kill, closed on the next run
    start_fetch(empty_engine, "wfp", "killed")
    assert query.data_version(empty_engine) == seen[-1]
    assert close_interrupted(empty_engine, "wfp") == 1
    bumped()


def test_a_failed_ingest_bumps_the_version_and_stores_nothing(empty_engine, monkeypatch):
    before = query.data_version(empty_engine)

    def broken(conn, *args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(write_path, "_insert_observations", broken)
    with pytest.raises(sa.exc.OperationalError):
        ingest(empty_engine, injured(), source="reported", target="t")
    assert query.data_version(empty_engine) != before  # the badge turns 'failing'
    assert figures(empty_engine) == 0
    log = query.fetches(empty_engine)
    assert log.status.tolist() == ["failed"]


def test_figures_and_their_version_commit_in_one_transaction(empty_engine, monkeypatch):
    """If marking the load finished fails, its figures are not stored either: they are
    written in the same transaction, so no reader can see one without the other."""
    real = fetches.finish_fetch

    def finish(engine, result, conn=None):
        if conn is not None:  # the in-transaction finish of a successful load
            raise sa.exc.OperationalError("UPDATE fetch_log", {}, Exception("lost connection"))
        return real(engine, result, conn)

    monkeypatch.setattr(write_path, "finish_fetch", finish)
    with pytest.raises(sa.exc.OperationalError):
        ingest(empty_engine, injured(), source="reported", target="t")
    assert figures(empty_engine) == 0
    monkeypatch.setattr(write_path, "finish_fetch", real)
    version = query.data_version(empty_engine)
    ingest(empty_engine, injured(), source="reported", target="t")
    assert figures(empty_engine) == 1
    assert query.data_version(empty_engine) != version
    # no load is left 'running' once its figures are in
    assert "running" not in query.fetches(empty_engine).status.tolist()


def test_loads_after_names_what_changed(loaded_engine):
    version = query.data_version(loaded_engine)
    assert query.loads_after(loaded_engine, version).fetch_id.max() <= int(version.split(".")[0])
    ingest(loaded_engine, injured(686), source="reported", target="revised")
    new = query.loads_after(loaded_engine, version)
    assert new.source.tolist() == ["reported"]
    assert new.rows_revised.tolist() == [1]


def test_a_cached_page_shows_an_outside_import_at_its_next_run(loaded_url, monkeypatch):
    """Trends is drawn (its queries cached in this process); the CLI, another process, stores
    real UCDP events for January 2017; the very next run of the same session draws them."""
    import base64
    import json

    import numpy as np
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT, drop_source
    from .test_multiprocess import AFTER, BEFORE, cli_import, store_january

    def january(at) -> list[float]:
        assert not at.exception, [e.message for e in at.exception]
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        found = []
        for trace in spec["data"]:
            xs, ys = trace.get("x", []), trace.get("y", [])
            if isinstance(ys, dict):  # plotly's base64 typed arrays
                ys = np.frombuffer(base64.b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
            found += [y for x, y in zip(xs, ys, strict=False) if str(x).startswith("2017-01")]
        return found

    monkeypatch.setenv("DATABASE_URL", loaded_url)
    drop_source(loaded_url, "ucdp")  # the snapshot's own UCDP events: the import stands alone
    cli_import(loaded_url, BEFORE)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in {
        "cities": "Mosul",
        "metric": "conflict_fatalities",
        "period": "month",
    }.items():
        at.query_params[key] = value
    at.switch_page(str(ROOT / "views/trends.py"))
    assert january(at.run()) == []
    assert january(at.run()) == []  # a rerun with nothing new: answered from the cache
    cli_import(loaded_url, AFTER)
    assert january(at.run()) == [store_january(loaded_url)]


def test_loads_ending_at_once_each_count(empty_engine, backend):
    """Loads committing together on PostgreSQL: all land, the counter counts each (the second
    waits for the first's row lock on it: no lost update, no deadlock). On SQLite writers take
    turns on the file anyway."""
    from concurrent.futures import ThreadPoolExecutor

    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time")
    ingest(empty_engine, injured(), source="reported", target="first")  # place and series
    before = query.data_version(empty_engine)

    def week(i: int):  # made-up weeks and values (NOT REAL): only the counter is tested
        day = pd.Timestamp("2016-12-05") + pd.Timedelta(days=7 * (i + 1))
        return injured(600 + i).assign(period_start=str(day.date()), period_end=str(day.date()))

    with ThreadPoolExecutor(4) as pool:
        done = list(
            pool.map(lambda i: ingest(empty_engine, week(i), source="reported", target=f"w{i}"),
                     range(4))
        )  # fmt: skip
    assert [r.rows_new for r in done] == [1] * 4
    after = query.data_version(empty_engine)
    assert int(after.split(".")[1]) == int(before.split(".")[1]) + 4


def test_the_note_says_what_came_in(loaded_url, monkeypatch):
    """The line an open tab shows when it redraws: which sources brought figures, which failed."""
    from views import common

    monkeypatch.setenv("DATABASE_URL", loaded_url)
    engine = common.engine()
    version = query.data_version(engine)
    ingest(engine, injured(686), source="reported", target="revised")
    log_failed_fetch(engine, IngestResult(source="ucdp", target="x", error="HTTP 503"))
    note = common._what_changed(version)
    assert note.startswith("Updated ") and " UTC — new figures from reported; " in note
    assert note.endswith("ucdp failed to load (previous figures kept)")
