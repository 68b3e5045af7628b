"""How long a load that revises many figures takes, on SQLite and PostgreSQL.

A load whose every figure has a new value flags each superseded revision `is_current = FALSE`
(store/ingest.py). This loads N figures, then loads them again with every value changed, and
times the second load and, inside it, the flagging step alone.

The figures are SYNTHETIC (bench sizes, never committed): N daily counts on real city names
(Mosul, Aleppo), one qualifier per 1,000 days.

    python -m bench.revisions [--figures 100000] [--backends sqlite,postgresql]

prints one row per backend: figures revised, seconds for the whole revising load, seconds
spent flagging superseded revisions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from data_sources.store import ingest as ingest_module
from data_sources.store.engine import make_engine

CITIES = (("Mosul", "IRQ"), ("Aleppo", "SYR"))
DAYS = 1000


def figures(n: int, value: float) -> pd.DataFrame:
    """`n` daily figures spread over the cities, `DAYS` days per qualifier, all `value`."""
    index = pd.RangeIndex(n)
    city = index % len(CITIES)
    per_city = index // len(CITIES)
    day = pd.Timestamp("2000-01-01") + pd.to_timedelta(per_city % DAYS, unit="D")
    return pd.DataFrame(
        {
            "source": "bench",
            "dataset": "revisions",
            "metric": "idps",
            "qualifier": [f"bench {q}" for q in per_city // DAYS],
            "place_raw": [CITIES[c][0] for c in city],
            "country_iso3": [CITIES[c][1] for c in city],
            "place_kind": "city",
            "period_start": day.strftime("%Y-%m-%d"),
            "period_end": day.strftime("%Y-%m-%d"),
            "value": value,
            "unit": "people",
            "estimate": "reported",
            "source_url": "https://example.org/bench",
            "citation": "bench (synthetic)",
        }
    )


def measure(url: str, n: int) -> tuple[int, float, float]:
    """Load `n` figures, then revise them all; returns (revised, load seconds, flag seconds)."""
    engine = make_engine(url)
    spent = [0.0]
    flag = ingest_module._set_revisions

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return flag(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    try:
        ingest_module.ingest(engine, figures(n, 1.0), source="bench", target="first")
        ingest_module._set_revisions = timed
        started = time.perf_counter()
        result = ingest_module.ingest(engine, figures(n, 2.0), source="bench", target="second")
        took = time.perf_counter() - started
    finally:
        ingest_module._set_revisions = flag
        engine.dispose()
    return result.rows_revised, took, spent[0]


def main(argv: list[str] | None = None) -> None:
    """Run each backend and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
                rows.append((backend, *measure(url, args.figures)))
                continue
            from devtools.pg_server import PostgresServer

            server = PostgresServer().start()
            try:
                rows.append((backend, *measure(server.new_database(), args.figures)))
            finally:
                server.stop()
    print(f"{'backend':<11} {'revised':>9} {'load s':>8} {'flagging s':>11}")
    for backend, revised, took, flagging in rows:
        print(f"{backend:<11} {revised:>9,} {took:>8.2f} {flagging:>11.2f}")


if __name__ == "__main__":
    main()
