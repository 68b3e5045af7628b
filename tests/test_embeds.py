"""Embeds (`/embed/<page>`): a static page holding the chart, its citation and a link back to
the live view pinned to the same figures; nothing loaded from elsewhere, no websocket, no
cookie; in Chromium it draws the page's traces; through the real server under a base path."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from data_sources.store import asof, query
from data_sources.store.engine import make_engine
from devtools.streamlit_server import running
from tests.test_browser import CHROMIUM
from views.logic import figure_for
from web import routes

LINK = {"cities": "Aleppo", "metric": "Food price", "unit": "SYP/KG", "period": "month"}
WFP = "WFP food prices: World Food Programme, VAM food prices (HDX) — CC BY-IGO"
BASE = "situation-room"


class Tags(HTMLParser):
    """Every tag's attributes, and the page's text outside scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


@pytest.fixture
def client(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    return TestClient(Starlette(routes=routes.mounted("")))


def test_an_embed_is_self_contained_cited_and_pinned(client, loaded_url):
    answer = client.get("/embed/trends?" + urlencode(LINK))
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert "connect-src" not in answer.headers["content-security-policy"]  # default 'none'
    page = parsed(answer.text)
    sources = [a["src"] for t, a in page.tags if t == "script" and "src" in a]
    assert sources == ["plotly.min.js"]  # served by us, beside the embed
    assert not [a for t, a in page.tags if t in ("link", "img", "iframe")]
    text = " ".join(page.text)
    moment = query.newest_retrieval(make_engine(loaded_url))
    assert WFP in text and f"Figures as of {asof.describe(moment)}" in text
    live = [a["href"] for t, a in page.tags if t == "a" and a.get("class") == "live"][0]
    assert live.startswith("../trends?")
    params = parse_qs(urlsplit(live).query)
    assert params["as_of"] == [asof.format_as_of(moment)]
    assert params["cities"] == ["Aleppo"] and params["metric"] == ["Food price"]
    js = client.get("/embed/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")


def test_an_embed_escapes_the_link_and_refuses_hostile_values(client):
    bad = client.get("/embed/trends?metric=%3Cscript%3Ealert(1)%3C/script%3E")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/plain")
    assert client.get("/embed/nowhere").status_code == 400
    view = client.get("/embed/trends?" + urlencode({**LINK, "as_of": "2016-12-16"}))
    # the pinned moment is the link's, clamped to the store's first retrieval at most
    assert view.status_code == 200 and "<script>alert" not in view.text


def test_the_embed_html_escapes_store_text(loaded_url):
    from web import embeds

    view = figure_for.view_for("trends", {k: [v] for k, v in LINK.items()}, make_engine(loaded_url))
    view.sources = [figure_for.SourceRef("<b>x</b>", "https://e.org/?a=1&b=<2>", "c", "l")]
    view.title = "</title><script>alert(1)</script>"
    html = embeds.page_html(view)
    assert "<script>alert(1)" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.browser
@pytest.mark.skipif(not shutil.os.path.exists(CHROMIUM), reason="Debian chromium missing")
def test_the_real_server_serves_images_and_embeds_under_its_base_path(loaded_db, tmp_path, browser):
    db = tmp_path / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    expected = figure_for.view_for(
        "trends", {k: [v] for k, v in LINK.items()}, make_engine(env["DATABASE_URL"])
    )
    with running("serve.py", env, ("--server.baseUrlPath", BASE)) as server:
        root = f"{server.base}/{BASE}"
        png = httpx.get(f"{root}/img/trends.png?" + urlencode(LINK), timeout=60)
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        url = f"{root}/embed/trends?" + urlencode(LINK)
        context = browser.new_context()
        page = context.new_page()
        sockets, elsewhere = [], []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.on(
            "request",
            lambda r: None if r.url.startswith(server.base) else elsewhere.append(r.url),
        )
        page.goto(url)
        page.wait_for_selector(".plot-container svg.main-svg")
        drawn = page.locator(".scatterlayer .trace").count()
        assert drawn == len(expected.figure.data) >= 1
        assert WFP in page.locator("footer.citation").inner_text()
        live = page.locator("a.live").get_attribute("href")
        assert urljoin(url, live).startswith(f"{root}/trends?")
        assert sockets == [] and elsewhere == [] and context.cookies() == []
        context.close()
        # the live view the embed links to is the page itself
        assert httpx.get(urljoin(url, live), timeout=30).status_code == 200
