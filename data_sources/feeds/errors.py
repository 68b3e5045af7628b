"""The one error a feed raises: what failed, on which feed, at which URL (secrets scrubbed).

Every failure of a feed (transport, status, payload shape, paging) ends as a `FeedError`, so the
refresh, the CLI and the Data page can say one plain line a person can act on.
"""

from __future__ import annotations

import re

from data_sources.redact import redact, redact_url


class FeedError(Exception):
    """A feed did not deliver what its connector expects."""

    def __init__(
        self, feed: str, url: str, message: str, field: str | None = None, status: int | None = None
    ) -> None:
        self.feed, self.url, self.field, self.status = feed, redact_url(url), field, status
        self.message = redact(message)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" [field '{self.field}']" if self.field else ""
        return f"{self.feed}: {self.message}{where} — {self.url}"


def snippet(text: str, size: int = 120) -> str:
    """The start of a body as plain text, quoted: enough to recognise an error page. Scrubbed
    whole before it is cut: the cut end of a secret would no longer match it (issue 19)."""
    flat = redact(" ".join(re.sub(r"<[^>]+>", " ", text).split()))
    return f"'{flat[:size]}{'…' if len(flat) > size else ''}'"
