"""Settings for the feeds: base URLs, keys and HTTP behaviour, from the environment first and
then from `.streamlit/secrets.toml`, never from code.

Which settings are secret is the source registry's to say (`sources.py`); the feeds layer
(`feeds/redact.py`) scrubs their values from every URL, log line and error message before a
person sees them.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from data_sources import sources

SECRETS_FILE = Path(".streamlit") / "secrets.toml"


def secret_names() -> tuple[str, ...]:
    """Settings whose values are credentials or identifiers, never shown whatever their value:
    those the source registry declares secret (read each time, so a source added to the
    registry is scrubbed without a second list to keep in step)."""
    return sources.secret_settings()


@lru_cache(maxsize=1)
def _secrets_file() -> dict[str, str]:
    path = Path(os.environ.get("SITUATION_ROOM_SECRETS", SECRETS_FILE))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return {str(k).upper(): str(v) for k, v in data.items() if not isinstance(v, dict)}


def setting(name: str, default: str | None = None) -> str | None:
    """A setting's value: environment variable, else secrets.toml, else `default`."""
    value = os.environ.get(name)
    if value is None or value == "":
        value = _secrets_file().get(name.upper())
    return value if value not in (None, "") else default


def number(name: str, default: float) -> float:
    raw = setting(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got '{raw}'") from exc


def secret_values() -> list[str]:
    """Every configured secret value, longest first (so a value that contains another is
    scrubbed whole)."""
    values = {setting(n) for n in secret_names()}
    values |= set(database_passwords())
    return sorted((v for v in values if v and len(v) >= 4), key=len, reverse=True)


def database_passwords() -> list[str]:
    """The passwords inside DATABASE_URL: the user-info one and any `?password=` (libpq takes
    the password from the query too); credentials like any key, scrubbed the same way."""
    from urllib.parse import parse_qsl, urlsplit

    url = setting("DATABASE_URL")
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in ("password", "passfile")]
    return [v for v in found if v]


def reload() -> None:
    """Forget the cached secrets file (tests and the app's settings form change it)."""
    _secrets_file.cache_clear()
