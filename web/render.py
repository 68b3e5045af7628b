"""One warm renderer for the chart images: a kaleido 1.x `Kaleido` (one headless Chromium
tab) kept open on its own event loop thread, so an image costs a render (~0.1 s), not a
browser start (~2 s). Debian's Chromium is used (`BROWSER_PATH`, which kaleido reads); no
browser is ever downloaded, and MathJax (a CDN script by default) is off: no network.

kaleido's own `start_sync_server` is not used: two threads calling it at once can take each
other's answers, and a crashed browser leaves its callers waiting forever. Here each call has
a timeout, and a failed renderer is closed and reopened by the next call."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
import threading
from pathlib import Path

import plotly.graph_objects as go

from data_sources import settings_registry
from data_sources.settings import setting

BROWSER = settings_registry.BY_NAME["BROWSER_PATH"].default
TIMEOUT = 60.0  # seconds for one image, the browser's start included
FORMATS = ("png", "svg", "pdf")
# the Map's world outline: plotly.js fetches it from a CDN unless told; the app's own copy
# (static/world_110m.json, the one the page serves) is read from disk instead
TOPOJSON = (Path(__file__).resolve().parent.parent / "static").as_uri() + "/"


class RenderError(RuntimeError):
    """The image could not be made (the browser failed or took too long)."""


class _Renderer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None

    def _start(self) -> None:
        # kaleido (choreographer) finds its browser by this variable; never by downloading one
        os.environ["BROWSER_PATH"] = setting("BROWSER_PATH") or BROWSER
        import kaleido

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="kaleido", daemon=True).start()
        k = kaleido.Kaleido(n=1, timeout=TIMEOUT, mathjax=False)
        asyncio.run_coroutine_threadsafe(k.open(), loop).result(TIMEOUT)
        self._loop, self._kaleido = loop, k

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        loop, k = self._loop, self._kaleido
        self._loop = self._kaleido = None
        if loop is None:
            return
        with contextlib.suppress(Exception):  # a dead browser: nothing left to close
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)

    def render(self, figure: go.Figure, fmt: str, width: int, height: int) -> bytes:
        opts = {"format": fmt, "width": width, "height": height}
        with self._lock:  # one image at a time: one tab, and the machine's CPU is the bound
            try:
                if self._kaleido is None:
                    self._start()
                job = self._kaleido.calc_fig(figure, opts=opts, topojson=TOPOJSON)
                return asyncio.run_coroutine_threadsafe(job, self._loop).result(TIMEOUT)
            except Exception as exc:
                self._close()  # the next call starts a fresh browser
                raise RenderError(type(exc).__name__) from exc


_RENDERER = _Renderer()


def render(figure: go.Figure, fmt: str, width: int = 1000, height: int = 600) -> bytes:
    """The figure as PNG, SVG or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    return _RENDERER.render(figure, fmt, width, height)


def close() -> None:
    """Stop the browser (the server's shutdown; the next image starts it again)."""
    _RENDERER.close()


def html_pdf(document: str) -> bytes:
    """An HTML document (self-contained: nothing to fetch) printed to PDF by Chromium, A4
    as its `@page` rule says, without the browser's header and footer. Its own process, so a
    brief never waits behind the chart tab; no network (every host resolves to nothing)."""
    browser = setting("BROWSER_PATH") or BROWSER
    with tempfile.TemporaryDirectory(prefix="brief-") as tmp:
        page, out = Path(tmp) / "brief.html", Path(tmp) / "brief.pdf"
        page.write_text(document, encoding="utf-8")
        args = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(args, capture_output=True, timeout=TIMEOUT * 2)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderError(type(exc).__name__) from exc
        if not out.exists() or out.stat().st_size == 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise RenderError(f"chromium printed no PDF ({done.returncode}): {said}")
        return out.read_bytes()
