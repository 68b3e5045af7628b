"""Server CPU that open but idle tabs cost: the version watcher's timed runs (views/common.py).

`python -m bench.idle_tab_cpu [--tabs 1 10] [--seconds 60]`: a server on a copy of the bundled
snapshot, N Chromium tabs open on Trends, nobody touching them; the server process's CPU time
(user + system, /proc) over the window, per minute and per tab. A window with no tab open is
measured first: what the server spends alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from data_sources.snapshot import load_snapshot
from data_sources.store.engine import make_engine

TICK = os.sysconf("SC_CLK_TCK")
CHROMIUM = "/usr/bin/chromium"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def window(pid: int, seconds: float) -> float:
    start = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - start


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from devtools.streamlit_server import start, stop

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tabs", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite'}"
        engine = make_engine(url)
        load_snapshot(engine)
        engine.dispose()
        server = start("serve.py", {"DATABASE_URL": url})
        proc = server.proc
        base = f"{server.base}/trends?cities=Aleppo,Mosul"
        try:
            alone = window(proc.pid, args.seconds)
            print(f"no tab: {alone * 60 / args.seconds:.3f} s CPU per minute", flush=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
                )
                for n in args.tabs:
                    pages = []
                    for _ in range(n):
                        page = browser.new_page(viewport={"width": 1400, "height": 1000})
                        page.goto(base)
                        page.wait_for_function(
                            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
                            timeout=60_000,
                        )
                        pages.append(page)
                    time.sleep(5)  # let the first draws finish
                    spent = window(proc.pid, args.seconds) - alone
                    per_minute = spent * 60 / args.seconds
                    print(
                        f"{n} idle tab(s): {per_minute:.3f} s CPU per minute above the idle "
                        f"server, {per_minute / n * 1000:.0f} ms per tab per minute "
                        f"({per_minute / 60 * 100:.2f}% of a core)",
                        flush=True,
                    )
                    for page in pages:
                        page.close()
                browser.close()
        finally:
            stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
