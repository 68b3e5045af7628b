"""The benchmark code itself: the scaled data is what it claims, and peers compute our answer."""

import numpy as np
import pandas as pd
import pytest

from data_sources.store import query
from data_sources.store.ingest import ingest
from devtools.generate import generate, plan, real_price_paths, to_observations


@pytest.fixture(scope="module")
def rows():
    return generate(20_000)


def test_generated_size_gaps_and_real_levels(rows):
    assert len(rows) == 20_000
    p = plan(20_000)
    assert rows.city.nunique() <= p.cities
    # gaps: no series is observed on every day of its span
    per_series = rows.groupby(["city", "metric", "qualifier", "unit"], observed=True).day.nunique()
    assert (per_series < p.days).all()
    # price levels come from the real WFP paths (within the noise applied)
    real = real_price_paths()
    median_real = float(np.nanmedian(real.to_numpy()))
    median_scaled = float(rows[rows.metric == "food_price"].value.median())
    assert 0.3 * median_real < median_scaled < 3 * median_real
    assert (rows.value >= 0).all()


def test_scaled_rows_store_cleanly_and_peers_agree(rows, empty_engine, tmp_path):
    sample = rows[rows.city == rows.city.iloc[0]]
    result = ingest(empty_engine, to_observations(sample), source="bench", target="test")
    assert result.rows_rejected == 0 and result.rows_new == len(sample)
    one = sample[(sample.metric == "food_price")].iloc[0]
    ours = query.series_frame(
        empty_engine,
        [f"geonames:{one.geonames_id}"],
        "food_price",
        qualifier=str(one.qualifier),
        unit=str(one.unit),
    )
    peer = sample[
        (sample.metric == "food_price")
        & (sample.qualifier == one.qualifier)
        & (sample.unit == one.unit)
    ].sort_values("day")
    assert ours.value.tolist() == peer.value.tolist()
    assert ours.period_start.tolist() == [pd.Timestamp(d) for d in peer.day]


def test_feed_bench_scales_records_with_distinct_ids():
    from bench.feeds import scale
    from devtools.replay_server import FeedServer

    server = FeedServer()  # not started: only its data is scaled
    events = len(server.data["ucdp"])
    scale(server, 3)
    ids = [r["id"] for r in server.data["ucdp"]]
    assert len(ids) == 3 * events and len(set(ids)) == len(ids)
    copies = [r["date_start"][:10] for r in server.data["ucdp"] if r["id"] % 10**7 == 71663]
    server._httpd.server_close()
    assert copies == ["2013-12-13", "2013-12-14", "2013-12-15"]  # one more day per copy


def test_sqlite_alone_stores_every_row_it_times(tmp_path):
    from bench.run import sqlite_alone

    assert sqlite_alone(2_000, tmp_path) > 0  # it counts what it stored, and raises if short
    assert list(tmp_path.iterdir()) == []  # and leaves nothing behind


def test_report_shows_the_reference_beside_ours_and_the_peers():
    from rich.console import Console

    from bench.run import Figure, report

    chart = Figure("chart drawn", "ms", "< 1,500 ms", ours=[4000.0], pandas=[3000.0])
    chart.reference.append(2500.0)
    console = Console(width=250, record=True)
    console.print(report([chart], 1_000, ""))
    row = next(line for line in console.export_text().splitlines() if "chart drawn" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[:5] == ["chart drawn", "ms", "4,000", "4,000", "3,000"]
    assert "2,500" in cells and "0.8× slower" in cells


def test_as_of_bench_reads_the_figures_before_the_revising_load(rows, tmp_path):
    """`make bench`'s as-of figure: a load revising 5% of the figures, then the same requests
    as of just before it and now; as of then every figure is its first revision."""
    from bench import run
    from data_sources.store.engine import make_engine
    from devtools.generate import to_observations

    db = tmp_path / "bench.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    ingest(engine, to_observations(rows), source="bench", target="batch 0")
    engine.dispose()
    before = run.add_revisions(db, rows)
    assert run.add_revisions(db, rows) == before  # kept in a reused store, not added twice
    chosen = run.picks(rows, db, 20)
    fig = run.Figure("as of", "ms", "")
    run.as_of_latency(db, chosen, fig, before)
    assert len(fig.ours) == len(fig.reference) == len(chosen)
    assert fig.note.startswith("(") and "× the current query" in fig.note
    engine = make_engine(f"sqlite:///{db}")
    r = chosen.iloc[0]
    args = (engine, [f"geonames:{r.geonames_id}"], r.metric)
    then = query.series_frame(*args, qualifier=r.qualifier, unit=r.unit, as_of=before)
    now = query.series_frame(*args, qualifier=r.qualifier, unit=r.unit)
    assert (then.revision == 1).all()
    assert len(then) == len(now)
    engine.dispose()
    counts = query.count_observations(make_engine(f"sqlite:///{db}"), as_of=before)
    assert counts == len(rows)


def test_server_cpu_table_says_how_far_each_page_is_above_the_one_chart_page():
    from rich.console import Console

    from bench.server_cpu import Row, table

    rows = [
        Row("Overview", session_ms=[60.0], browser_ms=[190.0]),
        Row("Data", session_ms=[110.0], browser_ms=[300.0]),
        Row("one-chart Streamlit page", session_ms=[6.0], browser_ms=[130.0]),
        Row("peer 1 pandas+cache Trends", session_ms=[44.0], browser_ms=[187.0]),
    ]
    console = Console(width=200, record=True)
    console.print(table(rows, "t"))
    lines = {line.split("│")[1].strip(): line for line in console.export_text().splitlines()
             if line.count("│") > 2}  # fmt: skip
    assert "+60" in lines["Overview"] and " met " in lines["Overview"]
    assert "+170" in lines["Data"] and "NOT met" in lines["Data"]
    assert "met" not in lines["peer 1 pandas+cache Trends"]


def test_floor_gap_is_the_difference_of_medians_and_says_whether_it_is_met():
    from bench.run import Figure, floor_gap

    chart = Figure("chart", "ms", "", ours=[4400.0, 4500.0, 4700.0], reference=[4000.0, 4100.0])
    gap = Figure("gap", "ms", "≤ 300 ms (issue item 6)")
    floor_gap(chart, gap)
    assert gap.ours == [450.0] and gap.note == "(NOT met)"
    cold = Figure("cold", "s", "", ours=[6.0], reference=[5.2])
    cold_gap = Figure("gap", "s", "≤ 1.5 s (issue item 6)")
    floor_gap(cold, cold_gap)
    assert cold_gap.ours[0] == pytest.approx(0.8) and cold_gap.note == "(met)"


@pytest.mark.slow  # the quick bench end to end: make test only
def test_the_quick_bench_runs_on_a_tiny_store(tmp_path, monkeypatch):
    """`make bench QUICK=1`'s code paths (build, series and as-of latency, the pages' script
    runs through AppTest opened on a deep link, the peers, the report) on a store of a few
    thousand figures, so a change that breaks the benchmark fails here and not months later.
    The browser half is left to the browser tests (`bench.run` skips it without Chromium)."""
    import bench.run
    import devtools.generate

    monkeypatch.setattr(devtools.generate, "DATA_DIR", tmp_path)
    monkeypatch.setattr(bench.run, "DATA_DIR", tmp_path)
    monkeypatch.setattr(bench.run, "CHROMIUM", str(tmp_path / "no-chromium"))
    table = bench.run.run(3_000, quick=True, workdir=tmp_path)
    rows = {row[0]: row for row in zip(*(c._cells for c in table.columns), strict=True)}
    for name in ("Overview script run (AppTest)", "Trends script run (AppTest)"):
        assert name in rows and rows[name][1] not in ("", "—"), rows.get(name)
