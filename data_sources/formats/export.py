"""Downloads: the normalized figures as CSV, as HXL-tagged CSV, and as a ZIP with a README.

Pure functions (DataFrame in, bytes out) so the files a user downloads are testable as files.

Every file is safe to open in a spreadsheet (`csv_bytes`, the one writer): a text cell that
starts with `=`, `+`, `-`, `@` (or their fullwidth look-alikes), a tab, a carriage return or a
line feed would be read as a formula (`=HYPERLINK(…)`, `=cmd|…`), so it gets a
leading `'` (OWASP's advice); numbers stay numbers (a numeric column is never touched, nor a
text cell that is just a number such as `-12.5`); a line break inside a cell is always quoted. Links lose their credentials (`redact_url`).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pandas as pd

from data_sources import sources
from data_sources.redact import redact_url
from data_sources.store.changes import CHANGE_COLUMNS


def licences() -> dict[str, str]:
    """The attribution line of every registered source (`sources.py`), for the ZIP's README;
    an imported file's source has none and its rows' links and citations speak for it."""
    return sources.attributions()


def chosen_places(
    catalogue: pd.DataFrame,
    place: str | None = None,
    metric: str | None = None,
    source: str | None = None,
) -> list[str]:
    """The places the Data page's filters (and `export`'s) select, from `query.catalogue`."""
    subset = catalogue
    if place is not None:
        subset = subset[subset.place_id == place]
    if metric is not None:
        subset = subset[subset.metric == metric]
    if source is not None:
        subset = subset[subset.source == source]
    return sorted(subset.place_id.unique())


def figures(frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """The figures a download holds: `query.series_frame` of the chosen places and metric,
    narrowed to one source."""
    return frame if source is None else frame[frame.source == source]


# The last three columns (place id, dataset, quote) make an export importable into another
# instance with the same places, series and provenance (formats/roundtrip.py).
EXPORT_COLUMNS = {
    "city": "#loc+name",
    "country_iso3": "#country+code",
    "metric": "#indicator+code",
    "qualifier": "#indicator+type",
    "site": "#loc+site",
    "period_start": "#date+start",
    "period_end": "#date+end",
    "value": "#indicator+value+num",
    "unit": "#indicator+unit",
    "estimate": "#indicator+estimate",
    "source": "#meta+source",
    "origin": "#org+name",
    "source_url": "#meta+url",
    "citation": "#meta+citation",
    "retrieved_at": "#date+retrieved",
    "revision": "#meta+revision",
    "licence": "#meta+licence",
    "place_id": "#loc+code",
    "dataset": "#meta+dataset",
    "quote": "#meta+quote",
}


# what a spreadsheet reads as the start of a formula: `= + - @`, their fullwidth (＝ ＋ － ＠)
# and small (﹦ ﹢ ﹣ ﹫) look-alikes, which some spreadsheets fold to ASCII on import, and a
# leading tab, carriage return or line feed (spreadsheets drop it, then read what follows)
FORMULA_START = (
    "=", "+", "-", "@", "\t", "\r", "\n",
    "\uff1d", "\uff0b", "\uff0d", "\uff20",
    "\ufe66", "\ufe62", "\ufe63", "\ufe6b",
)  # fmt: skip
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutral(value: object) -> object:
    """One cell, safe in a spreadsheet: a text that a spreadsheet would read as a formula gets
    a leading `'`; anything else (numbers, dates, plain text, a number written as text) as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Every text column of `df` through `neutral`; numeric columns untouched."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            done = {v: neutral(v) for v in pd.unique(out[col]) if isinstance(v, str)}
            if any(k != v for k, v in done.items()):
                out[col] = out[col].map(done).fillna(out[col])
    return out


def _links(values: pd.Series) -> pd.Series:
    done = {v: redact_url(v) for v in pd.unique(values) if isinstance(v, str) and v}
    return values.map(lambda v: done.get(v, v) if isinstance(v, str) else v)


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reindex(columns=list(EXPORT_COLUMNS)).copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    out["source_url"] = _links(out["source_url"])
    return out


def _line_breaks(df: pd.DataFrame) -> pd.DataFrame:
    """Line breaks inside text cells as "\n": the CSV writer (line ends "\n") quotes a cell
    holding "\n" but not one holding a bare "\r", which a spreadsheet reads as the end of
    the row (the next "row" then starts with whatever follows, `=1+42`)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v
            )
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The one CSV writer for every file a person downloads (pages and command line): no
    cell a spreadsheet would run as a formula, every cell with a line break quoted."""
    return _line_breaks(neutralise(df)).to_csv(index=False).encode("utf-8")


def to_csv(df: pd.DataFrame) -> bytes:
    return csv_bytes(_tidy(df))


def to_hxl_csv(df: pd.DataFrame, plain: bytes | None = None) -> bytes:
    """CSV with the HXL hashtag row under the header, as HDX tools expect."""
    return _tagged(plain if plain is not None else to_csv(df))


def _as_of(df: pd.DataFrame) -> datetime:
    """The newest retrieval time among the figures: what the files are as of. The files are a
    function of the figures alone (the same figures give the same bytes, from the page or the
    command line)."""
    if "retrieved_at" in df and len(df) and df["retrieved_at"].notna().any():
        return pd.Timestamp(df["retrieved_at"].max()).tz_localize(None).to_pydatetime()
    return datetime(1980, 1, 1)


def readme(df: pd.DataFrame, licences: dict[str, str]) -> str:
    lines = [
        "# Situation Room export",
        "",
        f"{len(df):,} figures, retrieved up to {_as_of(df):%Y-%m-%d %H:%M} UTC.",
        "",
        "Files: `figures.csv` (plain) and `figures_hxl.csv` (HXL hashtag row under the header).",
        "Each row keeps its source, the link it came from and its citation.",
        "",
        "## Sources and licences",
    ]
    for source in sorted(df["source"].dropna().unique()):
        lines.append(f"- **{source}**: {licences.get(source, 'see source_url of each row')}")
    origins = df.assign(source_url=_links(df["source_url"])).drop_duplicates("source_url")
    origins = origins[["origin", "source_url", "citation"]].head(200)
    lines += [
        "",
        "## Links",
        *[
            f"- {r.origin}: {r.source_url} ({r.citation})"
            for r in origins.itertuples()
            if r.source_url
        ],
    ]
    return "\n".join(lines) + "\n"


def to_zip(
    df: pd.DataFrame, licences: dict[str, str], plain: bytes | None = None, hxl: bytes | None = None
) -> bytes:
    plain = plain if plain is not None else to_csv(df)
    hxl = hxl if hxl is not None else to_hxl_csv(df, plain)
    buffer = io.BytesIO()
    stamp = max(_as_of(df), datetime(1980, 1, 1)).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in (
            ("README.md", readme(df, licences)),
            ("figures.csv", plain),
            ("figures_hxl.csv", hxl),
        ):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def bundle(df: pd.DataFrame, licences: dict[str, str]) -> dict[str, bytes]:
    """All three downloads, each file built once."""
    plain = to_csv(df)
    hxl = to_hxl_csv(df, plain)
    return {"csv": plain, "hxl": hxl, "zip": to_zip(df, licences, plain, hxl)}


def changes_csv(df: pd.DataFrame) -> bytes:
    """The change list as a download (page and CLI, same bytes): dates as ISO text, links
    without credentials, no cell a spreadsheet would run as a formula."""
    out = df.reindex(columns=CHANGE_COLUMNS).copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    out["changed_at"] = pd.to_datetime(out["changed_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    out["revision"] = out["revision"].astype("Int64")
    out["source_url"] = _links(out["source_url"])
    return csv_bytes(out)


def stream_csv(pages, hxl: bool = False):
    """The figures CSV (or HXL-tagged CSV) written page by page from `query.series_pages`:
    the same bytes as `to_csv` / `to_hxl_csv` of all of them at once, in memory one page at
    a time, so a download of any size keeps the server's memory flat."""
    first = True
    for page in pages:
        text = to_csv(page)
        if first:
            yield _tagged(text) if hxl else text
            first = False
        else:
            yield text.partition(b"\n")[2]  # the header once
    if first:  # no figure: the header (and the tags) alone
        from data_sources.store.query import SERIES_COLUMNS

        empty = to_csv(pd.DataFrame({c: pd.Series(dtype=object) for c in SERIES_COLUMNS}))
        yield _tagged(empty) if hxl else empty


def _tagged(plain: bytes) -> bytes:
    header, _, body = plain.partition(b"\n")
    return header + b"\n" + ",".join(EXPORT_COLUMNS.values()).encode() + b"\n" + body
