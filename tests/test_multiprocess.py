"""Several processes, one store: a figure stored by one process reaches every open page.

Real processes: two `streamlit run serve.py` servers on one store (one PostgreSQL database, one
SQLite file), a headless Chromium tab open on each, and the command line importing real UCDP
events (tests/fixtures/ucdp_mosul) from a third process. Nobody clicks or reloads: each tab's
version watcher (views/common.py) has to bring the figure in. Also: a server restarted under an
open tab.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from data_sources.store import query
from data_sources.store.engine import make_engine
from devtools.streamlit_server import free_port, running, start
from devtools.streamlit_server import stop as stop_server

from .conftest import ROOT, drop_source
from .test_browser import ARTIFACTS, CHROMIUM

FIXTURES = ROOT / "tests" / "fixtures" / "ucdp_mosul"
BEFORE = FIXTURES / "before" / "conflict_data_irq.csv"  # Mosul events, December 2016
AFTER = FIXTURES / "after" / "conflict_data_irq.csv"  # the same, and January 2017's
TRENDS = "/trends?cities=Mosul&metric=conflict_fatalities&period=month"
REACH_SECONDS = 30  # the brief: both tabs show the figure within 30 s, no click

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium missing"),
]


def cli_import(database_url: str, path) -> float:
    """`python -m data_sources import` in its own process; returns when it has committed."""
    subprocess.run(
        [sys.executable, "-m", "data_sources", "import", str(path), "--source", "ucdp"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return time.monotonic()


def start_server(database_url: str, port: int | None = None) -> subprocess.Popen:
    """`streamlit run serve.py` on DATABASE_URL, answering its health check."""
    return start("serve.py", {"DATABASE_URL": database_url}, port=port).proc


@contextmanager
def server(database_url: str):
    with running("serve.py", {"DATABASE_URL": database_url}) as started:
        yield started.base


# the Trends chart's points as plotly holds them in the page: {trace name: {x: y}}
POINTS_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullData) return null;
  const out = {};
  for (const t of gd._fullData) {
    if (!t.x || !t.y || t.mode === 'text') continue;
    const xs = Array.from(t.x), ys = Array.from(t.y);
    out[t.name || ''] = Object.fromEntries(xs.map((x, i) => [String(x).slice(0, 7), ys[i]]));
  }
  return out;
}"""


def chart_points(page) -> dict:
    return page.evaluate(POINTS_JS) or {}


def january_2017(points: dict) -> float | None:
    for name, line in points.items():
        if name.startswith("Mosul") and "2017-01" in line:
            return line["2017-01"]
    return None


def open_trends(browser, base: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base + TRENDS)
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=60_000
    )
    page.wait_for_timeout(500)
    return page


def store_january(database_url: str) -> float:
    """January 2017 in Mosul as the store holds it after the import (figures per day, summed
    by month as the chart does)."""
    engine = make_engine(database_url)
    try:
        mosul = query.cities(engine).set_index("name").loc["Mosul", "place_id"]
        data = query.series_frame(engine, [mosul], "conflict_fatalities")
    finally:
        engine.dispose()
    # the chart's line: the best estimate in total (breakdown ""), never best + low + high
    # nor the total plus its breakdown by type of violence
    data = data[(data.estimate == "best") & (data.qualifier == "")]
    jan = data[(data.period_end >= "2017-01-01") & (data.period_end <= "2017-01-31")]
    return float(jan.value.sum())


def test_an_import_from_a_third_process_reaches_tabs_on_two_servers(loaded_url, backend, browser):
    drop_source(loaded_url, "ucdp")  # the snapshot's own UCDP events: the import stands alone
    cli_import(loaded_url, BEFORE)
    with server(loaded_url) as one, server(loaded_url) as two:
        tabs = {one: open_trends(browser, one), two: open_trends(browser, two)}
        for page in tabs.values():
            points = chart_points(page)
            assert any(n.startswith("Mosul") for n in points), points
            assert january_2017(points) is None  # December only, so far
        started = time.monotonic()
        committed = cli_import(loaded_url, AFTER)
        expected = store_january(loaded_url)
        assert expected > 0
        reached: dict[str, float] = {}
        while len(reached) < len(tabs) and time.monotonic() - committed < REACH_SECONDS + 5:
            for base, page in tabs.items():
                if base not in reached and january_2017(chart_points(page)) == expected:
                    reached[base] = time.monotonic() - committed
            time.sleep(0.2)
        ARTIFACTS.mkdir(exist_ok=True)
        for i, page in enumerate(tabs.values(), start=1):
            page.screenshot(path=str(ARTIFACTS / f"multiprocess_{backend}_server{i}.png"))
        notes = [page.locator("[data-testid='stSidebar']").inner_text() for page in tabs.values()]
        for page in tabs.values():
            page.close()
    print(
        f"\n[{backend}] import took {committed - started:.1f} s; figure on server 1 after "
        + ", server 2 after ".join(f"{reached.get(b, float('nan')):.1f} s" for b in tabs)
        + " (from the import's commit)"
    )
    assert len(reached) == 2, f"January 2017 ({expected:g}) reached only {list(reached)}"
    assert max(reached.values()) <= REACH_SECONDS
    for text in notes:
        assert "new figures from ucdp" in text, text


# what the page shows: charts drawn, the script run's and the connection's state (attributes
# Streamlit's frontend sets on stApp), elements still faded from the previous run
STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    charts: document.querySelectorAll('.js-plotly-plot .main-svg').length,
    run: app && app.getAttribute('data-test-script-state'),
    connection: app && app.getAttribute('data-test-connection-state'),
    stale: document.querySelectorAll('[data-stale="true"]').length,
  };
}"""


def test_an_open_tab_redraws_after_a_server_restart(loaded_db, browser, tmp_path):
    """Kill the server under an open Trends tab (deep link), start a new one on the same port:
    the tab is drawn again by the new server, by itself, within 10 s of it answering.

    Streamlit's frontend pings the server (at most 4 s apart) and reconnects, but on reconnect
    it asks for a script run only when the page was mid-run or holds a timed fragment
    (`autoRerunIntervals` in its App.handleConnectionStateChanged); an idle page otherwise keeps
    the old server's drawing and no session exists for it. The version watcher is such a
    fragment, so every page gets the run. Proof: the new server's websocket carries the chart
    again (its title), and the page shows it, not a 'Connecting' state."""
    import shutil

    db = tmp_path / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    url = f"sqlite:///{db}"
    port = free_port()
    deep = (
        "/trends?cities=Homs,Aleppo&metric=food_price&qualifier=Rice%2C%20retail"
        "&unit=USD%2FKG&period=year"
    )
    received: list[tuple[float, bytes]] = []

    def on_socket(ws) -> None:
        def frame(payload) -> None:
            data = payload if isinstance(payload, bytes) else payload.encode()
            received.append((time.monotonic(), data))

        ws.on("framereceived", frame)

    proc = start_server(url, port)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("websocket", on_socket)
    try:
        page.goto(f"http://127.0.0.1:{port}{deep}")
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
            timeout=60_000,
        )
        legend = sorted(t.text_content() for t in page.locator(".legendtext").all())
        proc.kill()  # no goodbye: the websocket just drops
        proc.wait()
        page.wait_for_timeout(3000)  # the tab notices and starts pinging
        proc = start_server(url, port)
        answered = time.monotonic()
        state: dict = {}
        drawn_at = None
        while time.monotonic() < answered + 10:
            state = page.evaluate(STATE_JS)
            redrawn = any(t >= answered and b"Rice, retail" in data for t, data in received)
            if (
                redrawn
                and state["charts"]
                and state["run"] == "notRunning"
                and state["connection"] == "CONNECTED"
                and not state["stale"]
            ):
                drawn_at = time.monotonic()
                break
            time.sleep(0.25)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "restart_trends.png"), full_page=True)
        assert drawn_at is not None, f"not drawn again within 10 s of the restart: {state}"
        print(
            f"\nrestart: chart drawn again {drawn_at - answered:.1f} s after the new server answered"
        )
        page.wait_for_timeout(500)
        assert sorted(t.text_content() for t in page.locator(".legendtext").all()) == legend
        assert page.get_by_role("radio", name="year").is_checked()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        page.close()
        stop_server(proc)
