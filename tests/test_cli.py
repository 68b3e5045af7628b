"""The command line, run as a user would: a real process, a real store on each backend."""

import json

import sqlalchemy as sa

from tests.cli import ROOT, run  # noqa: F401 - other modules import them from here

WFP_HEADER = (
    "date,admin1,admin2,market,market_id,latitude,longitude,category,commodity,"
    "commodity_id,unit,priceflag,pricetype,currency,price,usdprice\n"
    "#date,#adm1+name,#adm2+name,#loc+market+name,#loc+market+code,#geo+lat,#geo+lon,"
    "#item+type,#item+name,#item+code,#item+unit,#item+price+flag,#item+price+type,"
    "#currency+code,#value,#value+usd\n"
)
# two real rows of WFP's Syria file (2016-01-15, Aleppo market) and a price that is not a number
ROWS = (
    "2016-01-15,Aleppo,Jebel Saman,Aleppo,1544,36.2,37.16,cereals and tubers,Wheat flour,58,"
    "KG,actual,Retail,SYP,165,0.75\n"
    "2016-02-15,Aleppo,Jebel Saman,Aleppo,1544,36.2,37.16,cereals and tubers,Wheat flour,58,"
    "KG,actual,Retail,SYP,165,0.75\n"
    "2016-03-15,Aleppo,Jebel Saman,Aleppo,1544,36.2,37.16,cereals and tubers,Wheat flour,58,"
    "KG,actual,Retail,SYP,n/a,0.8\n"
)


def observations(url: str) -> int:
    """Figures stored at `url`; 0 when the store was never even created."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("observations"):
                return 0
            return conn.exec_driver_sql("SELECT count(*) FROM observations").scalar()
    finally:
        engine.dispose()


def test_import_reports_stored_revised_and_rejected(tmp_path, store_url):
    sheet = tmp_path / "wfp_food_prices_syr.csv"
    sheet.write_text(WFP_HEADER + ROWS)
    db = store_url
    done = run(db, "import", str(sheet))
    assert done.returncode == 0, done.stderr
    assert "│       6 │   5 │       0 │         0 │        1 │" in done.stdout
    assert "value is not a number" in done.stdout
    again = run(db, "import", str(sheet))
    assert "│       6 │   0 │       0 │         5 │        1 │" in again.stdout
    revised = sheet.read_text().replace(",SYP,165,0.75\n2016-02", ",SYP,170,0.75\n2016-02")
    sheet.write_text(revised)
    third = run(db, "import", str(sheet))
    assert "│       6 │   0 │       1 │         4 │        1 │" in third.stdout
    assert observations(db) == 6  # 5 figures and one revision, nothing overwritten


def test_malformed_file_names_line_and_column_and_writes_nothing(tmp_path, store_url):
    sheet = tmp_path / "broken.csv"
    sheet.write_text(WFP_HEADER + ROWS + "2016-04-15,Aleppo,Jebel Saman,Aleppo\n")
    db = store_url
    done = run(db, "import", str(sheet))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "broken.csv, line 6, column 'market': 4 fields where the header has 16" in message
    assert observations(db) == 0


def test_series_prints_one_normalized_series(tmp_path, store_url):
    sheet = tmp_path / "wfp_food_prices_syr.csv"
    sheet.write_text(WFP_HEADER + ROWS)
    db = store_url
    run(db, "import", str(sheet))
    done = run(
        db,
        "series",
        "--city",
        "aleppo",
        "--metric",
        "food_price",
        "--unit",
        "SYP/KG",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [
        (r["period_start"], r["period_end"], r["value"], r["unit"], r["city"]) for r in rows
    ] == [
        ("2016-01-01", "2016-01-31", 165.0, "SYP/KG", "Aleppo"),
        ("2016-02-01", "2016-02-29", 165.0, "SYP/KG", "Aleppo"),
    ]
    csv = run(db, "series", "--city", "Aleppo", "--metric", "food_price")
    assert csv.stdout.splitlines()[0].startswith("period_start,period_end,value,unit,source,city")


def test_series_for_unknown_city_is_a_clear_error(store_url):
    done = run(store_url, "series", "--city", "Atlantis", "--metric", "idps")
    assert done.returncode == 1
    assert "no figures stored for city 'Atlantis'" in done.stderr


def provenance_rows(url: str) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(
                {
                    tuple(r)
                    for r in conn.exec_driver_sql(
                        "SELECT s.source, p.licence, p.citation FROM series s "
                        "JOIN observations o ON o.series_id = s.series_id "
                        "JOIN provenance p ON p.provenance_id = o.provenance_id"
                    )
                }
            )
    finally:
        engine.dispose()


def test_an_imported_file_is_its_own_source_with_the_licence_given_or_unknown(tmp_path, store_url):
    """A price sheet is not WFP's data because it looks like WFP's: without --source it is
    named after the file, and its licence is "unknown" unless the user gives one."""
    sheet = tmp_path / "market_monitor_aleppo.csv"
    sheet.write_text(WFP_HEADER + ROWS)
    done = run(store_url, "import", str(sheet))
    assert done.returncode == 0, done.stderr
    assert provenance_rows(store_url) == [
        ("market_monitor_aleppo", "unknown", "market_monitor_aleppo.csv")
    ]
    named = tmp_path / "wfp_food_prices_syr.csv"
    named.write_text(WFP_HEADER + ROWS.replace("2016-0", "2017-0"))
    done = run(
        store_url, "import", str(named), "--source", "wfp", "--licence", "CC BY-IGO",
        "--citation", "WFP VAM food prices, Syria (HDX)",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ("wfp", "CC BY-IGO", "WFP VAM food prices, Syria (HDX)") in provenance_rows(store_url)
