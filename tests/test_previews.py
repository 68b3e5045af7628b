"""Preview cards (web/previews.py): a page's link fetched with a link unfurler's User-Agent
gets Open Graph and Twitter tags naming the view, the newest figure (as the raw file has it)
and an `og:image` that is a PNG of that exact view; a browser gets the app; a private
instance's card names the view only; hostile links and Host headers print nothing of theirs
as markup or as a link elsewhere."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from data_sources.store.engine import make_engine
from devtools.sessions import chart_traces, open_view
from devtools.streamlit_server import running
from tests.conftest import ROOT
from tests.test_embeds import parsed
from tests.test_images import LINK, TITLE  # the same Trends view as the images' tests
from views.logic import figure_for
from web import access, middleware, previews, render, routes

SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
WHATSAPP = "WhatsApp/2.23.20.0 A"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BASE = "situation-room"
WFP_FILE = ROOT / "data_sources" / "snapshot" / "wfp_food_prices_syr.csv"


def meta(html: str) -> dict[str, str]:
    tags = parsed(html).tags
    return {
        (a.get("property") or a.get("name")): a.get("content", "")
        for t, a in tags
        if t == "meta" and (a.get("property") or a.get("name"))
    }


def newest_al_chaar_price() -> tuple[float, pd.Timestamp]:
    """From the raw WFP file, with pandas: Al-Cha'ar's newest retail wheat-flour price in SYP
    per kg, and its date."""
    raw = pd.read_csv(WFP_FILE, skiprows=[1])
    rows = raw[
        (raw.market == "Al-Cha'ar")
        & (raw.commodity == "Wheat flour")
        & (raw.unit == "KG")
        & (raw.currency == "SYP")
        & (raw.pricetype == "Retail")
    ]
    newest = rows[rows.date == rows.date.max()]
    assert len(newest) == 1
    return float(newest.price.iloc[0]), pd.Timestamp(newest.date.iloc[0])


def test_period_text_says_a_day_a_month_a_year_or_the_span():
    t = pd.Timestamp
    assert figure_for.period_text(t("2016-12-01"), t("2016-12-31")) == "Dec 2016"
    assert figure_for.period_text(t("2019-11-14"), t("2019-11-14")) == "14 Nov 2019"
    assert figure_for.period_text(t("2017-01-01"), t("2017-12-31")) == "2017"
    assert figure_for.period_text(t("2016-12-15"), t("2016-12-22")) == "15 Dec 2016 – 22 Dec 2016"


def test_latest_lines_give_published_figures_never_a_mean():
    """Two markets on the newest month: the line gives both ends, not their mean; an older
    month and a low estimate do not count."""
    rows = pd.DataFrame(
        {
            "city": ["Aleppo"] * 4,
            "site": ["East", "West", "East", "West"],
            "unit": ["SYP/KG"] * 4,
            "estimate": ["", "", "", "low"],
            "origin": ["wfp"] * 4,
            "period_start": pd.to_datetime(
                ["2016-12-01", "2016-12-01", "2016-11-01", "2016-12-01"]
            ),
            "period_end": pd.to_datetime(["2016-12-31", "2016-12-31", "2016-11-30", "2016-12-31"]),
            "value": [3500.0, 225.0, 9999.0, 1.0],
        }
    )
    rows.loc[3, "estimate"] = "low"
    rows = pd.concat([rows, rows.iloc[[3]].assign(estimate="best", value=225.0)])
    (line,) = figure_for.latest_lines(rows)
    assert line.startswith("Aleppo: 225 to 3,500 SYP/KG across 3 markets, Dec 2016")
    assert "1,862" not in line and "9,999" not in line and " 1 SYP" not in line


def test_unfurlers_are_told_from_browsers():
    assert previews.is_unfurler(SLACK) and previews.is_unfurler(WHATSAPP)
    assert previews.is_unfurler("facebookexternalhit/1.1") and previews.is_unfurler(
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5"
    )
    assert not previews.is_unfurler(CHROME) and not previews.is_unfurler("")


def test_a_shared_trends_link_unfurls_to_its_view_and_its_image(loaded_db, tmp_path):
    """Through the real server under a base path: the card's title names the view, its
    description has the raw file's newest price and date, its image is a PNG whose figures are
    the ones the page draws for the same link; a browser still gets the app."""
    if not Path(render.BROWSER).exists():
        pytest.skip("Debian chromium missing")
    db = tmp_path / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    price, day = newest_al_chaar_price()
    with running("serve.py", env, ("--server.baseUrlPath", BASE)) as server:
        root = f"{server.base}/{BASE}"
        link = f"{root}/trends?" + urlencode(LINK)
        answer = httpx.get(link, headers={"User-Agent": SLACK}, timeout=120)
        assert answer.status_code == 200, answer.text
        tags = meta(answer.text)
        assert tags["og:title"] == TITLE
        assert f"Aleppo: {price:,.0f} SYP/KG, {day:%b %Y}" in tags["og:description"]
        assert "Figures as of" in tags["og:description"]
        assert "(WFP food prices)" in tags["og:description"]
        assert tags["twitter:card"] == "summary_large_image"
        image = tags["og:image"]
        assert image.startswith(f"{root}/img/trends.png?")
        png = httpx.get(image, headers={"User-Agent": "Slack-ImgProxy"}, timeout=120)
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"

        # the image's figures are the page's: the view its link names, drawn from the store,
        # has the traces the live page sends for the shared link
        image_params = parse_qs(urlsplit(image).query)
        drawn = figure_for.view_for("trends", image_params, make_engine(env["DATABASE_URL"]))
        page = asyncio.run(open_view(link, timeout=None, base=BASE))
        assert page.status == "ok" and not page.errors, page.errors
        (spec,) = page.kinds("plotly_chart")
        image_traces = {str(t.name or ""): [float(y) for y in t.y] for t in drawn.figure.data}
        assert chart_traces(spec) == image_traces
        assert price in next(iter(image_traces.values()))

        # a browser gets the app's shell, not a card
        shell = httpx.get(link, headers={"User-Agent": CHROME}, timeout=60)
        assert shell.status_code == 200 and "og:title" not in shell.text
        assert '<div id="root">' in shell.text
        # every page answers an unfurler with its own card
        for path in ("", "/map?cities=Mosul", "/data", "/compare"):
            card = httpx.get(f"{root}{path}", headers={"User-Agent": WHATSAPP}, timeout=120)
            assert card.status_code == 200 and meta(card.text)["og:title"], path
            assert meta(card.text)["og:site_name"] == "Situation Room"


@pytest.fixture
def app(loaded_db, tmp_path, monkeypatch):
    """The middleware stack over a stand-in for Streamlit's shell, on a copy of the loaded
    SQLite store (the cards' queries are the pages' own, tested on both stores elsewhere)."""
    shutil.copyfile(loaded_db, tmp_path / "store.sqlite")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    previews.CARDS = previews.ImageCache(size=8)

    def shell(request):
        return PlainTextResponse("the app's shell")

    pages = [Route("/{path:path}", shell)]
    return Starlette(routes=[*routes.mounted(""), *pages], middleware=middleware.stack())


def test_a_private_instance_card_names_the_view_but_shows_no_figure(app, monkeypatch):
    monkeypatch.setattr(access, "auth_configured", lambda: True)
    price, _ = newest_al_chaar_price()
    with TestClient(app) as client:
        answer = client.get("/trends?" + urlencode(LINK), headers={"User-Agent": SLACK})
        tags = meta(answer.text)
        assert tags["og:title"] == TITLE
        assert "og:image" not in tags and "sign in" in tags["og:description"]
        assert f"{price:,.0f}" not in answer.text
        # and its image stays behind sign-in
        assert client.get("/img/trends.png?" + urlencode(LINK)).status_code == 401


def test_hostile_links_and_hosts_print_nothing_of_theirs(app):
    with TestClient(app) as client:
        hostile = {**LINK, "cities": '<script>alert(1)</script>"'}
        answer = client.get("/trends?" + urlencode(hostile), headers={"User-Agent": SLACK})
        assert answer.status_code == 200 and "<script>" not in answer.text
        assert meta(answer.text)["og:title"] == "Trends — Situation Room"
        # a Host header that is no host gives no links at all
        bad_host = client.get(
            "/trends?" + urlencode(LINK),
            headers={"User-Agent": SLACK, "Host": 'evil.example"><script>'},
        )
        tags = meta(bad_host.text)
        assert "og:image" not in tags and "og:url" not in tags and "evil" not in bad_host.text
        # another well-formed host gets links to itself only: cards are cached per origin
        other = client.get(
            "/trends?" + urlencode(LINK), headers={"User-Agent": SLACK, "Host": "b.example"}
        )
        assert meta(other.text)["og:image"].startswith("http://b.example/img/trends.png?")
        first = client.get("/trends?" + urlencode(LINK), headers={"User-Agent": SLACK})
        assert meta(first.text)["og:image"].startswith("http://testserver/img/")
        # paths that are no page, and non-GET requests, reach the app untouched
        assert client.get("/nope", headers={"User-Agent": SLACK}).text == "the app's shell"
        head = client.head("/trends", headers={"User-Agent": SLACK})
        assert head.status_code == 200 and head.text == ""


def test_public_url_sets_the_cards_links(app, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://sitroom.example.org/situation-room/")
    with TestClient(app) as client:
        tags = meta(client.get("/compare", headers={"User-Agent": SLACK}).text)
        assert tags["og:url"].startswith("https://sitroom.example.org/situation-room/compare?")
        assert tags["og:image"].startswith("https://sitroom.example.org/situation-room/img/")
