"""The store as routes reach it: one engine per database URL for the process, the bundled
snapshot loaded on first use, as the pages do (`views/store_access.py`), without Streamlit."""

from __future__ import annotations

import threading
from functools import lru_cache

from sqlalchemy.engine import Engine

from data_sources.snapshot import load_snapshot
from data_sources.store import query
from data_sources.store.engine import database_url, open_store

_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    engine = open_store(url)
    load_snapshot(engine)
    return engine


def engine() -> Engine:
    """The store of DATABASE_URL (the same one the pages read), opened once per process."""
    with _LOCK:  # two first requests at once: one opens and loads, the other waits for it
        return _engine_for(database_url())


def data_version() -> str:
    """The store's data version: images, embeds and API answers are cached and pinned by it."""
    return query.data_version(engine())


def cache_version() -> str:
    """What a cached image, embed, card or brief is filed under: the store (a digest of its
    URL: one process may be pointed at another store) and its data version."""
    import hashlib

    store_id = hashlib.sha256(database_url().encode()).hexdigest()[:12]
    return f"{store_id}:{data_version()}"
