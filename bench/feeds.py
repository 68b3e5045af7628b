"""Live-feed throughput: each connector end to end against the local replay server, on its
fixtures repeated to a realistic volume (SCALED, NOT REAL: record ids are renumbered).

    python -m bench.feeds [--scale 50]

Per feed: records served, pages fetched, HTTP requests, observation rows normalized, and
rows per second for normalizing alone (the pure step) and for the whole refresh (HTTP, JSON,
normalize, validate, place, store) into a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from data_sources import settings
from data_sources.feeds import FeedClient
from data_sources.feeds.connectors import CONNECTORS
from data_sources.feeds.refresh import refresh
from data_sources.store.engine import make_engine
from devtools.replay_server import FEED_KEYS, FeedServer, replay_scopes

SCOPES = replay_scopes()


def scale(server: FeedServer, factor: int) -> None:
    """Repeat each feed's records `factor` times with fresh ids, so pages and sums are real work."""

    def many(records: list, key: str | None, bump=None) -> list:
        out = []
        for k in range(factor):
            for rec in records:
                copy_ = copy.deepcopy(rec)
                if key:
                    copy_[key] = (
                        f"{rec[key]}-{k}" if isinstance(rec[key], str) else rec[key] + k * 10**7
                    )
                if bump:
                    bump(copy_, k)
                out.append(copy_)
        return out

    def shift_day(field: str):
        def bump(rec: dict, k: int) -> None:  # another day per copy: distinct figures
            day = date.fromisoformat(str(rec[field])[:10]).toordinal() + k
            rec[field] = date.fromordinal(day).isoformat() + str(rec[field])[10:]

        return bump

    server.data["ucdp"] = many(server.data["ucdp"], "id", shift_day("date_start"))
    for rec in server.data["ucdp"]:
        rec["date_end"] = rec["date_start"]
    dtm = server.data["dtm"]["IRQ"]
    dtm["result"] = many(dtm["result"], "id", shift_day("reportingDate"))
    acled = server.data["acled"]
    acled["data"] = many(acled["data"], "event_id_cnty", shift_day("event_date"))
    server.data["hapi"]["food-prices"] = many(
        server.data["hapi"]["food-prices"],
        None,
        lambda r, k: r.update(market_name=f"{r['market_name']}{'' if k == 0 else f' {k}'}"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=50)
    args = parser.parse_args(argv)
    server = FeedServer().start()
    scale(server, args.scale)
    env = {cls.base_url_setting: server.base_url for cls in CONNECTORS.values()}
    env.update(
        FEED_KEYS,
        HXL_URLS=server.base_url + "/files/aleppo_prices.csv",
        HTTP_CACHE_TTL="0",
        HTTP_REQUESTS_PER_SECOND="0",
        UCDP_PAGE_SIZE="1000",
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench_feeds_"))
    env["HTTP_CACHE_DIR"] = str(workdir / "cache")
    os.environ.update(env)
    settings.reload()
    table = Table(
        title=f"live feeds against the replay server, fixtures x{args.scale} (SCALED, NOT REAL)"
    )
    for col in (
        "feed",
        "records",
        "pages",
        "requests",
        "rows",
        "normalize rows/s",
        "refresh rows/s",
        "refresh s",
        "status",
    ):
        table.add_column(col, justify="left" if col in ("feed", "status") else "right")
    for name, cls in CONNECTORS.items():
        scope = SCOPES[name]
        connector = cls()
        with FeedClient(name) as client:
            batches = list(connector.fetch(client, scope))
        records = sum(len(b.records) for b in batches)
        t0 = time.perf_counter()
        rows = len(connector.normalize_all(batches, scope))
        normalize_s = time.perf_counter() - t0
        engine = make_engine(f"sqlite:///{workdir / (name + '.sqlite')}")
        t0 = time.perf_counter()
        report = refresh(engine, [name], scope)[0]
        total_s = time.perf_counter() - t0
        table.add_row(
            name,
            f"{records:,}",
            str(report.pages),
            str(report.requests),
            f"{rows:,}",
            f"{rows / normalize_s:,.0f}",
            f"{report.rows_in / total_s:,.0f}",
            f"{total_s:.2f}",
            report.status + (f" {report.error[:40]}" if report.error else ""),
        )
        engine.dispose()
    server.stop()
    Console(width=160).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
