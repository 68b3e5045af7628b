"""Secrets out of every text a person or the store sees: URLs, log lines, error messages (used by
every layer: feeds, the store's fetch log, exports and pages).

Configured secrets (the registry's secret settings, credentials inside configured URLs and
DATABASE_URL), tokens a feed issues at run time (ACLED's OAuth), user-info in URLs and
signature-like query parameters are all replaced by `***`.

A feed that echoes what it received does not echo it verbatim: a key comes back
percent-encoded (it travelled in a query), inside a base64 Basic-auth header
(`base64(user:secret)`), upper-cased, JSON-escaped. So each secret is scrubbed in every form it
can take (`_forms`), case-insensitively, and callers scrub *before* they cut a text short: a
cut secret is no longer the secret and would slip past.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import httpx

from data_sources import settings, sources

# Query parameters that carry a secret whatever the feed; each source adds its own
# in the registry (`sources.py`), the operator more in `SECRET_QUERY_PARAMS` (comma-separated),
# both read at every redaction (`sensitive_params`).
GENERIC_PARAMS = {
    "key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "password",
    "passwd",
    "pwd",
    "secret",
    "username",
    "email",
    "client_secret",
    "sig",
    "signature",
}
# signed-URL families and name shapes that are credentials whatever the host: AWS and Google
# Cloud signed URLs (`X-Amz-Signature`, `X-Goog-Credential`, …), Azure SAS (`sig`, `se`, `sp`
# ride with `sig`), and any `…_key` / `…_token` / `…_secret` / `…signature` name
_PARAM_SHAPES = r"x-amz-[\w-]*|x-goog-[\w-]*|[\w-]*(?:[_-]key|[_-]token|[_-]secret|signature)"
_PARAM_SHAPE = re.compile(rf"(?i)(?:{_PARAM_SHAPES})")


def sensitive_params() -> set[str]:
    extra = {p.strip().lower() for p in (settings.setting("SECRET_QUERY_PARAMS") or "").split(",")}
    return GENERIC_PARAMS | sources.secret_params() | {p for p in extra if p}


def is_sensitive_param(name: str) -> bool:
    """Whether a query parameter's value is a credential: a name of `sensitive_params`, or one
    shaped like a signature or key (`X-Amz-*`, `*_token`, …)."""
    return name.lower() in sensitive_params() or bool(_PARAM_SHAPE.fullmatch(name))


def is_credential_header(name: str) -> bool:
    """Whether a request header carries a credential by its name: `Authorization`, cookies,
    and any `…-Key` / `…-Token` / `…-Secret` (DTM's `Ocp-Apim-Subscription-Key`, UCDP's
    `x-ucdp-access-token`, `X-Api-Key`)."""
    lowered = name.lower()
    return lowered in {"authorization", "proxy-authorization", "cookie"} or bool(
        _PARAM_SHAPE.fullmatch(lowered)
    )


# user-info in any URL inside a text: "https://user:password@host/…" → "https://user:***@host/…"
# (the name stays, as in the store's own messages), but "https://token@host/…" and
# "https://TOKEN:x@host/…" (a token sent as the user name) → "https://***@host/…"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?:([^/\s@?#'\"<>:]*):)?([^/\s@?#'\"<>]*)@")
_PLACEHOLDER_PASSWORDS = {"x-oauth-basic", "x-oauth-token", "***"}


def name_is_credential(user: str | None, password: str | None) -> bool:
    """Whether a URL's user name is itself the credential: no password, a placeholder one
    (`x`, GitHub's `x-oauth-basic`), or a name as long as a token."""
    if not user:
        return False
    if password == "***":  # already scrubbed by us: the name is a name
        return len(user) >= 20
    return (
        not password
        or len(password) <= 2
        or password.lower() in _PLACEHOLDER_PASSWORDS
        or len(user) >= 20
    )


def _mask_userinfo(match: re.Match) -> str:
    user, password = match.group(2), match.group(3)
    if user is None:  # "scheme://something@": a token alone
        return match.group(1) + "***@"
    if name_is_credential(user, password):
        return match.group(1) + "***@"
    return match.group(1) + user + ":***@"


def _url_credentials() -> list[str]:
    """Credentials inside configured URLs (the registry's `url_settings`: `HXL_URLS`): the
    password, and the user name when it is the credential (no password, or a placeholder one
    such as `x`); secrets like any key, also where they appear without their URL."""
    found = set()
    urls = ",".join(settings.setting(n) or "" for n in sources.url_settings())
    for url in urls.split(","):
        try:
            parts = urlsplit(url.strip())
            password, user = parts.password, parts.username
        except ValueError:
            continue
        if password:
            found.add(password)
        if name_is_credential(user, password):
            found.add(user)
        for name, value in parse_qsl(parts.query):
            if is_sensitive_param(name):
                found.add(value)
    return [v for v in found if len(v) >= 4]


# credentials a feed hands out at run time (ACLED's OAuth access and refresh tokens): sent in
# headers, never configured, scrubbed like the configured ones
_ISSUED: set[str] = set()


def add_issued_secret(value: object) -> None:
    """Scrub `value` from now on wherever `redact` runs (logs, errors, the store)."""
    if isinstance(value, str) and len(value) >= 8:
        _ISSUED.add(value)


def _base64_cores(secret: str) -> set[str]:
    """What every base64 text holding `secret` (alone, or as in `user:secret`) has in common:
    for each of the three byte alignments, the characters that encode the secret's bytes
    alone (the first and last groups mix with the neighbours' bytes and are dropped). At most
    two bytes of the secret stay, in the dropped edge groups."""
    raw = secret.encode()
    cores = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):
            text = encode(b"\0" * shift + raw).decode()
            whole = (shift + len(raw)) // 3 * 4  # characters of complete groups
            core = text[4 if shift else 0 : whole]
            if len(core) >= 6:  # shorter runs would match ordinary text; they hold ≤ 3 bytes
                cores.add(core)
    return cores


def _forms(secret: str) -> set[str]:
    """Every form in which a feed could echo `secret`: as is, percent-encoded (once or twice,
    `+` or `%20` for a space), JSON- and HTML-escaped, and inside base64."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        quote(quote(secret, safe=""), safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
    }
    forms |= _base64_cores(secret)
    return {f for f in forms if len(f) >= 4}


@lru_cache(maxsize=32)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern | None:
    forms = {form for secret in secrets for form in _forms(secret)}
    if not forms:
        return None
    ordered = sorted(forms, key=len, reverse=True)  # a form that holds another goes whole
    return re.compile("|".join(re.escape(f) for f in ordered), re.IGNORECASE)


@lru_cache(maxsize=8)
def _param_pattern(names: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    # `name=value` and, inside another URL's query, `name%3Dvalue`
    return re.compile(rf"(?i)(?<![\w-])({alternatives}|{_PARAM_SHAPES})(=|%3D)([^&\s'\"<>]+)")


def secrets() -> tuple[str, ...]:
    """Every value to scrub now: configured secrets, URL credentials, issued tokens."""
    found = {*settings.secret_values(), *_url_credentials(), *_ISSUED}
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str) -> str:
    """Every secret out of a text (a log line, an error, a URL): configured secret values and
    tokens a feed issued at run time in each form an echo gives them (`_forms`), user-info in
    URLs (`user:password@`) and credential parameters (`token=…`, `X-Amz-Signature=…`).

    Call it on the whole text, before cutting it short."""
    text = str(text)
    pattern = _secrets_pattern(secrets())
    if pattern is not None:
        text = pattern.sub("***", text)
    text = _USERINFO.sub(_mask_userinfo, text)
    return _param_pattern(frozenset(sensitive_params())).sub(r"\1\2***", text)


def shown_url(url: str, params: dict | None = None) -> str:
    """A request's URL as stored and shown: `params` added to the query the URL already has
    (a next link's), every secret scrubbed. (`httpx.URL(url, params={})` would drop that query.)"""
    full = httpx.URL(url)
    return redact_url(str(full.copy_merge_params(params) if params else full))


def redact_url(url: str) -> str:
    """The one redaction for every URL stored, logged, shown or exported: no user-info, no
    credential parameter, no configured secret value. A text that is not a URL goes through
    `redact`."""
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
        user, _, password = userinfo.partition(":")
        keep = ":" in userinfo and not name_is_credential(user, password)
        netloc = f"{user}:***@{host}" if keep else f"***@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(is_sensitive_param(k) for k, _ in pairs):
        masked = [(k, "***" if is_sensitive_param(k) else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    return redact(urlunsplit(parts._replace(netloc=netloc, query=query)))


class RedactingFilter(logging.Filter):
    """Every record of a logger scrubbed before any handler formats it: httpx logs each
    request's URL (`HTTP Request: GET https://…?app_identifier=…`) at INFO, which a hosting
    setup that turns INFO on would otherwise print whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = redact(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


# a filter acts only on records of its own logger, not on those its children propagate: each
# logger that writes request lines or headers (httpcore logs response headers at DEBUG)
GUARDED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "data_sources",
)


def guard_loggers(names: tuple[str, ...] = GUARDED_LOGGERS) -> None:
    """Install `RedactingFilter` on the loggers that see requests (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
