"""Refresh: pull live feeds into the store, one source at a time, one transaction per source.

A source's pages are all fetched and normalized before anything is written, then stored by
`ingest` in a single transaction: a feed that fails half-way, or a process killed at any moment,
leaves the store exactly as it was before that source began. Other sources still land.

Incremental by default: each feed is asked, per country, only from the newest period the store
holds for it minus `REFRESH_OVERLAP_DAYS` (90) — figures get revised for weeks after they are
first published, so the overlap re-reads them; a country with nothing stored gets the whole
history. `full=True` (CLI `--full`) re-reads everything; an explicit `since` overrides both.
Cached pages are revalidated (conditional requests), never replayed unasked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from data_sources import settings
from data_sources.feeds import FeedClient, FeedError, Stats
from data_sources.feeds.connectors import CONNECTORS, Connector, Scope
from data_sources.model.places import gazetteer
from data_sources.model.validation import empty_observations
from data_sources.redact import redact
from data_sources.store.fetches import IngestResult, close_interrupted, log_failed_fetch
from data_sources.store.ingest import ingest
from data_sources.store.lock import DbLock, LockHeld

Progress = Callable[[str, str, dict], None]  # (source, event, details)


@dataclass
class SourceReport(IngestResult):
    """One feed's refresh: the load's own account (`IngestResult`: rows in, new, revised,
    unchanged, added up, repeated, rejected, pages, requests, 304s, cache hits) plus what only a
    refresh knows."""

    records: int = 0  # records the feed sent, over all pages
    retries: int = 0
    seconds: float = 0.0
    notes: str = ""  # e.g. a country the feed does not cover: said, not failed
    skipped: dict = field(default_factory=dict)  # records that give no figure, by reason
    since: str = ""  # what was asked for: "full", or the since-date(s) per country

    @property
    def pages_new(self) -> int:
        """Pages the server sent in full (HTTP 200)."""
        return max(0, self.pages - self.pages_not_modified - self.pages_cached)

    @property
    def rows_stored(self) -> int:
        return self.rows_new + self.rows_revised + self.rows_unchanged

    def balance(self) -> str:
        """The summary's account: rows in = stored + added up + rejected, and named skips."""
        text = (
            f"{self.rows_in:,} rows in = {self.rows_stored:,} stored "
            f"({self.rows_new:,} new, {self.rows_revised:,} revised, "
            f"{self.rows_unchanged:,} unchanged)"
            f" + {self.rows_added_up:,} added up + {self.rows_repeated:,} repeated"
            f" + {self.rows_rejected:,} rejected"
        )
        if self.reject_reasons:
            text += " (" + ", ".join(f"{n:,} {r}" for r, n in self.reject_reasons.items()) + ")"
        if self.skipped:
            text += "; records skipped: " + ", ".join(f"{n:,} {r}" for r, n in self.skipped.items())
        return text

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds else 0.0


def default_scope(
    countries: list[str] | None = None,
    cities: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    known: Mapping[str, str] | None = None,
) -> Scope:
    """Countries asked for, plus those of the cities asked for; defaults from settings
    (REFRESH_COUNTRIES, REFRESH_CITIES), else Iraq and Syria with Mosul and Aleppo.

    `known` maps a city's name to its country (the store's cities, as the page's picker
    offers them): those are not looked up in the gazetteer, whose name index takes
    seconds to build and was most of the Data page's first visit."""
    cities = cities or _listed(settings.setting("REFRESH_CITIES"))
    chosen = [c.upper() for c in (countries or [])]
    for city in cities:
        iso = (known or {}).get(city)
        if not iso:
            gaz = gazetteer()
            match = gaz.find_city(city)
            if match is None:
                raise ValueError(f"unknown city '{city}'")
            iso = gaz.place_record(match.place_id)["country_iso3"]
        if countries is None or not countries:
            chosen.append(iso)
    if not chosen:
        chosen = _listed(settings.setting("REFRESH_COUNTRIES"))
    return Scope(countries=list(dict.fromkeys(chosen)), cities=cities, since=since, until=until)


def _listed(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def configured_sources() -> list[str]:
    return [name for name, cls in CONNECTORS.items() if not cls().missing_settings()]


def overlap_days() -> int:
    """REFRESH_OVERLAP_DAYS (default 90): how far back before the newest stored period an
    incremental refresh asks again, so that revised figures are picked up."""
    return int(settings.number("REFRESH_OVERLAP_DAYS"))


def incremental_scope(engine: Engine, source: str, scope: Scope, overlap: int) -> Scope:
    """`scope` with per-country since-dates from the store: the newest period this source
    holds for each country, minus `overlap` days. An explicit `scope.since` is kept as is."""
    if scope.since is not None:
        return scope
    from data_sources.store.query import newest_periods

    newest = newest_periods(engine, source)
    since = {
        c: newest[c] - timedelta(days=overlap) for c in scope.countries if newest.get(c) is not None
    }
    return replace(scope, since_by_country=since)


def _since_text(scope: Scope) -> str:
    if scope.since is not None:
        return f"since {scope.since}"
    parts = [
        f"{c} since {scope.since_by_country[c]}" if c in scope.since_by_country else f"{c} full"
        for c in scope.countries
    ]
    return ", ".join(parts) or "full"


def revalidating_client(name: str) -> FeedClient:
    """The client an explicit refresh uses: cached pages are revalidated, not replayed."""
    return FeedClient(name, revalidate=True)


def refresh(
    engine: Engine,
    sources: list[str],
    scope: Scope,
    *,
    progress: Progress | None = None,
    client_factory: Callable[[str], FeedClient] = revalidating_client,
    parallel: int | None = None,
    full: bool = False,
    overlap: int | None = None,
    stop: threading.Event | None = None,
    lock: DbLock | None = None,
) -> list[SourceReport]:
    """Refresh each named source; never raises for a feed's failure (it is reported).

    Feeds are fetched and normalized concurrently (they wait on different servers), and
    stored one at a time in the order asked (one writer, one transaction per feed).
    Incremental unless `full` (see the module docstring). `stop` (a signal arrived) and a
    `lock` whose lease was lost end the run between pages or feeds: what was stored stays,
    the rest is reported as skipped, nothing is half-written."""
    progress = progress or (lambda *_: None)
    unknown = [s for s in sources if s not in CONNECTORS]
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; known: " + ", ".join(CONNECTORS))
    workers = parallel or int(settings.number("REFRESH_PARALLEL"))
    overlap = overlap_days() if overlap is None else overlap
    connectors = [CONNECTORS[name]() for name in sources]
    scopes = {
        name: scope if full else incremental_scope(engine, name, scope, overlap) for name in sources
    }

    def halted() -> str:
        if stop is not None and stop.is_set():
            return "stopped before this feed was stored (the process was asked to end)"
        if lock is not None and lock.lost.is_set():
            return "stopped: the refresh lock's lease was taken over by another process"
        return ""

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="feed") as pool:
        pending = [
            pool.submit(
                _collect, connector, scopes[connector.name], progress, client_factory, halted
            )
            for connector in connectors
        ]
        reports = []
        for future in pending:
            got = future.result()
            if lock is not None and not lock.lost.is_set():
                with suppress(OperationalError):  # a busy store: the heartbeat tries again
                    lock.renew()  # a fresh lease before a long write (SQLite blocks the beat)
            reports.append(_store(engine, got, progress, halted))
        return reports


def refresh_one(
    engine: Engine,
    connector: Connector,
    scope: Scope,
    progress: Progress,
    client_factory: Callable[[str], FeedClient],
) -> SourceReport:
    """One feed, fetched then stored."""
    return _store(engine, _collect(connector, scope, progress, client_factory), progress)


class _Halted(Exception):
    """The run was asked to end between two pages."""


@dataclass
class _Collected:
    """What fetching one feed produced: its rows, or why there are none."""

    connector: Connector
    target: str
    started: float
    data: pd.DataFrame
    stats: Stats
    status: str = "fetched"  # fetched | failed | skipped
    error: str = ""
    asked: str = ""  # "full", or the since-date per country (the summary's "asked" column)
    records: int = 0  # records the feed sent, over all pages


def _collect(
    connector: Connector,
    scope: Scope,
    progress: Progress,
    client_factory: Callable[[str], FeedClient],
    halted: Callable[[], str] = lambda: "",
) -> _Collected:
    """Fetch and normalize one feed; no database work here, so feeds can run side by side."""
    got = _fetch_feed(connector, scope, progress, client_factory, halted)
    got.asked = _since_text(scope)
    return got


def _fetch_feed(
    connector: Connector,
    scope: Scope,
    progress: Progress,
    client_factory: Callable[[str], FeedClient],
    halted: Callable[[], str],
) -> _Collected:
    name = connector.name
    target = (
        f"{connector.base_url() or 'urls'} countries={','.join(scope.countries)}"
        + (f" cities={','.join(scope.cities)}" if scope.cities else "")
        + f" ({_since_text(scope)})"
    )
    started = time.perf_counter()
    missing = connector.missing_settings()
    if missing:
        needs = ", ".join(missing)
        return _Collected(
            connector, target, started, empty_observations(), Stats(), "skipped",
            f"not configured: set {needs} (environment or secrets.toml)",
        )  # fmt: skip
    if halted():
        return _Collected(
            connector, target, started, empty_observations(), Stats(), "skipped", halted()
        )
    batches: list = []
    progress(name, "start", {"target": target, "since": _since_text(scope)})
    with client_factory(name) as client:
        try:
            for batch in connector.fetch(client, scope):
                batches.append(batch)
                records = sum(len(b.records) for b in batches)
                progress(name, "page", {"pages": client.stats.pages, "records": records})
                if halted():
                    raise _Halted(halted())
            data = connector.normalize_all(batches, scope)
        except _Halted as exc:
            return _Collected(
                connector, target, started, empty_observations(), client.stats, "skipped",
                str(exc),
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a feed's failure is reported, never raised
            error = (
                str(exc)
                if isinstance(exc, FeedError)
                else f"{name}: unexpected {type(exc).__name__}: {redact(str(exc))}"
            )
            return _Collected(
                connector, target, started, empty_observations(), client.stats, "failed", error
            )
    return _Collected(
        connector, target, started, data if not data.empty else empty_observations(), client.stats,
        records=sum(len(b.records) for b in batches),
    )  # fmt: skip


def _store(
    engine: Engine,
    got: _Collected,
    progress: Progress,
    halted: Callable[[], str] = lambda: "",
) -> SourceReport:
    """Write one feed's rows in one transaction (or log why there are none) and report."""
    name, stats = got.connector.name, got.stats

    def finish(result: IngestResult, **fields) -> SourceReport:
        report = SourceReport(
            **result.as_dict(), records=got.records, retries=stats.retries,
            seconds=time.perf_counter() - got.started, since=got.asked, **fields,
        )  # fmt: skip
        progress(name, "done", {"report": report})
        return report

    http = {
        "pages": stats.pages,
        "requests": stats.requests,
        "pages_not_modified": stats.not_modified,
        "pages_cached": stats.cache_hits,
    }

    def unstored(status: str, error: str, rows_in: int = len(got.data)) -> IngestResult:
        return IngestResult(name, got.target, status=status, error=error, rows_in=rows_in, **http)

    if got.status == "fetched" and halted():
        return finish(unstored("skipped", halted()))
    if got.status == "skipped":
        return finish(unstored("skipped", got.error))
    close_interrupted(engine, name)
    if got.status == "failed":
        log_failed_fetch(engine, unstored("failed", got.error, rows_in=0))
        return finish(unstored("failed", got.error))
    progress(name, "storing", {"rows": len(got.data)})
    refused = got.connector.rejected_rows()
    try:
        result = ingest(
            engine, got.data, source=name, target=got.target, pre_rejected=refused, **http
        )
    except Exception as exc:  # noqa: BLE001 - ingest logged it and rolled back
        return finish(unstored("failed", f"{name}: could not store: {type(exc).__name__}: {exc}"))
    return finish(result, notes="; ".join(got.connector.notes), skipped=dict(got.connector.skipped))


class RefreshJob:
    """A refresh running in a background thread, with progress a page can poll.

    The dashboard starts one and keeps rendering from the store meanwhile: SQLite in WAL mode
    lets pages read the last good figures while the refresh writes, and a failed source
    leaves its figures as they were. It holds the store's refresh lock (data_sources.store.lock)
    from `start` to the end, like the CLI and the worker: one refresh at a time everywhere.
    """

    def __init__(
        self,
        engine: Engine,
        sources: list[str],
        scope: Scope,
        client_factory: Callable[[str], FeedClient] = revalidating_client,
        full: bool = False,
    ) -> None:
        self.engine, self.sources, self.scope = engine, sources, scope
        self.client_factory, self.full = client_factory, full
        self.lock = DbLock(engine, detail=describe_run(sources, scope))
        self.state: dict[str, dict] = {
            s: {"status": "waiting", "pages": 0, "records": 0, "error": ""} for s in sources
        }
        self.reports: list[SourceReport] = []
        self.started = time.time()
        self.finished: float | None = None
        self.error = ""
        self._thread = threading.Thread(target=self._run, daemon=True, name="refresh")

    def start(self) -> RefreshJob:
        """Take the refresh lock, then run in the background; LockHeld (saying who holds it)
        when a refresh is already running in this or another process."""
        self.lock.acquire(wait=0)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self.finished is None

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _progress(self, source: str, event: str, info: dict) -> None:
        entry = self.state[source]
        if event == "start":
            entry["status"] = "fetching"
        elif event == "page":
            entry.update(pages=info["pages"], records=info["records"])
        elif event == "storing":
            entry["status"] = "storing"
        elif event == "done":
            report = info["report"]
            entry.update(
                status=report.status,
                error=report.error or report.notes,
                new=report.rows_new,
                revised=report.rows_revised,
                rejected=report.rows_rejected,
                # where every row went (rows in = stored + added up + rejected), as on the CLI
                rows=report.balance() if report.status == "ok" else "",
            )

    def _run(self) -> None:
        try:
            self.reports = refresh(
                self.engine,
                self.sources,
                self.scope,
                progress=self._progress,
                client_factory=self.client_factory,
                full=self.full,
                lock=self.lock,
            )
        except Exception as exc:  # noqa: BLE001 - shown on the page instead of lost in a thread
            self.error = f"{type(exc).__name__}: {redact(str(exc))}"
        finally:
            try:
                self.lock.release()
            finally:
                self.finished = time.time()


def describe_run(sources: list[str], scope: Scope) -> str:
    """What a run is doing, in the lock row, for other processes' pages and messages."""
    return f"sources {', '.join(sources) or '(none)'} for {', '.join(scope.countries)}"


__all__ = ["LockHeld", "RefreshJob", "SourceReport", "default_scope", "describe_run", "refresh"]
