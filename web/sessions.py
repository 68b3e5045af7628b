"""Sign-out, remembered in the store: the hash of each signed-out sign-in cookie until the
cookie would have expired. Every process sharing the store refuses it, so a copy taken before
sign-out (a shared computer, a stolen header) opens nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.store.tables import revoked_sessions

COOKIE_LIFETIME = dt.timedelta(days=31)  # Streamlit's 30 days, and its grace period


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def revoke(engine: Engine, cookie_hash: str) -> None:
    """Remember one signed-out cookie (again is harmless); forget the expired ones."""
    now = _now()
    with engine.begin() as conn:
        conn.execute(sa.delete(revoked_sessions).where(revoked_sessions.c.expires_at < now))
        known = conn.execute(
            sa.select(revoked_sessions.c.cookie_hash).where(
                revoked_sessions.c.cookie_hash == cookie_hash
            )
        ).first()
        if known:
            return
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(revoked_sessions).values(
                    cookie_hash=cookie_hash, revoked_at=now, expires_at=now + COOKIE_LIFETIME
                )
            )
    except sa.exc.IntegrityError:
        pass  # another process remembered it first: it is remembered


def is_revoked(engine: Engine, cookie_hash: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(revoked_sessions.c.cookie_hash).where(
                    revoked_sessions.c.cookie_hash == cookie_hash
                )
            ).first()
            is not None
        )
