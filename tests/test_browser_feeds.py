"""Refresh from the Data page in a real Chromium, the server's feeds pointed at the replay
server: progress while it runs, the other pages still answering, badges afterwards."""

from __future__ import annotations

import os

import pytest

from data_sources.feeds.connectors import CONNECTORS
from devtools.replay_server import FEED_KEYS
from tests.test_browser import ARTIFACTS, CHROMIUM, open_page, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium missing"),
]


@pytest.fixture
def live_server(loaded_url, tmp_path, feed_server):
    """The app on a private loaded store, on SQLite and on PostgreSQL."""
    feed_server.clear()
    feed_server.fault("/v2/reports", "delay", times=1, arg=1.5)  # a slow feed: time to look
    env = {
        "DATABASE_URL": loaded_url,
        **FEED_KEYS,
        **{cls.base_url_setting: feed_server.base_url for cls in CONNECTORS.values()},
        "HXL_URLS": feed_server.base_url + "/files/aleppo_prices.csv",
        "HTTP_CACHE_DIR": str(tmp_path / "cache"),
        "HTTP_READ_TIMEOUT": "5",
        "HTTP_BACKOFF_BASE": "0.05",
        "SITUATION_ROOM_SECRETS": str(tmp_path / "none.toml"),
    }
    with streamlit_server(env) as base:
        yield base
    feed_server.clear()


def test_refresh_now_from_the_data_page(live_server, chromium):
    page = open_page(chromium, live_server + "/data", "data_before_refresh", 0)
    main = page.locator("[data-testid='stMainBlockContainer']")
    # the page draws top down (its figures first): wait for the freshness section
    page.get_by_text("ready, never refreshed").first.wait_for(timeout=60_000)
    assert "ready, never refreshed" in main.inner_text()  # HAPI etc. have keys, no load yet
    page.get_by_role("button", name="Refresh now").click()
    page.get_by_text("feeds done").first.wait_for(timeout=60_000)  # live progress
    # while it runs, another tab gets its chart from the last good figures
    other = open_page(chromium, live_server + "/trends", "trends_during_refresh", 1)
    assert other.locator("[data-testid='stException']").count() == 0
    other.close()
    page.get_by_text("Refresh finished").first.wait_for(timeout=120_000)
    # the page then redraws from the new data version (every cached read misses once)
    for _ in range(120):
        lines = main.inner_text().splitlines()
        # every feed's end moves the version: wait for the last of them too (FTS fails)
        hapi_fresh = any(line.startswith("fresh") and "HDX HAPI" in line for line in lines)
        if hapi_fresh and any(line.startswith("failing") and "FTS" in line for line in lines):
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data_after_refresh.png"), full_page=True)
    text = main.inner_text()
    # Jordan is the only country in the recorded FTS list: FTS fails, the rest land
    assert "failed: fts" in text and "HDX has no WFP price dataset for IRQ" in text
    hapi = next(line for line in text.splitlines() if "HDX HAPI" in line)
    assert hapi.startswith("fresh") and "refreshed 20" in hapi
    fts = next(line for line in text.splitlines() if "OCHA FTS" in line)
    assert fts.startswith("failing") and "FTS lists no location with ISO3" in fts
    assert page.locator("[data-testid='stException']").count() == 0
    for secret in FEED_KEYS.values():
        assert secret not in page.content()
    page.close()
