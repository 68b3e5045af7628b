"""Chart images (`/img/<page>.png|svg|pdf`): the picture a page draws for its link, with its
title, as-of moment and every source's citation and licence drawn on it; hostile links are
a 400 in plain words; images are cached per view and data version, boundedly."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from data_sources.store import query
from data_sources.store.engine import make_engine
from views.logic import figure_for
from web import images, render, routes

pytestmark = pytest.mark.skipif(
    not shutil.os.path.exists(render.BROWSER), reason="Debian chromium missing"
)

LINK = {
    "cities": "Aleppo",
    "metric": "Food price",
    "qualifier": "Wheat flour, retail",
    "unit": "SYP/KG",
    "market": "Al-Cha'ar",
    "period": "month",
}
WFP = "WFP food prices: World Food Programme, VAM food prices (HDX) — CC BY-IGO"
TITLE = "Aleppo — Wheat flour, retail at Al-Cha'ar, SYP/KG, monthly"


@pytest.fixture
def client(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    images.CACHE = images.ImageCache()
    return TestClient(Starlette(routes=routes.mounted("")))


def test_png_svg_and_pdf_of_a_trend_hold_its_title_moment_and_citation(client, loaded_url):
    moment = query.newest_retrieval(make_engine(loaded_url))
    pdf = client.get("/img/trends.pdf?" + urlencode(LINK))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert TITLE in text and WFP in text
    assert f"Figures as of {moment:%Y-%m-%d %H:%M:%S}" in text

    svg = client.get("/img/trends.svg?" + urlencode(LINK))
    assert svg.headers["content-type"].startswith("image/svg+xml")
    drawn = " ".join(ET.fromstring(svg.content).itertext())
    assert TITLE in drawn and WFP in drawn

    png = client.get("/img/trends.png?" + urlencode(LINK))
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.content[16:24])  # the IHDR chunk
    assert (width, height) == (1000, figure_for.printed(_view(loaded_url)).layout.height)


def _view(url: str) -> figure_for.LinkedView:
    return figure_for.view_for("trends", {k: [v] for k, v in LINK.items()}, make_engine(url))


def test_the_image_draws_the_stores_figures(loaded_url):
    """The drawn line is the store's series (one figure per month, as the page draws it)."""
    view = _view(loaded_url)
    store = query.series_frame(
        make_engine(loaded_url),
        ["geonames:170063"],
        "food_price",
        qualifier="Wheat flour, retail",
        site="Al-Cha'ar",
        unit="SYP/KG",
    )
    line = [t for t in figure_for.printed(view).data if t.name == "Aleppo"]
    assert list(line[0].y) == store.value.tolist() and 3500.0 in line[0].y
    assert view.sources == [
        figure_for.SourceRef(
            "WFP food prices",
            "https://data.humdata.org/organization/wfp",
            "World Food Programme, VAM food prices (HDX)",
            "CC BY-IGO",
        )
    ]


def test_a_compare_image_cites_each_publisher(client):
    pdf = client.get("/img/compare.pdf?place=Iraq+and+Syria&metric=Civilians+killed")
    assert pdf.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Airwars:" in text and "US Department of Defense:" in text


@pytest.mark.parametrize(
    "path",
    [
        "/img/trends.png?metric=%3Cscript%3Ealert(1)%3C/script%3E",
        "/img/trends.png?as_of=not-a-date",
        "/img/trends.png?cities=Nowhere",
        "/img/trends.png?cumulative=2",
        "/img/trends.png?unit=" + "x" * 5000,
        "/img/trends.gif",
        "/img/settings.png",
        "/img/%3Cb%3Etrends.png",
        "/img/compare.svg?place=%00%E2%80%AE",
    ],
)
def test_a_hostile_link_is_a_400_in_plain_words(client, path):
    answer = client.get(path)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in answer.text and "<script>" not in answer.text.replace("“<", "")


def test_text_from_the_store_is_escaped_for_plotly(loaded_url):
    view = _view(loaded_url)
    view.sources = [figure_for.SourceRef("<b>Evil</b> & co", None, "$x$ <a href=x>", "CC")]
    view.title = "<img src=x onerror=alert(1)>"
    fig = figure_for.printed(view)
    note = fig.layout.annotations[-1].text
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in note and "<a href" not in note
    assert "&#36;x&#36;" in note
    assert fig.layout.title.text == "&lt;img src=x onerror=alert(1)&gt;"


def test_one_view_is_rendered_once_per_data_version(client, monkeypatch):
    calls = []
    real = render.render
    monkeypatch.setattr(render, "render", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    first = client.get("/img/trends.svg?" + urlencode(LINK))
    # the same view by another spelling (an old link's codes): the same image, not drawn again
    old = {**LINK, "metric": "food_price"}
    again = client.get("/img/trends.svg?" + urlencode(old))
    assert first.content == again.content and calls == ["svg"]
    # the same link again: answered from the cache before any query
    views = []
    real_view = figure_for.view_for
    monkeypatch.setattr(figure_for, "view_for", lambda *a: views.append(a) or real_view(*a))
    assert client.get("/img/trends.svg?" + urlencode(old)).content == first.content
    assert views == [] and calls == ["svg"]


def test_the_cache_is_bounded():
    cache = images.ImageCache(size=3)
    for i in range(10):
        cache.put(("trends", i), b"x")
    assert len(cache) == 3 and cache.get(("trends", 0)) is None
    assert cache.get(("trends", 9)) == b"x"


def test_a_pages_link_gives_the_image_and_embed_addresses_beside_it():
    from views import view_link

    root, query_text = view_link.chart_addresses(
        "https://example.org/situation-room/trends?cities=Aleppo&as_of=2026-12-01"
    )
    assert root == "https://example.org/situation-room"
    assert query_text == "cities=Aleppo&as_of=2026-12-01"
    # the default page is the root itself, under a base path or not; its old alias too
    for home in ("https://example.org/situation-room/", "https://example.org/situation-room",
                 "https://example.org/situation-room/overview"):  # fmt: skip
        assert view_link.chart_addresses(home + "?cities=Aleppo")[0] == root, home
    assert view_link.chart_addresses("http://127.0.0.1:8501/?x=1")[0] == "http://127.0.0.1:8501"
    snippet = view_link.embed_snippet(f'{root}/embed/trends?a="><script>&b=1')
    assert "<script>" not in snippet and "&quot;&gt;&lt;script&gt;&amp;b=1" in snippet


@pytest.mark.parametrize(
    "page,link",
    [
        ("trends", {**LINK, "market": "each market"}),
        ("compare", {"place": "Iraq and Syria", "metric": "Civilians killed"}),
    ],
)
def test_a_page_links_its_images_and_they_draw_its_figure(loaded_url, monkeypatch, page, link):
    """The page's PNG/SVG/PDF links name the view on screen, and the image's traces are the
    page's own (the same link read by the page's controls and by `figure_for`)."""
    import json
    from urllib.parse import parse_qs, urlsplit

    from tests.apptest import open_page
    from views.pages import PAGES

    monkeypatch.setenv("DATABASE_URL", loaded_url)
    spec = next(p for p in PAGES if p.url_path == page)
    at = open_page(spec.script, **link)
    assert not at.exception
    buttons = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert sorted(buttons) == ["PDF", "PNG", "SVG"]
    png = urlsplit(buttons["PNG"])
    assert png.path.endswith(f"/img/{page}.png")
    params = parse_qs(png.query)
    assert params["as_of"] and all(params[k] == [v] for k, v in link.items())
    assert any(f"/embed/{page}?" in c.proto.code_text for c in at.get("code"))
    drawn_on_page = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    view = figure_for.view_for(page, params, make_engine(loaded_url))
    drawn = view.figure.to_plotly_json()["data"]
    assert [t["name"] for t in drawn_on_page] == [t["name"] for t in drawn]
    assert len(drawn_on_page) == len(drawn) >= 2
    for ours, theirs in zip(drawn, drawn_on_page, strict=True):
        assert _plain(ours["y"]) == _plain(theirs["y"])


def _plain(value):
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        value = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    # a gap in a line is NaN in one spelling and null in the other: both "no value"
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in value]


def test_the_renderer_loads_nothing_from_the_network():
    """kaleido's page, as render.py opens it (MathJax off): plotly.js and kaleido's script
    from local files only, never a CDN."""
    import re

    from kaleido import PageGenerator

    page = PageGenerator(mathjax=False).generate_index()
    sources = re.findall(r'src="([^"]+)"', page)
    assert sources and all(s.startswith("file:///") for s in sources)
    assert "http" not in " ".join(re.findall(r"<script[^>]*>", page))
