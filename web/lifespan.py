"""Server start: the store opened (migrations, the bundled snapshot on a first start) before
the first visitor asks, so no page view pays for it."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from web import media_owners, render, store

LOG = logging.getLogger("situation_room.serve")


@asynccontextmanager
async def lifespan(app):
    try:
        await asyncio.to_thread(store.engine)
    except Exception as exc:  # noqa: BLE001 - an unusable store: the pages say so in plain words
        LOG.warning("the store could not be opened at start: %s", type(exc).__name__)
    media_owners.install()  # downloads made on a click are noted with their session
    try:
        yield {}
    finally:
        # the chart images' browser (started by the first image, web/render.py) ends with us
        await asyncio.to_thread(render.close)
