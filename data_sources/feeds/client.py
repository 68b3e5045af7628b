"""Transport for every feed: one httpx client with timeouts, retries with back-off (tenacity),
429/Retry-After, a per-host rate limit, and HTTP statuses turned into errors a person can act on.

Feeds fail in ordinary ways (slow, down, rate-limited, refusing a key). Each becomes a
`FeedError` naming the feed and the URL with every secret scrubbed; transient failures are
retried first. Caching is `cache.py`'s job, payload checks `checks.py`'s, paging `paging.py`'s.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from data_sources import settings
from data_sources.feeds.cache import ResponseCache
from data_sources.feeds.checks import check_csv, decode_json
from data_sources.feeds.errors import FeedError, snippet
from data_sources.redact import (
    guard_loggers,
    is_credential_header,
    is_sensitive_param,
    redact_url,
    secrets,
    shown_url,
)

guard_loggers()  # httpx logs every URL it sends: scrubbed before any handler sees it

USER_AGENT = (
    "SituationRoom/0.2 (humanitarian situation dashboard; +https://github.com/situation-room)"
)


class _Retryable(Exception):
    """A failure worth another attempt; carries what to say if attempts run out."""

    def __init__(
        self, message: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after, self.status = retry_after, status


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
        return cls(
            connect_timeout=settings.number("HTTP_CONNECT_TIMEOUT"),
            read_timeout=settings.number("HTTP_READ_TIMEOUT"),
            attempts=int(settings.number("HTTP_ATTEMPTS")),
            backoff_base=settings.number("HTTP_BACKOFF_BASE"),
            backoff_max=settings.number("HTTP_BACKOFF_MAX"),
            retry_after_max=settings.number("HTTP_RETRY_AFTER_MAX"),
            requests_per_second=settings.number("HTTP_REQUESTS_PER_SECOND"),
            cache_dir=Path(settings.setting("HTTP_CACHE_DIR") or "data/http_cache"),
            cache_ttl=settings.number("HTTP_CACHE_TTL"),
        )


class _HostLimiter:
    """Process-wide minimum spacing between requests to one host. `clock` is the monotonic
    clock the slots are counted on (a test gives one that only its own sleeps advance)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self.clock = clock

    def wait(self, host: str, per_second: float, sleep: Callable[[float], None]) -> None:
        if per_second <= 0:
            return
        with self._lock:
            now = self.clock()
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
            follow_redirects=False,  # followed by `_send_once`, credentials kept to their origin
            transport=transport,
        )
        self._cache = ResponseCache(self.config.cache_dir / feed)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sleep(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        self._sleep_fn(seconds)

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
        auth: httpx.Auth | None = None,
    ) -> Response:
        """Send one request with retries; serve or revalidate from the disk cache. `auth` (an
        `httpx.Auth`, see auth.py) adds the feed's credentials: never part of the cache key."""
        shown = shown_url(url, params)
        cached = self._cache.get(method, url, params, json_body) if cache else None
        headers = dict(headers or {})
        if cached:
            if not self.revalidate and cached.age() < self.config.cache_ttl:
                self.stats.cache_hits += 1
                return Response(
                    shown, 200, cached.body, {"content-type": cached.meta["content_type"]}, True
                )
            headers.update(cached.validators())

        def attempt() -> httpx.Response:
            return self._send_once(
                method,
                url,
                params=params,
                headers=headers,
                json=json_body,
                data=data,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
            )

        try:
            response = self._retrying(shown)(attempt)
        except _Retryable as exc:
            raise FeedError(
                self.feed, shown, f"{exc} after {self.config.attempts} attempts", status=exc.status
            ) from exc
        if response.status_code == 304 and cached:
            self.stats.not_modified += 1
            cached.touch()
            return Response(
                shown, 200, cached.body, {"content-type": cached.meta["content_type"]}, True
            )
        self._refuse_errors(response, shown)
        if cache and method == "GET":
            self._cache.put(method, url, params, json_body, response)
        return Response(
            shown,
            response.status_code,
            response.content,
            {k.lower(): v for k, v in response.headers.items()},
        )

    def _send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One attempt, after the host's rate limit: a timeout, a dropped connection, a 429
        or a 5xx is worth another (`_Retryable`); anything else is the answer."""
        LIMITER.wait(urlsplit(url).netloc, self.config.requests_per_second, self._sleep)
        self.stats.requests += 1
        try:
            response = self._follow(self._client.request(method, url, **kwargs), kwargs["auth"])
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

    def _follow(self, response: httpx.Response, auth: Any) -> httpx.Response:
        """Redirects followed by hand, so that the feed's credentials stay with the feed's
        origin (scheme, host, port of the first request): a hop to another origin goes without
        the auth object, without any header it or the connector set that carries a credential
        (`Authorization`, DTM's `Ocp-Apim-Subscription-Key`, UCDP's `x-ucdp-access-token`, …)
        and without any credential query parameter. httpx itself strips only `Authorization`."""
        origin = response.request.url
        for _ in range(MAX_REDIRECTS):
            following = response.next_request
            if following is None:
                return response
            response.close()
            if same_origin(following.url, origin):
                response = self._client.send(following, auth=auth)
            else:
                response = self._client.send(without_credentials(following), auth=None)
        raise FeedError(self.feed, redact_url(str(origin)), f"more than {MAX_REDIRECTS} redirects")

    def _refuse_errors(self, response: httpx.Response, shown: str) -> None:
        """A 4xx as a FeedError: refused credentials said as such, else the body's start."""
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
                f"HTTP {response.status_code}: {snippet(response.text)}",
                status=response.status_code,
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
        """The response, checked to be a CSV file rather than nothing or an HTML page."""
        response = self.request("GET", url, **kwargs)
        self.stats.pages += 1
        return check_csv(self.feed, response)


MAX_REDIRECTS = 10


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def without_credentials(request: httpx.Request) -> httpx.Request:
    """`request` as it may go to another origin: no header that carries a credential (by name,
    or by holding a configured or issued secret), no credential query parameter, no body that
    holds a secret (a token form forwarded by a 307)."""
    held = secrets()
    headers = {
        k: v
        for k, v in request.headers.items()
        if not is_credential_header(k)
        and k.lower() != "content-length"
        and not any(s in v for s in held)
    }
    url = request.url
    for name, value in list(url.params.multi_items()):
        if is_sensitive_param(name) or any(s in value for s in held):
            url = url.copy_remove_param(name)
    body = request.read()
    if any(s.encode() in body for s in held) or any(quote_plus(s).encode() in body for s in held):
        body = b""
    return httpx.Request(request.method, url, headers=headers, content=body)


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
