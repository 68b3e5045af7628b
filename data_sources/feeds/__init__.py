"""The feeds layer: getting figures from live public APIs into observation rows.

client (transport), cache (conditional requests), checks (payload shape), paging (paginators),
auth (credentials as httpx.Auth), connectors (one per feed: a few attributes and `normalize`);
secrets are scrubbed by `data_sources.redact`. The refresh (`data_sources/feeds/refresh.py`) runs them.
"""

from __future__ import annotations

from data_sources.feeds.client import USER_AGENT, FeedClient, HttpConfig, Response, Stats
from data_sources.feeds.errors import FeedError

__all__ = [
    "USER_AGENT",
    "FeedClient",
    "FeedError",
    "HttpConfig",
    "Response",
    "Stats",
]
