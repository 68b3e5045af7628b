"""The sidebar's "API tokens": a signed-in viewer or editor makes a personal token for the
API (shown once), sees their tokens (never the secret) and revokes one (`web/tokens.py`).
Only with sign-in configured: a local run has no API access rules to pass."""

from __future__ import annotations

import streamlit as st

from data_sources import roles
from views.escape import plain

JUST_MADE = "_api_token_just_made"


def sidebar(role: str) -> None:
    """The expander, for a signed-in viewer or editor with an address."""
    from views import access

    if role not in (roles.VIEWER, roles.EDITOR) or not access.auth_configured():
        return
    owner = str(access._user().get("email") or "")
    if not owner:
        return
    with st.sidebar.expander("API tokens", icon=":material/key:"):
        _panel(owner, role)


def _panel(owner: str, role: str) -> None:
    from views.store_access import engine
    from web import tokens

    st.caption(
        "A token lets a script read the API (/api/v1/…) as you, with your role. It is shown "
        "once; keep it like a password. Send it as `Authorization: Bearer <token>`."
    )
    label = st.text_input("Name of a new token", max_chars=tokens.MAX_LABEL, key="_token_label")
    if st.button("Make a token", key="_token_make"):
        st.session_state[JUST_MADE] = tokens.create(engine(), owner, role, label)
    made = st.session_state.pop(JUST_MADE, None)
    if made:
        st.success("Your new token (shown this once):")
        st.code(made, language=None)
    mine = tokens.list_for(engine(), owner)
    for row in mine:
        state = "revoked" if row["revoked_at"] else "active"
        used = row["last_used_at"].strftime("%Y-%m-%d") if row["last_used_at"] else "never"
        st.text(f"{plain(row['label'], 60)} · {row['token_hash']}… · {state} · used {used}")
        if not row["revoked_at"] and st.button("Revoke", key=f"_token_revoke_{row['token_hash']}"):
            tokens.revoke(engine(), owner, row["token_hash"])
            st.rerun()
