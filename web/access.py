"""Who a request is, by the same rules as the pages: Streamlit's signed sign-in cookie (the one
`st.login` sets), the role data_sources.roles gives its address, and sign-out remembered
server-side (web/sessions.py), so a cookie kept from before sign-out opens nothing.

views/access.py asks this module too: one place for "is sign-in on", "which provider", "which
role", whether a page or a route asks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from data_sources import roles, settings

USER_COOKIE = "_streamlit_user"  # streamlit.web.server.server_util.USER_COOKIE_NAME
TOKENS_COOKIE = "_streamlit_user_tokens"
COOKIE_PREFIXES = (USER_COOKIE,)  # the user cookie, its chunks and the tokens cookie


def auth_configured() -> bool:
    """Whether Streamlit's secrets have an `[auth]` section: then every visitor signs in."""
    from streamlit.auth_util import get_secrets_auth_section

    try:
        return bool(get_secrets_auth_section())
    except Exception:  # noqa: BLE001 - an unreadable secrets file: Streamlit reports it itself
        return False


def provider_name() -> str | None:
    """`st.login()` for a flat `[auth]` section; the provider's name when `[auth.<name>]`
    subsections hold the client settings instead."""
    from streamlit.auth_util import get_secrets_auth_section

    section = get_secrets_auth_section()
    if "client_id" in section:
        return None
    named = [k for k, v in section.items() if hasattr(v, "keys")]
    return named[0] if len(named) == 1 else None


def provider_skips_claim() -> bool:
    """Whether the operator named this provider in PROVIDERS_WITHOUT_EMAIL_VERIFIED."""
    named = roles.parse_list(settings.setting("PROVIDERS_WITHOUT_EMAIL_VERIFIED"))
    try:
        provider = provider_name() or "default"
    except Exception:  # noqa: BLE001 - no readable [auth]: nothing to trust
        return False
    return roles.normalise(provider) in named


def role_of(user: Mapping, configured: bool) -> str:
    """The role of a visitor whose sign-in claims are `user` (st.user's, or the cookie's)."""
    signed_in = bool(user.get("is_logged_in")) if configured else False
    return roles.role_for(
        user.get("email") if signed_in else None,
        settings.setting("EDITORS"),
        settings.setting("VIEWERS"),
        configured,
        signed_in=signed_in,
        email_verified=user.get("email_verified", roles.MISSING),  # as the provider sent it
        claim_not_sent_by_provider=configured and provider_skips_claim(),
    )


def cookie_hash(raw: str) -> str:
    """What sign-out remembers of a cookie: its SHA-256, never the cookie."""
    return hashlib.sha256(raw.encode("latin-1", errors="replace")).hexdigest()


def parse_cookies(header: str) -> dict[str, str]:
    """A Cookie header as Starlette reads it (the first of a repeated name wins)."""
    from starlette.requests import cookie_parser

    return cookie_parser(header)


def cookie_user(cookies: Mapping[str, str]) -> dict:
    """The sign-in claims of a request's cookie, {} when there is none, its signature fails,
    it has expired or was issued for another origin: the checks Streamlit's websocket makes."""
    if USER_COOKIE not in cookies:
        return {}
    from streamlit.auth_util import get_origin_from_redirect_uri
    from streamlit.web.server.starlette import starlette_websocket as ws

    try:
        decoded = ws._get_signed_cookie_with_chunks(dict(cookies), USER_COOKIE)
        origin = get_origin_from_redirect_uri() or ""
        return ws._parse_decoded_user_cookie(decoded, origin) if decoded else {}
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        return {}


def is_auth_cookie(name: str) -> bool:
    return name.startswith(COOKIE_PREFIXES)
