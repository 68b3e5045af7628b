"""The middleware in front of the pages and the routes. Pure ASGI, so it sees every session's
websocket as well as plain requests. With sign-in configured:

- a sign-in cookie that was signed out (web/sessions.py) is taken off the request, websocket
  included: the visitor is anonymous again, whatever copy of the cookie they kept;
- `/auth/logout` remembers the cookie it clears, before Streamlit clears it;
- `/media/…` (download buttons' files) is served only to the signed-in user of a session that
  made the file (web/media_owners.py); anyone else gets 404, as for a file that is not there;
- the routes' protected prefixes (web/routes.PROTECTED) need a role that may see figures, from
  the cookie or a personal API token (`Authorization: Bearer …`), or for an embed the key of
  a private embed (web/embed_keys.py) made for that very view: else 401 and no figure.

Without sign-in (a local run) it passes everything through untouched."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.middleware import Middleware

from data_sources import roles
from web import access, embed_keys, media_owners, routes, sessions, store, tokens

LOG = logging.getLogger("situation_room.access")
ROLE_KEY = "situation_room.role"  # the scope entry routes may read (the caller's role)


def _cookie_header(scope) -> str:
    return "; ".join(
        v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"cookie"
    )


def _without_auth_cookies(scope) -> dict:
    """The scope with every sign-in cookie taken out of its Cookie headers."""
    headers = []
    for key, value in scope.get("headers", []):
        if key.lower() == b"cookie":
            kept = [
                part
                for part in value.decode("latin-1").split(";")
                if not access.is_auth_cookie(part.strip().split("=", 1)[0])
            ]
            if not any(p.strip() for p in kept):
                continue
            value = ";".join(kept).strip().encode("latin-1")
        headers.append((key, value))
    return {**scope, "headers": headers}


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _answer(send, status: int, body: dict, extra: list | None = None) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class AccessMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or not access.auth_configured():
            return await self.app(scope, receive, send)
        rel = routes.relative(scope["path"], routes.base_path())
        if rel is None:
            return await self.app(scope, receive, send)
        media = scope["type"] == "http" and rel.startswith("/media/")
        protected = (
            scope["type"] == "http"
            and rel.startswith(routes.PROTECTED)
            and rel not in routes.PUBLIC
        )
        logout = scope["type"] == "http" and rel == "/auth/logout"
        if not (scope["type"] == "websocket" or media or protected or logout):
            return await self.app(scope, receive, send)  # the HTML shell, scripts, styles
        cookies = access.parse_cookies(_cookie_header(scope))
        raw = cookies.get(access.USER_COOKIE)
        if raw:
            digest = access.cookie_hash(raw)
            try:
                engine = await asyncio.to_thread(store.engine)
                if await asyncio.to_thread(sessions.is_revoked, engine, digest):
                    scope = _without_auth_cookies(scope)
                    cookies = {k: v for k, v in cookies.items() if not access.is_auth_cookie(k)}
                elif logout:
                    await asyncio.to_thread(sessions.revoke, engine, digest)
            except Exception as exc:  # noqa: BLE001 - the store is down: nothing is served
                LOG.warning("access check failed: %s", type(exc).__name__)
                if scope["type"] == "websocket":
                    return await self.app(_without_auth_cookies(scope), receive, send)
                return await _answer(send, 503, {"error": "the store cannot be reached"})
        if media:
            return await self._media(scope, receive, send, rel, cookies)
        if protected:
            role = await self._route_role(scope, cookies, rel)
            if role not in roles.CAN_SEE:
                return await _answer(
                    send,
                    401,
                    {"error": "sign in, or send a personal API token (Authorization: Bearer …)"},
                    [(b"www-authenticate", b'Bearer realm="situation-room"')],
                )
            scope = {**scope, ROLE_KEY: role}
        return await self.app(scope, receive, send)

    async def _media(self, scope, receive, send, rel: str, cookies: dict) -> None:
        media_owners.install()
        user = access.cookie_user(cookies)
        if access.role_of(user, True) not in roles.CAN_SEE:
            return await _answer(send, 401, {"error": "sign in to download"})
        owners = media_owners.owner_addresses(media_owners.file_id(rel))
        if roles.normalise(user.get("email") or "") not in owners:
            return await _answer(send, 404, {"error": "File not found"})
        return await self.app(scope, receive, send)

    async def _route_role(self, scope, cookies: dict, rel: str = "") -> str:
        if rel.startswith(EMBED):
            params = _query(scope)
            if embed_keys.PARAM in params:  # a private embed's key opens its one view only
                role = await asyncio.to_thread(_key_role, rel[len(EMBED) :], params)
                return role or roles.ANONYMOUS
        authorization = _header(scope, b"authorization")
        if authorization[:7].lower() == "bearer ":
            return await asyncio.to_thread(_token_role, authorization[7:].strip())
        return access.role_of(access.cookie_user(cookies), True)


EMBED = "/embed/"


def _query(scope) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    raw = scope.get("query_string", b"").decode("latin-1")
    return parse_qs(raw, keep_blank_values=True)


def _key_role(page: str, params: dict[str, list[str]]) -> str | None:
    return embed_keys.role_for_key(store.engine(), page, params)


def _token_role(token: str) -> str:
    """A personal API token's role (web/tokens.py), else anonymous."""
    return tokens.role_for_token(store.engine(), token) or roles.ANONYMOUS


def stack() -> list[Middleware]:
    """Outermost first: the access rules see every request before a preview card is made."""
    from web.previews import PreviewMiddleware

    return [Middleware(AccessMiddleware), Middleware(PreviewMiddleware)]
