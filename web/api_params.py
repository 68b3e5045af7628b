"""The API's query parameters: declared once (name, kind, description), read strictly from the
raw query string, and described from the same declarations in openapi.json.

Strict because a link is data from anyone: a parameter this endpoint does not take, one given
twice, bytes that are not UTF-8, a control character, an over-long value, a number out of
range or a moment that is not one is a 400 with one plain sentence (`BadRequest`), never a
guess and never a traceback."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_to_bytes

from data_sources.store import asof

MAX_VALUE = 200  # characters: longer than any place, metric or qualifier the store holds
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_OFFSET = 10_000_000


class BadRequest(ValueError):
    """A request the API refuses: the message says which parameter and why."""


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    kind: str = "text"  # text | choice | bool | int | moment
    choices: tuple[str, ...] = ()
    required: bool = False
    default: str | int | bool | None = None
    minimum: int = 0
    maximum: int | None = None
    alias: str = ""  # a second name for the same parameter (`place` for `city`)

    def schema(self) -> dict:
        """Its JSON Schema in openapi.json."""
        if self.kind == "choice":
            out: dict = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "bool":
            out = {"type": "boolean"}
        elif self.kind == "int":
            out = {"type": "integer", "minimum": self.minimum}
            if self.maximum is not None:
                out["maximum"] = self.maximum
        else:
            out = {"type": "string", "maxLength": MAX_VALUE}
        if self.default is not None:
            out["default"] = self.default
        return out


AS_OF = Param(
    "as_of",
    "The figures the store held at this moment: a date (its end, UTC) or a UTC time "
    "(2016-12-16T09:30:05). Before the store's first figure it means the first; more than a "
    "day in the future, the latest figures (the answer's `as_of_note` says so). Default: now.",
    kind="moment",
)
FORMAT = Param("format", "json (default) or csv", kind="choice", choices=("json", "csv"),
               default="json")  # fmt: skip
LIMIT = Param(
    "limit",
    f"rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
    kind="int",
    default=DEFAULT_LIMIT,
    minimum=1,
    maximum=MAX_LIMIT,
)
OFFSET = Param("offset", "rows to skip (the `next` link gives it)", kind="int", default=0,
               maximum=MAX_OFFSET)  # fmt: skip
PAGING = (FORMAT, LIMIT, OFFSET)


def _decode(raw: bytes, what: str) -> str:
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"the {what} is not UTF-8 text") from None
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise BadRequest(f"the {what} holds a control character")
    return text


def raw_params(query_string: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a raw query string, strictly decoded."""
    pairs = []
    for part in query_string.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        key = _decode(name, "name of a parameter")
        if len(key) > 40:
            raise BadRequest("a parameter's name is too long")
        pairs.append((key, _decode(value, f"value of '{key}'")))
    return pairs


def read(query_string: bytes, params: tuple[Param, ...]) -> dict:
    """The values of `params` from the query string, typed, defaults filled in."""
    by_name = {p.name: p for p in params} | {p.alias: p for p in params if p.alias}
    seen: dict[str, str] = {}
    for key, value in raw_params(query_string):
        param = by_name.get(key)
        if param is None:
            known = ", ".join(p.name for p in params)
            raise BadRequest(f"unknown parameter '{key[:40]}'; this endpoint takes: {known}")
        if param.name in seen:
            raise BadRequest(f"'{param.name}' is given more than once")
        if len(value) > MAX_VALUE:
            raise BadRequest(f"'{param.name}' is longer than {MAX_VALUE} characters")
        seen[param.name] = value
    out = {}
    for param in params:
        if param.name not in seen or seen[param.name] == "":
            if param.required:
                raise BadRequest(f"'{param.name}' is required")
            out[param.name] = param.default
            continue
        out[param.name] = _typed(param, seen[param.name])
    return out


def _typed(param: Param, value: str):
    if param.kind == "choice":
        if value not in param.choices:
            raise BadRequest(f"'{param.name}' must be one of: {', '.join(param.choices)}")
        return value
    if param.kind == "bool":
        if value.lower() in ("true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise BadRequest(f"'{param.name}' must be true or false")
    if param.kind == "int":
        if not value.isascii() or not value.isdigit() or len(value) > 12:
            raise BadRequest(f"'{param.name}' must be a whole number")
        number = int(value)
        if number < param.minimum or (param.maximum is not None and number > param.maximum):
            top = f" and at most {param.maximum:,}" if param.maximum is not None else ""
            raise BadRequest(f"'{param.name}' must be at least {param.minimum}{top}")
        return number
    if param.kind == "moment":
        return moment(param.name, value)
    return value


def moment(name: str, value: str) -> datetime | None:
    """A date or time as the pages read `as_of` (`asof.parse_as_of`)."""
    try:
        return asof.parse_as_of(value)
    except asof.AsOfError as exc:
        raise BadRequest(f"'{name}': {exc}") from None
    except (OverflowError, ValueError):  # 9999-12-31T23:00-05:00 is past the last datetime
        raise BadRequest(f"'{name}': “{value[:40]}” is out of range") from None


def within_store(moment_: datetime | None, moments: list[datetime]) -> tuple:
    """The moment as the pages take it: clamped to the store's span, then snapped to the
    newest store moment at or before it (the same view); the note when clamped."""
    clamped, note = asof.clamp(moment_, moments)
    return asof.snap(clamped, moments), note
