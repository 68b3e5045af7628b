"""What 100 distinct `as_of` links cost the server: CPU per view and memory after them.

    python -m bench.as_of_links [--root CHECKOUT] [--script serve.py] [--links 100]

A link's `as_of` is free text a stranger can vary: each distinct value could mean a new as-of
view computed and kept in the cache. This opens the Overview (every city's cards) once to warm
the server (that first run loads the bundled snapshot into a fresh SQLite store), then `--links`
views whose `as_of` all differ (one minute apart, after the load), then as many views of one
same link (the cached floor). It reports the server's CPU per view (user + system from
/proc/PID/stat, so other load on the machine does not count) and its resident memory (VmRSS)
before and after each run.

`--root` serves another checkout's code (e.g. a worktree of an older commit, with `--script
app.py` before `serve.py` existed) so before and after are measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.table import Table

from bench.concurrency import cpu_seconds
from devtools.ports import free_port
from devtools.sessions import open_view

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start(root: Path, script: str, db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{db}"}
    env["SITUATION_ROOM_SECRETS"] = str(db.parent / "no-secrets.toml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    while True:  # the server says when it is up; a dead one ends the wait
        if proc.poll() is not None:
            raise SystemExit(f"streamlit run {script} in {root} exited ({proc.returncode})")
        try:
            if httpx.get(f"{base}/_stcore/health", timeout=2).text == "ok":
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)


def views(base: str, queries: list[str]) -> tuple[float, list[str]]:
    failures = []
    for q in queries:
        view = asyncio.run(open_view(f"{base}/?{q}", timeout=None))
        if view.status != "ok" or view.errors:
            failures.append(f"{q}: {view.status} {view.errors[:1]}")
    return len(queries), failures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--script", default="serve.py")
    parser.add_argument("--links", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(args.root.resolve(), args.script, Path(tmp) / "store.sqlite")
        try:
            _, failed = views(base, [""])  # loads the snapshot, fills the caches
            loaded = datetime.now(UTC)
            links = [
                "as_of=" + quote((loaded + timedelta(minutes=i + 1)).strftime("%Y-%m-%dT%H:%M"))
                for i in range(args.links)
            ]
            rows = []
            for name, queries in (
                ("distinct as_of", links),
                ("one same link", [links[0]] * len(links)),
            ):
                cpu0, mem0 = cpu_seconds(proc.pid), rss_mb(proc.pid)
                n, bad = views(base, queries)
                cpu = (cpu_seconds(proc.pid) - cpu0) / n * 1000
                rows.append((name, n, cpu, mem0, rss_mb(proc.pid)))
                failed += bad
        finally:
            proc.terminate()
            proc.wait()
    table = Table(title=f"{args.links} Overview views, {args.root} ({args.script})")
    for col in ("links", "views", "server CPU ms/view", "RSS before MB", "RSS after MB"):
        table.add_column(col, justify="right")
    for name, n, cpu, before, after in rows:
        table.add_row(name, str(n), f"{cpu:.0f}", f"{before:.0f}", f"{after:.0f}")
    Console(width=160).print(table)
    if failed:
        raise SystemExit("failed views: " + "; ".join(failed[:3]))


if __name__ == "__main__":
    main()
