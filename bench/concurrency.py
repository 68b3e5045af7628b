"""Many viewers at once: fresh page views per second of one server process at 1, 10 and 25
concurrent sessions, for every page and for the pandas-idiom peer, in the same run.

    python -m bench.concurrency [--quick] [--size 1000000] [--levels 1,10,25]

A *fresh view* is a new viewer opening a page: a new websocket session, one full script run, the
whole page sent (devtools/sessions.py speaks Streamlit's own protocol, so no browser's work is
counted; a browser adds its own drawing, see `make bench`). At each level N, N viewers open
views one after another, each view a new session, for `rounds` views each; views/s = all views
÷ wall time. One server process per row, started for it; caches are warmed by one view first.

Rows: our five pages on the bundled snapshot (real data); our Trends page and peer 1 (the whole
CSV in pandas kept by st.cache_data: bench/peer_app.py) on the same scaled data (SCALED, NOT
REAL: devtools/generate.py) asking for the same city and commodity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from rich.console import Console
from rich.table import Table

from devtools.generate import DATA_DIR
from devtools.sessions import View, open_view
from views.pages import PAGES as REGISTRY

console = Console(width=200)
PAGES = {p.title: p.address for p in REGISTRY}  # every page of views/pages.py


@dataclass
class Row:
    name: str
    rate: dict[int, float] = field(default_factory=dict)  # level -> views/s
    p50: dict[int, float] = field(default_factory=dict)  # level -> seconds per view
    cpu_ms: float = float("nan")  # server CPU per view, over every measured view
    failures: list[str] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def level(url: str, viewers: int, rounds: int) -> tuple[float, list[View]]:
    """`viewers` concurrent viewers, each opening `rounds` fresh views in a row."""

    async def viewer() -> list[View]:
        return [await open_view(url, timeout=300) for _ in range(rounds)]

    start = time.perf_counter()
    done = await asyncio.gather(*(viewer() for _ in range(viewers)))
    return time.perf_counter() - start, [v for views in done for v in views]


def measure(name: str, url: str, pid: int, levels: list[int], rounds: int) -> Row:
    row = Row(name)
    warm = asyncio.run(open_view(url, timeout=300))  # caches filled, modules imported
    if warm.status != "ok" or warm.errors:
        row.failures.append(f"warm-up: {warm.status} {warm.errors[:1]}")
    cpu, views_total = cpu_seconds(pid), 0
    for n in levels:
        seconds, views = asyncio.run(level(url, n, rounds))
        bad = [v for v in views if v.status != "ok" or v.errors]
        row.failures += [f"{n} sessions: {v.status} {v.errors[:1]}" for v in bad[:3]]
        row.rate[n] = len(views) / seconds
        row.p50[n] = statistics.median(v.seconds for v in views)
        views_total += len(views)
    row.cpu_ms = (cpu_seconds(pid) - cpu) / views_total * 1000
    return row


def snapshot_store(workdir: Path) -> str:
    """A fresh SQLite store holding the bundled snapshot (the real data every page opens on)."""
    from data_sources.snapshot import load_snapshot
    from data_sources.store.engine import make_engine

    db = workdir / "concurrency_snapshot.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    load_snapshot(engine)
    engine.dispose()
    return f"sqlite:///{db}"


def scaled(size: int, workdir: Path) -> tuple[str, Path, Path, str]:
    """The scaled store and the peers' files (reused when `make bench` built them), and one
    city's price query both our Trends page and the peer answer."""
    from bench.run import build_store, picks

    db, csv_path, parquet_path, rows, _ = build_store(size, workdir, reuse=True)
    prices = picks(rows, db, 30)
    r = prices[prices.metric == "food_price"].iloc[0]
    query = (
        f"?cities={quote(r.city)}&metric=food_price&qualifier={quote(r.qualifier)}"
        f"&unit={quote(r.unit, safe='')}"
    )
    return f"sqlite:///{db}", csv_path, parquet_path, query


def table(rows: list[Row], levels: list[int], title: str) -> Table:
    out = Table(title=title, caption="views/s: fresh views (each a new session) per second of "
                "one server process; p50: seconds from connecting to the page's run finished; "
                "the last row: how many times better ours is (below 1: the peer wins)")  # fmt: skip
    out.add_column("page", justify="left")
    for n in levels:
        out.add_column(f"views/s @{n}", justify="right")
    out.add_column(f"p50 s @{levels[-1]}", justify="right")
    out.add_column("server CPU ms/view", justify="right")
    out.add_column("failed", justify="left")
    for r in rows:
        out.add_row(
            r.name,
            *(f"{r.rate[n]:.1f}" for n in levels),
            f"{r.p50[levels[-1]]:.2f}",
            f"{r.cpu_ms:.0f}",
            "; ".join(r.failures) or "none",
        )
    ours = next(r for r in rows if r.name.startswith("Trends (scaled"))
    peer = next(r for r in rows if r.name.startswith("peer 1"))
    out.add_row(
        "ours ÷ peer 1 (Trends, same data)",
        *(f"{ours.rate[n] / peer.rate[n]:.1f}×" for n in levels),
        f"{peer.p50[levels[-1]] / ours.p50[levels[-1]]:.1f}×",
        f"{peer.cpu_ms / ours.cpu_ms:.1f}×",
        "",
    )
    return out


def run(size: int, levels: list[int], rounds: int, workdir: Path) -> Table:
    from bench.run import server

    rows: list[Row] = []
    console.print("snapshot store…")
    snapshot_url = snapshot_store(workdir)
    for name, path in PAGES.items():
        console.print(f"{name} ({', '.join(map(str, levels))} sessions)…")
        with server("serve.py", {"DATABASE_URL": snapshot_url}) as (base, proc, _):
            rows.append(measure(name, base + path, proc.pid, levels, rounds))
    console.print(f"scaled data, {size:,} observations…")
    store_url, csv_path, parquet_path, query = scaled(size, workdir)
    with server("serve.py", {"DATABASE_URL": store_url}) as (base, proc, _):
        rows.append(
            measure(f"Trends (scaled {size:,})", base + "/trends" + query, proc.pid, levels, rounds)
        )
    peer_env = {"PEER": "pandas", "BENCH_CSV": str(csv_path), "BENCH_PARQUET": str(parquet_path)}
    with server("bench/peer_app.py", peer_env) as (base, proc, _):
        rows.append(
            measure(
                f"peer 1 pandas+cache (scaled {size:,})",
                base + "/" + query,
                proc.pid,
                levels,
                rounds,
            )  # fmt: skip
        )
    from bench.run import machine

    return table(
        rows,
        levels,
        f"Many viewers at once — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — "
        f"{machine()} — "
        f"{rounds} views per session per level",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency")
    parser.add_argument("--quick", action="store_true", help="100,000 scaled rows, 2 rounds")
    parser.add_argument("--size", type=int, default=0, help="scaled observations (peer's CSV)")
    parser.add_argument("--levels", default="1,10,25", help="concurrent sessions per level")
    parser.add_argument("--rounds", type=int, default=0, help="views per session per level")
    args = parser.parse_args(argv)
    size = args.size or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (2 if args.quick else 4)
    levels = [int(n) for n in args.levels.split(",") if n]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    console.print(run(size, levels, rounds, DATA_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
