"""`/api/v1/ping`: the routes beside the pages are served, with the data version they answer
for (a deploy check and the smallest test of the mount under the base path)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from web import store


def ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "data_version": store.data_version()})


ROUTES = [Route("/api/v1/ping", ping)]
