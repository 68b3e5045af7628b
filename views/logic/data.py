"""Data page logic: what the figures table holds and says, and the change list's window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from data_sources import sources as registry
from data_sources.model.metrics import metric_label
from data_sources.store import asof
from views.escape import md

SHOWN_ROWS = 5_000
ALL = "(all)"
CHOSEN = "(the sidebar's cities)"
ANY_MONTH = "(any)"
KIND_ORDER = {"city": 0, "district": 1, "governorate": 2, "country": 3, "region": 4}
FIGURE_COLUMNS = [
    "city",
    "metric",
    "qualifier",
    "site",
    "period_start",
    "period_end",
    "value",
    "unit",
    "estimate",
    "origin",
    "source_url",
    "citation",
    "quote",
    "revision",
    "retrieved_at",
    "match_method",
    "match_score",
]


TEXT_COLUMNS = ["city", "qualifier", "site", "estimate", "citation", "quote", "match_method"]


def readable(figures: pd.DataFrame) -> pd.DataFrame:
    """The figures table as a reader reads it: each metric by its label and each source by
    its title (the downloads keep the codes a script reads), empty text as empty, not
    "None". The values themselves are untouched; the page prints them with separators."""
    out = figures[FIGURE_COLUMNS].copy()
    out["metric"] = out["metric"].map(metric_label)
    out["origin"] = out["origin"].map(lambda o: registry.title(str(o)))
    for column in TEXT_COLUMNS:
        out[column] = out[column].astype(object).where(out[column].notna(), "")
    return out


def match_line(total: int, shown_rows: int = SHOWN_ROWS) -> str:
    """The line above the figures table: how many match, and that only the first rows are
    shown while the downloads hold every one."""
    more = total > shown_rows
    return f"**{total:,} figures** match" + (
        f"; the first {shown_rows:,} are shown, downloads hold all." if more else "."
    )


@dataclass(frozen=True)
class Window:
    """The change list's window as typed: both ends parsed, or the one-line error."""

    since: datetime | None
    until: datetime | None
    error: str | None = None


def change_window(since_text: str, until_text: str) -> Window:
    """Parse the "Since" and "Until" boxes (a date or UTC time each; "Until" empty: now). A
    value that is not a moment, or an "Until" not after "Since", is one message and no list."""
    try:
        since = asof.parse_as_of(since_text)
        until = asof.parse_as_of(until_text)
        if since is not None and until is not None and until <= since:
            raise asof.AsOfError("“Until” must come after “Since”.")
    except asof.AsOfError as exc:
        return Window(None, None, md(str(exc), 200))
    return Window(since, until)


def since_within_store(
    since: datetime | None, moments: list[datetime]
) -> tuple[datetime | None, str | None]:
    """A "Since" before the store's first figure (`since=0001-01-01`) starts just before it:
    the same changes (nothing was stored earlier), and no date older than the store reaches
    a query or a date library. The message says so."""
    if since is None or not moments or since >= moments[0]:
        return since, None
    first = moments[0]
    return asof.one_microsecond_before(first), (
        f"“Since” is before the store's first figures: counting from them ({asof.describe(first)})."
    )


def window_line(since: datetime, until: datetime | None, counted: str) -> str:
    """The line above the change list: the window and the counts per kind of change."""
    return (
        f"Since {md(asof.describe(since), 80)}"
        + (f" until {md(asof.describe(until), 80)}" if until else "")
        + f": **{md(counted, 120)}**"
    )


def source_text(source: str) -> str:
    """A source filter's option as shown (and linked): "(all)", else the source's title."""
    return source if source == ALL else registry.title(str(source))


def country_options(cat: pd.DataFrame, places: pd.DataFrame) -> list[str]:
    """The countries (ISO3) whose places hold figures, by name: the Country filter's
    options after "(all)"."""
    held = places[places.place_id.isin(cat.place_id.unique())]
    codes = sorted(c for c in held.country_iso3.dropna().unique() if c)
    names = country_names(places)
    return [ALL, *sorted(codes, key=lambda c: names.get(c, c))]


def country_names(places: pd.DataFrame) -> dict[str, str]:
    """ISO3 -> the country's name as the store holds it (its own place), else the code."""
    own = places[places.kind == "country"]
    return dict(zip(own.country_iso3, own.name, strict=True))


def place_options(
    cat: pd.DataFrame, places: pd.DataFrame, country: str, labels: dict[str, str]
) -> list[str]:
    """The Place filter's options: the sidebar's cities, every place, then the places of
    the country holding figures, grouped by kind (cities, districts, governorates,
    countries, regions), by name within each."""
    held = places[places.place_id.isin(cat.place_id.unique())]
    if country != ALL:
        held = held[held.country_iso3 == country]
    order = held.kind.map(KIND_ORDER).fillna(len(KIND_ORDER))
    held = held.assign(_order=order, _label=held.place_id.map(lambda p: labels.get(p, p)))
    held = held.sort_values(["_order", "_label"], kind="stable")
    return [CHOSEN, ALL, *held.place_id]


def place_text(place: str, labels: dict[str, str], kinds: dict[str, str]) -> str:
    """An option as the picker shows it (and a link holds it): its label (`place_labels`:
    a city by its name, a district or governorate with its kind), as every link since the
    first has named it (`place=Iraq+and+Syria`). `kinds` orders them, not their text."""
    if place in (CHOSEN, ALL):
        return place
    return labels.get(place, place)


def default_place(chosen_ids: Sequence[str]) -> str:
    """The Data page opens on the sidebar's cities when there are any (not the whole store:
    270,000 figures since 1989), else on every place."""
    return CHOSEN if chosen_ids else ALL


def selected_places(
    cat: pd.DataFrame,
    places: pd.DataFrame,
    place: str,
    chosen_ids: Sequence[str],
    country: str,
    metric: str,
    source: str,
) -> list[str]:
    """The place ids the filters select, among those holding figures of the metric and
    source: one place, the sidebar's cities, or every place (of the country)."""
    subset = cat
    if metric != ALL:
        subset = subset[subset.metric == metric]
    if source != ALL:
        subset = subset[subset.source == source]
    ids = set(subset.place_id)
    if country != ALL:
        ids &= set(places.place_id[places.country_iso3 == country])
    if place == CHOSEN:
        ids &= set(chosen_ids)
    elif place != ALL:
        ids &= {place}
    return sorted(ids)


def month_options(first: pd.Timestamp | None, last: pd.Timestamp | None) -> list[str]:
    """The From/To options: "(any)", then every month (YYYY-MM) from the store's first
    figure to its last, newest first (the usual question is about recent months)."""
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return [ANY_MONTH]
    months = pd.period_range(pd.Timestamp(first).to_period("M"), pd.Timestamp(last).to_period("M"))
    return [ANY_MONTH, *(str(m) for m in reversed(months))]


def window(from_month: str, to_month: str) -> tuple[tuple[date | None, date | None] | None, str]:
    """The days From/To select (first day of From, last day of To; "(any)": open) and, when
    From is after To, the note that they were read the other way round."""
    lo = None if from_month == ANY_MONTH else pd.Period(from_month, "M")
    hi = None if to_month == ANY_MONTH else pd.Period(to_month, "M")
    note = ""
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
        note = f"“From” was after “To”: showing {lo} to {hi}."
    if lo is None and hi is None:
        return None, note
    return (
        lo.start_time.date() if lo is not None else None,
        hi.end_time.date() if hi is not None else None,
    ), note


GROUP_LABELS = {
    "place": "Place",
    "district": "District",
    "governorate": "Governorate",
    "country": "Country",
}
PER_LABELS = {"year": "Year", "month": "Month"}


def totals_table(totals: pd.DataFrame, metric: str, by: str) -> pd.DataFrame:
    """The totals as the page prints them: the group by its kind's name, the breakdown
    ("(total)" for a source's all-kinds figure), the source by its title, the market only
    for a metric measured per market."""
    from data_sources.model.metrics import metric_spec

    spec = metric_spec(metric)
    out = pd.DataFrame(
        {
            GROUP_LABELS[by].lower(): totals["group"],
            spec.breakdown: totals["qualifier"].map(lambda q: q or "(total)"),
            "source": totals["origin"].map(lambda o: registry.title(str(o))),
            "period": totals["period_label"],
            "value": totals["value"],
            "low": totals["low"],
            "high": totals["high"],
            "unit": totals["unit"],
            "figures": totals["figures"],
            "places": totals["places"],
        }
    )
    if spec.by_market:
        out.insert(2, "market", totals["site"].fillna(""))
    return out


def totals_download(totals: pd.DataFrame, metric: str, by: str) -> pd.DataFrame:
    """The totals file: the table as shown, with the metric's label and code first (a file
    read away from the page must say what it counts)."""
    out = totals_table(totals, metric, by)
    out.insert(0, "metric", metric_label(metric))
    out.insert(1, "metric_code", metric)
    return out


def totals_file_name(
    metric: str,
    qualifier: str | None,
    by: str,
    per: str,
    days: tuple[date | None, date | None] | None,
) -> str:
    """`conflict-fatalities_by-district_per-year_2017-01_2017-12.csv` (a breakdown other
    than the total after the metric): what the file holds, in its name."""
    from data_sources.model.places import slug

    parts = [slug(metric), *([slug(qualifier)[:40]] if qualifier else [])]
    parts += [f"by-{by}", f"per-{per}"]
    if days is not None:
        parts += [d.strftime("%Y-%m") if d else "any" for d in days]
    return "_".join(parts) + ".csv"
