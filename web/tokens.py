"""Personal API tokens (`api_tokens`): what a script sends instead of a sign-in cookie.

A token is shown once, when made, and only its SHA-256 is stored: a copy of the store (a
backup, a dump in a bug report) holds nothing that opens the API. The middleware asks
`role_for_token`; the Streamlit panel (views/tokens_panel.py) makes, lists and revokes them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources import roles
from data_sources.store.tables import api_tokens

PREFIX = "sr_"
MAX_LABEL = 200
MIN_PREFIX = 8  # hex characters of the hash that name a token for revoking
_HEX = re.compile(r"[0-9a-f]{1,64}")
_TOKEN = re.compile(r"sr_[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(engine: Engine, owner: str, role: str, label: str) -> str:
    """A new token for `owner` (a viewer or editor), returned once; only its hash is kept."""
    if role not in (roles.VIEWER, roles.EDITOR):
        raise ValueError(f"a token is for a viewer or an editor, not '{role}'")
    if not owner:
        raise ValueError("a token needs its owner's address")
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            api_tokens.insert().values(
                token_hash=digest(token),
                owner=owner,
                role=role,
                label=(label or "").strip()[:MAX_LABEL] or "token",
                created_at=datetime.now(UTC),
            )
        )
    return token


def list_for(engine: Engine, owner: str) -> list[dict]:
    """The owner's tokens, newest first: label, role, dates and the first 12 characters of the
    hash (to name one when revoking). Never the token."""
    t = api_tokens.c
    q = (
        sa.select(t.token_hash, t.label, t.role, t.created_at, t.last_used_at, t.revoked_at)
        .where(t.owner == owner)
        .order_by(t.created_at.desc())
    )
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{**row, "token_hash": row["token_hash"][:12]} for row in rows]


def revoke(engine: Engine, owner: str, token_hash_or_prefix: str) -> int:
    """Revoke the owner's token whose hash is, or starts with, this (at least 8 hex
    characters, naming one token); the number revoked (0: none of the owner's matches).
    Another owner's token is never touched."""
    wanted = (token_hash_or_prefix or "").strip().lower()
    if len(wanted) < MIN_PREFIX or not _HEX.fullmatch(wanted):
        raise ValueError(f"name a token by at least {MIN_PREFIX} characters of its hash")
    t = api_tokens.c
    with engine.begin() as conn:
        mine = conn.execute(
            sa.select(t.token_hash).where(t.owner == owner, t.revoked_at.is_(None))
        ).scalars()
        matches = [h for h in mine if h.startswith(wanted)]
        if len(matches) > 1:
            raise ValueError("that names more than one token: give more of its hash")
        if not matches:
            return 0
        conn.execute(
            api_tokens.update()
            .where(t.token_hash == matches[0], t.owner == owner)
            .values(revoked_at=datetime.now(UTC))
        )
    return 1


def role_for_token(engine: Engine, token: str | None) -> str | None:
    """The role a token grants (the one its owner had when making it); None for a text that is
    no token, an unknown or a revoked one. A use is stamped (`last_used_at`)."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    t = api_tokens.c
    hashed = digest(token)
    with engine.begin() as conn:
        role = conn.execute(
            sa.select(t.role).where(t.token_hash == hashed, t.revoked_at.is_(None))
        ).scalar()
        if role is None:
            return None
        conn.execute(
            api_tokens.update().where(t.token_hash == hashed).values(last_used_at=datetime.now(UTC))
        )
    return role
