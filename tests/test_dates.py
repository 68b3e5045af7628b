"""Calendar days of ISO dates and timestamps (model/dates.py): offsets to UTC, naive as
written, anything else no day at all, and each feed's own date form as it really arrives."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from data_sources.model.dates import calendar_day, calendar_days
from tests.shared_data import skip_unless_shared

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2016-11-30", "2016-11-30"),
        ("2016-11-30T12:34:56", "2016-11-30"),  # naive: as written
        ("2016-11-30T23:59:59", "2016-11-30"),
        ("2016-11-30 00:00:00.000", "2016-11-30"),  # UCDP's CSV
        ("2016-11-30T12:34:56Z", "2016-11-30"),
        ("2016-11-30T01:30:00+03:00", "2016-11-29"),  # 22:30 UTC the day before
        ("2016-11-30T23:30:00-05:00", "2016-12-01"),  # 04:30 UTC the next day
        ("2016-12-31T23:30:00-0100", "2017-01-01"),  # across a year, offset without colon
        ("2016-11-30T02:00+03", "2016-11-29"),  # hours-only offset, no seconds
        ("2016-11-30T12:34:56.123456+00:00", "2016-11-30"),
        ("2016-02-29", "2016-02-29"),
        ("2106-02-01", "2106-02-01"),  # a mistyped year is kept for validation to name
        (" 2016-11-30 ", "2016-11-30"),
    ],
)
def test_iso_text_gives_the_utc_or_written_day(text, day):
    assert calendar_days(pd.Series([text])).tolist() == [day]
    assert calendar_day(text) == date.fromisoformat(day)


@pytest.mark.parametrize(
    "text",
    ["2016/11/30", "30/11/2016", "2016-11", "2016-02-30", "2016-13-01", "2016-00-10", "Nov 2016",
     "", "2016-11-30T25", "20161130", "2016-11-30garbage"],
)  # fmt: skip
def test_anything_else_is_no_day_rather_than_a_cut(text):
    assert calendar_days(pd.Series([text])).tolist() == [None]
    assert calendar_day(text) is None


def test_objects_and_missing_values_in_one_column():
    values = pd.Series(
        [
            datetime(2016, 11, 30, 1, 30, tzinfo=timezone(timedelta(hours=3))),
            date(2017, 3, 1),
            pd.Timestamp("2017-03-01T10:00:00Z"),
            None,
            float("nan"),
            20161130,
            "2017-03-01",
            "2017-03-01",  # repeated values are parsed once and kept in place
        ],
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    out = calendar_days(values)
    assert out.index.tolist() == values.index.tolist()
    assert out.tolist() == [
        "2016-11-29", "2017-03-01", "2017-03-01", None, None, None, "2017-03-01", "2017-03-01",
    ]  # fmt: skip


def test_datetime_columns_naive_and_aware():
    naive = pd.Series(pd.to_datetime(["2016-11-30 23:00", None]))
    assert calendar_days(naive).tolist() == ["2016-11-30", None]
    aware = pd.Series(pd.to_datetime(["2016-11-30T23:30:00-05:00"], utc=True))
    assert calendar_days(aware).tolist() == ["2016-12-01"]
    assert calendar_day(datetime(2016, 11, 30, 23, 30, tzinfo=UTC)) == date(2016, 11, 30)


def test_real_payload_dates_of_each_feed():
    """ReliefWeb's `date.original`, UCDP's `date_start` (both recorded responses) and HAPI's
    `reference_period_start` as the feeds send them; HAPI's timestamp form as its API
    documents it ("2023-01-01T00:00:00")."""
    reliefweb = json.loads((FEEDS / "reliefweb" / "recorded_v1_reports_NPL.json").read_text())
    originals = [r["fields"]["date"]["original"] for r in reliefweb["data"]]
    assert originals[0] == "2020-09-17T00:00:00+00:00"
    assert calendar_days(pd.Series(originals)).iloc[0] == "2020-09-17"
    ucdp = json.loads((FEEDS / "ucdp" / "recorded_gedevents_25.1_pagesize1_page0.json").read_text())
    assert calendar_day(ucdp["Result"][0]["date_start"]) == date(2010, 5, 13)
    hapi = json.loads((FEEDS / "hapi" / "food-prices.json").read_text())
    assert calendar_day(hapi[0]["reference_period_start"]) == date(2017, 1, 15)
    assert calendar_day("2023-01-01T00:00:00") == date(2023, 1, 1)


def test_real_dtm_reporting_dates():
    """DTM's `reportingDate` from a real DTM v3 answer, read where it lies (DTM's terms forbid
    committing its data)."""
    sample = SHARED / "api-samples" / "iom-dtm" / "displacement-admin2-admin0pcode-tcd.json"
    skip_unless_shared(sample)
    payload = json.loads(sample.read_text())
    records = payload["result"] if isinstance(payload, dict) else payload
    raw = pd.Series([r["reportingDate"] for r in records])
    days = calendar_days(raw)
    assert days.notna().all()
    assert (days == raw.str.slice(0, 10)).all()  # naive midnight: the written day


def test_a_ucdp_event_with_a_date_that_is_no_iso_day_is_rejected_naming_it():
    """The recorded UCDP event as UCDP sent it, and again with its date written "2010/05/13
    00:00": the first is stored on its day, the second rejected with the text it carried
    (a cut to ten characters would have stored it on a day that looks right by accident)."""
    from data_sources.formats.ucdp import ged_figures
    from data_sources.model.validation import validate

    payload = json.loads(
        (FEEDS / "ucdp" / "recorded_gedevents_25.1_pagesize1_page0.json").read_text()
    )
    event = payload["Result"][0]
    bad = {**event, "id": "altered", "date_start": "2010/05/13 00:00"}
    rows = ged_figures(pd.DataFrame([event, bad]), "https://ucdpapi.pcr.uu.se/api/gedevents/25.1")
    good, rejected = validate(rows.assign(source="ucdp", citation="UCDP GED 25.1"))
    assert set(good["period_start"].dt.strftime("%Y-%m-%d")) == {"2010-05-13"}
    assert set(rejected["reason"]) == {
        "unreadable period start 'not an ISO date: 2010/05/13 00:00'"
    }


def _wfp_sheet(rows: list[str]) -> str:
    from tests.test_cli import WFP_HEADER

    return WFP_HEADER + "".join(rows)


# a real row of WFP's Syria prices (tests/test_cli.py ROWS: Aleppo, wheat flour, 2016), its
# date written as a sheet exported from another system might write it
ALEPPO = (
    "{date},Aleppo,Jebel Saman,Aleppo,1544,36.2,37.16,cereals and tubers,Wheat flour,58,"
    "KG,actual,Retail,SYP,165,0.75\n"
)


@pytest.mark.parametrize(
    "dates",
    [
        ["2016-01-15", "2016-03-01T01:00:00+03:00"],  # offsets on some dates only
        ["2016-01-15T12:00:00Z", "2016-03-01T01:00:00+03:00"],  # on every date
    ],
)
def test_a_sheet_with_time_zones_imports_each_price_in_its_utc_month(dates):
    """pandas refuses a column mixing offsets and naive dates whole: the import ended in a
    traceback. Now each date counts in UTC: 01:00 on 1 March 2016 at +03:00 is 29 February."""
    from data_sources.formats.hxl import parse_hxl_csv
    from data_sources.model.validation import validate

    sheet = _wfp_sheet([ALEPPO.format(date=d) for d in dates])
    good, rejected = validate(parse_hxl_csv(sheet, name="prices.csv", source="wfp"))
    assert rejected.empty
    months = good[good["unit"] == "SYP/KG"]["period_start"].dt.strftime("%Y-%m").tolist()
    assert months == ["2016-01", "2016-02"]


def test_figures_with_mixed_time_zones_are_validated_on_their_utc_day():
    from data_sources.model.validation import validate

    rows = pd.DataFrame(
        {
            "source": "test",
            "metric": "idps",
            "place_raw": "Mosul",
            "country_iso3": "IRQ",
            "period_start": ["2017-01-08", "2017-01-09T01:00:00+03:00", "08/01/2017 garbage"],
            "value": 135500,
            "unit": "people",
            "estimate": "reported",
        }
    )
    good, rejected = validate(rows.assign(period_end=rows["period_start"]))
    assert good["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2017-01-08", "2017-01-08"]
    assert rejected["reason"].tolist() == ["unreadable period start '08/01/2017 garbage'"]


def test_a_value_that_is_no_day_is_kept_as_sent_for_its_reject_reason():
    """A normalizer's period keeps what the feed sent when it is no ISO day, so validation's
    reject quotes it; a real day is the calendar day (an offset counts on its UTC day)."""
    from data_sources.model.dates import days_or_text

    sent = pd.Series(["2016-11-30T23:30:00-05:00", "30/11/2016", None, "2023-01-01T00:00:00"])
    assert days_or_text(sent).tolist() == [
        "2016-12-01",
        "not an ISO date: 30/11/2016",
        "not an ISO date: ",
        "2023-01-01",
    ]
