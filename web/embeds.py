"""`GET /embed/<page>?<the page's link parameters>`: the page's chart as one static page to put
in an `<iframe>` on another site. Self-contained: plotly.js is served by this server
(`/embed/plotly.min.js`, the copy plotly.py ships), no websocket, no cookie, nothing from
another host. Pinned: the moment the figures are as of is printed and the link back to the
live view carries it (`as_of`), so the embed and its link show the same figures after new
loads. Every text from the store or the link is escaped (HTML here, plotly's pseudo-HTML in
the chart)."""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import plotly
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from views import escape, pages
from views.logic import figure_for
from web import embed_keys, store
from web.images import ImageCache, link_params, linked_view

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# the chart's own script is inline (plotly's to_html); nothing else may run, load or connect
POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    return PLOTLY_JS.read_bytes()


def plotly_js(request: Request) -> Response:
    return Response(
        _plotly_js(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def live_link(view: figure_for.LinkedView) -> str:
    """The live page with the same parameters, relative to the embed's own address
    (`<base>/embed/trends` → `<base>/trends`), so it holds under any base path."""
    path = next(p.address for p in pages.PAGES if p.url_path == view.page).lstrip("/")
    return f"../{path}?{urlencode(view.params, doseq=True)}"


def page_html(view: figure_for.LinkedView) -> str:
    """The embed's HTML: the chart, its citation under it, the link to the live view."""
    fig = figure_for.titled(view)
    chart = fig.to_html(
        full_html=False,
        include_plotlyjs="plotly.min.js",
        config={"displaylogo": False, "responsive": True},
        default_height="100%",
        default_width="100%",
    )
    lines = "".join(f"<div>{html.escape(line)}</div>" for line in figure_for.citation_lines(view))
    refs = "".join(
        f'<li><a href="{html.escape(r.link)}" target="_blank" rel="noopener noreferrer">'
        f"{html.escape(escape.plain(r.title, 120))}</a></li>"
        for r in view.sources
        if r.link
    )
    link = html.escape(live_link(view))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(escape.plain(view.title, 160))}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>html,body{margin:0;height:100%;font:13px system-ui,sans-serif;color:#222}"
        "body{display:flex;flex-direction:column}#chart{flex:1;min-height:320px}"
        "footer{padding:4px 10px 8px}footer ul{margin:2px 0;padding-left:18px}</style>"
        f"</head><body><div id='chart'>{chart}</div><footer class='citation'>{lines}"
        f"<ul>{refs}</ul>"
        f"<a class='live' href=\"{link}\" target='_blank' rel='noopener'>Open the live view</a>"
        "</footer></body></html>"
    )


PAGES = ImageCache(64)  # the newest embeds, by link as given and data version (bounded)


def embed(request: Request) -> Response:
    page = request.path_params["page"]
    params = {k: v for k, v in link_params(request).items() if k != embed_keys.PARAM}
    # a repeat of a link costs no query and no drawing; a load of figures is a new version
    key = ("embed", page, tuple(sorted((k, tuple(v)) for k, v in params.items())))
    version = store.cache_version()
    body = PAGES.get((*key, version))
    if body is None:
        view = linked_view(page, request)
        if isinstance(view, Response):
            return view
        body = page_html(view).encode("utf-8")
        PAGES.put((*key, version), body)
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": POLICY,
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


ROUTES = [
    Route("/embed/plotly.min.js", plotly_js),  # before /embed/{page}, which would take it
    Route("/embed/{page}", embed),
]
