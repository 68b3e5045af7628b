"""What `query.data_version` costs per call, on SQLite and PostgreSQL.

`python -m bench.version_cost [--pg]`: a store of 100,000 figures (devtools.generate: SCALED, NOT
REAL), ingested in 10 loads; the version read 2,000 times on a warm engine (the pages' pooled
connection), p50 and p95 in microseconds. Then fetch_log is grown to 10,000 and 100,000 finished
loads (log rows only, no figures: years of hourly refreshes of every feed) to show how the
cost grows with the log, which is what the query reads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from data_sources.store import query
from data_sources.store.engine import make_engine
from data_sources.store.ingest import ingest
from data_sources.store.tables import fetch_log
from devtools.generate import generate, to_observations


def measure(engine, calls: int = 2000) -> tuple[float, float]:
    query.data_version(engine)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        query.data_version(engine)
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def grow_log(engine, total: int) -> None:
    with engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(fetch_log)).scalar()
    now = datetime.now(UTC)
    rows = [
        {
            "source": "bench-log",
            "target": "log row",
            "started_at": now,
            "finished_at": now,
            "status": "ok",
        }
        for _ in range(max(0, total - have))
    ]
    with engine.begin() as conn:
        for i in range(0, len(rows), 10_000):
            conn.execute(fetch_log.insert(), rows[i : i + 10_000])


def run(url: str, label: str) -> list[str]:
    engine = make_engine(url)
    rows = generate(100_000)
    for start in range(0, len(rows), 10_000):
        ingest(engine, to_observations(rows.iloc[start : start + 10_000]), source="bench",
               target=f"batch {start}")  # fmt: skip
    out = []
    for size in (10, 10_000, 100_000):
        if size > 10:
            grow_log(engine, size)
        p50, p95 = measure(engine)
        out.append(f"{label}: fetch_log {size:>7,} rows: p50 {p50:,.0f} µs, p95 {p95:,.0f} µs")
        print(out[-1], flush=True)
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", action="store_true", help="also on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'version.sqlite'}", "sqlite")
    if args.pg:
        from devtools.pg_server import PostgresServer

        server = PostgresServer().start()
        try:
            run(server.new_database(), "postgresql")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
