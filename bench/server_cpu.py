"""Server CPU per fresh page view: each of our pages against the one-chart Streamlit page
(bench/floor_app.py) and the pandas-idiom peer (bench/peer_app.py), measured in the same run.

    python -m bench.server_cpu [--quick] [--views N] [--browser-views N]

A *fresh view* is a new viewer opening a page: a new session and one full script run, the
caches already warm (one view first, not counted). The server's CPU is read from
/proc/PID/stat (user + system, every thread) before and after N views and divided by N, so
whatever else runs on the machine does not count. Two ways of opening a view, both counted:

- *session*: a websocket session speaking Streamlit's protocol (devtools/sessions.py): only the
  script run and the page's messages, no browser;
- *browser*: a new Chromium page (Debian's, never downloaded), which also costs the server the
  static files, the frontend's own messages and any rerun the page triggers.

Our pages run on the bundled snapshot (real data); the peer on the scaled data
(devtools/generate.py: SCALED, NOT REAL) asking for one city's wheat flour. The last column is
each page's CPU above the one-chart page's, the issue's target being at most 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.concurrency import PAGES, cpu_seconds, scaled, snapshot_store
from devtools.generate import DATA_DIR
from devtools.sessions import open_view

console = Console(width=200)
TARGET_MS = 100  # CPU per fresh view above the one-chart page


@dataclass
class Row:
    name: str
    session_ms: list[float] = field(default_factory=list)
    browser_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def session_views(url: str, pid: int, n: int, row: Row) -> None:
    """`n` fresh views over websocket sessions, one after another; the server's CPU over all
    of them divided by `n` (the kernel counts CPU in 10 ms ticks: one view alone is too
    coarse a measure)."""
    before = cpu_seconds(pid)
    for _ in range(n):
        view = asyncio.run(open_view(url, timeout=300))
        if view.status != "ok" or view.errors:
            row.failures.append(f"session: {view.status} {view.errors[:1]}")
    row.session_ms.append((cpu_seconds(pid) - before) / n * 1000)


def settled(page) -> None:
    """Wait until the page's script run is over and nothing is pending (as a reader would see
    the page complete), at least one second after it opened."""
    page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
    start = time.perf_counter()
    while time.perf_counter() - start < 120:
        state = page.get_attribute("[data-testid='stApp']", "data-test-script-state")
        idle = page.locator("[data-testid='stStatusWidget']").count() == 0
        if state in (None, "notRunning") and idle and time.perf_counter() - start > 1:
            return
        time.sleep(0.1)


def browser_views(browser, url: str, pid: int, n: int, row: Row) -> None:
    """`n` fresh views in new Chromium pages, each until settled; CPU per view as above."""
    before = cpu_seconds(pid)
    for _ in range(n):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        page.close()
    row.browser_ms.append((cpu_seconds(pid) - before) / n * 1000)


def measure(name: str, script: str, env: dict[str, str], path: str, views: int,
            browser_n: int) -> Row:  # fmt: skip
    """One server for one page: a warm-up view, then session views, then browser views (a
    Chromium of its own: Playwright's sync API holds an event loop the sessions cannot share)."""
    from bench.run import CHROMIUM, launch, server

    row = Row(name)
    with server(script, env) as (base, proc, _):
        url = base + path
        warm = asyncio.run(open_view(url, timeout=300))  # imports, caches, the store's engine
        if warm.status != "ok" or warm.errors:
            row.failures.append(f"warm-up: {warm.status} {warm.errors[:1]}")
        session_views(url, proc.pid, views, row)
        if not browser_n or not Path(CHROMIUM).exists():
            return row
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()  # the browser's own first visit (its cache of the
            page.goto(url)  # frontend's files) is not counted either
            settled(page)
            page.close()
            browser_views(browser, url, proc.pid, browser_n, row)
            browser.close()
    return row


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(rows: list[Row], title: str) -> Table:
    floor = next(r for r in rows if r.name.startswith("one-chart"))
    out = Table(
        title=title,
        caption="server CPU per fresh view (user + system of the server process, caches warm), "
        "mean over the views; above floor: ours minus the one-chart page (target ≤ "
        f"{TARGET_MS} ms); peer 1 on scaled data (SCALED, NOT REAL)",
    )
    for col in ("page", "session ms", "browser ms", "above floor (browser)", "target", "failed"):
        out.add_column(col, justify="left" if col in ("page", "target", "failed") else "right")
    for r in rows:
        gap = median(r.browser_ms) - median(floor.browser_ms)
        is_ours = not r.name.startswith(("one-chart", "peer"))
        out.add_row(
            r.name,
            f"{median(r.session_ms):.0f}",
            f"{median(r.browser_ms):.0f}" if r.browser_ms else "–",
            f"{gap:+.0f}" if r is not floor and gap == gap else "–",
            (("met" if gap <= TARGET_MS else "NOT met") if is_ours and gap == gap else ""),
            "; ".join(dict.fromkeys(r.failures)) or "none",
        )
    return out


def run(views: int, browser_n: int, size: int, workdir: Path) -> Table:
    from bench.run import machine

    console.print("snapshot store…")
    snapshot_url = snapshot_store(workdir)
    console.print(f"scaled data for the peer, {size:,} observations…")
    _, csv_path, parquet_path, peer_query = scaled(size, workdir)
    targets = [
        (name, "serve.py", {"DATABASE_URL": snapshot_url}, path) for name, path in PAGES.items()
    ]
    targets += [
        ("one-chart Streamlit page", "bench/floor_app.py", {}, "/"),
        (
            "peer 1 pandas+cache Trends",
            "bench/peer_app.py",
            {"PEER": "pandas", "BENCH_CSV": str(csv_path), "BENCH_PARQUET": str(parquet_path)},
            "/" + peer_query,
        ),
    ]
    rows = []
    for name, script, env, path in targets:
        console.print(f"{name}…")
        rows.append(measure(name, script, env, path, views, browser_n))
    return table(
        rows,
        f"Server CPU per fresh view — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — "
        f"{machine()} — {views} session views, {browser_n} browser views each",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_cpu")
    parser.add_argument("--quick", action="store_true", help="fewer views, 100,000 scaled rows")
    parser.add_argument("--views", type=int, default=0, help="session views per page")
    parser.add_argument("--browser-views", type=int, default=-1, help="browser views per page")
    parser.add_argument("--size", type=int, default=0, help="scaled observations (peer's CSV)")
    args = parser.parse_args(argv)
    views = args.views or (5 if args.quick else 20)
    browser_n = args.browser_views if args.browser_views >= 0 else (3 if args.quick else 10)
    size = args.size or (100_000 if args.quick else 1_000_000)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    console.print(run(views, browser_n, size, DATA_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
