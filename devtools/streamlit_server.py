"""Start a Streamlit server on a free port of 127.0.0.1 and stop it: one loop for tests and
benchmarks alike, which fails loudly (with the server's own last words) when the server never
answers its health check, instead of measuring a server that is not there."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from devtools.ports import free_port

ROOT = Path(__file__).resolve().parents[1]


class ServerDidNotStart(RuntimeError):
    """The server exited or never answered `/_stcore/health` in time."""


@dataclass
class Server:
    base: str  # http://127.0.0.1:<port>
    proc: subprocess.Popen
    started: float  # time.perf_counter() when the process was spawned


def start(
    script: str = "app.py",
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    log: Path | None = None,
    timeout: float = 60,
    port: int | None = None,
) -> Server:
    """`streamlit run script` with `env` added to this process's environment and extra
    Streamlit options `args` (e.g. `--secrets.files`); output goes to `log` when given, so a
    failure can say why; `port` to restart a server where a browser tab expects it. Returns
    once the health check answers "ok"."""
    port = port or free_port()
    out = log.open("w") if log else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *args],
        cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )  # fmt: skip
    if log:
        out.close()  # the child holds its own copy
    base = f"http://127.0.0.1:{port}"
    # under `--server.baseUrlPath` the health check is under it too
    prefix = ""
    if "--server.baseUrlPath" in args:
        prefix = "/" + args[args.index("--server.baseUrlPath") + 1].strip("/")
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}{prefix}/_stcore/health", timeout=2).text == "ok":
                return Server(base, proc, started)
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            said = log.read_text()[-2000:] if log else "(output not kept)"
            raise ServerDidNotStart(f"streamlit run {script} did not start: {said}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(
    script: str = "app.py",
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    log: Path | None = None,
    timeout: float = 60,
) -> Iterator[Server]:
    server = start(script, env, args, log, timeout)
    try:
        yield server
    finally:
        stop(server.proc)
