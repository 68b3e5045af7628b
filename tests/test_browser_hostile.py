"""The hostile-string corpus in a real Chromium (Debian's) against a real server on SQLite:
nothing of it is live in the DOM of Overview and Trends (no link, bold, heading or colour made
of it; the text shows literally, in Streamlit's Markdown and in plotly's SVG), and the Data
page's three download buttons give exactly the bytes of `python -m data_sources export`."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pytest

from tests import cli as tests_cli
from tests.test_browser import ARTIFACTS, CHROMIUM, open_page, streamlit_server
from tests.test_hostile import (
    ALEPPO,
    MARKERS,
    QUALIFIER,
    SOURCE,
    import_corpus,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.os.path.exists(CHROMIUM), reason="Debian chromium missing"),
]


@pytest.fixture(scope="module")
def hostile_server(loaded_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("hostile") / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    url = f"sqlite:///{db}"
    import_corpus(url)
    with streamlit_server({"DATABASE_URL": url}) as base:
        yield base, url


# elements made of the corpus, if it were live: links to its address, bold, headings, colour
LIVE = (
    """() => {
  const markers = MARKERS;
  const inner = ['STRONGCITE', 'STARMARKET', 'BOLDMARKET', 'REDSOURCE', 'BLUEMARKET', 'SPANCITE'];
  const found = [];
  for (const el of document.querySelectorAll('a, b, strong, em, h1, h2, h3, h4, h5, h6, span')) {
    const text = (el.textContent || '').trim();
    if (!markers.some((m) => text.includes(m))) continue;
    const tag = el.tagName.toLowerCase();
    if (tag === 'a' && (el.getAttribute('href') || '').includes('127.0.0.1:9')) found.push(el.outerHTML);
    if (/^h[1-6]$/.test(tag)) found.push(el.outerHTML);
    // bold or colour made of the corpus: an element holding just the corpus's inner word
    if (inner.includes(text)) found.push(el.outerHTML);
  }
  return found;
}"""
).replace("MARKERS", str(list(MARKERS)))


def _main_text(page) -> str:
    return _seen(page.locator("[data-testid='stMainBlockContainer']").inner_text())


def _seen(text: str) -> str:
    """Text as a reader sees it: without the invisible word joiner (escape.JOINER)."""
    return text.replace("\u2060", "")


def test_overview_shows_the_corpus_as_text(hostile_server, chromium):
    base, _ = hostile_server
    page = open_page(chromium, base + "/?cities=Aleppo", "hostile_overview", 1)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.evaluate(LIVE) == []
    text = _main_text(page)
    assert "Sources: " in text and ":red[REDSOURCE]" in text  # literally, not in red
    # the headline's tooltip: hover its help icon
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Food price").first
    metric.locator("[data-testid='stTooltipHoverTarget']").first.hover()
    tip = page.locator("[data-testid='stTooltipContent']").first
    tip.wait_for(timeout=10_000)
    tip_text = _seen(tip.inner_text())
    assert "**STRONGCITE** [CITELINK](http://127.0.0.1:9/c)" in tip_text
    assert "CITEHEAD ===== " in tip_text and ":red[REDSOURCE]" in tip_text
    assert page.evaluate(LIVE) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile_overview_tooltip.png"), full_page=True)
    page.close()


def test_trends_chart_title_and_link_messages_are_text(hostile_server, chromium):
    base, _ = hostile_server
    url = f"{base}/trends?cities=Aleppo&qualifier={quote(QUALIFIER)}&unit=SYP%2FKG"
    page = open_page(chromium, url, "hostile_trends", 1)
    assert page.locator("[data-testid='stException']").count() == 0
    title = page.locator(".js-plotly-plot .gtitle").first.text_content()
    assert '<a href="http://127.0.0.1:9/evil">EVILCOMMODITY</a> $x^2$' in title
    assert page.locator(".js-plotly-plot a").count() == 0
    assert page.evaluate(LIVE) == []
    page.close()
    # a link close to the hostile commodity, and a link value with a setext underline
    url = (
        f"{base}/trends?cities=Aleppo&qualifier={quote(QUALIFIER[:-1])}"
        "&unit=SYP%2FKG&period=Wheat%0A%3D%3D%3D%3D%3D%0A%5Bx%5D(http%3A%2F%2F127.0.0.1%3A9)"
    )
    page = open_page(chromium, url, "hostile_trends_link", 1)
    alerts = _seen(" ".join(a.inner_text() for a in page.locator("[data-testid='stAlert']").all()))
    assert "Did you mean “<a href=" in alerts and "EVILCOMMODITY</a>" in alerts
    assert "Wheat ===== [x](http://127.0.0.1:9)" in alerts
    assert page.locator("[data-testid='stAlert'] h1, [data-testid='stAlert'] a").count() == 0
    assert page.evaluate(LIVE) == []
    page.close()


def test_data_page_downloads_equal_the_cli_export(hostile_server, chromium, tmp_path):
    base, url = hostile_server
    page = open_page(
        chromium, f"{base}/data?place={quote(ALEPPO)}&source={quote(SOURCE)}", "hostile_data", 0
    )
    # the page draws top down: wait for its last section, so every sink is there to check and
    # the buttons belong to a finished run
    page.get_by_text("Fetch log").first.wait_for(timeout=90_000)
    page.wait_for_timeout(500)
    assert page.evaluate(LIVE) == []
    links = {"csv": "Download CSV", "hxl": "Download HXL-tagged CSV"}  # streamed routes
    for fmt, name in links.items():
        href = page.get_by_role("link", name=name, exact=True).get_attribute("href")
        answer = page.context.request.get(href)
        assert answer.status == 200, (fmt, answer.status)
        (tmp_path / fmt).write_bytes(answer.body())
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role(
            "button", name="Download ZIP (CSV, HXL, README of sources)", exact=True
        ).click()
    info.value.save_as(tmp_path / "zip")
    for fmt in ("csv", "hxl", "zip"):
        path = tmp_path / fmt
        cli = tests_cli.run(
            url, "export", "--format", fmt, "--city", "Aleppo", "--source", SOURCE, raw=True
        )
        assert cli.returncode == 0, cli.stderr
        assert path.read_bytes() == cli.stdout, fmt
    # and what they hold is inert in a spreadsheet
    text = (tmp_path / "csv").read_text()
    assert "'=HYPERLINK(" in text and ",=HYPERLINK(" not in text and ",@SUM" not in text
    page.close()
