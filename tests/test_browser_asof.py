"""The pinned link in a real Chromium: copied from the page, a revision imported, the link
reopened shows the figures as they were, with the as-of banner (issue 13).

The figure is OCHA's 685 civilians wounded in Mosul, 5–11 December 2016 (bundled in
reported_figures.csv); its correction to 700 is SYNTHETIC (see tests/test_asof.py)."""

from __future__ import annotations

import pytest

from data_sources import cli

from .test_asof import SHEET, WEEK
from .test_browser import ARTIFACTS, streamlit_server

pytestmark = pytest.mark.browser

VIEW = "/trends?cities=Mosul&metric=civilians_injured&source=ocha&period=week"
Y = (
    "Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(p => p._fullData || [])"
    ".filter(t => t.name === 'Mosul').flatMap(t => Array.from(t.y || []))"
)


def _import(path, value: int) -> None:
    path.write_text(SHEET + WEEK.format(value))
    assert cli.main(["import", str(path), "--country", "IRQ", "--source", "ocha"]) == 0


def _open(browser, url: str):  # noqa: F811 - the fixture
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function(f"({Y}).length > 0", timeout=60_000)
    page.wait_for_timeout(500)
    return page


def test_pinned_link_shows_the_figures_it_was_copied_with(
    loaded_url,
    tmp_path,
    monkeypatch,
    browser,  # noqa: F811 - the fixture
):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    sheet = tmp_path / "ocha_mosul.csv"
    _import(sheet, 685)
    with streamlit_server({"DATABASE_URL": loaded_url}) as base:
        page = _open(browser, base + VIEW)
        assert page.evaluate(Y) == [685]
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("Copy link to this exact view").click()
        code = sidebar.locator("[data-testid='stCode'] code").first
        code.wait_for(timeout=30_000)
        pinned = code.inner_text().strip()
        assert pinned.startswith(base + "/trends?") and "as_of=" in pinned
        assert "cities=Mosul" in pinned and "source=ocha" in pinned
        page.close()

        _import(sheet, 700)  # the correction, stored by another process

        latest = _open(browser, base + VIEW)
        latest.wait_for_function(f"({Y})[0] === 700", timeout=60_000)
        latest.close()

        again = _open(browser, pinned)
        assert again.evaluate(Y) == [685]
        banner = again.locator("[data-testid='stAlert']").filter(has_text="As of").first
        text = " ".join(banner.inner_text().split())
        assert "the figures the store held then" in text
        assert "1 figure has changed since" in text
        ARTIFACTS.mkdir(exist_ok=True)
        again.screenshot(path=str(ARTIFACTS / "as_of_pinned_link.png"), full_page=True)
        # and the way back to the latest figures
        again.get_by_role("button", name="See the latest").click()
        again.wait_for_function(f"({Y})[0] === 700", timeout=60_000)
        assert "as_of=" not in again.url
        again.close()
