"""Links that cannot hurt the server (issue 19, item 5): an `as_of` or `since` outside the
store's own span is clamped to it with a message, on every page and both stores; every link
between two loads names one view (one cache entry), so new `as_of` values cost no new query.

The figures: the bundled store, then OCHA's 685 wounded in Mosul and its SYNTHETIC correction
to 700 (see tests/test_asof.py, whose fixture this reuses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from data_sources.store import asof
from data_sources.store.engine import make_engine
from tests.apptest import open_page
from tests.test_asof import revised  # noqa: F401 - the fixture

PAGES = [
    "views/overview.py",
    "views/trends.py",
    "views/compare.py",
    "views/map.py",
    "views/data.py",
]


def test_a_year_below_1000_formats_and_reads_back():
    for year in (1, 9, 999):
        day = datetime(year, 1, 1, tzinfo=UTC)
        end = asof.parse_as_of(f"{year:04d}-01-01")
        assert asof.format_as_of(end) == f"{year:04d}-01-01"
        assert asof.parse_as_of(asof.format_as_of(day + timedelta(hours=3))) == day + timedelta(
            hours=3
        )


def test_clamp_and_snap_keep_a_moment_within_the_store():
    first, second = datetime(2016, 12, 1, tzinfo=UTC), datetime(2016, 12, 20, tzinfo=UTC)
    moments = [first, second]
    early, said = asof.clamp(datetime(1, 1, 1, tzinfo=UTC), moments)
    assert early == first and "before the store's first figures" in said
    late, said = asof.clamp(datetime(9999, 12, 31, tzinfo=UTC), moments)
    assert late is None and "showing the latest figures" in said
    # after the newest change but not in the future (a pinned link to the newest load): kept
    pinned = second + timedelta(hours=1)
    assert asof.clamp(pinned, moments) == (pinned, None)
    # the same moment, seen two days before it
    future, said = asof.clamp(pinned, moments, now=second - timedelta(days=2))
    assert future is None and "in the future" in said
    inside = datetime(2016, 12, 5, tzinfo=UTC)
    assert asof.clamp(inside, moments) == (inside, None)
    assert asof.snap(inside, moments) == first
    assert asof.snap(second + timedelta(seconds=1), moments) == second
    assert asof.snap(None, moments) is None


def test_every_link_between_two_loads_names_one_view(revised):  # noqa: F811
    url, between = revised
    engine = make_engine(url)
    moments = asof.store_moments(engine)
    engine.dispose()
    moment = asof.parse_as_of(between)
    before, after = [m for m in moments if m <= moment], [m for m in moments if m > moment]
    assert before and after  # the first import is before `between`, the correction after
    snapped = {asof.snap(moment - timedelta(microseconds=k), moments) for k in range(0, 20_000, 7)}
    assert snapped == {before[-1]}  # 2,858 distinct links, one cache key
    shown = open_page("views/data.py", source="ocha", as_of=asof.format_as_of(before[-1]))
    assert shown.dataframe[0].value.value.tolist() == [685]


@pytest.mark.parametrize("page", PAGES)
def test_a_link_before_the_store_is_clamped_with_a_message(revised, page):  # noqa: F811
    at = open_page(page, cities="Mosul", as_of="0001-01-01")
    assert not at.exception, at.exception
    said = " ".join(w.value for w in at.warning)
    assert "before the store's first figures" in said and "showing the figures as of then" in said
    assert at.query_params["as_of"] != ["0001-01-01"]


@pytest.mark.parametrize("page", PAGES)
def test_a_link_after_the_store_shows_the_latest_figures(revised, page):  # noqa: F811
    at = open_page(page, cities="Mosul", as_of="9999-12-31")
    assert not at.exception, at.exception
    said = " ".join(w.value for w in at.warning)
    assert "after the store's newest change" in said
    assert "as_of" not in at.query_params


def test_the_data_page_as_of_a_moment_counts_changes_without_an_error(revised):  # noqa: F811
    _url, between = revised
    at = open_page("views/data.py", source="ocha", as_of=between)
    assert not at.exception
    assert not [e for e in at.error if "must come after" in e.value]
    assert at.dataframe[0].value.value.tolist() == [685]


def test_a_since_before_the_store_is_clamped_on_the_data_page(revised):  # noqa: F811
    at = open_page("views/data.py", source="ocha", since="0001-01-01")
    assert not at.exception, at.exception
    assert any("before the store's first figures" in i.value for i in at.info)
    listed = at.dataframe[2].value
    assert "revised" in listed["change"].tolist() or "added" in listed["change"].tolist()
