"""What the store held at a moment: parsing an `as_of` value and the figures visible then.

A figure is a key (series, period) with numbered revisions, each stamped with its retrieval
time; a revision stops being current when a later one replaces it, and the newest one when a
complete re-read of its dataset no longer holds it (`withdrawn_at`). As of a moment T, a key
shows its newest revision retrieved at or before T, unless that revision was withdrawn at or
before T; revisions retrieved after T are left out. `None` means now (the current figures).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from data_sources.store.tables import observations

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?"
)
FORMAT_HINT = "use a date such as 2016-12-16 or a UTC time such as 2016-12-16T09:30:05"


class AsOfError(ValueError):
    """An `as_of` value that is not a date or time: the message says what to write."""


def parse_as_of(text: str | None) -> datetime | None:
    """An `as_of` value (URL or command line) as an aware UTC time; None for none given.

    A date means the end of that day in UTC (everything retrieved on it counts); a time
    without an offset is UTC. Anything else raises AsOfError with a one-line message."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    try:
        if len(raw) <= 40 and _DATE.fullmatch(raw):
            day = datetime.fromisoformat(raw).date()
            return datetime.combine(day, time.max, tzinfo=UTC)
        match = _TIME.fullmatch(raw) if len(raw) <= 40 else None
        if match:
            stamp = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T"))
            return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        pass
    raise AsOfError(f"“{shown}” is not a date or time: {FORMAT_HINT} (UTC).")


def format_as_of(moment: datetime) -> str:
    """The shortest text that `parse_as_of` reads back as the same moment (for links)."""
    moment = moment.astimezone(UTC)
    # isoformat, not strftime: glibc's %Y writes the year 1 as "1", which reads back as no date
    if moment.time() == time.max:
        return moment.date().isoformat()
    text = moment.replace(tzinfo=None, microsecond=0).isoformat()
    return text + (f".{moment.microsecond:06d}" if moment.microsecond else "")


def describe(moment: datetime) -> str:
    """The moment as a reader sees it in a banner."""
    text = format_as_of(moment)
    return f"{text} (end of day, UTC)" if "T" not in text else text.replace("T", " ") + " UTC"


def bind(conn_or_engine, moment: datetime):
    """The moment as the backend compares it: SQLite holds naive UTC text, PostgreSQL
    timestamps with a zone."""
    if conn_or_engine.dialect.name == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def visible(conn_or_engine, moment: datetime | None, table=observations):
    """The SQL condition on `table` (observations or an alias) for figures shown as of
    `moment`: the current ones for None, else the newest revision retrieved by then and not
    withdrawn by then. The newer-revision probe is a seek on the primary key."""
    o = table.c
    if moment is None:
        return o.is_current.is_(True)
    at = bind(conn_or_engine, moment)
    later = observations.alias("later_revision")
    newer = (
        sa.select(sa.literal(1))
        .where(
            later.c.series_id == o.series_id,
            later.c.period_start == o.period_start,
            later.c.period_end == o.period_end,
            later.c.revision > o.revision,
            later.c.retrieved_at <= at,
        )
        .exists()
    )
    return sa.and_(
        o.retrieved_at <= at,
        sa.or_(o.withdrawn_at.is_(None), o.withdrawn_at > at),
        ~newer,
    )


def one_microsecond_before(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=1)


# -- a link's moment, within the store's own span ---------------------------------------------
def _aware(value) -> datetime:
    """A stored stamp as an aware UTC time (SQLite hands back naive UTC text or datetimes)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def store_moments(conn_or_engine) -> list[datetime]:
    """Every moment at which what the store shows changed: each distinct retrieval and
    withdrawal stamp of a figure and each end of a load (the freshness table's), oldest
    first. Between two of them every as-of view is the same view (`visible` compares
    `retrieved_at` and `withdrawn_at` with the moment, `freshness` `finished_at`)."""
    from data_sources.store.tables import fetch_log

    o, f = observations.c, fetch_log.c
    stamps = sa.union(
        sa.select(o.retrieved_at.label("at")).distinct(),
        sa.select(o.withdrawn_at.label("at")).where(o.withdrawn_at.is_not(None)).distinct(),
        sa.select(f.finished_at.label("at")).where(f.finished_at.is_not(None)),
    ).subquery()
    query = sa.select(stamps.c.at).distinct()
    if hasattr(conn_or_engine, "connect"):
        with conn_or_engine.connect() as conn:
            rows = conn.execute(query).scalars().all()
    else:
        rows = conn_or_engine.execute(query).scalars().all()
    return sorted({_aware(r) for r in rows})


def snap(moment: datetime | None, moments: list[datetime]) -> datetime | None:
    """The newest store moment at or before `moment`: the same view as `moment`, under a key
    shared by every moment between two loads (so a cache holds one entry per load, whatever
    times the links name). None (now) stays None; a moment before the first stays as it is."""
    if moment is None or not moments:
        return moment
    from bisect import bisect_right

    at = bisect_right(moments, moment)
    return moments[at - 1] if at else moment


def clamp(
    moment: datetime | None,
    moments: list[datetime],
    name: str = "as_of",
    now: datetime | None = None,
) -> tuple[datetime | None, str | None]:
    """A link's moment kept within the store's span [first figure, now]: before the first, the
    first (nothing was held earlier); more than a day in the future, None (the latest
    figures: the same view). The message says so; None when the moment was inside. A moment after the newest change but
    not in the future is kept as it is, without a word: it is what "Copy link to this exact
    view" pins (the newest load), and it shows the same figures as the newest change."""
    if moment is None or not moments:
        return moment, None
    first, last = moments[0], moments[-1]
    if moment < first:
        return first, (
            f"The link's {name} is before the store's first figures were retrieved "
            f"({describe(first)}); an as-of moment is when figures were known, not the period "
            "they describe: showing the figures as of then."
        )
    # a date means the end of that day: today's date is up to a day ahead and is no future date
    if (
        name == "as_of"
        and moment >= last
        and moment > (now or datetime.now(UTC)) + timedelta(days=1)
    ):
        return None, (
            f"The link's {name} is in the future, after the store's newest change "
            f"({describe(last)}): showing the latest figures."
        )
    return moment, None
