"""Command line: `python -m data_sources import|series|load-snapshot ...` (honours DATABASE_URL).

Exit status: 0 on success, 2 when the input is malformed (nothing is written), 1 when the
request names something the store does not hold, or the store cannot be used (unreachable,
not this release's tables): then one plain message, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import query
from .errors import STORE_FAILURES, store_error
from .formats.hxl import HXLFormatError, parse_hxl_csv
from .http import FeedClient, FeedError
from .snapshot import load_snapshot
from .store import IngestResult, database_url, ingest, make_engine, open_store

console = Console(stderr=True)


def _read(target: str) -> tuple[str, str]:
    """Text and a display name for a path or an http(s) URL (through the shared HTTP layer:
    retries, back-off, rate limit, and a clear error naming the URL)."""
    if target.startswith(("http://", "https://")):
        with FeedClient("hxl") as client:
            response = client.get_text(target, cache=False)
        return response.text(), target.split("?")[0].rstrip("/").rsplit("/", 1)[
            -1
        ] or "download.csv"
    path = Path(target)
    return path.read_text(encoding="utf-8-sig"), path.name


def report(result: IngestResult) -> None:
    table = Table(title=f"{result.source}: {result.target}")
    for col in ("rows in", "new", "revised", "unchanged", "rejected"):
        table.add_column(col, justify="right")
    table.add_row(
        *(
            f"{v:,}"
            for v in (
                result.rows_in,
                result.rows_new,
                result.rows_revised,
                result.rows_unchanged,
                result.rows_rejected,
            )
        )
    )
    Console().print(table)
    for reason, count in result.reject_reasons.items():
        Console().print(f"  rejected {count:,}: {reason}")


def cmd_import(args: argparse.Namespace) -> int:
    try:
        text, name = _read(args.target)
    except (OSError, FeedError) as exc:
        console.print(f"[red]cannot read {args.target}: {exc}[/red]")
        return 2
    try:
        frame = parse_hxl_csv(
            text,
            name=name,
            source=args.source,
            country_iso3=args.country or "",
            source_url=args.target if "://" in args.target else "",
            citation=args.citation or name,
            licence=args.licence or "",
        )
    except HXLFormatError as exc:
        console.print(f"[red]malformed file, nothing imported: {exc}[/red]")
        return 2
    engine = open_store()
    result = ingest(
        engine,
        frame,
        source=frame["source"].iloc[0] if len(frame) else (args.source or "hxl"),
        target=args.target,
    )
    report(result)
    return 0


def cmd_series(args: argparse.Namespace) -> int:
    engine = open_store()
    cities = query.cities(engine)
    match = cities[cities["name"].str.casefold() == args.city.casefold()]
    if match.empty:  # a country or region ("Syria", "country:SYR"): UNHCR's figures are there
        wanted = args.city.casefold()
        others = query.all_places(engine)
        others = others[others["kind"] != "city"]
        match = others[
            (others["name"].str.casefold() == wanted)
            | (others["place_id"].str.casefold() == wanted)
        ]
    if match.empty:
        known = ", ".join(cities["name"].head(15))
        console.print(
            f"[red]no figures stored for city '{args.city}'. Cities with data: {known}…[/red]"
        )
        return 1
    df = query.series_frame(
        engine,
        match["place_id"].tolist(),
        args.metric,
        qualifier=args.qualifier,
        site=args.site,
        unit=args.unit,
        sources=[args.source] if args.source else None,
    )
    if df.empty:
        metrics = sorted(query.catalogue(engine, match["place_id"].tolist())["metric"].unique())
        console.print(
            f"[red]no '{args.metric}' figures for {args.city}"
            + (f" with qualifier '{args.qualifier}'" if args.qualifier else "")
            + f". Metrics held: {', '.join(metrics)}[/red]"
        )
        return 1
    out = df[
        [
            "period_start",
            "period_end",
            "value",
            "unit",
            "source",
            "city",
            "metric",
            "qualifier",
            "site",
            "estimate",
            "source_url",
        ]
    ].copy()
    for col in ("period_start", "period_end"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    if args.format == "json":
        sys.stdout.write(out.to_json(orient="records", force_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(out.to_csv(index=False))
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from datetime import date

    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .connectors import CONNECTORS
    from .refresh import configured_sources, default_scope, refresh

    try:
        since = date.fromisoformat(args.since) if args.since else None
        until = date.fromisoformat(args.until) if args.until else None
        scope = default_scope(args.country, args.city, since, until)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    sources = args.source or list(CONNECTORS)
    unknown = [s for s in sources if s not in CONNECTORS]
    if unknown:
        console.print(
            f"[red]unknown source {', '.join(unknown)}; known: {', '.join(CONNECTORS)}[/red]"
        )
        return 2
    explicit = bool(args.source)
    if not explicit:  # all sources: the unconfigured ones are reported, not failed
        ready = set(configured_sources())
        sources = [s for s in sources if s in ready] + [s for s in sources if s not in ready]
    console.print(
        f"refreshing {', '.join(sources)} for {', '.join(scope.countries)}"
        + (f" ({', '.join(scope.cities)})" if scope.cities else "")
        + (f" since {scope.since}" if scope.since else "")
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[source]:<10}"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks = {s: bar.add_task("waiting", total=None, source=s) for s in sources}

        def progress(source: str, event: str, info: dict) -> None:
            task = tasks[source]
            if event == "page":
                bar.update(task, description=f"{info['pages']} pages · {info['records']:,} records")
            elif event == "storing":
                bar.update(task, description=f"storing {info['rows']:,} rows")
            elif event == "done":
                r = info["report"]
                bar.update(
                    task,
                    total=1,
                    completed=1,
                    description=r.status + (f": {r.error[:60]}" if r.error else ""),
                )

        reports = refresh(make_engine(), sources, scope, progress=progress)
    table = Table(title="refresh")
    for col in (
        "source",
        "status",
        "fetched",
        "new",
        "revised",
        "rejected",
        "pages",
        "retries",
        "rows/s",
        "error",
    ):
        table.add_column(
            col,
            justify="left" if col in ("source", "status", "error") else "right",
            overflow="fold",
        )
    for r in reports:
        colour = {"ok": "green", "failed": "red"}.get(r.status, "yellow")
        table.add_row(
            r.source,
            f"[{colour}]{r.status}[/{colour}]",
            f"{r.fetched:,}",
            f"{r.new:,}",
            f"{r.revised:,}",
            f"{r.rejected:,}",
            str(r.pages),
            str(r.retries),
            f"{r.rows_per_second:,.0f}",
            r.error or (f"note: {r.notes}" if r.notes else ""),
        )
    Console(width=160).print(table)
    failed = [r for r in reports if r.status == "failed" or (explicit and r.status == "skipped")]
    return 1 if failed else 0


def cmd_load_snapshot(args: argparse.Namespace) -> int:
    for result in load_snapshot(open_store(), force=args.force):
        report(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_sources", description="Situation Room store: import and inspect."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import an HXL-tagged CSV file or URL")
    imp.add_argument("target", metavar="PATH_OR_URL")
    imp.add_argument("--source", help="source name to record (default: wfp for price sheets)")
    imp.add_argument("--country", help="ISO3 code when the file has no country column")
    imp.add_argument("--citation")
    imp.add_argument("--licence")
    imp.set_defaults(func=cmd_import)
    ser = sub.add_parser("series", help="print one normalized series")
    ser.add_argument(
        "--city",
        "--place",
        dest="city",
        required=True,
        help="a city, or a country or region by name or id (Syria, country:SYR)",
    )
    ser.add_argument("--metric", required=True)
    ser.add_argument("--qualifier")
    ser.add_argument("--site", help="market or sub-city site")
    ser.add_argument("--source")
    ser.add_argument("--unit", help="e.g. SYP/KG or USD/KG for prices")
    ser.add_argument("--format", choices=["csv", "json"], default="csv")
    ser.set_defaults(func=cmd_series)
    ref = sub.add_parser("refresh", help="pull live feeds into the store")
    ref.add_argument(
        "--source",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="feed to refresh (repeatable); default: every configured feed",
    )
    ref.add_argument("--country", action="extend", nargs="+", metavar="ISO3")
    ref.add_argument("--city", action="extend", nargs="+", metavar="NAME")
    ref.add_argument("--since", metavar="YYYY-MM-DD")
    ref.add_argument("--until", metavar="YYYY-MM-DD")
    ref.set_defaults(func=cmd_refresh)
    snap = sub.add_parser("load-snapshot", help="load the bundled snapshot into the store")
    snap.add_argument("--force", action="store_true")
    snap.set_defaults(func=cmd_load_snapshot)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except STORE_FAILURES as exc:  # the host's to fix: say what and how, without a traceback
        console.print(f"[red]{escape(str(store_error(exc, database_url())))}[/red]", soft_wrap=True)
        return 1
