"""Build the replay server's fixtures in tests/fixtures/feeds/ (run once; the output is committed).

Real values where the licence allows, taken from ../shared/data (see its SOURCES.md):
  - HAPI food prices: rows of the HAPI food-price table (WFP, CC BY-IGO) for Aleppo, 2017.
  - UCDP GED: the real Bangladesh events of the HDX per-country file (CC BY-IGO), as API records.
  - UNHCR: rows of the bundled UNHCR table (CC BY 4.0) for origin Syria, as API items; plus the
    recorded `coa=TUR` response, verbatim.
  - FTS: recorded responses, verbatim.
Synthetic values (marked in tests/fixtures/feeds/README.md): IOM DTM and ACLED (their terms forbid
redistribution), HAPI IDPs/needs/conflict events/population, ReliefWeb reports.

    python devtools/build_feed_fixtures.py ../shared/data
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "feeds"


def write(name: str, payload: object) -> None:
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    big = isinstance(payload, list) and len(payload) > 100
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=None if big else 1) + "\n")
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")


def hapi_food_prices(shared: Path) -> None:
    df = pd.read_csv(
        shared / "wfp-food-prices" / "hdx_hapi_food_price_global_2017.csv",
        dtype=str,
        keep_default_na=False,
    )
    df = df[(df.location_code == "SYR") & (df.admin1_name == "Aleppo")]
    df = df[df.commodity_name.isin(["Wheat flour", "Bread", "Rice", "Sugar"])]
    records = []
    for row in df.to_dict("records"):
        for key in ("price", "usd_price", "lat", "lon"):
            row[key] = float(row[key]) if row[key] else None
        row["admin_level"] = int(row["admin_level"])
        records.append(row)
    write("hapi/food-prices.json", records)


def ucdp_events(shared: Path) -> None:
    df = pd.read_csv(
        shared / "ucdp-ged" / "conflict_data_BGD.csv",
        skiprows=[1],
        dtype=str,
        keep_default_na=False,
    )
    numbers = [
        "id",
        "year",
        "type_of_violence",
        "where_prec",
        "country_id",
        "event_clarity",
        "date_prec",
        "deaths_a",
        "deaths_b",
        "deaths_civilians",
        "deaths_unknown",
        "low",
        "best",
        "high",
    ]
    records = []
    for row in df.to_dict("records"):
        for key in numbers:
            row[key] = int(row[key]) if row[key] else None
        for key in ("latitude", "longitude"):
            row[key] = float(row[key])
        row["date_start"] += "T00:00:00"
        row["date_end"] += "T00:00:00"
        records.append(row)
    write("ucdp/gedevents_BGD.json", records)


def unhcr(shared: Path) -> None:
    df = pd.read_csv(
        ROOT / "data_sources" / "snapshot" / "population_irq_syr_derived.csv",
        dtype=str,
        keep_default_na=False,
    )
    df = df[(df.coo_iso == "SYR") & df.year.isin(["2016", "2017"])]
    items = []
    for row in df.to_dict("records"):
        for key in (
            "refugees",
            "asylum_seekers",
            "returned_refugees",
            "idps",
            "returned_idps",
            "stateless",
            "ooc",
            "oip",
            "hst",
        ):
            row[key] = int(float(row[key])) if row.get(key) not in ("", None) else "-"
        row["year"] = int(row["year"])
        items.append(row)
    write("unhcr/population_SYR.json", items)
    shutil.copy(
        shared / "api-samples" / "unhcr" / "population_v1_year2024_coaTUR_limit5.json",
        OUT / "unhcr" / "recorded_coaTUR.json",
    )


def fts(shared: Path) -> None:
    (OUT / "fts").mkdir(parents=True, exist_ok=True)
    for name in ("1-public-location.json", "custom-search-locationid-114-year-2020.json"):
        shutil.copy(shared / "api-samples" / "ocha-fts" / name, OUT / "fts" / name)


def synthetic() -> None:
    """Structure of the real feeds, values invented and marked so (README beside them)."""
    months = ["2016-10", "2016-11", "2016-12"]
    districts = [("SY02", "Aleppo", "SY0200", "Jebel Saman"), ("SY02", "Aleppo", "SY0203", "Afrin")]
    idps, events, needs, pop = [], [], [], []
    for i, month in enumerate(months):
        start, end = f"{month}-01", pd.Period(month).end_time.strftime("%Y-%m-%d")
        for j, (a1, a1n, a2, a2n) in enumerate(districts):
            place = {
                "location_code": "SYR",
                "location_name": "Syrian Arab Republic",
                "admin1_code": a1,
                "admin1_name": a1n,
                "admin2_code": a2,
                "admin2_name": a2n,
                "admin_level": 2,
                "reference_period_start": start,
                "reference_period_end": end,
            }
            idps.append(
                {
                    **place,
                    "operation": "SYNTHETIC",
                    "assessment_type": "BA",
                    "reporting_round": i + 1,
                    "population": 1000 * (i + 1) + 100 * j,
                }
            )
            for kind, n in (("political_violence", 10 + i), ("civilian_targeting", 3 + i)):
                events.append(
                    {**place, "event_type": kind, "events": n + j, "fatalities": 2 * n + j}
                )
    needs.append(
        {
            "location_code": "SYR",
            "admin1_code": "SY02",
            "admin1_name": "Aleppo",
            "admin2_code": "SY0200",
            "admin2_name": "Jebel Saman",
            "admin_level": 2,
            "sector_code": "Intersectoral",
            "sector_name": "Intersectoral",
            "category": "",
            "population_status": "INN",
            "population": 5000,
            "reference_period_start": "2017-01-01",
            "reference_period_end": "2017-12-31",
        }
    )
    needs.append({**needs[0], "population_status": "TGT", "population": 4000})
    pop.append(
        {
            "location_code": "SYR",
            "admin1_code": "SY02",
            "admin1_name": "Aleppo",
            "admin2_code": "SY0200",
            "admin2_name": "Jebel Saman",
            "admin_level": 2,
            "gender": "all",
            "age_range": "all",
            "population": 20000,
            "reference_period_start": "2020-01-01",
            "reference_period_end": None,
        }
    )
    pop.append({**pop[0], "gender": "f", "population": 10100})
    write("hapi/idps.json", idps)
    write("hapi/conflict-events.json", events)
    write("hapi/humanitarian-needs.json", needs)
    write("hapi/baseline-population.json", pop)

    dtm = []
    for k, (day, rnd) in enumerate([("2017-01-31", 1), ("2017-02-28", 2)]):
        for reason, origin, n in (
            ("Conflict", "Ninewa", 1000),
            ("Conflict", "Anbar", 200),
            ("Other reason", "Not available", 30),
        ):
            dtm.append(
                {
                    "id": len(dtm) + 1,
                    "operation": "SYNTHETIC",
                    "admin0Name": "Iraq",
                    "admin0Pcode": "IRQ",
                    "admin1Name": "Ninewa",
                    "admin1Pcode": "IRQ-G15",
                    "admin2Name": "Al-Mosul",
                    "admin2Pcode": "IRQ-G15Q05",
                    "numPresentIdpInd": n * (k + 1),
                    "reportingDate": f"{day}T00:00:00",
                    "yearReportingDate": 2017,
                    "monthReportingDate": k + 1,
                    "roundNumber": rnd,
                    "displacementReason": reason,
                    "numberMales": None,
                    "numberFemales": None,
                    "idpOriginAdmin1Name": origin,
                    "idpOriginAdmin1Pcode": "Not available",
                    "assessmentType": "BA",
                }
            )
    write(
        "dtm/displacement-admin2_IRQ.json",
        {
            "result": dtm,
            "statusCode": 200,
            "isSuccess": True,
            "errorMessages": [],
            "totalRecordsCount": len(dtm),
        },
    )

    acled = []
    for k, (day, loc, lat, lon, kind, deaths) in enumerate(
        [
            ("2017-03-01", "Mosul", 36.335, 43.119, "Battles", 5),
            ("2017-03-01", "Mosul", 36.335, 43.119, "Explosions/Remote violence", 7),
            ("2017-03-01", "Mosul", 36.335, 43.119, "Battles", 1),
            ("2017-03-02", "Tall Afar", 36.376, 42.449, "Violence against civilians", 2),
        ]
    ):
        acled.append(
            {
                "event_id_cnty": f"SYN{k + 1}",
                "event_date": day,
                "year": "2017",
                "event_type": kind,
                "sub_event_type": "",
                "country": "Iraq",
                "iso": "368",
                "admin1": "Ninewa",
                "admin2": "Al-Mosul",
                "location": loc,
                "latitude": str(lat),
                "longitude": str(lon),
                "fatalities": str(deaths),
                "source": "SYNTHETIC",
            }
        )
    write(
        "acled/read_IRQ.json", {"status": 200, "success": True, "count": len(acled), "data": acled}
    )

    reports = []
    for k, day in enumerate(["2017-03-01", "2017-03-02", "2017-03-09", "2017-03-10", "2017-03-11"]):
        reports.append(
            {
                "id": 900000 + k,
                "score": 1,
                "fields": {
                    "title": f"SYNTHETIC report {k + 1} on Mosul",
                    "url": f"https://reliefweb.int/node/{900000 + k}",
                    "date": {"created": f"{day}T10:00:00+00:00"},
                },
            }
        )
    write("reliefweb/reports_Mosul.json", reports)

    write(
        "wfp/package_show_SYR.json",
        {
            "success": True,
            "result": {
                "name": "wfp-food-prices-for-syrian-arab-republic",
                "resources": [
                    {
                        "name": "wfp_food_prices_syr.csv",
                        "format": "CSV",
                        "url": "https://data.humdata.org/dataset/x/resource/y/download/wfp_food_prices_syr.csv",
                    },
                    {
                        "name": "wfp_markets_syr.csv",
                        "format": "CSV",
                        "url": "https://data.humdata.org/dataset/x/resource/z/download/wfp_markets_syr.csv",
                    },
                ],
            },
        },
    )


def main(shared: str) -> None:
    base = Path(shared)
    hapi_food_prices(base)
    ucdp_events(base)
    unhcr(base)
    fts(base)
    synthetic()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared" / "data"))
