"""Sign-in (Streamlit's own `st.login`, OpenID Connect) and what each visitor may do.

Sign-in is on when Streamlit's secrets hold an `[auth]` section (redirect_uri, cookie_secret,
client_id, client_secret, server_metadata_url; see docs/hosting.md, "Sign-in and roles");
without it the app runs as before, for a local run. The role comes from data_sources.roles
(EDITORS, VIEWERS).
"""

from __future__ import annotations

import streamlit as st

from data_sources import roles, settings
from views.escape import plain


def auth_configured() -> bool:
    """Whether Streamlit's secrets (`.streamlit/secrets.toml`, or `--secrets.files`) have an
    `[auth]` section: then every visitor signs in before seeing anything."""
    from streamlit.auth_util import get_secrets_auth_section

    try:
        return bool(get_secrets_auth_section())
    except Exception:  # noqa: BLE001 - an unreadable secrets file: Streamlit reports it itself
        return False


def _user() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no session (a bare script run): nobody signed in
        return {}


def current_role() -> str:
    """The role of this session's visitor: local, anonymous, refused, viewer or editor."""
    configured = auth_configured()
    user = _user() if configured else {}
    signed_in = bool(user.get("is_logged_in"))
    return roles.role_for(
        user.get("email") if signed_in else None,
        settings.setting("EDITORS"),
        settings.setting("VIEWERS"),
        configured,
        signed_in=signed_in,
        email_verified=user.get("email_verified", roles.MISSING),  # as the provider sent it
        claim_not_sent_by_provider=configured and _provider_skips_claim(),
    )


def _provider_skips_claim() -> bool:
    """Whether the operator named this provider in PROVIDERS_WITHOUT_EMAIL_VERIFIED."""
    named = roles.parse_list(settings.setting("PROVIDERS_WITHOUT_EMAIL_VERIFIED"))
    try:
        provider = _provider() or "default"
    except Exception:  # noqa: BLE001 - no readable [auth]: nothing to trust
        return False
    return roles.normalise(provider) in named


def may_refresh() -> bool:
    return current_role() in roles.CAN_REFRESH


def _who() -> str:
    user = _user()
    return str(user.get("name") or user.get("email") or user.get("sub") or "someone")


def _provider() -> str | None:
    """`st.login()` for a flat `[auth]` section; the provider's name when `[auth.<name>]`
    subsections hold the client settings instead."""
    from streamlit.auth_util import get_secrets_auth_section

    section = get_secrets_auth_section()
    if "client_id" in section:
        return None
    named = [k for k, v in section.items() if hasattr(v, "keys")]
    return named[0] if len(named) == 1 else None


def sign_in_page() -> None:
    """What an anonymous visitor (or a refused one) sees: nothing of the data."""
    role = current_role()
    st.title("Situation Room — " + ("access refused" if role == roles.REFUSED else "sign in"))
    st.write(
        "Situation Room is a humanitarian dashboard: displacement, casualties and food prices "
        "per city over time, from public feeds, each figure with a link to its source."
    )
    if role == roles.REFUSED:
        why = (
            "the sign-in provider has not verified the address you signed in with"
            if _user().get("email_verified", roles.MISSING) is not True
            and not _provider_skips_claim()
            else "the address you signed in with is not on this dashboard's list of viewers"
        )
        st.error(
            f"You are signed in, but {why}. Ask the people who run it to add you, or sign out "
            "and sign in with another account.",
            icon=":material/block:",
        )
        # st.text: the address shown as it is (no Markdown, so no autolink and nothing for
        # a hostile name to inject), and copied as it is
        st.text("Signed in as " + plain(_user().get("email") or _who(), 80))
        if st.button("Sign out"):
            st.logout()
        return
    st.info("This copy is shared with a team: sign in to see it.", icon=":material/lock:")
    if st.button("Sign in", type="primary"):
        provider = _provider()
        if provider:
            st.login(provider)
        else:
            st.login()


def sidebar(role: str) -> None:
    """The signed-in name, the role, and a sign-out control, in the sidebar."""
    if role not in (roles.VIEWER, roles.EDITOR):
        return
    st.sidebar.text(f"Signed in as {plain(_who(), 80)} ({role})")  # plain text: see above
    if st.sidebar.button("Sign out", key="_sign_out"):
        st.logout()
