"""The middleware in front of the pages and the routes (pure ASGI, so it sees the websocket of
every session too). `stack()` is what serve.py installs."""

from __future__ import annotations

from starlette.middleware import Middleware


def stack() -> list[Middleware]:
    return []
