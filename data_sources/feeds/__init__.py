"""The feeds layer: getting figures from live public APIs into observation rows.

client (transport), cache (conditional requests), checks (payload shape), redact (secrets out),
paging (paginators), auth (credentials as httpx.Auth), connectors (one per feed: a few
attributes and `normalize`). The refresh (`data_sources/refresh.py`) runs them.
"""

from __future__ import annotations

from .client import USER_AGENT, FeedClient, HttpConfig, Response, Stats
from .errors import FeedError
from .redact import add_issued_secret, redact, redact_url

__all__ = [
    "USER_AGENT",
    "FeedClient",
    "FeedError",
    "HttpConfig",
    "Response",
    "Stats",
    "add_issued_secret",
    "redact",
    "redact_url",
]
