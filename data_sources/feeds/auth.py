"""Credentials as `httpx.Auth` objects: a key in a header (UCDP, DTM), a key in the query
(HDX HAPI's `app_identifier`, ReliefWeb's `appname`), and ACLED's OAuth password grant with
refresh. A connector names one; the client passes it to httpx for every request it sends.

Keys come from settings at request time and are scrubbed by `redact` (their settings are
secret in the registry); tokens a feed issues are registered with `add_issued_secret` as soon
as they arrive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from data_sources import settings
from data_sources.feeds.checks import expect
from data_sources.feeds.errors import FeedError
from data_sources.redact import add_issued_secret


class HeaderKeyAuth(httpx.Auth):
    """The value of setting `setting_name` in header `header` of every request."""

    def __init__(self, header: str, setting_name: str) -> None:
        self.header, self.setting_name = header, setting_name

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = settings.setting(self.setting_name) or ""
        yield request


class QueryKeyAuth(httpx.Auth):
    """The value of setting `setting_name` as query parameter `param` of every request.

    `shown_params` puts the parameter (its value later masked by `redact_url`) first in the
    URL a page is stored and shown under, where it stood before auth became an object."""

    def __init__(self, param: str, setting_name: str) -> None:
        self.param, self.setting_name = param, setting_name

    def value(self) -> str:
        return settings.setting(self.setting_name) or ""

    def shown_params(self) -> dict[str, str]:
        return {self.param: self.value()}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_set_param(self.param, self.value())
        yield request


class OAuthPasswordAuth(httpx.Auth):
    """OAuth 2 password grant (ACLED): a bearer token fetched once and reused; refreshed with the
    refresh token (else a new password grant) when it expires or the API answers 401, and the
    request sent once more. `post_form` sends a form to the token URL and returns its JSON —
    the feed's own client, so a grant has the same retries, checks and error messages as any
    other request."""

    def __init__(
        self,
        feed: str,
        token_url: str,
        post_form: Callable[[str, dict], Any],
        *,
        client_id: str,
        scope: str,
        username_setting: str,
        password_setting: str,
    ) -> None:
        self.feed, self.token_url, self.post_form = feed, token_url, post_form
        self.client_id, self.scope = client_id, scope
        self.username_setting, self.password_setting = username_setting, password_setting
        self._token: dict | None = None
        self.grants: list[str] = []  # grant types asked for, in order (said in tests and logs)

    def _grant(self, form: dict) -> None:
        self.grants.append(form["grant_type"])
        payload = self.post_form(self.token_url, form)
        token = expect(self.feed, self.token_url, payload, "access_token", str)
        add_issued_secret(token)  # a bearer token in a header: never in a log or the store
        add_issued_secret(payload.get("refresh_token"))
        self._token = {
            "access": token,
            "refresh": payload.get("refresh_token"),
            "expires": time.time() + float(payload.get("expires_in") or 3600) - 60,
        }

    def bearer(self, force: bool = False) -> str:
        """A current access token: the one held, a refreshed one, else a new grant."""
        if self._token and not force and time.time() < self._token["expires"]:
            return self._token["access"]
        if self._token and self._token.get("refresh"):
            form = {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "refresh_token": self._token["refresh"],
            }
            try:
                self._grant(form)
                return self._token["access"]
            except FeedError:
                pass  # refresh token expired too: fall back to a new password grant
        self._grant(
            {
                "grant_type": "password",
                "client_id": self.client_id,
                "scope": self.scope,
                "username": settings.setting(self.username_setting) or "",
                "password": settings.setting(self.password_setting) or "",
            }
        )
        return self._token["access"]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.bearer()}"
        response = yield request
        if response.status_code == 401:  # expired or revoked early: one fresh token, once more
            request.headers["Authorization"] = f"Bearer {self.bearer(force=True)}"
            yield request
