"""Payload checks: is a response what its connector expects (JSON, CSV, a list of records with
the fields it needs)? Each miss is a `FeedError` naming the feed, the URL and the field.

A renamed or missing field is schema drift; storing half a record would be worse than stopping.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from data_sources.feeds.errors import FeedError, snippet

if TYPE_CHECKING:
    from data_sources.feeds.client import Response


def _is_html(body: bytes) -> bool:
    return body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))


def decode_json(feed: str, response: Response) -> Any:
    """The body as JSON, or a FeedError saying what came instead (HTML, nothing, garbage)."""
    body = response.body
    kind = response.headers.get("content-type", "")
    if "html" in kind or body.lstrip()[:1] == b"<":
        raise FeedError(
            feed,
            response.url,
            f"returned an HTML page where JSON was expected: {snippet(response.text())}",
        )
    if not body.strip():
        raise FeedError(feed, response.url, "returned an empty body where JSON was expected")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise FeedError(
            feed, response.url, f"invalid or truncated JSON ({exc}; {len(body):,} bytes received)"
        ) from exc


def check_csv(feed: str, response: Response) -> Response:
    """A body that can be a CSV file: not empty, not an HTML page."""
    if not response.body.strip():
        raise FeedError(feed, response.url, "returned an empty body where a CSV file was expected")
    if _is_html(response.body):
        raise FeedError(
            feed,
            response.url,
            f"returned an HTML page where a CSV file was expected: {snippet(response.text())}",
        )
    return response


def expect(feed: str, url: str, payload: Any, path: str, kind: type | tuple) -> Any:
    """`payload[path]` (dotted), checked to be of `kind`; a FeedError naming the field if not."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            present = (
                ", ".join(sorted(value)[:12]) if isinstance(value, dict) else type(value).__name__
            )
            raise FeedError(feed, url, f"response has no '{path}' (found: {present})", field=path)
        value = value[part]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise FeedError(
            feed, url, f"'{path}' is {type(value).__name__}, expected {names}", field=path
        )
    return value


def require_fields(feed: str, url: str, records: list, fields: tuple[str, ...]) -> None:
    """Every record must be an object carrying `fields`."""
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise FeedError(feed, url, f"record {i} is {type(record).__name__}, expected an object")
        missing = [f for f in fields if f not in record]
        if missing:
            raise FeedError(
                feed,
                url,
                f"record {i} lacks field '{missing[0]}' (fields present: "
                f"{', '.join(sorted(record)[:15])})",
                field=missing[0],
            )


def records_at(
    feed: str, url: str, payload: Any, path: str, fields: tuple[str, ...], one: bool = False
) -> list:
    """The records of a page: the list at `path` (or, with `one`, the single object there, as a
    list of one), each checked to carry `fields`. The one check every connector's page gets."""
    found = expect(feed, url, payload, path, dict if one else list)
    records = [found] if one else found
    require_fields(feed, url, records, fields)
    return records
