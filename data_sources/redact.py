"""Secrets out of every text a person or the store sees: URLs, log lines, error messages (used by
every layer: feeds, the store's fetch log, exports and pages).

Configured secrets (the registry's secret settings, passwords inside configured URLs and
DATABASE_URL), tokens a feed issues at run time (ACLED's OAuth), user-info in URLs and key
query parameters are all replaced by `***`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from data_sources import settings, sources

# Query parameters that carry a secret whatever the feed; each source adds its own
# in the registry (`sources.py`), read at every redaction (`sensitive_params`).
GENERIC_PARAMS = {
    "key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "password",
    "username",
    "email",
    "client_secret",
}


def sensitive_params() -> set[str]:
    return GENERIC_PARAMS | sources.secret_params()


# user-info in any URL inside a text: "https://user:password@host/…" → "https://user:***@host/…"
# (the name stays, as in the store's own messages), "https://token@host/…" → "https://***@host/…"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?:([^/\s@?#'\"<>:]*):)?[^/\s@?#'\"<>]*@")


def _mask_userinfo(match: re.Match) -> str:
    return match.group(1) + (match.group(2) + ":" if match.group(2) is not None else "") + "***@"


def _url_credentials() -> list[str]:
    """User-info passwords inside configured URLs (the registry's `url_settings`: `HXL_URLS`):
    secrets like any key, also where they appear without their URL (an error quoting them)."""
    found = set()
    urls = ",".join(settings.setting(n) or "" for n in sources.url_settings())
    for url in urls.split(","):
        try:
            password = urlsplit(url.strip()).password
        except ValueError:
            continue
        if password and len(password) >= 4:
            found.add(password)
    return sorted(found, key=len, reverse=True)


# credentials a feed hands out at run time (ACLED's OAuth access and refresh tokens): sent in
# headers, never configured, scrubbed like the configured ones
_ISSUED: set[str] = set()


def add_issued_secret(value: object) -> None:
    """Scrub `value` from now on wherever `redact` runs (logs, errors, the store)."""
    if isinstance(value, str) and len(value) >= 8:
        _ISSUED.add(value)


def redact(text: str) -> str:
    """Every secret out of a text (a log line, an error, a URL): configured secret values,
    tokens a feed issued at run time, user-info in URLs (`user:password@`) and key parameters
    (`token=…`)."""
    text = str(text)
    issued = sorted(_ISSUED, key=len, reverse=True)
    for secret in (*settings.secret_values(), *_url_credentials(), *issued):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(_mask_userinfo, text)
    names = "|".join(re.escape(p) for p in sorted(sensitive_params(), key=len, reverse=True))
    return re.sub(r"(?i)\b(" + names + r")=([^&\s'\"]+)", r"\1=***", text)


def shown_url(url: str, params: dict | None = None) -> str:
    """A request's URL as stored and shown: `params` added to the query the URL already has
    (a next link's), every secret scrubbed. (`httpx.URL(url, params={})` would drop that query.)"""
    full = httpx.URL(url)
    return redact_url(str(full.copy_merge_params(params) if params else full))


def redact_url(url: str) -> str:
    """The one redaction for every URL stored, logged, shown or exported: no user-info, no key
    parameter, no configured secret value. A text that is not a URL goes through `redact`."""
    url = str(url)
    if "://" not in url:
        return redact(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        name = userinfo.split(":", 1)[0] + ":" if ":" in userinfo else ""
        netloc = f"{name}***@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    sensitive = sensitive_params()
    if any(k.lower() in sensitive for k, _ in pairs):
        masked = [(k, "***" if k.lower() in sensitive else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    return redact(urlunsplit(parts._replace(netloc=netloc, query=query)))
