"""The bundled snapshot of real public data and the code that loads it into an empty store.

What ships is the source registry's list of bundled files (`sources.BUNDLED`: file, source,
licence, citation, link and the prose of SOURCES.md); the manifest below adds how each is read.
A store remembers the snapshot fingerprint it loaded, so later starts skip the load; loading
again anyway adds nothing, since ingest only writes new or changed figures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from data_sources.formats.hxl import parse_hxl_csv
from data_sources.formats.insecurity_insight import read_incidents
from data_sources.formats.reported import parse_reported
from data_sources.formats.ucdp import read_ged_csv
from data_sources.formats.unhcr import parse_idmc, parse_unhcr_population
from data_sources.sources import BUNDLED, BundledFile
from data_sources.store.engine import get_meta, set_meta
from data_sources.store.fetches import IngestResult
from data_sources.store.ingest import ingest
from data_sources.store.lock import DbLock

SNAPSHOT_DIR = Path(__file__).resolve().parent
SNAPSHOT_LOCK = "snapshot"
RETRIEVED = datetime(2026, 11, 24, tzinfo=UTC)  # when these files were taken for the snapshot


@dataclass(frozen=True)
class SnapshotFile:
    """A bundled file and how it is read; what it is, its licence, citation and link are its
    registry entry's (`sources.BUNDLED`), which SOURCES.md is generated from."""

    entry: BundledFile
    reader: Callable[[Path, BundledFile], pd.DataFrame]

    @property
    def file(self) -> str:
        return self.entry.file

    @property
    def source(self) -> str:
        return self.entry.source

    def read(self, path: Path) -> pd.DataFrame:
        """The file's rows as observations, stamped with its entry's licence, citation, link."""
        return self.reader(path, self.entry)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _hxl(path: Path, entry: BundledFile) -> pd.DataFrame:
    return parse_hxl_csv(
        path.read_text(encoding="utf-8"),
        name=path.name,
        source=entry.source,
        country_iso3="SYR",
        source_url=entry.url,
        citation=entry.citation,
        licence=entry.licence,
    )


def _ged(country_iso3: str) -> Callable[[Path, BundledFile], pd.DataFrame]:
    # UCDP GED events, read whole (compressed: 0.9 MB instead of 14 MB) and added up per
    # place, day and type of violence by the store, like any event list
    return lambda path, entry: read_ged_csv(
        path,
        source=entry.source,
        source_url=entry.url,
        citation=entry.citation,
        licence=entry.licence,
        country_iso3=country_iso3,
    )


_READERS: dict[str, Callable[[Path, BundledFile], pd.DataFrame]] = {
    "wfp_food_prices_syr.csv": _hxl,
    "population_irq_syr_derived.csv": lambda p, e: parse_unhcr_population(_csv(p), p.name, entry=e),
    "idmc_irq_syr_derived.csv": lambda p, e: parse_idmc(_csv(p), p.name, entry=e),
    "reported_figures.csv": lambda p, e: parse_reported(_csv(p), p.name),
    "conflict_data_irq.csv.xz": _ged("IRQ"),
    "ged_syria_2016-2019.csv.xz": _ged("SYR"),
    # incidents placed by their points' precision (formats/insecurity_insight.py)
    "ii_health_care_irq_syr.csv.xz": lambda p, e: read_incidents(
        p, source=e.source, source_url=e.url, citation=e.citation, licence=e.licence
    ),
    "ii_education_irq_syr.csv.xz": lambda p, e: read_incidents(
        p, source=e.source, source_url=e.url, citation=e.citation, licence=e.licence
    ),
}
# every bundled file of the registry, in its order, each with its reader (a file without one
# fails here, at import)
MANIFEST = [SnapshotFile(entry, _READERS[name]) for name, entry in BUNDLED.items()]


def fingerprint() -> str:
    digest = hashlib.sha1()
    for item in MANIFEST:
        digest.update((SNAPSHOT_DIR / item.file).read_bytes())
    return digest.hexdigest()


def load_snapshot(engine: Engine, force: bool = False, prebuilt: bool = True) -> list[IngestResult]:
    """Load every snapshot file unless this store already holds this very snapshot.

    An empty SQLite or PostgreSQL store copies the prebuilt tables (`prebuilt.py`) instead of ingesting the
    files again; `prebuilt=False` always takes the ingest path."""
    stamp = fingerprint()
    if not force and get_meta(engine, "snapshot") == stamp:
        return []
    # Several app processes (or containers) starting on one empty store: one loads, the
    # others wait for it and then find the snapshot there.
    with DbLock(engine, SNAPSHOT_LOCK, detail="loading the bundled snapshot").acquire(wait=600):
        if not force and get_meta(engine, "snapshot") == stamp:
            return []
        return _load(engine, stamp, prebuilt)


def _load(engine: Engine, stamp: str, prebuilt: bool) -> list[IngestResult]:
    from data_sources.snapshot import prebuilt as ready

    if prebuilt and ready.usable(engine, stamp):
        results = ready.results_from_log(ready.copy_into(engine))
        set_meta(engine, "snapshot", stamp)
        return results
    results = []
    for item in MANIFEST:
        path = SNAPSHOT_DIR / item.file
        results.append(
            ingest(
                engine,
                item.read(path),
                source=item.source,
                target=f"snapshot:{item.file}",
                retrieved_at=RETRIEVED,
            )
        )
    set_meta(engine, "snapshot", stamp)
    return results
