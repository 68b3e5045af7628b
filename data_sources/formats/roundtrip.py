"""Situation Room's own HXL export, read back: another team's instance imports the Data page's
download (`figures_hxl.csv`, alone or in its ZIP) with the same figures, places, sources,
citations, quotes and links.

Every row already is a normalized figure, so nothing is inferred: each row keeps its own
source, dataset, licence and link, and its place is its place id (a city by its GeoNames
coordinates, a country by its code, a region by its name). Only the spreadsheet guard the
export puts on text cells (a leading `'` before `=`, `+`, `-`, `@`) is taken off again.
"""

from __future__ import annotations

import pandas as pd

from data_sources.formats.export import _NUMBER, EXPORT_COLUMNS, FORMULA_START
from data_sources.model.places import admin_key, gazetteer
from data_sources.model.validation import conform


def canonical(tag) -> str:
    """A parsed tag (formats.hxl.Tag) as text, attributes sorted: '#indicator+num+value'."""
    return "" if tag is None else "+".join([tag.hashtag, *sorted(tag.attributes)])


def _canonical_text(text: str) -> str:
    head, *attrs = text.lower().split("+")
    return "+".join([head, *sorted(attrs)])


TAG_TO_COLUMN = {_canonical_text(tag): column for column, tag in EXPORT_COLUMNS.items()}
MARKS = [_canonical_text(t) for t in ("#indicator+code", "#indicator+value+num", "#meta+source")]


def is_export(tags: list) -> bool:
    """True for a sheet tagged as Situation Room exports it (figure, value and source)."""
    found = {canonical(t) for t in tags}
    return all(mark in found for mark in MARKS)


def _unguard(value: str) -> str:
    """The export's spreadsheet guard taken off: "'=x" was "=x"."""
    guarded = value.startswith("'") and value[1:].startswith(FORMULA_START)
    return value[1:] if guarded and not _NUMBER.fullmatch(value[1:]) else value


def parse_export(tags: list, rows: list, name: str) -> pd.DataFrame:
    """Observation rows from an export's cells (parsed tags, (line, cells) per row)."""
    texts = [canonical(t) for t in tags]
    columns = {i: TAG_TO_COLUMN[t] for i, t in enumerate(texts) if t in TAG_TO_COLUMN}
    frame = pd.DataFrame(
        [[_unguard(cells[i]) for i in columns] for _, cells in rows],
        columns=list(columns.values()),
        dtype=object,
    )
    frame = frame.reindex(columns=[*EXPORT_COLUMNS]).fillna("")
    gaz = gazetteer()
    kind = (
        frame["place_id"]
        .str.partition(":")[0]
        .map(
            {
                "geonames": "city",
                "country": "country",
                "region": "region",
                "adm1": "governorate",
                "adm2": "district",
            }
        )
    )
    # pages and exports name a place that is not a city with its kind, "Mosul (district)":
    # the place's own name is the label without it
    frame["city"] = [
        name.removesuffix(f" ({k})") if isinstance(k, str) and k != "city" else name
        for name, k in zip(frame["city"], kind, strict=True)
    ]
    # a district's key is its p-code when its source gave one (else its folded name)
    key = frame["place_id"].str.split(":").str[2].fillna("")
    district = kind == "district"
    frame["pcode"] = ""
    frame.loc[district, "pcode"] = [
        "" if admin_key(name) == k else k
        for name, k in zip(frame.loc[district, "city"], key[district], strict=True)
    ]
    # an export without place ids (older releases): a country's name, else a city's
    named_country = frame["city"].map(lambda n: bool(gaz.country(n)))
    kind = kind.fillna(named_country.map({True: "country", False: "city"}))
    lat = pd.Series(float("nan"), index=frame.index)
    lon = lat.copy()
    for place_id in frame.loc[kind == "city", "place_id"].unique():
        if place_id.startswith("geonames:"):
            try:
                record = gaz.place_record(place_id)
            except (KeyError, ValueError):
                continue  # not in this instance's gazetteer: placed by name below
            here = frame["place_id"] == place_id
            lat[here], lon[here] = record["lat"], record["lon"]
    country = frame["country_iso3"].where(frame["country_iso3"] != "", frame["city"])
    out = frame.assign(
        place_kind=kind,
        place_raw=frame["city"].where(kind != "country", country),
        pcode=frame["pcode"],
        lat=lat,
        lon=lon,
        dataset=frame["dataset"].where(frame["dataset"] != "", frame["source"]),
        estimate=frame["estimate"].where(frame["estimate"] != "", "best"),
        row_ref=[f"{name}:{line}" for line, _ in rows],
    )
    return conform(out)
