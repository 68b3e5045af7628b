"""The Overview, Map and Data pages have a picture too (`/img/home|map|data.png|svg|pdf`, the
embed and the preview card's `og:image`): what each draws is the page's own figures, checked
here against the store read independently (pandas on `query.series_frame`, not the code that
draws), on both stores; and a private embed's key opens its one view only."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from data_sources.store import query
from data_sources.store.engine import make_engine
from views.logic import figure_for
from views.logic import overview as overview_logic
from web import embed_keys, embeds, images, middleware, previews, render, routes, tokens

MOSUL, ALEPPO = "geonames:99072", "geonames:170063"
MAP_LINK = {
    "metric": "Conflict fatalities",
    "qualifier": "(total)",
    "unit": "people",
    "month": "2016-11",
}
SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
needs_chromium = pytest.mark.skipif(
    not shutil.os.path.exists(render.BROWSER), reason="Debian chromium missing"
)


def _view(page: str, link: dict, url: str) -> figure_for.LinkedView:
    return figure_for.view_for(page, {k: [v] for k, v in link.items()}, make_engine(url))


def _ucdp_best(engine, place_id: str, month: str) -> float:
    """UCDP's best estimates of events in the place and month, summed (events are counted
    once each; low and high are other estimates of the same deaths, never added)."""
    rows = query.series_frame(engine, [place_id], "conflict_fatalities", sources=["ucdp"])
    rows = rows[(rows.estimate == "best") & (rows.qualifier == "") & (rows.unit == "people")]
    at = pd.to_datetime(rows.period_end).dt.to_period("M") == pd.Period(month)
    return float(rows[at].value.sum())


def test_the_map_picture_draws_each_places_best_estimate(loaded_url):
    """Mosul in November 2016: 521 (UCDP's best), never the mean of best, low and high."""
    view = _view("map", MAP_LINK, loaded_url)
    trace = view.figure.data[0]
    drawn = {str(row[0]): float(row[1]) for row in trace.customdata}
    engine = make_engine(loaded_url)
    assert drawn["Mosul"] == _ucdp_best(engine, MOSUL, "2016-11") == 521
    assert drawn["Aleppo"] == _ucdp_best(engine, ALEPPO, "2016-11")
    assert "November 2016" in view.title and "UCDP" in view.title
    assert view.params["month"] == ["2016-11"] and view.params["as_of"]
    assert any(line.startswith("Mosul: 521 people, November 2016") for line in view.latest)
    # the largest bubbles are named; every bubble's hover names its place
    named = [t for t in trace.text if t]
    assert "Mosul" in named and 0 < len(named) <= 12 < len(trace.text)


def test_the_overview_picture_holds_the_cards_the_page_shows(loaded_url):
    """Every headline card of each chosen city, as the page prints it (its value, change,
    date and source), and the civilians-killed range Mosul's card gives."""
    view = _view("home", {"cities": "Mosul,Aleppo"}, loaded_url)
    table = view.figure.data[0]
    cities, labels, values = (list(c) for c in table.cells["values"][:3])
    engine = make_engine(loaded_url)
    for place_id, name in ((MOSUL, "Mosul"), (ALEPPO, "Aleppo")):
        cards = overview_logic.city_view_from_store(engine, place_id, None).headlines
        mine = [(lab, val) for c, lab, val in zip(cities, labels, values, strict=True) if c == name]
        assert mine == [(c.label, f"<b>{c.value}</b>") for c in cards]
    # checked against the stored reports themselves: AP's 9,000–11,000 (low and high)
    said = query.series_frame(engine, [MOSUL], "civilians_killed", sources=["reported"])
    ap = said[said.origin == "Associated Press"]
    low, high = ap[ap.estimate == "low"].value.max(), ap[ap.estimate == "high"].value.max()
    assert f"<b>{low:,.0f}–{high:,.0f}</b>" in values
    assert view.title == "Mosul, Aleppo — latest figures"
    assert len(view.figure.data) > 1  # the deaths-per-month chart under the cards


def test_the_data_picture_is_the_pages_first_rows_and_count(loaded_url):
    link = {"place": "Aleppo", "metric": "Food price", "source": "wfp"}
    view = _view("data", link, loaded_url)
    engine = make_engine(loaded_url)
    every = query.series_frame(engine, [ALEPPO], "food_price", sources=["wfp"])
    assert f"{len(every):,} figures" in view.title
    table = view.figure.data[0]
    shown = list(table.cells["values"][5])  # the value column, as the page's table orders it
    # the page's table: its first SHOWN_ROWS figures, their first rows
    page = query.series_frame(engine, [ALEPPO], "food_price", sources=["wfp"], limit=5_000)
    first = page.head(len(shown))
    assert len(shown) == 14 and shown == [_printed(v) for v in first.value]
    assert set(table.cells["values"][0]) == {"Aleppo"}


def _printed(value: float) -> str:
    """A value as the page's tables print it: separators, two decimals at most."""
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def test_a_choice_the_page_does_not_offer_is_refused_not_replaced(loaded_url):
    for page, link in (
        ("map", {**MAP_LINK, "month": "2099-01"}),
        ("map", {**MAP_LINK, "metric": "Nonsense"}),
        ("data", {"place": "Atlantis"}),
        ("home", {"cities": "Nowhere"}),
    ):
        with pytest.raises(figure_for.LinkError):
            _view(page, link, loaded_url)


@pytest.fixture
def app(loaded_db, tmp_path, monkeypatch):
    shutil.copyfile(loaded_db, tmp_path / "store.sqlite")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    previews.CARDS = previews.ImageCache(size=8)
    images.CACHE = images.ImageCache()
    embeds.PAGES = images.ImageCache()
    shell = [Route("/{path:path}", lambda request: PlainTextResponse("the app's shell"))]
    return Starlette(routes=[*routes.mounted(""), *shell], middleware=middleware.stack()), url


@needs_chromium
def test_the_map_image_has_its_world_outline_and_the_card_points_at_it(app):
    """Rendered offline: the outline comes from the app's own topojson, not a CDN."""
    starlette_app, _ = app
    with TestClient(starlette_app) as client:
        svg = client.get("/img/map.svg?" + urlencode(MAP_LINK))
        assert svg.status_code == 200, svg.text
        tree = ET.fromstring(svg.content)
        ns = "{http://www.w3.org/2000/svg}"
        outlines = [
            p.get("d") or ""
            for g in tree.iter(f"{ns}g")
            if "countries" in (g.get("class") or "")
            for p in g.iter(f"{ns}path")
        ]
        assert sum(len(d) for d in outlines) > 1000, "no country borders drawn"
        assert "UCDP" in " ".join(tree.itertext())
        for path in ("/map?" + urlencode(MAP_LINK), "/?cities=Mosul", "/data?place=Aleppo"):
            card = client.get(path, headers={"User-Agent": SLACK})
            image = previews_meta(card.text)["og:image"]
            page = "home" if path.startswith("/?") else path[1:].split("?")[0]
            assert f"/img/{page}.png?" in image, (path, image)
            png = client.get(image.replace("http://testserver", ""))
            assert png.status_code == 200 and png.content[:4] == b"\x89PNG", path


def previews_meta(html: str) -> dict[str, str]:
    from tests.test_previews import meta

    return meta(html)


def test_an_embed_is_served_from_its_cache_until_the_figures_change(app, monkeypatch):
    starlette_app, url = app
    calls = []
    real = figure_for.view_for
    monkeypatch.setattr(figure_for, "view_for", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    with TestClient(starlette_app) as client:
        first = client.get("/embed/map?" + urlencode(MAP_LINK))
        again = client.get("/embed/map?" + urlencode(MAP_LINK))
        assert first.status_code == again.status_code == 200 and first.text == again.text
        assert calls == ["map"]
        monkeypatch.setattr(embeds.store, "cache_version", lambda: "a newer load")
        client.get("/embed/map?" + urlencode(MAP_LINK))
        assert calls == ["map", "map"]


SECRET = "a-test-cookie-secret"


def test_an_embed_key_opens_its_view_only_and_dies_with_its_token(empty_engine, monkeypatch):
    engine = empty_engine
    monkeypatch.setattr(embed_keys, "secret", lambda: SECRET.encode())
    params = {"cities": ["Aleppo"], "metric": ["Food price"], "as_of": ["2026-11-30"]}
    key = embed_keys.make(engine, "viewer@partner.example", "viewer", "trends", params)
    signed = {**params, "key": [key]}
    assert embed_keys.role_for_key(engine, "trends", signed) == "viewer"
    # the parameters in another order are the same view
    assert embed_keys.role_for_key(engine, "trends", dict(reversed(signed.items()))) == "viewer"
    for page, other in (
        ("trends", {**signed, "cities": ["Mosul"]}),
        ("trends", {**signed, "as_of": ["2026-12-01"]}),
        ("trends", {**signed, "extra": ["1"]}),
        ("compare", signed),
        ("trends", {**signed, "key": [key[:-1] + ("0" if key[-1] != "0" else "1")]}),
        ("trends", {**signed, "key": ["not a key"]}),
        ("trends", {**signed, "key": [key, key]}),
        ("trends", params),
    ):
        assert embed_keys.role_for_key(engine, page, other) is None, (page, other)
    monkeypatch.setattr(embed_keys, "secret", lambda: b"another instance's secret")
    assert embed_keys.role_for_key(engine, "trends", signed) is None
    monkeypatch.setattr(embed_keys, "secret", lambda: SECRET.encode())
    made = tokens.list_for(engine, "viewer@partner.example")
    assert [t["label"] for t in made] == [
        "embed: trends as_of=2026-11-30&cities=Aleppo&metric=Food+price"
    ]
    tokens.revoke(engine, "viewer@partner.example", made[0]["token_hash"])
    assert embed_keys.role_for_key(engine, "trends", signed) is None


def test_no_secret_no_key(empty_engine, monkeypatch):
    def missing():
        raise embed_keys.NoSecret("no [auth] cookie_secret")

    monkeypatch.setattr(embed_keys, "secret", missing)
    engine = empty_engine
    with pytest.raises(embed_keys.NoSecret):
        embed_keys.make(engine, "viewer@partner.example", "viewer", "trends", {})
    assert tokens.list_for(engine, "viewer@partner.example") == []
    assert embed_keys.role_for_key(engine, "trends", {"key": ["0" * 16 + "." + "0" * 64]}) is None


def test_every_registered_page_has_a_picture_of_its_default_view(loaded_url):
    """Read from the page registry: a new page without a picture fails here."""
    from views import pages

    assert set(figure_for.PAGES) == {p.url_path for p in pages.PAGES}
    engine = make_engine(loaded_url)
    for page in pages.PAGES:
        view = figure_for.view_for(page.url_path, {}, engine)
        assert view.page == page.url_path and view.figure.data, page
        assert view.sources and view.as_of is not None and view.latest, page


def test_every_price_is_offered_per_market_by_the_metric_registry(loaded_url):
    """The market choice follows the registry (`Metric.by_market`), not one metric's name:
    Aleppo's diesel, quoted in three markets, is drawn market by market and can be narrowed to
    one, as wheat flour is; a count has no market choice."""
    from data_sources.model.metrics import METRICS

    engine = make_engine(loaded_url)
    link = {"cities": "Aleppo", "metric": "Fuel price", "qualifier": "Fuel (diesel), retail"}
    link["unit"] = "SYP/L"
    view = _view("trends", link, loaded_url)
    stored = query.series_frame(
        engine, [ALEPPO], "fuel_price", qualifier="Fuel (diesel), retail", unit="SYP/L"
    )
    markets = sorted(stored.site.unique())
    assert len(markets) > 1 and view.params["market"] == ["each market"]
    assert len(view.figure.data) == len(markets)
    one = _view("trends", {**link, "market": markets[0]}, loaded_url)
    assert markets[0] in one.title and len(one.figure.data) == 1
    assert METRICS["fuel_price"].by_market and not METRICS["civilians_killed"].by_market
    deaths = _view("trends", {"cities": "Mosul", "metric": "Civilians killed"}, loaded_url)
    assert "market" not in deaths.params
