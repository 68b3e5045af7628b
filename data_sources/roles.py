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

Addresses are compared case-insensitively; `@example.org` matches `ann@example.org` but not
`ann@sub.example.org` nor `ann@example.org.evil` (each domain is listed on its own).
"""

from __future__ import annotations

from collections.abc import Iterable

LOCAL, ANONYMOUS, REFUSED, VIEWER, EDITOR = "local", "anonymous", "refused", "viewer", "editor"
CAN_SEE = (LOCAL, VIEWER, EDITOR)
CAN_REFRESH = (LOCAL, EDITOR)


def parse_list(raw: str | Iterable[str] | None) -> tuple[str, ...]:
    """`"a@x.org, @y.org"` → `("a@x.org", "@y.org")`: trimmed, lower-cased, empties dropped."""
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(dict.fromkeys(i.strip().casefold() for i in items if i and i.strip()))


def listed(email: str | None, entries: str | Iterable[str] | None) -> bool:
    """Whether `email` is one of `entries` (addresses, or `@domain`s matched exactly)."""
    if not email or "@" not in email:
        return False
    email = email.strip().casefold()
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
    email_verified: bool | None = None,
) -> str:
    """The role of a visitor (see the module docstring).

    `signed_in` defaults to "an e-mail address was given"; `email_verified` False (the
    provider's `email_verified` claim) refuses a signed-in visitor whatever the lists say."""
    if not auth_configured:
        return LOCAL
    if signed_in is None:
        signed_in = bool(email)
    if not signed_in:
        return ANONYMOUS
    if email_verified is False:
        return REFUSED
    editor_list, viewer_list = parse_list(editors), parse_list(viewers)
    if listed(email, editor_list):
        return EDITOR
    if not viewer_list or listed(email, viewer_list):
        return VIEWER
    return REFUSED
