"""Reading settings: the environment first, then `.streamlit/secrets.toml`, then the default
declared in `settings_registry.py` (every setting the code reads is declared there, once).

Which settings are secret is the source registry's to say (`sources.py`); `redact.py` scrubs
their values from every URL, log line and error message before a person sees them.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from data_sources import settings_registry, sources

SECRETS_FILE = Path(".streamlit") / "secrets.toml"


def secret_names() -> tuple[str, ...]:
    """Settings whose values are credentials or identifiers, never shown whatever their value:
    those the source registry declares secret (read each time, so a source added to the
    registry is scrubbed without a second list to keep in step)."""
    return sources.secret_settings()


@lru_cache(maxsize=1)
def _secrets_file() -> dict[str, str]:
    path = Path(os.environ.get("SITUATION_ROOM_SECRETS") or SECRETS_FILE)
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return {str(k).upper(): str(v) for k, v in data.items() if not isinstance(v, dict)}


def setting(name: str, default: str | None = None) -> str | None:
    """A setting's value: environment variable, else secrets.toml, else `default`, else the
    registry's default (`settings_registry.py`, the one place defaults are written).

    A name the registry does not declare raises `UnknownSetting`, so no setting can be read
    without appearing in the generated reference; a credential the source registry declares
    is read even before it is (scrubbing must never fail)."""
    if name in settings_registry.BY_NAME:
        declared = settings_registry.BY_NAME[name].default
    elif name in (*sources.secret_settings(), *sources.url_settings()):
        declared = None  # a source's credential: scrubbing must never fail on it (the scan
        # test still asks for its entry in settings_registry.py)
    else:
        raise settings_registry.UnknownSetting(name)
    default = declared if default is None else default
    value = os.environ.get(name)
    if value is None or value == "":
        value = _secrets_file().get(name.upper())
    return value if value not in (None, "") else default


def number(name: str, default: float | None = None) -> float:
    """A numeric setting (the registry's default unless `default` is given); a value that is
    not a number is a one-line error naming the setting."""
    raw = setting(name) if default is None else setting(name, str(default))
    if raw is None:
        raise ValueError(f"setting {name} must be set to a number")
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got '{raw}'") from exc


def secret_values() -> list[str]:
    """Every configured secret value, longest first (so a value that contains another is
    scrubbed whole)."""
    values = {setting(n) for n in secret_names()} | database_passwords()
    return sorted((v for v in values if v and len(v) >= 4), key=len, reverse=True)


def database_passwords() -> set[str]:
    """The store's password in every form it may appear in a text: POSTGRES_PASSWORD as typed
    and percent-encoded (as inside the URL built from it), and the password inside DATABASE_URL
    as written, decoded, as SQLAlchemy reads it (which differs when it is badly quoted), and
    any `?password=` (libpq takes the password from the query too). Credentials like any key,
    scrubbed the same way."""
    from urllib.parse import parse_qsl, quote, unquote, urlsplit

    found: set[str] = set()
    typed = setting("POSTGRES_PASSWORD")
    if typed:
        found |= {typed, quote(typed, safe=""), quote(typed, safe=" +")}
    url = setting("DATABASE_URL")
    if url and "://" in url and "@" in url:
        userinfo = url.partition("://")[2].rpartition("@")[0]
        written = userinfo.partition(":")[2]
        if written:
            found |= {written, unquote(written)}
        try:
            import sqlalchemy as sa

            read = sa.make_url(url).password
        except Exception:  # noqa: BLE001 - an unreadable URL has no password to add
            read = None
        if read:
            found.add(str(read))
    if url:
        try:
            query = urlsplit(url).query
        except ValueError:
            query = ""
        found |= {v for k, v in parse_qsl(query) if k.lower() in ("password", "passfile") and v}
    return found


def reload() -> None:
    """Forget the cached secrets file (tests and the app's settings form change it)."""
    _secrets_file.cache_clear()
