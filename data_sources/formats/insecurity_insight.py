"""Insecurity Insight's incident sheets (attacks on health care, education in danger) placed on
the place each incident happened, by its coordinates, at the precision the sheet gives.

The generic HXL import reads these sheets' columns by their tags (`#affected +healthworker
+injured` is `healthworkers_injured`, never a death) and puts every incident on the admin-1
area its row names, since the sheets carry no place name. Their rows do carry a point and a
"Geo Precision" (an untagged column): "(2) 25 km Precision" or "(3) District, Communicipality
or Commune" is a point a city can be read from, "(4) Province, State, Governorate" is only
the governorate, "(6) Country" only the country. Reading that column is what lets an injury
series exist per city (Aleppo, Mosul) rather than per governorate, without a guess: a point
is a city only when a city of its country lies within `places.NEAREST_CITY_RADIUS_KM`
(`places.Gazetteer._point`), else it is its governorate's.

Every incident is an event: its killed, injured and kidnapped figures are summed per place
and day by the store (aggregate.py), as flows of disjoint incidents.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
from pathlib import Path

import pandas as pd

from data_sources.formats.hxl import parse_hxl_csv
from data_sources.model.aggregate import EVENT

PRECISION_HEADER = "Geo Precision"
# the sheets' word for an admin-1 area they do not know: no area at all
NO_INFORMATION = "no information"
# precision codes whose point is no place finer than a governorate, or than the country
GOVERNORATE_PRECISION = frozenset({"4"})
COUNTRY_PRECISION = frozenset({"6"})
_CODE = re.compile(r"^\s*\((\d+)\)")


def read_text(path: Path) -> str:
    """The sheet's text, plain or xz-compressed."""
    if path.suffix == ".xz":
        with lzma.open(path, "rt", encoding="utf-8", newline="") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def precisions(text: str, name: str) -> dict[str, str]:
    """Each data row's reference (`file:line`, as `parse_hxl_csv` writes it) -> the code of
    its "Geo Precision" ("2", "4", …; "" when the sheet has no such column or the cell is
    empty)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    header = next(reader, [])
    next(reader, None)  # the HXL row
    try:
        at = [h.strip() for h in header].index(PRECISION_HEADER)
    except ValueError:
        return {}
    out = {}
    for cells in reader:
        if not cells or all(not c.strip() for c in cells) or len(cells) <= at:
            continue
        found = _CODE.match(cells[at])
        out[f"{name}:{reader.line_num}"] = found.group(1) if found else ""
    return out


def place_by_precision(frame: pd.DataFrame, codes: dict[str, str]) -> pd.DataFrame:
    """The rows' place kinds from their precision: a point (its city, else its governorate),
    a governorate, or the country. "No Information" names no admin-1 area."""
    out = frame.copy()
    admin1 = out["admin1"].astype(str)
    out["admin1"] = admin1.where(admin1.str.strip().str.casefold() != NO_INFORMATION, "")
    code = out["row_ref"].map(codes).fillna("")
    lat = pd.to_numeric(out["lat"], errors="coerce")
    lon = pd.to_numeric(out["lon"], errors="coerce")
    has_point = lat.notna() & lon.notna()
    country = code.isin(COUNTRY_PRECISION) | (~has_point & (out["admin1"] == ""))
    governorate = ~country & (code.isin(GOVERNORATE_PRECISION) | ~has_point)
    point = ~country & ~governorate
    out.loc[point, "place_kind"] = "point"
    out.loc[point, "place_raw"] = ""
    out.loc[governorate, "place_kind"] = "governorate"
    out.loc[governorate, "place_raw"] = out.loc[governorate, "admin1"]
    out.loc[country, "place_kind"] = "country"
    out.loc[country, "place_raw"] = out.loc[country, "country_iso3"]
    # a country-precision point is the country's centroid or a guess of the sheet's: not read
    out["lat"], out["lon"] = lat.where(~country), lon.where(~country)
    out["row_kind"] = EVENT  # one incident: its figures add up per place and day
    return out


def read_incidents(
    path: Path,
    *,
    source: str,
    source_url: str = "",
    citation: str = "",
    licence: str = "",
) -> pd.DataFrame:
    """An Insecurity Insight incident sheet (HDX's CSV with its HXL row, plain or .xz) as
    figure rows placed by precision (module docstring); the columns are read as any HXL
    sheet's (`parse_hxl_csv`), so a column not read is listed the same way."""
    text = read_text(path)
    name = path.name[: -len(".xz")] if path.suffix == ".xz" else path.name
    frame = parse_hxl_csv(
        text,
        name=name,
        source=source,
        source_url=source_url,
        citation=citation,
        licence=licence,
    )
    out = place_by_precision(frame, precisions(text, name))
    out.attrs.update(frame.attrs)
    return out
