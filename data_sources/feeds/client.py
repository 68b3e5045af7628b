"""One HTTP layer for every feed: timeouts, retries with back-off, 429/Retry-After, a per-host
rate limit, conditional requests with an on-disk cache, and errors a person can act on.

Feeds fail in ordinary ways (slow, down, rate-limited, an HTML error page with status 200, a
renamed field). Each of those becomes a `FeedError` that names the feed, the URL with every
secret scrubbed, and, where it applies, the field; transient failures are retried first.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from . import settings, sources

USER_AGENT = (
    "SituationRoom/0.2 (humanitarian situation dashboard; +https://github.com/situation-room)"
)
# Query parameters that carry a secret whatever the feed; each source adds its own
# in the registry (`sources.py`), read at every redaction (`sensitive_params`).
GENERIC_PARAMS = {
    "key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "password",
    "username",
    "email",
    "client_secret",
}


def sensitive_params() -> set[str]:
    return GENERIC_PARAMS | sources.secret_params()


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


class _Retryable(Exception):
    """A failure worth another attempt; carries what to say if attempts run out."""

    def __init__(
        self, message: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after, self.status = retry_after, status


# user-info in any URL inside a text: "https://user:password@host/…" → "https://user:***@host/…"
# (the name stays, as in the store's own messages), "https://token@host/…" → "https://***@host/…"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?:([^/\s@?#'\"<>:]*):)?[^/\s@?#'\"<>]*@")


def _mask_userinfo(match: re.Match) -> str:
    return match.group(1) + (match.group(2) + ":" if match.group(2) is not None else "") + "***@"


def _url_credentials() -> list[str]:
    """User-info passwords inside configured URLs (the registry's `url_settings`: `HXL_URLS`):
    secrets like any key, also where they appear without their URL (an error quoting them)."""
    found = set()
    urls = ",".join(settings.setting(n) or "" for n in sources.url_settings())
    for url in urls.split(","):
        try:
            password = urlsplit(url.strip()).password
        except ValueError:
            continue
        if password and len(password) >= 4:
            found.add(password)
    return sorted(found, key=len, reverse=True)


# credentials a feed hands out at run time (ACLED's OAuth access and refresh tokens): sent in
# headers, never configured, scrubbed like the configured ones
_ISSUED: set[str] = set()


def add_issued_secret(value: object) -> None:
    """Scrub `value` from now on wherever `redact` runs (logs, errors, the store)."""
    if isinstance(value, str) and len(value) >= 8:
        _ISSUED.add(value)


def redact(text: str) -> str:
    """Every secret out of a text (a log line, an error, a URL): configured secret values,
    tokens a feed issued at run time, user-info in URLs (`user:password@`) and key parameters
    (`token=…`)."""
    text = str(text)
    issued = sorted(_ISSUED, key=len, reverse=True)
    for secret in (*settings.secret_values(), *_url_credentials(), *issued):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(_mask_userinfo, text)
    names = "|".join(re.escape(p) for p in sorted(sensitive_params(), key=len, reverse=True))
    return re.sub(r"(?i)\b(" + names + r")=([^&\s'\"]+)", r"\1=***", text)


def redact_url(url: str) -> str:
    """The one redaction for every URL stored, logged, shown or exported: no user-info, no key
    parameter, no configured secret value. A text that is not a URL goes through `redact`."""
    url = str(url)
    if "://" not in url:
        return redact(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        name = userinfo.split(":", 1)[0] + ":" if ":" in userinfo else ""
        netloc = f"{name}***@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    sensitive = sensitive_params()
    if any(k.lower() in sensitive for k, _ in pairs):
        masked = [(k, "***" if k.lower() in sensitive else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    return redact(urlunsplit(parts._replace(netloc=netloc, query=query)))


@dataclass
class HttpConfig:
    """HTTP behaviour, each a setting so that hosting and tests can tune it."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    attempts: int = 4
    backoff_base: float = 1.0  # first wait; doubles per attempt, with jitter
    backoff_max: float = 30.0
    retry_after_max: float = 120.0  # longest Retry-After we honour before giving up
    requests_per_second: float = 4.0  # per host
    cache_dir: Path = Path("data/http_cache")
    cache_ttl: float = 900.0  # seconds a cached response is used without asking the server

    @classmethod
    def from_settings(cls) -> HttpConfig:
        n = settings.number
        return cls(
            connect_timeout=n("HTTP_CONNECT_TIMEOUT", 5.0),
            read_timeout=n("HTTP_READ_TIMEOUT", 30.0),
            attempts=int(n("HTTP_ATTEMPTS", 4)),
            backoff_base=n("HTTP_BACKOFF_BASE", 1.0),
            backoff_max=n("HTTP_BACKOFF_MAX", 30.0),
            retry_after_max=n("HTTP_RETRY_AFTER_MAX", 120.0),
            requests_per_second=n("HTTP_REQUESTS_PER_SECOND", 4.0),
            cache_dir=Path(settings.setting("HTTP_CACHE_DIR", "data/http_cache")),
            cache_ttl=n("HTTP_CACHE_TTL", 900.0),
        )


class _HostLimiter:
    """Process-wide minimum spacing between requests to one host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, per_second: float, sleep: Callable[[float], None]) -> None:
        if per_second <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + 1.0 / per_second
        if slot > now:
            sleep(slot - now)


LIMITER = _HostLimiter()


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    pages: int = 0
    cache_hits: int = 0
    not_modified: int = 0
    waited_s: float = 0.0
    events: list[str] = field(default_factory=list)


@dataclass
class Response:
    url: str  # redacted
    status: int
    body: bytes
    headers: dict[str, str]
    from_cache: bool = False

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class FeedClient:
    """The shared client a connector talks through. One per feed and refresh."""

    def __init__(
        self,
        feed: str,
        config: HttpConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        revalidate: bool = False,
    ) -> None:
        """`revalidate`: never answer from the disk cache without asking the server; a cached
        response is revalidated (If-None-Match / If-Modified-Since) instead. An explicit
        refresh wants that: someone asked for what the feed holds *now*."""
        self.feed = feed
        self.revalidate = revalidate
        self.config = config or HttpConfig.from_settings()
        self.stats = Stats()
        self._sleep_fn = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sleep(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        self._sleep_fn(seconds)

    # -- the disk cache -----------------------------------------------------------------------
    def _cache_paths(
        self, method: str, url: str, params: dict | None, body: Any
    ) -> tuple[Path, Path]:
        key = json.dumps([method, url, sorted((params or {}).items()), body], default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()
        folder = self.config.cache_dir / self.feed
        return folder / f"{digest}.meta.json", folder / f"{digest}.body"

    def _cached(self, meta_path: Path, body_path: Path) -> tuple[dict, bytes] | None:
        try:
            return json.loads(meta_path.read_text()), body_path.read_bytes()
        except (OSError, ValueError):
            return None

    def _store(self, meta_path: Path, body_path: Path, response: httpx.Response) -> None:
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

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        headers: dict | None = None,
        json_body: Any = None,
        data: dict | None = None,
        cache: bool = True,
    ) -> Response:
        """Send one request with retries; serve or revalidate from the disk cache."""
        shown = redact_url(str(httpx.URL(url, params=params or {})))
        meta_path, body_path = self._cache_paths(method, url, params, json_body)
        cached = self._cached(meta_path, body_path) if cache else None
        headers = dict(headers or {})
        if cached:
            meta, body = cached
            if not self.revalidate and time.time() - meta["fetched_at"] < self.config.cache_ttl:
                self.stats.cache_hits += 1
                return Response(shown, 200, body, {"content-type": meta["content_type"]}, True)
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]

        def attempt() -> httpx.Response:
            LIMITER.wait(urlsplit(url).netloc, self.config.requests_per_second, self._sleep)
            self.stats.requests += 1
            try:
                response = self._client.request(
                    method, url, params=params, headers=headers, json=json_body, data=data
                )
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"connection failed: {exc or type(exc).__name__}") from exc
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retryable(
                    f"HTTP {response.status_code}",
                    _retry_after(response.headers.get("retry-after")),
                    response.status_code,
                )
            return response

        try:
            response = self._retrying(shown)(attempt)
        except _Retryable as exc:
            raise FeedError(
                self.feed, shown, f"{exc} after {self.config.attempts} attempts", status=exc.status
            ) from exc
        if response.status_code == 304 and cached:
            self.stats.not_modified += 1
            meta, body = cached
            meta["fetched_at"] = time.time()
            meta_path.write_text(json.dumps(meta))
            return Response(shown, 200, body, {"content-type": meta["content_type"]}, True)
        if response.status_code in (401, 403):
            raise FeedError(
                self.feed,
                shown,
                f"HTTP {response.status_code}: the feed refused "
                "the credentials; check this feed's key settings",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise FeedError(
                self.feed,
                shown,
                f"HTTP {response.status_code}: {_snippet(response.text)}",
                status=response.status_code,
            )
        if cache and method == "GET":
            self._store(meta_path, body_path, response)
        return Response(
            shown,
            response.status_code,
            response.content,
            {k.lower(): v for k, v in response.headers.items()},
        )

    def _retrying(self, shown: str) -> Retrying:
        cfg = self.config

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                if exc.retry_after > cfg.retry_after_max:
                    raise FeedError(
                        self.feed,
                        shown,
                        f"asked to wait {exc.retry_after:.0f} s "
                        f"(Retry-After), more than the {cfg.retry_after_max:.0f} s "
                        "we wait",
                        status=exc.status,
                    ) from exc
                delay = exc.retry_after
            else:
                delay = min(cfg.backoff_max, cfg.backoff_base * 2 ** (state.attempt_number - 1))
                delay = random.uniform(delay / 2, delay)  # jitter: desynchronise retries
            return delay

        def before_sleep(state: RetryCallState) -> None:
            # counted here, not in `wait`: tenacity also asks for a wait after the last attempt
            self.stats.retries += 1
            self.stats.events.append(
                f"retry {state.attempt_number} after {state.outcome.exception()}: "
                f"wait {state.upcoming_sleep:.2f} s"
            )

        return Retrying(
            stop=stop_after_attempt(max(1, cfg.attempts)),
            wait=wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    # -- decoding -----------------------------------------------------------------------------
    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The response as JSON, or a FeedError saying what came instead."""
        response = self.request(method, url, **kwargs)
        self.stats.pages += 1
        return decode_json(self.feed, response)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.json("GET", url, **kwargs)

    def get_text(self, url: str, **kwargs: Any) -> Response:
        response = self.request("GET", url, **kwargs)
        self.stats.pages += 1
        if not response.body.strip():
            raise FeedError(
                self.feed, response.url, "returned an empty body where a CSV file was expected"
            )
        if response.body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
            raise FeedError(
                self.feed,
                response.url,
                f"returned an HTML page where a CSV file was expected: {_snippet(response.text())}",
            )
        return response


def decode_json(feed: str, response: Response) -> Any:
    body = response.body
    kind = response.headers.get("content-type", "")
    if "html" in kind or body.lstrip()[:1] == b"<":
        raise FeedError(
            feed,
            response.url,
            f"returned an HTML page where JSON was expected: {_snippet(response.text())}",
        )
    if not body.strip():
        raise FeedError(feed, response.url, "returned an empty body where JSON was expected")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise FeedError(
            feed, response.url, f"invalid or truncated JSON ({exc}; {len(body):,} bytes received)"
        ) from exc


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _snippet(text: str, size: int = 120) -> str:
    flat = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return f"'{flat[:size]}{'…' if len(flat) > size else ''}'"


# -- response checks shared by connectors ----------------------------------------------------
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
    """Every record must be an object carrying `fields`: a renamed or missing field is schema
    drift, and storing half a record would be worse than stopping."""
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


def offset_pages(
    client: FeedClient,
    url: str,
    params: dict,
    *,
    records_key: str,
    limit: int,
    limit_param: str = "limit",
    offset_param: str = "offset",
    headers: dict | None = None,
) -> Iterator[tuple[str, list]]:
    """Pages of a limit/offset API until a short page."""
    offset = 0
    while True:
        page_params = {**params, limit_param: limit, offset_param: offset}
        shown = redact_url(str(httpx.URL(url, params=page_params)))
        payload = client.get_json(url, params=page_params, headers=headers)
        records = expect(client.feed, shown, payload, records_key, list)
        yield shown, records
        if len(records) < limit:
            return
        offset += limit
