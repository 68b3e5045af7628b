"""Paginators: which page to ask for next, and when to stop — in the manner of singer-sdk's
`pagination.py` (BaseAPIPaginator, BaseOffsetPaginator, BasePageNumberPaginator,
BaseHATEOASPaginator), with our two guards.

A paginator holds a token (an offset, a page number, a next link). After each page,
`advance(payload, records)` asks `has_more` and `get_next`; the base then refuses a token it has
seen before (the feed sent us round in a circle) and more than `max_pages` pages (setting
FEED_MAX_PAGES), each as a `FeedError` naming the feed and the URL, never an endless loop.
Connectors declare one; the base connector drives it (connectors/base.py).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from data_sources import settings
from data_sources.feeds.errors import FeedError


def max_pages() -> int:
    """The most pages one request may run to: a feed that never stops is a fault, not data."""
    return int(settings.number("FEED_MAX_PAGES"))


class BasePaginator:
    """A token and the rules to move it; subclasses say where it goes and when to stop."""

    def __init__(self, start_value: Any, limit: int | None = None) -> None:
        self.start_value = start_value
        self.current_value = start_value
        self.limit = max_pages() if limit is None else limit
        self.count = 0  # pages advanced over
        self.finished = False
        self._seen = {self._key(start_value)}

    @staticmethod
    def _key(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    def params(self) -> dict[str, Any]:
        """What this token adds to the request (query or body): none by default."""
        return {}

    def url(self, first_url: str) -> str:
        """The URL of the current page: the first request's, unless a link says otherwise."""
        return first_url

    def has_more(self, payload: Any, records: list) -> bool:
        """Whether the feed has a page after this one."""
        return True

    def get_next(self, payload: Any, records: list) -> Any:
        """The next token; None when there is none."""
        raise NotImplementedError

    def advance(self, payload: Any, records: list, feed: str, url: str) -> None:
        """Move to the next page, or finish. `feed` and `url` name the page in an error."""
        self.count += 1
        if not self.has_more(payload, records):
            self.finished = True
            return
        value = self.get_next(payload, records)
        if value is None or value == "":
            self.finished = True
            return
        if self._key(value) in self._seen:
            raise FeedError(
                feed,
                url,
                f"paging loop: the feed sent page {value!r} a second time after "
                f"{self.count} pages; stopped rather than read the same pages again",
            )
        if self.count >= self.limit:
            raise FeedError(
                feed,
                url,
                f"more than {self.limit:,} pages for one request; stopped "
                "(setting FEED_MAX_PAGES raises the limit)",
            )
        self._seen.add(self._key(value))
        self.current_value = value


class SinglePage(BasePaginator):
    """A request answered in one page."""

    def __init__(self) -> None:
        super().__init__(None)

    def has_more(self, payload: Any, records: list) -> bool:
        return False


class OffsetPaginator(BasePaginator):
    """`limit`/`offset` paging (HAPI, ReliefWeb): done at the first short page."""

    def __init__(
        self,
        page_size: int,
        *,
        limit_param: str = "limit",
        offset_param: str = "offset",
        start: int = 0,
    ) -> None:
        super().__init__(start)
        self.page_size, self.limit_param, self.offset_param = page_size, limit_param, offset_param

    def params(self) -> dict[str, Any]:
        return {self.limit_param: self.page_size, self.offset_param: self.current_value}

    def has_more(self, payload: Any, records: list) -> bool:
        return len(records) >= self.page_size

    def get_next(self, payload: Any, records: list) -> int:
        return self.current_value + self.page_size


class PageNumberPaginator(BasePaginator):
    """`page`/`limit` paging (ACLED, UNHCR): done at the first short page, or at the page count
    the feed reports (`total_pages_key`, UNHCR's `maxPages`) where it does."""

    def __init__(
        self,
        page_size: int,
        *,
        page_param: str = "page",
        size_param: str = "limit",
        start: int = 1,
        total_pages_key: str | None = None,
    ) -> None:
        super().__init__(start)
        self.page_size, self.page_param, self.size_param = page_size, page_param, size_param
        self.total_pages_key = total_pages_key

    def params(self) -> dict[str, Any]:
        return {self.size_param: self.page_size, self.page_param: self.current_value}

    def has_more(self, payload: Any, records: list) -> bool:
        if len(records) < self.page_size:
            return False
        if self.total_pages_key and isinstance(payload, dict):
            total = payload.get(self.total_pages_key)
            if total not in (None, ""):
                return self.current_value < int(total)
        return True

    def get_next(self, payload: Any, records: list) -> int:
        return self.current_value + 1


class NextLinkPaginator(BasePaginator):
    """The feed's own link to the next page (UCDP's `NextPageUrl`), in the manner of singer-sdk's
    HATEOAS paginator. The first page is asked with `first_params`; a link carries its own
    query. `rebase` keeps the link's path and query on our base URL (a mirror, the replay
    server), since feeds write their public host into the link."""

    def __init__(self, next_key: str, first_params: dict[str, Any], rebase: str = "") -> None:
        super().__init__(None)
        self.next_key, self.first_params, self.rebase = next_key, first_params, rebase

    def params(self) -> dict[str, Any]:
        return dict(self.first_params) if self.current_value is None else {}

    def url(self, first_url: str) -> str:
        if self.current_value is None:
            return first_url
        if not self.rebase:
            return self.current_value
        link = httpx.URL(self.current_value)
        return str(httpx.URL(self.rebase).copy_with(path=link.path, query=link.query))

    def has_more(self, payload: Any, records: list) -> bool:
        return bool(records)  # an empty page ends it, whatever link it carries

    def get_next(self, payload: Any, records: list) -> str | None:
        return payload.get(self.next_key) if isinstance(payload, dict) else None
