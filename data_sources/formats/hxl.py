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

from data_sources.formats.roundtrip import is_export, parse_export
from data_sources.formats.ucdp import EVENTS_COLUMN, GED_COLUMNS, GED_USED, ged_figures
from data_sources.model.aggregate import EVENT, FLOWS, is_event_list
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


# Count columns of figure sheets: (hashtag, required attributes, excluded attributes) -> metric.
FIGURE_TAGS: list[tuple[str, tuple[str, ...], tuple[str, ...], str, str]] = [
    ("#affected", ("idps",), (), "idps", "people"),
    ("#affected", ("returnees",), (), "returnees", "people"),
    ("#affected", ("refugees",), (), "refugees_from", "people"),
    ("#affected", ("killed", "civilians"), (), "civilians_killed", "people"),
    ("#affected", ("killed",), ("civilians",), "conflict_fatalities", "people"),
    ("#affected", ("injured",), (), "civilians_injured", "people"),
    ("#inneed", (), (), "people_in_need", "people"),
    ("#population", (), (), "population", "people"),
    ("#event", ("num",), (), "conflict_events", "events"),
]

UNKNOWN_LICENCE = "unknown"
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
        cells = []
        for _, row in chunk:
            key = hash(tuple(row))
            if key not in seen:
                seen.add(key)
                cells.append([row[i] for i in wanted])
        if not cells:
            continue
        events = pd.DataFrame(cells, columns=names, dtype=object)
        del cells
        events[EVENTS_COLUMN] = 1
        ok = pd.Series(True, index=events.index)
        numbers = {}
        for col in counts:
            numbers[col] = pd.to_numeric(events[col], errors="coerce")
            ok &= numbers[col].notna() & (numbers[col] >= 0)
        if not ok.all():
            invalid.append(events[~ok])
        valid = events[ok].assign(**{c: v[ok] for c, v in numbers.items()})
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
    out = ged_figures(events, source_url or Path(name).name, country_iso3).assign(
        dataset=Path(name).stem,
        source=source,
        source_url=source_url,
        citation=citation,
        licence=licence,
    )
    if len(events):  # each event gives the same number of figure rows
        out.attrs["rows_added_up"] = (valid_events - len(total)) * (len(out) // len(events))
    return conform(out)


def parse_hxl_csv(
    text: str | TextIO,
    *,
    name: str,
    source: str | None = None,
    country_iso3: str = "",
    source_url: str = "",
    citation: str = "",
    licence: str = "",
) -> pd.DataFrame:
    """Normalized observations from an HXL-tagged CSV text or text stream (see module
    docstring). A UCDP GED table's events come already added up (its attrs say how many
    rows were, for `store.ingest` to count)."""
    header, tags, chunks = read_hxl_rows(text, name)
    default_source = imported_source_name(name)
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
            source=source or default_source,
            country_iso3=country_iso3,
            source_url=source_url,
            citation=citation,
            licence=licence or UNKNOWN_LICENCE,
        )
    if is_export(tags):  # Situation Room's own download: every row keeps its own provenance
        out = parse_export(tags, [row for chunk in chunks for row in chunk], base_name)
        if source:
            out = out.assign(source=source)
        # a selection of another instance's figures (one city, one metric…), never the whole
        # of a dataset: importing it withdraws nothing
        out.attrs["selection"] = True
        return out
    # only the tagged columns are kept (the others are never read), chunk by chunk
    tagged = [i for i, tag in enumerate(tags) if tag is not None]
    parts = []
    for chunk in chunks:
        part = pd.DataFrame([[cells[i] for i in tagged] for _, cells in chunk], columns=tagged)
        part["row_ref"] = [f"{base_name}:{line}" for line, _ in chunk]
        parts.append(part.astype(object))
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[*tagged, "row_ref"], dtype=object)
    )
    del parts

    def col(index: int | None, default: str = "") -> pd.Series:
        if index is None:
            return pd.Series(default, index=frame.index, dtype=object)
        return frame[index].astype(str).str.strip()

    date_i = _find(tags, "#date", exclude=("start", "end", "year", "month", "reported"))
    start_i = _find(tags, "#date", "start", exclude=("year", "month"))
    end_i = _find(tags, "#date", "end", exclude=("year", "month"))
    if date_i is None and start_i is None:
        raise HXLFormatError(name, 2, "", "no date column (#date or #date+start)")
    market_i = _find(tags, "#loc", "market", "name")
    if market_i is None:
        market_i = _find(tags, "#name", "market")
    loc_i = market_i if market_i is not None else _find(tags, "#loc", "name")
    base = pd.DataFrame(
        {
            "dataset": Path(name).stem,
            "admin1": col(_find(tags, "#adm1", "name")),
            "admin2": col(_find(tags, "#adm2", "name")),
            "pcode": col(_find(tags, "#adm2", "code")),
            "place_raw": col(loc_i),
            "site": col(market_i),
            "lat": col(_find(tags, "#geo", "lat")),
            "lon": col(_find(tags, "#geo", "lon")),
            "country_iso3": col(_find(tags, "#country", "code"), country_iso3),
            "source_url": source_url,
            "citation": citation,
            "licence": licence or UNKNOWN_LICENCE,
            "row_ref": frame["row_ref"],
            "estimate": "best",
            "place_kind": "city",
        }
    )
    base["place_raw"] = base["place_raw"].where(base["place_raw"] != "", base["admin2"])
    start = col(start_i if start_i is not None else date_i)
    end = col(end_i if end_i is not None else date_i)

    item_i = _find(tags, "#item", "name")
    value_i = _find(tags, "#value", exclude=("usd",))
    if item_i is not None and value_i is not None:
        out = _price_rows(base, tags, col, item_i, value_i, start, end)
    else:
        out = _figure_rows(base, tags, col, start, end, name)
        id_i = _find(tags, "#event", "code")
        if id_i is None:
            id_i = _find(tags, "#event", "id")
        if id_i is None:
            id_i = next((i for i, h in enumerate(header) if h.strip() in EVENT_ID_HEADERS), None)
        if is_event_list(out, has_event_ids=id_i is not None):
            out = _as_events(out, base, start, end, tags)
    out["source"] = source or default_source
    return conform(out)


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


def _month_bounds(dates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """WFP dates a monthly price at the 15th; the figure covers the calendar month."""
    parsed = pd.to_datetime(dates, errors="coerce", format="mixed")
    start = parsed.dt.to_period("M").dt.start_time.dt.date.astype(object)
    end = parsed.dt.to_period("M").dt.end_time.dt.date.astype(object)
    # keep the raw text where it did not parse, so the reject shows what was sent
    return start.where(parsed.notna(), dates), end.where(parsed.notna(), dates)


def _price_rows(base, tags, col, item_i, value_i, start, end) -> pd.DataFrame:
    commodity = col(item_i)
    price_type = col(_find(tags, "#item", "price", "type"), "Retail")
    qualifier = commodity + ", " + price_type.str.lower()
    unit = col(_find(tags, "#item", "unit"))
    currency_i = _find(tags, "#currency")
    currency = col(currency_i, "")
    period_start, period_end = _month_bounds(start)
    frames = []
    local = base.assign(
        metric="food_price",
        qualifier=qualifier,
        value=col(value_i),
        unit=currency + "/" + unit,
        period_start=period_start,
        period_end=period_end,
    )
    frames.append(local)
    usd_i = _find(tags, "#value", "usd")
    if usd_i is not None:
        frames.append(
            base.assign(
                metric="food_price",
                qualifier=qualifier,
                value=col(usd_i),
                unit="USD/" + unit,
                period_start=period_start,
                period_end=period_end,
            )
        )
    return pd.concat(frames, ignore_index=True)


def _figure_rows(base, tags, col, start, end, name) -> pd.DataFrame:
    frames = []
    used: set[int] = set()
    for hashtag, attrs, exclude, metric, unit in FIGURE_TAGS:
        i = _find(tags, hashtag, *attrs, exclude=exclude)
        if i is None or i in used:
            continue
        used.add(i)
        frames.append(
            base.assign(
                metric=metric,
                qualifier="",
                value=col(i),
                unit=unit,
                period_start=start,
                period_end=end,
            )
        )
    if not frames:
        known = ", ".join(f"{h}+{'+'.join(a)}" if a else h for h, a, *_ in FIGURE_TAGS)
        raise HXLFormatError(
            name,
            2,
            "",
            f"no figure column recognised; tag one of: {known}, "
            "or #item+name with #value for prices",
        )
    return pd.concat(frames, ignore_index=True)
