"""The shared HTTP layer against the real replay server: retries, back-off, Retry-After, rate
limit, conditional requests, disk cache, error messages and secret scrubbing."""

from __future__ import annotations

import pytest

from data_sources.feeds import USER_AGENT, FeedClient, FeedError, HttpConfig
from data_sources.redact import redact, redact_url

PATH = "/population/v1/population/"


def client(feeds, tmp_path, sleeps: list[float] | None = None, **overrides) -> FeedClient:
    config = HttpConfig.from_settings()
    config.cache_dir = tmp_path / "cache"
    for key, value in overrides.items():
        setattr(config, key, value)
    recorder = sleeps.append if sleeps is not None else (lambda s: None)
    return FeedClient("unhcr", config, sleep=recorder)


def url(feeds) -> str:
    return feeds.base_url + PATH


def test_user_agent_names_the_app(feeds, tmp_path):
    with client(feeds, tmp_path) as c:
        c.get_json(url(feeds), params={"coo": "SYR"})
    assert feeds.requests_to(PATH)[-1].headers["user-agent"] == USER_AGENT
    assert "SituationRoom" in USER_AGENT


@pytest.mark.parametrize("fault", ["500", "reset", "truncated", "delay"])
def test_transient_failure_is_retried_with_exponential_backoff(feeds, tmp_path, fault):
    feeds.fault(PATH, fault, times=2, arg=0.6 if fault == "delay" else None)
    sleeps: list[float] = []
    with client(feeds, tmp_path, sleeps, backoff_base=0.2, backoff_max=5, read_timeout=0.3) as c:
        payload = c.get_json(url(feeds), params={"coo": "SYR"})
    assert len(payload["items"]) > 100
    assert c.stats.retries == 2 and len(feeds.requests_to(PATH)) == 3
    # full jitter inside a doubling envelope: first wait in [0.1, 0.2], second in [0.2, 0.4]
    assert 0.1 <= sleeps[0] <= 0.2 and 0.2 <= sleeps[1] <= 0.4


def test_persistent_failure_gives_up_after_the_configured_attempts(feeds, tmp_path):
    feeds.fault(PATH, "503", times=-1)
    with client(feeds, tmp_path, [], attempts=3) as c, pytest.raises(FeedError) as err:
        c.get_json(url(feeds), params={"coo": "SYR"})
    assert len(feeds.requests_to(PATH)) == 3 and c.stats.retries == 2
    assert "unhcr: HTTP 503 after 3 attempts" in str(err.value)
    assert "/population/v1/population/?coo=SYR" in str(err.value)


@pytest.mark.parametrize("status", ["429", "503"])
def test_retry_after_is_honoured(feeds, tmp_path, status):
    feeds.fault(PATH, status, times=1, arg=7)
    sleeps: list[float] = []
    with client(feeds, tmp_path, sleeps) as c:
        c.get_json(url(feeds), params={"coo": "SYR"})
    assert sleeps == [7.0]


def test_retry_after_beyond_our_patience_fails_at_once(feeds, tmp_path):
    feeds.fault(PATH, "429", times=1, arg=3600)
    with client(feeds, tmp_path, [], retry_after_max=120) as c, pytest.raises(FeedError) as err:
        c.get_json(url(feeds), params={"coo": "SYR"})
    assert "asked to wait 3600 s (Retry-After)" in str(err.value)
    assert len(feeds.requests_to(PATH)) == 1


def test_rate_limit_spaces_requests_to_one_host(feeds, tmp_path, monkeypatch):
    """Five real requests at 10/s are spaced 0.1 s apart on the limiter's clock. The clock is
    one only the client's sleeps advance, so what is checked is the limiter's arithmetic on
    the real request path, not how promptly a loaded machine wakes a thread (a server-side
    arrival stamp can be late by more than the spacing itself)."""
    from data_sources.feeds import client as client_module

    now = [1e9]  # far past any slot another test left for this host on the real clock
    monkeypatch.setattr(client_module.LIMITER, "clock", lambda: now[0])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    config = HttpConfig.from_settings()
    config.cache_dir, config.requests_per_second = tmp_path / "cache", 10
    with FeedClient("unhcr", config, sleep=sleep) as c:
        for _ in range(5):
            c.get_json(url(feeds), params={"coo": "IRQ"}, cache=False)
    assert len(feeds.requests_to(PATH)) == 5
    assert sleeps == pytest.approx([0.1] * 4)  # the first goes at once, each next one slot later
    assert c.stats.waited_s == pytest.approx(0.4)


def test_rate_limit_is_per_host_and_off_at_zero():
    from data_sources.feeds.client import _HostLimiter

    now = [100.0]
    limiter, sleeps = _HostLimiter(clock=lambda: now[0]), []
    for host in ["a.example", "b.example", "a.example"]:
        limiter.wait(host, 4, sleeps.append)
    assert sleeps == [0.25]  # only the second request to a.example waited
    limiter.wait("a.example", 0, sleeps.append)
    assert sleeps == [0.25]


def test_conditional_request_revalidates_with_etag(feeds, tmp_path):
    with client(feeds, tmp_path, cache_ttl=0) as c:
        first = c.get_json(url(feeds), params={"coo": "SYR"})
        second = c.get_json(url(feeds), params={"coo": "SYR"})
    sent = feeds.requests_to(PATH)
    assert "if-none-match" not in sent[0].headers and sent[1].headers["if-none-match"]
    assert c.stats.not_modified == 1 and first == second


def test_fresh_cache_is_served_without_asking(feeds, tmp_path):
    with client(feeds, tmp_path, cache_ttl=3600) as c:
        c.get_json(url(feeds), params={"coo": "SYR"})
        c.get_json(url(feeds), params={"coo": "SYR"})
    assert len(feeds.requests_to(PATH)) == 1 and c.stats.cache_hits == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("html", "returned an HTML page where JSON was expected: 'Scheduled maintenance'"),
        ("invalid_json", "invalid or truncated JSON"),
        ("empty_body", "returned an empty body where JSON was expected"),
    ],
)
def test_wrong_content_is_a_clear_error(feeds, tmp_path, fault, message):
    feeds.fault(PATH, fault)
    with client(feeds, tmp_path) as c, pytest.raises(FeedError) as err:
        c.get_json(url(feeds), params={"coo": "SYR"})
    assert message in str(err.value) and str(err.value).startswith("unhcr: ")


def test_secrets_are_scrubbed_from_urls_and_errors(feeds, tmp_path):
    secret = "dGVzdC1hcHA6dGVzdEBleGFtcGxlLm9yZw=="
    shown = redact_url(f"https://hapi.humdata.org/api/v2/x?app_identifier={secret}&limit=5")
    assert secret not in shown and "app_identifier=***" in shown and "limit=5" in shown
    feeds.fault(PATH, "500", times=-1)
    with client(feeds, tmp_path, [], attempts=2) as c, pytest.raises(FeedError) as err:
        c.get_json(url(feeds), params={"coo": "SYR", "appname": "situation-room-test-rw"})
    assert "situation-room-test-rw" not in str(err.value) and "appname=***" in str(err.value)


def test_database_password_is_a_secret(monkeypatch, tmp_path):
    """A hosted store's password (inside DATABASE_URL, from the environment or secrets.toml)
    is scrubbed like a feed key wherever text reaches a person."""
    from data_sources import settings
    from data_sources.store.engine import database_url

    secrets = tmp_path / "secrets.toml"
    secrets.write_text('DATABASE_URL = "postgresql+psycopg://team:pg-pass-2026@db:5432/sr"\n')
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SITUATION_ROOM_SECRETS", str(secrets))
    settings.reload()
    try:
        assert database_url() == "postgresql+psycopg://team:pg-pass-2026@db:5432/sr"
        shown = redact("could not connect to postgresql+psycopg://team:pg-pass-2026@db:5432/sr")
        assert "pg-pass-2026" not in shown and "team:***@db" in shown
    finally:
        settings.reload()
