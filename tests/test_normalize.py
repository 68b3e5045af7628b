"""Each bundled dataset normalizes to the figures its source file states."""

import pandas as pd
import pytest

from data_sources.formats.hxl import HXLFormatError, parse_hxl_csv
from data_sources.formats.reported import parse_reported
from data_sources.formats.unhcr import parse_idmc, parse_unhcr_population
from data_sources.model.validation import validate
from data_sources.snapshot import MANIFEST, SNAPSHOT_DIR


@pytest.fixture(scope="module")
def wfp():
    item = next(m for m in MANIFEST if m.file == "wfp_food_prices_syr.csv")
    return item.read(SNAPSHOT_DIR / item.file)


def test_wfp_aleppo_wheat_flour_price_january_2016(wfp):
    # Source row: SYR,2016-01-15,Aleppo,Jebel Saman,Aleppo,...,Wheat flour,...,KG,...,SYP,165,0.75
    rows = wfp[
        (wfp.site == "Aleppo")
        & (wfp.qualifier == "Wheat flour, retail")
        & (wfp.period_start.astype(str) == "2016-01-01")
    ]
    by_unit = dict(zip(rows.unit, rows.value.astype(float), strict=True))
    assert by_unit == {"SYP/KG": 165.0, "USD/KG": 0.75}
    assert set(rows.period_end.astype(str)) == {"2016-01-31"}
    assert set(rows.admin2) == {"Jebel Saman"}


def test_wfp_reads_every_price_row_in_both_currencies(wfp):
    """Each row twice (local currency, USD), but an exchange rate once: its "USD price" of a
    US dollar (about 1, unit "USD/USD/LCU") is no figure."""
    raw = pd.read_csv(SNAPSHOT_DIR / "wfp_food_prices_syr.csv", skiprows=[1], dtype=str)
    rates = raw["commodity"].str.startswith("Exchange rate").sum()
    assert rates == 260
    assert len(wfp) == 2 * len(raw) - rates == 56_028 - 260
    assert wfp.source.unique().tolist() == ["wfp"]
    assert wfp.licence.unique().tolist() == ["CC BY-IGO"]


def test_wfp_siege_prices_in_aleppo_december_2016(wfp):
    # Besieged east Aleppo (Al-Cha'ar market) against west Aleppo (Moghambo), same month.
    rows = wfp[
        (wfp.qualifier == "Wheat flour, retail")
        & (wfp.unit == "SYP/KG")
        & (wfp.period_start.astype(str) == "2016-12-01")
        & (wfp.admin2 == "Jebel Saman")
    ]
    assert dict(zip(rows.site, rows.value.astype(float), strict=True)) == {
        "Al-Cha'ar": 3500.0,
        "Moghambo": 225.0,
    }


def test_unhcr_iraq_idps_match_the_source():
    df = pd.read_csv(
        SNAPSHOT_DIR / "population_irq_syr_derived.csv", dtype=str, keep_default_na=False
    )
    out = parse_unhcr_population(df, "population.csv")
    idps = out[(out.metric == "idps") & (out.country_iso3 == "IRQ")]
    by_year = dict(zip(idps.period_end.str[:4], idps.value.astype(float), strict=True))
    assert by_year["2014"] == 3_596_356
    assert by_year["2016"] == 3_604_285
    assert by_year["2017"] == 2_615_988
    assert set(idps.place_kind) == {"country"}


def test_unhcr_refugee_total_is_the_sum_over_asylum_countries():
    df = pd.read_csv(
        SNAPSHOT_DIR / "population_irq_syr_derived.csv", dtype=str, keep_default_na=False
    )
    out = parse_unhcr_population(df, "population.csv")
    syr = out[
        (out.metric == "refugees_from")
        & (out.country_iso3 == "SYR")
        & (out.period_end == "2016-12-31")
    ]
    total = syr[syr.qualifier == ""].value.astype(float).item()
    parts = syr[syr.qualifier != ""].value.astype(float).sum()
    assert total == pytest.approx(parts)
    assert total > 5_000_000  # UNHCR counted over five million Syrian refugees at end 2016


def test_idmc_totals():
    df = pd.read_csv(SNAPSHOT_DIR / "idmc_irq_syr_derived.csv", dtype=str)
    out = parse_idmc(df, "idmc.csv")
    first = out[(out.country_iso3 == "IRQ") & (out.period_end == "2009-12-31")]
    assert first.value.astype(float).item() == 2_764_000


def test_reported_figures_carry_url_and_source_and_keep_regions():
    df = pd.read_csv(SNAPSHOT_DIR / "reported_figures.csv", dtype=str, keep_default_na=False)
    out = parse_reported(df, "reported_figures.csv")
    assert (out.source_url.str.startswith("http")).all()
    pair = out[(out.place_raw == "Iraq and Syria") & (out.metric == "civilians_killed")]
    assert dict(zip(pair.dataset, pair.value.astype(float), strict=True)) == {
        "Airwars": 2013.0,
        "US Department of Defense": 173.0,
    }
    assert set(pair.place_kind) == {"region"}
    quoted = out[out.quote != ""]
    assert len(quoted) >= 20
    # every quoted figure appears in its own quote, as printed (with thousands separators)
    words = {9: "Nine"}
    for row in quoted.itertuples():
        value = float(row.value)
        spellings = [
            f"{value:,.0f}",
            f"{value:.0f}",
            f"{value / 1e6:g} million",
            words.get(int(value), "-"),
        ]
        assert any(s in row.quote for s in spellings), (row.value, row.quote)


def test_hxl_finds_columns_by_hashtag_not_header():
    text = "Fecha,Distrito,Desplazados\n#date,#adm2+name,#affected+idps\n2017-01-08,Mosul,135500\n"
    out = parse_hxl_csv(text, name="desplazados_irq.csv")
    assert out[["metric", "place_raw", "value", "country_iso3"]].values.tolist() == [
        ["idps", "Mosul", "135500", "IRQ"]
    ]


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("a,b\n2016-01-01,5\n", 2, "no HXL hashtag row"),
        ("a,b\n#date,#affected+idps\n2016-01-01,5,6\n", 3, "3 fields where the header has 2"),
        ('a,b\n#date,#affected+idps\n2016-01-01,"5\n', 3, "unreadable CSV"),
        ("a,b\n#adm1+name,#affected+idps\nX,5\n", 2, "no date column"),
        ("a,b\n#date,#meta+x\n2016-01-01,5\n", 2, "no figure column recognised"),
    ],
)
def test_malformed_hxl_names_line_and_problem(text, line, message):
    with pytest.raises(HXLFormatError) as err:
        parse_hxl_csv(text, name="bad.csv")
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"bad.csv, line {line}")


def test_validation_rejects_with_reasons():
    rows = pd.DataFrame(
        {
            "source": "t",
            "dataset": "d",
            "metric": ["idps", "idps", "idps", "nope", "idps", "idps"],
            "value": ["10", "-5", "abc", "1", "2e12", "7"],
            "unit": "people",
            "estimate": "best",
            "period_start": [
                "2017-01-01",
                "2017-01-01",
                "2017-01-01",
                "2017-01-01",
                "2017-01-01",
                "2017-02-01",
            ],
            "period_end": [
                "2017-01-31",
                "2017-01-31",
                "2017-01-31",
                "2017-01-31",
                "2017-01-31",
                "2017-01-01",
            ],
            "place_raw": "Mosul",
        }
    )
    good, bad = validate(rows)
    assert good.value.tolist() == [10.0]
    assert good.period_start.tolist() == [pd.Timestamp(2017, 1, 1)]
    assert bad.reason.tolist() == [
        "negative value -5.0",
        "value is not a number: 'abc'",
        "unknown metric 'nope'",
        "absurd value 2000000000000.0 above the plausible maximum for idps",
        "period ends before it starts",
    ]
