"""The bundled snapshot of real public data and the code that loads it into an empty store.

The manifest below is the single list of what ships: file, reader, source and provenance.
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

from ..formats.hxl import parse_hxl_csv
from ..formats.reported import parse_reported
from ..formats.ucdp import read_ged_csv
from ..formats.unhcr import parse_idmc, parse_unhcr_population
from ..lock import DbLock
from ..store import IngestResult, get_meta, ingest, set_meta

SNAPSHOT_DIR = Path(__file__).resolve().parent
SNAPSHOT_LOCK = "snapshot"
RETRIEVED = datetime(2026, 11, 24, tzinfo=UTC)  # when these files were taken for the snapshot


@dataclass(frozen=True)
class SnapshotFile:
    file: str
    source: str
    read: Callable[[Path], pd.DataFrame]


UCDP_CITATION = (
    "UCDP Georeferenced Event Dataset: Sundberg, Ralph and Erik Melander (2013), Introducing the"
    " UCDP Georeferenced Event Dataset, Journal of Peace Research 50(4); Högbladh, Stina (2019),"
    " UCDP GED Codebook version 19.1, Department of Peace and Conflict Research, Uppsala"
    " University."
)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


MANIFEST = [
    SnapshotFile(
        "wfp_food_prices_syr.csv",
        "wfp",
        lambda p: parse_hxl_csv(
            p.read_text(encoding="utf-8"),
            name=p.name,
            source="wfp",
            country_iso3="SYR",
            source_url="https://data.humdata.org/dataset/wfp-food-prices-for-syrian-arab-republic",
            citation="World Food Programme, VAM food prices for the Syrian Arab Republic (HDX)",
            licence="CC BY-IGO",
        ),
    ),
    SnapshotFile(
        "population_irq_syr_derived.csv", "unhcr", lambda p: parse_unhcr_population(_csv(p), p.name)
    ),
    SnapshotFile("idmc_irq_syr_derived.csv", "idmc", lambda p: parse_idmc(_csv(p), p.name)),
    SnapshotFile("reported_figures.csv", "reported", lambda p: parse_reported(_csv(p), p.name)),
    # UCDP GED events, read whole (compressed: 0.9 MB instead of 14 MB) and added up per
    # place, day and type of violence by the store, like any event list
    SnapshotFile(
        "conflict_data_irq.csv.xz",
        "ucdp",
        lambda p: read_ged_csv(
            p,
            source="ucdp",
            source_url="https://data.humdata.org/dataset/ucdp-data-for-iraq",
            citation=UCDP_CITATION + " Iraq file of UCDP GED 19.1 on HDX (conflict_data_irq.csv).",
            licence="CC BY-IGO (HDX); UCDP data CC BY 4.0",
            country_iso3="IRQ",
        ),
    ),
    SnapshotFile(
        "ged_syria_2016-2019.csv.xz",
        "ucdp",
        lambda p: read_ged_csv(
            p,
            source="ucdp",
            source_url="https://ucdp.uu.se/downloads/",
            citation=UCDP_CITATION + " UCDP GED Syria release 652.1601.1911 (2016-2019).",
            licence="CC BY 4.0",
            country_iso3="SYR",
        ),
    ),
]


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
    from . import prebuilt as ready

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
