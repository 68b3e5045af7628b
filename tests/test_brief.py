"""The city brief (views/logic/brief.py, web/brief.py, the CLI's `brief`): one printable page
per city whose figures are the Overview's for the same cities and moment, with its charts,
the as-of moment and a numbered source list with citations and licences (read back from the
PDF with pdftotext); the route and the command refuse what they cannot make in one line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from data_sources.store import asof, query
from data_sources.store.engine import make_engine
from tests.apptest import open_page
from tests.cli import run
from views.logic import brief as logic
from views.pages import DEFAULT
from web import brief, render, routes

pytestmark = pytest.mark.skipif(
    not Path(render.BROWSER).exists() or not shutil.which("pdftotext"),
    reason="Debian chromium or poppler-utils missing",
)
WFP = "World Food Programme, VAM food prices (HDX)"


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-", data[:40]
    done = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.decode().split())  # one space between words, lines joined


@pytest.fixture
def store(loaded_db, tmp_path, monkeypatch) -> str:
    """A private copy of the loaded snapshot (SQLite: the brief's queries are the Overview's,
    which the page tests run on both stores)."""
    path = tmp_path / "store.sqlite"
    shutil.copyfile(loaded_db, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    brief.CACHE = brief.ImageCache(size=4)
    return url


def test_the_brief_prints_the_overviews_figures_and_its_sources(store, tmp_path):
    """Every headline the Overview shows for Aleppo and Mosul (value, date and change) is on
    the brief, each city on its own page; the moment and the citations are printed."""
    page = open_page(DEFAULT.script, cities=["Aleppo", "Mosul"])
    assert not page.exception
    shown = [(m.label, m.value, m.delta or None) for m in page.metric]  # no change: ""
    buttons = {b.proto.label: b.proto.url for b in page.get("link_button")}
    assert (
        "/brief/pdf?cities=geonames" in buttons["Brief (PDF)"]
        and "as_of=" in buttons["Brief (PDF)"]
    )
    assert len(shown) >= 6  # three headlines a city at least

    engine = make_engine(store)
    moment = query.newest_retrieval(engine)
    made = logic.build(engine, ["Aleppo", "Mosul"])
    cards = [(c.label, c.value, c.delta) for city in made.cities for c in city.overview.headlines]
    peaks = [(p.best, p.month) for city in made.cities for p, _, _ in city.overview.deaths]
    assert cards == [m for m in shown if m[0] != "Deadliest month"]
    assert [p[0] for p in peaks] == [m[1] for m in shown if m[0] == "Deadliest month"]

    out = tmp_path / "brief.pdf"
    done = run(store, "brief", "--city", "Aleppo", "--city", "Mosul", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    text = pdf_text(out.read_bytes())
    for _, value, delta in cards:
        assert value in text and (delta or "") in text, (value, delta)
    for best, month in peaks:
        assert f"deadliest {month:%B %Y}, {best}" in text
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    count = next(line for line in pages.splitlines() if line.startswith("Pages:"))
    assert int(count.split()[1]) >= 3  # a page a city, then the sources
    assert f"Figures as of {asof.describe(moment)}" in text
    assert WFP in text and "CC BY-IGO" in text and "[1]" in text
    assert "as_of=" in text  # the live view at the same moment is printed


def test_the_route_serves_html_and_pdf_and_refuses_in_plain_words(store):
    with TestClient(Starlette(routes=routes.mounted(""))) as client:
        html = client.get("/brief/html", params={"cities": "Aleppo"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "<script" not in html.text and "<svg" in html.text and WFP in html.text
        assert "default-src 'none'" in html.headers["content-security-policy"]
        pdf = client.get("/brief/pdf", params={"cities": "Aleppo"})
        assert pdf.status_code == 200 and "Aleppo" in pdf_text(pdf.content)
        for params, said in (
            ({"cities": "Atlantis"}, "No figures stored for the city"),
            ({}, "Name at least one city"),
            ({"cities": "Aleppo", "colour": "red"}, "Unknown parameter"),
            ({"cities": "Aleppo", "as_of": "yesterday-ish"}, "as_of"),
            ({"cities": ["<b>x</b>"] * 13}, "at most 12 cities"),
        ):
            answer = client.get("/brief/pdf", params=params)
            assert answer.status_code == 400 and said in answer.text, (params, answer.text)
            assert answer.headers["content-type"].startswith("text/plain")
        assert client.get("/brief/docx", params={"cities": "Aleppo"}).status_code == 400


def test_a_hostile_store_text_is_printed_as_text(store):
    """A place name holding markup reaches the brief as text (escaped), never as a tag."""
    engine = make_engine(store)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE places SET name = 'Aleppo<img src=x onerror=alert(1)>' WHERE name = 'Aleppo'"
        )
    made = brief.brief_bytes(engine, ["Aleppo<img src=x onerror=alert(1)>"], None, "html")
    assert b"<img src=x" not in made and b"Aleppo&lt;img src=x" in made


def test_the_command_refuses_an_unknown_city_and_a_wrong_suffix(store, tmp_path):
    unknown = run(store, "brief", "--city", "Atlantis", "-o", str(tmp_path / "x.pdf"))
    assert unknown.returncode == 1 and "Atlantis" in unknown.stdout + unknown.stderr
    assert "Traceback" not in unknown.stdout + unknown.stderr
    assert not (tmp_path / "x.pdf").exists()
    wrong = run(store, "brief", "--city", "Aleppo", "-o", str(tmp_path / "x.docx"))
    assert wrong.returncode == 2 and ".pdf or .html" in wrong.stdout + wrong.stderr
