"""Many viewers at once: 10 concurrent sessions on every page of one server (SQLite, PostgreSQL),
and 10 on each of two servers that share one PostgreSQL database and start on it empty.

Each viewer is a real Streamlit session over the server's websocket (devtools/sessions.py: the
`rerun_script` message a browser tab sends, the page back as Streamlit's own protobufs), so the
server does all a tab makes it do while the 2-core test machine is not spent on 20 Chromium tabs.
Viewer i opens the five pages in its own rotated order, so every page is being drawn at once.
What every viewer must get: the run finished, no exception box nor error alert, the page's
headline figures from the bundled (real) snapshot, and the very same page as every other viewer;
each server's log holds no traceback.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from devtools.sessions import View, chart_title, chart_traces
from devtools.streamlit_server import running
from views.pages import PAGES as REGISTRY

pytestmark = pytest.mark.slow  # minutes on 2 cores: in `make test`, not `make test-fast`

VIEWERS = 10
PAGES = [p.address for p in REGISTRY]  # every page of views/pages.py


def expect_page(path: str, view: View) -> None:
    """The headline figures a viewer of `path` sees on the bundled snapshot's default view."""
    assert view.status == "ok", (view.url, view.status)
    assert not view.page_not_found, view.url
    assert view.errors == [], (view.url, view.errors)
    charts = view.kinds("plotly_chart")
    if path == "/":
        assert view.kinds("heading")[:3] == ["Overview", "Aleppo (SYR)", "Mosul (IRQ)"]
        metrics = view.kinds("metric")
        assert "Internally displaced people: 90,500 ()" in metrics  # Aleppo, OCHA 4 Jan 2017
        assert "Civilians killed: 9,000–11,000 ()" in metrics  # Mosul, AP 9 Jul 2017
        assert len(charts) >= 2  # a small trend per city
    elif path == "/trends":
        assert [chart_title(c) for c in charts] == ["Food price — Wheat flour, retail"]
        # one line per market, never their mean: WFP's first two monthly SYP/KG prices of
        # Aleppo's two long-running markets as the raw sheet has them
        lines = chart_traces(charts[0])
        assert lines["Aleppo · Al-Cha'ar"][:2] == [83.0, 100.0]
        assert lines["Aleppo · Moghambo"][:2] == [79.0, 81.0]
        assert len(lines["Aleppo · Moghambo"]) >= 48
    elif path == "/compare":
        # it opens on the first chosen city that two sources give figures for
        assert [chart_title(c) for c in charts] == [
            "Internally displaced people — Aleppo: every source"
        ]
        assert chart_traces(charts[0]) == {
            "NPM (via UN OCHA)": [30487.0],
            "UN OCHA": [37000.0, 53773.0, 90500.0],
        }
    elif path == "/map":
        # it opens on a metric and month of the sidebar's cities (UCDP's civilian deaths,
        # Aleppo's last month of them), not on a Syria-only price
        assert [chart_title(c) for c in charts] == ["Civilians killed — November 2019"]
        assert any(
            t.startswith("44 places with a figure in 2019-11") for t in view.kinds("markdown")
        )
    elif path == "/data":
        # it opens on the sidebar's cities (Aleppo and Mosul), not the whole store
        assert "**20,446 figures** match; the first 5,000 are shown, downloads hold all." in (
            view.kinds("markdown")
        )
    else:  # a page added to views/pages.py: say what its viewers must see
        raise AssertionError(f"no expectations for {path} in tests/test_concurrency.py")


def viewer_urls(bases: list[str]) -> list[str]:
    """VIEWERS viewers per server, each opening every page, in a rotated order."""
    return [
        base + PAGES[(i + k) % len(PAGES)]
        for base in bases
        for i in range(VIEWERS)
        for k in range(len(PAGES))
    ]


def open_concurrently(bases: list[str]) -> list[View]:
    """Every viewer at once (VIEWERS per server); each viewer's pages one after another."""
    import asyncio

    from devtools.sessions import open_view

    async def viewer(urls: list[str]) -> list[View]:
        # no deadline: a loaded machine only makes the runs longer; each view ends on its run's
        # `script_finished` message, or on the connection closing if the server died
        return [await open_view(url, timeout=None) for url in urls]

    async def everyone() -> list[View]:
        urls = viewer_urls(bases)
        n = len(PAGES)
        groups = [urls[i : i + n] for i in range(0, len(urls), n)]
        done = await asyncio.gather(*(viewer(g) for g in groups))
        return [v for views in done for v in views]

    return asyncio.run(everyone())


@contextmanager
def logged_server(database_url: str, log: Path):
    """`streamlit run serve.py` on a free port with its output kept in `log` (for tracebacks)."""
    with running("serve.py", {"DATABASE_URL": database_url}, log=log) as started:
        yield started.base


def assert_settled(views: list[View], logs: list[Path]) -> None:
    by_page: dict[str, set[str]] = {}
    for view in views:
        path = "/" + view.url.split("/", 3)[3]
        expect_page(path, view)
        by_page.setdefault(path, set()).add(view.text)
    assert sorted(by_page) == sorted(PAGES)
    for path, texts in by_page.items():  # every viewer of a page saw the same page
        assert len(texts) == 1, f"{path}: {len(texts)} different pages among its viewers"
    for log in logs:
        text = log.read_text()
        assert "Traceback" not in text and "Error" not in text, text[-3000:]


def test_ten_viewers_on_every_page_of_one_server(loaded_url, backend, tmp_path):
    log = tmp_path / "server.log"
    with logged_server(loaded_url, log) as base:
        started = time.perf_counter()
        views = open_concurrently([base])
        seconds = time.perf_counter() - started
    assert len(views) == VIEWERS * len(PAGES)
    assert_settled(views, [log])
    print(f"\n[{backend}] {len(views)} views by {VIEWERS} concurrent viewers in {seconds:.1f} s")


def test_ten_viewers_on_each_of_two_servers_sharing_one_postgresql(pg_server, tmp_path):
    """Both servers start on an empty database and their 20 first viewers arrive together:
    the two processes race to create the schema and load the snapshot (one does, under the
    migration lock; the other waits and finds it there) while sessions wait for the store."""
    url = pg_server.new_database()
    logs = [tmp_path / "server1.log", tmp_path / "server2.log"]
    with logged_server(url, logs[0]) as one, logged_server(url, logs[1]) as two:
        started = time.perf_counter()
        views = open_concurrently([one, two])
        seconds = time.perf_counter() - started
    assert len(views) == 2 * VIEWERS * len(PAGES)
    assert_settled(views, logs)
    served = {v.url.split("/", 3)[2] for v in views}
    assert len(served) == 2
    print(
        f"\n[two servers] {len(views)} views by {2 * VIEWERS} concurrent viewers in {seconds:.1f} s"
    )


def test_the_benchmark_table_puts_ours_beside_the_peer():
    """`make bench`'s concurrency table: views/s per level for each row, and how many times
    better ours is than peer 1 on the same data (below 1: the peer wins)."""
    import io

    from rich.console import Console

    from bench.concurrency import Row, table

    ours = Row("Trends (scaled 100,000)", {1: 10.0, 10: 20.0}, {1: 0.1, 10: 0.5}, 40.0)
    peer = Row("peer 1 pandas+cache (scaled 100,000)", {1: 20.0, 10: 5.0}, {1: 0.05, 10: 2.0}, 80.0)
    peer.failures.append("10 sessions: no answer within 300 s []")
    console = Console(width=250, record=True, file=io.StringIO())
    console.print(table([ours, peer], [1, 10], "t"))
    lines = console.export_text().splitlines()
    ratio = next(line for line in lines if line.startswith("│ ours ÷ peer 1"))
    assert [c.strip() for c in ratio.split("│")[2:6]] == ["0.5×", "4.0×", "4.0×", "2.0×"]
    assert "no answer within 300 s" in next(line for line in lines if "peer 1 pandas" in line)
