"""UCDP GED events, from the API or a CSV download (HDX's per-country files included), to
figure rows: one shape for the connector and for `import`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data_sources.model.aggregate import event_figures, event_places
from data_sources.model.dates import days_or_text
from data_sources.model.places import gazetteer
from data_sources.model.validation import conform

# UCDP's type_of_violence codes (GED codebook): the breakdown of every figure
VIOLENCE = {
    "1": "state-based conflict",
    "2": "non-state conflict",
    "3": "one-sided violence",
}
# the columns that make a table UCDP GED events (the API's records and the CSV downloads,
# HDX's per-country files included)
GED_COLUMNS = frozenset(
    ("id", "where_coordinates", "latitude", "longitude", "date_start", "date_end", "best")
)
EVENTS_COLUMN = "_events"  # a row that is several events added up says how many
# every column `ged_figures` reads: a streamed import keeps only these
GED_USED = GED_COLUMNS | {
    "type_of_violence", "iso3", "country", "adm_1", "adm_2", "low", "high", "deaths_civilians",
}  # fmt: skip


def ged_figures(df: pd.DataFrame, url: str, country_iso3: str = "") -> pd.DataFrame:
    """UCDP GED events (API records or a CSV's rows, one per event) to figure rows marked as
    events: deaths best, low and high (`conflict_fatalities`), civilian deaths apart
    (`civilians_killed`), and one `conflict_events` per event; in total (breakdown "") and
    by type of violence, each reported location its own site. The store sums events per site, day and
    type (aggregate.py). Placed on the city the location is (by its name, near its
    coordinates), else on its district or governorate (`places.Gazetteer.resolve_one`)."""
    text = lambda col: df[col].fillna("").astype(str).str.strip()  # noqa: E731
    violence: pd.Series | str = ""
    if "type_of_violence" in df:
        raw = text("type_of_violence").str.replace(r"\.0$", "", regex=True)
        violence = raw.map(VIOLENCE).fillna("type of violence " + raw).where(raw != "", "")
    country = pd.Series(country_iso3, index=df.index, dtype=object)
    if "iso3" in df:  # HDX's files carry it
        country = text("iso3").where(text("iso3") != "", country)
    elif "country" in df and not country_iso3:  # UCDP's own CSV names the country
        names = text("country")
        codes = {n: gazetteer().country(n) or n for n in names.unique()}
        country = names.map(codes)
    day = days_or_text(df["date_start"])  # no ISO day: rejected, quoting what UCDP sent
    # UCDP dates an event by its earliest and latest possible day; it is counted on its
    # earliest, as UCDP's monthly sums count it (Aleppo's 459 deaths of 15 November -
    # 12 December 2016 are November's), so that a month on any page is UCDP's month and an
    # uncertain date never splits or moves an event
    place = event_places(
        site=text("where_coordinates"),
        lat=df["latitude"],
        lon=df["longitude"],
        admin1=text("adm_1") if "adm_1" in df else "",
        admin2=text("adm_2") if "adm_2" in df else "",
        country_iso3=country,
        place_kind="locality",  # a named place: its city, else its district/governorate
        day=day,
        qualifier=violence,
    )
    # one per event, or how many events a row already sums (a streamed import)
    one = df[EVENTS_COLUMN] if EVENTS_COLUMN in df else pd.Series(1, index=df.index)
    figures = {
        "best": ("conflict_fatalities", "people", "best", df["best"]),
        "low": ("conflict_fatalities", "people", "low", df["low"]) if "low" in df else None,
        "high": ("conflict_fatalities", "people", "high", df["high"]) if "high" in df else None,
        "civilians": (
            ("civilians_killed", "people", "best", df["deaths_civilians"])
            if "deaths_civilians" in df
            else None
        ),
        "events": ("conflict_events", "events", "best", one),
    }
    figures = {k: v for k, v in figures.items() if v}
    total = event_figures(place.assign(qualifier=""), df["id"], url, figures)
    if isinstance(violence, str):
        return total
    # the total (breakdown "", what Trends shows first) and, beside it, each type of violence
    return pd.concat([total, event_figures(place, df["id"], url, figures)], ignore_index=True)


def read_ged_csv(
    path: Path,
    *,
    source: str,
    source_url: str,
    citation: str,
    licence: str,
    country_iso3: str = "",
) -> pd.DataFrame:
    """A UCDP GED CSV file (UCDP's own download, or HDX's per-country file with its HXL row;
    plain or compressed, as pandas reads it) to figure rows, with the file's provenance.

    The bundled snapshot reads its UCDP files through this: they are event lists whose rows
    the store adds up per place, day and type of violence, like `import` does."""
    events = pd.read_csv(path, dtype=str, keep_default_na=False)
    if len(events) and events.iloc[0].str.startswith("#").any():
        events = events.iloc[1:]  # HDX's HXL row (line 2, its id cell empty) is not an event
    events = events.drop_duplicates()  # the same event twice is one event
    out = ged_figures(events, source_url, country_iso3).assign(
        dataset=Path(path).name.split(".")[0],
        source=source,
        source_url=source_url,
        citation=citation,
        licence=licence,
    )
    return conform(out)
