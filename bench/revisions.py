"""How long a load that revises many figures takes, on SQLite and PostgreSQL.

A load whose figures have new values marks each superseded revision `is_current = FALSE`
(store/ingest.py `_set_revisions`). This loads N figures, times a second load that changes
every value, and then times the marking step alone on the same store, two ways in turn (each
rolled back): one `UPDATE` per key, executed for every key, as the store did before (kept here
as the reference), and the bulk `UPDATE … FROM` the keys it does now.

The figures are SYNTHETIC (bench sizes, never committed): N daily counts on real city names
(Mosul, Aleppo), one qualifier per 1,000 days.

    python -m bench.revisions [--figures 100000] [--backends sqlite,postgresql] [--rounds 2]

prints one row per backend: figures revised, seconds for the whole revising load, and the
marking step's best seconds per key and in bulk.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from data_sources.store.engine import make_engine
from data_sources.store.ingest import ingest as ingest_module
from data_sources.store.tables import observations

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


def per_key(conn, values: dict, keys: pd.DataFrame) -> None:
    """The marking as it was: one UPDATE statement executed for every key."""
    o = observations.c
    conn.execute(
        observations.update()
        .where(
            o.series_id == sa.bindparam("s"),
            o.period_start == sa.bindparam("a"),
            o.period_end == sa.bindparam("b"),
            o.revision == sa.bindparam("r"),
        )
        .values(**values),
        [
            {"s": int(s), "a": a.date(), "b": b.date(), "r": int(r)}
            for s, a, b, r in keys.itertuples(index=False)
        ],
    )


def _marking(engine, keys: pd.DataFrame, mark, expected: int) -> float:
    """Seconds `mark` takes to flag `keys`, in a transaction rolled back afterwards."""
    with engine.connect() as conn:
        outer = conn.begin()
        started = time.perf_counter()
        mark(conn, {"is_current": False}, keys)
        took = time.perf_counter() - started
        flagged = conn.execute(
            sa.select(sa.func.count())
            .select_from(observations)
            .where(observations.c.is_current.is_(False))
        ).scalar()
        outer.rollback()
    if flagged != expected:
        raise AssertionError(f"{mark.__name__} flagged {flagged} revisions of {expected}")
    return took


def measure(url: str, n: int, rounds: int) -> tuple[int, float, float, float]:
    """(revised, revising load seconds, best marking seconds per key, best in bulk)."""
    engine = make_engine(url)
    try:
        ingest_module.ingest(engine, figures(n, 1.0), source="bench", target="first")
        started = time.perf_counter()
        result = ingest_module.ingest(engine, figures(n, 2.0), source="bench", target="second")
        took = time.perf_counter() - started
        o = observations.c
        with engine.connect() as conn:  # the current revisions: what a third load supersedes
            keys = pd.DataFrame(
                conn.execute(
                    sa.select(o.series_id, o.period_start, o.period_end, o.revision).where(
                        o.is_current.is_(True)
                    )
                ).all(),
                columns=["series_id", "period_start", "period_end", "revision"],
            )
        for col in ("period_start", "period_end"):
            keys[col] = pd.to_datetime(keys[col])
        flagged = n + len(keys)  # the first load's revisions already are not current
        times: dict[str, list[float]] = {"per key": [], "bulk": []}
        for _ in range(rounds):  # in turn, so that both meet the same machine
            times["per key"].append(_marking(engine, keys, per_key, flagged))
            times["bulk"].append(_marking(engine, keys, ingest_module._set_revisions, flagged))
    finally:
        engine.dispose()
    return result.rows_revised, took, min(times["per key"]), min(times["bulk"])


def main(argv: list[str] | None = None) -> None:
    """Run each backend and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
                rows.append((backend, *measure(url, args.figures, args.rounds)))
                continue
            from devtools.pg_server import PostgresServer

            server = PostgresServer().start()
            try:
                rows.append((backend, *measure(server.new_database(), args.figures, args.rounds)))
            finally:
                server.stop()
    print(f"{'backend':<11} {'revised':>9} {'load s':>7} {'marking per key s':>18} {'bulk s':>7}")
    for backend, revised, took, slow, fast in rows:
        print(f"{backend:<11} {revised:>9,} {took:>7.2f} {slow:>18.2f} {fast:>7.2f}")


if __name__ == "__main__":
    main()
