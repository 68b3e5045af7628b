"""Admin 1 and admin 2 areas by p-code, from OCHA's Global P-Code list (vendored, see
`cod_pcodes_adm_1_2.md` for its source and licence).

A p-code names one area: two districts with distinct p-codes are two places however close
their names are ("Ouango" CF622 and "Kouango" CF434), and one p-code is one place however a
source spells its name. Where a source gives names but no p-code, the area is found by its
name within its country (and its parent, when the row names one): exactly after folding,
else by the name's consonants when exactly one area of that level in that country has them,
so that transliterations that differ in their vowels ("Nīnawá", "Ninewa") meet, while a
name that could be two areas is never guessed.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from data_sources.model.places import admin_key

PCODES_FILE = Path(__file__).with_name("cod_pcodes_adm_1_2.csv.gz")


@dataclass(frozen=True)
class Area:
    pcode: str
    iso3: str
    level: int
    name: str
    parent: str  # the parent's p-code (the country's ISO3 for an admin 1 area)


def _skeleton(key: str, loose: bool = False) -> str:
    """A folded name's consonants (`admin_key` first): "ninawa" and "ninewa" are "nnw";
    `loose` also drops the letters transliterations write for vowels or leave out (w, y,
    h) and writes doubled ones once: "mawsil" and "mosul" are "msl", "tall-afar" and
    "telafar" "tlfr". Only used when it names one area of a level (and
    parent) in one country, and when it has three letters or more."""
    if not loose:
        return re.sub(r"[aeiouy\-]+", "", key)
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouywh\-]+", "", key))


class AdminAreas:
    """The vendored p-code list with lookups by code and by (country, level, name)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.areas: dict[str, Area] = {}
        for iso3, level, pcode, name, parent in frame.itertuples(index=False):
            area = Area(str(pcode).upper(), str(iso3).upper(), int(level), str(name), str(parent))
            self.areas[area.pcode] = area
        # name indexes per country, built on first use (folding 32k names takes seconds)
        self._indexes: dict[str, tuple[dict, dict, dict]] = {}

    def _index(self, iso3: str) -> tuple[dict, dict, dict]:
        """(folded name, consonants, loose consonants) -> p-codes, of one country's areas."""
        if iso3 not in self._indexes:
            by_key: dict[tuple[int, str], list[str]] = {}
            by_skeleton: dict[tuple[int, str], list[str]] = {}
            by_loose: dict[tuple[int, str], list[str]] = {}
            for area in self.areas.values():
                if area.iso3 == iso3:
                    key = admin_key(area.name)
                    by_key.setdefault((area.level, key), []).append(area.pcode)
                    by_skeleton.setdefault((area.level, _skeleton(key)), []).append(area.pcode)
                    by_loose.setdefault((area.level, _skeleton(key, True)), []).append(area.pcode)
            self._indexes[iso3] = (by_key, by_skeleton, by_loose)
        return self._indexes[iso3]

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(a.iso3 for a in self.areas.values())

    def by_pcode(self, pcode: str) -> Area | None:
        return self.areas.get((pcode or "").strip().upper())

    def find(
        self, iso3: str, level: int, name: str, parent: str = "", exact: bool = False
    ) -> Area | None:
        """The one area of that level and country with that name (under `parent`, a p-code,
        when given; by the folded name only when `exact`); None when there is none or more
        than one."""
        if not name or not iso3:
            return None
        key = admin_key(name)
        by_key, by_skeleton, by_loose = self._index(iso3.upper())
        tries = [(by_key, key)]
        # a skeleton of one or two letters ("Of": "f") would meet too many other names
        for index, skeleton in ((by_skeleton, _skeleton(key)), (by_loose, _skeleton(key, True))):
            if len(skeleton) >= 3 and not exact:
                tries.append((index, skeleton))
        for index, wanted in tries:
            codes = index.get((level, wanted), [])
            if parent:
                codes = [c for c in codes if self.areas[c].parent == parent]
            if len(codes) == 1:
                return self.areas[codes[0]]
            if len(codes) > 1:
                return None  # two areas of that name: never a guess
        return None


@lru_cache(maxsize=1)
def admin_areas() -> AdminAreas:
    """One list per process (32,767 areas, read in well under a second)."""
    with gzip.open(PCODES_FILE, "rt", encoding="utf-8") as handle:
        frame = pd.read_csv(
            handle,
            usecols=["Location", "Admin Level", "P-Code", "Name", "Parent P-Code"],
            dtype=str,
            keep_default_na=False,
        )
    return AdminAreas(frame)
