"""Who may do what on a shared link: the role of a visitor, from settings, as a pure function.

Settings (environment first, then `.streamlit/secrets.toml` top level; see data_sources.settings):

- `EDITORS`: comma-separated e-mail addresses or `@domain`s; they may refresh from the page.
- `VIEWERS`: same form; when set, only they (and editors) see anything at all. Unset, everyone
  who signs in may look.

Roles:

- "local": sign-in is not configured (no `[auth]` in secrets.toml): a local run, everyone sees
  everything and *Refresh now* is available within its bounds (see views/refresh_panel.py).
- "anonymous": sign-in is configured and the visitor has not signed in: the sign-in page only.
- "refused": signed in, but neither an editor nor, when VIEWERS is set, a viewer (or the
  provider says the e-mail address is not verified): a message and the sign-out control only.
- "viewer": may look at every page; no refresh.
- "editor": may look and refresh.

- `PROVIDERS_WITHOUT_EMAIL_VERIFIED`: names of sign-in providers (the `[auth.<name>]` section,
  or `default` for a flat `[auth]`) that never send the `email_verified` claim. For them a
  *missing* claim is taken as verified; everywhere else the claim must be the JSON boolean
  `true` (a string "false", a 0, a missing claim: refused).

Addresses are compared after Unicode NFKC normalisation, lower-casing ASCII letters only
(Unicode case folding turns `ſ`, the long s, into `s`: `ſam@example.org` would become
`sam@example.org`). An address that NFKC changes (a compatibility look-alike: `ſ`, the Kelvin
sign, fullwidth letters) is listed nowhere. `@example.org` matches `ann@example.org` but not
`ann@sub.example.org` nor `ann@example.org.evil` (each domain is listed on its own).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

LOCAL, ANONYMOUS, REFUSED, VIEWER, EDITOR = "local", "anonymous", "refused", "viewer", "editor"
CAN_SEE = (LOCAL, VIEWER, EDITOR)
CAN_REFRESH = (LOCAL, EDITOR)
MISSING = object()  # the provider sent no `email_verified` claim at all

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise(address: str) -> str | None:
    """The address as compared: NFKC, ASCII letters lower-cased, nothing else changed; None
    for an address that NFKC changes (a look-alike such as `ſ`, the Kelvin sign, fullwidth
    letters)."""
    address = address.strip()
    # NFC alone already maps the Kelvin sign to K: any change at all is a look-alike (a
    # decomposed é too: providers send composed text, a rare miss is a refusal, not a match)
    if unicodedata.normalize("NFKC", address) != address:
        return None
    return address.translate(_ASCII_LOWER)


def verified(claim: object, *, claim_not_sent_by_provider: bool = False) -> bool:
    """Whether the `email_verified` claim says yes: only the boolean `true` does (JSON's
    "false" as a string, 0 and 1 do not); a missing claim only when the operator named the
    provider as one that never sends it."""
    if claim is MISSING:
        return claim_not_sent_by_provider
    return claim is True


def parse_list(raw: str | Iterable[str] | None) -> tuple[str, ...]:
    """`"a@x.org, @y.org"` → `("a@x.org", "@y.org")`: trimmed, normalised (`normalise`),
    empties and look-alikes dropped."""
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    entries = (normalise(i) for i in items if i and i.strip())
    return tuple(dict.fromkeys(e for e in entries if e))


def listed(email: str | None, entries: str | Iterable[str] | None) -> bool:
    """Whether `email` is one of `entries` (addresses, or `@domain`s matched exactly)."""
    if not email or "@" not in email:
        return False
    email = normalise(email)
    if email is None:  # a look-alike: never anyone's address
        return False
    domain = "@" + email.rsplit("@", 1)[1]
    for entry in parse_list(entries):
        if entry.startswith("@"):
            if domain == entry:
                return True
        elif email == entry:
            return True
    return False


def role_for(
    email: str | None,
    editors: str | Iterable[str] | None,
    viewers: str | Iterable[str] | None,
    auth_configured: bool,
    *,
    signed_in: bool | None = None,
    email_verified: object = MISSING,
    claim_not_sent_by_provider: bool = False,
) -> str:
    """The role of a visitor (see the module docstring).

    `signed_in` defaults to "an e-mail address was given"; `email_verified` is the provider's
    claim as it came (MISSING when absent): anything but the boolean True refuses a signed-in
    visitor whatever the lists say (see `verified`)."""
    if not auth_configured:
        return LOCAL
    if signed_in is None:
        signed_in = bool(email)
    if not signed_in:
        return ANONYMOUS
    if not verified(email_verified, claim_not_sent_by_provider=claim_not_sent_by_provider):
        return REFUSED
    editor_list, viewer_list = parse_list(editors), parse_list(viewers)
    if listed(email, editor_list):
        return EDITOR
    if not viewer_list or listed(email, viewer_list):
        return VIEWER
    return REFUSED
