"""Which district, governorate and country each place is in, and totals by them.

A figure is stored at the most precise place its source names: a city near its
coordinates, else the district, else the governorate, else the country. "Which Iraqi
district had the most conflict deaths in 2017?" therefore needs each city put in its
district: a city's district is the one its sources named beside it (UCDP's `adm_2`, WFP's
`admin2`), found in OCHA's p-code list as the importer finds a district row's
(`admin_areas.find`), with the same place id (`places.admin_place_id`), so that a city's
figures and its district's own figures meet in one group. A figure whose source named no
district stays in a group that says so ("Aleppo (governorate): no district given"):
nothing is dropped and nothing is guessed.

Totals follow the one combination rule (`combine.chart_points`): per group, source and
breakdown, never across sources or breakdowns (UCDP's total and its three violence types
are four rows, not added), the best estimate with low–high beside it, markets never
averaged. Pure: DataFrame in, DataFrame out."""

from __future__ import annotations

import pandas as pd

from data_sources.model import combine
from data_sources.model.admin_areas import admin_areas
from data_sources.model.places import admin_name, admin_place_id

# what the Data page's totals can be grouped by: the column of `areas` each reads
GROUPINGS = {
    "place": "place",
    "district": "district",
    "governorate": "governorate",
    "country": "country",
}
AREA_COLUMNS = ["place_id", "district", "governorate", "country"]


def city_areas(iso3: str, admin1: str, admin2: str, pcode: str = "") -> tuple[str | None, ...]:
    """(district id, district name, governorate id, governorate name) that a source's admin
    names put a city in; None where it named none. COD areas by p-code; a name the list
    lacks keyed by its folded name, as the importer keys it."""
    cod = admin_areas()
    a1 = cod.find(iso3, 1, admin1) if admin1 else None
    a2 = cod.find(iso3, 2, admin2, parent=a1.pcode if a1 else "") if admin2 else None
    if a2 is not None:
        district = admin_place_id(2, iso3, a2.name, a2.pcode)
        district_name = a2.name
    else:
        district = admin_place_id(2, iso3, admin2, pcode) if admin2 else None
        district_name = admin_name(admin2) if district else None
    if a1 is None and a2 is not None and cod.by_pcode(a2.parent):
        a1 = cod.by_pcode(a2.parent)
    if a1 is not None:
        governorate = admin_place_id(1, iso3, a1.name, a1.pcode)
        governorate_name = a1.name
    else:
        governorate = admin_place_id(1, iso3, admin1) if admin1 else None
        governorate_name = admin_name(admin1) if governorate else None
    return district, district_name, governorate, governorate_name


def areas(places: pd.DataFrame, names: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """One row per place of `places` (place_id, kind, country_iso3, parent_id): the label of
    the place, its district, governorate and country to group by. `names` are the cities'
    admin names (`query.admin_names`: the names most series gave win); `labels` the store's
    place labels. An area with no figures of its own is labelled from the p-code list.

    A place without a district (a governorate's or country's own figures, a city whose
    sources named none) is grouped as "<what contains it>: no district given"; names
    given beside a city win over none, then the names most of its series gave."""
    by_place = places.set_index("place_id")
    chosen: dict[str, tuple] = {}
    if not names.empty:
        named = names.assign(
            _district=names["admin2"].fillna("").astype(str).str.strip() != "",
            _governorate=names["admin1"].fillna("").astype(str).str.strip() != "",
        )
        ranked = named.sort_values(
            ["place_id", "_district", "_governorate", "series"],
            ascending=[True, False, False, False],
            kind="stable",
        )
        for row in ranked.drop_duplicates("place_id").itertuples(index=False):
            chosen[row.place_id] = city_areas(row.country_iso3, row.admin1, row.admin2, row.pcode)
    rows = []
    for place in places.itertuples(index=False):
        iso3 = place.country_iso3 or ""
        country = labels.get(f"country:{iso3}", iso3) if iso3 else "(no country)"
        district = governorate = None
        if place.kind == "district":
            district = labels.get(place.place_id, place.place_id)
            parent = place.parent_id if isinstance(place.parent_id, str) else ""
            if parent.startswith("adm1:"):
                governorate = labels.get(parent, parent)
        elif place.kind == "governorate":
            governorate = labels.get(place.place_id, place.place_id)
        elif place.kind == "city" and place.place_id in chosen:
            d_id, d_name, g_id, g_name = chosen[place.place_id]
            if d_id:
                district = labels.get(d_id, f"{d_name} (district)")
                stored = by_place["parent_id"].get(d_id) if d_id in by_place.index else None
                if isinstance(stored, str) and stored.startswith("adm1:"):
                    g_id = stored
            if g_id:
                governorate = labels.get(g_id, f"{g_name} (governorate)")
        rows.append(
            {
                "place_id": place.place_id,
                "place": labels.get(place.place_id, place.place_id),
                "district": district
                or (
                    f"{governorate}: no district given"
                    if governorate
                    else f"{country}: no governorate or district given"
                ),
                "governorate": governorate or f"{country}: no governorate given",
                "country": country,
            }
        )
    return pd.DataFrame(rows, columns=["place_id", "place", *AREA_COLUMNS[1:]])


TOTAL_COLUMNS = ["group", "qualifier", "origin", "site", "unit", "period_label", "value"]
TOTAL_COLUMNS += ["low", "high", "figures", "places", "spans", "period"]


def totals(
    figures: pd.DataFrame, metric: str, placed: pd.DataFrame, by: str, per: str = "year"
) -> pd.DataFrame:
    """One metric's figures (`query.series_frame`, every estimate) totalled per `by` group
    (a `GROUPINGS` key), source, breakdown (and market and unit) and `per` period (month or
    year), by `combine.chart_points`. `places` counts the places whose figures a row adds.
    Sorted by period, then largest first."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}: choose one of {', '.join(GROUPINGS)}")
    if figures.empty:
        return pd.DataFrame(columns=TOTAL_COLUMNS)
    group = figures["place_id"].map(placed.set_index("place_id")[GROUPINGS[by]])
    work = figures.assign(group=group.fillna(figures["city"]))
    points = combine.chart_points(work, metric, per, by=("group", "qualifier", "unit"))
    if "site" not in points:
        points["site"] = ""
    one = combine.one_estimate(work)
    when, spans = combine.point_periods(one, combine.FREQUENCIES.get(per, "M"))
    keys = ["group", "origin", "qualifier", "unit", "period", "spans"]
    counted = (
        one.assign(period=when, spans=spans).groupby(keys)["place_id"].nunique().rename("places")
    )
    points = points.drop(columns="places", errors="ignore").merge(
        counted.reset_index(), on=keys, how="left"
    )
    points = points.sort_values(["period", "value"], ascending=[True, False], kind="stable")
    return points.reindex(columns=TOTAL_COLUMNS).reset_index(drop=True)
