"""One job: run the command line (`python -m data_sources …`) in a subprocess on a given store,
as a user or a host runs it, for every test that drives the CLI. `COLUMNS=200` keeps rich's
tables on one line per row, so tests can read them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "data_sources"]


def env(url: str | None, **extra: str) -> dict[str, str]:
    """This process's environment with the store at `url` and `extra` settings."""
    return {**os.environ, **({"DATABASE_URL": url} if url else {}), "COLUMNS": "200", **extra}


def run(url: str, *args: str, raw: bool = False, **extra: str) -> subprocess.CompletedProcess:
    """Run `args` to the end (text output captured, or bytes with `raw`, for comparing a
    download byte for byte; a bound of 300 s only against a hang)."""
    return subprocess.run(
        [*COMMAND, *args],
        cwd=ROOT,
        env=env(url, **extra),
        capture_output=True,
        text=not raw,
        timeout=300,
    )


def start(url: str, *args: str, **extra: str) -> subprocess.Popen:
    """Start `args` and return at once (for tests that signal, race or wait on it)."""
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=ROOT,
        env=env(url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
