"""Data page logic: what the figures table holds and says, and the change list's window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from data_sources import sources as registry
from data_sources.model.metrics import metric_label
from data_sources.store import asof
from views.escape import md

SHOWN_ROWS = 5_000
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
