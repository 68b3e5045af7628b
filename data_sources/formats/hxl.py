"""Read any HXL-tagged CSV (hashtag row under the header) into normalized observations.

Columns are found by their HXL hashtags, not their header text, so a sheet whose headers are in
French or renamed still imports. Two shapes are understood:
- price sheets (WFP's per-country file and its kin): `#item+name` plus `#value` / `#value+usd`;
- figure sheets: one or more count columns (`#affected+idps`, `#affected+killed`, ...).
The structure is checked strictly (a ragged row or a missing hashtag is an error naming the line
and column, and nothing is imported); a bad cell only rejects its own row, with the reason.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from data_sources.formats import hxl_tags
from data_sources.formats.hxl_tags import AmbiguousColumns, Column, read_columns
from data_sources.formats.roundtrip import is_export, parse_export
from data_sources.formats.ucdp import EVENTS_COLUMN, GED_COLUMNS, GED_USED, ged_figures
from data_sources.model.aggregate import EVENT, FLOWS, is_event_list
from data_sources.model.dates import parse_dates, period_bounds
from data_sources.model.metrics import METRICS
from data_sources.model.places import gazetteer
from data_sources.model.validation import conform


class HXLFormatError(ValueError):
    """The file's structure is wrong; says where so the user can fix it."""

    def __init__(self, name: str, line: int, column: str, message: str) -> None:
        self.name, self.line, self.column = name, line, column
        where = f"{name}, line {line}" + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Tag:
    hashtag: str
    attributes: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Tag | None:
        text = re.sub(r"\s+", "", text or "").lower()
        if not text.startswith("#"):
            return None
        head, *attrs = text.split("+")
        return cls(head, frozenset(attrs))

    def is_(self, hashtag: str, *attrs: str, exclude: tuple[str, ...] = ()) -> bool:
        return (
            self.hashtag == hashtag
            and self.attributes.issuperset(attrs)
            and not self.attributes.intersection(exclude)
        )


UNKNOWN_LICENCE = "unknown"
# the metrics whose event lists also count conflict events (one per row)
CONFLICT_CASUALTIES = frozenset({"conflict_fatalities", "civilians_killed", "civilians_injured"})
# header names of an event's id where a sheet has no #event+code tag
EVENT_ID_HEADERS = frozenset(("event_id", "event_id_cnty", "event_id_no_cnty", "event_code"))

COUNTRY_IN_NAME = re.compile(r"(?:^|[_\-])([a-z]{3})\.csv$", re.IGNORECASE)


def _find(
    tags: list[Tag | None], hashtag: str, *attrs: str, exclude: tuple[str, ...] = ()
) -> int | None:
    for i, tag in enumerate(tags):
        if tag is not None and tag.is_(hashtag, *attrs, exclude=exclude):
            return i
    return None


CHUNK_ROWS = 5_000  # data rows parsed at a time: memory follows this, not the file's size
SUM_EVERY = 50_000  # a streamed event table's events are added up at least this often


def read_hxl_rows(
    text: str | TextIO, name: str, chunk_rows: int | None = None
) -> tuple[list[str], list[Tag | None], Iterator[list[tuple[int, list[str]]]]]:
    """Header, parsed tags and the data rows as chunks of (line number, cells), read lazily
    from a string or a text stream; raises HXLFormatError on bad structure (the header at
    once, a ragged row when its chunk is read)."""
    stream = io.StringIO(text) if isinstance(text, str) else text
    chunk_rows = chunk_rows or CHUNK_ROWS
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise HXLFormatError(name, 1, "", "the file is empty")
        hxl_row = next(reader, None)
    except csv.Error as exc:
        raise HXLFormatError(name, reader.line_num, "", f"unreadable CSV ({exc})") from exc
    if not hxl_row or not any(c.strip().startswith("#") for c in hxl_row):
        raise HXLFormatError(
            name,
            2,
            "",
            "no HXL hashtag row under the header (expected e.g. '#date,#adm1+name,...')",
        )
    if len(hxl_row) != len(header):
        raise HXLFormatError(name, 2, "", f"{len(hxl_row)} hashtags for {len(header)} columns")
    tags = [Tag.parse(c) for c in hxl_row]

    def chunks() -> Iterator[list[tuple[int, list[str]]]]:
        rows: list[tuple[int, list[str]]] = []
        try:
            for cells in reader:
                line = reader.line_num
                if not cells or all(not c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    column = header[min(len(cells), len(header)) - 1] if cells else ""
                    raise HXLFormatError(
                        name,
                        line,
                        column,
                        f"{len(cells)} fields where the header has {len(header)}",
                    )
                rows.append((line, cells))
                if len(rows) >= chunk_rows:
                    yield rows
                    rows = []
        except csv.Error as exc:
            raise HXLFormatError(name, reader.line_num, "", f"unreadable CSV ({exc})") from exc
        if rows:
            yield rows

    return header, tags, chunks()


def _ged_figures_streamed(
    header: list[str],
    chunks: Iterator[list[tuple[int, list[str]]]],
    *,
    name: str,
    source: str,
    country_iso3: str,
    source_url: str,
    citation: str,
    licence: str,
) -> pd.DataFrame:
    """UCDP GED events read chunk by chunk and added up as they come, per reported location,
    day and type of violence (a running sum of deaths and of the number of events), so that
    memory follows the number of distinct figures, not of events: a 236 MB table is never
    held whole. The sums are the store's own (aggregate.py); an event whose counts are not
    numbers is kept apart, as sent, for the store to reject with its reason."""
    events, valid_events, summed = _summed_ged_events(header, chunks)
    out = ged_figures(events, source_url or Path(name).name, country_iso3).assign(
        dataset=Path(name).stem,
        source=source,
        source_url=source_url,
        citation=citation,
        licence=licence,
    )
    if len(events):  # each event gives the same number of figure rows
        out.attrs["rows_added_up"] = (valid_events - summed) * (len(out) // len(events))
    return conform(out)


def _summed_ged_events(
    header: list[str], chunks: Iterator[list[tuple[int, list[str]]]]
) -> tuple[pd.DataFrame, int, int]:
    """The events summed per location, day and type (an `EVENTS_COLUMN` says how many each
    row is), then the invalid events as sent; with how many valid events were read and how
    many summed rows they made."""
    wanted = [i for i, h in enumerate(header) if h in GED_USED]
    names = [header[i] for i in wanted]
    counts = [c for c in ("best", "low", "high", "deaths_civilians") if c in names]
    keys = [c for c in names if c not in counts and c != "id"]
    seen: set[int] = set()  # the same event twice is one event (hashes of whole rows)
    total = pd.DataFrame(columns=[*names, EVENTS_COLUMN])  # events added up so far
    pending: list[pd.DataFrame] = []  # valid events of the chunks since the last sum
    invalid: list[pd.DataFrame] = []
    valid_events = pending_rows = 0

    def add_up(frames: list[pd.DataFrame]) -> pd.DataFrame:
        both = pd.concat(frames, ignore_index=True)
        return (
            both.groupby(keys, sort=False, dropna=False)
            .agg(id=("id", "first"), **{c: (c, "sum") for c in [*counts, EVENTS_COLUMN]})
            .reset_index()[total.columns]
        )

    for chunk in chunks:
        events = _new_events(chunk, seen, wanted, names)
        if events is None:
            continue
        valid, bad = _split_countable(events, counts)
        if not bad.empty:
            invalid.append(bad)
        pending.append(valid)
        valid_events += len(valid)
        pending_rows += len(valid)
        # sum when the pending events outnumber the total: memory stays within about twice
        # the distinct figures, and each event is summed a few times, not once per chunk
        if pending_rows >= max(SUM_EVERY, len(total)):
            total, pending, pending_rows = add_up([total, *pending]), [], 0
    if pending:
        total = add_up([total, *pending])
    events = pd.concat([total, *invalid], ignore_index=True) if invalid else total
    return events, valid_events, len(total)


def _new_events(
    chunk: list[tuple[int, list[str]]], seen: set[int], wanted: list[int], names: list[str]
) -> pd.DataFrame | None:
    """The chunk's events not seen before (their used columns), each counting as one event;
    None when every one was."""
    cells = []
    for _, row in chunk:
        key = hash(tuple(row))
        if key not in seen:
            seen.add(key)
            cells.append([row[i] for i in wanted])
    if not cells:
        return None
    events = pd.DataFrame(cells, columns=names, dtype=object)
    events[EVENTS_COLUMN] = 1
    return events


def _split_countable(events: pd.DataFrame, counts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events whose counts are numbers ≥ 0, as numbers; the others as sent, for the store
    to reject with their reason)."""
    ok = pd.Series(True, index=events.index)
    numbers = {}
    for col in counts:
        numbers[col] = pd.to_numeric(events[col], errors="coerce")
        ok &= numbers[col].notna() & (numbers[col] >= 0)
    return events[ok].assign(**{c: v[ok] for c, v in numbers.items()}), events[~ok]


def parse_hxl_csv(
    text: str | TextIO,
    *,
    name: str,
    source: str | None = None,
    country_iso3: str = "",
    source_url: str = "",
    citation: str = "",
    licence: str = "",
    columns: dict[str, str] | None = None,
    period: str | None = None,
) -> pd.DataFrame:
    """Normalized observations from an HXL-tagged CSV text or text stream (see module
    docstring). A UCDP GED table's events come already added up (its attrs say how many
    rows were, for `store.ingest` to count). `columns` are the user's choices for ambiguous
    columns ({header or tag: metric or "skip"}, see hxl_tags); `period` ("2021", "2021-03"
    or "2021-03-15") dates a file that has no date column. The tagged columns not read are
    in `attrs["columns_ignored"]` (column, reason)."""
    header, tags, chunks = read_hxl_rows(text, name)
    given_source, source = source, source or imported_source_name(name)
    if not country_iso3:
        hint = COUNTRY_IN_NAME.search(Path(name).name)
        if hint and hint.group(1).upper() in gazetteer().countries:
            country_iso3 = hint.group(1).upper()
    base_name = Path(name).name
    if GED_COLUMNS.issubset(header):  # UCDP GED events (HDX's per-country files)
        return _ged_figures_streamed(
            header,
            chunks,
            name=name,
            source=source,
            country_iso3=country_iso3,
            source_url=source_url,
            citation=citation,
            licence=licence or UNKNOWN_LICENCE,
        )
    if is_export(tags):  # Situation Room's own download: every row keeps its own provenance
        out = parse_export(tags, [row for chunk in chunks for row in chunk], base_name)
        if given_source:
            out = out.assign(source=given_source)
        # a selection of another instance's figures (one city, one metric…), never the whole
        # of a dataset: importing it withdraws nothing
        out.attrs["selection"] = True
        return out
    frame = _tagged_frame(tags, chunks, base_name)

    def col(index: int | None, default: str = "") -> pd.Series:
        if index is None:
            return pd.Series(default, index=frame.index, dtype=object)
        return frame[index].astype(str).str.strip()

    provenance = {"source_url": source_url, "citation": citation, "licence": licence}
    described = _columns(header, tags)
    base, start, end = _base_rows(tags, described, col, frame, name, country_iso3, provenance)
    if period:
        start, end = _given_period(period, tags, base, name)
    elif _date_columns(tags) == (None, None, None):
        raise HXLFormatError(
            name,
            2,
            "",
            "no date column (#date, #date+start or #date+year); for a file without dates, "
            "give the period its figures are of: --period 2021 (a year), 2021-03 (a month) "
            "or 2021-03-15 (a day)",
        )
    item_i = _find(tags, "#item", "name")
    value_i = _find(tags, "#value", exclude=("usd",))
    ignored: list = []
    if item_i is not None and value_i is not None:
        out = _price_rows(base, tags, col, item_i, value_i, start, end)
    else:
        try:
            reading = read_columns(described, columns or {}, {m: _unit_of(m) for m in METRICS})
        except (AmbiguousColumns, ValueError) as exc:
            raise HXLFormatError(name, 2, "", str(exc)) from exc
        ignored = reading.ignored
        out = _figure_rows(base, reading, col, start, end, name)
        if is_event_list(out, has_event_ids=_has_event_ids(tags, header)):
            out = _as_events(out, base, start, end, tags)
    out["source"] = source
    out = conform(out)
    out.attrs["columns_ignored"] = [(c.describe(), why) for c, why in ignored]
    return out


def _columns(header: list[str], tags: list[Tag | None]) -> list[Column]:
    """The tagged columns, for the tag table (hxl_tags) to read."""
    return [
        Column(i, header[i], tag.hashtag + "".join(f"+{a}" for a in sorted(tag.attributes)),
               tag.hashtag, tag.attributes)
        for i, tag in enumerate(tags)
        if tag is not None
    ]  # fmt: skip


def _unit_of(metric: str) -> str:
    """The unit a chosen column's figures take (`--column`): events, else people."""
    return "events" if metric == "conflict_events" else "people"


def _given_period(
    period: str, tags: list, base: pd.DataFrame, name: str
) -> tuple[pd.Series, pd.Series]:
    """`--period` as every row's period; refused for a file that dates its own rows (the
    file's dates win; a second date would be a guess)."""
    if _date_columns(tags) != (None, None, None):
        raise HXLFormatError(
            name, 2, "", "the file has its own date column; --period is for files without one"
        )
    bounds = period_bounds(period)
    if bounds is None:
        raise HXLFormatError(
            name, 0, "", f"--period {period!r}: give a year (2021), a month (2021-03) or a day"
        )
    first, last = bounds
    return (
        pd.Series(first, index=base.index, dtype=object),
        pd.Series(last, index=base.index, dtype=object),
    )


def _date_columns(tags: list) -> tuple[int | None, int | None, int | None]:
    """(date, start, year) columns: a day, a period's start, or only a year."""
    date_i = _find(tags, "#date", exclude=("start", "end", "year", "month", "reported"))
    start_i = _find(tags, "#date", "start", exclude=("year", "month"))
    year_i = _find(tags, "#date", "year", exclude=("month",))
    return date_i, start_i, year_i


def _has_event_ids(tags: list, header: list[str]) -> bool:
    """Whether the sheet has an event id column (`#event+code`, `#event+id`, or a header such
    as ACLED's `event_id_cnty`): its rows are then events."""
    if _find(tags, "#event", "code") is not None or _find(tags, "#event", "id") is not None:
        return True
    return any(h.strip() in EVENT_ID_HEADERS for h in header)


def _tagged_frame(tags: list, chunks, base_name: str) -> pd.DataFrame:
    """The tagged columns of every row (the others are never read), chunk by chunk, each row
    with its reference (`file:line`)."""
    tagged = [i for i, tag in enumerate(tags) if tag is not None]
    parts = []
    for chunk in chunks:
        part = pd.DataFrame([[cells[i] for i in tagged] for _, cells in chunk], columns=tagged)
        part["row_ref"] = [f"{base_name}:{line}" for line, _ in chunk]
        parts.append(part.astype(object))
    if not parts:
        return pd.DataFrame(columns=[*tagged, "row_ref"], dtype=object)
    return pd.concat(parts, ignore_index=True)


def _base_rows(
    tags: list,
    columns: list[Column],
    col,
    frame: pd.DataFrame,
    name: str,
    country_iso3: str,
    provenance: dict,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """What every figure of a row shares (place, site, provenance) and the row's period
    start and end (a year column's row covers its year; no date column: empty, for
    `--period` to fill, else the sheet is refused)."""
    date_i, start_i, year_i = _date_columns(tags)
    end_i = _find(tags, "#date", "end", exclude=("year", "month"))
    market_i = _find(tags, "#loc", "market", "name")
    if market_i is None:
        market_i = _find(tags, "#name", "market")
    loc_i = market_i if market_i is not None else _find(tags, "#loc", "name")

    def place(field_name: str, default: str = "") -> pd.Series:
        return col(hxl_tags.find_place_column(columns, field_name), default)

    base = pd.DataFrame(
        {
            "dataset": Path(name).stem,
            "admin1": place("admin1"),
            "admin2": place("admin2"),
            "pcode": place("pcode"),
            "place_raw": col(loc_i),
            "site": col(market_i),
            "lat": place("lat"),
            "lon": place("lon"),
            "country_iso3": place("country_iso3", country_iso3),
            "source_url": provenance["source_url"],
            "citation": provenance["citation"],
            "licence": provenance["licence"] or UNKNOWN_LICENCE,
            "row_ref": frame["row_ref"],
            "estimate": "best",
            "place_kind": "city",
        }
    )
    base["place_raw"] = base["place_raw"].where(base["place_raw"] != "", base["admin2"])
    # a row placed only by its admin-1 area (a COD admin-1 table, an incident at province
    # precision) is a figure of that governorate, not of a city
    by_admin1 = (base["place_raw"] == "") & (base["admin1"] != "")
    base.loc[by_admin1, "place_raw"] = base.loc[by_admin1, "admin1"]
    base.loc[by_admin1, "place_kind"] = "governorate"
    # such a row's p-code is its governorate's (a city's row keeps its own names and point)
    admin1_pcode = place("admin1_pcode")
    by_admin1_code = by_admin1 & (base["pcode"] == "")
    base.loc[by_admin1_code, "pcode"] = admin1_pcode[by_admin1_code]
    if date_i is None and start_i is None and year_i is not None:
        year = col(year_i)
        whole = year.str.fullmatch(r"\d{4}")
        return base, (year + "-01-01").where(whole, year), (year + "-12-31").where(whole, year)
    if date_i is None and start_i is None:
        return base, pd.Series(None, index=base.index), pd.Series(None, index=base.index)
    start = col(start_i if start_i is not None else date_i)
    end = col(end_i if end_i is not None else date_i)
    return base, start, end


def imported_source_name(name: str) -> str:
    """An imported file is its own source: named after the file unless the user names it."""
    stem = Path(name.split("?")[0].rstrip("/")).stem or "import"
    return stem[:64]


def _as_events(out, base, start, end, tags) -> pd.DataFrame:
    """A sheet whose rows are events: its flows add up per place and day (aggregate.py), and
    each row counts as one event unless the sheet has its own count column."""
    out = out.assign(row_kind=out["metric"].map(lambda m: EVENT if m in FLOWS else ""))
    if _find(tags, "#event", "num") is not None:
        return out
    if not out["metric"].isin(CONFLICT_CASUALTIES).any():
        # an incident list of attacks on health care or education: its rows are incidents of
        # that kind, not "conflict events" (the Insecurity Insight files mix conflict,
        # political and other violence)
        return out
    count = base.assign(
        metric="conflict_events",
        qualifier="",
        value="1",
        unit="events",
        period_start=start,
        period_end=end,
        row_kind=EVENT,
    )
    return pd.concat([out, count], ignore_index=True)


def _month_bounds(dates: pd.Series, series_key: pd.Series) -> tuple[pd.Series, pd.Series]:
    """WFP dates a monthly price at the 15th; the figure covers the calendar month. A series
    (market, commodity, unit, price type) with several dates in one month is priced weekly:
    each of its figures covers its ISO week (Monday to Sunday), not the month, so that four
    weekly prices are four figures, not one month's "conflicting" values."""
    parsed = parse_dates(dates, formats=("mixed",))
    # a year no calendar holds (0000-01-15): no date, so the row is rejected quoting it
    parsed = parsed.where(parsed.dt.year >= 1)
    month = parsed.dt.to_period("M")
    weekly = (
        pd.DataFrame({"key": series_key, "month": month, "day": parsed})
        .dropna()
        .groupby(["key", "month"])["day"]
        .transform("nunique")
        .reindex(parsed.index, fill_value=1)
        > 1
    )
    week = parsed.dt.to_period("W-SUN")
    start = month.dt.start_time.where(~weekly, week.dt.start_time)
    end = month.dt.end_time.where(~weekly, week.dt.end_time)
    start, end = (s.dt.date.astype(object).where(parsed.notna()) for s in (start, end))
    # keep the raw text where it did not parse, so the reject shows what was sent
    return start.where(parsed.notna(), dates), end.where(parsed.notna(), dates)


def _price_rows(base, tags, col, item_i, value_i, start, end) -> pd.DataFrame:
    """Prices, each under its metric (hxl_tags.price_metric: food, fuel, exchange rate,
    wage, water). An exchange rate is local currency per US dollar (WFP's unit "USD/LCU"
    with the price in the local currency), so its "USD price" (about 1) is not read."""
    commodity = col(item_i)
    category = col(_find(tags, "#item", "type"))
    metric = pd.Series(
        [hxl_tags.price_metric(c, k) for c, k in zip(commodity, category, strict=True)],
        index=commodity.index,
        dtype=object,
    )
    price_type = col(_find(tags, "#item", "price", "type"), "Retail")
    qualifier = commodity + ", " + price_type.str.lower()
    unit = col(_find(tags, "#item", "unit"))
    currency = col(_find(tags, "#currency"), "")
    rate = metric == "exchange_rate"
    local_unit = (currency + "/" + unit).where(~rate, currency + "/USD")
    key = base["site"] + "|" + base["place_raw"] + "|" + qualifier + "|" + local_unit
    period_start, period_end = _month_bounds(start, key)
    frames = [
        base.assign(
            metric=metric,
            qualifier=qualifier,
            value=col(value_i),
            unit=local_unit,
            period_start=period_start,
            period_end=period_end,
        )
    ]
    usd_i = _find(tags, "#value", "usd")
    if usd_i is not None:
        frames.append(
            base.assign(
                metric=metric,
                qualifier=qualifier,
                value=col(usd_i),
                unit="USD/" + unit,
                period_start=period_start,
                period_end=period_end,
            )[~rate]
        )
    return pd.concat(frames, ignore_index=True)


def _figure_rows(base, reading, col, start, end, name) -> pd.DataFrame:
    """One figure per row and figure column (hxl_tags.read_columns): the total with an empty
    qualifier, a breakdown (sex, age) with the breakdown as its qualifier."""
    frames = [
        base.assign(
            metric=figure.metric,
            qualifier=figure.breakdown,
            value=col(figure.column.index),
            unit=figure.unit,
            period_start=start,
            period_end=end,
        )
        for figure in reading.figures
    ]
    if not frames:
        known = ", ".join(str(r.pattern) for r in hxl_tags.FIGURE_TABLE)
        not_read = "; ".join(f"{c.describe()}: {why}" for c, why in reading.ignored[:5])
        raise HXLFormatError(
            name,
            2,
            "",
            f"no figure column recognised; tag one of: {known}, "
            "or #item+name with #value for prices"
            + (f" (columns not read: {not_read})" if not_read else ""),
        )
    return pd.concat(frames, ignore_index=True)
