"""Command line: `python -m data_sources import|series|export|changes|brief|refresh|
load-snapshot|migrate|sources ...` (honours DATABASE_URL): one parser builder and one `cmd_` a command.

Exit status: 0 on success, 2 when the input is malformed or not text (nothing is written), 1
when the request names something the store does not hold, when the store cannot be used
(StoreError: one plain message, never a traceback) or when `migrate --check` finds it behind
this release, 3 when another process kept the store locked for writing longer than
STORE_LOCK_TIMEOUT (nothing is written) or a one-shot refresh found another one running.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import zipfile
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from data_sources import settings
from data_sources.errors import STORE_FAILURES, StoreBusy, store_error
from data_sources.feeds import FeedClient, FeedError
from data_sources.formats import textfile
from data_sources.formats.hxl import HXLFormatError, imported_source_name, parse_hxl_csv
from data_sources.formats.hxl_tags import parse_choices
from data_sources.formats.textfile import UnreadableText, decode, open_text
from data_sources.snapshot import fingerprint as snapshot_fingerprint
from data_sources.snapshot import load_snapshot
from data_sources.store import query
from data_sources.store.asof import AsOfError, describe, parse_as_of
from data_sources.store.engine import make_engine, open_store
from data_sources.store.fetches import IngestResult, close_abandoned
from data_sources.store.ingest import ingest

console = Console(stderr=True)


def _read(target: str, encoding: str | None = None) -> tuple[str | TextIO, str]:
    """Text (a stream for a file, read as it is parsed) and a display name for a path or an
    http(s) URL (through the shared HTTP layer: retries, back-off, rate limit, and a clear
    error naming the URL). Raises UnreadableText for bytes that are not text."""
    if target.startswith(("http://", "https://")):
        name = target.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "download.csv"
        with FeedClient("hxl") as client:
            response = client.get_text(target, cache=False)
        return decode(response.body, name, encoding), name
    path = Path(target)
    textfile.open_regular(path, path.name).close()  # a FIFO, a device, too large: refused
    if zipfile.is_zipfile(path):  # the Data page's ZIP: its HXL file is the figures
        name = f"{path.name}/{EXPORT_IN_ZIP}"
        return decode(_zip_member(path, name), name, encoding), name
    return open_text(path, encoding), path.name


ZIP_MAX_RATIO = 100  # a CSV deflates 5–20 times; a bomb's member, hundreds to millions


def _zip_member(path: Path, name: str) -> bytes:
    """The export's HXL member, read with the byte limit after its header passed the size
    and ratio checks; a corrupt archive or member is UnreadableText, never a traceback."""
    import zlib

    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo(EXPORT_IN_ZIP)
            except KeyError:
                raise OSError(f"no {EXPORT_IN_ZIP} in it (not a Situation Room export)") from None
            limit = textfile.max_bytes()
            if info.file_size > limit:
                raise textfile.too_large(name, limit)
            ratio = settings.number("ZIP_MAX_RATIO", ZIP_MAX_RATIO)
            if info.file_size > 1_000_000 and info.file_size > ratio * max(info.compress_size, 1):
                raise UnreadableText(
                    f"{name}: expands {info.file_size / max(info.compress_size, 1):,.0f} times "
                    f"(more than ZIP_MAX_RATIO, {ratio:g}): not an export of this app, refused"
                )
            with archive.open(info) as member:
                return textfile.read_limited(member, name, limit)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UnreadableText(f"{name}: a corrupt or unsupported ZIP ({exc})") from None


EXPORT_IN_ZIP = "figures_hxl.csv"


# how the summary names each way of placing (places.Match.method)
PLACED_BY = {
    "pcode": "p-code",
    "admin names": "admin names (COD)",
    "district": "district name (not in the COD list)",
    "governorate": "governorate name (not in the COD list)",
}


def report(result: IngestResult) -> None:
    # a file's name, a --source and a reject's reason are the file's words: text, never markup
    table = Table(title=Text(f"{result.source}: {result.target}"))
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
    if result.rows_added_up:
        Console().print(
            f"  {result.rows_added_up:,} event rows added up with other events of the same "
            "place, period and breakdown (counted in the figures above)"
        )
    if result.rows_withdrawn:
        Console().print(
            f"  {result.rows_withdrawn:,} figures withdrawn: held by the previous import of this "
            "dataset, not by this one (kept, shown by as-of views before now)"
        )
    if result.placed_by:
        Console().print(
            "  placed: "
            + ", ".join(
                f"{count:,} rows by {PLACED_BY.get(how, how)}"
                for how, count in result.placed_by.items()
            )
        )
    for reason, count in result.reject_reasons.items():
        Console().print(Text(f"  rejected {count:,}: {reason}"))


class Stopped(KeyboardInterrupt):
    """SIGTERM (or Ctrl-C) during an import or snapshot load: the load's transaction rolls
    back and its fetch_log row is marked interrupted on the way out (`store.ingest`)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def _stop_loads_on_signals() -> None:
    """Turn SIGTERM and SIGINT into `Stopped`, so that a load ends the way Ctrl-C ends it:
    rolled back, logged as interrupted, with a message and exit status 128 + the signal."""

    def handle(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)


def cmd_import(args: argparse.Namespace) -> int:
    _stop_loads_on_signals()
    try:
        text, name = _read(args.target, args.encoding)
    except (OSError, FeedError) as exc:
        console.print(f"[red]cannot read {escape(args.target)}: {escape(str(exc))}[/red]")
        return 2
    except UnreadableText as exc:
        console.print(f"[red]nothing imported: {escape(str(exc))}[/red]", soft_wrap=True)
        return 2
    try:
        choices = parse_choices(args.column)
    except ValueError as exc:
        console.print(f"[red]nothing imported: {escape(str(exc))}[/red]", soft_wrap=True)
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
            columns=choices,
            period=args.period,
        )
    except HXLFormatError as exc:
        console.print(
            f"[red]malformed file, nothing imported: {escape(str(exc))}[/red]", soft_wrap=True
        )
        return 2
    finally:
        if not isinstance(text, str):
            text.close()
    engine = open_store()
    sources = frame["source"].unique() if len(frame) else []
    result = ingest(
        engine,
        frame,
        # an export of several sources is logged as one import named after its file
        source=sources[0] if len(sources) == 1 else (args.source or imported_source_name(name)),
        target=args.target,
        # a file is the whole of its dataset: what it no longer holds is withdrawn; an export of
        # this app is a selection of figures (one city, one source), so it withdraws nothing
        complete=not frame.attrs.get("selection", False),
    )
    report(result)
    for column, why in frame.attrs.get("columns_ignored", []):
        Console().print(f"  column not read: {escape(column)}: {escape(why)}", soft_wrap=True)
    return 0


def cmd_series(args: argparse.Namespace) -> int:
    """Print one series as CSV or JSON (`series_rows`, the rows `/api/v1/series` serves); a
    place or metric the store does not hold is one message naming what it does hold, exit
    status 1."""
    from data_sources.formats import export
    from data_sources.store.series_rows import NotHeld, SeriesQuery, series_rows

    ask = SeriesQuery(
        city=args.city,
        metric=args.metric,
        qualifier=args.qualifier,
        site=args.site,
        unit=args.unit,
        source=args.source,
        as_of=args.as_of,
        period=args.period,
        cumulative=args.cumulative,
        markets=args.markets,
    )
    try:
        out = series_rows(open_store(), ask)
    except NotHeld as exc:
        console.print(Text(str(exc), "red"))
        return 1
    if args.format == "json":
        sys.stdout.write(out.to_json(orient="records", force_ascii=False, indent=1) + "\n")
    else:  # the one CSV writer: no formula cell, line breaks quoted
        sys.stdout.write(export.csv_bytes(out).decode("utf-8"))
    return 0


EVERY_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
BUSY = 3  # exit status of a one-shot refresh skipped because another one holds the lock


def parse_every(text: str) -> float:
    """'6h', '30m', '1d', '45s' (or plain seconds) as seconds; ValueError otherwise."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in EVERY_UNITS else "s"
    number = value[:-1] if value[-1:] in EVERY_UNITS else value
    try:
        seconds = float(number) * EVERY_UNITS[unit]
    except ValueError:
        raise ValueError(f"--every: '{text}' is not an interval like 6h, 30m, 1d or 90s") from None
    if seconds <= 0:
        raise ValueError(f"--every: '{text}' must be more than zero")
    return seconds


def _stop_on_signals() -> threading.Event:
    """SIGTERM and SIGINT set an event instead of killing the process mid-write: the current
    feed finishes storing (one transaction), the rest of the run is skipped, the lock is
    released and the process exits 0."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        if stop.is_set():  # asked twice: stop now (the lock is still released on the way out)
            raise KeyboardInterrupt
        console.print(f"received {signal.Signals(signum).name}: stopping after the current step")
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
    return stop


def cmd_refresh(args: argparse.Namespace) -> int:
    from datetime import date

    from data_sources.feeds.connectors import CONNECTORS
    from data_sources.feeds.refresh import default_scope

    try:
        since = date.fromisoformat(args.since) if args.since else None
        until = date.fromisoformat(args.until) if args.until else None
        scope = default_scope(args.country, args.city, since, until)
        every = parse_every(args.every) if args.every else None
    except ValueError as exc:
        console.print(Text(str(exc), style="red"))
        return 2
    unknown = [s for s in (args.source or []) if s not in CONNECTORS]
    if unknown:
        console.print(
            Text(f"unknown source {', '.join(unknown)}; known: {', '.join(CONNECTORS)}", "red")
        )
        return 2
    engine = make_engine()
    stop = _stop_on_signals()
    if every is None:
        return _refresh_once(engine, args, scope, stop, scheduled=False)
    return _worker(engine, args, scope, every, stop)


def _worker(engine, args: argparse.Namespace, scope, every: float, stop: threading.Event) -> int:
    """Refresh on a schedule until SIGTERM/SIGINT: runs start on slots `every` seconds apart
    from the first (a run longer than the interval skips the slots it overran)."""
    import time
    from datetime import UTC, datetime

    first = time.time()
    runs = 0
    _say(f"worker: refreshing every {args.every} (pid {os.getpid()})")
    while not stop.is_set():
        runs += 1
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        _say(f"run {runs} starting at {started}")
        code = _refresh_once(engine, args, scope, stop, scheduled=True)
        if args.max_runs and runs >= args.max_runs:
            break
        now = time.time()
        slot = first + every * (int((now - first) // every) + 1)
        when = datetime.fromtimestamp(slot, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        _say(f"run {runs} ended (status {code}); next run at {when}")
        stop.wait(max(0.0, slot - now))
    _say(f"worker: stopped after {runs} run(s)")
    return 0


def _say(line: str) -> None:
    """A log line on stdout, flushed at once (a worker's stdout is usually a pipe or a file)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _refresh_once(
    engine, args: argparse.Namespace, scope, stop: threading.Event, *, scheduled: bool
) -> int:
    """One refresh under the store's lock: 0 ok, 1 a feed failed, 3 (one-shot) or 0 (worker)
    when another refresh holds the lock and did not finish within --wait seconds."""
    from data_sources.feeds.refresh import describe_run
    from data_sources.store.lock import DbLock, LockHeld

    settings.reload()  # a host may have added keys to secrets.toml since the last run
    sources = _sources_to_refresh(args)
    if not sources and scheduled:
        _say(
            "no feeds configured: set their keys (environment or .streamlit/secrets.toml); "
            "the worker keeps running and looks again at the next run"
        )
        return 0
    sources = sources or list(_all_sources())
    lock = DbLock(engine, detail=describe_run(sources, scope))
    try:
        lock.acquire(wait=args.wait, stop=stop)
    except LockHeld as exc:
        _say(f"skipped: {exc}" + (f" (waited {args.wait:g} s)" if args.wait else ""))
        return 0 if scheduled else BUSY
    try:
        console.print(
            Text(
                f"refreshing {', '.join(sources)} for {', '.join(scope.countries)}"
                + (f" ({', '.join(scope.cities)})" if scope.cities else "")
                + (f" since {scope.since}" if scope.since else "")
                + (" (full history)" if args.full and not scope.since else "")
            )
        )
        reports = _refresh_with_progress(engine, sources, scope, args, stop, lock)
    finally:
        lock.release()
    _summary(reports)
    explicit = bool(args.source)
    failed = [r for r in reports if r.status == "failed" or (explicit and r.status == "skipped")]
    return 1 if failed else 0


def _all_sources() -> list[str]:
    """Every feed, in the registry's order (imported here: the feeds load only to refresh)."""
    from data_sources.feeds.connectors import CONNECTORS

    return list(CONNECTORS)


def _sources_to_refresh(args: argparse.Namespace) -> list[str]:
    """The sources asked for (--source), else every source, configured ones first (the
    others are reported as not configured, not failed); empty when none is configured."""
    from data_sources.feeds.refresh import configured_sources

    if args.source:
        return list(args.source)
    everything = _all_sources()
    ready = set(configured_sources())
    if not ready:
        return []
    return [s for s in everything if s in ready] + [s for s in everything if s not in ready]


def _refresh_with_progress(engine, sources: list[str], scope, args, stop, lock) -> list:
    """Run the refresh with a progress bar per feed (pages, records, storing, its end)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from data_sources.feeds.refresh import refresh

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
                    description=escape(r.status + (f": {r.error[:60]}" if r.error else "")),
                )

        return refresh(
            engine, sources, scope, progress=progress, full=args.full, stop=stop, lock=lock
        )


def _summary(reports: list, out: Console | None = None) -> None:
    """The table a person reads after a run: rows, and pages new (200), unchanged (304) and
    served from the cache, so that a refresh that re-downloaded nothing says so."""
    table = Table(title="refresh")
    columns = (
        "source", "status", "asked", "fetched", "new", "revised", "rejected", "pages",
        "200", "304", "cached", "requests", "retries", "rows/s", "error",
    )  # fmt: skip
    for col in columns:
        table.add_column(
            col,
            justify="left" if col in ("source", "status", "asked", "error") else "right",
            overflow="fold",
        )
    for r in reports:
        colour = {"ok": "green", "failed": "red"}.get(r.status, "yellow")
        table.add_row(
            r.source,
            Text(r.status, style=colour),
            Text(str(r.since)),
            f"{r.rows_in:,}",
            f"{r.rows_new:,}",
            f"{r.rows_revised:,}",
            f"{r.rows_rejected:,}",
            str(r.pages),
            str(r.pages_new),
            str(r.pages_not_modified),
            str(r.pages_cached),
            str(r.requests),
            str(r.retries),
            f"{r.rows_per_second:,.0f}",
            Text(r.error or (f"note: {r.notes}" if r.notes else "")),  # a feed's words
        )
    (out or Console(width=200)).print(table)
    line = "; ".join(
        f"{r.source} {r.status} {r.rows_new} new, {r.pages_new} pages new, {r.pages_not_modified} unchanged "
        f"(304), {r.pages_cached} cached, {r.requests} requests, asked {r.since}"
        for r in reports
    )
    for r in reports:  # where every row went: rows in = stored + added up + rejected
        if r.status == "ok":
            _say(f"{r.source} rows: {r.balance()}")
    _say(f"summary: {line}")


def cmd_load_snapshot(args: argparse.Namespace) -> int:
    _stop_loads_on_signals()
    engine = open_store()
    close_abandoned(engine)  # the copy of prebuilt tables does not go through ingest
    results = load_snapshot(engine, force=args.force)
    for result in results:
        report(result)
    if not results:  # a second start, or another process loaded it while this one waited
        console.print(
            f"load-snapshot: the bundled snapshot ({snapshot_fingerprint()}) is already in the "
            "store; nothing to load"
        )
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    """The source registry: one line per source, or (`--markdown`) SOURCES.md as generated."""
    from data_sources.snapshot import sources_md
    from data_sources.sources import SOURCES

    if args.markdown:
        sys.stdout.write(sources_md.render())
        return 0
    for s in SOURCES.values():
        secret = ", ".join(s.secret_settings) or "none"
        sys.stdout.write(f"{s.key}\t{s.title}\t{s.licence}\tsecret settings: {secret}\n")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the store's schema to this release's (`--check`: only say whether it is)."""
    from data_sources.errors import OPEN_FAILURES, StoreError, store_error
    from data_sources.store import migrations

    out = Console()
    try:
        try:
            engine = make_engine(migrate=False)
        except OPEN_FAILURES as exc:  # a driver not installed, a URL that is not one: one line
            raise store_error(exc) from None
        head = migrations.head()
        before = migrations.current_revision(engine)
        if args.check:
            if before == head:
                out.print(f"store schema at revision {before}: up to date")
                return 0
            if before and before not in migrations.revisions():
                advice = "it was upgraded by a newer release; run that release against it"
            else:
                advice = "run `python -m data_sources migrate`"
            console.print(
                f"store schema at revision {before or 'none (empty, or made before migrations)'}"
                f", this release expects {head}: {advice}"
            )
            return 1
        before, after = migrations.upgrade(engine)  # `before` as seen under the lock
        out.print(f"before: revision {before or 'none (empty, or made before migrations)'}")
        out.print(f"after:  revision {after}" + (" (up to date)" if after == head else ""))
        return 0
    except StoreError as exc:
        console.print(Text(str(exc), "red"), soft_wrap=True)
        return 1


EXPORT_FORMATS = {"csv": "csv", "hxl": "hxl", "zip": "zip"}


def cmd_export(args: argparse.Namespace) -> int:
    """The Data page's downloads from the command line: the same filters (place, metric,
    source) give the same bytes as the page's buttons (`export.bundle`)."""
    from data_sources.formats import export

    engine = open_store()
    place = None
    if args.city:
        places = query.all_places(engine)
        wanted = args.city.casefold()
        match = places[
            (places["name"].str.casefold() == wanted)
            | (places["place_id"].str.casefold() == wanted)
        ]
        if match.empty:
            console.print(f"[red]no figures stored for place '{escape(args.city)}'[/red]")
            return 1
        # a city's name first (as the sidebar lists them), else a country or region
        match = match.sort_values("kind", key=lambda k: k != "city")
        place = match["place_id"].iloc[0]
    catalogue = query.catalogue(engine, as_of=args.as_of)
    ids = export.chosen_places(catalogue, place, args.metric, args.source)
    if not ids:
        console.print("[red]no figures match these filters[/red]")
        return 1
    if EXPORT_FORMATS[args.format] in ("csv", "hxl"):  # streamed, as the page's links are
        pages = query.series_pages(
            engine,
            ids,
            args.metric,
            sources=[args.source] if args.source else None,
            as_of=args.as_of,
        )
        counted = [0]

        def counting(frames):
            for frame in frames:
                counted[0] += len(frame)
                yield frame

        chunks = export.stream_csv(counting(pages), hxl=EXPORT_FORMATS[args.format] == "hxl")
        _write_chunks(chunks, args.output)
        if args.output and args.output != "-":
            console.print(f"{counted[0]:,} figures written to {escape(args.output)}")
        return 0
    frame = query.download_frame(
        engine, ids, args.metric, sources=[args.source] if args.source else None, as_of=args.as_of
    )
    data = export.bundle(frame, export.licences())[EXPORT_FORMATS[args.format]]
    if args.output and args.output != "-":
        Path(args.output).write_bytes(data)
        console.print(f"{len(frame):,} figures written to {escape(args.output)}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _write_chunks(chunks, output: str | None) -> None:
    """A streamed file to `output` (or stdout), chunk by chunk."""
    if output and output != "-":
        with Path(output).open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        return
    for chunk in chunks:
        sys.stdout.buffer.write(chunk)
    sys.stdout.flush()


def cmd_brief(args: argparse.Namespace) -> int:
    """The city brief of the web route `/brief/pdf` (web/brief.py), written to a file: the
    same bytes for the same cities, moment and data version. The one command that draws
    (Chromium, through web/render.py), so it imports that layer only here."""
    from views.logic.brief import BriefError
    from web import brief, render

    fmt = Path(args.output).suffix.lower().lstrip(".")
    if fmt not in ("pdf", "html"):
        console.print("[red]--output must end in .pdf or .html[/red]")
        return 2
    engine = open_store()
    try:
        data = brief.brief_bytes(engine, args.city, args.as_of, fmt)
    except BriefError as exc:
        console.print(Text(str(exc), "red"), soft_wrap=True)
        return 1
    except render.RenderError as exc:
        console.print(Text(f"the brief could not be drawn: {exc}", "red"), soft_wrap=True)
        return 1
    Path(args.output).write_bytes(data)
    console.print(f"brief of {len(args.city)} city(ies) written to {escape(args.output)}")
    return 0


def cmd_changes(args: argparse.Namespace) -> int:
    """Figures added, revised and withdrawn in a window, as CSV (the Data page's download);
    a one-line count on stderr."""
    from data_sources.store import changes

    engine = open_store()
    since = args.since or changes.last_refresh_start(engine)
    if since is None:
        console.print("[red]the store holds no load yet: nothing has changed[/red]")
        return 1
    if args.until is not None and args.until <= since:
        console.print("[red]--until must come after --since[/red]")
        return 2
    found = changes.changes(engine, since, args.until)
    if args.source:
        found = found[found["source"] == args.source]
    if args.city:
        found = found[found["city"].str.casefold() == args.city.casefold()]
    until = describe(args.until) if args.until else "now"
    console.print(
        f"since {describe(since)} until {until}: {changes.summary(found)}",
        soft_wrap=True,
        markup=False,
    )
    from data_sources.formats import export

    data = export.changes_csv(found)
    if args.output and args.output != "-":
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


AS_OF_HELP = (
    "the figures the store held at this moment: a date (2016-12-16, its end, UTC) or a UTC "
    "time (2016-12-16T09:30:05)"
)


def _moments(args: argparse.Namespace) -> str | None:
    """Parse the date/time options in place; the error message for a bad one, else None."""
    for name in ("as_of", "since", "until"):
        if getattr(args, name, None) is None or args.command == "refresh":
            continue
        try:
            setattr(args, name, parse_as_of(getattr(args, name)))
        except AsOfError as exc:
            return f"--{name.replace('_', '-')}: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    problem = _moments(args)
    if problem:
        console.print(problem, markup=False, soft_wrap=True)
        return 2
    try:
        return args.func(args)
    except Stopped as stopped:
        console.print(f"stopped by {stopped}: nothing of the load under way was stored")
        return 128 + stopped.signum
    # the host's to fix: say what and how, without a traceback (an ArgumentError: a
    # DATABASE_URL such as postgres://, whichever command opened the store first)
    except (*STORE_FAILURES, sa.exc.ArgumentError) as exc:
        error = store_error(exc)
        console.print(f"[red]{escape(str(error))}[/red]", soft_wrap=True)
        return BUSY if isinstance(error, StoreBusy) else 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each added by its own builder below."""
    parser = argparse.ArgumentParser(
        prog="python -m data_sources", description="Situation Room store: import and inspect."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_import, _add_series, _add_refresh, _add_load_snapshot, _add_sources, _add_migrate,
        _add_export, _add_changes, _add_brief,
    ):  # fmt: skip
        add(sub)
    return parser


def _add_import(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import", help="import an HXL-tagged CSV file or URL")
    imp.add_argument("target", metavar="PATH_OR_URL")
    imp.add_argument(
        "--source", help="source name to record (default: the file's name, e.g. conflict_data_irq)"
    )
    imp.add_argument("--country", help="ISO3 code when the file has no country column")
    imp.add_argument(
        "--encoding",
        help="the file's text encoding when it is not UTF-8 or UTF-16 with a byte-order mark "
        "(e.g. latin-1, cp1252)",
    )
    imp.add_argument("--citation")
    imp.add_argument(
        "--licence", help="the file's licence as its publisher states it (default: unknown)"
    )
    imp.add_argument(
        "--column",
        action="append",
        metavar="HEADER_OR_TAG=METRIC",
        help="read a column as METRIC (or =skip to leave it out) where the file's columns are "
        "ambiguous; repeatable",
    )
    imp.add_argument(
        "--period",
        metavar="YEAR|YYYY-MM|YYYY-MM-DD",
        help="the period a file without a date column is of (e.g. 2021 for a population file)",
    )
    imp.set_defaults(func=cmd_import)


def _add_series(sub: argparse._SubParsersAction) -> None:
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
    ser.add_argument("--as-of", metavar="WHEN", help=AS_OF_HELP)
    ser.add_argument(
        "--period",
        choices=["week", "month", "year"],
        help="print the points a chart draws per period (docs/how-figures-combine.md), not "
        "every figure",
    )
    ser.add_argument("--cumulative", action="store_true", help="with --period: running totals")
    ser.add_argument(
        "--markets",
        choices=["each", "median"],
        default="each",
        help="with --period, for prices: one row per market (default) or the median market "
        "with the cheapest and dearest as low and high",
    )
    ser.set_defaults(func=cmd_series)


def _add_refresh(sub: argparse._SubParsersAction) -> None:
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
    ref.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="ask every feed from this date (overrides the incremental since-dates)",
    )
    ref.add_argument("--until", metavar="YYYY-MM-DD")
    ref.add_argument(
        "--full",
        action="store_true",
        help="re-read each feed's whole history (default: incremental, from the newest stored "
        "period minus REFRESH_OVERLAP_DAYS)",
    )
    ref.add_argument(
        "--every",
        metavar="INTERVAL",
        help="run forever, one refresh every INTERVAL (e.g. 6h, 30m, 1d); SIGTERM ends it",
    )
    ref.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another refresh holds the store's lock, wait this long for it (default 0: "
        f"skip; a one-shot refresh then exits {BUSY}, a scheduled run counts as done)",
    )
    ref.add_argument("--max-runs", type=int, default=0, help=argparse.SUPPRESS)  # tests
    ref.set_defaults(func=cmd_refresh)


def _add_load_snapshot(sub: argparse._SubParsersAction) -> None:
    snap = sub.add_parser("load-snapshot", help="load the bundled snapshot into the store")
    snap.add_argument("--force", action="store_true")
    snap.set_defaults(func=cmd_load_snapshot)


def _add_sources(sub: argparse._SubParsersAction) -> None:
    src = sub.add_parser(
        "sources", help="every source's title, licence and secret settings (the registry)"
    )
    src.add_argument(
        "--markdown",
        action="store_true",
        help="print SOURCES.md as the registry gives it (redirect into "
        "data_sources/snapshot/SOURCES.md)",
    )
    src.set_defaults(func=cmd_sources)


def _add_migrate(sub: argparse._SubParsersAction) -> None:
    mig = sub.add_parser("migrate", help="upgrade the store's schema to this release's")
    mig.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 unless at this release's"
    )
    mig.set_defaults(func=cmd_migrate)


def _add_export(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser(
        "export", help="the Data page's downloads: CSV, HXL-tagged CSV or the ZIP with a README"
    )
    exp.add_argument("--format", choices=list(EXPORT_FORMATS), default="csv")
    exp.add_argument(
        "--city", "--place", dest="city", help="a city, country or region (name or id)"
    )
    exp.add_argument("--metric")
    exp.add_argument("--source")
    exp.add_argument("--output", "-o", metavar="PATH", help="file to write (default: stdout)")
    exp.add_argument("--as-of", metavar="WHEN", help=AS_OF_HELP)
    exp.set_defaults(func=cmd_export)


def _add_brief(sub: argparse._SubParsersAction) -> None:
    brf = sub.add_parser(
        "brief", help="a printable brief, one page per city (PDF or HTML, by the file's suffix)"
    )
    brf.add_argument(
        "--city", action="append", required=True, help="a city (name or id); repeat for more"
    )
    brf.add_argument("--as-of", metavar="WHEN", help=AS_OF_HELP)
    brf.add_argument(
        "--output", "-o", metavar="PATH", required=True, help="the file to write: .pdf or .html"
    )
    brf.set_defaults(func=cmd_brief)


def _add_changes(sub: argparse._SubParsersAction) -> None:
    chg = sub.add_parser("changes", help="figures added, revised and withdrawn in a window, as CSV")
    chg.add_argument(
        "--since",
        metavar="WHEN",
        help="start of the window (exclusive), a date or UTC time; default: the start of the "
        "last successful load",
    )
    chg.add_argument("--until", metavar="WHEN", help="end of the window (default: now)")
    chg.add_argument("--source")
    chg.add_argument("--city", "--place", dest="city")
    chg.add_argument("--output", "-o", metavar="PATH", help="file to write (default: stdout)")
    chg.set_defaults(func=cmd_changes)
