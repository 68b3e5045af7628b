"""The store's one write path, `ingest`: validate, place and store a load's figures.

A figure is never overwritten. Observations hang off a *series* (source, dataset, metric,
qualifier, site, place, unit, estimate); a figure for an existing series and period with a
different value becomes a new revision and the old one stops being current. Every ingest is one
transaction, logged in `fetch_log`, and whatever could not be stored lands in `rejects` with the
reason, so nothing a source sent is silently lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.model.aggregate import add_up_events, summable
from data_sources.model.dates import calendar_day
from data_sources.model.places import Gazetteer, gazetteer
from data_sources.model.validation import validate
from data_sources.redact import redact_url
from data_sources.store.fetches import (
    IngestResult,
    _now,
    close_abandoned,
    finish_fetch,
    start_fetch,
)
from data_sources.store.tables import (
    PROVENANCE_KEY,
    SERIES_KEY,
    observations,
    places,
    provenance,
    rejects,
    series,
)


def _hash_rows(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """A stable key per row (sha1 of the fields), vectorized: called on distinct rows only."""
    joined = df[cols[0]].astype(str)
    for col in cols[1:]:
        joined = joined + "\x1f" + df[col].astype(str)
    return pd.Series(
        [hashlib.sha1(s.encode("utf-8")).hexdigest() for s in joined.tolist()],
        index=df.index,
        dtype=object,
    )


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _reject_records(df: pd.DataFrame, fetch_id: int, default_source: str) -> list[dict]:
    """Reject rows with their raw input as JSON. Serialized by pandas in one pass: a feed can
    send tens of thousands of unplaceable rows, and per-row json.dumps cost seconds."""
    if df.empty:
        return []
    now = _now()
    # row_kind is our marker (aggregate.py), not what the source sent
    raw_cols = sorted(c for c in df.columns if c not in ("reason", "row_kind"))
    raw = (
        df[raw_cols]
        .to_json(
            orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
        )
        .splitlines()
    )
    text = {
        c: df[c].astype(object).where(df[c].notna(), "").astype(str).tolist()
        for c in ("source", "dataset", "row_ref")
        if c in df
    }
    empty = [""] * len(df)
    sources = [s or default_source for s in text.get("source", empty)]
    refs, datasets = text.get("row_ref", empty), text.get("dataset", empty)
    reasons = df["reason"].astype(str).tolist()
    return [
        {
            "reject_key": hashlib.sha1(
                f"{src}\x1f{ref}\x1f{why}\x1f{raw_json}".encode()
            ).hexdigest(),
            "fetch_id": fetch_id,
            "source": src,
            "dataset": ds,
            "row_ref": ref,
            "reason": why,
            "raw": raw_json,
            "created_at": now,
        }
        for src, ds, ref, why, raw_json in zip(sources, datasets, refs, reasons, raw, strict=True)
    ]


def _ids_for_keys(conn, table: sa.Table, key_col: str, id_col: str, keys: list[str]) -> dict:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = conn.execute(
            sa.select(table.c[key_col], table.c[id_col]).where(table.c[key_col].in_(chunk))
        )
        found.update({k: i for k, i in rows})
    return found


def _ensure_rows(conn, table: sa.Table, key_col: str, id_col: str, frame: pd.DataFrame) -> dict:
    """Insert rows whose key is new; return key -> id for all of them."""
    keys = frame[key_col].tolist()
    found = _ids_for_keys(conn, table, key_col, id_col, keys)
    missing = frame[~frame[key_col].isin(list(found))]
    if not missing.empty:
        conn.execute(table.insert(), missing.to_dict("records"))
        found.update(_ids_for_keys(conn, table, key_col, id_col, missing[key_col].tolist()))
    return found


def _ensure_places(conn, place_ids: list[str], names: dict[str, str], gaz: Gazetteer) -> None:
    existing = set()
    for chunk in _chunks(place_ids):
        existing.update(
            r[0]
            for r in conn.execute(sa.select(places.c.place_id).where(places.c.place_id.in_(chunk)))
        )
    new = [gaz.place_record(p, names.get(p, "")) for p in place_ids if p not in existing]
    # a district's governorate, a governorate's country: stored with it, so that the place a
    # figure is on can always name what contains it
    wanted = {r["place_id"] for r in new} | existing
    parents = [r["parent_id"] for r in new if r["parent_id"]]
    while parents:
        parent = parents.pop()
        if parent in wanted:
            continue
        if conn.execute(sa.select(places.c.place_id).where(places.c.place_id == parent)).first():
            wanted.add(parent)
            continue
        record = gaz.place_record(parent)
        new.append(record)
        wanted.add(parent)
        if record["parent_id"]:
            parents.append(record["parent_id"])
    if new:
        conn.execute(places.insert(), new)


def _split_duplicates(obs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Within one input, the same series and period twice (events were added up before, in
    `aggregate.add_up_events`): identical copies collapse to one, conflicting values are all
    rejected, since we cannot know which of two reports the source meant."""
    key = ["series_id", "period_start", "period_end"]
    columns = [obs[k].to_numpy() for k in key]
    order = np.lexsort(columns[::-1])
    repeated = np.ones(max(len(obs) - 1, 0), dtype=bool)
    for values in columns:
        ordered = values[order]
        repeated &= ordered[1:] == ordered[:-1]
    if not repeated.any():  # the usual case, checked on sorted keys: no pandas hashing
        return obs, obs.iloc[0:0]
    obs = obs.drop_duplicates(subset=[*key, "value"])
    counts = obs.groupby(key)["value"].transform("size")
    conflicting = obs[counts > 1]
    if conflicting.empty:
        return obs, conflicting
    values = conflicting.groupby(key)["value"].transform(lambda v: ", ".join(f"{x:g}" for x in v))
    return obs[counts == 1], conflicting.assign(
        reason="conflicting values for the same place, period and breakdown in one input: " + values
    )


def ingest(
    engine: Engine,
    normalized: pd.DataFrame,
    *,
    source: str,
    target: str,
    pre_rejected: pd.DataFrame | None = None,
    retrieved_at: datetime | None = None,
    gaz: Gazetteer | None = None,
    pages: int = 0,
    requests: int = 0,
    pages_not_modified: int = 0,
    pages_cached: int = 0,
    complete: bool = False,
) -> IngestResult:
    """Validate, place and store normalized figures in one transaction.

    `complete` says the input is the whole of its datasets (an imported file): a figure a
    dataset held before and this input no longer holds is then marked withdrawn (kept, with
    the time, so that an as-of view before it still shows it). Incremental feed reads are not
    complete and never withdraw anything.

    `pre_rejected` carries rows a normalizer already refused (with a `reason`), so that they are
    logged in the same fetch. On any error nothing of this input is stored and the fetch is
    logged as failed with the error.
    """
    gaz = gaz or gazetteer()
    target = redact_url(target)  # the store never holds a credential (issue 11)
    normalized = _redacted_links(normalized)
    # event rows a streamed reader already added up (formats/hxl.py): still rows in
    added_before = int(normalized.attrs.get("rows_added_up", 0))
    result = IngestResult(
        source=source, target=target, pages=pages, requests=requests,
        pages_not_modified=pages_not_modified, pages_cached=pages_cached,
        rows_in=len(normalized) + added_before + (0 if pre_rejected is None else len(pre_rejected)),
    )  # fmt: skip
    from data_sources.store.lock import DbLock

    close_abandoned(engine)  # a load killed earlier says so before this one starts
    lease = DbLock(engine, detail=f"{source}: {target}")
    result.fetch_id = start_fetch(engine, source, target, lease)
    try:
        codes: dict[str, np.ndarray] = {}
        good, bad = validate(normalized, codes)
        rows, combos, unplaced = _place_combos(good, gaz, codes)
        result.placed_by = placed_by(rows, combos)
        refused = [f for f in (pre_rejected, bad, unplaced) if f is not None and not f.empty]
        retrieved = retrieved_at or _now()

        def write(conn) -> None:
            _write_load(
                conn, engine, rows, combos, good, list(refused), result, retrieved, gaz,
                complete, added_before,
            )  # fmt: skip

        _write_retrying(engine, write)
    except BaseException as exc:  # any failure, SIGTERM and Ctrl-C too: logged, re-raised
        _log_failure(engine, result, exc)
        raise
    finally:
        # the store gone or busy: the lease runs out by itself
        with contextlib.suppress(sa.exc.DBAPIError):
            lease.release()
    return result


def _redacted_links(normalized: pd.DataFrame) -> pd.DataFrame:
    """The figures with every `source_url` redacted, each distinct link once."""
    if "source_url" not in normalized or not len(normalized):
        return normalized
    links = {
        u: redact_url(u) if isinstance(u, str) and u else u
        for u in pd.unique(normalized["source_url"])
    }
    return normalized.assign(source_url=normalized["source_url"].map(links))


def _write_retrying(engine: Engine, write) -> None:
    """Run `write(conn)` in one transaction, again when another load committed the same new
    keys first (`_lost_a_race`), at most `WRITE_ATTEMPTS` times."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                write(conn)
            return
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if attempt == WRITE_ATTEMPTS or not _lost_a_race(exc):
                raise
            time.sleep(0.05 * attempt)  # another load committed first: read again, write


def _log_failure(engine: Engine, result: IngestResult, exc: BaseException) -> None:
    """Log the load as failed with its error: nothing of it was stored."""
    result.status = "failed"
    result.error = (
        f"interrupted ({exc}): stopped before this load committed; nothing of it was stored"
        if isinstance(exc, KeyboardInterrupt)
        else f"{type(exc).__name__}: {exc}"
    )
    result.rows_new = result.rows_revised = result.rows_unchanged = 0
    finish_fetch(engine, result)


WRITE_ATTEMPTS = 4


def _lost_a_race(exc: Exception) -> bool:
    """Two loads writing the same new places, series or figures at once: the one that commits
    second trips over the first one's keys (PostgreSQL waits, then refuses the duplicate;
    SQLite's writer lock is busy). The transaction was rolled back whole, so writing again,
    now seeing the other load's rows, stores each figure once."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(
        marker in text
        for marker in ("unique", "duplicate key", "database is locked", "could not serialize")
    )


# what a reject reason names after its kind (a quoted value, the conflicting numbers), cut off
# when reasons are counted by kind in a load's summary
REASON_DETAIL = r"'.*|: [\d.,\s]+$"


def _write_load(
    conn,
    engine: Engine,
    rows: pd.DataFrame,
    combos: pd.DataFrame,
    good: pd.DataFrame,
    reject_frames: list[pd.DataFrame],
    result: IngestResult,
    retrieved: datetime,
    gaz: Gazetteer,
    complete: bool = False,
    added_before: int = 0,
) -> None:
    """One load's writes, in the caller's transaction: figures, rejects, and its end (the
    fetch log row, which counts `added_before`: event rows a streamed reader added up)."""
    result.rows_new = result.rows_revised = result.rows_unchanged = result.rows_rejected = 0
    result.rows_added_up = result.rows_repeated = result.rows_withdrawn = 0
    if not rows.empty:
        conflicts = _store_observations(conn, rows, combos, good, result, retrieved, gaz, complete)
        if not conflicts.empty:
            reject_frames.append(conflicts)
    result.rows_added_up += added_before
    rejected = pd.concat(reject_frames, ignore_index=True) if reject_frames else None
    if rejected is not None:
        result.rows_rejected = len(rejected)
        result.reject_reasons = (
            rejected["reason"]
            .str.replace(REASON_DETAIL, "", regex=True)
            .str.strip()
            .value_counts()
            .head(20)
            .to_dict()
        )
        records = _reject_records(rejected, result.fetch_id, result.source)
        known = set(
            _ids_for_keys(
                conn, rejects, "reject_key", "reject_id", [r["reject_key"] for r in records]
            )
        )
        fresh = list({r["reject_key"]: r for r in records if r["reject_key"] not in known}.values())
        for chunk in _chunks(fresh, 2000):
            conn.execute(rejects.insert(), chunk)
    # in the same transaction as the figures: no reader sees the new data version
    # without them, nor them without it, and a process killed after the commit
    # cannot leave a stored load marked 'running' (later closed as "nothing stored")
    finish_fetch(engine, result, conn)


PLACE_KEY = ["place_kind", "place_raw", "country_iso3", "admin2", "pcode", "lat", "lon"]


IDENTITY = list(
    dict.fromkeys(
        [
            *PLACE_KEY,
            *(k for k in SERIES_KEY if k != "place_id"),
            *PROVENANCE_KEY,
            "admin1",
            "row_kind",
        ]
    )
)


def _row_keys(df: pd.DataFrame, cols: list[str], codes: dict[str, np.ndarray]) -> np.ndarray:
    """One integer per distinct combination of `cols`, folded from per-column value codes:
    the text columns' codes come from validation (strings are hashed once per ingest), the
    rest are factorized here."""
    key = np.zeros(len(df), dtype=np.int64)
    bound = 1  # every key is below this
    for col in cols:
        col_codes = codes.get(col)
        if col_codes is None:
            col_codes = pd.factorize(df[col], use_na_sentinel=False)[0]
        width = int(col_codes.max(initial=0)) + 2
        if bound * width >= 2**62:  # renumber densely first, so this fold cannot overflow
            key = pd.factorize(key)[0]
            bound = int(key.max(initial=0)) + 1
        key = key * width + col_codes + 1  # sentinel -1 -> 0
        bound *= width
    return pd.factorize(key)[0]


def _place_combos(
    good: pd.DataFrame, gaz: Gazetteer, codes: dict[str, np.ndarray] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Group rows by everything that is not the figure itself (place, series, provenance).

    Millions of rows share a few thousand such combinations; placing, provenance and series
    lookups then run once per combination, and rows carry only a combination number.
    Returns (rows: combo, period_start, period_end, value, row), combos placed, unplaced rows.
    """
    empty = pd.DataFrame(columns=["combo", "period_start", "period_end", "value", "row"])
    if good.empty:
        return empty, good.iloc[0:0], good.iloc[0:0]
    _, first, codes = np.unique(
        _row_keys(good, IDENTITY, codes or {}), return_index=True, return_inverse=True
    )
    codes = codes.ravel()
    combos = good.iloc[first][IDENTITY].reset_index(drop=True)
    placed, unplaced_combos = gaz.resolve(combos)
    ok = np.zeros(len(combos), dtype=bool)
    ok[placed.index.to_numpy()] = True
    reason = pd.Series("", index=combos.index, dtype=object)
    reason[unplaced_combos.index] = unplaced_combos["reason"]
    keep = ok[codes]
    unplaced = good[~keep].assign(reason=reason.to_numpy()[codes[~keep]])
    rows = pd.DataFrame(
        {
            "combo": codes[keep],
            "period_start": good["period_start"].to_numpy()[keep],
            "period_end": good["period_end"].to_numpy()[keep],
            "value": good["value"].to_numpy()[keep],
            "row": np.flatnonzero(keep),
        }
    )
    return rows, placed, unplaced


def placed_by(rows: pd.DataFrame, combos: pd.DataFrame) -> dict[str, int]:
    """Rows placed by each method (`places.Match.method`), most first."""
    if rows.empty:
        return {}
    methods = combos["match_method"].reindex(rows["combo"].to_numpy())
    return {str(k): int(v) for k, v in methods.value_counts().items()}


def _store_observations(
    conn,
    rows: pd.DataFrame,
    combos: pd.DataFrame,
    good: pd.DataFrame,
    result: IngestResult,
    retrieved: datetime,
    gaz: Gazetteer,
    complete: bool = False,
) -> pd.DataFrame:
    """Write places, provenance, series and observation revisions; return rejected conflicts."""
    combos = _store_identities(conn, combos, gaz)
    obs = _observations_of(rows, combos)
    # events add up (aggregate.py); what is left repeated is two reports of one figure
    adds_up = summable(combos["metric"], combos["row_kind"])
    if adds_up.any():
        combo_adds_up = np.zeros(int(combos.index.max()) + 1, dtype=bool)
        combo_adds_up[combos.index.to_numpy()] = adds_up
        before = len(obs)
        obs = add_up_events(obs, combo_adds_up[rows["combo"].to_numpy()])
        result.rows_added_up = before - len(obs)
    before = len(obs)
    obs, conflicts = _split_duplicates(obs)
    result.rows_repeated = before - len(obs) - len(conflicts)
    if complete:
        datasets = combos.drop_duplicates(["source", "dataset"])[["source", "dataset"]]
        result.rows_withdrawn = _withdraw_missing(conn, obs, datasets, retrieved)
    _store_revisions(conn, obs, result, retrieved)
    if conflicts.empty:
        return conflicts
    return good.iloc[conflicts["row"].to_numpy()].assign(reason=conflicts["reason"].to_numpy())


def _store_identities(conn, combos: pd.DataFrame, gaz: Gazetteer) -> pd.DataFrame:
    """Store the places, provenance and series the combinations name (those not stored yet);
    return the combinations with their `series_id` and `provenance_id`."""
    place_names = combos.groupby("place_id")["place_raw"].first().to_dict()
    _ensure_places(conn, sorted(combos["place_id"].unique()), place_names, gaz)
    combos = combos.copy()
    combos["prov_key"] = _hash_rows(combos, PROVENANCE_KEY)
    prov_ids = _ensure_rows(
        conn,
        provenance,
        "prov_key",
        "provenance_id",
        combos[["prov_key", *PROVENANCE_KEY]].drop_duplicates("prov_key"),
    )
    combos["series_key"] = _hash_rows(combos, SERIES_KEY)
    descriptive = ["place_raw", "admin1", "admin2", "pcode", "match_method", "match_score"]
    ser = combos.drop_duplicates("series_key")[["series_key", *SERIES_KEY, *descriptive]]
    series_ids = _ensure_rows(conn, series, "series_key", "series_id", ser)
    return combos.assign(
        series_id=combos["series_key"].map(series_ids),
        provenance_id=combos["prov_key"].map(prov_ids),
    )


def _observations_of(rows: pd.DataFrame, combos: pd.DataFrame) -> pd.DataFrame:
    """Each row as an observation: its combination's series and provenance ids looked up by
    array index (rows carry only a combination number)."""
    n_combos = int(combos.index.max()) + 1
    combo_series = np.zeros(n_combos, dtype=np.int64)
    combo_prov = np.zeros(n_combos, dtype=np.int64)
    combo_series[combos.index.to_numpy()] = combos["series_id"].to_numpy()
    combo_prov[combos.index.to_numpy()] = combos["provenance_id"].to_numpy()
    codes = rows["combo"].to_numpy()
    return pd.DataFrame(
        {
            "series_id": combo_series[codes],
            "period_start": rows["period_start"],
            "period_end": rows["period_end"],
            "value": rows["value"],
            "provenance_id": combo_prov[codes],
            "row": rows["row"],
        }
    )


def _store_revisions(conn, obs: pd.DataFrame, result: IngestResult, retrieved: datetime) -> None:
    """Compare each figure with the newest stored revision of its key: a new key (or a
    withdrawn figure that comes back) is inserted, a changed value becomes the next revision
    and the one it supersedes stops being current, an equal value is left alone."""
    current = _current_values(conn, np.unique(obs["series_id"].to_numpy()).tolist())
    if current.empty:  # new series only (a first load): nothing to compare with
        merged = obs.assign(old_value=np.nan, old_revision=np.nan)
    else:
        merged = obs.merge(current, on=["series_id", "period_start", "period_end"], how="left")
    # a withdrawn figure that comes back is new again, as the next revision of its key
    back = (
        merged["old_withdrawn"].fillna(False).astype(bool) if "old_withdrawn" in merged else False
    )
    is_new = merged["old_revision"].isna() | back
    tolerance = 1e-9 * merged["value"].abs().clip(lower=1.0)
    changed = ~is_new & ((merged["value"] - merged["old_value"]).abs() > tolerance)
    result.rows_new = int(is_new.sum())
    result.rows_revised = int(changed.sum())
    result.rows_unchanged = int((~is_new & ~changed).sum())

    to_write = merged[is_new | changed]
    to_write = to_write.assign(revision=to_write["old_revision"].fillna(0).astype(int) + 1)
    superseded = merged.loc[
        changed & ~back, ["series_id", "period_start", "period_end", "old_revision"]
    ]
    _set_revisions(conn, {"is_current": False}, superseded.rename(columns=REVISION_KEY))
    _insert_observations(conn, to_write, retrieved, result.fetch_id)


OBSERVATION_INSERT = [
    "series_id",
    "period_start",
    "period_end",
    "value",
    "revision",
    "is_current",
    "retrieved_at",
    "provenance_id",
    "fetch_id",
]


def _insert_observations(conn, rows: pd.DataFrame, retrieved: datetime, fetch_id: int) -> None:
    """Bulk insert through the driver: SQLAlchemy's per-row type processing cost more than the
    insert itself. On SQLite, dates are written in the same text form SQLAlchemy reads back."""
    if rows.empty:
        return
    # in key order, each insert lands next to the previous one in the clustered B-tree:
    # 27% faster on 1M rows than the input's order
    order = np.lexsort(
        (
            rows["period_end"].to_numpy(),
            rows["period_start"].to_numpy(),
            rows["series_id"].to_numpy(),
        )
    )
    rows = rows.iloc[order]
    if conn.dialect.name == "sqlite":
        _insert_sqlite(conn, rows, retrieved, fetch_id)
        return
    params = list(
        zip(
            rows["series_id"].astype(int).tolist(),
            rows["period_start"].dt.date.tolist(),
            rows["period_end"].dt.date.tolist(),
            rows["value"].astype(float).tolist(),
            rows["revision"].astype(int).tolist(),
            rows["provenance_id"].astype(int).tolist(),
            strict=True,
        )
    )
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # constants of this fetch are literals (checked types, no user text), so only six values
    # per row cross the driver
    sql = (
        f"INSERT INTO observations ({', '.join(OBSERVATION_INSERT)}) VALUES "
        f"({mark}, {mark}, {mark}, {mark}, {mark}, TRUE, '{retrieved.isoformat()}', {mark}, "
        f"{int(fetch_id)})"
    )
    for chunk in _chunks(params, 50_000):
        conn.exec_driver_sql(sql, chunk)


def _insert_sqlite(conn, rows: pd.DataFrame, retrieved: datetime, fetch_id: int) -> None:
    """SQLite's share of the insert, where binding values is most of the cost: a value every
    row shares is written once into the statement, and a period that starts and ends on the
    same day (daily prices, events) is bound once and used twice (numbered parameters)."""
    stamp = retrieved.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    start_days = rows["period_start"].to_numpy("datetime64[D]")
    one_day = bool((start_days == rows["period_end"].to_numpy("datetime64[D]")).all())
    revision = rows["revision"].to_numpy(np.int64)
    bound: list[list] = [
        rows["series_id"].to_numpy(np.int64).tolist(),
        _iso_days(rows["period_start"]),
    ]
    marks = {"series_id": "?1", "period_start": "?2"}
    if one_day:
        marks["period_end"] = "?2"
    else:
        bound.append(_iso_days(rows["period_end"]))
        marks["period_end"] = f"?{len(bound)}"
    bound.append(rows["value"].to_numpy(float).tolist())
    marks["value"] = f"?{len(bound)}"
    if (revision == 1).all():  # a first load: every figure is revision 1
        marks["revision"] = "1"
    else:
        bound.append(revision.tolist())
        marks["revision"] = f"?{len(bound)}"
    bound.append(rows["provenance_id"].to_numpy(np.int64).tolist())
    marks["provenance_id"] = f"?{len(bound)}"
    marks.update(is_current="1", retrieved_at=f"'{stamp}'", fetch_id=str(int(fetch_id)))
    sql = (
        f"INSERT INTO observations ({', '.join(OBSERVATION_INSERT)}) VALUES "
        f"({', '.join(marks[c] for c in OBSERVATION_INSERT)})"
    )
    params = list(zip(*bound, strict=True))
    for chunk in _chunks(params, 50_000):
        conn.exec_driver_sql(sql, chunk)


def _iso_days(dates: pd.Series) -> list[str]:
    """Dates as the ISO text SQLite holds, formatted once per distinct day: a million figures
    fall on a few thousand days, and formatting each row took 0.8 s per million."""
    codes, days = pd.factorize(dates.to_numpy("datetime64[D]"))
    text = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]")).astype(object)
    return text[codes].tolist()


def _current_values(conn, series_ids: list[int]) -> pd.DataFrame:
    """The newest revision of each figure of these series: the current ones, and the withdrawn
    ones (`old_withdrawn`), whose return must be numbered after them. Dates travel as ISO text
    and are parsed once per column: per-row date objects made a re-load of 1M unchanged
    figures take 14 s."""
    o = observations.c
    cols = ["series_id", "period_start", "period_end", "old_value", "old_revision", "old_withdrawn"]
    records: list = []
    for chunk in _chunks(series_ids):
        q = sa.select(
            o.series_id,
            sa.cast(o.period_start, sa.String),
            sa.cast(o.period_end, sa.String),
            o.value,
            o.revision,
            o.withdrawn_at.is_not(None),
        ).where(sa.or_(o.is_current.is_(True), o.withdrawn_at.is_not(None)), o.series_id.in_(chunk))
        records.extend(map(tuple, conn.execute(q)))  # plain tuples: pandas probes Rows slowly
    out = pd.DataFrame.from_records(records, columns=cols)
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col], format="ISO8601").astype("datetime64[s]")
    out["old_value"] = out["old_value"].astype(float)
    out["old_withdrawn"] = out["old_withdrawn"].astype(bool)
    if out["old_withdrawn"].any():  # withdrawn, then back: keep each key's newest revision
        out = out.sort_values("old_revision").drop_duplicates(
            ["series_id", "period_start", "period_end"], keep="last"
        )
    return out


def _withdraw_missing(conn, obs: pd.DataFrame, datasets: pd.DataFrame, retrieved: datetime) -> int:
    """Mark withdrawn the current figures of these (source, dataset)s that `obs` (a complete
    re-read of them) no longer holds: they stop being current and keep their values."""
    o = observations.c
    withdrawn = 0
    held = set(
        zip(
            obs["series_id"].astype(int).tolist(),
            obs["period_start"].dt.date.tolist(),
            obs["period_end"].dt.date.tolist(),
            strict=True,
        )
    )
    for source, dataset in datasets.itertuples(index=False):
        ids = sa.select(series.c.series_id).where(
            series.c.source == source, series.c.dataset == dataset
        )
        rows = conn.execute(
            sa.select(o.series_id, o.period_start, o.period_end, o.revision).where(
                o.series_id.in_(ids), o.is_current.is_(True)
            )
        ).all()
        gone = pd.DataFrame(
            [
                (s, _as_date(a), _as_date(b), r)
                for s, a, b, r in rows
                if (s, _as_date(a), _as_date(b)) not in held
            ],
            columns=list(REVISION_COLUMNS),
        )
        _set_revisions(conn, {"is_current": False, "withdrawn_at": retrieved}, gone)
        withdrawn += len(gone)
    return withdrawn


# the columns that name one revision, as the frames handed to `_set_revisions` call them
REVISION_KEY = {"old_revision": "revision"}
REVISION_CHUNK = 50_000  # keys per statement (PostgreSQL) or per insert (SQLite)
REVISION_COLUMNS = ("series_id", "period_start", "period_end", "revision")
_KEYS = sa.Table(
    "revision_keys",
    sa.MetaData(),
    sa.Column("series_id", sa.Integer, nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


def _set_revisions(conn, values: dict, keys: pd.DataFrame) -> None:
    """Set `values` on the revisions named by `keys` (series_id, period_start, period_end,
    revision) by UPDATEs joined to the keys: on SQLite one, on PostgreSQL one per chunk of
    `REVISION_CHUNK`. One UPDATE per key made a load revising 500,000 figures take 192 s."""
    if keys.empty:
        return
    series_ids = keys["series_id"].to_numpy(np.int64).tolist()
    revisions = keys["revision"].to_numpy(np.int64).tolist()
    # dates as ISO text: what SQLite holds, and what PostgreSQL casts to date[] at once
    starts, ends = (_iso_days(pd.to_datetime(keys[c])) for c in ("period_start", "period_end"))
    if conn.dialect.name == "postgresql":
        _set_revisions_postgresql(conn, values, [series_ids, starts, ends, revisions])
        return
    # elsewhere (SQLite): the keys go into a temporary table
    # pysqlite runs DDL outside the transaction: a table a failed load left on this pooled
    # connection is emptied and used again
    _KEYS.create(conn, checkfirst=True)
    conn.execute(_KEYS.delete())
    params = list(zip(series_ids, starts, ends, revisions, strict=True))
    for chunk in _chunks(params, REVISION_CHUNK):
        conn.exec_driver_sql("INSERT INTO revision_keys VALUES (?, ?, ?, ?)", chunk)
    o, k = observations.c, _KEYS.c
    conn.execute(
        observations.update()
        .where(
            o.series_id == k.series_id,
            o.period_start == k.period_start,
            o.period_end == k.period_end,
            o.revision == k.revision,
        )
        .values(**values)
    )
    _KEYS.drop(conn)


def _set_revisions_postgresql(conn, values: dict, columns: list[list]) -> None:
    """PostgreSQL's share: the keys travel as four arrays and are joined with `unnest`, so
    a chunk is one statement with five parameters (psycopg's executemany into a temporary
    table cost as much as the per-key UPDATEs)."""
    sets = ", ".join(f"{name} = %({name})s" for name in values)  # our column names only
    sql = (
        f"UPDATE observations AS o SET {sets} "
        "FROM unnest(%(s)s::int[], %(a)s::date[], %(b)s::date[], %(r)s::int[]) "
        "AS k(series_id, period_start, period_end, revision) "
        "WHERE o.series_id = k.series_id AND o.period_start = k.period_start "
        "AND o.period_end = k.period_end AND o.revision = k.revision"
    )
    rows = len(columns[0])
    for at in range(0, rows, REVISION_CHUNK):
        s, a, b, r = (col[at : at + REVISION_CHUNK] for col in columns)
        conn.exec_driver_sql(sql, {**values, "s": s, "a": a, "b": b, "r": r})


def _as_date(value) -> date:
    """A stored date as `datetime.date` (SQLite hands back text, PostgreSQL a date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    day = calendar_day(value)
    if day is None:
        raise ValueError(f"not a stored date: {value!r}")
    return day
