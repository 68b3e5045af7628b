"""The conditional-request cache on disk: one body and its validators (ETag, Last-Modified) per
request, so a repeated refresh asks "changed?" (304) instead of downloading again.

Keyed by method, URL, query and body — never by headers, so a credential is never in the key,
and the stored URL is the redacted one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from data_sources.redact import redact_url


@dataclass
class CachedEntry:
    """One cached response: its metadata (validators, content type, age) and its body."""

    meta: dict
    body: bytes
    meta_path: Path

    def age(self) -> float:
        return time.time() - self.meta["fetched_at"]

    def validators(self) -> dict[str, str]:
        """The headers that ask the server whether the cached body is still current."""
        headers = {}
        if self.meta.get("etag"):
            headers["If-None-Match"] = self.meta["etag"]
        if self.meta.get("last_modified"):
            headers["If-Modified-Since"] = self.meta["last_modified"]
        return headers

    def touch(self) -> None:
        """The server said 304: the body is current as of now."""
        self.meta["fetched_at"] = time.time()
        self.meta_path.write_text(json.dumps(self.meta))


class ResponseCache:
    """The cache folder of one feed (`<cache_dir>/<feed>/`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, method: str, url: str, params: dict | None, body: Any) -> tuple[Path, Path]:
        key = json.dumps([method, url, sorted((params or {}).items()), body], default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.folder / f"{digest}.meta.json", self.folder / f"{digest}.body"

    def get(self, method: str, url: str, params: dict | None, body: Any) -> CachedEntry | None:
        meta_path, body_path = self._paths(method, url, params, body)
        try:
            return CachedEntry(json.loads(meta_path.read_text()), body_path.read_bytes(), meta_path)
        except (OSError, ValueError):
            return None

    def put(
        self, method: str, url: str, params: dict | None, body: Any, response: httpx.Response
    ) -> None:
        meta_path, body_path = self._paths(method, url, params, body)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        body_path.write_bytes(response.content)
        meta_path.write_text(
            json.dumps(
                {
                    "url": redact_url(str(response.url)),
                    "fetched_at": time.time(),
                    "etag": response.headers.get("etag"),
                    "last_modified": response.headers.get("last-modified"),
                    "content_type": response.headers.get("content-type", ""),
                }
            )
        )
