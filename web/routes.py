"""The registry of routes served beside the pages. Each module lists its Starlette routes at
paths relative to the app (`/api/v1/series`); `mounted()` puts them under
`server.baseUrlPath`, since `st.App` serves user routes at the root (checked on 1.67.0).

`PROTECTED` names the path prefixes that follow the pages' sign-in rules (web/access.py):
with sign-in configured, a request there needs a signed-in role that may see figures, or a
personal API token."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

PROTECTED = ("/api/", "/img/", "/embed/", "/brief/", "/download/")
PUBLIC = ("/embed/plotly.min.js",)  # plotly's own script, no figure: an embed loads it cookie-less


def base_path() -> str:
    """`server.baseUrlPath` as a path prefix ("/situation-room"), "" at the root."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def relative(path: str, base: str) -> str | None:
    """`path` without the base path ("/situation-room/trends" → "/trends"); None when the
    path is not under it."""
    if not base:
        return path
    if path == base or path.startswith(base + "/"):
        return path[len(base) :] or "/"
    return None


def route_modules() -> list:
    """Every module whose `ROUTES` the server mounts (one line per module)."""

    from web import api, brief, downloads, embeds, health, images

    return [health, api, images, embeds, brief, downloads]


def relative_routes() -> list[BaseRoute]:
    return [route for module in route_modules() for route in module.ROUTES]


def mounted(base_url_path: str) -> list[BaseRoute]:
    """The routes under the base path ("situation-room" → `/situation-room/api/v1/…`)."""
    base = base_url_path.strip("/")
    routes = relative_routes()
    if not base:
        return routes
    # each route under the prefix, not one Mount: a Mount takes every path below it and
    # answers 404 for the pages' own addresses (`/situation-room/trends`)
    return [
        Route(f"/{base}{r.path}", r.endpoint, methods=r.methods, name=r.name)
        for r in routes
        if isinstance(r, Route)
    ]
