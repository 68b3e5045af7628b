"""The Data page's CSV and HXL-tagged CSV are streamed from the database page by page
(`/download/figures.csv|figures_hxl.csv`, `query.series_pages`): the same bytes as the
whole file built at once and as `export`, on both stores, with memory bounded by a page."""

from __future__ import annotations

import tracemalloc
from urllib.parse import urlencode

import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from data_sources.formats import export
from data_sources.store import query
from data_sources.store.engine import make_engine
from tests.apptest import open_page
from web import middleware, routes

ALEPPO = "geonames:170063"


@pytest.fixture
def client(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    app = Starlette(routes=routes.mounted(""), middleware=middleware.stack())
    with TestClient(app) as client:
        yield client


def test_pages_hold_every_figure_once_in_the_whole_files_order(loaded_url):
    engine = make_engine(loaded_url)
    ids = query.all_places(engine).place_id.tolist()
    whole = query.series_frame(engine, ids, "conflict_fatalities")
    pages = list(query.series_pages(engine, ids, "conflict_fatalities", rows=7_000))
    assert len(pages) > 2 and all(len(p) <= 7_000 for p in pages)
    joined = pd.concat(pages, ignore_index=True)
    assert len(joined) == len(whole)
    # series by series, as the table is stored: one run per series, each oldest first
    runs = (joined[SERIES_KEY].ne(joined[SERIES_KEY].shift())).any(axis=1).cumsum()
    assert runs.nunique() == len(whole.drop_duplicates(SERIES_KEY))
    assert joined.groupby(runs)["period_start"].is_monotonic_increasing.all()
    streamed = b"".join(export.stream_csv(iter(pages)))
    assert streamed == export.to_csv(joined)
    assert _lines(streamed) == _lines(export.to_csv(whole))  # the same rows as the whole file
    tagged = b"".join(export.stream_csv(iter(pages), hxl=True))
    assert tagged == export.to_hxl_csv(joined)
    engine.dispose()


SERIES_KEY = ["place_id", "metric", "qualifier", "site", "unit", "estimate", "source", "dataset"]


def _lines(csv: bytes) -> tuple[bytes, list[bytes]]:
    """The header and the sorted rows of a CSV (the rows' order aside)."""
    header, _, body = csv.partition(b"\n")
    return header, sorted(body.splitlines())


def test_the_route_streams_the_data_pages_figures(client, loaded_url):
    link = {"cities": "Aleppo", "metric": "Food price", "from": "2016-01", "to": "2016-12"}
    answer = client.get("/download/figures.csv?" + urlencode(link))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="situation_room.csv"' in answer.headers["content-disposition"]
    engine = make_engine(loaded_url)
    expected = query.series_frame(engine, [ALEPPO], "food_price")
    ends = pd.to_datetime(expected.period_end)
    starts = pd.to_datetime(expected.period_start)
    expected = expected[(ends >= "2016-01-01") & (starts <= "2016-12-31")].reset_index(drop=True)
    assert _lines(answer.content) == _lines(export.to_csv(expected))
    hxl = client.get("/download/figures_hxl.csv?" + urlencode(link))
    assert _lines(hxl.content) == _lines(export.to_hxl_csv(expected))
    assert hxl.content.split(b"\n")[1].startswith(b"#loc+name")
    engine.dispose()


def test_a_link_the_page_would_not_open_is_a_plain_400(client):
    assert client.get("/download/figures.csv?metric=unicorns").status_code == 400
    assert client.get("/download/figures.csv?as_of=yesterday-ish").status_code == 400
    assert client.get("/download/figures.csv?place=" + "x" * 5000).status_code == 400
    assert client.get("/download/secrets.txt").status_code == 404


def test_the_data_page_links_to_the_streamed_files_for_its_view(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = open_page("views/data.py", place="Aleppo", metric="Food price")
    links = {b.label: b.proto.url for b in at.get("link_button")}
    csv = links["Download CSV"]
    assert "/download/figures.csv?" in csv and "as_of=" in csv
    assert "place=Aleppo" in csv and "metric=Food+price" in csv
    assert "/download/figures_hxl.csv?" in links["Download HXL-tagged CSV"]


def _peak_streaming(engine, ids, pages: int | None) -> tuple[int, int]:
    """Peak Python allocations while writing the stream (stopping after `pages` pages when
    given) and the bytes written."""
    written = 0
    tracemalloc.start()
    stream = query.series_pages(engine, ids, "conflict_fatalities", rows=5_000)
    for i, chunk in enumerate(export.stream_csv(stream)):
        written += len(chunk)
        if pages is not None and i + 1 >= pages:
            break
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, written


def test_a_streamed_download_holds_one_page_in_memory(loaded_url):
    """Writing every conflict-deaths figure of the store (110,000 rows, ~60 MB of CSV) peaks
    no higher than writing its first three pages: memory follows the page, not the file."""
    engine = make_engine(loaded_url)
    ids = query.all_places(engine).place_id.tolist()
    peak_all, written_all = _peak_streaming(engine, ids, None)
    peak_three, written_three = _peak_streaming(engine, ids, 3)
    engine.dispose()
    assert written_all > 5 * written_three
    assert peak_all < 1.5 * peak_three, (peak_all, peak_three)
    assert peak_all < written_all  # the whole file was never held
