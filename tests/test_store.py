"""The store on a real SQLite file: idempotent loads, revisions, rejects, one transaction."""

import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.snapshot import load_snapshot
from data_sources.store import query
from data_sources.store.engine import make_engine
from data_sources.store.ingest import ingest
from data_sources.store.tables import fetch_log, observations, places, provenance, rejects, series


def figure(value, **extra):
    row = {
        "source": "test",
        "dataset": "ocha",
        "metric": "idps",
        "qualifier": "",
        "place_raw": "Mosul",
        "country_iso3": "IRQ",
        "place_kind": "city",
        "period_start": "2017-01-08",
        "period_end": "2017-01-08",
        "value": value,
        "unit": "people",
        "estimate": "reported",
        "source_url": "https://example.org/r",
        "citation": "test",
    }
    row.update(extra)
    return pd.DataFrame([row])


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()


def test_loading_the_snapshot_twice_adds_nothing(loaded_engine):
    before = count(loaded_engine, observations)
    rejects_before = count(loaded_engine, rejects)
    results = load_snapshot(loaded_engine, force=True)
    assert sum(r.rows_new + r.rows_revised for r in results) == 0
    assert count(loaded_engine, observations) == before
    assert count(loaded_engine, rejects) == rejects_before


def test_second_start_skips_the_load(loaded_engine):
    assert load_snapshot(loaded_engine) == []


def test_changed_value_becomes_a_revision(empty_engine):
    first = ingest(empty_engine, figure(135500), source="test", target="t1")
    again = ingest(empty_engine, figure(135500), source="test", target="t2")
    changed = ingest(empty_engine, figure(136000), source="test", target="t3")
    assert (first.rows_new, again.rows_unchanged, changed.rows_revised) == (1, 1, 1)
    with empty_engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                observations.c.value, observations.c.revision, observations.c.is_current
            ).order_by(observations.c.revision)
        ).all()
    assert [tuple(r) for r in rows] == [(135500.0, 1, False), (136000.0, 2, True)]
    current = query.series_frame(empty_engine, ["geonames:99072"], "idps")
    assert current.value.tolist() == [136000.0]
    history = query.series_frame(empty_engine, ["geonames:99072"], "idps", current_only=False)
    assert sorted(history.value.tolist()) == [135500.0, 136000.0]


def test_rejects_are_kept_with_reasons(empty_engine):
    bad = pd.concat(
        [
            figure(1e15),
            figure(5, place_raw="Atlantis"),
            figure(-3),
            figure(10, period_start="not a date"),
        ]
    )
    result = ingest(empty_engine, bad, source="test", target="bad")
    assert result.rows_rejected == 4 and result.rows_new == 0
    reasons = query.rejected(empty_engine).reason.tolist()
    assert any(r.startswith("absurd value") for r in reasons)
    assert any(r.startswith("no city matches 'Atlantis'") for r in reasons)
    assert "negative value -3.0" in reasons
    assert any(r.startswith("unreadable period start 'not a date'") for r in reasons)
    assert count(empty_engine, observations) == 0


def test_conflicting_duplicates_in_one_input_are_rejected_not_guessed(empty_engine):
    later = figure(300, period_end="2017-01-09", period_start="2017-01-09")
    result = ingest(
        empty_engine, pd.concat([figure(100), figure(200), later]), source="test", target="dup"
    )
    assert result.rows_new == 1 and result.rows_rejected == 2
    assert query.rejected(empty_engine).reason.str.contains("conflicting values").all()


# a trigger that refuses the value 666, in each backend's own syntax
REFUSE_666 = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON observations WHEN NEW.value = 666 "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.value = 666 THEN RAISE EXCEPTION 'injected failure' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON observations FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


def test_a_failed_ingest_stores_nothing_and_logs_the_error(empty_engine):
    # The database itself refuses the second observation (a trigger, not a mock): everything
    # this ingest wrote before it (places, series, provenance, the first figure) must go too.
    with empty_engine.begin() as conn:
        for statement in REFUSE_666[empty_engine.dialect.name]:
            conn.exec_driver_sql(statement)
    figures = pd.concat(
        [figure(1), figure(666, period_start="2017-02-01", period_end="2017-02-01")]
    )
    with pytest.raises(sa.exc.IntegrityError, match="injected failure"):
        ingest(empty_engine, figures, source="test", target="broken")
    for table in (observations, series, places, provenance):
        assert count(empty_engine, table) == 0, table.name
    log = query.fetches(empty_engine)
    assert log.status.tolist() == ["failed"]
    assert "injected failure" in log.error.iloc[0]


def test_freshness_reports_each_source(loaded_engine):
    fresh = query.freshness(loaded_engine).set_index("source")
    assert {"wfp", "unhcr", "idmc", "reported"} <= set(fresh.index)
    assert str(fresh.loc["wfp", "newest_period"]) == "2018-12-31"
    assert (fresh.last_status == "ok").all()


def test_loads_of_the_same_new_figures_at_once_store_each_figure_once(store_url):
    """Three processes import the same real file into one empty store at the same moment (a
    CLI import beside a refresh, two colleagues): all three succeed, whichever commits second
    finds the first one's places, series and figures, and nothing is stored twice."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    sheet = ROOT / "tests" / "fixtures" / "ucdp_mosul" / "after" / "conflict_data_irq.csv"
    make_engine(store_url).dispose()  # the schema first: this test is about the figures
    env = {**os.environ, "DATABASE_URL": store_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "data_sources", "import", str(sheet), "--source", "ucdp"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err or out
    engine = make_engine(store_url)
    with engine.connect() as conn:
        figures = conn.execute(
            sa.select(sa.func.count(), sa.func.max(observations.c.revision))
        ).one()
        loads = conn.execute(
            sa.select(fetch_log.c.status, fetch_log.c.rows_new).order_by(fetch_log.c.fetch_id)
        ).all()
    engine.dispose()
    assert [status for status, _ in loads] == ["ok", "ok", "ok"]
    assert sum(new for _, new in loads) == figures[0] > 0  # each figure written by one load
    assert figures[1] == 1  # and never as a revision of itself
