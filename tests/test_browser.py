"""The dashboard in a real headless Chromium (Debian's), against a real server on 127.0.0.1.

Screenshots of every page are kept in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from devtools.streamlit_server import free_port, running

from .conftest import BACKENDS, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing"),
]


@contextmanager
def streamlit_server(env: dict[str, str], args: tuple[str, ...] = ()):
    """`streamlit run serve.py` on a free port of 127.0.0.1 with `env` (and extra Streamlit
    options `args`, e.g. `--secrets.files`); yields its base URL."""
    with running("serve.py", env, args) as started:
        yield started.base


@pytest.fixture(scope="module")
def server(loaded_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    with streamlit_server({"DATABASE_URL": f"sqlite:///{db}"}) as base:
        yield base


@pytest.fixture(scope="module", params=BACKENDS)
def site(request):
    """The server on each backend: SQLite's is `server`; PostgreSQL's serves a private copy of
    the loaded snapshot database. Only the every-page test runs on both (each browser test
    costs seconds; the pages' other behaviour is the same code, covered on both by AppTest)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("server")
        return
    url = request.getfixturevalue("pg_server").new_database(
        template=request.getfixturevalue("pg_snapshot_template")
    )
    with streamlit_server({"DATABASE_URL": url}) as base:
        yield base


def open_page(browser, url: str, shot: str, charts: int):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=60_000)
    if charts:
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
            timeout=60_000,
        )
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    return page


@pytest.mark.parametrize(
    "path,title,charts",
    [
        ("/", "Overview", 1),
        ("/trends", "Trends", 1),
        ("/compare", "Compare sources", 1),
        ("/map", "Map", 1),
        ("/data", "Data", 0),
    ],
)
def test_every_page_draws_without_exception(site, browser, path, title, charts):
    page = open_page(browser, site + path, title.lower().replace(" ", "_"), charts)
    assert page.locator("h1").first.inner_text() == title
    assert page.locator("[data-testid='stException']").count() == 0
    if charts:
        # a drawn plotly chart has at least one trace group with points or lines in its svg
        assert (
            page.locator(
                ".js-plotly-plot .scatterlayer .trace, .js-plotly-plot .scattergeo"
            ).count()
            >= 1
        )
    page.close()


def test_deep_link_reopens_the_same_view(server, browser):
    url = (
        server + "/trends?cities=Homs,Aleppo&metric=food_price&qualifier=Rice%2C%20retail"
        "&unit=USD%2FKG&period=year"
    )
    page = open_page(browser, url, "deep_link_trends", 1)
    legend = [t.text_content() for t in page.locator(".js-plotly-plot .legendtext").all()]
    # one line per market, named "City · market": both cities drawn
    assert sorted({name.split(" · ")[0] for name in legend}) == ["Aleppo", "Homs"]
    assert page.get_by_role("radio", name="year").is_checked()
    assert "Rice, retail" in page.locator("[data-testid='stMainBlockContainer']").inner_text()
    page.close()


def test_overview_link_reopens_the_overview(server, browser):
    page = open_page(browser, server + "/overview?cities=Homs", "overview_link", 1)
    assert page.locator("h1").first.inner_text() == "Overview"
    assert "Homs (SYR)" in page.locator("[data-testid='stMainBlockContainer']").inner_text()
    assert "Page not found" not in page.content()
    page.close()


def test_unknown_city_in_a_link_is_a_message(server, browser):
    page = open_page(browser, server + "/trends?cities=Atlantis,Aleppo", "unknown_city", 1)
    text = page.locator("[data-testid='stAlert']").first.inner_text()
    assert "Unknown city “Atlantis”" in text
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_zip_download_holds_figures_and_sources(server, browser, tmp_path):
    import zipfile

    page = open_page(browser, server + "/data?place=region%3Airaq-and-syria", "data_region", 0)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download ZIP (CSV, HXL, README of sources)").click()
    path = tmp_path / "export.zip"
    info.value.save_as(path)
    archive = zipfile.ZipFile(path)
    assert sorted(archive.namelist()) == ["README.md", "figures.csv", "figures_hxl.csv"]
    csv_text = archive.read("figures.csv").decode()
    assert "Airwars" in csv_text and "US Department of Defense" in csv_text
    assert archive.read("figures_hxl.csv").decode().splitlines()[1].startswith("#loc+name")
    page.close()


def test_unreachable_database_is_a_plain_message_in_the_browser(browser):
    # what a reader sees when the host got DATABASE_URL wrong: the message, not a traceback
    password = "s3cret-pw-never-shown"
    url = f"postgresql+psycopg://situation:{password}@127.0.0.1:{free_port()}/store"
    with streamlit_server({"DATABASE_URL": url}) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base + "/trends")
        alert = page.locator("[data-testid='stAlert']").first
        alert.wait_for(timeout=60_000)
        text = " ".join(alert.inner_text().split())
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("Situation Room shows figures").wait_for(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "store_unreachable.png"), full_page=True)
        assert "Cannot reach the database at postgresql+psycopg://situation:***@127.0.0.1:" in text
        assert "(connection refused)" in text
        assert password not in page.content()
        assert page.locator("[data-testid='stException']").count() == 0
        # navigation still there: the host can see the app itself is up
        assert page.get_by_role("link", name="Compare sources").count() >= 1
        page.close()
