"""Private embeds: a key in an embed's address (`/embed/<page>?…&key=…`) that opens that one
view, and nothing else, on an instance with sign-in.

An `<iframe>` on another site sends no sign-in cookie (browsers block third-party cookies) and
no `Authorization` header, so a private instance's embed would be a 401 for every reader. A
signed-in viewer makes a key for the view in front of them (the page's Embed button): a
personal API token is made for it (web/tokens.py, labelled with the view, listed and
revocable in the tokens panel; the token itself is never shown or put in the address), and
the key is

    <the token hash's first 16 hex characters>.<HMAC-SHA256(secret, token hash, page, params)>

with the page and every parameter of the address (as_of included, so the figures are pinned)
under the signature. Changing any parameter, using the key on another page or for an image,
or revoking its token makes it worthless. The secret is the sign-in cookie's
(`[auth] cookie_secret` in Streamlit's secrets), never in the store: a copy of the database
(which holds token hashes) cannot make a key."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_sources.store.tables import api_tokens
from web import tokens

PARAM = "key"
_KEY = re.compile(r"([0-9a-f]{16})\.([0-9a-f]{64})")
MAX_LABEL = 120


class NoSecret(RuntimeError):
    """Sign-in is not configured with a cookie secret: no key can be made or checked."""


def secret() -> bytes:
    """The sign-in cookie's secret (`[auth] cookie_secret`), which Streamlit requires for
    `st.login`."""
    from streamlit.auth_util import get_secrets_auth_section

    try:
        value = get_secrets_auth_section().get("cookie_secret")
    except Exception:  # noqa: BLE001 - unreadable secrets: no key
        value = None
    if not value:
        raise NoSecret("no [auth] cookie_secret")
    return str(value).encode("utf-8")


def canonical(page: str, params: Mapping[str, Sequence[str]]) -> str:
    """The page and its parameters in one order, the key itself left out."""
    pairs = sorted((k, str(v)) for k, values in params.items() if k != PARAM for v in values)
    return f"{page}?{urlencode(pairs)}"


def _signature(token_hash: str, page: str, params: Mapping[str, Sequence[str]]) -> str:
    message = f"{token_hash}\n{canonical(page, params)}".encode()
    return hmac.new(secret() + b"\n" + token_hash.encode(), message, hashlib.sha256).hexdigest()


def make(
    engine: Engine, owner: str, role: str, page: str, params: Mapping[str, Sequence[str]]
) -> str:
    """A key for this one view, backed by a new token of `owner` labelled with the view."""
    secret()  # no secret, no token made
    label = f"embed: {page} {canonical(page, params).partition('?')[2]}"[:MAX_LABEL]
    token_hash = tokens.digest(tokens.create(engine, owner, role, label))
    return f"{token_hash[:16]}.{_signature(token_hash, page, params)}"


def role_for_key(engine: Engine, page: str, params: Mapping[str, Sequence[str]]) -> str | None:
    """The role a request's key grants for this page and these parameters; None when there is
    no key, it is malformed, forged, for another view, or its token was revoked."""
    given = list(params.get(PARAM, []))
    if len(given) != 1:
        return None
    found = _KEY.fullmatch(given[0])
    if found is None:
        return None
    prefix, signature = found.groups()
    try:
        secret()
    except NoSecret:
        return None
    t = api_tokens.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.token_hash, t.role).where(
                t.token_hash.like(f"{prefix}%"), t.revoked_at.is_(None)
            )
        ).all()
    for token_hash, role in rows:
        if hmac.compare_digest(_signature(token_hash, page, params), signature):
            return role
    return None
