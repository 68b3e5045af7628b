"""Viewers without a browser: Streamlit sessions opened over the app's own websocket.

A browser tab is, to the server, one websocket on `/_stcore/stream` that sends a `rerun_script`
BackMsg (the page's path and query string) and receives the page as ForwardMsgs until
`script_finished`. This module does exactly that with Streamlit's own protobuf classes, so many
concurrent viewers cost the server what tabs cost it while the client side costs next to nothing
(25 Chromium tabs on a 2-core machine would measure Chromium, not the server). The tests use it
to check what every concurrent viewer received; `bench.concurrency` to count views per second.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = {
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY: "ok",
    ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR: "compile error",
    ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN: "rerun",
}


@dataclass
class View:
    """One fresh page view as the server sent it: connect, one full script run, done."""

    url: str
    seconds: float = 0.0
    status: str = ""  # "ok" when the run finished; else what went wrong
    elements: list[tuple[str, str]] = field(default_factory=list)  # (kind, its text)
    page_not_found: bool = False

    def kinds(self, kind: str) -> list[str]:
        return [text for k, text in self.elements if k == kind]

    @property
    def text(self) -> str:
        """Every element's text, in the order sent (markdown, headings, metrics, captions,
        chart titles and data, table cells are Arrow bytes and are left out)."""
        return "\n".join(text for _, text in self.elements)

    @property
    def errors(self) -> list[str]:
        """What a reader would see as a failure: exception boxes and error alerts."""
        out = self.kinds("exception")
        out += [t for k, t in self.elements if k == "alert" and t.startswith("error:")]
        return out


def chart_traces(spec: str) -> dict[str, list[float]]:
    """A plotly chart's traces as {name: y values}; plotly sends numeric arrays as base64
    (`{"dtype": "f8", "bdata": ...}`), decoded here."""
    import base64
    import json

    import numpy as np

    out: dict[str, list[float]] = {}
    for trace in json.loads(spec).get("data", []):
        y = trace.get("y")
        if isinstance(y, dict) and "bdata" in y:
            y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
        out[str(trace.get("name") or "")] = list(y or [])
    return out


def chart_title(spec: str) -> str:
    import json

    title = json.loads(spec).get("layout", {}).get("title") or {}
    return title.get("text", "") if isinstance(title, dict) else str(title)


def _element_text(kind: str, element) -> str:
    """The readable text of one element (enough to assert on what a viewer sees)."""
    part = getattr(element, kind)
    if kind == "markdown":
        return part.body
    if kind == "heading":
        return part.body
    if kind == "metric":
        return f"{part.label}: {part.body} ({part.delta})"
    if kind == "alert":
        fmt = {1: "error", 2: "warning", 3: "info", 4: "success"}.get(part.format, "alert")
        return f"{fmt}: {part.body}"
    if kind == "exception":
        return f"{part.type}: {part.message}"
    if kind == "plotly_chart":
        return part.spec  # the figure's JSON: traces, their points and the title
    if kind in ("multiselect", "selectbox", "radio"):
        return f"{part.label}: {list(part.options)}"
    if kind == "toast":
        return part.body
    return ""


def _client_state(url: str, base: str = "") -> BackMsg:
    parts = urlsplit(url)
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = parts.query
    path = parts.path.strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :].strip("/")
    state.page_name = path  # "" is the default page, as a browser asks
    state.context_info.timezone = "UTC"
    state.context_info.locale = "en-US"
    state.context_info.url = url
    return msg


async def open_view(url: str, timeout: float | None = 120.0, base: str = "") -> View:
    """Open `url` (e.g. http://127.0.0.1:8501/trends?cities=Homs) as a new viewer; return what
    the server drew for it once its script run finished. Never raises for a page failure:
    `status` and `errors` say what happened. `timeout=None` waits for the run's end (or the
    connection's) however long a loaded machine takes: what tests use; the benchmark keeps a
    deadline to report a server that stopped answering. `base`: the server's
    `server.baseUrlPath` ("situation-room"), where its websocket and pages are."""
    base = base.strip("/")
    parts = urlsplit(url)
    view = View(url=url)
    start = time.perf_counter()
    try:
        async with websockets.connect(
            f"ws://{parts.netloc}{'/' + base if base else ''}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=f"http://{parts.netloc}",
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
        ) as ws:
            await ws.send(_client_state(url, base).SerializeToString())
            async with asyncio.timeout(timeout):
                async for data in ws:
                    msg = ForwardMsg()
                    msg.ParseFromString(data)
                    kind = msg.WhichOneof("type")
                    if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                        element = msg.delta.new_element
                        what = element.WhichOneof("type")
                        view.elements.append((what, _element_text(what, element)))
                    elif kind == "page_not_found":
                        view.page_not_found = True
                    elif kind == "script_finished":
                        status = FINISHED.get(msg.script_finished)
                        if status == "rerun":  # st.switch_page / st.rerun: the next run draws
                            view.elements.clear()
                            continue
                        view.status = status or "fragment"
                        if status:
                            break
    except TimeoutError:
        view.status = f"no answer within {timeout:g} s"
    except (OSError, websockets.WebSocketException) as exc:
        view.status = f"connection failed: {exc}"
    view.seconds = time.perf_counter() - start
    if not view.status:
        view.status = "closed before the run finished"
    return view


async def open_views(urls: list[str], timeout: float | None = 120.0) -> list[View]:
    """Open every URL at once, each as its own viewer."""
    return list(await asyncio.gather(*(open_view(u, timeout) for u in urls)))


def views_at_once(urls: list[str], timeout: float | None = 120.0) -> list[View]:
    """`open_views` for synchronous callers (tests, the benchmark)."""
    return asyncio.run(open_views(urls, timeout))
