"""The two floor gaps of the issue's item 6, measured alternating: ours, then the one-chart page
(bench/floor_app.py), then ours again, and so on, so both see the same load on a shared
machine; the medians of both and their difference are reported, never a single number.

    python -m bench.floors [--rounds 3] [--visits 5] [--output bench/last_floors.txt]

- cold start: process spawned → first chart drawn in a fresh Chromium, ours on a fresh SQLite
  store (the first start loads the bundled snapshot), split into "server up" (the health check
  answers) and "first chart" (after that);
- Trends: a new tab's load → chart drawn on a warm server (caches filled by a first visit),
  ours at `/trends?cities=Aleppo` (wheat flour prices, the page's default) against the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.run import CHART_DRAWN, chart_time, launch, machine
from devtools.streamlit_server import running

TRENDS = "/trends?cities=Aleppo"
WHO = {"ours": ("serve.py", TRENDS), "floor": ("bench/floor_app.py", "/")}


def cold(playwright, who: str, workdir: Path) -> tuple[float, float]:
    """(seconds to health ok, seconds to the first chart), both from the process spawn."""
    script, _ = WHO[who]
    db = workdir / f"cold_{time.monotonic_ns()}.sqlite"
    browser = launch(playwright)
    try:
        with running(
            script, {"DATABASE_URL": f"sqlite:///{db}"}, log=workdir / "cold.log", timeout=180
        ) as s:
            up = time.perf_counter() - s.started
            page = browser.new_page()
            page.goto(s.base + "/")
            page.wait_for_function(CHART_DRAWN, timeout=180_000)
            return up, time.perf_counter() - s.started
    finally:
        browser.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def warm(playwright, db: Path, visits: int, rounds: int) -> dict[str, list[float]]:
    """Both servers up at once; per round, `visits` new tabs of ours then of the floor."""
    out: dict[str, list[float]] = {"ours": [], "floor": []}
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    browser = launch(playwright)
    with (
        running(WHO["ours"][0], env, log=db.with_suffix(".ours.log"), timeout=180) as ours,
        running(WHO["floor"][0], env, log=db.with_suffix(".floor.log"), timeout=180) as floor,
    ):
        bases = {"ours": ours.base, "floor": floor.base}
        for who in out:  # the first visit fills the caches (and loads the snapshot)
            chart_time(browser, bases[who] + WHO[who][1])
        for _ in range(rounds):
            for who in out:
                for _ in range(visits):
                    out[who].append(chart_time(browser, bases[who] + WHO[who][1]))
    browser.close()
    return out


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(
    colds: dict[str, list[tuple[float, float]]], warms: dict[str, list[float]], rounds: int
) -> str:
    up = {w: median([u for u, _ in colds[w]]) for w in colds}
    chart = {w: median([c for _, c in colds[w]]) for w in colds}
    trends = {w: median(warms[w]) for w in warms}
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC · {machine()} · "
        f"load {Path('/proc/loadavg').read_text().split()[0]} · medians, alternating, "
        f"{rounds} cold starts and {len(warms['ours'])} Trends views each",
        "",
        f"{'figure':<42}{'ours':>10}{'floor':>10}{'gap':>10}  target",
        f"{'cold start: spawn → health ok (s)':<42}{up['ours']:>10.2f}{up['floor']:>10.2f}"
        f"{up['ours'] - up['floor']:>10.2f}",
        f"{'cold start: spawn → first chart (s)':<42}{chart['ours']:>10.2f}"
        f"{chart['floor']:>10.2f}{chart['ours'] - chart['floor']:>10.2f}  ≤ 1.5 s "
        + ("(met)" if chart["ours"] - chart["floor"] <= 1.5 else "(NOT met)"),
        f"{'Trends in Chromium: load → chart (ms)':<42}{trends['ours']:>10.0f}"
        f"{trends['floor']:>10.0f}{trends['ours'] - trends['floor']:>10.0f}  ≤ 300 ms "
        + ("(met)" if trends["ours"] - trends["floor"] <= 300 else "(NOT met)"),
        "",
        "every cold start (up, chart) s: "
        + "; ".join(f"{w} " + ", ".join(f"({u:.1f}, {c:.1f})" for u, c in colds[w]) for w in colds),
        "every Trends view ms: "
        + "; ".join(f"{w} " + ", ".join(f"{v:.0f}" for v in warms[w]) for w in warms),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(prog="python -m bench.floors")
    parser.add_argument("--rounds", type=int, default=3, help="cold starts of each, alternating")
    parser.add_argument("--visits", type=int, default=3, help="Trends views of each per round")
    parser.add_argument("--output", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    colds: dict[str, list[tuple[float, float]]] = {"ours": [], "floor": []}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        workdir = Path(tmp)
        for _ in range(args.rounds):
            for who in colds:
                colds[who].append(cold(p, who, workdir))
        warms = warm(p, workdir / "warm.sqlite", args.visits, args.rounds)
    text = report(colds, warms, args.rounds)
    print(text, end="")
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
