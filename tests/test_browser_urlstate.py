"""The URL as Streamlit's bound widgets keep it, in a real Chromium against a real server:
changing a control changes the address, reopening the address restores the control and its
chart, and a link of the old form is rewritten to today's form and opens the same view."""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, open_page, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.os.path.exists(CHROMIUM), reason="Debian chromium missing"),
]


@pytest.fixture(scope="module")
def base(loaded_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("urlstate") / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    with streamlit_server({"DATABASE_URL": f"sqlite:///{db}"}) as url:
        yield url


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def legend(page) -> list[str]:
    return sorted(t.text_content() for t in page.locator(".js-plotly-plot .legendtext").all())


def cities_drawn(names: list[str]) -> list[str]:
    """The cities of the lines drawn: one line per market, each named "City · market"."""
    return sorted({name.split(" · ")[0] for name in names})


def test_a_changed_control_is_in_the_address_and_reopening_it_restores_the_view(base, chromium):
    page = open_page(chromium, base + "/trends?cities=Homs", "urlstate_before", 1)
    assert params(page.url) == {"cities": ["Homs"]}  # every other control at its default
    page.get_by_text("year", exact=True).click()
    page.wait_for_function("location.search.includes('period=year')", timeout=30_000)
    page.get_by_text("Show earlier revisions (faint)").click()
    page.wait_for_function("location.search.includes('revisions=true')", timeout=30_000)
    page.wait_for_timeout(1500)  # the rerun draws the chart of the new choice
    address, drawn = page.url, legend(page)
    assert params(address) == {"cities": ["Homs"], "period": ["year"], "revisions": ["true"]}
    page.close()

    again = open_page(chromium, address, "urlstate_reopened", 1)
    assert again.get_by_role("radio", name="year").is_checked()
    assert again.get_by_role("switch", name="Show earlier revisions (faint)").is_checked()
    assert legend(again) == drawn and cities_drawn(drawn) == ["Homs"]
    assert params(again.url) == params(address)
    again.screenshot(path=str(ARTIFACTS / "urlstate_reopened.png"), full_page=True)
    again.close()


def test_an_old_link_is_rewritten_to_todays_form(base, chromium):
    old = (
        base + "/trends?cities=homs,170063&metric=food_price&qualifier=Rice%2C%20retail"
        "&unit=USD%2FKG&period=year&revisions=1"
    )
    page = open_page(chromium, old, "urlstate_old_link", 1)
    page.wait_for_function("location.search.includes('revisions=true')", timeout=30_000)
    assert params(page.url) == {
        "cities": ["Homs", "Aleppo"],
        "qualifier": ["Rice, retail"],
        "unit": ["USD/KG"],
        "period": ["year"],
        "revisions": ["true"],
    }  # food prices are the default metric: left out
    assert cities_drawn(legend(page)) == ["Aleppo", "Homs"]
    assert page.locator("[data-testid='stAlert']").count() == 0
    page.close()
