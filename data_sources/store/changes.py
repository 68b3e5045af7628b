"""What changed between two moments, and the revision history of a series.

Pure reads of the store. A *change* compares the figures shown as of `since` with those shown
as of `until` (`asof.visible`), for every figure a revision or a withdrawal touched in between:
- **added**: shown at `until`, not at `since` (a new figure, or a withdrawn one back);
- **revised**: shown at both with a different value (old → new, and the difference);
- **withdrawn**: shown at `since`, not at `until`: a complete re-read of its dataset (an
  imported file, `ingest(complete=True)`) no longer held it. Incremental feed reads never
  withdraw: a feed asked only for recent months says nothing about older ones.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.model.dates import calendar_days64
from data_sources.store.asof import bind, one_microsecond_before, visible
from data_sources.store.query import _frame
from data_sources.store.tables import fetch_log, observations, places, provenance, series

KEY = ["series_id", "period_start", "period_end"]
CHANGE_COLUMNS = [
    "change",
    "source",
    "city",
    "metric",
    "qualifier",
    "site",
    "unit",
    "estimate",
    "period_start",
    "period_end",
    "old_value",
    "new_value",
    "difference",
    "changed_at",
    "revision",
    "source_url",
]
HISTORY_COLUMNS = [
    "city",
    "metric",
    "qualifier",
    "site",
    "unit",
    "source",
    "period_start",
    "period_end",
    "revision",
    "value",
    "retrieved_at",
    "shown",
    "source_url",
]


def last_refresh_start(engine: Engine, before: datetime | None = None) -> datetime | None:
    """The start of the newest successful load (finished by `before`, for a view as of
    then): "since the last refresh" is what it (and any load after it) changed. Loads told
    to stamp their figures earlier (the bundled snapshot) are covered from just before their
    earliest figure."""
    from data_sources.store.asof import bind

    f = fetch_log.c
    with engine.connect() as conn:
        q = sa.select(f.fetch_id, f.started_at).where(f.status == "ok", f.finished_at.is_not(None))
        if before is not None:
            q = q.where(f.finished_at <= bind(engine, before))
        row = conn.execute(q.order_by(f.finished_at.desc()).limit(1)).first()
        if row is None:
            return None
        earliest = conn.execute(
            sa.select(sa.func.min(observations.c.retrieved_at)).where(
                observations.c.fetch_id == row.fetch_id
            )
        ).scalar()
    start = _utc(row.started_at)
    if earliest is not None and _utc(earliest) <= start:
        return one_microsecond_before(_utc(earliest))
    return one_microsecond_before(start)


def _utc(value) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def _shown(engine: Engine, series_ids: list[int], moment: datetime | None) -> pd.DataFrame:
    """The figures of these series shown at `moment` (None: before anything: empty)."""
    o = observations.c
    cols = [*KEY, "value", "revision", "retrieved_at", "provenance_id"]
    if moment is None or not series_ids:
        return _dated(pd.DataFrame(columns=cols))
    frames = []
    for i in range(0, len(series_ids), 500):
        chunk = series_ids[i : i + 500]
        frames.append(
            _frame(
                engine,
                sa.select(
                    o.series_id,
                    o.period_start,
                    o.period_end,
                    o.value,
                    o.revision,
                    o.retrieved_at,
                    o.provenance_id,
                ).where(o.series_id.in_(chunk), visible(engine, moment)),
            )
        )
    return _dated(pd.concat(frames, ignore_index=True))


def _dated(df: pd.DataFrame) -> pd.DataFrame:
    """Periods as datetime64[ns] from either backend (SQLite text, PostgreSQL dates), also
    for no rows, so that frames merge on them."""
    for col in ("period_start", "period_end"):
        df[col] = pd.Series(calendar_days64(df[col]), index=df.index).astype("datetime64[ns]")
    return df


def changes(
    engine: Engine, since: datetime, until: datetime | None = None, *, with_dataset: bool = False
) -> pd.DataFrame:
    """Figures added, revised and withdrawn after `since` up to `until` (None: now), one row
    each, per source and city, newest change first (columns: CHANGE_COLUMNS, and the series'
    `dataset` with `with_dataset`, which the API's redistribution rule needs)."""
    columns = [*CHANGE_COLUMNS, "dataset"] if with_dataset else CHANGE_COLUMNS
    touched = _touched(engine, since, until)
    if touched.empty:
        return pd.DataFrame(columns=columns)
    ids = sorted(touched["series_id"].astype(int).unique().tolist())
    before = _shown(engine, ids, since).merge(touched, on=KEY)
    after = _shown(engine, ids, until if until is not None else _far_future())
    after = after.merge(touched, on=KEY)
    both = before.merge(after, on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    both["change"] = np.select(
        [both["_merge"] == "right_only", both["_merge"] == "left_only"],
        ["added", "withdrawn"],
        "revised",
    )
    moved = (both["value_old"] - both["value_new"]).abs() > 1e-9 * both["value_new"].abs().clip(
        lower=1.0
    )
    both = both[(both["change"] != "revised") | moved]
    if both.empty:  # touched, but back where it was (withdrawn and returned, revised back)
        return pd.DataFrame(columns=columns)
    withdrawn_at = _withdrawn_times(engine, both[both["change"] == "withdrawn"])
    out = _describe(engine, _change_rows(both.merge(withdrawn_at, on=KEY, how="left")))
    order = {"added": 1, "revised": 0, "withdrawn": 2}
    out = out.assign(_o=out["change"].map(order)).sort_values(
        ["changed_at", "_o", "source", "city", "metric", "period_start"],
        ascending=[False, True, True, True, True, True],
    )
    return out[columns].reset_index(drop=True)


def _in_window(engine: Engine, since: datetime, until: datetime | None) -> sa.ColumnElement:
    """A revision stored, or a figure withdrawn, after `since` and up to `until` (None: now)."""
    o = observations.c
    after_since = sa.or_(o.retrieved_at > bind(engine, since), o.withdrawn_at > bind(engine, since))
    if until is None:
        return after_since
    at = bind(engine, until)
    return sa.and_(
        after_since,
        sa.or_(o.retrieved_at <= at, sa.and_(o.withdrawn_at.is_not(None), o.withdrawn_at <= at)),
    )


def _touched(engine: Engine, since: datetime, until: datetime | None) -> pd.DataFrame:
    """The keys of the figures a revision or a withdrawal touched after `since` up to
    `until` (None: now)."""
    o = observations.c
    window = _in_window(engine, since, until)
    return _dated(
        _frame(engine, sa.select(o.series_id, o.period_start, o.period_end).where(window))
    ).drop_duplicates()


def _change_rows(both: pd.DataFrame) -> pd.DataFrame:
    """One row per change from the figures as of both ends (`_old`, `_new` columns): a
    withdrawal is dated by its withdrawal and names the revision withdrawn, the others by
    the new revision."""
    gone = both["change"] == "withdrawn"
    out = pd.DataFrame(
        {
            "change": both["change"],
            "series_id": both["series_id"].astype(int),
            "period_start": both["period_start"],
            "period_end": both["period_end"],
            "old_value": both["value_old"].astype(float),
            "new_value": both["value_new"].astype(float),
            "changed_at": both["retrieved_at_new"].where(~gone, both["withdrawn_at"]),
            "revision": both["revision_new"].where(~gone, both["revision_old"]),
            "provenance_id": both["provenance_id_new"].where(~gone, both["provenance_id_old"]),
        }
    )
    out["difference"] = out["new_value"] - out["old_value"]
    out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True).dt.tz_localize(None)
    return out


def _far_future() -> datetime:
    return datetime(9999, 12, 31, tzinfo=pd.Timestamp.now(tz="UTC").tzinfo)


def _withdrawn_times(engine: Engine, gone: pd.DataFrame) -> pd.DataFrame:
    """When each withdrawn figure was withdrawn (its newest withdrawal)."""
    cols = [*KEY, "withdrawn_at"]
    if gone.empty:
        return _dated(pd.DataFrame(columns=cols).astype({"series_id": int}))
    o = observations.c
    ids = sorted(gone["series_id"].astype(int).unique().tolist())
    rows = _dated(
        _frame(
            engine,
            sa.select(o.series_id, o.period_start, o.period_end, o.withdrawn_at).where(
                o.series_id.in_(ids), o.withdrawn_at.is_not(None)
            ),
        )
    )
    return rows.sort_values("withdrawn_at").drop_duplicates(KEY, keep="last")[cols]


def _describe(engine: Engine, out: pd.DataFrame) -> pd.DataFrame:
    """Add each figure's series (source, place, metric…) and its revision's source link."""
    ids = sorted(out["series_id"].unique().tolist())
    meta = _frame(
        engine,
        sa.select(
            series.c.series_id,
            series.c.source,
            series.c.dataset,
            places.c.name.label("city"),
            series.c.metric,
            series.c.qualifier,
            series.c.site,
            series.c.unit,
            series.c.estimate,
        )
        .select_from(series.join(places, places.c.place_id == series.c.place_id))
        .where(series.c.series_id.in_(ids)),
    )
    prov_ids = sorted({int(p) for p in out["provenance_id"].dropna()})
    prov = _frame(
        engine,
        sa.select(provenance.c.provenance_id, provenance.c.source_url).where(
            provenance.c.provenance_id.in_(prov_ids)
        ),
    )
    out = out.merge(meta, on="series_id", how="left")
    out["provenance_id"] = out["provenance_id"].astype(float)
    prov["provenance_id"] = prov["provenance_id"].astype(float)
    return out.merge(prov, on="provenance_id", how="left")


# what makes one figure: its place, series and period (revisions are the versions of it)
FIGURE_KEY = ["city", "metric", "qualifier", "site", "unit", "source", "period_start", "period_end"]


def only_revised(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a history table whose figure has more than one revision."""
    if table.empty:
        return table
    return table[table.groupby(FIGURE_KEY, dropna=False)["revision"].transform("size") > 1]


def history(revisions: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """The revision history table: every revision of a series frame read with
    `query.series_frame(current_only=False)`, newest period first and each period's revisions
    in order, `shown` saying which one the view shows (`shown`: the same series read as
    pages read them; a withdrawn figure has none)."""
    if revisions.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    marked = shown[[*FIGURE_KEY, "revision"]].assign(shown=True)
    df = revisions.merge(marked, on=[*FIGURE_KEY, "revision"], how="left")
    df["shown"] = df["shown"].fillna(False).astype(bool)
    df = df.sort_values(
        ["period_start", "period_end", "city", "source", "site", "revision"],
        ascending=[False, False, True, True, True, True],
    )
    return df[HISTORY_COLUMNS].reset_index(drop=True)


def summary(df: pd.DataFrame) -> str:
    """ "2 added, 1 revised, 0 withdrawn": the one line a refresh or the page leads with."""
    counts = df["change"].value_counts() if len(df) else {}
    return ", ".join(f"{int(counts.get(k, 0)):,} {k}" for k in ("added", "revised", "withdrawn"))


def page(
    engine: Engine, since: datetime, until: datetime | None, rows: int
) -> tuple[str, pd.DataFrame]:
    """The change list as a page shows it: the one-line summary and the first `rows` rows, in
    `changes`' order, both answered by SQL (a count per kind, a LIMIT). After a snapshot load
    every figure is "added": building the whole list for its first rows took ~10 s."""
    found = _classified(engine, since, until)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(sa.select(found.c.change, sa.func.count()).group_by(found.c.change)).all()
        )
    line = ", ".join(f"{int(counts.get(k, 0)):,} {k}" for k in ("added", "revised", "withdrawn"))
    o, s, p = observations.c, series.c, places.c
    withdrawn_at = (
        sa.select(sa.func.max(o.withdrawn_at))
        .where(
            o.series_id == found.c.series_id,
            o.period_start == found.c.period_start,
            o.period_end == found.c.period_end,
            o.withdrawn_at.is_not(None),
        )
        .scalar_subquery()
    )
    is_withdrawn = found.c.change == "withdrawn"
    changed_at = sa.case((is_withdrawn, withdrawn_at), else_=found.c.retrieved_at_new)
    order = sa.case({"revised": 0, "added": 1, "withdrawn": 2}, value=found.c.change)
    first = _frame(
        engine,
        sa.select(
            found.c.change,
            found.c.series_id,
            found.c.period_start,
            found.c.period_end,
            found.c.value_old.label("old_value"),
            found.c.value_new.label("new_value"),
            changed_at.label("changed_at"),
            sa.case((is_withdrawn, found.c.revision_old), else_=found.c.revision_new).label(
                "revision"
            ),
            sa.case(
                (is_withdrawn, found.c.provenance_id_old), else_=found.c.provenance_id_new
            ).label("provenance_id"),
        )
        .select_from(
            found.join(series, s.series_id == found.c.series_id).join(
                places, p.place_id == s.place_id
            )
        )
        .order_by(changed_at.desc(), order, s.source, p.name, s.metric, found.c.period_start)
        .limit(rows),
    )
    if first.empty:
        return line, pd.DataFrame(columns=CHANGE_COLUMNS)
    first = _dated(first)
    for col in ("old_value", "new_value"):
        first[col] = first[col].astype(float)
    first["difference"] = first["new_value"] - first["old_value"]
    first["changed_at"] = pd.to_datetime(first["changed_at"], utc=True).dt.tz_localize(None)
    first = _describe(engine, first)
    return line, first[CHANGE_COLUMNS].reset_index(drop=True)


def _classified(engine: Engine, since: datetime, until: datetime | None):
    """`changes` in SQL, as a subquery: every figure touched in the window, joined to what was
    shown at `since` (old) and at `until` (new), kept when added, withdrawn or moved."""
    o = observations.c
    window = _in_window(engine, since, until)
    touched = sa.select(o.series_id, o.period_start, o.period_end).where(window).distinct()
    touched = touched.subquery("touched")
    old, new = observations.alias("old"), observations.alias("new")

    def same(table) -> sa.ColumnElement:
        return sa.and_(*(table.c[k] == touched.c[k] for k in KEY))

    shown_old = sa.and_(same(old), visible(engine, since, old))
    shown_new = sa.and_(
        same(new), visible(engine, until if until is not None else _far_future(), new)
    )
    held_old, held_new = old.c.series_id.is_not(None), new.c.series_id.is_not(None)
    scale = sa.case((sa.func.abs(new.c.value) > 1.0, sa.func.abs(new.c.value)), else_=1.0)
    change = sa.case(
        (sa.and_(~held_old, held_new), "added"),
        (sa.and_(held_old, ~held_new), "withdrawn"),
        (
            sa.and_(held_old, held_new, sa.func.abs(old.c.value - new.c.value) > 1e-9 * scale),
            "revised",
        ),
        else_=None,
    )
    classified = (
        sa.select(
            change.label("change"),
            touched.c.series_id,
            touched.c.period_start,
            touched.c.period_end,
            old.c.value.label("value_old"),
            new.c.value.label("value_new"),
            new.c.retrieved_at.label("retrieved_at_new"),
            old.c.revision.label("revision_old"),
            new.c.revision.label("revision_new"),
            old.c.provenance_id.label("provenance_id_old"),
            new.c.provenance_id.label("provenance_id_new"),
        )
        .select_from(touched.outerjoin(old, shown_old).outerjoin(new, shown_new))
        .subquery("classified")
    )
    return sa.select(classified).where(classified.c.change.is_not(None)).subquery("changed")
