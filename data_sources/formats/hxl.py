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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..aggregate import EVENT, FLOWS, is_event_list
from ..places import gazetteer
from ..schema import conform
from .roundtrip import is_export, parse_export
from .ucdp import GED_COLUMNS, ged_figures


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


def read_hxl_rows(
    text: str, name: str
) -> tuple[list[str], list[Tag | None], list[tuple[int, list[str]]]]:
    """Header, parsed tags and (line number, cells) for each data row; raises on bad structure."""
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise HXLFormatError(name, 1, "", "the file is empty")
        hxl_row = next(reader, None)
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
        rows = []
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                column = header[min(len(cells), len(header)) - 1] if cells else ""
                raise HXLFormatError(
                    name, line, column, f"{len(cells)} fields where the header has {len(header)}"
                )
            rows.append((line, cells))
    except csv.Error as exc:
        raise HXLFormatError(name, reader.line_num, "", f"unreadable CSV ({exc})") from exc
    return header, tags, rows


def parse_hxl_csv(
    text: str,
    *,
    name: str,
    source: str | None = None,
    country_iso3: str = "",
    source_url: str = "",
    citation: str = "",
    licence: str = "",
) -> pd.DataFrame:
    """Normalized observations from an HXL-tagged CSV text (see module docstring)."""
    header, tags, rows = read_hxl_rows(text, name)
    default_source = imported_source_name(name)
    if not country_iso3:
        hint = COUNTRY_IN_NAME.search(Path(name).name)
        if hint and hint.group(1).upper() in gazetteer().countries:
            country_iso3 = hint.group(1).upper()
    base_name = Path(name).name
    if GED_COLUMNS.issubset(header):  # UCDP GED events (HDX's per-country files)
        events = pd.DataFrame([cells for _, cells in rows], columns=header, dtype=object)
        events = events.drop_duplicates()  # the same event twice is one event
        out = ged_figures(events, source_url or base_name, country_iso3)
        out = out.assign(
            dataset=Path(name).stem,
            source=source or default_source,
            source_url=source_url,
            citation=citation,
            licence=licence or UNKNOWN_LICENCE,
        )
        return conform(out)
    if is_export(tags):  # Situation Room's own download: every row keeps its own provenance
        out = parse_export(tags, rows, base_name)
        if source:
            out = out.assign(source=source)
        return out
    frame = pd.DataFrame([cells for _, cells in rows], columns=range(len(header)), dtype=object)
    frame["row_ref"] = [f"{base_name}:{line}" for line, _ in rows]

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
