"""Every CSV a person can download is spreadsheet-safe (issue 19, item 3).

A hostile corpus (formulas, their fullwidth and small look-alikes, a leading tab, CR or LF, a
carriage return inside a cell followed by a formula) goes through every download: the figures'
CSV, HXL CSV and the ZIP's two files, the change list (page and command line share
`changes_csv`), and the one writer the Trends and Overview downloads and `series --format csv`
use. Each file is parsed with the csv module as a spreadsheet reads it (a bare CR ends a row):
the same number of rows comes back, and no cell that is not a number starts a formula. And
st.dataframe's own "Download as CSV" is off."""

from __future__ import annotations

import csv
import io
import re
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
from streamlit import config

from data_sources.formats import export
from data_sources.store.changes import CHANGE_COLUMNS
from tests.apptest import open_page
from tests.conftest import ROOT

HOSTILE = [
    "=1+42",
    '=HYPERLINK("http://127.0.0.1:9/x","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+42",
    "\n=1+42",
    "\uff1d1+42",  # ＝
    "\uff0bcmd|'/C calc'!A0",  # ＋
    "\uff0d2+3",  # －
    "\uff20SUM(A1)",  # ＠
    "\ufe661+1",  # ﹦
    "x\r=1+42",  # a CR inside a cell: the next "row" must not start with =1+42
    "y\r\n+1+2",
    "z\n@A1",
]
DANGER = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\ufe66")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_rows(data: bytes) -> list[list[str]]:
    """The rows a spreadsheet sees: universal line ends outside quotes (a bare CR ends a row)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def live_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run as a formula: any that starts with one of DANGER, is no
    number, and (after a line break inside it) any line that does."""
    found = []
    for row in rows:
        for cell in row:
            if cell.startswith(DANGER) and not NUMBER.fullmatch(cell):
                found.append(cell)
    return found


def figures_frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame(
        {
            "city": ["Aleppo"] * n,
            "country_iso3": ["SYR"] * n,
            "metric": ["food_price"] * n,
            "qualifier": HOSTILE,
            "site": list(reversed(HOSTILE)),
            "period_start": pd.to_datetime(["2019-01-01"] * n),
            "period_end": pd.to_datetime(["2019-01-31"] * n),
            "value": [-5.0] * n,
            "unit": ["SYP/KG"] * n,
            "source": ["wfp"] * n,
            "source_url": ["https://127.0.0.1/x"] * n,
            "origin": HOSTILE,
            "citation": HOSTILE,
        }
    )


def changes_frame() -> pd.DataFrame:
    frame = pd.DataFrame({c: ["plain"] * len(HOSTILE) for c in CHANGE_COLUMNS})
    for col in ("qualifier", "site", "city", "source"):
        frame[col] = HOSTILE
    frame["period_start"] = frame["period_end"] = pd.Timestamp("2019-01-01")
    frame["changed_at"] = pd.Timestamp("2026-12-01T10:00:00")
    frame["revision"] = 2
    frame["source_url"] = "https://127.0.0.1/x"
    for col in ("old_value", "new_value", "difference"):
        frame[col] = -1.5
    return frame


def test_no_download_holds_a_live_formula_or_a_split_row():
    files = export.bundle(figures_frame(), {})
    archive = zipfile.ZipFile(io.BytesIO(files["zip"]))
    downloads = {
        "figures.csv": files["csv"],
        "figures_hxl.csv": files["hxl"],
        "zip:figures.csv": archive.read("figures.csv"),
        "zip:figures_hxl.csv": archive.read("figures_hxl.csv"),
        "changes.csv": export.changes_csv(changes_frame()),
        "csv_bytes (trends, overview, series)": export.csv_bytes(
            pd.DataFrame({"label": HOSTILE, "value": [-1.0] * len(HOSTILE)})
        ),
    }
    header_rows = {"figures_hxl.csv": 2, "zip:figures_hxl.csv": 2}
    attempts = 0
    for name, data in downloads.items():
        rows = spreadsheet_rows(data)
        assert len(rows) == header_rows.get(name, 1) + len(HOSTILE), f"{name}: a row was split"
        attempts += sum(len(r) for r in rows)
        assert live_cells(rows) == [], name
    assert attempts > 500
    # the text itself is kept, behind a leading quote; a number stays a number
    rows = list(csv.DictReader(io.StringIO(files["csv"].decode(), newline="")))
    assert rows[0]["qualifier"] == "'=1+42" and rows[0]["value"] == "-5.0"
    assert rows[13]["qualifier"] == "x\n=1+42"  # one cell, its line break quoted


def test_every_csv_writer_is_the_safe_one():
    """No code writes CSV but export.csv_bytes: a new download cannot bypass it."""
    writers = []
    for path in [*ROOT.glob("data_sources/**/*.py"), *ROOT.glob("views/**/*.py"), ROOT / "app.py"]:
        text = path.read_text()
        for match in re.finditer(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(", text):
            writers.append(f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}")
    assert all(w.startswith("data_sources/formats/export.py") for w in writers), writers
    assert len(writers) == 1, writers


def test_the_tables_own_csv_download_is_off(loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    assert tomllib.loads(Path(ROOT / ".streamlit/config.toml").read_text())["client"][
        "disableDataExport"
    ]
    config.set_option("client.disableDataExport", False)
    try:
        at = open_page("views/map.py")
        assert not at.exception
        assert config.get_option("client.disableDataExport") is True  # set by app.py itself
    finally:
        config.set_option("client.disableDataExport", False)
