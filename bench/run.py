"""Benchmarks: ours against two peers on the same scaled data, in the same run. One table.

    python -m bench.run [--quick] [--sizes 1000000,10000000]

Peers, each as a competent user would write it: (1) the whole CSV in pandas kept by
st.cache_data and filtered per request; (2) DuckDB over the same data as Parquet.
The data is scaled from real series (devtools/generate.py): SCALED, NOT REAL.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from data_sources.store import query, tables
from data_sources.store.engine import make_engine
from data_sources.store.ingest import ingest
from devtools.generate import DATA_DIR, generate, to_observations, write_peer_files
from views.pages import DEFAULT as DEFAULT_PAGE

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHART_DRAWN = "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0"
console = Console(width=200)
warnings.filterwarnings("ignore")


@dataclass
class Figure:
    name: str
    unit: str
    target: str
    ours: list[float] = field(default_factory=list)
    pandas: list[float] = field(default_factory=list)
    duckdb: list[float] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)  # see the table caption
    higher_is_better: bool = False
    note: str = ""


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


# -- data ---------------------------------------------------------------------------------
def ingest_seconds(db: Path) -> float:
    """Time the store spent ingesting, from its own fetch log."""
    engine = make_engine(f"sqlite:///{db}")
    log = query.fetches(engine, limit=10_000)
    engine.dispose()
    log = log[(log.source == "bench") & (log.status == "ok") & (log.target != REVISIONS)]
    return float(
        (pd.to_datetime(log.finished_at) - pd.to_datetime(log.started_at)).dt.total_seconds().sum()
    )


def build_store(
    size: int, workdir: Path, reuse: bool
) -> tuple[Path, Path, Path, pd.DataFrame, float]:
    """Generate, write the peers' CSV/Parquet, ingest into a fresh SQLite store in batches.
    With `reuse`, an existing store of this size is kept and its logged ingest time used."""
    rows = generate(size)
    db = workdir / f"store_{size}.sqlite"
    csv_path, parquet_path = DATA_DIR / f"bench_{size}.csv", DATA_DIR / f"bench_{size}.parquet"
    if reuse and db.exists() and csv_path.exists() and parquet_path.exists():
        return db, csv_path, parquet_path, rows, ingest_seconds(db)
    csv_path, parquet_path = write_peer_files(rows, f"bench_{size}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    seconds = 0.0
    batch = 1_000_000
    for start in range(0, len(rows), batch):
        part = to_observations(rows.iloc[start : start + batch])
        dt, result = timed(ingest, engine, part, source="bench", target=f"batch {start}")
        assert result.rows_rejected == 0, result.reject_reasons
        seconds += dt
    engine.dispose()
    return db, csv_path, parquet_path, rows, seconds


def sqlite_alone(rows: int, workdir: Path) -> float:
    """The ceiling for ingest here: SQLite inserting `rows` observation rows that are already
    in key order and bound as Python tuples (no validation, placing, lookups nor parameter
    building), through the same statement, pragmas and foreign keys into the same table.
    Rows per second."""
    db = workdir / "sqlite_alone.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    days = np.datetime_as_string(
        np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + 730)
    ).tolist()
    n_series = rows // len(days) + 1
    with engine.begin() as conn:  # the parents the foreign keys point at
        conn.execute(tables.places.insert().values(place_id="city:x", kind="city", name="x"))
        conn.execute(tables.provenance.insert().values(provenance_id=1, prov_key="p", source="b"))
        conn.execute(
            tables.fetch_log.insert().values(
                fetch_id=1, source="b", target="x", started_at=datetime.now(UTC), status="ok"
            )
        )
        conn.execute(
            tables.series.insert(),
            [
                {
                    "series_id": i,
                    "series_key": str(i),
                    "source": "b",
                    "dataset": "",
                    "metric": "idps",
                    "qualifier": "",
                    "site": "",
                    "place_id": "city:x",
                    "unit": "people",
                    "estimate": "best",
                }
                for i in range(n_series)
            ],
        )
    params = [(i, d, d, 1.5, 1, 1) for i in range(n_series) for d in days][:rows]
    with engine.begin() as conn:
        start = time.perf_counter()
        conn.exec_driver_sql(
            "INSERT INTO observations (series_id, period_start, period_end, value, revision, "
            "is_current, retrieved_at, provenance_id, fetch_id) VALUES "
            "(?, ?, ?, ?, ?, 1, '2026-11-25 12:00:00.000000', ?, 1)",
            params,
        )
    seconds = time.perf_counter() - start  # commit included, as in ingest
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM observations").scalar()
    engine.dispose()
    if stored != rows:
        raise RuntimeError(f"SQLite alone stored {stored:,} rows of {rows:,}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return rows / seconds


def picks(rows: pd.DataFrame, db: Path, n: int, seed: int = 3) -> pd.DataFrame:
    """Random (city, metric, commodity, unit) requests, among cities the store holds under the
    same GeoNames id (a generated city whose point is shared with another is placed there)."""
    engine = make_engine(f"sqlite:///{db}")
    held = set(query.cities(engine).place_id)
    engine.dispose()
    combos = rows[["city", "geonames_id", "metric", "qualifier", "unit"]].drop_duplicates()
    combos = combos[("geonames:" + combos.geonames_id.astype(str)).isin(held)]
    return combos.sample(n=min(n, len(combos)), random_state=seed).astype(
        {"city": str, "metric": str, "qualifier": str, "unit": str}
    )


# -- revisions and as-of reads ------------------------------------------------------------
REVISIONS = "revisions"  # the target of the load that revises figures
REVISED_SHARE = 0.05


def add_revisions(db: Path, rows: pd.DataFrame) -> datetime:
    """One later load revising 5% of the figures (value × 1.1: SCALED, NOT REAL), as a feed's
    overlap window revises recent figures; kept in a reused store. Returns the moment just
    before it: reading as of then skips every second revision, the as-of query's real work."""
    from data_sources.store.asof import one_microsecond_before

    engine = make_engine(f"sqlite:///{db}")
    log = query.fetches(engine, limit=10_000)
    if (log.target == REVISIONS).sum() == 0:
        sample = rows.sample(frac=REVISED_SHARE, random_state=5)
        part = to_observations(sample.assign(value=sample["value"] * 1.1))
        result = ingest(engine, part, source="bench", target=REVISIONS)
        assert result.rows_new == 0 and result.rows_revised > 0, result  # zeros stay zeros
        log = query.fetches(engine, limit=10_000)
    engine.dispose()
    started = pd.Timestamp(log[log.target == REVISIONS].started_at.iloc[0])
    started = started.tz_localize("UTC") if started.tzinfo is None else started
    return one_microsecond_before(started.to_pydatetime())


def as_of_latency(db: Path, chosen: pd.DataFrame, fig: Figure, as_of: datetime) -> None:
    """The same requests as of a moment before the revisions (ours) against the current
    figures (reference), interleaved so that both see the same machine state."""
    engine = make_engine(f"sqlite:///{db}")
    for r in chosen.itertuples():
        args = (engine, [f"geonames:{r.geonames_id}"], r.metric)
        kwargs = {"qualifier": r.qualifier, "unit": r.unit}
        dt_now, now = timed(query.series_frame, *args, **kwargs)
        dt_then, then = timed(query.series_frame, *args, **kwargs, as_of=as_of)
        assert len(then) == len(now) > 0
        fig.reference.append(dt_now * 1000)
        fig.ours.append(dt_then * 1000)
    engine.dispose()
    times = statistics.median(fig.ours) / statistics.median(fig.reference)
    fig.note = f"({times:.2f}× the current query: {'met' if times <= 2 else 'missed'})"


# -- per-city series ----------------------------------------------------------------------
def series_latency(
    db: Path, csv_path: Path, parquet_path: Path, chosen: pd.DataFrame, fig: Figure, load: Figure
) -> None:
    import duckdb
    import streamlit as st

    engine = make_engine(f"sqlite:///{db}")
    for r in chosen.itertuples():  # ours: the function the pages call, a fresh query each time
        dt, df = timed(
            query.series_frame,
            engine,
            [f"geonames:{r.geonames_id}"],
            r.metric,
            qualifier=r.qualifier,
            unit=r.unit,
        )
        assert len(df) > 0
        fig.ours.append(dt * 1000)
    engine.dispose()

    categories = {c: "category" for c in ("city", "country_iso3", "metric", "qualifier", "unit")}

    @st.cache_data
    def load_csv() -> pd.DataFrame:
        return pd.read_csv(csv_path, dtype=categories, parse_dates=["day"])

    dt, _ = timed(load_csv)
    load.pandas.append(dt)
    for r in chosen.itertuples():  # peer 1: the cached frame (st.cache_data hands a copy)

        def one(r=r):
            df = load_csv()
            return df[
                (df.city == r.city)
                & (df.metric == r.metric)
                & (df.qualifier == r.qualifier)
                & (df.unit == r.unit)
            ]

        dt, df = timed(one)
        fig.pandas.append(dt * 1000)
    load_csv.clear()

    con = duckdb.connect()
    sql = (
        "SELECT day, value FROM read_parquet(?) WHERE city = ? AND metric = ? "
        "AND qualifier = ? AND unit = ? ORDER BY day"
    )
    for r in chosen.itertuples():  # peer 2
        dt, df = timed(
            lambda r=r: con.execute(
                sql, [str(parquet_path), r.city, r.metric, r.qualifier, r.unit]
            ).df()
        )
        fig.duckdb.append(dt * 1000)
    con.close()


# -- page script times (AppTest) ----------------------------------------------------------
@contextmanager
def env(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def page_times(
    db: Path,
    csv_path: Path,
    parquet_path: Path,
    chosen: pd.DataFrame,
    figs: dict[str, Figure],
    runs: int,
) -> None:
    from streamlit.testing.v1 import AppTest

    prices = chosen[chosen.metric == "food_price"].head(runs)
    with env(DATABASE_URL=f"sqlite:///{db}"):
        for page, fig in (
            ("views/overview.py", figs["overview"]),
            ("views/trends.py", figs["trends"]),
            ("views/map.py", figs["map"]),
        ):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            first = prices.iloc[0]
            at.query_params.update(
                {
                    "cities": first.city,
                    "metric": "food_price",
                    "qualifier": first.qualifier,
                    "unit": first.unit,
                }
            )
            if page != DEFAULT_PAGE.script:  # the default page is "/" itself: switching to its
                at.switch_page(str(ROOT / page))  # file lands on the /overview alias instead
            at.run()  # warm-up: imports, engine, snapshot check
            assert not at.exception, [e.message for e in at.exception]
            for r in prices.itertuples():  # a user picking another city
                at.multiselect[0].set_value([r.city])
                dt, _ = timed(at.run)
                assert not at.exception, [e.message for e in at.exception]
                fig.ours.append(dt * 1000)
    for peer in ("pandas", "duckdb"):
        with env(PEER=peer, BENCH_CSV=str(csv_path), BENCH_PARQUET=str(parquet_path)):
            for r in prices.itertuples():
                at = AppTest.from_file(str(ROOT / "bench" / "peer_app.py"), default_timeout=600)
                at.query_params.update(
                    {
                        "cities": r.city,
                        "metric": "food_price",
                        "qualifier": r.qualifier,
                        "unit": r.unit,
                    }
                )
                at.run()  # the first run per process loads (peer 1: reads the CSV)
                dt, _ = timed(at.run)
                assert not at.exception, [e.message for e in at.exception]
                getattr(figs["trends"], peer).append(dt * 1000)


# -- browser and server -------------------------------------------------------------------
@contextmanager
def server(script: str, extra_env: dict[str, str]):
    """`devtools.streamlit_server.running` as the benchmarks use it: (base URL, process,
    spawn time); a server that never answers fails the run with its own output."""
    from devtools.streamlit_server import running

    with (
        tempfile.TemporaryDirectory() as tmp,
        running(script, extra_env, log=Path(tmp) / "server.log", timeout=120) as s,
    ):
        yield s.base, s.proc, s.started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def launch(playwright):
    """Debian's Chromium, headless, with nothing reaching for the network."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    )


def chart_time(browser, url: str) -> float:
    page = browser.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(CHART_DRAWN, timeout=600_000)
    dt = time.perf_counter() - start
    page.close()
    return dt * 1000


def browser_and_memory(
    db: Path,
    csv_path: Path,
    parquet_path: Path,
    chosen: pd.DataFrame,
    figs: dict[str, Figure],
    visits: int,
    quick: bool = False,
) -> None:
    """Time to a drawn chart and peak memory per server; in quick mode only ours and the
    reference page (the peers' servers are most of the quick run's minute otherwise)."""
    from playwright.sync_api import sync_playwright

    prices = chosen[chosen.metric == "food_price"].head(visits)
    with sync_playwright() as p:
        browser = launch(p)
        runs = [
            ("ours", "serve.py", {"DATABASE_URL": f"sqlite:///{db}"}, "/trends"),
            (
                "pandas",
                "bench/peer_app.py",
                {"PEER": "pandas", "BENCH_CSV": str(csv_path), "BENCH_PARQUET": str(parquet_path)},
                "/",
            ),
            (
                "duckdb",
                "bench/peer_app.py",
                {"PEER": "duckdb", "BENCH_CSV": str(csv_path), "BENCH_PARQUET": str(parquet_path)},
                "/",
            ),
            ("reference", "bench/floor_app.py", {}, "/"),
        ]
        for who, script, extra, path in runs:
            if quick and who in ("pandas", "duckdb"):
                continue
            with server(script, extra) as (base, proc, _):
                for i, r in enumerate(prices.itertuples()):
                    query_string = (
                        f"?cities={r.city}&metric=food_price&qualifier={r.qualifier}&unit={r.unit}"
                    )
                    ms = chart_time(browser, base + path + query_string.replace(" ", "%20"))
                    if i > 0:  # the first visit fills the caches (peer 1 reads the CSV)
                        getattr(figs["chart"], who).append(ms)
                getattr(figs["memory"], who).append(peak_rss_mb(proc.pid))
        figs["plotly"].reference.extend(plotly_alone(browser, 1 if quick else max(visits, 3)))
        browser.close()


def plotly_alone(browser, visits: int) -> list[float]:
    """plotly.js itself, with no Streamlit: a static page loading the plotly.min.js that the
    plotly package ships and drawing one three-point chart, served from 127.0.0.1."""
    import plotly

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", tmp)
        Path(tmp, "index.html").write_text(
            '<html><body><div id="c"></div><script src="plotly.min.js"></script><script>'
            "Plotly.newPlot('c', [{x: [1, 2, 3], y: [1, 3, 2]}]);</script></body></html>"
        )
        handler = functools.partial(QuietHandler, directory=tmp)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
            return [chart_time(browser, url) for _ in range(visits)]
        finally:
            httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the benchmark prints one table, nothing else
        pass


def cold_start(workdir: Path, fig: Figure, quick: bool = False) -> None:
    """Server start to the first chart drawn: ours on a fresh store (which loads the bundled
    snapshot) and the one-chart reference page, each in its own browser, alternating (ours,
    reference, ours, …) so both see the same load on a shared machine; the floor gap is a
    difference of medians (quick mode too: two rounds). `bench.floors` does the same with the
    time to "server up" apart, and the Trends gap."""
    from playwright.sync_api import sync_playwright

    from bench.floors import cold

    with sync_playwright() as p:
        for _ in range(2 if quick else 3):
            for who in ("ours", "reference"):
                _, seconds = cold(p, "ours" if who == "ours" else "floor", workdir)
                getattr(fig, who).append(seconds)


def floor_gap(measured: Figure, gap: Figure) -> None:
    """Ours minus the one-chart page, medians of the same run, with whether the target holds."""
    if not measured.ours or not measured.reference:
        return
    gap.ours.append(statistics.median(measured.ours) - statistics.median(measured.reference))
    limit = float(gap.target.split()[1].replace(",", ""))
    gap.note = "(met)" if gap.ours[0] <= limit else "(NOT met)"


# -- report -------------------------------------------------------------------------------
def machine() -> str:
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return (
        f"{os.cpu_count()} cores, {int(mem) / 1024 / 1024:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "–"
    if unit == "obs/s":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def ratio(ours: list[float], peer: list[float], higher: bool, unit: str) -> str:
    """How many times better ours is than the peer (below 1: the peer wins)."""
    if not ours or not peer:
        return "–"
    a, b = statistics.median(ours), statistics.median(peer)
    r = (a / b) if higher else (b / a)
    good, bad = ("less", "more") if unit == "MB" else ("faster", "slower")
    return f"{r:,.1f}× {good if r >= 1 else bad}"


def report(figs: list[Figure], size: int, extra: str) -> Table:
    table = Table(
        title=f"Situation Room benchmarks — {size:,} observations (scaled, not real)"
        f" — {machine()}{extra}",
        caption="reference, measured in this run: for ingest, SQLite alone inserting rows "
        "already built (the most any ingest can reach here); for the browser, memory and cold "
        "start, a Streamlit page holding one title and one plotly chart (bench/floor_app.py); "
        "plotly.js alone is a static page drawing one chart",
    )
    for col in (
        "figure",
        "unit",
        "ours p50",
        "ours p95",
        "pandas+cache p50",
        "duckdb p50",
        "reference p50",
        "vs pandas",
        "vs duckdb",
        "target",
    ):
        table.add_column(col, justify="right" if col not in ("figure", "target") else "left")
    for f in figs:
        table.add_row(
            f.name,
            f.unit,
            fmt(pct(f.ours, 50), f.unit),
            fmt(pct(f.ours, 95), f.unit),
            fmt(pct(f.pandas, 50), f.unit),
            fmt(pct(f.duckdb, 50), f.unit),
            fmt(pct(f.reference, 50), f.unit),
            ratio(f.ours, f.pandas, f.higher_is_better, f.unit),
            ratio(f.ours, f.duckdb, f.higher_is_better, f.unit),
            f.target + (f" {f.note}" if f.note else ""),
        )
    return table


def run(size: int, quick: bool, workdir: Path, reuse: bool = False) -> Table:
    queries = 30 if quick else 200
    page_runs = 2 if quick else 10
    console.print(f"[bold]building {size:,} observations…[/bold]")
    db, csv_path, parquet_path, rows, ingest_s = build_store(size, workdir, reuse)
    figs = {
        "ingest": Figure(
            "ingest: normalize + store", "obs/s", "≥ 200,000/s", higher_is_better=True
        ),
        "load": Figure("peer load: read whole CSV", "s", "(peers only)"),
        "series": Figure("one city's series (query fn)", "ms", "p95 < 20 ms"),
        "as_of": Figure(
            "one city's series as of before 5% were revised (reference: current)",
            "ms",
            "p50 ≤ 2× the current query",
        ),
        "overview": Figure("Overview script run (AppTest)", "ms", "< 300 ms"),
        "trends": Figure("Trends script run (AppTest)", "ms", "< 300 ms"),
        "map": Figure("Map script run (AppTest)", "ms", "< 300 ms"),
        "chart": Figure("Trends: load → chart drawn (Chromium)", "ms", "< 1,500 ms"),
        "plotly": Figure(
            "plotly.js alone: load → chart drawn", "ms", "(reference: no page beats it)"
        ),
        "memory": Figure("app process peak memory", "MB", "< 400 MB, < 1/5 of peer 1"),
        "cold": Figure("cold start → first chart (bundled data)", "s", "< 5 s"),
        "chart_gap": Figure(
            "floor gap: Trends in Chromium − one-chart page", "ms", "≤ 300 ms (issue item 6)"
        ),
        "cold_gap": Figure("floor gap: cold start − one-chart page", "s", "≤ 1.5 s (issue item 6)"),
    }
    figs["ingest"].ours.append(size / ingest_s)
    figs["ingest"].reference.append(sqlite_alone(min(size, 1_000_000), workdir))
    chosen = picks(rows, db, queries)
    console.print("series latency…")
    series_latency(db, csv_path, parquet_path, chosen, figs["series"], figs["load"])
    console.print("as-of series latency…")
    as_of_latency(db, chosen, figs["as_of"], add_revisions(db, rows))
    console.print("page script times…")
    page_times(db, csv_path, parquet_path, chosen, figs, page_runs)
    if Path(CHROMIUM).exists():
        console.print("browser and memory…")
        # at least three counted visits each (the first fills the caches): the floor gap is
        # a difference of medians
        browser_and_memory(db, csv_path, parquet_path, chosen, figs, max(page_runs, 4), quick)
        console.print("cold start…")
        cold_start(workdir, figs["cold"], quick)
        floor_gap(figs["chart"], figs["chart_gap"])
        floor_gap(figs["cold"], figs["cold_gap"])
    store_mb = (
        sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists())
        / 2**20
    )
    return report(
        list(figs.values()),
        size,
        f" — store {store_mb:,.0f} MB, CSV {csv_path.stat().st_size / 2**20:,.0f} MB",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true", help="small data, finishes in ~1 min")
    parser.add_argument("--sizes", default="", help="comma-separated observation counts")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep an existing store of that size (ingest rate from its log)",
    )
    args = parser.parse_args(argv)
    sizes = (
        [int(s) for s in args.sizes.split(",") if s]
        if args.sizes
        else [100_000]
        if args.quick
        else [1_000_000, 10_000_000]
    )
    workdir = DATA_DIR
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"{time.strftime('%Y-%m-%d %H:%M')} · {machine()}")
    for size in sizes:
        console.print(run(size, args.quick, workdir, args.reuse))
    return 0


if __name__ == "__main__":
    sys.exit(main())
