"""What sharing a view costs the server: a preview card, its image (Trends, Overview, Map, Data),
an embed and a city brief,
cold (the first ask of a view: the queries, the drawing, and for the very first image the
Chromium tab's start) and cached (the same ask again).

    python -m bench.sharing [--repeat N]

Run in-process on the routes and middleware `serve.py` mounts (Starlette's test client, no
network), on a fresh SQLite store holding the bundled snapshot (real data). Wall-clock
medians over `--repeat` distinct views (cold) and repeats (cached); the one-chart Streamlit
page's fresh view is the yardstick the other benchmarks print (bench.server_cpu).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.concurrency import snapshot_store

SLACK = {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}
VIEWS = [  # distinct views of the bundled data: one cold ask each
    {"cities": "Aleppo", "metric": "Food price", "unit": "SYP/KG"},
    {"cities": "Homs", "metric": "Food price", "unit": "SYP/KG"},
    {"cities": "Mosul", "metric": "Internally displaced people"},
    {"cities": "Damascus", "metric": "Food price", "unit": "SYP/KG"},
    {"cities": "Hama", "metric": "Food price", "unit": "SYP/KG"},
]
CITIES = ["Aleppo", "Mosul", "Homs", "Damascus", "Hama"]
MAP = {"metric": "Conflict fatalities", "qualifier": "(total)", "unit": "people"}
MONTHS = ["2016-10", "2016-11", "2016-12", "2017-01", "2017-02"]


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    n = max(1, min(args.repeat, len(VIEWS)))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = snapshot_store(Path(tmp))
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route
        from starlette.testclient import TestClient

        from web import middleware, render, routes

        shell = Route("/{path:path}", lambda request: PlainTextResponse("shell"))
        app = Starlette(routes=[*routes.mounted(""), shell], middleware=middleware.stack())
        rows: dict[str, dict[str, list[float]]] = {}

        def ask(name: str, kind: str, path: str, params: dict, headers=None) -> None:
            seconds, answer = timed(lambda: client.get(path, params=params, headers=headers))
            assert answer.status_code == 200, (path, params, answer.text[:200])
            rows.setdefault(name, {"cold": [], "cached": []})[kind].append(seconds)

        with TestClient(app) as client:
            # the Chromium tab starts on another page's image, so no view below is warm
            first, _ = timed(lambda: client.get("/img/compare.png"))
            for view in VIEWS[:n]:
                for name, path, headers in (
                    ("preview card", "/trends", SLACK),
                    ("preview image (PNG)", "/img/trends.png", None),
                    ("embed", "/embed/trends", None),
                ):
                    ask(name, "cold", path, view, headers)
                    ask(name, "cached", path, view, headers)
            for city in CITIES[:n]:
                for name, path, params in (
                    ("Overview image (PNG)", "/img/home.png", {"cities": city}),
                    ("Data image (PNG)", "/img/data.png", {"place": city}),
                ):
                    ask(name, "cold", path, params)
                    ask(name, "cached", path, params)
            for month in MONTHS[:n]:
                ask("Map image (PNG)", "cold", "/img/map.png", {**MAP, "month": month})
                ask("Map image (PNG)", "cached", "/img/map.png", {**MAP, "month": month})
            for city in CITIES[:n]:
                for fmt in ("html", "pdf"):
                    ask(f"brief ({fmt}, one city)", "cold", f"/brief/{fmt}", {"cities": city})
                    ask(f"brief ({fmt}, one city)", "cached", f"/brief/{fmt}", {"cities": city})
        render.close()
    table = Table(title=f"Sharing a view: median seconds over {n} views (bundled snapshot)")
    for col in ("what", "cold s", "cached s", "cold ÷ cached"):
        table.add_column(col, justify="right")
    table.add_row("first image (Chromium tab starts)", f"{first:.2f}", "", "")
    for name, kinds in rows.items():
        cold, cached = statistics.median(kinds["cold"]), statistics.median(kinds["cached"])
        table.add_row(name, f"{cold:.2f}", f"{cached:.3f}", f"{cold / cached:,.0f}×")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
