"""Country codes come from maintained lists: every country, not a hand-kept few."""

from __future__ import annotations

import csv

import pytest

from data_sources.feeds import FeedClient, FeedError
from data_sources.feeds.connectors import Scope
from data_sources.feeds.connectors.ucdp import UcdpConnector
from data_sources.feeds.refresh import refresh
from data_sources.model.countries import iso_numeric, ucdp_country_id
from devtools.replay_server import SHARED
from tests.shared_data import needs_shared

UCDP_FILES = sorted((SHARED / "ucdp-ged").glob("*.csv")) if (SHARED / "ucdp-ged").is_dir() else []


def test_iso_numeric_for_any_country():
    # Iraq and Syria as ACLED knows them, and countries the old table of 35 did not list
    assert [iso_numeric(c) for c in ("IRQ", "SYR", "MEX", "ZWE", "fji")] == [
        368,
        760,
        484,
        716,
        242,
    ]
    assert iso_numeric("XXX") is None


def test_ucdp_country_ids_cover_every_state():
    assert [ucdp_country_id(c) for c in ("IRQ", "SYR", "BGD", "MEX", "YEM", "GRD")] == [
        645, 652, 771, 70, 678, 55,
    ]  # fmt: skip
    assert ucdp_country_id("PSE") is None  # UCDP codes Palestine under Israel (666)


@needs_shared(SHARED / "ucdp-ged")
def test_ucdp_ids_agree_with_ucdp_own_files():
    """Each real UCDP file's country_id is the one the vendored list gives its country."""
    names = {"Iraq": "IRQ", "Syria": "SYR", "Bangladesh": "BGD"}
    seen = set()
    for path in UCDP_FILES:
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["country"] in names:
                    seen.add((names[row["country"]], int(row["country_id"])))
    assert seen == {("IRQ", 645), ("SYR", 652), ("BGD", 771)}
    assert all(ucdp_country_id(iso3) == cid for iso3, cid in seen)


def test_unknown_country_is_a_clear_feed_error(feeds, empty_engine):
    with FeedClient("ucdp") as client, pytest.raises(FeedError, match="UCDP codes no country XXX"):
        list(UcdpConnector().fetch(client, Scope(["XXX"])))
    report = refresh(empty_engine, ["acled"], Scope(["XXX"]))[0]
    assert report.status == "failed"
    assert "XXX is not an ISO 3166 country code" in report.error
