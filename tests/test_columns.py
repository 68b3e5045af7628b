"""Columns by their full HXL tag (issue 18, items 3–5), on real public files:

- `download-afg-admpop-adm1-2021-v2.csv`: OCHA's COD population statistics for Afghanistan,
  admin 1, 2021, as OCHA-DAP/hdx-scraper-cod-population @ 94b2274c69f0a7b5c503c35763a1ab4c7fe352df
  : tests/fixtures/input/download-afg-admpop-adm1-2021-v2.csv recorded it from HDX (byte-exact;
  HDX licence cc-by-igo). No date column: its year is given with --period.
- `ii_attacks_on_health_care_2016_2023.csv.xz`, `ii_education_in_danger_2020_2023.csv.xz`:
  Insecurity Insight's incident data as on HDX, the first sheet of
  OCHA-DAP/hdx-scraper-insecurity-insight @ ebc76c5200372b2f5e35db403271fcfe7de66869 :
  src/hdx_scraper_insecurity_insight/spreadsheet-samples/2016-2023-attacks-on-health-care-
  incident-data.xlsx and …/2020-2023-education-in-danger-incident-data.xlsx, written as CSV by
  pandas (every cell as text, no row or value changed), xz-compressed. Licence stated in the
  workbook: CC BY-SA. Cite: Insecurity Insight. 2024. 2016-2023 Attacks on Health Care
  Incident Data, v. 05 January 2024.
- `aidworker_kika_columns.csv`: the header and HXL row only (no data) of Insecurity Insight's
  aid-worker KIKA incidents, from the same repository @ 4895fc3633ea22626d0ae19eded8de7740295763
  : src/hdx_scraper_insecurity_insight/metadata/schema.csv (field_name and terms, in
  field_number order): five columns are all tagged `#affected +aidworker +killed`.
- The WFP sheet is the bundled `data_sources/snapshot/wfp_food_prices_syr.csv` (its origin is
  in the snapshot's SOURCES.md).

Expected sums are computed here from the raw files with pandas, never by the code under test.
"""

from __future__ import annotations

import io
import json
import lzma
import os
import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.formats import hxl_tags
from data_sources.formats.hxl import HXLFormatError, parse_hxl_csv
from data_sources.model.validation import validate
from data_sources.snapshot import SNAPSHOT_DIR
from data_sources.store.engine import make_engine

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "columns"
COD_AFG = FIXTURES / "download-afg-admpop-adm1-2021-v2.csv"
HEALTH = FIXTURES / "ii_attacks_on_health_care_2016_2023.csv.xz"
EDUCATION = FIXTURES / "ii_education_in_danger_2020_2023.csv.xz"
KIKA = FIXTURES / "aidworker_kika_columns.csv"
WFP = SNAPSHOT_DIR / "wfp_food_prices_syr.csv"


def text_of(path) -> str:
    if path.suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8").read()
    return path.read_text(encoding="utf-8")


def raw(path) -> pd.DataFrame:
    """The file's data rows as the publisher wrote them (the HXL row skipped)."""
    return pd.read_csv(io.StringIO(text_of(path)), skiprows=[1], dtype=str, keep_default_na=False)


def cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data_sources", *args],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def stored(url: str, metric: str) -> pd.DataFrame:
    """The store's figures of a metric with their series' place columns, read by SQL."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(
                sa.text(
                    "select s.qualifier, s.place_raw, s.admin1, s.unit, p.country_iso3, "
                    "o.period_start, o.period_end, o.value from observations o "
                    "join series s on s.series_id = o.series_id "
                    "join places p on p.place_id = s.place_id where s.metric = :m"
                ),
                conn,
                params={"m": metric},
            )
    finally:
        engine.dispose()


def rejects(url: str) -> pd.DataFrame:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text("select row_ref, reason, raw from rejects"), conn)
    finally:
        engine.dispose()


# --- the tag table ------------------------------------------------------------------------


def column(tag: str, header: str = "x", index: int = 0) -> hxl_tags.Column:
    t = hxl_tags.normalized_tag(tag)
    head, *attrs = t.split("+")
    return hxl_tags.Column(index, header, t, head, frozenset(attrs))


@pytest.mark.parametrize(
    ("tag", "metric", "breakdown"),
    [
        ("#population", "population", ""),
        ("#population+total", "population", ""),
        ("#population+ind", "population", ""),
        ("#population+f", "population", "female"),
        ("#population+infants+age0_4+m", "population", "age 0–4, male"),
        ("#population+elderly+age80plus", "population", "age 80+"),
        ("#affected +healthworker +killed", "healthworkers_killed", ""),
        ("#affected+healthworker+injured", "healthworkers_injured", ""),
        ("#affected+aidworker+kidnapped+f", "aidworkers_kidnapped", "female"),
        ("#affected+teacher+killed", "educators_killed", ""),
        ("#affected+killed", "conflict_fatalities", ""),
        ("#affected+killed+civilians", "civilians_killed", ""),
        ("#affected+inneed+ind", "people_in_need", ""),
        ("#inneed", "people_in_need", ""),
        ("#targeted", "people_targeted", ""),
        ("#reached+ind", "people_reached", ""),
    ],
)
def test_a_column_is_read_by_its_hashtag_and_attributes(tag, metric, breakdown):
    row, got_breakdown, reason = hxl_tags.read_column(column(tag))
    assert (row.metric, got_breakdown) == (metric, breakdown), reason


@pytest.mark.parametrize(
    "tag",
    ["#affected+aid_healthworker+killed", "#affected+idps+hh", "#num+crsv+killed"],
)
def test_a_group_the_table_does_not_know_is_not_read_as_another_metric(tag):
    """Insecurity Insight's `+aid_healthworker` killed are no "conflict fatalities"; IDP
    households are no count of people."""
    row, _, reason = hxl_tags.read_column(column(tag))
    assert row is None and reason


def test_the_cod_population_total_is_the_population_and_sex_and_age_are_breakdowns():
    frame = parse_hxl_csv(text_of(COD_AFG), name=COD_AFG.name, period="2021")
    src = raw(COD_AFG)
    good, rejected = validate(frame)
    assert rejected.empty
    total = good[(good.metric == "population") & (good.qualifier == "")]
    by_province = dict(zip(total.place_raw, total.value.astype(float), strict=True))
    assert by_province == dict(zip(src.Admin1_Name, src.T_TL.astype(float), strict=True))
    assert by_province["Badakhshan"] == 1_357_036  # not the female 666,004
    female = good[(good.metric == "population") & (good.qualifier == "female")]
    assert dict(zip(female.place_raw, female.value.astype(float), strict=True)) == dict(
        zip(src.Admin1_Name, src.F_TL.astype(float), strict=True)
    )
    # every cell of every count column is one figure: 34 provinces × 54 columns
    assert len(good) == len(src) * sum(c[:2] in ("F_", "M_", "T_") for c in src.columns)
    assert set(good.period_start.astype(str)) == {"2021-01-01"}
    assert set(good.period_end.astype(str)) == {"2021-12-31"}


def test_a_file_without_dates_asks_for_the_period():
    with pytest.raises(HXLFormatError, match=r"no date column.*--period 2021"):
        parse_hxl_csv(text_of(COD_AFG), name=COD_AFG.name)
    with pytest.raises(HXLFormatError, match="--period '2021-13'"):
        parse_hxl_csv(text_of(COD_AFG), name=COD_AFG.name, period="2021-13")
    month = validate(parse_hxl_csv(text_of(COD_AFG), name=COD_AFG.name, period="2021-03"))[0]
    assert set(month.period_end.astype(str)) == {"2021-03-31"}


def test_period_is_refused_for_a_file_with_dates():
    with pytest.raises(HXLFormatError, match="has its own date column"):
        parse_hxl_csv(text_of(HEALTH), name="h.csv", period="2020")


def test_identical_tags_stop_the_import_naming_the_columns_and_the_choice():
    text = KIKA.read_text(encoding="utf-8")
    with pytest.raises(HXLFormatError) as caught:
        parse_hxl_csv(text, name=KIKA.name)
    message = str(caught.value)
    assert "'Aid Workers Killed' (#affected+aidworker+killed)" in message
    assert "'Aid Workers Killed in Captivity'" in message
    assert "--column 'HEADER=aidworkers_killed'" in message
    choices = hxl_tags.parse_choices(
        ["Aid Workers Killed=aidworkers_killed", "Aid Workers Injured=aidworkers_injured",
         "Aid Workers Kidnapped=aidworkers_kidnapped", "Female Aid Workers Killed="
         "aidworkers_killed", "Male Aid Workers Killed=aidworkers_killed",
         "Female Aid Workers Injured=aidworkers_injured",
         "Male Aid Workers Injured=aidworkers_injured",
         "Female Aid Workers Kidnapped=aidworkers_kidnapped",
         "Male Aid Workers Kidnapped=aidworkers_kidnapped"]
    )  # fmt: skip
    out = parse_hxl_csv(text, name=KIKA.name, columns=choices)
    not_read = dict(out.attrs["columns_ignored"])
    assert "another column was chosen" in not_read["'Aid Workers Killed in Captivity' "
                                                   "(#affected+aidworker+killed)"]  # fmt: skip
    with pytest.raises(HXLFormatError, match="names 6 columns"):
        parse_hxl_csv(
            text, name=KIKA.name, columns={"#affected+aidworker+killed": "aidworkers_killed"}
        )


def test_a_choice_must_name_a_column_and_a_metric():
    with pytest.raises(ValueError, match="HEADER_OR_TAG=METRIC"):
        hxl_tags.parse_choices(["Aid Workers Killed"])
    with pytest.raises(HXLFormatError, match="unknown metric 'deaths'"):
        parse_hxl_csv(
            KIKA.read_text(encoding="utf-8"), name=KIKA.name,
            columns={"aid workers killed": "deaths"},
        )  # fmt: skip


# --- prices -------------------------------------------------------------------------------


def test_fuel_exchange_rates_and_wages_are_their_own_metrics_and_units():
    frame = parse_hxl_csv(text_of(WFP), name=WFP.name, source="wfp")
    good, rejected = validate(frame)
    assert rejected.empty
    src = raw(WFP)
    assert not good.unit.str.contains("USD/USD").any()
    assert "Exchange rate" not in " ".join(good[good.metric == "food_price"].qualifier.unique())
    rate = good[good.metric == "exchange_rate"]
    assert set(rate.unit) == {"SYP/USD"}
    assert len(rate) == (src.commodity == "Exchange rate (unofficial)").sum()
    assert rate.value.astype(float).sum() == pytest.approx(
        src[src.commodity == "Exchange rate (unofficial)"].price.astype(float).sum()
    )
    wage = good[(good.metric == "wage") & ~good.unit.str.startswith("USD")]
    assert set(wage.unit) == {"SYP/Day"}
    assert len(wage) == src.commodity.str.startswith("Wage").sum()
    fuel = good[(good.metric == "fuel_price") & ~good.unit.str.startswith("USD")]
    assert set(fuel.qualifier.str.split(",").str[0]) == {"Fuel (diesel)", "Fuel (gas)"}
    assert len(fuel) == src.commodity.str.startswith("Fuel").sum()
    food = good[(good.metric == "food_price") & ~good.unit.str.startswith("USD")]
    assert len(food) == (src.category != "non-food").sum()


def _wfp_rows(dates: list[str]) -> str:
    """The WFP sheet's header, HXL row and its first Aleppo wheat-flour row, once per date.
    SYNTHETIC dates (the real sheet is monthly): the shape of a weekly price series."""
    lines = WFP.read_text(encoding="utf-8").splitlines()
    row = next(x for x in lines[2:] if ",Aleppo," in x and "Wheat flour" in x)
    day = row.split(",", 1)[0]
    return "\n".join([*lines[:2], *(row.replace(day, d, 1) for d in dates)]) + "\n"


def test_weekly_prices_are_weekly_figures_not_conflicts():
    sheet = _wfp_rows(["2016-01-04", "2016-01-11", "2016-01-18", "2016-01-25"])
    good, rejected = validate(parse_hxl_csv(sheet, name="weekly.csv", source="wfp"))
    assert rejected.empty
    local = good[~good.unit.str.startswith("USD")]
    weeks = list(zip(local.period_start.astype(str), local.period_end.astype(str), strict=True))
    assert weeks == [
        ("2016-01-04", "2016-01-10"),
        ("2016-01-11", "2016-01-17"),
        ("2016-01-18", "2016-01-24"),
        ("2016-01-25", "2016-01-31"),
    ]
    monthly = validate(parse_hxl_csv(_wfp_rows(["2016-01-15"]), name="m.csv", source="wfp"))[0]
    assert set(monthly.period_start.astype(str)) == {"2016-01-01"}


def test_a_year_no_calendar_holds_is_a_reject_with_its_reason(store_url, tmp_path):
    """`0000-01-15` ended the import in `ValueError: year 0 is out of range`."""
    sheet = tmp_path / "prices.csv"
    sheet.write_text(_wfp_rows(["0000-01-15", "2016-02-15"]), encoding="utf-8")
    done = cli(store_url, "import", str(sheet), "--source", "wfp-year0")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    got = rejects(store_url)
    assert len(got) == 2  # the local and the USD figure of the year-0 row
    assert got.reason.str.contains("0000-01-15").all()
    prices = stored(store_url, "food_price")
    assert set(prices.period_start.astype(str).str[:7]) == {"2016-02"}


# --- injuries and deaths of health workers and educators, on both stores ------------------


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        (HEALTH, {"healthworkers_killed": "Health Workers Killed",
                  "healthworkers_injured": "Health Workers Injured",
                  "healthworkers_kidnapped": "Health Workers Kidnapped"}),
        (EDUCATION, {"educators_killed": "Educators Killed",
                     "educators_injured": "Educators Injured",
                     "students_killed": "Students Killed",
                     "students_injured": "Students Injured"}),
    ],
)  # fmt: skip
def test_incident_files_import_every_row_with_sums_per_place_and_month(store_url, path, columns):
    done = cli(store_url, "import", _plain(path))
    assert done.returncode == 0, done.stderr
    src = raw(path)
    out = done.stdout
    assert f"{len(src) * _figure_columns(path):,}" in out  # rows in: every row × column
    bad = pd.json_normalize(rejects(store_url).raw.map(json.loads).tolist())
    month = src.Date.str[:7]
    for metric, header in columns.items():
        values = src[header].astype(float)
        got = stored(store_url, metric)
        assert (got.qualifier == "").all()
        # a rejected figure (a row no place resolves) is in the rejects, with its value
        lost = bad[bad.metric == metric] if len(bad) else bad
        assert lost.get("value", pd.Series(dtype=float)).astype(float).sum() == 0
        # per country and month: the file's own country code against the stored place's
        want = values.groupby([src["Country ISO"], month]).sum()
        have = got.groupby([got.country_iso3, got.period_start.astype(str).str[:7]]).value.sum()
        pd.testing.assert_series_equal(
            have[have != 0].sort_index(), want[want != 0].sort_index(), check_names=False
        )
        # per admin-1 area and month where the file writes one name for it (two spellings,
        # "Sagaing"/"Sagaing Region", are one stored place)
        for area in ("Aleppo Governorate", "Gaza Strip", "Kherson Oblast"):
            rows = src["Admin 1"].str.strip().str.casefold() == area.casefold()
            want = values[rows].groupby(month[rows]).sum()
            mine = got[got.admin1.str.strip().str.casefold() == area.casefold()]
            have = mine.groupby(mine.period_start.astype(str).str[:7]).value.sum()
            assert have[have != 0].to_dict() == want[want != 0].to_dict(), area
    assert stored(store_url, "conflict_fatalities").empty


def test_health_worker_totals_are_the_files(store_url):
    done = cli(store_url, "import", _plain(HEALTH))
    assert done.returncode == 0, done.stderr
    src = raw(HEALTH)
    assert len(src) == 8_854
    killed = stored(store_url, "healthworkers_killed").value.sum()
    injured = stored(store_url, "healthworkers_injured").value.sum()
    assert killed == src["Health Workers Killed"].astype(float).sum() == 1_634
    assert injured == src["Health Workers Injured"].astype(float).sum() == 2_519
    assert "column not read: 'Health Workers Arrested'" in done.stdout
    assert stored(store_url, "conflict_events").empty  # incidents are not conflict events


def test_the_cli_imports_a_population_file_with_period(store_url):
    done = cli(store_url, "import", str(COD_AFG))
    assert done.returncode == 2 and "--period" in done.stderr
    done = cli(store_url, "import", str(COD_AFG), "--period", "2021")
    assert done.returncode == 0, done.stderr
    got = stored(store_url, "population")
    total = got[got.qualifier == ""]
    assert dict(zip(total.place_raw, total.value, strict=True))["Badakhshan"] == 1_357_036
    src = raw(COD_AFG)
    assert total.value.sum() == src.T_TL.astype(float).sum()


_PLAIN: dict = {}


def _plain(path) -> str:
    """An xz fixture written out as the CSV it holds (import reads plain text files)."""
    if path.suffix != ".xz":
        return str(path)
    if path not in _PLAIN:
        import tempfile

        out = os.path.join(tempfile.mkdtemp(prefix="columns-"), path.stem)
        with open(out, "w", encoding="utf-8", newline="") as f:
            f.write(text_of(path))
        _PLAIN[path] = out
    return _PLAIN[path]


def _figure_columns(path) -> int:
    """How many of the file's columns the tag table reads, counted from its HXL row: the
    `#affected` killed/injured/kidnapped columns of health workers, educators, students."""
    tags = pd.read_csv(io.StringIO(text_of(path)), nrows=1, dtype=str, keep_default_na=False)
    wanted = {"killed", "injured", "kidnapped"}
    groups = {"healthworker", "teacher", "student", "aidworker"}
    count = 0
    for tag in tags.iloc[0]:
        parts = set(hxl_tags.normalized_tag(tag).split("+"))
        if "#affected" in parts and parts & wanted and parts & groups:
            count += 1
    return count
