"""Two questions an analyst brings, answered by clicking through the pages in a real Chromium
against a real server, and checked against the bundled raw files (read here with pandas):

- "Which Iraqi district had the most conflict deaths in 2017?" (Data page, Totals);
- "How did bread prices in besieged east Aleppo move against the west?" (Trends: both
  markets drawn and named, the months the east has no price left as a gap)."""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.test_browser import ARTIFACTS, CHROMIUM, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing"),
]
SNAPSHOT = ROOT / "data_sources" / "snapshot"
IDLE = (
    "document.querySelector(\"[data-testid='stApp']\")"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)


@pytest.fixture(scope="module")
def base(loaded_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("questions") / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    with streamlit_server({"DATABASE_URL": f"sqlite:///{db}"}) as url:
        yield url


def _open(chromium, url: str):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=120_000)
    page.wait_for_function(IDLE, timeout=120_000)
    return page


def _choose(page, label: str, option: str, param: str) -> None:
    """Pick `option` in the selectbox labelled `label` as a person does (click, type, click
    the option), then wait for the address to hold it and the run it starts to finish."""
    box = page.locator("[data-testid='stSelectbox']").filter(
        has=page.get_by_text(label, exact=True)
    )
    box.locator("input").click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_function(
        f"new URLSearchParams(location.search).get({param!r}) === {option!r}", timeout=120_000
    )
    page.wait_for_function(IDLE, timeout=120_000)


def test_the_district_with_the_most_conflict_deaths_in_2017(base, chromium):
    page = _open(chromium, base + "/data")
    for label, option, param in [
        ("Country", "Iraq", "country"),
        ("Place", "(all)", "place"),
        ("Metric", "Conflict fatalities", "metric"),
        ("Source", "UCDP GED", "source"),
        ("From", "2017-01", "from"),
        ("To", "2017-12", "to"),
    ]:
        _choose(page, label, option, param)
    totals = page.locator("[data-testid='stDataFrame']").filter(
        has=page.locator("[role='columnheader']", has_text="district")
    )
    totals.scroll_into_view_if_needed()
    grid = totals.locator("[role='grid']")
    page.wait_for_function(
        "(el) => el.innerText.includes('(district)')", arg=grid.element_handle(), timeout=60_000
    )
    first = grid.locator("[role='row']").nth(1)  # the header is row 0
    cells = [c.inner_text() for c in first.locator("[role='gridcell']").all()]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "question_district_2017.png"), full_page=True)

    with lzma.open(SNAPSHOT / "conflict_data_irq.csv.xz", "rt", encoding="utf-8") as handle:
        raw = pd.read_csv(handle, skiprows=[1], low_memory=False)  # line 2: HXL tags
    raw = raw[pd.to_datetime(raw["date_end"]).dt.year == 2017]
    sums = raw.groupby("adm_2")[["best", "low", "high"]].sum().sort_values("best")
    top = sums.iloc[-1]
    assert sums.index[-1] == "Qaḑā’ al Mawşil"
    assert cells[0] == "Al-Mosul (district)"
    numbers = [float(c.replace(",", "")) for c in cells[4:7]]
    assert numbers == [top["best"], top["low"], top["high"]]
    page.close()


def _traces(page) -> list[dict]:
    return page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullData.map(t => "
        "({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))"
    )


def test_bread_in_besieged_east_aleppo_against_the_west(base, chromium):
    page = _open(chromium, base + "/trends?cities=Aleppo")
    _choose(page, "Commodity", "Bread (bakery), retail", "qualifier")
    unit = page.locator("[data-testid='stSelectbox']").filter(
        has=page.get_by_text("Unit / currency", exact=True)
    )
    # the local currency opens (USD after it), once the run of the new commodity has drawn
    page.wait_for_function(
        "(el) => el.value === 'SYP/1.1 KG'",
        arg=unit.locator("input").element_handle(),
        timeout=60_000,
    )
    # the chart of the new commodity, not the previous one (wheat flour's also has an
    # Al-Cha'ar line, and the selectboxes change before the chart is replaced): its title
    page.wait_for_function(
        "() => { const p = document.querySelector('.js-plotly-plot');"
        " return p && ((p.layout.title || {}).text || '').includes('Bread (bakery)')"
        " && Array.from(p.data).some(t => (t.name || '').includes('Al-Cha')); }",
        timeout=60_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "question_bread_aleppo.png"), full_page=True)
    drawn = {t["name"]: t for t in _traces(page) if t["name"]}
    east = next(t for n, t in drawn.items() if "Al-Cha'ar" in n)
    west = next(t for n, t in drawn.items() if "Moghambo" in n)
    legend = [e.text_content() for e in page.locator(".legendtext").all()]
    assert any("Al-Cha'ar" in n for n in legend) and any("Moghambo" in n for n in legend)

    raw = pd.read_csv(SNAPSHOT / "wfp_food_prices_syr.csv", skiprows=[1])
    bread = raw[
        (raw["commodity"] == "Bread (bakery)")
        & (raw["pricetype"] == "Retail")
        & (raw["currency"] == "SYP")
        & (raw["admin1"] == "Aleppo")
    ]

    def month_prices(trace: dict) -> dict[str, float | None]:
        """Month -> the drawn price; a gap (plotly's null, or NaN once decoded) is None."""
        return {
            str(x)[:7]: (None if y is None or y != y else y)
            for x, y in zip(trace["x"], trace["y"], strict=True)
        }

    for trace, market in ((east, "Al-Cha'ar"), (west, "Moghambo")):
        prices = bread[bread["market"] == market]
        expected = prices.groupby(prices["date"].str[:7])["price"].mean()
        got = month_prices(trace)
        siege = [str(m) for m in pd.period_range("2016-06", "2017-08", freq="M")]
        for month in siege:
            if month in expected:
                assert got[month] == pytest.approx(expected[month]), (market, month)
            else:  # no price that month: a gap in the line, never a value bridging it
                assert got.get(month) is None, (market, month)
    # the east's gap at the end of the siege, while the west has its prices
    assert month_prices(east).get("2016-12") is None
    assert month_prices(west)["2016-12"] == pytest.approx(63.46)
    page.close()
