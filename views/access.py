"""Sign-in (Streamlit's own `st.login`, OpenID Connect) and what each visitor may do.

Sign-in is on when Streamlit's secrets hold an `[auth]` section (redirect_uri, cookie_secret,
client_id, client_secret, server_metadata_url; see docs/hosting.md, "Sign-in and roles");
without it the app runs as before, for a local run. The role comes from data_sources.roles
(EDITORS, VIEWERS).
"""

from __future__ import annotations

import streamlit as st

from data_sources import roles
from views.escape import plain
from web import access as web_access

auth_configured = web_access.auth_configured  # one rule for pages and routes (web/access.py)
_provider = web_access.provider_name
_provider_skips_claim = web_access.provider_skips_claim


def _user() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no session (a bare script run): nobody signed in
        return {}


def current_role() -> str:
    """The role of this session's visitor: local, anonymous, refused, viewer or editor."""
    configured = auth_configured()
    return web_access.role_of(_user() if configured else {}, configured)


def may_refresh() -> bool:
    return current_role() in roles.CAN_REFRESH


def _who() -> str:
    user = _user()
    return str(user.get("name") or user.get("email") or user.get("sub") or "someone")


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
