"""Paginators and auth objects (data_sources/feeds/paging.py, auth.py) driven against the replay
server with the recorded payloads: offsets, page numbers, next links, a paging loop, a runaway
feed, an empty last page; ACLED's token refreshed after a 401, issued tokens never stored.
"""

from __future__ import annotations

import json

import pytest

from data_sources.feeds import FeedClient, FeedError
from data_sources.feeds.connectors.acled import AcledConnector
from data_sources.feeds.connectors.hapi import HapiConnector
from data_sources.feeds.connectors.ucdp import UcdpConnector
from data_sources.feeds.connectors.unhcr import UnhcrConnector
from data_sources.feeds.refresh import refresh
from devtools.replay_server import FEED_KEYS, FIXTURES, replay_scopes
from tests.conftest import store_dump

SCOPES = replay_scopes()
UCDP_PATH = "/api/gedevents/25.1"
HAPI_IDPS = "/api/v2/affected-people/idps"
# recorded payloads: UCDP's GED events for Bangladesh (601), HAPI's IDPs for Syria at admin 2
UCDP_BGD = len(json.loads((FIXTURES / "ucdp/gedevents_BGD.json").read_text()))
HAPI_SYR_ADM2 = sum(
    1
    for r in json.loads((FIXTURES / "hapi/idps.json").read_text())
    if r["location_code"] == "SYR" and str(r["admin_level"]) == "2"
)


def fetch(connector, source: str) -> list:
    with FeedClient(source) as client:
        return list(connector.fetch(client, SCOPES[source]))


def test_offset_pages_until_a_short_page(feeds, monkeypatch):
    monkeypatch.setattr("data_sources.feeds.connectors.hapi.PAGE", 4)
    batches = [b for b in fetch(HapiConnector(), "hapi") if b.dataset == "idps"]
    adm2 = [b for b in batches if b.context["admin_level"] == 2]
    assert sum(len(b.records) for b in adm2) == HAPI_SYR_ADM2
    assert HAPI_SYR_ADM2 == 6  # the recorded page: two pages of 4
    asked = [
        (r.query["offset"], r.query["limit"])
        for r in feeds.requests_to(HAPI_IDPS)
        if r.query["admin_level"] == "2"
    ]
    pages = -(-HAPI_SYR_ADM2 // 4)
    assert asked == [(str(4 * i), "4") for i in range(pages)]
    assert len(adm2[-1].records) < 4  # the short page ended it
    # each page is its own link, the key masked in it and sent in full to the server
    assert "offset=4" in adm2[1].url and "app_identifier=***" in adm2[1].url
    assert (
        feeds.requests_to(HAPI_IDPS)[0].query["app_identifier"] == FEED_KEYS["HAPI_APP_IDENTIFIER"]
    )
    assert FEED_KEYS["HAPI_APP_IDENTIFIER"] not in adm2[1].url


def test_an_empty_last_page_ends_paging(feeds, monkeypatch):
    """A page size that divides the records exactly: the last full page is followed by one
    empty page, which ends it (no error, nothing more asked)."""
    monkeypatch.setattr("data_sources.feeds.connectors.hapi.PAGE", HAPI_SYR_ADM2 // 2)
    adm2 = [
        b
        for b in fetch(HapiConnector(), "hapi")
        if b.dataset == "idps" and b.context["admin_level"] == 2
    ]
    assert [len(b.records) for b in adm2] == [3, 3, 0]
    asked = [
        r.query["offset"] for r in feeds.requests_to(HAPI_IDPS) if r.query["admin_level"] == "2"
    ]
    assert asked == ["0", "3", "6"]


def test_page_numbers_until_a_short_page(feeds, monkeypatch):
    monkeypatch.setattr("data_sources.feeds.connectors.acled.PAGE", 3)
    batches = fetch(AcledConnector(), "acled")
    assert [len(b.records) for b in batches] == [3, 1]  # the 4 recorded events
    assert [r.query["page"] for r in feeds.requests_to("/api/acled/read")] == ["1", "2"]


def test_page_numbers_stop_at_the_page_count_the_feed_gives(feeds, monkeypatch):
    """UNHCR says how many pages there are (`maxPages`): a full last page ends it too."""
    monkeypatch.setattr("data_sources.feeds.connectors.unhcr.PAGE", 1)
    original = feeds.routes["/population/v1/population/"]

    def two_pages(req):
        reply = original(req)
        reply.payload["maxPages"] = 2
        return reply

    monkeypatch.setitem(feeds.routes, "/population/v1/population/", two_pages)
    batches = fetch(UnhcrConnector(), "unhcr")
    assert [len(b.records) for b in batches] == [1, 1]
    assert [r.query["page"] for r in feeds.requests_to("/population/v1/population/")] == ["1", "2"]


def test_next_links_are_followed_on_our_base_url(feeds, monkeypatch):
    monkeypatch.setenv("UCDP_PAGE_SIZE", "250")
    batches = fetch(UcdpConnector(), "ucdp")
    assert [len(b.records) for b in batches] == [250, 250, UCDP_BGD - 500]
    # UCDP's links name its public host; each was asked of the replay server instead
    assert [r.query["page"] for r in feeds.requests_to(UCDP_PATH)] == ["0", "1", "2"]
    assert all(b.url.startswith(feeds.base_url) for b in batches)
    # the token goes in its header, never in a link
    assert {r.headers["x-ucdp-access-token"] for r in feeds.requests_to(UCDP_PATH)} == {
        FEED_KEYS["UCDP_ACCESS_TOKEN"]
    }
    assert not any(FEED_KEYS["UCDP_ACCESS_TOKEN"] in b.url for b in batches)


def test_a_next_link_seen_before_is_a_clear_error_not_a_loop(feeds, monkeypatch):
    """The server answers every page with the same next link: the second time it comes, the
    refresh stops with a message naming the feed, the loop and the page."""
    monkeypatch.setenv("UCDP_PAGE_SIZE", "250")
    original = feeds.routes[UCDP_PATH]

    def stuck(req):
        reply = original(req)
        reply.payload["NextPageUrl"] = (
            "https://ucdpapi.pcr.uu.se/api/gedevents/25.1?pagesize=250&page=1&Country=771"
        )
        return reply

    monkeypatch.setitem(feeds.routes, UCDP_PATH, stuck)
    with pytest.raises(FeedError) as caught:
        fetch(UcdpConnector(), "ucdp")
    message = str(caught.value)
    assert message.startswith("ucdp: paging loop: the feed sent page ")
    assert "page=1" in message and "a second time after 2 pages" in message
    assert f"{feeds.base_url}{UCDP_PATH}?pagesize=250&page=1" in message  # the page it came on
    assert len(feeds.requests_to(UCDP_PATH)) == 2


def test_a_feed_that_never_ends_stops_at_the_page_limit(feeds, monkeypatch):
    monkeypatch.setenv("UCDP_PAGE_SIZE", "100")
    monkeypatch.setenv("FEED_MAX_PAGES", "3")
    with pytest.raises(FeedError, match=r"ucdp: more than 3 pages for one request; stopped"):
        fetch(UcdpConnector(), "ucdp")
    assert len(feeds.requests_to(UCDP_PATH)) == 3


def test_acled_token_is_refreshed_after_a_401_and_the_request_sent_again(feeds):
    connector = AcledConnector()
    with FeedClient("acled") as client:
        first = list(connector.fetch(client, SCOPES["acled"]))
        feeds.expire_tokens()  # the API now answers 401 to the token we hold
        second = list(connector.fetch(client, SCOPES["acled"]))
    assert len(first[0].records) == len(second[0].records) == 4
    reads = feeds.requests_to("/api/acled/read")
    held, refused, renewed = (r.headers["authorization"].removeprefix("Bearer ") for r in reads)
    assert held == refused != renewed  # the held token sent again, refused, then a new one
    assert refused not in feeds.tokens and renewed in feeds.tokens
    assert connector._oauth.grants == ["password", "refresh_token"]


def test_acled_refused_credentials_say_so(feeds, monkeypatch):
    monkeypatch.setenv("ACLED_PASSWORD", "")
    with pytest.raises(FeedError, match=r"^acled: HTTP 400: .*invalid_grant.* — .*/oauth/token"):
        fetch(AcledConnector(), "acled")


def test_issued_tokens_never_reach_the_store(feeds, empty_engine):
    report = refresh(empty_engine, ["acled"], SCOPES["acled"])[0]
    feeds.expire_tokens()
    again = refresh(empty_engine, ["acled"], SCOPES["acled"])[0]
    assert report.status == again.status == "ok" and report.rows_new > 0
    issued = {t.removeprefix("refresh-") for t in feeds.tokens} | feeds.tokens
    assert len(issued) >= 2
    dump = store_dump(empty_engine)
    assert not [t for t in issued if t in dump]
    assert FEED_KEYS["ACLED_PASSWORD"] not in dump
